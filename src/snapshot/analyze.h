/*
 * What the DevTools Memory tab computes from a loaded snapshot, exactly as
 * Chrome DevTools' heap_snapshot_worker does (HeapSnapshot.ts): shallow-size
 * reassignment, the essential-edge rule, dominators (DevTools' tree, by
 * another algorithm: dominators.c),
 * retained sizes, distances, class names (with inferred "{a, b, c}" interface
 * names for plain objects), class keys and the per-class Summary rows.
 *
 * The results are stored in struct lh_snapshot's analysis fields; every array
 * is indexed by node ordinal.  docs/devtools-differences.md lists where we
 * deliberately differ from DevTools (and where we copy its quirks).
 */
#ifndef LH_SNAPSHOT_ANALYZE_H
#define LH_SNAPSHOT_ANALYZE_H

#include <stdint.h>

#include "snapshot.h"

/* DevTools' distance for nodes reached only through the root's synthetic children. */
#define LH_BASE_SYSTEM_DISTANCE 100000000
/* DevTools' distance for nodes the BFS never reaches. */
#define LH_NO_DISTANCE (-5)

enum lh_node_flags {
	LH_NODE_CAN_BE_QUERIED = 1 << 0, /* reachable from user roots (DevTools' canBeQueried) */
	LH_NODE_PAGE_OBJECT = 1 << 1,    /* reachable from the root's shortcut targets (DevTools' pageObject) */
	LH_NODE_DETACHED_DOM = 1 << 2,   /* DevTools' detached DOM flag */
	LH_NODE_RENAMED = 1 << 3,        /* native and detached: shown as "Detached <name>" (lh_analysis_renamed) */
};

/* One Summary row. */
struct lh_class {
	char *name;              /* as DevTools shows it: "Order", "(string)", "{a, b, c}" */
	char *key;               /* DevTools' class key: "scriptId,line,col,Name" or ",Name" */
	uint32_t count;          /* instances (nodes of this class with self_size > 0) */
	uint64_t shallow_size;   /* sum of self_size over the instances */
	uint64_t retained_size;  /* DevTools' maxRet: instances not dominated by another instance of the class */
	int32_t distance;        /* minimum distance over the instances */
	uint32_t first_node;     /* some instance, for "paths CLASS" when nothing better is known */
};

enum lh_analyze_flags {
	LH_ANALYZE_PROGRESS = 1 << 0, /* progress on stderr when it is a terminal */
	LH_ANALYZE_NO_THREADS = 1 << 1, /* everything on the calling thread */
};

/* node_class[] of a node in no Summary row (self size 0, or its key was taken). */
#define LH_NO_CLASS UINT32_MAX

/*
 * Run every analysis on s.  When base is not NULL (a diff), the inferred
 * interface names of base (analyzed before) are applied to s instead of s's
 * own, so that the same objects get the same class names in both.  DevTools'
 * Comparison applies the target's definitions to the base snapshot: analyze
 * the target with NULL, then the base with the target as this argument.
 * Returns 0, or -1 after lh_error().
 */
/*
 * The shallow sizes as V8 wrote them (the analysis reassigns node_self_size
 * in place, as DevTools does): a new array the caller frees.
 */
uint32_t *lh_snapshot_v8_sizes(const struct lh_snapshot *s);

int lh_snapshot_analyze(struct lh_snapshot *s, const struct lh_snapshot *base, unsigned flags);

/* Class index by key, or -1. */
int64_t lh_snapshot_find_class(const struct lh_snapshot *s, const char *key);

/* Free classes[] (called by lh_snapshot_free). */
void lh_snapshot_free_classes(struct lh_snapshot *s);

/* DevTools' Statistics panel. */
struct lh_statistics {
	uint64_t total;       /* root retained size + extra_native_bytes */
	uint64_t code;        /* code */
	uint64_t strings;     /* string, concatenated string, sliced string */
	uint64_t js_arrays;   /* Array objects and their singly-retained elements */
	uint64_t typed_arrays; /* native "system / JSArrayBufferData" */
	uint64_t system;      /* hidden */
	uint64_t other;       /* total minus the rest */
};

void lh_snapshot_statistics(const struct lh_snapshot *s, struct lh_statistics *st);

#endif
