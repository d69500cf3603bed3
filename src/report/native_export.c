/*
 * Exports of the native allocation model (declarations: native.h): --json
 * (documented in docs/report.md, versioned by "format"), folded stacks for
 * flamegraph.pl / inferno, and speedscope's file format.  All of them walk
 * the filtered stacks of a callgraph once; JSON is streamed with jsonw.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/jsonw.h"
#include "base/strbuf.h"
#include "report/native.h"
#include "report/speedscope.h"

struct folded_line {
	size_t at; /* the stack's text in the buffer */
	uint64_t v;
};

static int cmp_folded(const void *a, const void *b, void *buf)
{
	return strcmp((const char *)buf + ((const struct folded_line *)a)->at,
		      (const char *)buf + ((const struct folded_line *)b)->at);
}

/* One line per distinct text, sorted: two stacks whose frames differ only in
 * addresses (two call sites in one function), or in names that print alike,
 * are one line, as the tools would sum them anyway. */
void lh_native_write_folded(FILE *out, const struct lh_callgraph *g, enum lh_cost k)
{
	struct strbuf text = STRBUF_INIT;
	struct folded_line *lines = NULL;
	size_t nr = 0, alloc = 0;

	for (size_t i = 0; i < g->nstacks; i++) {
		const struct lh_cg_stack *s = &g->stacks[i];
		uint64_t v = lh_costs_get(&s->c, k);

		if (!v)
			continue;
		ALLOC_GROW(lines, nr + 1, alloc);
		lines[nr++] = (struct folded_line){ text.len, v };
		/* root first; ';' separates frames and a line is one stack, so
		 * neither may be in a name; spaces may (flamegraph.pl and inferno
		 * take the count after the last one), as in heaptrack's output */
		for (uint32_t f = s->n; f-- > 0;) {
			const char *name = lh_alloc_func_name(g->m, g->funcs[s->off + f]);

			for (const char *c = name; *c; c++)
				strbuf_addch(&text, *c == ';' ? ':' : *c == '\n' ? ' ' : *c);
			if (f)
				strbuf_addch(&text, ';');
		}
		if (!s->n)
			strbuf_addstr(&text, "[no stack]");
		strbuf_addch(&text, 0);
	}
	if (nr)
		qsort_r(lines, nr, sizeof(*lines), cmp_folded, text.buf);
	for (size_t i = 0; i < nr;) {
		uint64_t v = 0;
		size_t j = i;

		for (; j < nr && !strcmp(text.buf + lines[j].at, text.buf + lines[i].at); j++)
			v += lines[j].v;
		fprintf(out, "%s %" PRIu64 "\n", text.buf + lines[i].at, v);
		i = j;
	}
	free(lines);
	strbuf_release(&text);
}

static const struct {
	enum lh_cost k;
	const char *name, *unit;
} profiles[] = {
	{ LH_COST_CALLS, "allocation calls", "none" },
	{ LH_COST_TEMPORARY, "temporary allocations", "none" },
	{ LH_COST_PEAK, "memory at the peak", "bytes" },
	{ LH_COST_LEAKED, "memory leaked", "bytes" },
	{ LH_COST_BYTES, "bytes allocated", "bytes" },
};

int lh_native_write_speedscope(FILE *out, const struct lh_callgraph *g, const char *name)
{
	const struct lh_alloc_model *m = g->m;
	struct lh_jsonw w;

	lh_speedscope_begin(&w, out, "leakhunt report", name);
	/* frame index = function id; then one for allocations without a stack
	 * (the folded output's "[no stack]"), so that the samples add up to the
	 * profile's endValue */
	for (uint32_t f = 0; f < m->funcs.nr; f++) {
		lh_jsonw_object(&w);
		lh_jsonw_kstr(&w, "name", lh_alloc_func_name(m, f));
		lh_jsonw_end(&w);
	}
	lh_jsonw_object(&w);
	lh_jsonw_kstr(&w, "name", "[no stack]");
	lh_jsonw_end(&w);
	lh_speedscope_profiles(&w);
	for (size_t p = 0; p < sizeof(profiles) / sizeof(*profiles); p++) {
		uint64_t total = 0;

		for (size_t i = 0; i < g->nstacks; i++)
			total += lh_costs_get(&g->stacks[i].c, profiles[p].k);
		lh_speedscope_profile(&w, profiles[p].name, profiles[p].unit, total);
		for (size_t i = 0; i < g->nstacks; i++) {
			const struct lh_cg_stack *s = &g->stacks[i];

			if (!lh_costs_get(&s->c, profiles[p].k))
				continue;
			lh_jsonw_array(&w);
			for (uint32_t f = s->n; f-- > 0;)
				lh_jsonw_uint(&w, g->funcs[s->off + f]);
			if (!s->n)
				lh_jsonw_uint(&w, m->funcs.nr);
			lh_jsonw_end(&w);
		}
		lh_speedscope_weights(&w);
		for (size_t i = 0; i < g->nstacks; i++) {
			const struct lh_cg_stack *s = &g->stacks[i];

			if (lh_costs_get(&s->c, profiles[p].k))
				lh_jsonw_uint(&w, lh_costs_get(&s->c, profiles[p].k));
		}
		lh_speedscope_profile_end(&w);
	}
	return lh_speedscope_finish(&w);
}

/* A count the model does not estimate in a sampled trace is null there. */
static void kcount(struct lh_jsonw *w, const char *key, uint64_t v, const struct lh_alloc_model *m)
{
	lh_jsonw_key(w, key);
	if (m->sample_mean)
		lh_jsonw_null(w);
	else
		lh_jsonw_uint(w, v);
}

static void costs_json(struct lh_jsonw *w, const struct lh_costs *c, const struct lh_alloc_model *m)
{
	lh_jsonw_kuint(w, "calls", c->calls);
	lh_jsonw_kuint(w, "sampled_calls", c->samples);
	kcount(w, "temporary", c->temporary, m);
	lh_jsonw_kuint(w, "bytes", c->bytes);
	lh_jsonw_kuint(w, "peak_bytes", c->peak);
	lh_jsonw_kuint(w, "peak_blocks", c->peak_blocks);
	lh_jsonw_kuint(w, "leaked_bytes", c->leaked);
	lh_jsonw_kuint(w, "leaked_blocks", c->leaked_blocks);
}

void lh_native_summary_json(struct lh_jsonw *w, const struct lh_alloc_model *m)
{
	lh_jsonw_object(w);
	lh_jsonw_kuint(w, "calls", m->calls);
	lh_jsonw_kuint(w, "sampled_calls", m->sampled_calls);
	kcount(w, "temporary", m->temporary, m);
	lh_jsonw_kuint(w, "bytes", m->alloc_bytes);
	lh_jsonw_kuint(w, "peak_bytes", m->peak_bytes);
	lh_jsonw_kuint(w, "peak_blocks", m->peak_blocks);
	lh_jsonw_kuint(w, "peak_ms", m->peak_ms);
	lh_jsonw_kuint(w, "peak_rss", m->peak_rss);
	lh_jsonw_kuint(w, "leaked_bytes", m->leaked_bytes);
	lh_jsonw_kuint(w, "leaked_blocks", m->leaked_blocks);
	lh_jsonw_kuint(w, "suppressed_bytes", m->suppressed_bytes);
	lh_jsonw_kuint(w, "suppressed_blocks", m->suppressed_blocks);
	lh_jsonw_kuint(w, "frees", m->frees);
	lh_jsonw_kuint(w, "unknown_frees", m->unknown_frees);
	/* --unwind fp only: the other modes walk whole stacks or mark the cut */
	lh_jsonw_key(w, "incomplete_stack_calls");
	if (m->unwind_fp)
		lh_jsonw_uint(w, m->incomplete_calls);
	else
		lh_jsonw_null(w);
	lh_jsonw_kbool(w, "attached", m->attached);
	lh_jsonw_kuint(w, "runtime_ms", m->runtime_ms);
	lh_jsonw_kuint(w, "events", m->events);
	lh_jsonw_kuint(w, "missing_events", m->missing);
	lh_jsonw_kuint(w, "duplicate_events", m->duplicates);
	lh_jsonw_kbool(w, "complete", m->ended && !m->damage.len && !m->missing && !m->duplicates && !m->write_error);
	lh_jsonw_key(w, "damage");
	if (m->damage.len)
		lh_jsonw_str(w, m->damage.buf);
	else
		lh_jsonw_null(w);
	lh_jsonw_key(w, "write_error");
	if (m->write_error)
		lh_jsonw_str(w, strerror(m->write_error));
	else
		lh_jsonw_null(w);
	lh_jsonw_end(w);
}

void lh_native_timeline_json(struct lh_jsonw *w, const struct lh_alloc_model *m)
{
	lh_jsonw_array(w);
	for (size_t i = 0; i < m->ntimeline; i++) {
		const struct lh_timeline_point *p = &m->timeline[i];

		lh_jsonw_object(w);
		lh_jsonw_kuint(w, "ms", p->ms);
		lh_jsonw_kuint(w, "heap", p->heap);
		lh_jsonw_kuint(w, "heap_max", p->heap_max);
		lh_jsonw_kuint(w, "rss", p->rss);
		lh_jsonw_kuint(w, "calls", p->calls);
		kcount(w, "temporary", p->temporary, m);
		lh_jsonw_end(w);
	}
	lh_jsonw_end(w);
}

static void frame_json(struct lh_jsonw *w, const struct lh_alloc_model *m, const struct lh_alloc_frame *f)
{
	lh_jsonw_object(w);
	/* the program's name: file and module are beside it, where a site
	 * says "helper (libtwo.so)" to tell two helpers apart */
	lh_jsonw_kstr(w, "function", lh_alloc_func_bare(m, f->func));
	if (f->file) {
		lh_jsonw_kstr(w, "file", lh_alloc_string(m, f->file));
		lh_jsonw_kuint(w, "line", f->line);
	}
	if (f->module) {
		lh_jsonw_kstr(w, "module", m->modules[f->module - 1].path);
	}
	lh_jsonw_end(w);
}

static void leaks_json(struct lh_jsonw *w, const struct lh_callgraph *g)
{
	size_t *order, n = lh_callgraph_leaks(g, &order), fr_alloc = 0;
	struct lh_alloc_frame *fr = NULL;

	lh_jsonw_array(w);
	for (size_t i = 0; i < n; i++) {
		const struct lh_cg_stack *s = &g->stacks[order[i]];
		size_t nf = lh_alloc_stack(g->m, s->node, 0, &fr, &fr_alloc);

		lh_jsonw_object(w);
		lh_jsonw_kuint(w, "bytes", s->c.leaked);
		lh_jsonw_kuint(w, "blocks", s->c.leaked_blocks);
		lh_jsonw_key(w, "stack");
		lh_jsonw_array(w);
		for (size_t k = 0; k < nf; k++)
			frame_json(w, g->m, &fr[k]);
		lh_jsonw_end(w);
		lh_jsonw_end(w);
	}
	lh_jsonw_end(w);
	free(order);
	free(fr);
}

static void sites_json(struct lh_jsonw *w, const struct lh_callgraph *g, enum lh_cost sort)
{
	struct lh_site *s;
	size_t n = lh_callgraph_sites(g, sort, &s);

	lh_jsonw_array(w);
	for (size_t i = 0; i < n; i++) {
		lh_jsonw_object(w);
		lh_jsonw_kstr(w, "function", lh_native_func(g->m, s[i].func, "[no stack]"));
		costs_json(w, &s[i].c, g->m);
		lh_jsonw_end(w);
	}
	lh_jsonw_end(w);
	free(s);
}

int lh_native_write_json(FILE *out, const struct lh_callgraph *g, const struct lh_native_opts *o, int at, int pretty)
{
	const struct lh_alloc_model *m = g->m;
	struct lh_jsonw w;

	lh_jsonw_init(&w, out, pretty);
	lh_jsonw_object(&w);
	lh_jsonw_kuint(&w, "format", 1);
	lh_jsonw_kstr(&w, "file", o->path ? o->path : "");
	lh_jsonw_kstr(&w, "command", m->cmdline ? m->cmdline : "");
	lh_jsonw_kuint(&w, "sample_mean", m->sample_mean);
	lh_jsonw_key(&w, "summary");
	lh_native_summary_json(&w, m);
	lh_jsonw_kstr(&w, "sort", lh_cost_name(o->sort));
	lh_jsonw_key(&w, "sites");
	sites_json(&w, g, o->sort);
	lh_jsonw_key(&w, "leaks");
	leaks_json(&w, g);
	lh_jsonw_key(&w, "functions");
	lh_jsonw_array(&w);
	for (uint32_t f = 0; f < m->funcs.nr; f++)
		lh_jsonw_str(&w, lh_alloc_func_name(m, f));
	lh_jsonw_end(&w);
	lh_jsonw_key(&w, "stacks");
	lh_jsonw_array(&w);
	for (size_t i = 0; i < g->nstacks; i++) {
		const struct lh_cg_stack *s = &g->stacks[i];

		lh_jsonw_object(&w);
		lh_jsonw_key(&w, "frames");
		lh_jsonw_array(&w);
		for (uint32_t f = 0; f < s->n; f++)
			lh_jsonw_uint(&w, g->funcs[s->off + f]);
		lh_jsonw_end(&w);
		costs_json(&w, &s->c, g->m);
		lh_jsonw_end(&w);
	}
	lh_jsonw_end(&w);
	lh_jsonw_key(&w, "histogram");
	lh_jsonw_array(&w);
	for (size_t i = 0; i < m->nsizes; i++) {
		lh_jsonw_object(&w);
		lh_jsonw_kuint(&w, "size", m->sizes[i].size);
		lh_jsonw_kuint(&w, "count", m->sizes[i].count);
		lh_jsonw_end(&w);
	}
	lh_jsonw_end(&w);
	lh_jsonw_key(&w, "timeline");
	lh_native_timeline_json(&w, m);
	if (at) {
		struct lh_site *s;
		enum lh_cost k = at > 1 ? LH_COST_PEAK : LH_COST_AT;
		size_t n = lh_callgraph_sites(g, k, &s);

		lh_jsonw_key(&w, "at");
		lh_jsonw_object(&w);
		lh_jsonw_kuint(&w, "ms", at > 1 ? m->peak_ms : m->at_real_ms);
		/* ms is the RSS sample the state was taken at: the first after
		 * the moment asked for, or the end of the run */
		if (at == 1)
			lh_jsonw_kuint(&w, "requested_ms", m->at_ms);
		lh_jsonw_kuint(&w, "bytes", at > 1 ? m->peak_bytes : m->at_heap);
		lh_jsonw_kuint(&w, "blocks", at > 1 ? m->peak_blocks : m->at_blocks);
		lh_jsonw_key(&w, "sites");
		lh_jsonw_array(&w);
		for (size_t i = 0; i < n; i++) {
			if (!lh_costs_get(&s[i].c, k))
				continue;
			lh_jsonw_object(&w);
			lh_jsonw_kstr(&w, "function", lh_native_func(m, s[i].func, "[no stack]"));
			lh_jsonw_kuint(&w, "bytes", lh_costs_get(&s[i].c, k));
			lh_jsonw_kuint(&w, "blocks", at > 1 ? s[i].c.peak_blocks : s[i].c.at_blocks);
			lh_jsonw_end(&w);
		}
		lh_jsonw_end(&w);
		lh_jsonw_end(&w);
		free(s);
	}
	lh_jsonw_end(&w);
	return lh_jsonw_finish(&w);
}

int lh_native_write_diff_json(FILE *out, const struct lh_callgraph *a, const struct lh_callgraph *b,
			      const struct lh_native_opts *o, int pretty)
{
	struct lh_site_diff *d;
	size_t n = lh_callgraph_diff(a, b, o->sort, &d);
	struct lh_jsonw w;

	lh_jsonw_init(&w, out, pretty);
	lh_jsonw_object(&w);
	lh_jsonw_kuint(&w, "format", 1);
	lh_jsonw_key(&w, "old");
	lh_native_summary_json(&w, a->m);
	lh_jsonw_key(&w, "new");
	lh_native_summary_json(&w, b->m);
	lh_jsonw_key(&w, "sites");
	lh_jsonw_array(&w);
	for (size_t i = 0; i < n; i++) {
		lh_jsonw_object(&w);
		lh_jsonw_kstr(&w, "function", d[i].name);
		lh_jsonw_key(&w, "old");
		lh_jsonw_object(&w);
		costs_json(&w, &d[i].old, a->m);
		lh_jsonw_end(&w);
		lh_jsonw_key(&w, "new");
		lh_jsonw_object(&w);
		costs_json(&w, &d[i].new_, b->m);
		lh_jsonw_end(&w);
		lh_jsonw_end(&w);
	}
	lh_jsonw_end(&w);
	lh_jsonw_end(&w);
	free(d);
	return lh_jsonw_finish(&w);
}
