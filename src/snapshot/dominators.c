/*
 * Dominators and retained sizes, as DevTools computes them
 * (HeapSnapshot.initEssentialEdges, calculateDominatorsAndRetainedSizes).
 *
 * The graph is the snapshot's edges minus the non-essential ones: weak edges,
 * self loops, shortcut edges except those leaving the root, edges from a
 * non-page object into a page object, and the WeakMap table's half of each
 * ephemeron pair (the key's half is kept).  DevTools runs Lengauer-Tarjan on
 * it with two rescue rules for nodes the DFS from the root does not reach:
 *   1. a node without essential retainers gets the root as DFS parent and a
 *      DFS of its own;
 *   2. whatever is still unnumbered (cliques that retain each other) is
 *      numbered one by one with the root as parent.
 * Rule 1 is a DFS of the graph plus an edge from the root to each such node,
 * so there DevTools' answer is that graph's dominator tree, which is unique.
 * Under rule 2 its main loop never reaches a bucket those nodes are in (their
 * retainers are rule-2 nodes too, whose parent is the root), so each ends
 * with dom[0], the root; and they never lower another node's semidominator.
 *
 * Being free to pick the algorithm, we use the one that needs no predecessor
 * lists (they cost 4 bytes per edge plus 4 per node, ~200 MB on a 1 GB
 * snapshot): Cooper, Harvey and Kennedy's iteration over reverse postorder,
 * pushed along successors (see lh_dominators_compute).  It takes three arrays
 * of node count entries.  Its walks up the tree are as long as the tree is
 * deep, for each edge: a long linked list (each link's edge to the shared
 * hidden class walks up the whole list above it) took 52 s at 150,000 links.
 * So it works within a budget of steps, and a graph that exceeds it is done
 * again by Semi-NCA (Lengauer and Tarjan's semidominators, then each
 * dominator on its DFS parent's chain), whose work does not grow with the
 * depth, with predecessor lists.  Retained sizes add self_size (after the
 * shallow-size reassignment, as DevTools' worker receives them) up the tree
 * in postorder.
 */
#include "analysis.h"
#include "analyze.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/error.h"

/* This thread's CPU seconds, for the -vv messages. */
static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int bit(const uint64_t *bits, uint32_t i)
{
	return (bits[i >> 6] >> (i & 63)) & 1;
}

struct essential_job {
	const struct lh_snapshot *s;
	struct lh_ephemerons *eph; /* fully parsed: only read */
	uint64_t *bits;
	uint32_t lo, hi;           /* edges [lo, hi); a multiple of 64 where two jobs meet */
};

static void *essential_range(void *arg)
{
	struct essential_job *j = arg;
	const struct lh_snapshot *s = j->s;
	uint32_t root = s->root, lo = 0, hi = s->node_count, i;

	/* the node whose edges include edge j->lo: the last i with first_edge[i] <= lo */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->first_edge[mid] <= j->lo)
			lo = mid;
		else
			hi = mid;
	}
	i = lo;
	for (uint32_t e = j->lo; e < j->hi; e++) {
		unsigned type = s->edge_type[e];
		uint32_t to = s->edge_to[e];

		while (e >= s->first_edge[i + 1])
			i++;
		if (type == LH_EDGE_INTERNAL) {
			int64_t pair = lh_ephemerons_pair(j->eph, s, s->edge_name[e]);

			if (pair >= 0 && j->eph->table_id[pair] == s->node_id[i])
				continue;
		}
		if (type == LH_EDGE_WEAK || to == i)
			continue;
		if (i != root) {
			if (type == LH_EDGE_SHORTCUT)
				continue;
			if ((s->node_flags[to] & LH_NODE_PAGE_OBJECT) && !(s->node_flags[i] & LH_NODE_PAGE_OBJECT))
				continue;
		}
		j->bits[e >> 6] |= (uint64_t)1 << (e & 63);
	}
	return NULL;
}

uint64_t *lh_dominators_essential_edges(const struct lh_snapshot *s, struct lh_ephemerons *eph, int threads)
{
	uint64_t *bits = lh_xcalloc(((size_t)s->edge_count + 64) / 64, sizeof(uint64_t));
	uint32_t half = s->edge_count / 2 / 64 * 64;
	struct essential_job front = { s, eph, bits, 0, half }, back = { s, eph, bits, half, s->edge_count };
	pthread_t th;

	if (threads && half && !pthread_create(&th, NULL, essential_range, &front)) {
		essential_range(&back);
		pthread_join(th, NULL);
	} else {
		front.hi = s->edge_count;
		essential_range(&front);
	}
	return bits;
}

/* A node on the DFS stack and the next of its edges to look at. */
struct frame {
	uint32_t node;         /* ordinal */
	uint32_t edge;         /* next edge; for the root, past its own edges: next ordinal to adopt */
};

/*
 * One DFS from the root over the essential edges, numbering nodes into num[]
 * (0 = not reached) in postorder, or in preorder (then the root is 1), and
 * noting each one's DFS parent by its own number: in postorder the parent's
 * ordinal (vertex[] gets each number's ordinal), in preorder the parent's
 * number (vertex is not used).  When the root's own edges are done it
 * adopts, in ordinal order, every node without an essential retainer
 * (DevTools' first rescue rule: the root becomes its parent), so in
 * postorder the adopted subtrees finish before the root and the root's
 * number is the highest.  Returns how many nodes were reached.
 */
static uint32_t dfs(const struct lh_snapshot *s, const uint64_t *ess, struct lh_retainer_bits *r, int preorder,
		    uint32_t *num, uint32_t *vertex, uint32_t *parent)
{
	uint32_t n = s->node_count, root = s->root, count = 0, adopt = 0;
	const uint64_t *has_pred = NULL;
	struct frame *stack = NULL;
	size_t sp = 0, alloc = 0;
	int root_done = 0;     /* the root's own edges are all looked at */

	ALLOC_GROW(stack, 1, alloc);
	stack[sp++] = (struct frame){ root, s->first_edge[root] };
	if (preorder) {
		num[root] = ++count;
		parent[count] = count;
	} else {
		num[root] = UINT32_MAX; /* on the stack */
	}
	while (sp) {
		struct frame *f = &stack[sp - 1];
		uint32_t v = f->node, next = UINT32_MAX;

		if (sp > 1 || !root_done) {
			uint32_t end = s->first_edge[v + 1];

			for (uint32_t e = f->edge; e < end; e++) {
				uint32_t w = s->edge_to[e];

				if (bit(ess, e) && !num[w]) {
					f->edge = e + 1;
					next = w;
					break;
				}
			}
			if (next == UINT32_MAX && sp == 1)
				root_done = 1;
		}
		if (next == UINT32_MAX && sp == 1) {
			if (!has_pred)
				has_pred = lh_retainer_bits_wait(r);
			for (; adopt < n; adopt++) {
				if (!num[adopt] && !bit(has_pred, adopt)) {
					next = adopt++;
					break;
				}
			}
		}
		if (next != UINT32_MAX) {
			if (preorder) {
				num[next] = ++count;
				parent[count] = num[v];
			} else {
				num[next] = UINT32_MAX;
			}
			ALLOC_GROW(stack, sp + 1, alloc);
			stack[sp++] = (struct frame){ next, s->first_edge[next] };
			continue;
		}
		if (!preorder) {
			num[v] = ++count;
			vertex[count] = v;
			parent[count] = sp > 1 ? stack[sp - 2].node : root;
		}
		sp--;
	}
	free(stack);
	return count;
}

/*
 * Nearest common ancestor of a and b in the tree idom[] (numbers in reverse
 * postorder, so every ancestor has a smaller number than its descendants);
 * *steps counts the steps up.
 */
static inline uint32_t nca(const uint32_t *idom, uint32_t a, uint32_t b, uint64_t *steps)
{
	uint64_t k = 0;

	while (a != b) {
		while (a > b)
			a = idom[a], k++;
		while (b > a)
			b = idom[b], k++;
	}
	*steps += k;
	return a;
}

/*
 * The essential edges between reached nodes, turned around and indexed by
 * the target's preorder number: the sources of w's edges are
 * from[first[w] .. first[w + 1]), as preorder numbers.
 */
static void predecessors(const struct lh_snapshot *s, const uint64_t *ess, const uint32_t *pre, uint32_t count,
			 uint32_t **firstp, uint32_t **fromp)
{
	uint32_t *first = lh_xcalloc((size_t)count + 2, sizeof(uint32_t)), *from;

	for (uint32_t v = 0; v < s->node_count; v++) {
		if (!pre[v])
			continue;
		for (uint32_t e = s->first_edge[v]; e < s->first_edge[v + 1]; e++)
			if (bit(ess, e) && pre[s->edge_to[e]])
				first[pre[s->edge_to[e]] + 1]++;
	}
	for (uint32_t w = 1; w <= count; w++)
		first[w + 1] += first[w];
	from = lh_xmalloc(lh_st_mult((size_t)first[count + 1] + 1, sizeof(uint32_t)));
	for (uint32_t v = 0; v < s->node_count; v++) {
		if (!pre[v])
			continue;
		for (uint32_t e = s->first_edge[v]; e < s->first_edge[v + 1]; e++)
			if (bit(ess, e) && pre[s->edge_to[e]])
				from[first[pre[s->edge_to[e]]]++] = pre[v];
	}
	/* the fill moved each start to the next one's: shift back */
	for (uint32_t w = count + 1; w > 1; w--)
		first[w] = first[w - 1];
	first[1] = 0;
	*firstp = first;
	*fromp = from;
}

/*
 * Lengauer and Tarjan's EVAL with path compression, without recursion: the
 * vertex of least semidominator on v's path in the forest of the vertices
 * handled so far (v itself when v is not in it yet).
 */
static uint32_t eval(uint32_t v, uint32_t *ancestor, uint32_t *label, const uint32_t *semi, uint32_t **stackp,
		     size_t *allocp)
{
	size_t sp = 0;
	uint32_t u = v;

	if (!ancestor[v])
		return v;
	while (ancestor[ancestor[u]]) {
		ALLOC_GROW(*stackp, sp + 1, *allocp);
		(*stackp)[sp++] = u;
		u = ancestor[u];
	}
	while (sp) {
		uint32_t x = (*stackp)[--sp], a = ancestor[x];

		if (semi[label[a]] < semi[label[x]])
			label[x] = label[a];
		ancestor[x] = ancestor[a];
	}
	return label[v];
}

/*
 * Semi-NCA (Georgiadis' variant of Lengauer and Tarjan, as LLVM uses):
 * semidominators by the simple EVAL/LINK in reverse preorder, then each
 * immediate dominator as the nearest ancestor of the DFS parent whose number
 * is at most the semidominator.  An adopted node has no predecessors; its
 * DFS parent, the root, stands for the rescue rule's edge.  Each vertex's
 * work is bounded by its predecessors and the path compression, not by the
 * depth of the tree.  Fills pre[] (preorder numbers, 0: not reached) and
 * returns idom[] by preorder number; *countp: the nodes reached.
 */
static uint32_t *semi_nca(const struct lh_snapshot *s, const uint64_t *ess, struct lh_retainer_bits *r,
			  uint32_t *pre, uint32_t *countp)
{
	uint32_t count, i, *idom, *first, *from, *semi, *label, *ancestor, *stack = NULL;
	size_t alloc = 0;

	idom = lh_xmalloc(lh_st_mult((size_t)s->node_count + 2, sizeof(uint32_t)));
	count = dfs(s, ess, r, 1, pre, NULL, idom); /* idom[] holds the DFS parents first */
	predecessors(s, ess, pre, count, &first, &from);
	semi = lh_xmalloc(lh_st_mult((size_t)count + 1, sizeof(uint32_t)));
	label = lh_xmalloc(lh_st_mult((size_t)count + 1, sizeof(uint32_t)));
	ancestor = lh_xcalloc((size_t)count + 1, sizeof(uint32_t));
	for (i = 1; i <= count; i++)
		semi[i] = label[i] = i;
	for (uint32_t w = count; w > 1; w--) {
		uint32_t sw = idom[w]; /* the DFS parent: a predecessor, or the root for an adopted node */

		for (uint32_t k = first[w]; k < first[w + 1]; k++) {
			uint32_t u = eval(from[k], ancestor, label, semi, &stack, &alloc);

			if (semi[u] < sw)
				sw = semi[u];
		}
		semi[w] = sw;
		ancestor[w] = idom[w];
	}
	free(stack);
	free(ancestor);
	free(label);
	free(first);
	free(from);
	for (uint32_t w = 2; w <= count; w++) {
		uint32_t x = idom[w];

		while (x > semi[w])
			x = idom[x];
		idom[w] = x;
	}
	free(semi);
	*countp = count;
	return idom;
}

void lh_retainer_bits_init(struct lh_retainer_bits *r, const struct lh_snapshot *s)
{
	r->bits = lh_xcalloc(((size_t)s->node_count + 64) / 64, sizeof(uint64_t));
	r->done = 0;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
}

void lh_retainer_bits_fill(struct lh_retainer_bits *r, const struct lh_snapshot *s, const uint64_t *ess)
{
	for (uint32_t e = 0; e < s->edge_count; e++)
		if (bit(ess, e))
			r->bits[s->edge_to[e] >> 6] |= (uint64_t)1 << (s->edge_to[e] & 63);
	pthread_mutex_lock(&r->lock);
	r->done = 1;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

const uint64_t *lh_retainer_bits_wait(struct lh_retainer_bits *r)
{
	pthread_mutex_lock(&r->lock);
	while (!r->done)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
	return r->bits;
}

void lh_retainer_bits_release(struct lh_retainer_bits *r)
{
	FREE_AND_NULL(r->bits);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
}

uint64_t lh_dominators_budget = 16;

uint32_t *lh_dominators_compute(struct lh_snapshot *s, uint64_t *ess, struct lh_retainer_bits *r)
{
	uint32_t n = s->node_count, len = n + 1, root = s->root, count, *rpo, *vertex, *idom, i;
	uint64_t *changed, *redo, steps = 0, budget;
	struct lh_retainer_bits own;
	uint32_t start;
	int passes = 0;

	if (!r) {
		r = &own;
		lh_retainer_bits_init(r, s);
		lh_retainer_bits_fill(r, s, ess);
	}
	rpo = lh_xcalloc(len, sizeof(uint32_t));
	vertex = lh_xmalloc(lh_st_mult(len, sizeof(uint32_t)));
	idom = lh_xmalloc(lh_st_mult(len, sizeof(uint32_t)));
	count = dfs(s, ess, r, 0, rpo, vertex, idom);
	lh_debug("dominators: depth-first search at %.3f s of CPU", thread_cpu());

	/* postorder -> reverse postorder: the root becomes 1, every DFS parent precedes its children */
	for (i = 0; i < n; i++)
		if (rpo[i])
			rpo[i] = count + 1 - rpo[i];
	for (i = 1; i <= count / 2; i++) {
		uint32_t j = count + 1 - i, t;

		t = vertex[i], vertex[i] = vertex[j], vertex[j] = t;
		t = idom[i], idom[i] = idom[j], idom[j] = t;
	}
	for (i = 1; i <= count; i++)
		idom[i] = rpo[idom[i]];
	idom[1] = 1;

	/*
	 * Cooper, Harvey and Kennedy's iteration, pushed along the successors
	 * so that no predecessor lists are needed: each edge b -> w lifts
	 * idom[w] to the nearest common ancestor of b and idom[w], until a
	 * whole pass changes nothing.  Starting from the DFS parents, the tree
	 * only ever holds DFS ancestors, so every ancestor set contains the true
	 * dominators throughout; at the end each idom[w] is an ancestor of all
	 * of w's predecessors, so every ancestor dominates: it is the tree.
	 *
	 * A pass need not visit every node.  What an edge b -> w establishes,
	 * idom[w] on b's chain (b, idom[b], ...), can only be undone by a
	 * change to a node on that chain.  Chains are numbered downwards, so
	 * in the first pass, which visits every node in order, the changes that
	 * can undo something are those to a w visited before (w < b: a back
	 * edge); a later pass visits only some nodes, so there any change
	 * counts.  The next pass visits the nodes whose chain, once the pass
	 * is over, holds a node so changed (if none of a node's chain changed,
	 * the chain is the one its edges were checked against, and idom[w]
	 * only moves up it); a pass without such a change ends it.  On a 1 GB
	 * snapshot the second pass so visits a few thousand nodes instead of
	 * nearly all 13 M.
	 *
	 * The budget: 16 steps up the tree per edge and node.  The snapshots
	 * of real programs take 1 to 3 (measured: 1.7 on bench/leaky.js's
	 * 100 MB one, 2.8 on the TypeScript compiler's); a linked list about
	 * its length.
	 */
	budget = lh_dominators_budget * ((uint64_t)s->edge_count + count);
	changed = lh_xcalloc(((size_t)count + 64) / 64, sizeof(uint64_t));
	redo = lh_xcalloc(((size_t)count + 64) / 64, sizeof(uint64_t));
	start = 1;
	for (;;) {
		uint32_t marks = 0, visits = 0, lowest = UINT32_MAX;

		for (uint32_t b = start; b <= count; b++) {
			uint32_t v = vertex[b], end = s->first_edge[v + 1];

			if (passes && !bit(redo, b))
				continue;
			visits++;
			for (uint32_t e = s->first_edge[v]; e < end; e++) {
				uint32_t w, x, a;

				if (!bit(ess, e))
					continue;
				w = rpo[s->edge_to[e]];
				x = idom[w]; /* the root's own idom is 1 too */
				/* already the root, or b's parent or b itself: the meet cannot lift it */
				if (x <= 1 || x == b || idom[b] == x)
					continue;
				a = nca(idom, b, x, &steps);
				if (a != x) {
					idom[w] = a;
					if (passes || w < b) {
						changed[w >> 6] |= (uint64_t)1 << (w & 63);
						marks++;
						if (w < lowest)
							lowest = w;
					}
				}
			}
			if (steps > budget)
				goto deep;
		}
		lh_debug("dominators: pass %d visited %u of %u nodes (%llu steps up the tree so far), at %.3f s of CPU",
			 ++passes, visits, count, (unsigned long long)steps, thread_cpu());
		if (!marks)
			break;
		/* the next pass: the nodes with a changed node on their chain (idom[v] < v) */
		memset(redo, 0, ((size_t)count + 64) / 64 * sizeof(uint64_t));
		start = 0;
		for (uint32_t v = lowest; v <= count; v++) {
			if (bit(changed, v) || bit(redo, idom[v])) {
				redo[v >> 6] |= (uint64_t)1 << (v & 63);
				if (!start)
					start = v;
			}
		}
		memset(changed, 0, ((size_t)count + 64) / 64 * sizeof(uint64_t));
	}
	free(changed);
	free(redo);
	goto done;

deep:
	lh_debug("dominators: over the budget of %llu steps in pass %d: a deep tree; Semi-NCA instead, at %.3f s of CPU",
		 (unsigned long long)budget, passes + 1, thread_cpu());
	free(changed);
	free(redo);
	free(idom);
	memset(rpo, 0, lh_st_mult(len, sizeof(uint32_t)));
	idom = semi_nca(s, ess, r, rpo, &count);
	/* preorder: every node after its dominator, as reverse postorder */
	for (i = 0; i < n; i++)
		if (rpo[i])
			vertex[rpo[i]] = i;
	lh_debug("dominators: Semi-NCA done at %.3f s of CPU", thread_cpu());

done:
	if (r == &own)
		lh_retainer_bits_release(r);
	free(ess);

	/*
	 * The order for the retained sizes: the reached nodes in reverse
	 * postorder (or preorder), then the rest, which DevTools' second rescue rule leaves
	 * with the root as their dominator (their retainers are all unreached
	 * too, so no reached node's dominator depends on them).
	 */
	for (i = 0, count++; i < n; i++)
		if (!rpo[i])
			vertex[count++] = i;
	/* to ordinals, in place of rpo[] */
	for (i = 0; i < n; i++)
		rpo[i] = rpo[i] ? vertex[idom[rpo[i]]] : root;
	free(idom);
	free(s->dominator);
	s->dominator = rpo;
	return vertex;
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
		uint32_t o = order[i];

		s->retained_size[s->dominator[o]] += s->retained_size[o];
	}
	free(order);
}
