// leakhunt report --html: sortable tables, the timeline's readout and the
// flame graph (embedded into the page, see src/report/native_html.c).  The
// data is the JSON in <script id="lh-data">; names reach the page through
// textContent and title only, never as HTML.
(function () {
	'use strict';
	var data = JSON.parse(document.getElementById('lh-data').textContent);

	// "512 B", "12.3 kB", "4.56 MB": the text report's sizes
	function size(v) {
		var units = ['kB', 'MB', 'GB', 'TB'], u = -1;

		if (v < 1000)
			return v + ' B';
		while (v >= 1000 && u < 3) {
			v /= 1000;
			u++;
		}
		return v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0) + ' ' + units[u];
	}

	function seconds(ms) {
		return (ms / 1000).toFixed(3) + 's';
	}

	// Tables: a click on a column head sorts by it (numbers biggest first,
	// names A to Z), a second click the other way.
	document.querySelectorAll('table.sortable th').forEach(function (th) {
		th.addEventListener('click', function () {
			var body = th.closest('table').tBodies[0], col = th.cellIndex;
			var first = body.rows.length && body.rows[0].cells[col]; // none in "(none)"
			var numeric = first && first.dataset.v !== undefined;

			if (!first)
				return;
			var dir = th.dataset.dir ? (th.dataset.dir === 'desc' ? 1 : -1) : (numeric ? -1 : 1);

			th.closest('tr').querySelectorAll('th').forEach(function (h) { delete h.dataset.dir; });
			th.dataset.dir = dir < 0 ? 'desc' : 'asc';
			Array.prototype.slice.call(body.rows).sort(function (a, b) {
				var x = a.cells[col], y = b.cells[col];

				if (numeric)
					return dir * (Number(x.dataset.v) - Number(y.dataset.v));
				return dir * x.textContent.localeCompare(y.textContent);
			}).forEach(function (r) { body.appendChild(r); });
		});
	});

	// Timeline: the point under the mouse, in words.
	var chart = document.getElementById('timeline-chart');
	if (chart && data.timeline.length) {
		var cursor = document.getElementById('timeline-cursor');
		var read = document.getElementById('timeline-read');
		var x0 = Number(chart.dataset.x0), w = Number(chart.dataset.w), span = Number(chart.dataset.span);

		chart.addEventListener('mousemove', function (e) {
			var box = chart.getBoundingClientRect(), vb = chart.viewBox.baseVal;
			var x = (e.clientX - box.left) / box.width * vb.width, ms = (x - x0) / w * span;
			var lo = 0, hi = data.timeline.length - 1, p;

			while (lo < hi) { // the first point at or after ms
				var mid = (lo + hi) >> 1;
				if (data.timeline[mid].ms < ms)
					lo = mid + 1;
				else
					hi = mid;
			}
			p = data.timeline[lo];
			x = x0 + p.ms / span * w;
			cursor.setAttribute('x1', x);
			cursor.setAttribute('x2', x);
			read.textContent = seconds(p.ms) + ': heap ' + size(p.heap) + ' (highest in the interval ' +
				size(p.heap_max) + '), RSS ' + size(p.rss) + ', ' + p.calls + ' calls so far';
		});
	}

	// Functions: a click on a row of the table shows that function's
	// inclusive and self costs, its callers and its callees (the text
	// report's --function NAME), from data.functions.
	var fn = data.functions, fview = document.getElementById('function-view');
	var ftable = document.getElementById('functions-table');

	function cell(tr, tag, text, cls) {
		var c = document.createElement(tag);

		c.textContent = text;
		if (cls)
			c.className = cls;
		tr.appendChild(c);
		return c;
	}

	// a table of [label, costs] rows in the columns of --function
	function costTable(title, rows, more) {
		var t = document.createElement('table'), head = t.createTHead().insertRow(), body = t.createTBody();
		var frag = document.createDocumentFragment(), h = document.createElement('h3');

		h.textContent = title;
		frag.appendChild(h);
		cell(head, 'th', 'Function');
		['Calls', fn.costs[1] === 'samples' ? 'Samples' : 'Temporary', 'Allocated', 'Peak', 'Leaked',
			'Leaked blocks'].forEach(function (label) { cell(head, 'th', label); });
		rows.forEach(function (r) {
			var tr = body.insertRow();

			cell(tr, 'td', r[0], 'fn');
			r[1].forEach(function (v, k) {
				var bytes = /bytes$/.test(fn.costs[k]);
				var c = cell(tr, 'td', bytes ? size(v) : String(v));

				c.dataset.v = v;
				if (bytes)
					c.title = v + ' B';
			});
		});
		if (!rows.length)
			cell(body.insertRow(), 'td', '(none)').colSpan = 7;
		t.className = 'funcs';
		frag.appendChild(t);
		if (more) {
			var p = document.createElement('p');

			p.className = 'note';
			p.textContent = more + ' more (report --function NAME --top N lists them)';
			frag.appendChild(p);
		}
		return frag;
	}

	function showFunction(r) {
		var row = fn.rows[r], name = fn.names[row.name];
		var list = function (l) { return l.map(function (e) { return [fn.names[e[0]], e[1]]; }); };
		var h = document.createElement('h3');

		fview.textContent = '';
		h.textContent = 'function ' + name;
		fview.appendChild(h);
		fview.appendChild(costTable('inclusive (every stack through it)', [[name, row.total]]));
		fview.appendChild(costTable('self (it calls the allocator directly)', [[name, row.self]]));
		fview.appendChild(costTable('callers', list(row.callers), row.callers_more));
		fview.appendChild(costTable('callees', list(row.callees), row.callees_more));
		ftable.querySelectorAll('tr.picked').forEach(function (tr) { tr.classList.remove('picked'); });
		ftable.querySelector('tr[data-f="' + r + '"]').classList.add('picked');
	}

	if (ftable && fn.rows.length) {
		ftable.tBodies[0].addEventListener('click', function (e) {
			var tr = e.target.closest('tr');

			if (tr && tr.dataset.f !== undefined)
				showFunction(Number(tr.dataset.f));
		});
		showFunction(0);
	}

	// Flame graph (an icicle: callers above their callees), for the cost
	// chosen; a click zooms into a frame, "whole program" goes back.
	var f = data.flame, el = document.getElementById('flame');
	var sel = document.getElementById('flame-cost'), info = document.getElementById('flame-info');
	var ROW = 18, kids = [], depth = [0], focus = 0;

	f.nodes.forEach(function (n, i) {
		kids.push([]);
		if (i) {
			kids[n[1]].push(i);
			depth[i] = depth[n[1]] + 1;
		}
	});

	function value(i) {
		return f.nodes[i][2 + Number(sel.value)];
	}

	function amount(v) {
		return /bytes/.test(f.costs[Number(sel.value)]) ? size(v) : String(v);
	}

	// warm colours, the same for a name every time
	function color(name) {
		var h = 0;

		for (var i = 0; i < name.length; i++)
			h = (h * 31 + name.charCodeAt(i)) >>> 0;
		return 'hsl(' + (h % 50) + ',' + (65 + (h >> 8) % 25) + '%,' + (62 + (h >> 16) % 16) + '%)';
	}

	function box(parent, i, x, w) {
		var b = document.createElement('div'), name = f.names[f.nodes[i][0]];
		var total = value(0), v = value(i);

		b.className = 'fbox' + (f.nodes[i][0] === 1 ? ' other' : '');
		b.style.left = 100 * x + '%';
		b.style.width = 100 * w + '%';
		b.style.top = depth[i] * ROW + 'px';
		if (matches(name)) {
			b.className += ' match';
		} else if (f.nodes[i][0] !== 1) {
			b.style.background = color(name);
		}
		b.textContent = name;
		b.title = name + '\n' + amount(v) + (total ? ' (' + (100 * v / total).toFixed(2) + '%)' : '');
		b.dataset.i = i;
		parent.appendChild(b);
	}

	function render() {
		var frag = document.createDocumentFragment(), fv = value(focus), px = el.clientWidth || 1000;
		var maxd = depth[focus], todo = [[focus, 0]];

		// the focus and its callers take the whole width
		for (var a = focus; ; a = f.nodes[a][1]) {
			box(frag, a, 0, 1);
			if (!a)
				break;
		}
		while (fv > 0 && todo.length) {
			var t = todo.pop(), x = t[1];

			kids[t[0]].slice().sort(function (p, q) { return value(q) - value(p); }).forEach(function (c) {
				var w = value(c) / fv;

				if (w * px >= 2) { // narrower than 2 pixels: not drawn
					box(frag, c, x, w);
					todo.push([c, x]);
					maxd = Math.max(maxd, depth[c]);
				}
				x += w;
			});
		}
		el.textContent = '';
		el.style.height = (maxd + 1) * ROW + 'px';
		el.appendChild(frag);
	}

	// Search: the frames whose name holds the text (any case) are drawn in
	// purple, and the tables and the leaks keep the rows of such functions
	// (a leak: any frame of its stack).
	var search = document.getElementById('search'), found = document.getElementById('search-info');
	var query = '';

	function matches(name) {
		return query !== '' && name.toLowerCase().indexOf(query) >= 0;
	}

	function hasMatch(cells) {
		return Array.prototype.some.call(cells, function (c) { return matches(c.textContent); });
	}

	// the share of the flame graph's cost in matching frames, each stack
	// once (a frame under a matching frame is in it already)
	function matchedShare() {
		var under = [], v = 0;

		f.nodes.forEach(function (n, i) {
			under[i] = (i && under[n[1]]) || (i > 0 && matches(f.names[n[0]]));
			if (under[i] && !(i && under[n[1]]))
				v += value(i);
		});
		return v;
	}

	function applySearch() {
		var rows = 0, kept = 0, leaks = 0, leaksKept = 0;

		query = search.value.trim().toLowerCase();
		document.querySelectorAll('table.sortable tbody tr').forEach(function (tr) {
			if (tr.cells.length < 2) // "(none)"
				return;
			rows++;
			tr.hidden = query !== '' && !matches(tr.cells[0].textContent);
			kept += !tr.hidden;
		});
		document.querySelectorAll('details.leak').forEach(function (d) {
			leaks++;
			d.hidden = query !== '' && !hasMatch(d.querySelectorAll('td.fn'));
			leaksKept += !d.hidden;
		});
		render();
		if (!query) {
			found.textContent = '';
			return;
		}
		var total = value(0), v = matchedShare();
		found.textContent = kept + ' of ' + rows + ' table rows, ' + leaksKept + ' of ' + leaks +
			' leaks; in the flame graph ' + amount(v) + (total ? ' (' + (100 * v / total).toFixed(2) + '%)' : '') +
			' of ' + sel.options[sel.selectedIndex].text;
	}

	if (search) {
		document.getElementById('search-bar').hidden = false; // of no use without the script
		search.addEventListener('input', applySearch);
		sel.addEventListener('change', applySearch);
	}

	el.addEventListener('click', function (e) {
		if (e.target.dataset.i !== undefined) {
			focus = Number(e.target.dataset.i);
			render();
		}
	});
	el.addEventListener('mouseover', function (e) {
		if (e.target.dataset.i !== undefined)
			info.textContent = e.target.title.replace('\n', ': ');
	});
	sel.addEventListener('change', render);
	document.getElementById('flame-reset').addEventListener('click', function () {
		focus = 0;
		render();
	});
	window.addEventListener('resize', render);
	render();
})();
