/*
 * A V8 sampling heap profile (HeapProfiler.stopSampling's "profile", the
 * .heapprofile file Chrome DevTools saves) as flat arrays: the call tree's
 * nodes in pre-order (a parent always before its children), and the
 * functions they name, each function once per (name, url, line, column).
 *
 * Sizes are V8's estimates from its samples: each sample stands for
 * samplingInterval bytes on average, and only objects still alive when the
 * profile was taken are in it (unless the profile was asked to keep
 * collected ones).  A function's self size is what was allocated in it;
 * its total adds what its callees allocated, counted once per stack even
 * when the function recurses.  Frames V8 inlined are not in the stacks:
 * their allocations are charged to the function they were inlined into.
 */
#ifndef LH_INSPECT_HEAPPROFILE_H
#define LH_INSPECT_HEAPPROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/hashmap.h"

#define LH_HEAPPROFILE_NO_PARENT UINT32_MAX

struct lh_heapprofile_func {
	char *name;        /* "(anonymous)" when V8 gives none */
	char *url;         /* "" when none (native code, the root) */
	int line, column;  /* 1-based; 0 when unknown */
	uint64_t self;     /* bytes allocated in the function itself */
	uint64_t total;    /* self plus everything its callees allocated */
	uint32_t samples;  /* samples taken in the function itself */
};

struct lh_heapprofile {
	/* nodes, pre-order; node 0 is V8's "(root)" */
	uint32_t *parent;  /* LH_HEAPPROFILE_NO_PARENT for the root */
	uint32_t *func;    /* index into funcs */
	uint64_t *self;    /* bytes sampled at exactly this stack */
	uint32_t nnodes, nodes_alloc, parent_alloc, self_alloc;

	struct lh_heapprofile_func *funcs;
	uint32_t nfuncs, funcs_alloc;
	struct lh_hashmap func_ids; /* "name\0url\0line\0column" -> index */

	uint64_t total;    /* bytes over all nodes */
	uint32_t nsamples; /* entries in "samples" */
};

/*
 * Load a profile from JSON text: either the profile object ({"head":...,
 * "samples":[...]}) or a message result around it ({"profile":{...}}).
 * 0, or -1 with a message naming what is wrong (what names the input in
 * it, e.g. "'x.heapprofile'").  Release *p in both cases.
 */
int lh_heapprofile_load(struct lh_heapprofile *p, const char *json, size_t len, const char *what);
void lh_heapprofile_release(struct lh_heapprofile *p);

/*
 * The function indices ordered by self size, then total, then name
 * (allocated; the caller frees it).  "(root)" is left out: *n gets the count.
 */
uint32_t *lh_heapprofile_by_self(const struct lh_heapprofile *p, uint32_t *n);

#endif
