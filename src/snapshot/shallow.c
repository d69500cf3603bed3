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
 * Like DevTools, we rewrite the sizes in place: s->self_size is
 * node_self_size (a second array would cost 4 bytes a node at the peak).
 * The few sizes changed keep their V8 value in self_v8, for the census
 * (lh_snapshot_v8_sizes) and for a second analysis, which starts from them.
 * Snapshots taken with "expose internals" (no user roots) are left as they
 * are.
 */
#include "analysis.h"
#include "analyze.h"

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

/* Does storage node i give its size to its owner? */
static int moves(const struct lh_snapshot *s, const uint32_t *owners, uint32_t i)
{
	uint32_t o = owners[i];

	if (o == UNVISITED || o == MULTIPLE_OWNERS || o == i)
		return 0;
	return s->node_type[o] != LH_NODE_SYNTHETIC && o != s->root;
}

static inline int moved(const struct lh_snapshot *s, uint32_t i)
{
	return (s->self_moved[i >> 6] >> (i & 63)) & 1;
}

/* Note which sizes the reassignment changes and keep their V8 values. */
static void save_v8_sizes(struct lh_snapshot *s, const uint32_t *owners)
{
	uint32_t n = s->node_count, count = 0, k = 0;
	size_t words = ((size_t)n + 63) / 64;

	s->self_moved = lh_xcalloc(words, sizeof(uint64_t));
	for (uint32_t i = 0; i < n; i++) {
		if (moves(s, owners, i)) {
			s->self_moved[i >> 6] |= (uint64_t)1 << (i & 63);
			s->self_moved[owners[i] >> 6] |= (uint64_t)1 << (owners[i] & 63);
		}
	}
	for (size_t w = 0; w < words; w++)
		count += (uint32_t)__builtin_popcountll(s->self_moved[w]);
	s->self_v8 = lh_xmalloc(lh_st_mult(count ? count : 1, sizeof(uint32_t)));
	for (uint32_t i = 0; i < n; i++)
		if (moved(s, i))
			s->self_v8[k++] = s->node_self_size[i];
}

/* Undo an earlier analysis's reassignment. */
static void restore_v8_sizes(struct lh_snapshot *s)
{
	uint32_t k = 0;

	if (s->self_size && s->self_size != s->node_self_size)
		FREE_AND_NULL(s->self_size);
	if (!s->self_moved)
		return;
	for (uint32_t i = 0; i < s->node_count; i++)
		if (moved(s, i))
			s->node_self_size[i] = s->self_v8[k++];
	FREE_AND_NULL(s->self_moved);
	FREE_AND_NULL(s->self_v8);
}

uint32_t *lh_snapshot_v8_sizes(const struct lh_snapshot *s)
{
	uint32_t n = s->node_count, k = 0, *v8 = lh_xmalloc(lh_st_mult(n ? n : 1, sizeof(uint32_t)));

	memcpy(v8, s->node_self_size, (size_t)n * sizeof(uint32_t));
	if (s->self_moved)
		for (uint32_t i = 0; i < n; i++)
			if (moved(s, i))
				v8[i] = s->self_v8[k++];
	return v8;
}

uint32_t *lh_shallow_owners(struct lh_snapshot *s)
{
	uint32_t n = s->node_count, *owners;

	if (!n || !lh_analysis_has_user_roots(s) || n >= MULTIPLE_OWNERS)
		return NULL;
	owners = lh_xmalloc((size_t)n * sizeof(uint32_t));
	for (uint32_t i = 0; i < n; i++)
		owners[i] = is_storage(s, i) ? UNVISITED : i;
	return owners;
}

void lh_shallow_compute(struct lh_snapshot *s, uint32_t *owners)
{
	uint32_t n = s->node_count, *work = NULL, i;
	size_t nwork = 0, awork = 0;

	restore_v8_sizes(s);
	s->self_size = s->node_self_size;
	if (!owners)
		return;

	ALLOC_GROW(work, n, awork);
	for (i = 0; i < n; i++)
		if (owners[i] == i)
			work[nwork++] = i;
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
	save_v8_sizes(s, owners);
	for (i = 0; i < n; i++) {
		uint32_t o = owners[i];

		if (!moves(s, owners, i))
			continue;
		/* uint32 arithmetic wraps as DevTools' Uint32Array does */
		s->self_size[o] += s->self_size[i];
		s->self_size[i] = 0;
	}
	free(owners);
}
