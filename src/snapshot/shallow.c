/*
 * DevTools' shallow-size reassignment (JSHeapSnapshot.calculateShallowSizes):
 * the self size of internal storage -- nodes of type hidden or array, and
 * native "system / ExternalStringData" -- is moved into the one object that
 * owns it, so that the Summary shows an object's backing store as part of the
 * object.  Owned means: reached through non-weak edges from exactly one
 * non-internal node (an "owner"), possibly through other internal nodes.
 * Storage with several owners, and storage owned by a synthetic node or the
 * root, keeps its own size.
 *
 * The result goes into s->self_size (the loaded node_self_size stays as V8
 * wrote it); retained sizes, Summary rows and statistics all read self_size,
 * as DevTools does after it rewrote its node array in place.  Snapshots taken
 * with "expose internals" (no user roots) are left as they are.
 */
#include "analysis.h"

#include <string.h>

#include "base/alloc.h"

#define UNVISITED 0xffffffffu
#define MULTIPLE_OWNERS 0xfffffffeu

static int is_storage(const struct lh_snapshot *s, uint32_t i)
{
	unsigned t = s->node_type[i];

	if (t == LH_NODE_HIDDEN || t == LH_NODE_ARRAY)
		return 1;
	return t == LH_NODE_NATIVE && !lh_analysis_renamed(s, i) &&
	       lh_analysis_is(s, s->node_name[i], LH_STR_EXTERNAL_STRING_DATA);
}

void lh_shallow_compute(struct lh_snapshot *s)
{
	uint32_t n = s->node_count, *owners, *work = NULL, i;
	size_t nwork = 0, awork = 0;

	free(s->self_size);
	s->self_size = lh_xmalloc(lh_st_mult(n ? n : 1, sizeof(uint32_t)));
	memcpy(s->self_size, s->node_self_size, (size_t)n * sizeof(uint32_t));
	if (!n || !lh_analysis_has_user_roots(s) || n >= MULTIPLE_OWNERS)
		return;

	owners = lh_xmalloc((size_t)n * sizeof(uint32_t));
	ALLOC_GROW(work, n, awork);
	for (i = 0; i < n; i++) {
		if (is_storage(s, i)) {
			owners[i] = UNVISITED;
		} else {
			owners[i] = i;
			work[nwork++] = i;
		}
	}
	/*
	 * A node enters the worklist at most twice (unvisited -> one owner ->
	 * several owners), so this ends; the visiting order does not change
	 * the result.
	 */
	while (nwork) {
		uint32_t id = work[--nwork], owner = owners[id];

		for (uint32_t e = s->first_edge[id]; e < s->first_edge[id + 1]; e++) {
			uint32_t t = s->edge_to[e], o;

			if (s->edge_type[e] == LH_EDGE_WEAK)
				continue;
			o = owners[t];
			if (o == UNVISITED) {
				owners[t] = owner;
			} else if (o == t || o == owner || o == MULTIPLE_OWNERS) {
				continue;
			} else {
				owners[t] = MULTIPLE_OWNERS;
			}
			ALLOC_GROW(work, nwork + 1, awork);
			work[nwork++] = t;
		}
	}
	free(work);
	for (i = 0; i < n; i++) {
		uint32_t o = owners[i];

		if (o == UNVISITED || o == MULTIPLE_OWNERS || o == i)
			continue;
		if (s->node_type[o] == LH_NODE_SYNTHETIC || o == s->root)
			continue;
		/* uint32 arithmetic wraps as DevTools' Uint32Array does */
		s->self_size[o] += s->self_size[i];
		s->self_size[i] = 0;
	}
	free(owners);
}
