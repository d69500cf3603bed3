/*
 * Views over the per-stack costs of an allocation model (analyze.h): the
 * stacks that pass --filter, sites (the innermost function of a stack),
 * bottom-up and top-down trees, callers and callees of one function, and the
 * per-site diff of two models.  Nothing here reads the trace again: every
 * view is a sum over at most one entry per stack in each of its rows.
 *
 * Stacks are cut at main (libc's start code above it is the same for every
 * allocation), the way heaptrack stops its backtraces, and start below C++'s
 * operator new, as heaptrack's do: its caller is the site.
 */
#ifndef LH_NATIVE_CALLGRAPH_H
#define LH_NATIVE_CALLGRAPH_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "native/analyze.h"

enum lh_cost {
	LH_COST_CALLS,     /* allocation calls */
	LH_COST_BYTES,     /* bytes requested in total */
	LH_COST_TEMPORARY, /* temporary allocations */
	LH_COST_PEAK,      /* live bytes at the peak */
	LH_COST_LEAKED,    /* live bytes at the end, suppressions applied */
	LH_COST_AT,        /* live bytes at the --at moment */
	LH_COST_NR
};

struct lh_costs {
	uint64_t calls, bytes, temporary, peak, peak_blocks, leaked, leaked_blocks, at, at_blocks;
	uint64_t samples; /* allocations recorded (calls, unless the trace is sampled) */
};

/* Parse "calls"/"allocations", "bytes", "temporary", "peak", "leaked", "at"; 0 or -1. */
int lh_cost_parse(const char *s, enum lh_cost *out);
const char *lh_cost_name(enum lh_cost k);
uint64_t lh_costs_get(const struct lh_costs *c, enum lh_cost k);
void lh_costs_add(struct lh_costs *to, const struct lh_costs *c);

#define LH_FUNC_NONE UINT32_MAX /* no caller (a root) or no callee (allocates itself) */

struct lh_cg_stack {
	uint64_t node;      /* leaf node id in the model */
	uint32_t off, n;    /* functions in lh_callgraph.funcs, innermost first */
	struct lh_costs c;
};

struct lh_site {
	uint32_t func;      /* function id, or LH_FUNC_NONE */
	struct lh_costs c;
};

struct lh_tree_node {
	uint32_t func;
	uint32_t parent, child, sibling; /* indices; 0 = none (node 0 is the root) */
	struct lh_costs c;  /* inclusive */
};

struct lh_tree {
	struct lh_tree_node *node;
	size_t nr, alloc;
};

struct lh_callgraph {
	const struct lh_alloc_model *m;
	struct lh_cg_stack *stacks;
	size_t nstacks, stacks_alloc;
	uint32_t *funcs;
	size_t nfuncs, funcs_alloc;
};

/*
 * Collect the stacks of m that allocated, keeping only those with a function
 * matching filter (a POSIX extended regex; NULL keeps all).  0, or -1 after
 * lh_error() for a bad regex.
 */
int lh_callgraph_build(struct lh_callgraph *g, const struct lh_alloc_model *m, const char *filter);
void lh_callgraph_release(struct lh_callgraph *g);

/* Sites by innermost function, biggest `sort` cost first; returns the count. */
size_t lh_callgraph_sites(const struct lh_callgraph *g, enum lh_cost sort, struct lh_site **out);

/* The leaking stacks (indices into g->stacks), biggest leak first, then by
 * node id: the order of --leaks, the JSON "leaks" and the HTML page; *out
 * is the caller's to free (NULL with none); returns the count. */
size_t lh_callgraph_leaks(const struct lh_callgraph *g, size_t **out);

/* The tree of stacks: bottom_up starts at the allocating functions, else at
 * the roots; max_depth levels below the root at most (the rest is never
 * shown: a bottom-up tree of 16,384 stacks 1000 frames deep took 2.4 GB). */
void lh_callgraph_tree(const struct lh_callgraph *g, int bottom_up, uint32_t max_depth, struct lh_tree *t);
/* Children of node i sorted by cost k, biggest first, into *out; returns the count. */
size_t lh_tree_children(const struct lh_tree *t, uint32_t i, enum lh_cost k, uint32_t **out, size_t *alloc);
void lh_tree_release(struct lh_tree *t);

/* Callers and callees of function name (exact): totals, self cost, sorted lists. */
struct lh_func_view {
	int found;
	struct lh_costs total, self;
	struct lh_site *callers, *callees;
	size_t ncallers, ncallees;
};
void lh_callgraph_function(const struct lh_callgraph *g, const char *name, enum lh_cost sort,
			   struct lh_func_view *v);
/* The same for function id f (v->found is 0 for an id out of range). */
void lh_callgraph_function_id(const struct lh_callgraph *g, uint32_t f, enum lh_cost sort, struct lh_func_view *v);

/* One function's totals: as lh_func_view's total and self, without the lists. */
struct lh_func_costs {
	uint32_t func;
	struct lh_costs total, self;
};
/*
 * Every function on an allocating stack of g with its totals, biggest
 * inclusive `sort` cost first, in one pass over the stacks (a
 * lh_callgraph_function per function is one pass each); *out is the
 * caller's to free; returns the count.
 */
size_t lh_callgraph_functions(const struct lh_callgraph *g, enum lh_cost sort, struct lh_func_costs **out);
void lh_func_view_release(struct lh_func_view *v);

/* One row of a diff: a site by name in the old and the new model. */
struct lh_site_diff {
	const char *name;   /* owned by one of the models */
	struct lh_costs old, new_;
};
/* Sites of both graphs matched by function name, biggest |change| of `sort` first. */
size_t lh_callgraph_diff(const struct lh_callgraph *a, const struct lh_callgraph *b, enum lh_cost sort,
			 struct lh_site_diff **out);

#endif
