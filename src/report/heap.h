/*
 * Renderers for the heap snapshot views: each takes a computed model and
 * prints it as a terminal table or as JSON (the format documented in
 * docs/<command>.md, versioned by its "format" field).  Nothing here
 * computes: the models come from src/snapshot/.
 */
#ifndef LH_REPORT_HEAP_H
#define LH_REPORT_HEAP_H

#include <stdint.h>
#include <stdio.h>

#include "base/strbuf.h"
#include "snapshot/census.h"
#include "snapshot/diff.h"
#include "snapshot/paths.h"
#include "snapshot/snapshot.h"

/* "Order @1234" (a string's text, quoted and cut, for string nodes). */
void lh_report_node_label(struct strbuf *sb, const struct lh_snapshot *s, uint32_t node);
/* DevTools' edge notation: ".name", "[3]", "->name", "(internal) name", "context name". */
void lh_report_edge_label(struct strbuf *sb, const struct lh_snapshot *s, uint32_t edge);
/* The edge's type name ("property", "element", ...). */
const char *lh_report_edge_type(const struct lh_snapshot *s, uint32_t edge);

/* Distance as DevTools shows it: a number, or "-" for system-only and unreachable nodes. */
void lh_report_distance(struct strbuf *sb, int32_t d);

struct lh_render_opts {
	int json;          /* JSON instead of a table */
	size_t width;      /* terminal columns, 0: no limit */
};

/* Summary rows: classes[rows[i]] for i < nrows, of total_rows after filtering. */
void lh_report_summary(FILE *out, const struct lh_render_opts *o, const struct lh_snapshot *s,
		       const uint32_t *rows, uint32_t nrows, uint32_t total_rows);
/* Instances of one class: nodes[i] for i < n, of total instances. */
void lh_report_instances(FILE *out, const struct lh_render_opts *o, const struct lh_snapshot *s,
			 const char *format, const char *title, const uint32_t *nodes, uint32_t n, uint32_t total);
/* Comparison rows: d->rows[rows[i]]. */
void lh_report_diff(FILE *out, const struct lh_render_opts *o, const struct lh_diff *d,
		    const uint32_t *rows, uint32_t nrows, uint32_t total_rows);
void lh_report_paths(FILE *out, const struct lh_render_opts *o, const struct lh_snapshot *s,
		     const struct lh_paths *p);
void lh_report_census(FILE *out, const struct lh_render_opts *o, const struct lh_snapshot *s,
		      const struct lh_census *c, uint32_t top);

/*
 * The census table and JSON whatever the source (heap snapshot or core
 * dump), from names as strings: one row per group, biggest first.
 */
struct lh_census_row {
	const char *ctor;
	const char *const *props;   /* nprops names */
	uint32_t nprops;
	uint32_t count;
	uint64_t shallow_size;
	const char *representative; /* "@123" (snapshot node) or "0x3f2a1b2c3d41" (tagged address) */
	int64_t representative_id;  /* the snapshot node id, or -1 (no "representative_id" key) */
};

struct lh_census_view {
	const char *file;
	const char *source;         /* "heapsnapshot" or "core" */
	uint64_t objects;           /* over all groups */
	uint32_t ngroups;           /* all groups; rows holds the first nrows */
	const struct lh_census_row *rows;
	uint32_t nrows;
};

void lh_report_census_view(FILE *out, const struct lh_render_opts *o, const struct lh_census_view *v);
/* Who references node: its retainers (edges[i], from nodes[i]). */
void lh_report_refs(FILE *out, const struct lh_render_opts *o, const struct lh_snapshot *s, uint32_t node);
void lh_report_stats(FILE *out, const struct lh_render_opts *o, const struct lh_snapshot *s);

#endif
