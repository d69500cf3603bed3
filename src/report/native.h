/*
 * Renderers for the native allocation views of `leakhunt report`: terminal
 * text (native.c), exports (native_export.c: JSON, folded stacks,
 * speedscope) and the self-contained HTML report (native_html.c).  Nothing here computes beyond formatting: the numbers come
 * from src/native/analyze.c and callgraph.c.
 */
#ifndef LH_REPORT_NATIVE_H
#define LH_REPORT_NATIVE_H

#include <stddef.h>
#include <stdio.h>

#include "base/jsonw.h"
#include "native/analyze.h"
#include "native/callgraph.h"

struct lh_native_opts {
	enum lh_cost sort;   /* the cost views are ordered by */
	size_t top;          /* rows of a list, roots of a tree */
	size_t children;     /* children shown per tree node */
	size_t depth;        /* tree levels shown */
	size_t width;        /* table width limit, 0: none */
	const char *path;    /* the trace, for headers */
	const char *filter;  /* --filter, for the HTML report's header; NULL: none */
};

/* The name of a function id (LH_FUNC_NONE has the given placeholder). */
const char *lh_native_func(const struct lh_alloc_model *m, uint32_t f, const char *none);

/*
 * The summary, one call of fn per line: label ("peak RSS") and value
 * ("4096000 B (4.10 MB) (sampled every 10 ms; ...)").  A value that starts
 * with '\n' continues on lines of its own, indented by two spaces.  The text
 * report prints "label: value"; the HTML report makes a table row of each.
 */
void lh_native_summary(const struct lh_alloc_model *m, void (*fn)(void *ctx, const char *label, const char *value),
		       void *ctx);
void lh_native_print_summary(FILE *out, const struct lh_alloc_model *m);
/* Top sites by o->sort (a heaptrack_print section, as one table). */
void lh_native_print_sites(FILE *out, const struct lh_callgraph *g, const struct lh_native_opts *o);
/* Every leaking stack of g (after --filter and suppressions), innermost frame
 * first (the format test/cli/record.sh reads). */
void lh_native_print_leaks(FILE *out, const struct lh_callgraph *g);
void lh_native_print_tree(FILE *out, const struct lh_callgraph *g, int bottom_up, const struct lh_native_opts *o);
void lh_native_print_function(FILE *out, const struct lh_callgraph *g, const char *name,
			      const struct lh_native_opts *o);
void lh_native_print_histogram(FILE *out, const struct lh_alloc_model *m);
void lh_native_print_timeline(FILE *out, const struct lh_alloc_model *m, const struct lh_native_opts *o);
/* The live heap at the --at moment (or at the peak, peak != 0), by site. */
void lh_native_print_at(FILE *out, const struct lh_callgraph *g, int peak, const struct lh_native_opts *o);
void lh_native_print_diff(FILE *out, const struct lh_callgraph *a, const struct lh_callgraph *b,
			  const struct lh_native_opts *o);

/* flamegraph.pl / inferno input: "root;...;leaf value" lines for cost k. */
void lh_native_write_folded(FILE *out, const struct lh_callgraph *g, enum lh_cost k);
/* speedscope's file format: one sampled profile per cost type; 0 or -1. */
int lh_native_write_speedscope(FILE *out, const struct lh_callgraph *g, const char *name);
/* The documented --json model (docs/report.md); 0 or -1. */
int lh_native_write_json(FILE *out, const struct lh_callgraph *g, const struct lh_native_opts *o, int at, int pretty);
/* Pieces of --json that the HTML report embeds too: "summary" and "timeline". */
void lh_native_summary_json(struct lh_jsonw *w, const struct lh_alloc_model *m);
void lh_native_timeline_json(struct lh_jsonw *w, const struct lh_alloc_model *m);
/*
 * The self-contained HTML report (docs/report.md, "--html"): summary,
 * timeline chart, the top o->top sites by each cost, the functions with
 * their callers and callees, the o->top biggest leaks, the size histogram,
 * a flame graph and a search; 0 or -1.  A write error is left in out's error
 * flag, for lh_close_new to say with the file's name.
 */
int lh_native_write_html(FILE *out, const struct lh_callgraph *g, const struct lh_native_opts *o);
int lh_native_write_diff_json(FILE *out, const struct lh_callgraph *a, const struct lh_callgraph *b,
			      const struct lh_native_opts *o, int pretty);

#endif
