/*
 * leakhunt report --html: one self-contained page for a native allocation
 * trace (declaration: native.h; documentation: docs/report.md, "--html").
 *
 * The page loads nothing: its style and script (web/report.css and
 * web/report.js, built into the binary with .incbin below) are inline, the
 * timeline is SVG written here, and the flame graph is drawn by the script
 * from the JSON in <script type="application/json" id="lh-data">.  A
 * Content-Security-Policy in the head forbids every fetch, so a change that
 * would load something fails in the browser instead of going unnoticed.
 *
 * Every string from the trace is escaped on the way out: lh_html_escape for
 * text and attributes (html.h), lh_jsonw with script set for the JSON, which
 * writes '<' as \u003c, so that a name holding "</script>" cannot end the
 * element.  Both write U+FFFD for bytes that are not UTF-8.
 *
 * The size stays bounded on big traces: the site tables and the leaks show
 * the top --top (default 50) rows, the functions view the top --top by each
 * inclusive cost with --top callers and callees each, the timeline has at most LH_TIMELINE_MAX
 * points, and the flame graph's call tree merges every node under
 * 1/FLAME_MIN_SHARE of every cost into an "[other]" node of its caller,
 * stops FLAME_MAX_DEPTH frames below the root and keeps at most
 * FLAME_MAX_NODES nodes; the page says how many frames were merged, and
 * why: a merged node takes its whole subtree with it, and a node merged for
 * the limit need not be small.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/human.h"
#include "base/jsonw.h"
#include "base/strbuf.h"
#include "report/html.h"
#include "report/native.h"

#define FLAME_MIN_SHARE 1000 /* a node under 1/1000 of every cost is merged */
#define FLAME_MAX_DEPTH 256
#define FLAME_MAX_NODES 50000

/* why a call-tree node is not drawn as itself (struct flame's why) */
enum { FLAME_SMALL = 1, FLAME_CAPPED };

/* The page's style and script, NUL-terminated (the paths are relative to the
 * directory make runs in, the top of the repository; Makefile adds the
 * dependency that -MMD cannot see). */
__asm__(".section .rodata\n"
	".balign 16\n"
	"lh_web_css:\n"
	".incbin \"web/report.css\"\n"
	".byte 0\n"
	".balign 16\n"
	"lh_web_js:\n"
	".incbin \"web/report.js\"\n"
	".byte 0\n"
	".previous\n");
extern const char lh_web_css[] __asm__("lh_web_css");
extern const char lh_web_js[] __asm__("lh_web_js");

/* The flame graph's costs, in the order of each node's values in the JSON. */
static const struct {
	enum lh_cost k;
	const char *key, *label;
} flame_costs[] = {
	{ LH_COST_CALLS, "calls", "allocation calls" },
	{ LH_COST_TEMPORARY, "temporary", "temporary allocations" },
	{ LH_COST_PEAK, "peak_bytes", "memory at the peak" },
	{ LH_COST_LEAKED, "leaked_bytes", "memory leaked" },
	{ LH_COST_BYTES, "bytes", "bytes allocated" },
};
#define NFLAME_COSTS (sizeof(flame_costs) / sizeof(*flame_costs))

/* The site tables, in the order shown. */
static const enum lh_cost table_costs[] = {
	LH_COST_PEAK, LH_COST_LEAKED, LH_COST_CALLS, LH_COST_TEMPORARY, LH_COST_BYTES,
};

struct page {
	FILE *out;
	const struct lh_callgraph *g;
	const struct lh_alloc_model *m;
	const struct lh_native_opts *o;
	struct lh_alloc_frame *fr; /* scratch: the frames of one stack */
	size_t fr_alloc;
	struct strbuf sb;          /* scratch */
};

static void esc(struct page *p, const char *s)
{
	lh_html_escape(p->out, s);
}


static const char *blocks(uint64_t n)
{
	return n == 1 ? "block" : "blocks";
}

/* A number cell: exact in data-v (the sort key, and what tests read). */
static void count_cell(struct page *p, uint64_t v)
{
	fprintf(p->out, "<td data-v=\"%" PRIu64 "\">%" PRIu64 "</td>", v, v);
}

static void size_cell(struct page *p, uint64_t v)
{
	strbuf_reset(&p->sb);
	lh_human_size(&p->sb, (int64_t)v);
	fprintf(p->out, "<td data-v=\"%" PRIu64 "\" title=\"%" PRIu64 " B\">%s</td>", v, v, p->sb.buf);
}

/* "file.c:12 (in prog)", or the module alone, with the full paths as a tooltip. */
static void location(struct page *p, const struct lh_alloc_frame *f)
{
	const char *file = lh_alloc_string(p->m, f->file);
	const char *mod = f->module ? p->m->modules[f->module - 1].path : "";

	if (*file) {
		fputs("<span title=\"", p->out);
		esc(p, file);
		fputs("\">", p->out);
		esc(p, lh_path_base(file));
		if (f->line)
			fprintf(p->out, ":%u", f->line);
		fputs("</span>", p->out);
	}
	if (*mod) {
		fprintf(p->out, "%s<span class=\"mod\" title=\"", *file ? " " : "");
		esc(p, mod);
		fputs("\">", p->out);
		if (*file)
			fputs("in ", p->out);
		esc(p, lh_path_base(mod));
		fputs("</span>", p->out);
	}
}

static void head(struct page *p)
{
	const char *cmd = p->m->cmdline && *p->m->cmdline ? p->m->cmdline : p->o->path ? p->o->path : "";

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"leakhunt report --html\">\n<title>leakhunt report: ",
	      p->out);
	esc(p, cmd);
	fprintf(p->out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", lh_web_css);
}

static void summary_row(void *ctx, const char *label, const char *value)
{
	struct page *p = ctx;

	fputs("<tr><th>", p->out);
	esc(p, label);
	fputs("</th><td>", p->out);
	/* a value of lines of its own ("sampled recording") is one paragraph here */
	strbuf_reset(&p->sb);
	for (const char *c = value; *c; c++) {
		if (*c != '\n')
			strbuf_addch(&p->sb, *c);
		else if (p->sb.len)
			strbuf_addch(&p->sb, ' ');
		if (*c == '\n')
			while (c[1] == ' ')
				c++;
	}
	esc(p, p->sb.buf);
	fputs("</td></tr>\n", p->out);
}

/* Whether the trace is whole, in the words of report's warnings. */
static void trace_state(struct page *p)
{
	const struct lh_alloc_model *m = p->m;
	struct strbuf why = STRBUF_INIT;

	if (m->write_error)
		strbuf_addf(&why, "writing it failed while the program ran (%s), and recording stopped; ",
			    strerror(m->write_error));
	if (m->damage.len)
		strbuf_addf(&why, "cut short: %s; ", m->damage.buf);
	else if (!m->ended)
		strbuf_addstr(&why, "no end record: the program was killed, crashed, or replaced itself with another "
				    "program (exec); ");
	if (m->missing)
		strbuf_addf(&why, "%" PRIu64 " events were lost; ", m->missing);
	if (m->duplicates)
		strbuf_addf(&why, "%" PRIu64 " events have the number of an earlier event (only the first of each "
				  "counts); ", m->duplicates);
	fputs("<tr><th>trace</th><td>", p->out);
	if (why.len) {
		strbuf_setlen(&why, why.len - 2);
		fputs("<span class=\"warn\">incomplete: ", p->out);
		esc(p, why.buf);
		fputs("; the report covers what reached the file</span>", p->out);
	} else {
		fputs("complete", p->out);
	}
	if (m->sample_mean)
		fputs("; sampled: every number is an estimate", p->out);
	if (m->attached)
		fputs("; attached (record -p)", p->out);
	if (!m->has_symbols && m->nnodes > 1)
		fputs("; <span class=\"warn\">no symbol table: frames are shown as module+offset</span>", p->out);
	fputs("</td></tr>\n", p->out);
	strbuf_release(&why);
}

static void header(struct page *p)
{
	fputs("<header>\n<h1>leakhunt report</h1>\n<p class=\"note\">trace <code>", p->out);
	esc(p, p->o->path ? p->o->path : "");
	fputs("</code></p>\n<table class=\"summary\" id=\"summary\">\n", p->out);
	lh_native_summary(p->m, summary_row, p);
	trace_state(p);
	fputs("</table>\n", p->out);
	if (p->o->filter) {
		fputs("<p class=\"note\">--filter <code>", p->out);
		esc(p, p->o->filter);
		fputs("</code>: the sites, the functions, the leaks and the flame graph keep only the stacks with "
		      "a function matching it; the summary, the timeline and the allocation sizes are the whole "
		      "program's</p>\n",
		      p->out);
	}
	/* shown by the script, which does the searching; outside the header,
	 * so that it stays at the top of the window (sticky) */
	fputs("</header>\n<p id=\"search-bar\" hidden><label>search functions <input type=\"search\" "
	      "id=\"search\" autocomplete=\"off\"></label> <span id=\"search-info\" class=\"note\"></span></p>\n",
	      p->out);
}

/* x of a time and y of a size in the chart's view box */
#define TL_X0 70.0
#define TL_W 910.0
#define TL_Y0 10.0
#define TL_H 200.0

static void timeline(struct page *p)
{
	const struct lh_alloc_model *m = p->m;
	uint64_t top = 1, span = m->runtime_ms ? m->runtime_ms : 1;

	fputs("<section id=\"timeline\">\n<h2>heap consumed and RSS over time</h2>\n", p->out);
	if (m->ntimeline < 2) { /* one point is no chart */
		fputs("<p class=\"note\">no timeline: the run was too short for two points (RSS is sampled "
		      "every 10 ms)</p>\n</section>\n",
		      p->out);
		return;
	}
	for (size_t i = 0; i < m->ntimeline; i++) {
		if (m->timeline[i].heap_max > top)
			top = m->timeline[i].heap_max;
		if (m->timeline[i].rss > top)
			top = m->timeline[i].rss;
		if (m->timeline[i].ms > span)
			span = m->timeline[i].ms;
	}
	fprintf(p->out, "<svg id=\"timeline-chart\" viewBox=\"0 0 1000 256\" data-x0=\"%g\" data-w=\"%g\" "
			"data-span=\"%" PRIu64 "\" role=\"img\" aria-label=\"heap and RSS over time\">\n",
		TL_X0, TL_W, span);
	/* grid: sizes at 0, 1/2 and the top; times at 0, 1/2 and the end */
	for (int q = 0; q <= 2; q++) {
		double y = TL_Y0 + TL_H - TL_H * q / 2;

		strbuf_reset(&p->sb);
		lh_human_size(&p->sb, (int64_t)(top * q / 2));
		fprintf(p->out, "<line class=\"grid\" x1=\"%g\" x2=\"%g\" y1=\"%.1f\" y2=\"%.1f\"/>"
				"<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			TL_X0, TL_X0 + TL_W, y, y, TL_X0 - 6, y + 4, p->sb.buf);
		strbuf_reset(&p->sb);
		strbuf_addf(&p->sb, "%.3fs", span * q / 2 / 1000.0);
		fprintf(p->out, "<text x=\"%.1f\" y=\"%g\" text-anchor=\"%s\">%s</text>\n", TL_X0 + TL_W * q / 2,
			TL_Y0 + TL_H + 18, q == 0 ? "start" : q == 1 ? "middle" : "end", p->sb.buf);
	}
	/* the heap as an area (the highest of each interval, so that the peak
	 * shows), RSS as a line over it */
	fprintf(p->out, "<polygon class=\"heap\" points=\"%g,%g", TL_X0, TL_Y0 + TL_H);
	for (size_t i = 0; i < m->ntimeline; i++)
		fprintf(p->out, " %.1f,%.1f", TL_X0 + TL_W * m->timeline[i].ms / span,
			TL_Y0 + TL_H - TL_H * m->timeline[i].heap_max / top);
	fprintf(p->out, " %.1f,%g\"><title>heap consumed</title></polygon>\n<polyline class=\"rss\" points=\"",
		TL_X0 + TL_W * m->timeline[m->ntimeline - 1].ms / span, TL_Y0 + TL_H);
	for (size_t i = 0; i < m->ntimeline; i++)
		fprintf(p->out, "%s%.1f,%.1f", i ? " " : "", TL_X0 + TL_W * m->timeline[i].ms / span,
			TL_Y0 + TL_H - TL_H * m->timeline[i].rss / top);
	strbuf_reset(&p->sb);
	lh_human_size(&p->sb, (int64_t)m->peak_bytes);
	fprintf(p->out, "\"><title>RSS</title></polyline>\n"
			"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#a40000\"><title>peak: %s at %.3fs</title></circle>\n"
			"<line id=\"timeline-cursor\" class=\"cursor\" x1=\"-10\" x2=\"-10\" y1=\"%g\" y2=\"%g\"/>\n"
			"<rect x=\"%g\" y=\"241\" width=\"12\" height=\"10\" class=\"heap\"/><text x=\"%g\" y=\"250\">heap "
			"consumed (highest in each interval)</text>\n"
			"<line x1=\"%g\" x2=\"%g\" y1=\"246\" y2=\"246\" class=\"rss\"/><text x=\"%g\" y=\"250\">RSS</text>\n"
			"</svg>\n<p class=\"note\" id=\"timeline-read\">%zu %s; the mouse over the chart shows one</p>\n"
			"</section>\n",
		TL_X0 + TL_W * m->peak_ms / span, TL_Y0 + TL_H - TL_H * m->peak_bytes / top, p->sb.buf,
		m->peak_ms / 1000.0, TL_Y0, TL_Y0 + TL_H, TL_X0 + 200, TL_X0 + 216, TL_X0 + 500, TL_X0 + 520,
		TL_X0 + 526, m->ntimeline, m->ntimeline == 1 ? "point" : "points");
}

/*
 * The site table by cost k: the top o->top sites with a nonzero k.  Each
 * site's location is its frame in its stack with the biggest k: a function
 * can allocate on several lines.
 */
static void site_table(struct page *p, enum lh_cost k, const uint32_t *best)
{
	const struct lh_alloc_model *m = p->m;
	const struct lh_callgraph *g = p->g;
	struct lh_site *s;
	size_t n = lh_callgraph_sites(g, k, &s), shown = 0, nonzero = 0;
	const char *name = lh_cost_name(k);

	for (size_t i = 0; i < n; i++)
		nonzero += lh_costs_get(&s[i].c, k) != 0;
	fprintf(p->out, "<details open>\n<summary><h2>top sites by %s</h2>", name);
	if (nonzero > p->o->top)
		fprintf(p->out, " <span class=\"note\">(%zu of %zu; --top N shows more)</span>", p->o->top, nonzero);
	fprintf(p->out, "</summary>\n<table class=\"sortable sites\" id=\"sites-%s\">\n<thead><tr><th>Function</th>"
			"<th>Location</th><th>Calls</th><th>%s</th><th>Allocated</th><th>Peak</th><th>Leaked</th>"
			"<th>Leaked blocks</th></tr></thead>\n<tbody>\n",
		name, m->sample_mean ? "Samples" : "Temporary");
	for (size_t i = 0; i < n && shown < p->o->top; i++) {
		const struct lh_costs *c = &s[i].c;

		if (!lh_costs_get(c, k))
			continue;
		shown++;
		fputs("<tr><td class=\"fn\">", p->out);
		esc(p, lh_native_func(m, s[i].func, "[no stack]"));
		fputs("</td><td class=\"loc\">", p->out);
		if (s[i].func != LH_FUNC_NONE && best[s[i].func]) {
			const struct lh_cg_stack *st = &g->stacks[best[s[i].func] - 1];
			size_t nf = lh_alloc_stack(m, st->node, 1, &p->fr, &p->fr_alloc);

			/* the callgraph's stack starts below operator new: skip as many */
			if (nf >= st->n && st->n)
				location(p, &p->fr[nf - st->n]);
		}
		fputs("</td>", p->out);
		count_cell(p, c->calls);
		if (m->sample_mean)
			count_cell(p, c->samples);
		else
			count_cell(p, c->temporary);
		size_cell(p, c->bytes);
		size_cell(p, c->peak);
		size_cell(p, c->leaked);
		count_cell(p, c->leaked_blocks);
		fputs("</tr>\n", p->out);
	}
	if (!shown)
		fputs("<tr><td colspan=\"8\">(none)</td></tr>\n", p->out);
	fputs("</tbody>\n</table>\n</details>\n", p->out);
	free(s);
}

static void sites(struct page *p)
{
	const struct lh_callgraph *g = p->g;
	size_t nf = p->m->funcs.nr ? p->m->funcs.nr : 1;
	uint32_t *best = lh_xcalloc(nf, sizeof(*best)); /* by function: stack index + 1 */

	fputs("<section id=\"sites\">\n", p->out);
	for (size_t t = 0; t < sizeof(table_costs) / sizeof(*table_costs); t++) {
		enum lh_cost k = table_costs[t];

		/* not estimated from samples, so no order either */
		if (k == LH_COST_TEMPORARY && p->m->sample_mean)
			continue;
		memset(best, 0, nf * sizeof(*best));
		for (size_t i = 0; i < g->nstacks; i++) {
			const struct lh_cg_stack *s = &g->stacks[i];
			uint32_t f;

			if (!s->n)
				continue;
			f = g->funcs[s->off];
			if (!best[f] || lh_costs_get(&s->c, k) > lh_costs_get(&g->stacks[best[f] - 1].c, k))
				best[f] = (uint32_t)i + 1;
		}
		site_table(p, k, best);
	}
	fputs("</section>\n", p->out);
	free(best);
}

/* The biggest o->top leaking stacks, whole (as "leaks" in --json), in the
 * order of --leaks. */
static void leaks(struct page *p)
{
	const struct lh_callgraph *g = p->g;
	const struct lh_alloc_model *m = p->m;
	size_t *order, n = lh_callgraph_leaks(g, &order);
	uint64_t bytes = 0, nblocks = 0;

	for (size_t i = 0; i < n; i++) {
		bytes += g->stacks[order[i]].c.leaked;
		nblocks += g->stacks[order[i]].c.leaked_blocks;
	}
	strbuf_reset(&p->sb);
	lh_human_size(&p->sb, (int64_t)bytes);
	fprintf(p->out, "<section id=\"leaks\">\n<h2>leaks</h2>\n<p class=\"note\">%zu leaking %s, %" PRIu64
			" B (%s) in %" PRIu64 " %s%s",
		n, n == 1 ? "stack" : "stacks", bytes, p->sb.buf, nblocks, blocks(nblocks),
		m->suppressed_blocks ? ", suppressed ones left out" : "");
	if (n > p->o->top)
		fprintf(p->out, "; the biggest %zu shown (--top N shows more)", p->o->top);
	fputs("; frames innermost first</p>\n", p->out);
	for (size_t i = 0; i < n && i < p->o->top; i++) {
		const struct lh_cg_stack *s = &g->stacks[order[i]];
		size_t nf = lh_alloc_stack(m, s->node, 0, &p->fr, &p->fr_alloc);

		strbuf_reset(&p->sb);
		lh_human_size(&p->sb, (int64_t)s->c.leaked);
		fprintf(p->out, "<details class=\"leak\"%s data-bytes=\"%" PRIu64 "\" data-blocks=\"%" PRIu64 "\">"
				"<summary>%s (%" PRIu64 " B) leaked in %" PRIu64 " %s from <code>",
			i < 10 ? " open" : "", s->c.leaked, s->c.leaked_blocks, p->sb.buf, s->c.leaked,
			s->c.leaked_blocks, blocks(s->c.leaked_blocks));
		esc(p, nf ? lh_alloc_func_bare(m, p->fr[0].func) : "[no stack]");
		fputs("</code></summary>\n<table class=\"stack\">\n", p->out);
		for (size_t k = 0; k < nf; k++) {
			fputs("<tr><td class=\"fn\">", p->out);
			esc(p, lh_alloc_func_bare(m, p->fr[k].func));
			fputs("</td><td class=\"loc\">", p->out);
			location(p, &p->fr[k]);
			fputs("</td></tr>\n", p->out);
		}
		fputs("</table>\n</details>\n", p->out);
	}
	fputs("</section>\n", p->out);
	free(order);
}

/* The functions view's costs of each list row, in the order of the JSON's
 * "costs": the columns of the text report's --function. */
static void func_costs_json(struct lh_jsonw *w, const struct lh_alloc_model *m, const struct lh_costs *c)
{
	lh_jsonw_array(w);
	lh_jsonw_uint(w, c->calls);
	lh_jsonw_uint(w, m->sample_mean ? c->samples : c->temporary);
	lh_jsonw_uint(w, c->bytes);
	lh_jsonw_uint(w, c->peak);
	lh_jsonw_uint(w, c->leaked);
	lh_jsonw_uint(w, c->leaked_blocks);
	lh_jsonw_end(w);
}

/*
 * The functions view: every function's inclusive and self costs
 * (lh_callgraph_functions), of which the page keeps the top o->top by each
 * inclusive cost of the site tables (so that a click on any of those
 * columns sorts the right rows first), each with its callers and callees
 * (lh_callgraph_function_id, the text report's --function), o->top of each.
 */
struct funcs {
	struct lh_func_costs *fc;
	size_t n;               /* functions on an allocating stack */
	size_t *row;            /* the rows kept: indices into fc, in its order */
	size_t nrow;
	struct lh_func_view *view; /* by row */
	uint32_t *name;         /* by function: the JSON name index + 1, 0 unused */
	const char **names;     /* by JSON name index; 0 "[root]", 1 "[self]" */
	size_t nnames, names_alloc;
};

static enum lh_cost funcs_key;

static int cmp_func_row(const void *a, const void *b, void *arg)
{
	const struct lh_func_costs *fc = arg, *x = &fc[*(const size_t *)a], *y = &fc[*(const size_t *)b];
	uint64_t cx = lh_costs_get(&x->total, funcs_key), cy = lh_costs_get(&y->total, funcs_key);

	if (cx != cy)
		return cx > cy ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static uint32_t funcs_name(struct funcs *fs, const struct lh_alloc_model *m, uint32_t f, uint32_t none)
{
	if (f == LH_FUNC_NONE || f >= m->funcs.nr)
		return none;
	if (!fs->name[f]) {
		ALLOC_GROW(fs->names, fs->nnames + 1, fs->names_alloc);
		fs->names[fs->nnames++] = lh_alloc_func_name(m, f);
		fs->name[f] = (uint32_t)fs->nnames;
	}
	return fs->name[f] - 1;
}

static void funcs_build(struct funcs *fs, const struct lh_callgraph *g, const struct lh_native_opts *o)
{
	const struct lh_alloc_model *m = g->m;
	size_t *order;
	unsigned char *keep;

	memset(fs, 0, sizeof(*fs));
	fs->n = lh_callgraph_functions(g, o->sort, &fs->fc);
	order = lh_xcalloc(fs->n + 1, sizeof(*order));
	keep = lh_xcalloc(fs->n + 1, 1);
	for (size_t t = 0; t < sizeof(table_costs) / sizeof(*table_costs); t++) {
		if (table_costs[t] == LH_COST_TEMPORARY && m->sample_mean)
			continue;
		for (size_t i = 0; i < fs->n; i++)
			order[i] = i;
		funcs_key = table_costs[t];
		if (fs->n > 1)
			qsort_r(order, fs->n, sizeof(*order), cmp_func_row, fs->fc);
		for (size_t i = 0; i < fs->n && i < o->top; i++)
			if (lh_costs_get(&fs->fc[order[i]].total, table_costs[t]))
				keep[order[i]] = 1;
	}
	fs->row = order; /* reused: the kept rows, in fc's order (by o->sort) */
	for (size_t i = 0; i < fs->n; i++)
		if (keep[i])
			fs->row[fs->nrow++] = i;
	free(keep);
	fs->view = lh_xcalloc(fs->nrow + 1, sizeof(*fs->view));
	fs->name = lh_xcalloc(m->funcs.nr + 1, sizeof(*fs->name));
	ALLOC_GROW(fs->names, 2, fs->names_alloc);
	fs->names[0] = "[root]";
	fs->names[1] = "[self]";
	fs->nnames = 2;
	for (size_t r = 0; r < fs->nrow; r++) {
		struct lh_func_view *v = &fs->view[r];

		lh_callgraph_function_id(g, fs->fc[fs->row[r]].func, o->sort, v);
		funcs_name(fs, m, fs->fc[fs->row[r]].func, 0);
		for (size_t i = 0; i < v->ncallers && i < o->top; i++)
			funcs_name(fs, m, v->callers[i].func, 0);
		for (size_t i = 0; i < v->ncallees && i < o->top; i++)
			funcs_name(fs, m, v->callees[i].func, 1);
	}
}

static void funcs_release(struct funcs *fs)
{
	for (size_t r = 0; r < fs->nrow; r++)
		lh_func_view_release(&fs->view[r]);
	free(fs->view);
	free(fs->fc);
	free(fs->row);
	free(fs->name);
	free(fs->names);
}

static void functions_section(struct page *p, const struct funcs *fs)
{
	const struct lh_alloc_model *m = p->m;
	const char *tmp = m->sample_mean ? "Samples" : "Temporary";

	fputs("<section id=\"functions\">\n<details open>\n<summary><h2>functions</h2></summary>\n"
	      "<p class=\"note\">inclusive: every stack through the function, once however often it recurses; "
	      "self: the stacks where it calls the allocator (its site); as report --function NAME counts them. "
	      "A click on a row shows its callers and callees",
	      p->out);
	if (fs->nrow < fs->n)
		fprintf(p->out, "; %zu of the %zu functions on an allocating stack: the top %zu by each inclusive "
				"cost of the site tables (--top N shows more)",
			fs->nrow, fs->n, p->o->top);
	fprintf(p->out, "; at most %zu callers and callees each</p>\n"
			"<table class=\"sortable funcs\" id=\"functions-table\">\n<thead><tr><th>Function</th>"
			"<th>Calls</th><th>%s</th><th>Peak</th><th>Leaked</th><th>Self calls</th><th>Self %s</th>"
			"<th>Self peak</th><th>Self leaked</th></tr></thead>\n<tbody>\n",
		p->o->top, tmp, m->sample_mean ? "samples" : "temporary");
	for (size_t r = 0; r < fs->nrow; r++) {
		const struct lh_func_costs *f = &fs->fc[fs->row[r]];

		fprintf(p->out, "<tr data-f=\"%zu\"><td class=\"fn\">", r);
		esc(p, lh_native_func(m, f->func, "?"));
		fputs("</td>", p->out);
		count_cell(p, f->total.calls);
		count_cell(p, m->sample_mean ? f->total.samples : f->total.temporary);
		size_cell(p, f->total.peak);
		size_cell(p, f->total.leaked);
		count_cell(p, f->self.calls);
		count_cell(p, m->sample_mean ? f->self.samples : f->self.temporary);
		size_cell(p, f->self.peak);
		size_cell(p, f->self.leaked);
		fputs("</tr>\n", p->out);
	}
	if (!fs->nrow)
		fputs("<tr><td colspan=\"9\">(none)</td></tr>\n", p->out);
	fputs("</tbody>\n</table>\n<div id=\"function-view\"><noscript><p>the callers and callees are shown by "
	      "JavaScript, which is off</p></noscript></div>\n</details>\n</section>\n",
	      p->out);
}

static void func_list_json(struct lh_jsonw *w, const struct funcs *fs, const struct lh_alloc_model *m,
			   const char *key, const struct lh_site *s, size_t n, size_t top, uint32_t none)
{
	lh_jsonw_key(w, key);
	lh_jsonw_array(w);
	for (size_t i = 0; i < n && i < top; i++) {
		lh_jsonw_array(w);
		lh_jsonw_uint(w, s[i].func == LH_FUNC_NONE ? none : fs->name[s[i].func] - 1);
		func_costs_json(w, m, &s[i].c);
		lh_jsonw_end(w);
	}
	lh_jsonw_end(w);
}

/*
 * "functions": {"costs": [keys], "names": [...], "count": functions on a
 * stack, "rows": [{"name", "total", "self", "callers", "callers_more",
 * "callees", "callees_more"}]}: the table's rows in its order (data-f),
 * each list entry [name index, costs].
 */
static void functions_json(struct lh_jsonw *w, const struct funcs *fs, const struct lh_alloc_model *m, size_t top)
{
	lh_jsonw_object(w);
	lh_jsonw_key(w, "costs");
	lh_jsonw_array(w);
	lh_jsonw_str(w, "calls");
	lh_jsonw_str(w, m->sample_mean ? "samples" : "temporary");
	lh_jsonw_str(w, "bytes");
	lh_jsonw_str(w, "peak_bytes");
	lh_jsonw_str(w, "leaked_bytes");
	lh_jsonw_str(w, "leaked_blocks");
	lh_jsonw_end(w);
	lh_jsonw_key(w, "names");
	lh_jsonw_array(w);
	for (size_t i = 0; i < fs->nnames; i++)
		lh_jsonw_str(w, fs->names[i]);
	lh_jsonw_end(w);
	lh_jsonw_kuint(w, "count", fs->n);
	lh_jsonw_kuint(w, "top", top);
	lh_jsonw_key(w, "rows");
	lh_jsonw_array(w);
	for (size_t r = 0; r < fs->nrow; r++) {
		const struct lh_func_costs *f = &fs->fc[fs->row[r]];
		const struct lh_func_view *v = &fs->view[r];

		lh_jsonw_object(w);
		lh_jsonw_kuint(w, "name", fs->name[f->func] - 1);
		lh_jsonw_key(w, "total");
		func_costs_json(w, m, &f->total);
		lh_jsonw_key(w, "self");
		func_costs_json(w, m, &f->self);
		func_list_json(w, fs, m, "callers", v->callers, v->ncallers, top, 0);
		lh_jsonw_kuint(w, "callers_more", v->ncallers > top ? v->ncallers - top : 0);
		func_list_json(w, fs, m, "callees", v->callees, v->ncallees, top, 1);
		lh_jsonw_kuint(w, "callees_more", v->ncallees > top ? v->ncallees - top : 0);
		lh_jsonw_end(w);
	}
	lh_jsonw_end(w);
	lh_jsonw_end(w);
}

/* The requested sizes in the buckets of report --histogram, as bars. */
static void histogram_section(struct page *p, const uint64_t *bucket, size_t nsizes)
{
	uint64_t max = 0;

	for (int b = 0; b < LH_SIZE_BUCKETS; b++)
		if (bucket[b] > max)
			max = bucket[b];
	fprintf(p->out, "<section id=\"sizes\">\n<details open>\n<summary><h2>allocation sizes</h2></summary>\n"
			"<p class=\"note\">requested sizes in powers of two, as report --histogram shows them "
			"(%zu distinct sizes)</p>\n<table class=\"histogram\" id=\"histogram\">\n<thead><tr><th>Size</th>"
			"<th>Calls</th><th>Share</th><th></th></tr></thead>\n<tbody>\n",
		nsizes);
	for (int b = 0; b < LH_SIZE_BUCKETS; b++) {
		uint64_t lo = b ? (uint64_t)1 << (b - 1) : 0, hi = b ? lo * 2 - 1 : 0;

		if (!bucket[b])
			continue;
		fputs("<tr><td>", p->out);
		if (lo == hi)
			fprintf(p->out, "%" PRIu64, lo);
		else
			fprintf(p->out, "%" PRIu64 "-%" PRIu64, lo, hi);
		fputs("</td>", p->out);
		count_cell(p, bucket[b]);
		fprintf(p->out, "<td>%.1f%%</td><td class=\"bar\"><span style=\"width:%.1f%%\"></span></td></tr>\n",
			p->m->calls ? 100.0 * bucket[b] / p->m->calls : 0.0, 100.0 * bucket[b] / max);
	}
	if (!max)
		fputs("<tr><td colspan=\"4\">(none)</td></tr>\n", p->out);
	fputs("</tbody>\n</table>\n</details>\n</section>\n", p->out);
}

/* "histogram": [[smallest size, largest size, calls], ...], the nonzero buckets. */
static void histogram_json(struct lh_jsonw *w, const uint64_t *bucket)
{
	lh_jsonw_array(w);
	for (int b = 0; b < LH_SIZE_BUCKETS; b++) {
		uint64_t lo = b ? (uint64_t)1 << (b - 1) : 0;

		if (!bucket[b])
			continue;
		lh_jsonw_array(w);
		lh_jsonw_uint(w, lo);
		lh_jsonw_uint(w, b ? lo * 2 - 1 : 0);
		lh_jsonw_uint(w, bucket[b]);
		lh_jsonw_end(w);
	}
	lh_jsonw_end(w);
}

struct flame {
	struct lh_tree t;
	uint32_t *id;     /* by tree node: its index in the JSON + 1, 0 if merged */
	uint32_t *other;  /* by tree node: the JSON index + 1 of its [other] child, 0 none */
	struct flame_other {
		uint32_t parent;  /* tree node */
		struct lh_costs c;
	} *others;
	unsigned char *why;  /* by tree node: 0 drawn, else the FLAME_* reason it is merged */
	size_t nkept, nother, other_alloc;
	size_t nsmall, ncapped; /* tree nodes merged (subtrees included), by reason */
	uint32_t *names;  /* by function: the JSON name index + 1, 0 unused */
	uint32_t nnames;
	uint64_t total[NFLAME_COSTS];
};

/* Does tree node i carry at least 1/FLAME_MIN_SHARE of some cost? */
static int flame_big(const struct flame *fl, uint32_t i)
{
	for (size_t k = 0; k < NFLAME_COSTS; k++) {
		uint64_t v = lh_costs_get(&fl->t.node[i].c, flame_costs[k].k);

		if (v && v >= fl->total[k] / FLAME_MIN_SHARE)
			return 1;
	}
	return 0;
}

/* Which tree nodes are drawn: the root, and every node that is big enough
 * under a drawn parent; the rest go into an [other] node of the lowest drawn
 * ancestor's child list (only the top-most merged node adds its cost: a
 * merged node's cost holds its subtree's).  Tree nodes come after their
 * parents, so one pass in index order sees every parent first. */
static void flame_build(struct flame *fl, const struct lh_callgraph *g)
{
	const struct lh_alloc_model *m = g->m;

	memset(fl, 0, sizeof(*fl));
	lh_callgraph_tree(g, 0, FLAME_MAX_DEPTH, &fl->t);
	fl->id = lh_xcalloc(fl->t.nr, sizeof(*fl->id));
	fl->other = lh_xcalloc(fl->t.nr, sizeof(*fl->other));
	fl->names = lh_xcalloc(m->funcs.nr + 1, sizeof(*fl->names));
	fl->nnames = 2; /* "all" and "[other]" */
	for (size_t k = 0; k < NFLAME_COSTS; k++)
		fl->total[k] = lh_costs_get(&fl->t.node[0].c, flame_costs[k].k);
	fl->id[0] = 1;
	fl->nkept = 1;
	fl->why = lh_xcalloc(fl->t.nr, sizeof(*fl->why));
	for (uint32_t i = 1; i < fl->t.nr; i++) {
		uint32_t parent = fl->t.node[i].parent;
		int big;

		if (!fl->id[parent]) {
			/* inside a merged subtree: not drawn either */
			fl->why[i] = fl->why[parent];
			if (fl->why[i] == FLAME_CAPPED)
				fl->ncapped++;
			else
				fl->nsmall++;
			continue;
		}
		big = flame_big(fl, i);
		if (fl->nkept < FLAME_MAX_NODES && big) {
			fl->id[i] = (uint32_t)++fl->nkept;
			if (!fl->names[fl->t.node[i].func])
				fl->names[fl->t.node[i].func] = ++fl->nnames;
			continue;
		}
		fl->why[i] = big ? FLAME_CAPPED : FLAME_SMALL;
		if (big)
			fl->ncapped++;
		else
			fl->nsmall++;
		if (!fl->other[parent]) {
			ALLOC_GROW(fl->others, fl->nother + 1, fl->other_alloc);
			memset(&fl->others[fl->nother], 0, sizeof(*fl->others));
			fl->others[fl->nother++].parent = parent;
			fl->other[parent] = (uint32_t)fl->nother;
		}
		lh_costs_add(&fl->others[fl->other[parent] - 1].c, &fl->t.node[i].c);
	}
}

static void flame_release(struct flame *fl)
{
	lh_tree_release(&fl->t);
	free(fl->id);
	free(fl->other);
	free(fl->why);
	free(fl->others);
	free(fl->names);
}

static void flame_node(struct lh_jsonw *w, const struct lh_alloc_model *m, uint32_t name, uint32_t parent,
		       const struct lh_costs *c)
{
	lh_jsonw_array(w);
	lh_jsonw_uint(w, name);
	lh_jsonw_uint(w, parent);
	for (size_t k = 0; k < NFLAME_COSTS; k++)
		lh_jsonw_uint(w, flame_costs[k].k == LH_COST_TEMPORARY && m->sample_mean ? 0 : lh_costs_get(c, flame_costs[k].k));
	lh_jsonw_end(w);
}

/*
 * "flame": {"costs": [keys], "names": [...], "nodes": [[name, parent,
 * value per cost...], ...], ...}: node 0 is the whole program (its own
 * parent), every node comes after its parent, values are inclusive.
 */
static void flame_json(struct lh_jsonw *w, const struct flame *fl, const struct lh_alloc_model *m)
{
	const char **name = lh_xcalloc(fl->nnames, sizeof(*name));

	lh_jsonw_object(w);
	lh_jsonw_key(w, "costs");
	lh_jsonw_array(w);
	for (size_t k = 0; k < NFLAME_COSTS; k++)
		lh_jsonw_str(w, flame_costs[k].key);
	lh_jsonw_end(w);
	name[0] = "all";
	name[1] = "[other]";
	for (uint32_t f = 0; f < m->funcs.nr; f++)
		if (fl->names[f])
			name[fl->names[f] - 1] = lh_alloc_func_name(m, f);
	lh_jsonw_key(w, "names");
	lh_jsonw_array(w);
	for (uint32_t i = 0; i < fl->nnames; i++)
		lh_jsonw_str(w, name[i]);
	lh_jsonw_end(w);
	lh_jsonw_key(w, "nodes");
	lh_jsonw_array(w);
	for (uint32_t i = 0; i < fl->t.nr; i++) {
		const struct lh_tree_node *n = &fl->t.node[i];

		if (fl->id[i])
			flame_node(w, m, i ? fl->names[n->func] - 1 : 0, i ? fl->id[n->parent] - 1 : 0, &n->c);
	}
	/* after every kept node, so after their parents too */
	for (size_t i = 0; i < fl->nother; i++)
		flame_node(w, m, 1, fl->id[fl->others[i].parent] - 1, &fl->others[i].c);
	lh_jsonw_end(w);
	lh_jsonw_kuint(w, "merged", fl->nsmall + fl->ncapped);
	lh_jsonw_kuint(w, "capped", fl->ncapped);
	lh_jsonw_kuint(w, "tree_nodes", fl->t.nr);
	lh_jsonw_kuint(w, "min_share", FLAME_MIN_SHARE);
	lh_jsonw_kuint(w, "max_depth", FLAME_MAX_DEPTH);
	lh_jsonw_end(w);
	free(name);
}

static void flame_section(struct page *p, const struct flame *fl)
{
	fputs("<section id=\"flame-graph\">\n<h2>flame graph</h2>\n<p>cost <select id=\"flame-cost\">", p->out);
	for (size_t k = 0; k < NFLAME_COSTS; k++) {
		if (flame_costs[k].k == LH_COST_TEMPORARY && p->m->sample_mean)
			continue; /* not estimated */
		fprintf(p->out, "<option value=\"%zu\">%s</option>", k, flame_costs[k].label);
	}
	fputs("</select> <button id=\"flame-reset\">whole program</button><span id=\"flame-info\"></span></p>\n"
	      "<div id=\"flame\"></div>\n<p class=\"note\">callers above their callees, from main down to the "
	      "allocating functions; a click on a frame zooms into it",
	      p->out);
	if (fl->nsmall)
		fprintf(p->out, "; %zu of the %zu frames of the call tree are each under 0.1%% of every cost, and "
				"are merged into [other] frames (a frame with its callees, into one of its caller)",
			fl->nsmall, fl->t.nr - 1);
	if (fl->ncapped)
		fprintf(p->out, "; %zu %sframes past the first %d drawn are merged into [other] frames too, however "
				"big (report --folded has every stack)",
			fl->ncapped, fl->nsmall ? "more " : "", FLAME_MAX_NODES);
	fprintf(p->out, "; frames deeper than %d are left out (their costs stay in the frames above)</p>\n"
			"<noscript><p>the flame graph is drawn by JavaScript, which is off</p></noscript>\n</section>\n",
		FLAME_MAX_DEPTH);
}

int lh_native_write_html(FILE *out, const struct lh_callgraph *g, const struct lh_native_opts *o)
{
	const struct lh_alloc_model *m = g->m;
	struct page p = { out, g, m, o, NULL, 0, STRBUF_INIT };
	struct flame fl;
	struct funcs fs;
	struct lh_jsonw w;
	uint64_t bucket[LH_SIZE_BUCKETS];
	size_t nsizes = lh_alloc_size_buckets(m, bucket);

	flame_build(&fl, g);
	funcs_build(&fs, g, o);
	head(&p);
	header(&p);
	timeline(&p);
	sites(&p);
	functions_section(&p, &fs);
	leaks(&p);
	histogram_section(&p, bucket, nsizes);
	flame_section(&p, &fl);
	fputs("<script type=\"application/json\" id=\"lh-data\">", out);
	lh_jsonw_init(&w, out, 0);
	w.script = 1;
	lh_jsonw_object(&w);
	lh_jsonw_kuint(&w, "format", 1);
	lh_jsonw_kstr(&w, "file", o->path ? o->path : "");
	lh_jsonw_kstr(&w, "command", m->cmdline ? m->cmdline : "");
	lh_jsonw_kuint(&w, "sample_mean", m->sample_mean);
	lh_jsonw_key(&w, "filter");
	if (o->filter)
		lh_jsonw_str(&w, o->filter);
	else
		lh_jsonw_null(&w);
	lh_jsonw_key(&w, "summary");
	lh_native_summary_json(&w, m);
	lh_jsonw_key(&w, "timeline");
	lh_native_timeline_json(&w, m);
	lh_jsonw_key(&w, "flame");
	flame_json(&w, &fl, m);
	lh_jsonw_key(&w, "functions");
	functions_json(&w, &fs, m, o->top);
	lh_jsonw_key(&w, "histogram");
	histogram_json(&w, bucket);
	lh_jsonw_end(&w);
	if (w.error || w.depth)
		LH_BUG("JSON writer misused (unbalanced containers)");
	fprintf(out, "</script>\n<script>\n%s</script>\n</body>\n</html>\n", lh_web_js);
	flame_release(&fl);
	funcs_release(&fs);
	free(p.fr);
	strbuf_release(&p.sb);
	return 0; /* a write error is the caller's to say (lh_close_new names the file) */
}
