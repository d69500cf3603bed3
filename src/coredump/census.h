/*
 * The findjsobjects census of a core dump (mdb_v8's ::findjsobjects): every
 * JavaScript object found in the core's heap pages, grouped by constructor
 * name and property names, as the heap snapshot census groups them
 * (snapshot/census.h), so both print through one renderer.
 *
 * Objects are found by their header, not through roots: every aligned word
 * of a writable anonymous segment that points at a map is a candidate; it
 * is an object when that map's own map is the meta map, its instance type
 * is a JS object type (functions excluded, as in the snapshot census), and
 * its properties and elements slots hold what V8 puts there (a Smi hash or
 * a FixedArray-like object).  An accepted object's body is skipped, so the
 * map pointers inside it (a function's initial map, a map's back pointer)
 * are never taken for headers.  A core also holds dead objects not yet swept;
 * a quiet process has few.
 */
#ifndef LH_COREDUMP_CENSUS_H
#define LH_COREDUMP_CENSUS_H

#include <stdint.h>

#include "base/hashmap.h"
#include "v8meta.h"

struct lh_core_census_group {
	const char *ctor;          /* in the census's string pool */
	const char **props;        /* nprops names, in the pool */
	uint32_t nprops;
	uint32_t count;
	uint64_t shallow_size;     /* summed instance sizes */
	uint64_t representative;   /* tagged address of the first one found */
	uint32_t key;              /* the signature's id, as lh_core_census_visit passes it */
};

struct lh_core_census {
	struct lh_core_census_group *groups; /* biggest count first */
	uint32_t nr, alloc;
	uint64_t objects;
	uint64_t scanned_bytes;              /* heap bytes read */
	struct lh_hashmap sigs;              /* signature bytes -> group */
	const char **prop_ptrs;              /* backing store of groups' props */
	size_t nprop_ptrs, alloc_prop_ptrs;
};

/* Scan m's core; 0, or -1 after lh_error(). */
int lh_core_census_compute(struct lh_core_census *c, const struct lh_v8meta *m);

/*
 * The same scan, calling fn for every object found with its tagged address,
 * its instance size and its signature's id (the key of its group once the
 * census is done; lh_core_census_key_ctor names it during the scan).
 */
typedef void lh_core_census_fn(const struct lh_core_census *c, uint64_t obj, uint32_t key, uint32_t size,
			       void *data);
int lh_core_census_visit(struct lh_core_census *c, const struct lh_v8meta *m, lh_core_census_fn *fn, void *data);

/* The constructor name of signature key (valid while c lives). */
const char *lh_core_census_key_ctor(const struct lh_core_census *c, uint32_t key);
void lh_core_census_release(struct lh_core_census *c);

#endif
