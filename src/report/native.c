/*
 * Terminal text for the native allocation views (declarations: native.h).
 * Byte counts are printed exactly, with the human size beside them where a
 * person reads them: tests and scripts compare the exact numbers.
 */
#include <inttypes.h>
#include <string.h>

#include "base/alloc.h"
#include "base/human.h"
#include "base/strbuf.h"
#include "base/table.h"
#include "native/lht.h"
#include "report/native.h"

const char *lh_native_func(const struct lh_alloc_model *m, uint32_t f, const char *none)
{
	return f == LH_FUNC_NONE ? none : lh_alloc_func_name(m, f);
}


static const char *blocks(uint64_t n)
{
	return n == 1 ? "block" : "blocks";
}
static void add_size(struct strbuf *sb, uint64_t v)
{
	strbuf_addf(sb, "%" PRIu64 " B", v);
	if (v >= 1000) {
		strbuf_addstr(sb, " (");
		lh_human_size(sb, (int64_t)v);
		strbuf_addch(sb, ')');
	}
}

static void add_seconds(struct strbuf *sb, uint64_t ms)
{
	strbuf_addf(sb, "%" PRIu64 ".%03" PRIu64 "s", ms / 1000, ms % 1000);
}

/* The summary's lines, each "label: value" (lh_native_summary). */
struct summary_lines {
	void (*fn)(void *ctx, const char *label, const char *value);
	void *ctx;
	struct strbuf value;
};

static void summary_emit(struct summary_lines *l, const char *label)
{
	l->fn(l->ctx, label, l->value.buf);
	strbuf_reset(&l->value);
}

void lh_native_summary(const struct lh_alloc_model *m, void (*fn)(void *ctx, const char *label, const char *value),
		       void *ctx)
{
	struct summary_lines l = { fn, ctx, STRBUF_INIT };
	struct strbuf *v = &l.value;
	double secs = m->runtime_ms / 1000.0;

	if (m->cmdline && *m->cmdline) {
		strbuf_addstr(v, m->cmdline);
		summary_emit(&l, "recorded command");
	}
	if (m->attached) {
		strbuf_addstr(v, "what the process did while recorded, not before or after");
		summary_emit(&l, "attached recording (record -p)");
	}
	if (m->sample_mean) {
		struct strbuf label = STRBUF_INIT;

		strbuf_addf(&label, "sampled recording (record --sample, one sample per %" PRIu64 " bytes on average)",
			    m->sample_mean);
		/* the text report breaks this one after its label */
		strbuf_addf(v, "\n  the numbers below are estimates from the %" PRIu64 " allocations recorded (a block of s bytes\n"
			       "  stands for 1/(1 - exp(-s/%" PRIu64 ")) blocks); a few samples make a rough estimate",
			    m->sampled_calls, m->sample_mean);
		summary_emit(&l, label.buf);
		strbuf_release(&label);
	}
	add_seconds(v, m->runtime_ms);
	summary_emit(&l, "total runtime");
	strbuf_addf(v, "%" PRIu64, m->calls);
	if (secs > 0)
		strbuf_addf(v, " (%.0f/s)", m->calls / secs);
	if (!m->calls && !m->ended)
		/* a crash, a kill or an exec before the first flush (every
		 * 100 ms): the events were in the process's buffers */
		strbuf_addstr(v, " (none in the file, which has no end record: the process was killed or crashed before "
				 "its buffers were first written, which happens every 100 ms, at exit and before an "
				 "exec; or it replaced itself by exec before allocating)");
	else if (!m->calls && m->sample_mean)
		/* the unsampled calls leave no trace: whether there were any
		 * is not known, and a short run at a large mean often has none
		 * in the file: exp(-bytes / mean) of the runs (4 in 10 for a
		 * Rust program that allocates 58 kB, at 64k) */
		strbuf_addf(v, " (none sampled: a run that allocates less than about %" PRIu64 " bytes in all may have "
			       "no sample at this mean, record it without --sample or with a smaller one; or the "
			       "program has an allocator of its own, such as jemalloc, mimalloc or tcmalloc linked in, "
			       "or Rust's #[global_allocator], and does not call malloc)",
			    m->sample_mean);
	else if (!m->calls)
		strbuf_addstr(v, " (none reached leakhunt: a program with an allocator of its own, such as jemalloc, "
				 "mimalloc or tcmalloc linked in, or Rust's #[global_allocator], does not call malloc)");
	summary_emit(&l, "calls to allocation functions");
	if (m->sample_mean)
		strbuf_addstr(v, "not estimated (a sampled recording misses the events between its samples)");
	else
		strbuf_addf(v, "%" PRIu64, m->temporary);
	if (m->calls && !m->sample_mean)
		strbuf_addf(v, " (%.2f%% of calls)", 100.0 * m->temporary / m->calls);
	summary_emit(&l, "temporary memory allocations");
	add_size(v, m->peak_bytes);
	strbuf_addf(v, " in %" PRIu64 " %s at ", m->peak_blocks, blocks(m->peak_blocks));
	add_seconds(v, m->peak_ms);
	summary_emit(&l, "peak heap memory consumption");
	add_size(v, m->peak_rss);
	strbuf_addstr(v, m->peak_rss ? " (sampled every 10 ms; leakhunt's own tables and buffers in the process included)"
				     : " (no samples: the run was shorter than 10 ms)");
	summary_emit(&l, "peak RSS");
	add_size(v, m->leaked_bytes);
	strbuf_addf(v, " in %" PRIu64 " %s%s", m->leaked_blocks, blocks(m->leaked_blocks),
		    m->attached ? " (allocated while recorded and still allocated when recording stopped: leaked, "
				  "or still in use)"
				: "");
	summary_emit(&l, "total memory leaked");
	if (m->unknown_frees) {
		strbuf_addf(v, "%" PRIu64 " (%s)", m->unknown_frees,
			    m->attached ? "allocated before the attach: left out of every number"
					: "allocated before recording began, by code leakhunt does not see, or lost "
					  "with events that are missing; left out of every number");
		summary_emit(&l, "frees of blocks not allocated while recorded");
	}
	if (m->unwind_fp && m->incomplete_calls) {
		strbuf_addf(v, "%" PRIu64 " of the allocation calls (%.1f%%): recorded with --unwind fp, which stops "
			       "at the first frame that keeps no frame pointer (code built with -fomit-frame-pointer, "
			       "the default of gcc -O2, and most libraries); record with --unwind auto (the default) "
			       "for whole stacks",
			    m->incomplete_calls, m->calls ? 100.0 * m->incomplete_calls / m->calls : 0.0);
		summary_emit(&l, "stacks that end before their thread's start");
	}
	if (m->suppressed_blocks) {
		add_size(v, m->suppressed_bytes);
		strbuf_addf(v, " in %" PRIu64 " %s", m->suppressed_blocks, blocks(m->suppressed_blocks));
		summary_emit(&l, "suppressed leaks");
	}
	strbuf_release(v);
}

static void print_summary_line(void *ctx, const char *label, const char *value)
{
	struct strbuf sb = STRBUF_INIT;

	/* a value of our own words starts on the next line; others (the
	 * recorded command) come from the trace and are escaped, but the
	 * command is shell words already: its quoting's backslashes stay, so
	 * that it can be copied back to a shell */
	if (*value == '\n') {
		fprintf(ctx, "%s:%s\n", label, value);
		return;
	}
	lh_terminal_escape_literal(&sb, value, strlen(value));
	fprintf(ctx, "%s: %s\n", label, sb.buf);
	strbuf_release(&sb);
}

void lh_native_print_summary(FILE *out, const struct lh_alloc_model *m)
{
	lh_native_summary(m, print_summary_line, out);
}

static const char *site_columns(const struct lh_alloc_model *m)
{
	return m->sample_mean ? "Function:l*,Calls:r,Samples:r,Allocated B:r,Peak B:r,Leaked B:r,Leaked blocks:r"
			      : "Function:l*,Calls:r,Temporary:r,Allocated B:r,Peak B:r,Leaked B:r,Leaked blocks:r";
}

static void site_row(struct lh_table *t, const struct lh_alloc_model *m, const struct lh_site *s, const char *none)
{
	lh_table_cell(t, "%s", lh_native_func(m, s->func, none));
	lh_table_cell(t, "%" PRIu64, s->c.calls);
	/* a sampled trace has no temporaries: how many samples stand behind
	 * the site's estimates instead */
	lh_table_cell(t, "%" PRIu64, m->sample_mean ? s->c.samples : s->c.temporary);
	lh_table_cell(t, "%" PRIu64, s->c.bytes);
	lh_table_cell(t, "%" PRIu64, s->c.peak);
	lh_table_cell(t, "%" PRIu64, s->c.leaked);
	lh_table_cell(t, "%" PRIu64, s->c.leaked_blocks);
}

void lh_native_print_sites(FILE *out, const struct lh_callgraph *g, const struct lh_native_opts *o)
{
	struct lh_site *s;
	size_t n = lh_callgraph_sites(g, o->sort, &s), shown = 0, nonzero = 0;
	struct lh_table t;

	fprintf(out, "\ntop allocation sites by %s:\n", lh_cost_name(o->sort));
	lh_table_init(&t, site_columns(g->m));
	t.max_width = o->width;
	for (size_t i = 0; i < n; i++) {
		if (!lh_costs_get(&s[i].c, o->sort))
			continue;
		nonzero++;
		if (shown < o->top) {
			site_row(&t, g->m, &s[i], "[no stack]");
			shown++;
		}
	}
	if (shown)
		lh_table_print(&t, out);
	else
		fprintf(out, "  (none)\n");
	/* only when --top hides some: sites with a cost of 0 are never listed */
	if (nonzero > shown)
		fprintf(out, "(%zu sites in all; --top N shows more)\n", n);
	lh_table_release(&t);
	free(s);
}

/* The stacks of the callgraph, as "leaks" in --json: --filter applies here
 * too (walking the model's nodes listed every leak whatever the filter);
 * suppressed stacks have no leaked cost there. */
void lh_native_print_leaks(FILE *out, const struct lh_callgraph *g)
{
	const struct lh_alloc_model *m = g->m;
	struct lh_alloc_frame *fr = NULL;
	size_t fr_alloc = 0, *order, n = lh_callgraph_leaks(g, &order);

	for (size_t i = 0; i < n; i++) {
		const struct lh_cg_stack *c = &g->stacks[order[i]];
		size_t nf = lh_alloc_stack(m, c->node, 0, &fr, &fr_alloc);

		fprintf(out, "\n%" PRIu64 " B leaked in %" PRIu64 " %s from:\n", c->c.leaked, c->c.leaked_blocks,
			blocks(c->c.leaked_blocks));
		for (size_t k = 0; k < nf; k++) {
			const char *file = lh_alloc_string(m, fr[k].file);

			if (*file && lh_verbosity)
				lh_terminal_printf(out, "  %s (%s:%u)\n", lh_alloc_func_name(m, fr[k].func), file, fr[k].line);
			else
				lh_terminal_printf(out, "  %s\n", lh_alloc_func_name(m, fr[k].func));
		}
	}
	free(order);
	free(fr);
}

struct walk {
	uint32_t node, depth, more; /* more: a "... N more" line instead of a node */
};

void lh_native_print_tree(FILE *out, const struct lh_callgraph *g, int bottom_up, const struct lh_native_opts *o)
{
	struct lh_tree t;
	struct walk *st = NULL;
	uint32_t *kids = NULL;
	size_t nst = 0, st_alloc = 0, kids_alloc = 0;
	struct strbuf sb = STRBUF_INIT;

	lh_callgraph_tree(g, bottom_up, o->depth < UINT32_MAX ? (uint32_t)o->depth : UINT32_MAX, &t);
	fprintf(out, "\n%s tree by %s (%s):\n", bottom_up ? "bottom-up" : "top-down", lh_cost_name(o->sort),
		bottom_up ? "allocating functions, then their callers" : "outermost callers, then their callees");
	ALLOC_GROW(st, 1, st_alloc);
	st[nst++] = (struct walk){ 0, 0, 0 };
	while (nst) {
		struct walk w = st[--nst];
		size_t n, limit, pushed;

		if (w.more) {
			fprintf(out, "%*s... %u more\n", (int)(2 * w.depth), "", w.more);
			continue;
		}
		if (w.node) {
			const struct lh_tree_node *tn = &t.node[w.node];

			strbuf_reset(&sb);
			strbuf_addf(&sb, "%" PRIu64, lh_costs_get(&tn->c, o->sort));
			lh_terminal_printf(out, "%*s%s %s  (calls %" PRIu64, (int)(2 * (w.depth - 1)), "", sb.buf,
				lh_native_func(g->m, tn->func, "?"), tn->c.calls);
			if (!g->m->sample_mean) /* not estimated from samples */
				fprintf(out, ", temporary %" PRIu64, tn->c.temporary);
			fprintf(out, ", peak %" PRIu64 " B, leaked %" PRIu64 " B)\n", tn->c.peak, tn->c.leaked);
		}
		if (w.depth >= o->depth)
			continue;
		n = lh_tree_children(&t, w.node, o->sort, &kids, &kids_alloc);
		while (n && !lh_costs_get(&t.node[kids[n - 1]].c, o->sort))
			n--;
		limit = w.node ? o->children : o->top;
		pushed = n < limit ? n : limit;
		ALLOC_GROW(st, nst + pushed + 1, st_alloc);
		if (n > pushed)
			st[nst++] = (struct walk){ 0, w.depth, (uint32_t)(n - pushed) };
		for (size_t i = pushed; i-- > 0;)
			st[nst++] = (struct walk){ kids[i], w.depth + 1, 0 };
	}
	if (!t.node[0].child)
		fprintf(out, "  (no stacks)\n");
	free(st);
	free(kids);
	strbuf_release(&sb);
	lh_tree_release(&t);
}

static void print_site_list(FILE *out, const struct lh_callgraph *g, const char *title, const char *none,
			    const struct lh_site *s, size_t n, const struct lh_native_opts *o)
{
	struct lh_table t;

	fprintf(out, "\n%s:\n", title);
	lh_table_init(&t, site_columns(g->m));
	t.max_width = o->width;
	for (size_t i = 0; i < n && i < o->top; i++)
		site_row(&t, g->m, &s[i], none);
	lh_table_print(&t, out);
	lh_table_release(&t);
}

void lh_native_print_function(FILE *out, const struct lh_callgraph *g, const char *name,
			      const struct lh_native_opts *o)
{
	struct lh_func_view v;
	struct lh_site total;

	lh_callgraph_function(g, name, o->sort, &v);
	if (!v.found) {
		const struct lh_alloc_model *m = g->m;
		int same = 0;

		/* functions that share the name are shown apart: say how */
		for (uint32_t f = 0; f < m->funcs.nr; f++) {
			if (strcmp(lh_alloc_func_bare(m, f), name) || !strcmp(lh_alloc_func_name(m, f), name))
				continue;
			if (!same++)
				fputs("\nmore than one function is named so; give one of: ", out);
			else
				fputs(", ", out);
			lh_terminal_printf(out, "'%s'", lh_alloc_func_name(m, f));
		}
		if (same)
			fputc('\n', out);
		else
			lh_terminal_printf(out, "\nno allocating stack goes through '%s' (names are exact; see --bottom-up for them)\n",
				name);
		return;
	}
	lh_terminal_printf(out, "\nfunction %s\n", name);
	total.func = LH_FUNC_NONE;
	total.c = v.total;
	print_site_list(out, g, "inclusive (every stack through it)", name, &total, 1, o);
	total.c = v.self;
	print_site_list(out, g, "self (it calls the allocator directly)", name, &total, 1, o);
	print_site_list(out, g, "callers", "[root]", v.callers, v.ncallers, o);
	print_site_list(out, g, "callees", "[self]", v.callees, v.ncallees, o);
	lh_func_view_release(&v);
}

void lh_native_print_histogram(FILE *out, const struct lh_alloc_model *m)
{
	uint64_t bucket[LH_SIZE_BUCKETS], max = 0;
	struct lh_table t;
	struct strbuf sb = STRBUF_INIT;
	size_t nsizes = lh_alloc_size_buckets(m, bucket);

	for (int b = 0; b < LH_SIZE_BUCKETS; b++)
		if (bucket[b] > max)
			max = bucket[b];
	fprintf(out, "\nallocation sizes (requested; %zu distinct sizes):\n", nsizes);
	lh_table_init(&t, "Size:r,Calls:r,Share:r,:l");
	for (int b = 0; b < LH_SIZE_BUCKETS; b++) {
		if (!bucket[b])
			continue;
		if (!b)
			lh_table_cell(&t, "0");
		else if (b == 1)
			lh_table_cell(&t, "1");
		else
			lh_table_cell(&t, "%" PRIu64 "-%" PRIu64, (uint64_t)1 << (b - 1), ((uint64_t)1 << (b - 1)) * 2 - 1);
		lh_table_cell(&t, "%" PRIu64, bucket[b]);
		lh_table_cell(&t, "%.1f%%", m->calls ? 100.0 * bucket[b] / m->calls : 0.0);
		strbuf_reset(&sb);
		strbuf_addchars(&sb, '#', (size_t)((bucket[b] * 40 + max - 1) / max));
		lh_table_cell_sb(&t, &sb);
	}
	lh_table_print(&t, out);
	lh_table_release(&t);
	strbuf_release(&sb);
}

/* A plain-text chart: '#' heap consumed, '.' RSS above it, time to the right. */
static void chart(FILE *out, const struct lh_alloc_model *m, size_t width, size_t height)
{
	uint64_t *heap = lh_xcalloc(width, sizeof(uint64_t)), *rss = lh_xcalloc(width, sizeof(uint64_t));
	uint64_t top = 0, span = m->runtime_ms ? m->runtime_ms : 1;
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < m->ntimeline; i++) {
		const struct lh_timeline_point *p = &m->timeline[i];
		size_t c = (size_t)(p->ms * (width - 1) / span);

		if (c >= width)
			c = width - 1;
		if (p->heap_max > heap[c])
			heap[c] = p->heap_max;
		if (p->rss > rss[c])
			rss[c] = p->rss;
	}
	/* a column without a point of its own continues the last one */
	for (size_t c = 1; c < width; c++) {
		if (!heap[c] && !rss[c]) {
			heap[c] = heap[c - 1];
			rss[c] = rss[c - 1];
		}
	}
	for (size_t c = 0; c < width; c++) {
		if (heap[c] > top)
			top = heap[c];
		if (rss[c] > top)
			top = rss[c];
	}
	if (!top)
		top = 1;
	for (size_t r = height; r > 0; r--) {
		uint64_t level = top * (2 * r - 1) / (2 * height);

		strbuf_reset(&sb);
		if (r == height || r == 1) {
			lh_human_size(&sb, (int64_t)(r == height ? top : 0));
		}
		fprintf(out, "%10s |", sb.buf);
		for (size_t c = 0; c < width; c++)
			fputc(heap[c] > level ? '#' : rss[c] > level ? '.' : ' ', out);
		fputc('\n', out);
	}
	strbuf_reset(&sb);
	add_seconds(&sb, m->runtime_ms);
	fprintf(out, "%10s +", "");
	for (size_t c = 0; c < width; c++)
		fputc('-', out);
	fprintf(out, "\n%10s  0s%*s\n", "", (int)(width - 2), sb.buf);
	free(heap);
	free(rss);
	strbuf_release(&sb);
}

void lh_native_print_timeline(FILE *out, const struct lh_alloc_model *m, const struct lh_native_opts *o)
{
	struct lh_table t;
	size_t rows = o->top < 2 ? 2 : o->top;
	uint64_t prev_calls = 0, prev_temp = 0;
	size_t last = (size_t)-1;

	/* no more rows than points: every row number was tried, so a --top
	 * of 10^10 ran for minutes (and r * (points - 1) overflowed) */
	if (rows > m->ntimeline)
		rows = m->ntimeline < 2 ? 2 : m->ntimeline;

	fprintf(out, "\nheap consumed (#) and RSS (.) over time:\n");
	chart(out, m, 64, 12);
	fprintf(out, "\ntimeline (%zu points; --json has them all):\n", m->ntimeline);
	lh_table_init(&t, "Time:r,Heap B:r,Heap max B:r,RSS B:r,Calls:r,Temporary:r");
	for (size_t r = 0; r < rows && m->ntimeline; r++) {
		size_t i = m->ntimeline == 1 ? 0 : r * (m->ntimeline - 1) / (rows - 1);
		const struct lh_timeline_point *p = &m->timeline[i];
		struct strbuf sb = STRBUF_INIT;

		if (i == last)
			continue;
		last = i;
		add_seconds(&sb, p->ms);
		lh_table_cell_sb(&t, &sb);
		strbuf_release(&sb);
		lh_table_cell(&t, "%" PRIu64, p->heap);
		lh_table_cell(&t, "%" PRIu64, p->heap_max);
		lh_table_cell(&t, "%" PRIu64, p->rss);
		lh_table_cell(&t, "+%" PRIu64, p->calls - prev_calls);
		lh_table_cell(&t, m->sample_mean ? "-" : "+%" PRIu64, p->temporary - prev_temp);
		prev_calls = p->calls;
		prev_temp = p->temporary;
	}
	lh_table_print(&t, out);
	lh_table_release(&t);
}

void lh_native_print_at(FILE *out, const struct lh_callgraph *g, int peak, const struct lh_native_opts *o)
{
	const struct lh_alloc_model *m = g->m;
	enum lh_cost k = peak ? LH_COST_PEAK : LH_COST_AT;
	struct lh_site *s;
	size_t n = lh_callgraph_sites(g, k, &s);
	struct lh_table t;
	struct strbuf sb = STRBUF_INIT;

	add_seconds(&sb, peak ? m->peak_ms : m->at_real_ms);
	fprintf(out, "\nlive heap at %s%s: %" PRIu64 " B in %" PRIu64 " %s\n", peak ? "the peak, " : "", sb.buf,
		peak ? m->peak_bytes : m->at_heap, peak ? m->peak_blocks : m->at_blocks,
		blocks(peak ? m->peak_blocks : m->at_blocks));
	lh_table_init(&t, "Function:l*,Live B:r,Live blocks:r");
	t.max_width = o->width;
	for (size_t i = 0, shown = 0; i < n && shown < o->top; i++) {
		uint64_t bytes = lh_costs_get(&s[i].c, k);

		if (!bytes)
			continue;
		lh_table_cell(&t, "%s", lh_native_func(m, s[i].func, "[no stack]"));
		lh_table_cell(&t, "%" PRIu64, bytes);
		lh_table_cell(&t, "%" PRIu64, peak ? s[i].c.peak_blocks : s[i].c.at_blocks);
		shown++;
	}
	lh_table_print(&t, out);
	lh_table_release(&t);
	strbuf_release(&sb);
	free(s);
}

static void delta_cell(struct lh_table *t, uint64_t a, uint64_t b)
{
	int64_t d = (int64_t)(b - a);

	lh_table_cell(t, "%s%" PRId64, d > 0 ? "+" : "", d);
}

void lh_native_print_diff(FILE *out, const struct lh_callgraph *a, const struct lh_callgraph *b,
			  const struct lh_native_opts *o)
{
	struct lh_site_diff *d;
	size_t n = lh_callgraph_diff(a, b, o->sort, &d), shown = 0;
	struct lh_table t;

	fprintf(out, "\nchange per site (new - old), by %s:\n", lh_cost_name(o->sort));
	if (a->m->sample_mean || b->m->sample_mean)
		fprintf(out, "(%s a sampled recording: its numbers are estimates, and a site with few samples "
			     "changes by chance alone)\n",
			a->m->sample_mean && b->m->sample_mean ? "both are" : a->m->sample_mean ? "old is" : "new is");
	lh_table_init(&t, "Function:l*,Calls:r,Temporary:r,Peak B:r,Leaked B:r,Leaked blocks:r,Old leaked B:r,New leaked B:r");
	t.max_width = o->width;
	for (size_t i = 0; i < n && shown < o->top; i++) {
		if (!memcmp(&d[i].old, &d[i].new_, sizeof(d[i].old)))
			continue;
		lh_table_cell(&t, "%s", d[i].name);
		delta_cell(&t, d[i].old.calls, d[i].new_.calls);
		if (a->m->sample_mean || b->m->sample_mean)
			lh_table_cell(&t, "-");
		else
			delta_cell(&t, d[i].old.temporary, d[i].new_.temporary);
		delta_cell(&t, d[i].old.peak, d[i].new_.peak);
		delta_cell(&t, d[i].old.leaked, d[i].new_.leaked);
		delta_cell(&t, d[i].old.leaked_blocks, d[i].new_.leaked_blocks);
		lh_table_cell(&t, "%" PRIu64, d[i].old.leaked);
		lh_table_cell(&t, "%" PRIu64, d[i].new_.leaked);
		shown++;
	}
	if (shown)
		lh_table_print(&t, out);
	else
		fprintf(out, "  (no site changed)\n");
	lh_table_release(&t);
	free(d);
}
