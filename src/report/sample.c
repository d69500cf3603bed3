/*
 * Rendering sampling heap profiles (see sample.h).  Stacks are rebuilt from
 * the nodes' parent links, leaf to root, into one reused buffer; only nodes
 * with bytes of their own become stacks, so every byte is written once.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/human.h"
#include "base/jsonw.h"
#include "base/strbuf.h"
#include "base/table.h"
#include "report/sample.h"
#include "report/speedscope.h"

/* "file:///a/b.js" reads better as "/a/b.js"; node's own modules keep "node:". */
static const char *short_url(const char *url)
{
	return strncmp(url, "file://", 7) ? url : url + 7;
}

static void location(struct strbuf *sb, const struct lh_heapprofile_func *f)
{
	if (!f->url[0]) {
		strbuf_addstr(sb, "-");
		return;
	}
	strbuf_addstr(sb, short_url(f->url));
	if (f->line)
		strbuf_addf(sb, ":%d", f->line);
}

static void percent(struct strbuf *sb, uint64_t part, uint64_t whole)
{
	strbuf_addf(sb, "%.1f%%", whole ? 100.0 * part / whole : 0.0);
}

void lh_sample_print_table(FILE *out, const struct lh_heapprofile *p,
			   const struct lh_sample_info *info, uint32_t top)
{
	struct strbuf sb = STRBUF_INIT;
	struct lh_table t;
	uint32_t n, *order = lh_heapprofile_by_self(p, &n);

	lh_human_size(&sb, (int64_t)p->total);
	fprintf(out, "%s live in %" PRIu32 " samples", sb.buf, p->nsamples);
	strbuf_reset(&sb);
	if (info->interval_bytes)
		fprintf(out, ", one per %ld bytes allocated on average", info->interval_bytes);
	if (info->duration_ms)
		fprintf(out, ", %.1f s", info->duration_ms / 1000.0);
	if (info->pid)
		fprintf(out, " of pid %d", info->pid);
	if (info->source)
		lh_terminal_printf(out, " from '%s'", info->source);
	fputs("\n\n", out);
	if (!n || !p->total) {
		fputs("no live samples: nothing the target allocated in that time is still alive; "
		      "sample longer, or a smaller --interval\n", out);
		free(order);
		strbuf_release(&sb);
		return;
	}
	lh_table_init(&t, "Self:r,Self%:r,Total:r,Total%:r,Samples:r,Function:l,Location:l");
	for (uint32_t i = 0; i < n && (!top || i < top); i++) {
		const struct lh_heapprofile_func *f = &p->funcs[order[i]];

		if (!f->self && !f->total)
			break;
		lh_human_size(&sb, (int64_t)f->self);
		lh_table_cell_sb(&t, &sb);
		percent(&sb, f->self, p->total);
		lh_table_cell_sb(&t, &sb);
		lh_human_size(&sb, (int64_t)f->total);
		lh_table_cell_sb(&t, &sb);
		percent(&sb, f->total, p->total);
		lh_table_cell_sb(&t, &sb);
		lh_table_cell(&t, "%" PRIu32, f->samples);
		lh_table_cell(&t, "%s", f->name);
		location(&sb, f);
		lh_table_cell_sb(&t, &sb);
	}
	lh_table_print(&t, out);
	lh_table_release(&t);
	if (top && n > top)
		fprintf(out, "... %" PRIu32 " more functions (--top 0 shows all)\n", n - top);
	free(order);
	strbuf_release(&sb);
}

/* The functions of node i's stack, root's child first, into *frames; their count. */
static uint32_t stack_of(const struct lh_heapprofile *p, uint32_t i, uint32_t **frames,
			 size_t *alloc)
{
	uint32_t n = 0;

	for (uint32_t j = i; j != LH_HEAPPROFILE_NO_PARENT && p->parent[j] != LH_HEAPPROFILE_NO_PARENT;
	     j = p->parent[j]) {
		ALLOC_GROW(*frames, n + 1, *alloc);
		(*frames)[n++] = p->func[j];
	}
	for (uint32_t a = 0, b = n ? n - 1 : 0; a < b; a++, b--) {
		uint32_t t = (*frames)[a];

		(*frames)[a] = (*frames)[b];
		(*frames)[b] = t;
	}
	return n;
}

static void folded_frame(FILE *out, const struct lh_heapprofile_func *f)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, f->name);
	if (f->url[0]) {
		strbuf_addch(&sb, ' ');
		location(&sb, f);
	}
	/* ';' separates frames and a line is one stack: neither may be in a frame */
	for (size_t k = 0; k < sb.len; k++)
		fputc(sb.buf[k] == ';' ? ':' : sb.buf[k] == '\n' ? ' ' : sb.buf[k], out);
	strbuf_release(&sb);
}

void lh_sample_write_folded(FILE *out, const struct lh_heapprofile *p)
{
	uint32_t *frames = NULL;
	size_t alloc = 0;

	for (uint32_t i = 1; i < p->nnodes; i++) {
		uint32_t n;

		if (!p->self[i])
			continue;
		n = stack_of(p, i, &frames, &alloc);
		for (uint32_t k = 0; k < n; k++) {
			if (k)
				fputc(';', out);
			folded_frame(out, &p->funcs[frames[k]]);
		}
		fprintf(out, " %" PRIu64 "\n", p->self[i]);
	}
	free(frames);
}

int lh_sample_write_speedscope(FILE *out, const struct lh_heapprofile *p, const char *name)
{
	uint32_t *frames = NULL;
	size_t alloc = 0;
	struct lh_jsonw w;

	lh_speedscope_begin(&w, out, "leakhunt sample", name);
	/* frame index = function index */
	for (uint32_t f = 0; f < p->nfuncs; f++) {
		lh_jsonw_object(&w);
		lh_jsonw_kstr(&w, "name", p->funcs[f].name);
		if (p->funcs[f].url[0]) {
			lh_jsonw_kstr(&w, "file", short_url(p->funcs[f].url));
		}
		if (p->funcs[f].line) {
			lh_jsonw_kint(&w, "line", p->funcs[f].line);
			lh_jsonw_kint(&w, "col", p->funcs[f].column);
		}
		lh_jsonw_end(&w);
	}
	lh_speedscope_profiles(&w);
	lh_speedscope_profile(&w, "live bytes by allocating stack (sampled)", "bytes", p->total);
	for (uint32_t i = 1; i < p->nnodes; i++) {
		uint32_t n;

		if (!p->self[i])
			continue;
		n = stack_of(p, i, &frames, &alloc);
		lh_jsonw_array(&w);
		for (uint32_t k = 0; k < n; k++)
			lh_jsonw_uint(&w, frames[k]);
		lh_jsonw_end(&w);
	}
	lh_speedscope_weights(&w);
	for (uint32_t i = 1; i < p->nnodes; i++)
		if (p->self[i])
			lh_jsonw_uint(&w, p->self[i]);
	lh_speedscope_profile_end(&w);
	free(frames);
	return lh_speedscope_finish(&w);
}

int lh_sample_write_json(FILE *out, const struct lh_heapprofile *p,
			 const struct lh_sample_info *info, int pretty)
{
	uint32_t n, *order = lh_heapprofile_by_self(p, &n);
	uint32_t *rank = lh_xcalloc(p->nfuncs ? p->nfuncs : 1, sizeof(*rank));
	uint32_t *frames = NULL;
	size_t alloc = 0;
	struct lh_jsonw w;

	/* stacks name functions by their place in the sorted "functions" array */
	for (uint32_t i = 0; i < n; i++)
		rank[order[i]] = i;
	lh_jsonw_init(&w, out, pretty);
	lh_jsonw_object(&w);
	lh_jsonw_kstr(&w, "format", "leakhunt.sample/1");
	if (info->pid) {
		lh_jsonw_kint(&w, "pid", info->pid);
	}
	if (info->source) {
		lh_jsonw_kstr(&w, "source", info->source);
	}
	lh_jsonw_kint(&w, "duration_ms", info->duration_ms);
	lh_jsonw_kint(&w, "interval_bytes", info->interval_bytes);
	lh_jsonw_kuint(&w, "total_bytes", p->total);
	lh_jsonw_kuint(&w, "samples", p->nsamples);
	lh_jsonw_key(&w, "functions");
	lh_jsonw_array(&w);
	for (uint32_t i = 0; i < n; i++) {
		const struct lh_heapprofile_func *f = &p->funcs[order[i]];

		lh_jsonw_object(&w);
		lh_jsonw_kstr(&w, "name", f->name);
		lh_jsonw_kstr(&w, "url", f->url);
		lh_jsonw_kint(&w, "line", f->line);
		lh_jsonw_kint(&w, "column", f->column);
		lh_jsonw_kuint(&w, "self_bytes", f->self);
		lh_jsonw_kuint(&w, "total_bytes", f->total);
		lh_jsonw_kuint(&w, "samples", f->samples);
		lh_jsonw_end(&w);
	}
	lh_jsonw_end(&w);
	lh_jsonw_key(&w, "stacks");
	lh_jsonw_array(&w);
	for (uint32_t i = 1; i < p->nnodes; i++) {
		uint32_t k, len;

		if (!p->self[i])
			continue;
		len = stack_of(p, i, &frames, &alloc);
		lh_jsonw_object(&w);
		lh_jsonw_key(&w, "frames");
		lh_jsonw_array(&w);
		for (k = 0; k < len; k++)
			lh_jsonw_uint(&w, rank[frames[k]]);
		lh_jsonw_end(&w);
		lh_jsonw_kuint(&w, "bytes", p->self[i]);
		lh_jsonw_end(&w);
	}
	lh_jsonw_end(&w);
	lh_jsonw_end(&w);
	free(frames);
	free(rank);
	free(order);
	return lh_jsonw_finish(&w);
}
