/*
 * The snapshot model's lifetime and its derived indexes (retainers,
 * locations).  See snapshot.h; the loader is load.c, the analyses analyze.c.
 */
#include "snapshot.h"

#include <stdlib.h>

#include "analyze.h"
#include "base/alloc.h"

void lh_snapshot_free(struct lh_snapshot *s)
{
	if (!s)
		return;
	free(s->path);
	free(s->node_type);
	free(s->node_name);
	free(s->node_id);
	free(s->node_self_size);
	free(s->node_detachedness);
	free(s->first_edge);
	free(s->edge_type);
	free(s->edge_name);
	free(s->edge_to);
	free(s->string_pool);
	free(s->string_off);
	free(s->locations);
	for (int i = 0; i < LH_MAX_TYPES; i++) {
		free(s->node_type_names[i]);
		free(s->edge_type_names[i]);
	}
	free(s->first_retainer);
	free(s->retainer_edge);
	free(s->retainer_node);
	if (s->self_size != s->node_self_size)
		free(s->self_size);
	free(s->self_moved);
	free(s->self_v8);
	free(s->dominator);
	free(s->retained_size);
	free(s->distance);
	free(s->node_flags);
	free(s->node_class);
	lh_snapshot_free_classes(s);
	free(s);
}

const struct lh_location *lh_snapshot_location(const struct lh_snapshot *s, uint32_t node)
{
	uint32_t lo = 0, hi = s->location_count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->locations[mid].node < node)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->location_count && s->locations[lo].node == node ? &s->locations[lo] : NULL;
}

/*
 * Retainers in CSR form: count the edges into each node, prefix-sum the
 * counts into first_retainer, then place each edge.  Walking sources in order
 * keeps each node's retainers in edge order, as DevTools lists them.
 */
void lh_snapshot_build_retainers(struct lh_snapshot *s)
{
	uint32_t n = s->node_count, m = s->edge_count, i, e;
	uint32_t *fill;

	if (s->first_retainer)
		return;
	s->first_retainer = lh_xcalloc((size_t)n + 1, sizeof(uint32_t));
	s->retainer_edge = lh_xmalloc(lh_st_mult(m ? m : 1, sizeof(uint32_t)));
	s->retainer_node = lh_xmalloc(lh_st_mult(m ? m : 1, sizeof(uint32_t)));
	for (e = 0; e < m; e++)
		s->first_retainer[s->edge_to[e] + 1]++;
	for (i = 0; i < n; i++)
		s->first_retainer[i + 1] += s->first_retainer[i];
	fill = lh_xmalloc(lh_st_mult(n ? n : 1, sizeof(uint32_t)));
	for (i = 0; i < n; i++)
		fill[i] = s->first_retainer[i];
	for (i = 0; i < n; i++) {
		for (e = s->first_edge[i]; e < s->first_edge[i + 1]; e++) {
			uint32_t k = fill[s->edge_to[e]]++;

			s->retainer_edge[k] = e;
			s->retainer_node[k] = i;
		}
	}
	free(fill);
}
