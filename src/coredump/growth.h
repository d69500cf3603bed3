/*
 * Growth between two cores of one process: the census of each, summed per
 * constructor name, old against new.  Cores have no object ids (a heap
 * snapshot's diff joins on them), so this counts, it does not match: a
 * constructor whose objects were all replaced by as many new ones shows no
 * growth.  That is the question a leak hunt asks (what keeps growing), and
 * mdb_v8 users answer it the same way, with two ::findjsobjects.
 */
#ifndef LH_COREDUMP_GROWTH_H
#define LH_COREDUMP_GROWTH_H

#include <stdint.h>

#include "base/hashmap.h"
#include "census.h"

struct lh_core_growth_row {
	const char *name;       /* constructor, in the growth's pool */
	uint64_t old_count, new_count;
	uint64_t old_size, new_size; /* summed instance sizes */
};

static inline int64_t lh_core_growth_count_delta(const struct lh_core_growth_row *r)
{
	return (int64_t)r->new_count - (int64_t)r->old_count;
}

static inline int64_t lh_core_growth_size_delta(const struct lh_core_growth_row *r)
{
	return (int64_t)r->new_size - (int64_t)r->old_size;
}

struct lh_core_growth {
	struct lh_core_growth_row *rows; /* size delta, then count delta, largest first; unchanged rows left out */
	uint32_t nr, alloc;
	uint32_t constructors;           /* in either core, changed or not */
	struct lh_hashmap names;
};

void lh_core_growth_compute(struct lh_core_growth *g, const struct lh_core_census *old_c,
			    const struct lh_core_census *new_c);
void lh_core_growth_release(struct lh_core_growth *g);

#endif
