/*
 * DevTools' distances (HeapSnapshot.calculateDistances with JSHeapSnapshot's
 * filter): breadth-first over non-weak edges, first from the user roots (the
 * root's non-synthetic children and "(Document DOM trees)", at distance 1),
 * then from the root itself at LH_BASE_SYSTEM_DISTANCE for whatever is left;
 * nodes neither search reaches keep LH_NO_DISTANCE.
 *
 * The filter skips NativeContext's "sloppy_function_map", the descriptor
 * slots of "(map descriptors)" arrays (index >= 2 and index % 3 == 1), and the
 * first edge of each WeakMap ephemeron pair met, so that a WeakMap value gets
 * the distance through the second one.  The filter has that side effect and
 * runs only for edges into unvisited nodes, exactly as in DevTools, so the
 * pairing state is shared by both searches.
 */
#include "analysis.h"
#include "analyze.h"

#include <math.h>
#include <string.h>

#include "base/alloc.h"

struct bfs {
	struct lh_snapshot *s;
	struct lh_ephemerons *eph;
	uint8_t *pending;     /* per ephemeron pair: first edge seen, second not yet */
	uint32_t pending_size;
	int32_t *dist;
	uint32_t *queue;
};

static int js_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * parseInt(name, 10) for the "(map descriptors)" rule; returns 0 for NaN
 * (no digits), which the rule lets through.
 */
static int parse_index(const char *p, double *out)
{
	double v = 0, sign = 1;
	int digits = 0;

	while (js_space((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (; *p >= '0' && *p <= '9'; p++, digits++)
		v = v * 10 + (*p - '0');
	*out = sign * v;
	return digits > 0;
}

static int edge_allowed(struct bfs *b, uint32_t node, uint32_t e)
{
	struct lh_snapshot *s = b->s;
	unsigned ntype = s->node_type[node], etype = s->edge_type[e];

	if (ntype == LH_NODE_HIDDEN && !lh_edge_is_indexed(etype) &&
	    lh_analysis_is(s, s->edge_name[e], LH_STR_SLOPPY_FUNCTION_MAP) &&
	    lh_analysis_is(s, s->node_name[node], LH_STR_NATIVE_CONTEXT))
		return 0;
	if (ntype == LH_NODE_ARRAY && lh_analysis_is(s, s->node_name[node], LH_STR_MAP_DESCRIPTORS)) {
		double index;

		if (lh_edge_is_indexed(etype))
			index = s->edge_name[e];
		else if (!parse_index(lh_snapshot_str(s, s->edge_name[e]), &index))
			return 1;
		return index < 2 || fmod(index, 3) != 1;
	}
	if (etype == LH_EDGE_INTERNAL) {
		int64_t pair = lh_ephemerons_pair(b->eph, s, s->edge_name[e]);

		if (pair >= 0) {
			if (pair >= b->pending_size) {
				uint32_t size = b->eph->pair_alloc;

				b->pending = lh_xrealloc(b->pending, size);
				memset(b->pending + b->pending_size, 0, size - b->pending_size);
				b->pending_size = size;
			}
			if (!b->pending[pair]) {
				b->pending[pair] = 1;
				return 0;
			}
			b->pending[pair] = 0;
		}
	}
	return 1;
}

static void bfs(struct bfs *b, uint32_t len)
{
	struct lh_snapshot *s = b->s;
	int32_t *dist = b->dist;

	for (uint32_t k = 0; k < len; k++) {
		uint32_t v = b->queue[k];
		int32_t d = dist[v] + 1;

		for (uint32_t e = s->first_edge[v]; e < s->first_edge[v + 1]; e++) {
			uint32_t to = s->edge_to[e];

			if (s->edge_type[e] == LH_EDGE_WEAK || dist[to] != LH_NO_DISTANCE)
				continue;
			if (!edge_allowed(b, v, e))
				continue;
			dist[to] = d;
			b->queue[len++] = to;
		}
	}
}

void lh_distance_compute(struct lh_snapshot *s, struct lh_ephemerons *eph)
{
	uint32_t n = s->node_count, root = s->root, len = 0;
	uint32_t root_edges = s->first_edge[root + 1] - s->first_edge[root];
	struct bfs b = { .s = s, .eph = eph };

	free(s->distance);
	s->distance = b.dist = lh_xmalloc(lh_st_mult(n, sizeof(int32_t)));
	for (uint32_t i = 0; i < n; i++)
		b.dist[i] = LH_NO_DISTANCE;
	/* a user root listed twice is queued twice, as in DevTools */
	b.queue = lh_xmalloc(lh_st_mult(lh_st_add(n, root_edges), sizeof(uint32_t)));
	for (uint32_t e = s->first_edge[root]; e < s->first_edge[root + 1]; e++) {
		uint32_t to = s->edge_to[e];

		if (s->node_type[to] != LH_NODE_SYNTHETIC ||
		    lh_analysis_is(s, s->node_name[to], LH_STR_DOM_TREES)) {
			b.dist[to] = 1;
			b.queue[len++] = to;
		}
	}
	bfs(&b, len);
	b.dist[root] = len > 0 ? LH_BASE_SYSTEM_DISTANCE : 0;
	b.queue[0] = root;
	bfs(&b, 1);
	free(b.queue);
	free(b.pending);
}
