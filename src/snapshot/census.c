/*
 * The census; see census.h.  A signature is the sequence of string indexes
 * (constructor, then property names): V8 writes each distinct string once,
 * so equal names have equal indexes and signatures can be hashed as bytes
 * without touching the strings themselves.
 */
#include "census.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hashmap.h"
#include "analyze.h"

/* Edges V8 lists as properties that are not the object's own data. */
static int skip_property(const struct lh_snapshot *s, uint32_t edge)
{
	const char *name = lh_snapshot_str(s, s->edge_name[edge]);

	return !strcmp(name, "__proto__") || !strcmp(name, "map");
}

static int cmp_group(const void *a, const void *b)
{
	const struct lh_census_group *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->shallow_size != y->shallow_size)
		return x->shallow_size > y->shallow_size ? -1 : 1;
	return x->representative < y->representative ? -1 : x->representative > y->representative;
}

void lh_census_compute(struct lh_census *c, const struct lh_snapshot *s)
{
	struct lh_hashmap map;
	uint32_t *sig = NULL, i, *v8 = lh_snapshot_v8_sizes(s); /* V8's sizes, not DevTools' reassigned ones */
	size_t sig_alloc = 0, galloc = 0, pool_len = 0;

	memset(c, 0, sizeof(*c));
	lh_hashmap_init(&map);
	for (i = 0; i < s->node_count; i++) {
		struct lh_hashmap_entry *e;
		uint32_t n = 0;
		int added;

		if (s->node_type[i] != LH_NODE_OBJECT)
			continue;
		ALLOC_GROW(sig, 1, sig_alloc);
		sig[n++] = s->node_name[i];
		for (uint32_t k = s->first_edge[i]; k < s->first_edge[i + 1]; k++) {
			if (s->edge_type[k] != LH_EDGE_PROPERTY || skip_property(s, k))
				continue;
			ALLOC_GROW(sig, n + 1, sig_alloc);
			sig[n++] = s->edge_name[k];
		}
		e = lh_hashmap_put(&map, sig, n * sizeof(*sig), &added);
		if (added) {
			ALLOC_GROW(c->groups, c->nr + 1, galloc);
			e->value = c->nr;
			c->groups[c->nr++] = (struct lh_census_group){
				.ctor = sig[0], .nprops = n - 1, .representative = i,
			};
			pool_len += n - 1;
		}
		c->groups[e->value].count++;
		c->groups[e->value].shallow_size += v8[i];
		c->objects++;
	}
	/* copy each signature's property names out of the map's key pool */
	c->prop_pool = lh_xmalloc(lh_st_mult(pool_len + 1, sizeof(uint32_t)));
	pool_len = 0;
	for (i = 0; i < c->nr; i++) {
		const uint32_t *key = (const uint32_t *)(const void *)lh_hashmap_key(&map, &map.entries[i]);

		c->groups[i].props = c->prop_pool + pool_len;
		memcpy(c->groups[i].props, key + 1, c->groups[i].nprops * sizeof(uint32_t));
		pool_len += c->groups[i].nprops;
	}
	if (c->nr)
		qsort(c->groups, c->nr, sizeof(*c->groups), cmp_group);
	lh_hashmap_release(&map);
	free(sig);
	free(v8);
}

void lh_census_release(struct lh_census *c)
{
	free(c->groups);
	free(c->prop_pool);
	memset(c, 0, sizeof(*c));
}
