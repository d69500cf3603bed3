/*
 * The Comparison of two snapshots; see diff.h.  Instances are grouped by
 * class with a counting sort, each group sorted by id, and the groups of the
 * two snapshots merge-joined by class key (the keys are sorted once, so the
 * join is O(classes log classes) plus linear in the instances).
 */
#include "diff.h"

#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "base/alloc.h"

static const uint32_t *sort_ids; /* qsort has no context argument */

static int cmp_by_id(const void *a, const void *b)
{
	uint32_t x = sort_ids[*(const uint32_t *)a], y = sort_ids[*(const uint32_t *)b];

	return x < y ? -1 : x > y;
}

void lh_snapshot_group_instances(const struct lh_snapshot *s, uint32_t **firstp, uint32_t **nodesp)
{
	uint32_t nc = s->class_count, i, total = 0;
	uint32_t *first = lh_xcalloc((size_t)nc + 2, sizeof(uint32_t));
	uint32_t *fill, *nodes;

	for (i = 0; i < s->node_count; i++)
		if (s->self_size[i] && s->node_class[i] < nc)
			first[s->node_class[i] + 1]++;
	for (i = 0; i < nc; i++)
		first[i + 1] += first[i];
	total = first[nc];
	nodes = lh_xmalloc(lh_st_mult((size_t)total + 1, sizeof(uint32_t)));
	fill = lh_xmalloc(lh_st_mult((size_t)nc + 1, sizeof(uint32_t)));
	memcpy(fill, first, (size_t)nc * sizeof(uint32_t));
	for (i = 0; i < s->node_count; i++)
		if (s->self_size[i] && s->node_class[i] < nc)
			nodes[fill[s->node_class[i]]++] = i;
	free(fill);
	sort_ids = s->node_id;
	for (i = 0; i < nc; i++) {
		uint32_t n = first[i + 1] - first[i];
		uint32_t *g = nodes + first[i];
		int sorted = 1;

		/* node order is nearly id order in V8 snapshots: check before sorting */
		for (uint32_t k = 1; k < n && sorted; k++)
			sorted = s->node_id[g[k - 1]] <= s->node_id[g[k]];
		if (!sorted)
			qsort(g, n, sizeof(*g), cmp_by_id);
	}
	*firstp = first;
	*nodesp = nodes;
}

static const struct lh_snapshot *sort_snap;

static int cmp_class_key(const void *a, const void *b)
{
	return strcmp(sort_snap->classes[*(const uint32_t *)a].key, sort_snap->classes[*(const uint32_t *)b].key);
}

static uint32_t *classes_by_key(const struct lh_snapshot *s)
{
	uint32_t *order = lh_xmalloc(lh_st_mult((size_t)s->class_count + 1, sizeof(uint32_t)));

	for (uint32_t i = 0; i < s->class_count; i++)
		order[i] = i;
	sort_snap = s;
	qsort(order, s->class_count, sizeof(*order), cmp_class_key);
	return order;
}

/* Merge-join the id-sorted instances of one class in both snapshots. */
static void join_class(struct lh_diff *d, struct lh_diff_row *r)
{
	const struct lh_snapshot *a = d->old_s, *b = d->new_s;
	uint32_t i = 0, j = 0, ni = 0, nj = 0;
	const uint32_t *ga = NULL, *gb = NULL;

	if (r->old_class >= 0) {
		ga = d->old_nodes + d->old_first[r->old_class];
		ni = d->old_first[r->old_class + 1] - d->old_first[r->old_class];
	}
	if (r->new_class >= 0) {
		gb = d->new_nodes + d->new_first[r->new_class];
		nj = d->new_first[r->new_class + 1] - d->new_first[r->new_class];
	}
	while (i < ni || j < nj) {
		uint32_t ida = i < ni ? a->node_id[ga[i]] : UINT32_MAX;
		uint32_t idb = j < nj ? b->node_id[gb[j]] : UINT32_MAX;

		if (j >= nj || (i < ni && ida < idb)) {
			r->deleted_count++;
			r->freed_size += a->self_size[ga[i++]];
		} else if (i >= ni || idb < ida) {
			r->new_count++;
			r->alloc_size += b->self_size[gb[j++]];
		} else {
			i++;
			j++;
		}
	}
}

static int cmp_row(const void *x, const void *y)
{
	const struct lh_diff_row *a = x, *b = y;
	int64_t da = lh_diff_size_delta(a), db = lh_diff_size_delta(b);

	if (da != db)
		return da > db ? -1 : 1;
	return strcmp(a->key, b->key);
}

void lh_diff_compute(struct lh_diff *d, const struct lh_snapshot *old_s, const struct lh_snapshot *new_s)
{
	uint32_t *oa, *ob, i = 0, j = 0;
	size_t alloc = 0;

	memset(d, 0, sizeof(*d));
	d->old_s = old_s;
	d->new_s = new_s;
	lh_snapshot_group_instances(old_s, &d->old_first, &d->old_nodes);
	lh_snapshot_group_instances(new_s, &d->new_first, &d->new_nodes);
	oa = classes_by_key(old_s);
	ob = classes_by_key(new_s);
	while (i < old_s->class_count || j < new_s->class_count) {
		struct lh_diff_row r = { .old_class = -1, .new_class = -1 };
		int c;

		if (i >= old_s->class_count)
			c = 1;
		else if (j >= new_s->class_count)
			c = -1;
		else
			c = strcmp(old_s->classes[oa[i]].key, new_s->classes[ob[j]].key);
		if (c <= 0)
			r.old_class = oa[i++];
		if (c >= 0)
			r.new_class = ob[j++];
		if (r.new_class >= 0) {
			r.name = new_s->classes[r.new_class].name;
			r.key = new_s->classes[r.new_class].key;
		} else {
			r.name = old_s->classes[r.old_class].name;
			r.key = old_s->classes[r.old_class].key;
		}
		join_class(d, &r);
		if (!r.new_count && !r.deleted_count)
			continue;
		ALLOC_GROW(d->rows, d->nr + 1, alloc);
		d->rows[d->nr++] = r;
	}
	free(oa);
	free(ob);
	if (d->nr)
		qsort(d->rows, d->nr, sizeof(*d->rows), cmp_row);
}

void lh_diff_for_each_new(const struct lh_diff *d, const struct lh_diff_row *r,
			  void (*fn)(uint32_t node, void *data), void *data)
{
	const struct lh_snapshot *a = d->old_s, *b = d->new_s;
	uint32_t i = 0, j = 0, ni = 0, nj = 0;
	const uint32_t *ga = NULL, *gb;

	if (r->new_class < 0)
		return;
	if (r->old_class >= 0) {
		ga = d->old_nodes + d->old_first[r->old_class];
		ni = d->old_first[r->old_class + 1] - d->old_first[r->old_class];
	}
	gb = d->new_nodes + d->new_first[r->new_class];
	nj = d->new_first[r->new_class + 1] - d->new_first[r->new_class];
	for (j = 0; j < nj; j++) {
		uint32_t id = b->node_id[gb[j]];

		while (i < ni && a->node_id[ga[i]] < id)
			i++;
		if (i < ni && a->node_id[ga[i]] == id)
			continue;
		fn(gb[j], data);
	}
}

void lh_diff_release(struct lh_diff *d)
{
	free(d->rows);
	free(d->old_first);
	free(d->old_nodes);
	free(d->new_first);
	free(d->new_nodes);
	memset(d, 0, sizeof(*d));
}
