/*
 * Dominators and retained sizes, as DevTools computes them
 * (HeapSnapshot.initEssentialEdges, calculateDominatorsAndRetainedSizes).
 *
 * The graph is the snapshot's edges minus the non-essential ones: weak edges,
 * self loops, shortcut edges except those leaving the root, edges from a
 * non-page object into a page object, and the WeakMap table's half of each
 * ephemeron pair (the key's half is kept).  On it runs Lengauer-Tarjan with
 * the "simple" eval/link (path compression, no balancing) over an iterative
 * DFS, with DevTools' two rescue rules for nodes the DFS from the root does
 * not reach:
 *   1. in ordinal order, a node whose retainers are all non-essential gets
 *      the root as DFS parent and a DFS of its own;
 *   2. whatever is still unnumbered (cliques that retain each other) is
 *      numbered one by one with the root as parent.
 * Those nodes are not truly reachable, so Lengauer-Tarjan's invariants do not
 * hold for them; we follow DevTools step by step (same DFS order, same
 * numbering, same "orphan" shortcut, dom[0] = root) so that even there the
 * results are the same.  Retained sizes add self_size (after the shallow-size
 * reassignment, as DevTools' worker receives them) up the tree in reverse DFS
 * order.
 *
 * Arrays are 1-based vertex numbers (ordinal + 1, 0 = none), as in the paper.
 * To save memory, the edge iterator of the DFS doubles as the path-compression
 * stack (needed only after the DFS), and each parent[w] slot becomes w's
 * bucket link once w's turn in the main loop has read it.
 */
#include "analysis.h"
#include "analyze.h"

#include <string.h>

#include "base/alloc.h"

static inline int bit(const uint64_t *bits, uint32_t i)
{
	return (bits[i >> 6] >> (i & 63)) & 1;
}

uint64_t *lh_dominators_essential_edges(const struct lh_snapshot *s, struct lh_ephemerons *eph)
{
	uint32_t n = s->node_count, root = s->root;
	uint64_t *bits = lh_xcalloc(((size_t)s->edge_count + 64) / 64, sizeof(uint64_t));

	for (uint32_t i = 0; i < n; i++) {
		int page = (s->node_flags[i] & LH_NODE_PAGE_OBJECT) != 0;

		for (uint32_t e = s->first_edge[i]; e < s->first_edge[i + 1]; e++) {
			unsigned type = s->edge_type[e];
			uint32_t to = s->edge_to[e];

			if (type == LH_EDGE_INTERNAL) {
				int64_t pair = lh_ephemerons_pair(eph, s, s->edge_name[e]);

				if (pair >= 0 && eph->table_id[pair] == s->node_id[i])
					continue;
			}
			if (type == LH_EDGE_WEAK || to == i)
				continue;
			if (i != root) {
				if (type == LH_EDGE_SHORTCUT)
					continue;
				if ((s->node_flags[to] & LH_NODE_PAGE_OBJECT) && !page)
					continue;
			}
			bits[e >> 6] |= (uint64_t)1 << (e & 63);
		}
	}
	return bits;
}

struct lt {
	const struct lh_snapshot *s;
	uint64_t *ess;
	uint32_t *first_pred;  /* essential retainers of ordinal o: pred[first_pred[o] .. first_pred[o+1]) */
	uint32_t *pred;        /* their source ordinals */
	uint32_t *parent;      /* DFS parent; once w's turn in the main loop has read it, bucket link */
	uint32_t *ancestor, *vertex, *label, *semi, *dom;
	uint32_t *next_edge;   /* DFS: next edge to look at, by ordinal; later: compression stack */
	uint32_t *bucket;      /* head of each vertex's bucket, 0 = empty */
	uint32_t n;            /* vertices numbered so far */
};

/*
 * Predecessors through essential edges only, in CSR form: the main loop
 * needs nothing else, and this takes about half the memory of the full
 * retainer index (which analyze therefore never builds).
 */
static void build_preds(struct lt *t)
{
	const struct lh_snapshot *s = t->s;
	uint32_t n = s->node_count, total = 0;

	t->first_pred = lh_xcalloc((size_t)n + 1, sizeof(uint32_t));
	for (uint32_t e = 0; e < s->edge_count; e++)
		if (bit(t->ess, e))
			t->first_pred[s->edge_to[e]]++;
	for (uint32_t i = 0; i <= n; i++) {
		uint32_t c = i < n ? t->first_pred[i] : 0;

		t->first_pred[i] = total;
		total += c;
	}
	t->pred = lh_xmalloc(lh_st_mult(total ? total : 1, sizeof(uint32_t)));
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t e = s->first_edge[i]; e < s->first_edge[i + 1]; e++)
			if (bit(t->ess, e))
				t->pred[t->first_pred[s->edge_to[e]]++] = i;
	/* each first_pred[o] now holds the end of o's slice: shift back */
	for (uint32_t i = n; i > 0; i--)
		t->first_pred[i] = t->first_pred[i - 1];
	t->first_pred[0] = 0;
}

/* DevTools' iterative DFS: re-scans from next_edge after coming back to a node. */
static void dfs(struct lt *t, uint32_t root)
{
	const struct lh_snapshot *s = t->s;
	uint32_t v = root;

	t->next_edge[root - 1] = s->first_edge[root - 1];
	while (v) {
		uint32_t vnext = t->parent[v], vo = v - 1, end = s->first_edge[vo + 1];

		if (!t->semi[v]) {
			t->semi[v] = ++t->n;
			t->vertex[t->n] = t->label[v] = v;
		}
		for (; t->next_edge[vo] < end; t->next_edge[vo]++) {
			uint32_t e = t->next_edge[vo], w;

			if (!bit(t->ess, e))
				continue;
			w = s->edge_to[e] + 1;
			if (!t->semi[w]) {
				t->parent[w] = v;
				t->next_edge[w - 1] = s->first_edge[w - 1];
				vnext = w;
				break;
			}
		}
		v = vnext;
	}
}

static void compress(struct lt *t, uint32_t v)
{
	uint32_t *stack = t->next_edge, sp = 0, *anc = t->ancestor, *label = t->label;

	while (anc[anc[v]]) {
		stack[++sp] = v;
		v = anc[v];
	}
	while (sp) {
		uint32_t w = stack[sp--];

		if (t->semi[label[anc[w]]] < t->semi[label[w]])
			label[w] = label[anc[w]];
		anc[w] = anc[anc[w]];
	}
}

static inline uint32_t eval(struct lt *t, uint32_t v)
{
	if (!t->ancestor[v])
		return v;
	compress(t, v);
	return t->label[v];
}

uint32_t *lh_dominators_compute(struct lh_snapshot *s, uint64_t *essential)
{
	uint32_t nodes = s->node_count, len = nodes + 1, r = s->root + 1, i, v;
	size_t bytes = lh_st_mult(len, sizeof(uint32_t));
	struct lt t = { .s = s, .ess = essential };

	build_preds(&t);
	t.parent = lh_xcalloc(len, sizeof(uint32_t));
	t.vertex = lh_xcalloc(len, sizeof(uint32_t));
	t.label = lh_xcalloc(len, sizeof(uint32_t));
	t.semi = lh_xcalloc(len, sizeof(uint32_t));
	t.next_edge = lh_xmalloc(bytes);

	dfs(&t, r);
	/* nodes whose retainers are all non-essential: a DFS each, under the root */
	if (t.n < nodes) {
		for (v = 1; v <= nodes; v++) {
			if (!t.semi[v] && t.first_pred[v - 1] == t.first_pred[v]) {
				t.parent[v] = r;
				dfs(&t, v);
			}
		}
	}
	if (t.n < nodes) {
		for (v = 1; v <= nodes; v++) {
			if (!t.semi[v]) {
				t.parent[v] = r;
				t.semi[v] = ++t.n;
				t.vertex[t.n] = t.label[v] = v;
			}
		}
	}
	free(t.ess);

	t.ancestor = lh_xcalloc(len, sizeof(uint32_t));
	t.dom = lh_xcalloc(len, sizeof(uint32_t));
	t.bucket = lh_xcalloc(len, sizeof(uint32_t));
	for (i = t.n; i >= 2; i--) {
		uint32_t w = t.vertex[i], wo = w - 1, p = t.parent[w], x, next;
		uint32_t from = t.first_pred[wo], to = t.first_pred[wo + 1];

		for (uint32_t k = from; k < to; k++) {
			uint32_t u = eval(&t, t.pred[k] + 1);

			if (t.semi[u] < t.semi[w])
				t.semi[w] = t.semi[u];
		}
		/* no essential retainer: treated as retained by the root alone */
		if (from == to)
			t.semi[w] = t.semi[r];
		x = t.vertex[t.semi[w]];
		t.parent[w] = t.bucket[x]; /* parent[w] is read: its slot links the bucket now */
		t.bucket[x] = w;
		t.ancestor[w] = p; /* link */
		/* the order within a bucket does not matter: eval is a path minimum */
		for (x = t.bucket[p]; x; x = next) {
			uint32_t u = eval(&t, x);

			next = t.parent[x];
			t.dom[x] = t.semi[u] < t.semi[x] ? u : p;
		}
		t.bucket[p] = 0;
	}
	free(t.first_pred);
	free(t.pred);
	free(t.ancestor);
	free(t.label);
	free(t.bucket);
	free(t.next_edge);
	free(t.parent);

	/* the root dominates itself; dom[0] = r sends never-processed nodes to the root */
	t.dom[0] = t.dom[r] = r;
	for (i = 2; i <= t.n; i++) {
		uint32_t w = t.vertex[i];

		if (t.dom[w] != t.vertex[t.semi[w]])
			t.dom[w] = t.dom[t.dom[w]];
	}
	free(t.semi);

	for (i = 0; i < nodes; i++)
		t.dom[i] = t.dom[i + 1] - 1;
	free(s->dominator);
	s->dominator = lh_xrealloc(t.dom, lh_st_mult(nodes ? nodes : 1, sizeof(uint32_t)));
	return t.vertex;
}

void lh_dominators_retained(struct lh_snapshot *s, uint32_t *order)
{
	uint32_t nodes = s->node_count;

	free(s->retained_size);
	s->retained_size = lh_xmalloc(lh_st_mult(nodes ? nodes : 1, sizeof(uint64_t)));
	for (uint32_t i = 0; i < nodes; i++)
		s->retained_size[i] = s->self_size[i];
	/* children before their dominators: reverse DFS order */
	for (uint32_t i = nodes; i > 1; i--) {
		uint32_t o = order[i] - 1;

		s->retained_size[s->dominator[o]] += s->retained_size[o];
	}
	free(order);
}
