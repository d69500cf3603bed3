/*
 * Retainer paths: why is this object alive?  (DevTools' Retainers panel,
 * memlab's leak traces.)
 *
 * A path runs from the snapshot's root to the object through retainer edges.
 * Only edges that keep objects alive are followed (weak edges are not), and
 * every step toward the root must lower the DevTools distance, so the walk
 * cannot loop and the first path found is a shortest one.  The search is
 * depth-first with an explicit stack, trying the retainers closest to the
 * root first, and stops after max_paths paths or max_visits steps.
 */
#ifndef LH_SNAPSHOT_PATHS_H
#define LH_SNAPSHOT_PATHS_H

#include <stdint.h>

#include "snapshot.h"

struct lh_path_hop {
	uint32_t from; /* node ordinal holding the edge */
	uint32_t edge; /* edge ordinal; its target is the next hop's from (or the object) */
};

struct lh_paths {
	uint32_t target;          /* the object */
	struct lh_path_hop *hops; /* all paths' hops, root side first */
	uint32_t *first;          /* path p's hops are first[p] .. first[p+1]-1 */
	uint32_t nr;              /* paths found */
	int truncated;            /* the search stopped at max_visits */
};

/* Find up to max_paths paths to target (needs lh_snapshot_analyze); sorted shortest first. */
void lh_paths_find(struct lh_snapshot *s, uint32_t target, uint32_t max_paths, uint32_t max_visits,
		   struct lh_paths *out);
void lh_paths_release(struct lh_paths *p);

/* The node with this id, or UINT32_MAX.  Linear: the node array is not sorted by id. */
uint32_t lh_snapshot_node_by_id(const struct lh_snapshot *s, uint32_t id);

#endif
