/*
 * Growth between two core censuses; see growth.h.  Constructor names are
 * keys of one hashmap whose entry numbers index the rows; names are taken
 * from the map's pool only once every name is in (the pool moves as it
 * grows).
 */
#include "growth.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

static struct lh_core_growth_row *row_for(struct lh_core_growth *g, const char *name)
{
	int added;
	struct lh_hashmap_entry *e = lh_hashmap_put(&g->names, name, strlen(name) + 1, &added); /* the NUL too: names are read from the pool */

	if (added) {
		ALLOC_GROW(g->rows, g->nr + 1, g->alloc);
		memset(&g->rows[g->nr], 0, sizeof(g->rows[g->nr]));
		e->value = g->nr++;
	}
	return &g->rows[e->value];
}

static int cmp_row(const void *a, const void *b)
{
	const struct lh_core_growth_row *x = a, *y = b;
	int64_t sx = lh_core_growth_size_delta(x), sy = lh_core_growth_size_delta(y);
	int64_t cx = lh_core_growth_count_delta(x), cy = lh_core_growth_count_delta(y);

	if (sx != sy)
		return sx > sy ? -1 : 1;
	if (cx != cy)
		return cx > cy ? -1 : 1;
	return strcmp(x->name, y->name);
}

void lh_core_growth_compute(struct lh_core_growth *g, const struct lh_core_census *old_c,
			    const struct lh_core_census *new_c)
{
	uint32_t keep = 0;

	memset(g, 0, sizeof(*g));
	lh_hashmap_init(&g->names);
	for (uint32_t i = 0; i < old_c->nr; i++) {
		struct lh_core_growth_row *r = row_for(g, old_c->groups[i].ctor);

		r->old_count += old_c->groups[i].count;
		r->old_size += old_c->groups[i].shallow_size;
	}
	for (uint32_t i = 0; i < new_c->nr; i++) {
		struct lh_core_growth_row *r = row_for(g, new_c->groups[i].ctor);

		r->new_count += new_c->groups[i].count;
		r->new_size += new_c->groups[i].shallow_size;
	}
	g->constructors = g->nr;
	for (uint32_t i = 0; i < g->nr; i++) {
		struct lh_core_growth_row r = g->rows[i];

		if (!lh_core_growth_count_delta(&r) && !lh_core_growth_size_delta(&r))
			continue;
		r.name = lh_hashmap_key(&g->names, &g->names.entries[i]);
		g->rows[keep++] = r;
	}
	g->nr = keep;
	if (g->nr)
		qsort(g->rows, g->nr, sizeof(*g->rows), cmp_row);
}

void lh_core_growth_release(struct lh_core_growth *g)
{
	free(g->rows);
	lh_hashmap_release(&g->names);
	memset(g, 0, sizeof(*g));
}
