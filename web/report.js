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
		if (f.nodes[i][0] !== 1)
			b.style.background = color(name);
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
