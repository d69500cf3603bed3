/*
 * Renderers for sampling heap profiles (inspect/heapprofile.h): a table of
 * functions by self size, folded stacks (flamegraph.pl, inferno,
 * speedscope), speedscope's own file format, and --json (documented in
 * docs/sample.md, versioned by "format").  They only format: every number
 * comes from the model.
 */
#ifndef LH_REPORT_SAMPLE_H
#define LH_REPORT_SAMPLE_H

#include <stdio.h>

#include "inspect/heapprofile.h"

/* What the renderers say about the capture; zeros when unknown (a file). */
struct lh_sample_info {
	int pid;
	long duration_ms;
	long interval_bytes;
	const char *source;  /* the file read, or NULL for a live capture */
};

/* The top functions by self size (top 0: all), with a header line. */
void lh_sample_print_table(FILE *out, const struct lh_heapprofile *p,
			   const struct lh_sample_info *info, uint32_t top);

/* One line per stack with live bytes: "root;...;leaf BYTES", root first. */
void lh_sample_write_folded(FILE *out, const struct lh_heapprofile *p);

/* speedscope's file format, one sampled profile weighted in bytes; 0 or -1. */
int lh_sample_write_speedscope(FILE *out, const struct lh_heapprofile *p, const char *name);

/* The model as JSON; 0 or -1 on a write error. */
int lh_sample_write_json(FILE *out, const struct lh_heapprofile *p,
			 const struct lh_sample_info *info, int pretty);

#endif
