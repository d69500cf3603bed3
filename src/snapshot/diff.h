/*
 * DevTools' Comparison view: two snapshots of one process, joined class by
 * class on node ids (V8 keeps ids stable between snapshots of a process).
 *
 * For each class key present in either snapshot, the instances' ids (nodes
 * with a non-zero shallow size, as in the Summary) are sorted and
 * merge-joined: ids only in the old snapshot are deleted, only in the new one
 * are new.  Sizes are shallow sizes.  A class with nothing new and nothing
 * deleted has no row, as in DevTools.
 */
#ifndef LH_SNAPSHOT_DIFF_H
#define LH_SNAPSHOT_DIFF_H

#include <stdint.h>

#include "snapshot.h"

struct lh_diff_row {
	const char *name;      /* class name (from the new snapshot when it has the class) */
	const char *key;       /* class key */
	int64_t old_class;     /* class index in the old snapshot, or -1 */
	int64_t new_class;     /* class index in the new snapshot, or -1 */
	uint32_t new_count;    /* instances only in the new snapshot */
	uint32_t deleted_count; /* instances only in the old snapshot */
	uint64_t alloc_size;   /* shallow size of the new instances */
	uint64_t freed_size;   /* shallow size of the deleted instances */
};

static inline int64_t lh_diff_count_delta(const struct lh_diff_row *r)
{
	return (int64_t)r->new_count - (int64_t)r->deleted_count;
}

static inline int64_t lh_diff_size_delta(const struct lh_diff_row *r)
{
	return (int64_t)r->alloc_size - (int64_t)r->freed_size;
}

struct lh_diff {
	const struct lh_snapshot *old_s, *new_s; /* not owned */
	struct lh_diff_row *rows;  /* sorted by size delta, largest growth first */
	uint32_t nr;
	/* per snapshot: instance ordinals grouped by class, each group sorted by id */
	uint32_t *old_first, *old_nodes; /* old_first[c]..old_first[c+1] index old_nodes */
	uint32_t *new_first, *new_nodes;
};

/* Both snapshots must be analyzed (the new one with the old as base). */
void lh_diff_compute(struct lh_diff *d, const struct lh_snapshot *old_s, const struct lh_snapshot *new_s);
/*
 * Call fn for every instance of row r that is new (only in the new snapshot),
 * in id order.
 */
void lh_diff_for_each_new(const struct lh_diff *d, const struct lh_diff_row *r,
			  void (*fn)(uint32_t node, void *data), void *data);
void lh_diff_release(struct lh_diff *d);

/*
 * Instance ordinals of every class, grouped by class and sorted by id within
 * each group: (*first)[c] .. (*first)[c+1] index *nodes.  Only nodes with a
 * non-zero shallow size count, as in the Summary.
 */
void lh_snapshot_group_instances(const struct lh_snapshot *s, uint32_t **first, uint32_t **nodes);

#endif
