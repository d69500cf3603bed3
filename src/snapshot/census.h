/*
 * The findjsobjects census (mdb_v8 / llnode `::findjsobjects`): JavaScript
 * objects grouped by constructor name and property-name signature, the
 * names of their own named properties in the order V8 lists them.  Objects of
 * one "shape" land in one group, so a leak of a million `{id, items, when}`
 * objects is one big row however the class is named.
 *
 * Only nodes of type object count (plain objects, class instances, arrays,
 * Maps...); strings, closures, code and V8 internals do not, as in the core
 * dump census that reuses the same output (issue 5).
 */
#ifndef LH_SNAPSHOT_CENSUS_H
#define LH_SNAPSHOT_CENSUS_H

#include <stdint.h>

#include "snapshot.h"

struct lh_census_group {
	uint32_t ctor;            /* string index of the constructor name */
	uint32_t *props;          /* string indexes of the property names */
	uint32_t nprops;
	uint32_t count;           /* objects in the group */
	uint64_t shallow_size;    /* their summed shallow size */
	uint32_t representative;  /* node ordinal of the first object found */
};

struct lh_census {
	struct lh_census_group *groups; /* biggest count first */
	uint32_t nr;
	uint32_t objects;               /* objects counted over all groups */
	uint32_t *prop_pool;            /* backing store of every group's props */
};

void lh_census_compute(struct lh_census *c, const struct lh_snapshot *s);
void lh_census_release(struct lh_census *c);

#endif
