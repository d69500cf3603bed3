/*
 * Private to the analysis passes (analyze.c, ephemeron.c, shallow.c,
 * dominators.c, distance.c, classes.c): the state they share while
 * lh_snapshot_analyze() runs, and what must outlive it (class names, the
 * inferred interface definitions a later diff applies to another snapshot).
 *
 * Each pass is a port of one method of DevTools' HeapSnapshot.ts
 * (heap-snapshot-toolkit 1.1.3); the comment above each pass names it.  The
 * passes run in DevTools' order, because later ones read what earlier ones
 * changed (the DOM state renames nodes, the shallow sizes feed the retained
 * sizes, the flags feed the essential-edge rule).
 */
#ifndef LH_SNAPSHOT_ANALYSIS_H
#define LH_SNAPSHOT_ANALYSIS_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "analyze.h"
#include "snapshot.h"

/*
 * WeakMap ephemeron edge names, "<n> / part of key (K @1) -> value (V @2) pair
 * in WeakMap (table @3)", parsed once per string index.
 */
struct lh_ephemerons {
	uint32_t *state;       /* per string: 0 unparsed, 1 not a WeakMap edge name, 2 + pair */
	uint64_t *table_id;    /* per pair: the "table @N" id */
	uint32_t *pair_str;    /* per pair: a string holding it */
	uint32_t *pair_off;    /* per pair: where the shared part starts in that string */
	uint32_t pair_count, pair_alloc;
	uint32_t *hash;        /* open addressing over pairs, 0 = empty, else pair + 1 */
	uint32_t hash_size;    /* power of two */
};

/* Returns the pair number of string str if it is a WeakMap edge name, else -1. */
int64_t lh_ephemerons_pair(struct lh_ephemerons *e, const struct lh_snapshot *s, uint32_t str);
void lh_ephemerons_release(struct lh_ephemerons *e);

/* One inferred interface: "{a, b, c}" and the raw property names it was made from. */
struct lh_interface {
	char *name;
	char **props;          /* in edge order, as inferred */
	uint32_t prop_count;
};

/* Strings the passes compare names with, looked up once (V8's strings are unique). */
enum lh_known_string {
	LH_STR_OBJECT,               /* "Object" */
	LH_STR_ARRAY,                /* "Array" */
	LH_STR_ELEMENTS,             /* "elements" */
	LH_STR_PROTO,                /* "__proto__" */
	LH_STR_SLOPPY_FUNCTION_MAP,  /* "sloppy_function_map" */
	LH_STR_NATIVE_CONTEXT,       /* "system / NativeContext" */
	LH_STR_MAP_DESCRIPTORS,      /* "(map descriptors)" */
	LH_STR_EXTERNAL_STRING_DATA, /* "system / ExternalStringData" */
	LH_STR_ARRAY_BUFFER_DATA,    /* "system / JSArrayBufferData" */
	LH_STR_DOM_TREES,            /* "(Document DOM trees)" */
	LH_STR__COUNT
};

/* What lh_snapshot_analyze() keeps in s->analysis. */
struct lh_analysis {
	struct lh_interface *interfaces; /* this snapshot's own inferred definitions */
	uint32_t interface_count;
	uint32_t known[LH_STR__COUNT];   /* string index, UINT32_MAX if absent */
	int have_known;                  /* known[] filled */
};

extern const char *const lh_known_strings[LH_STR__COUNT];

/* Is string str the known string k?  Works before known[] is filled, by text. */
static inline int lh_analysis_is(const struct lh_snapshot *s, uint32_t str, enum lh_known_string k)
{
	if (s->analysis && s->analysis->have_known)
		return str == s->analysis->known[k];
	return !strcmp(lh_snapshot_str(s, str), lh_known_strings[k]);
}

/* Does node i carry DevTools' "Detached " prefix (propagateDOMState renamed it)? */
static inline int lh_analysis_renamed(const struct lh_snapshot *s, uint32_t i)
{
	if (s->node_flags)
		return (s->node_flags[i] & LH_NODE_RENAMED) != 0;
	return s->node_type[i] == LH_NODE_NATIVE && s->node_detachedness &&
	       s->node_detachedness[i] == 2;
}

/* Does any root edge lead to a user root (DevTools' #hasUserRoots)? */
int lh_analysis_has_user_roots(const struct lh_snapshot *s);

/* Parse every string, so that lh_ephemerons_pair() only reads eph from then on (threads may share it). */
void lh_ephemerons_parse_all(struct lh_ephemerons *e, const struct lh_snapshot *s);

/* The passes, in the order lh_snapshot_analyze() runs them. */
/*
 * The shallow-size reassignment in two steps: owners reads the node flags
 * (the DOM state's renames), compute does not, so it can run while the flags
 * are completed.  owners is NULL when nothing moves; compute frees it.
 */
uint32_t *lh_shallow_owners(struct lh_snapshot *s);
void lh_shallow_compute(struct lh_snapshot *s, uint32_t *owners);
/*
 * Bitmap of the edges the dominator tree uses; eph must hold every string
 * (lh_ephemerons_parse_all).  With threads, each half of the edges on one.
 */
uint64_t *lh_dominators_essential_edges(const struct lh_snapshot *s, struct lh_ephemerons *eph, int threads);
/*
 * Which nodes have an essential retainer (for DevTools' first rescue rule).
 * The tree's depth-first search needs them only once the root's own subtree
 * is done, so another thread can fill them meanwhile: init, start the tree
 * with r, fill here; release after the tree.  With r NULL the tree fills
 * its own.
 */
struct lh_retainer_bits {
	uint64_t *bits;        /* bit per node */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;              /* bits filled */
};
void lh_retainer_bits_init(struct lh_retainer_bits *r, const struct lh_snapshot *s);
void lh_retainer_bits_fill(struct lh_retainer_bits *r, const struct lh_snapshot *s, const uint64_t *essential);
const uint64_t *lh_retainer_bits_wait(struct lh_retainer_bits *r);
void lh_retainer_bits_release(struct lh_retainer_bits *r);
/*
 * The dominator tree into s->dominator; frees essential.  Reads neither
 * ephemeron state nor self sizes, so it can run beside the other passes.
 * Returns an order of the ordinals in which every node comes after its
 * dominator (order[1..node_count], order[1] the root) for
 * lh_dominators_retained(), which adds up self_size and frees it.
 */
uint32_t *lh_dominators_compute(struct lh_snapshot *s, uint64_t *essential, struct lh_retainer_bits *r);
/* Steps up the tree per edge and node that the iteration may take before a
 * deep tree goes to Semi-NCA (16; tests set 0 to exercise Semi-NCA). */
extern uint64_t lh_dominators_budget;
void lh_dominators_retained(struct lh_snapshot *s, uint32_t *order);
/* Distances; eph must already hold every internal edge name (read only here). */
void lh_distance_compute(struct lh_snapshot *s, struct lh_ephemerons *eph);
/*
 * Summary rows in two steps: prepare (class names, interfaces, counts,
 * shallow sizes, distances; needs distance) can run while the dominators
 * are computed; finish (maxRet, keys, rows, node_class) needs them.
 */
struct lh_classes_job;
int lh_classes_prepare(struct lh_snapshot *s, const struct lh_snapshot *base, struct lh_classes_job **job);
int lh_classes_finish(struct lh_snapshot *s, struct lh_classes_job *job);

#endif
