/*
 * Unit tests for the DevTools analyses (analyze.h) on small hand-built
 * snapshots: dominators on diamonds, cycles and unreachable cliques, the
 * essential-edge rule (weak, shortcut, WeakMap table edges), the shallow-size
 * reassignment and distances.  Expected values were worked out by hand from
 * DevTools' rules; test/cli/devtools_equal.sh checks real snapshots against
 * DevTools itself.  Each snapshot has one location, on the root (which no
 * class key uses), so that the loader sees a non-empty "locations".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/analysis.h"
#include "snapshot/analyze.h"
#include "snapshot/snapshot.h"
#include "test.h"

/*
 * A snapshot text from node and edge lists.  Node types: 0 hidden, 1 array,
 * 2 string, 3 object, 9 synthetic (meta order below).  Edge types: 0 context,
 * 1 element, 2 property, 3 internal, 4 hidden, 5 shortcut, 6 weak.
 */
static const char head[] =
	"{\"snapshot\":{\"meta\":{\"node_fields\":[\"type\",\"name\",\"id\",\"self_size\",\"edge_count\",\"trace_node_id\",\"detachedness\"],"
	"\"node_types\":[[\"hidden\",\"array\",\"string\",\"object\",\"code\",\"closure\",\"regexp\",\"number\",\"native\",\"synthetic\","
	"\"concatenated string\",\"sliced string\",\"symbol\",\"bigint\",\"object shape\"],\"string\",\"number\",\"number\",\"number\",\"number\",\"number\"],"
	"\"edge_fields\":[\"type\",\"name_or_index\",\"to_node\"],"
	"\"edge_types\":[[\"context\",\"element\",\"property\",\"internal\",\"hidden\",\"shortcut\",\"weak\"],\"string_or_number\",\"node\"],"
	"\"location_fields\":[\"object_index\",\"script_id\",\"line\",\"column\"]},"
	"\"node_count\":%d,\"edge_count\":%d,\"trace_function_count\":0},\n";

struct n { int type, name, id, size, edges; };
struct e { int type, name, to; };

static struct lh_snapshot *build(const struct n *nodes, int nn, const struct e *edges, int ne,
				 const char *strings)
{
	static char buf[16384];
	int len = snprintf(buf, sizeof(buf), head, nn, ne);
	struct lh_snapshot *s;

	len += snprintf(buf + len, sizeof(buf) - len, "\"nodes\":[");
	for (int i = 0; i < nn; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%d,%d,%d,%d,%d,0,0", i ? "," : "",
				nodes[i].type, nodes[i].name, nodes[i].id, nodes[i].size, nodes[i].edges);
	len += snprintf(buf + len, sizeof(buf) - len, "],\"edges\":[");
	for (int i = 0; i < ne; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%d,%d,%d", i ? "," : "", edges[i].type,
				edges[i].name, edges[i].to * 7);
	len += snprintf(buf + len, sizeof(buf) - len,
			"],\"trace_function_infos\":[],\"trace_tree\":[],\"samples\":[],\"locations\":[0,1,0,0],\"strings\":[%s]}",
			strings);
	s = lh_snapshot_parse("test", buf, (size_t)len, LH_LOAD_NO_THREADS);
	if (s && lh_snapshot_analyze(s, NULL, 0)) {
		lh_snapshot_free(s);
		return NULL;
	}
	return s;
}

/* strings: 0 "", 1 "root", 2 "Object", 3 "a", 4 "b", 5 "A", 6 "B", 7 "(GC roots)" */
#define STRINGS "\"\",\"root\",\"Object\",\"a\",\"b\",\"A\",\"B\",\"(GC roots)\""

/*
 * Diamond: root -> g; g -> x, g -> y; x -> z, y -> z.  z is dominated by g,
 * not by x or y; g retains everything.
 */
TEST(analyze_diamond)
{
	struct n nodes[] = {
		{ 9, 1, 1, 0, 1 }, { 3, 5, 3, 10, 2 }, { 3, 6, 5, 20, 1 }, { 3, 6, 7, 30, 1 }, { 3, 5, 9, 40, 0 },
	};
	struct e edges[] = { { 5, 3, 1 }, { 2, 3, 2 }, { 2, 4, 3 }, { 2, 3, 4 }, { 2, 3, 4 } };
	struct lh_snapshot *s = build(nodes, 5, edges, 5, STRINGS);

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(s->dominator[4], 1);
	CHECK_EQ(s->dominator[2], 1);
	CHECK_EQ(s->retained_size[1], 100);
	CHECK_EQ(s->retained_size[2], 20);
	CHECK_EQ(s->retained_size[0], 100);
	CHECK_EQ(s->distance[1], 1);
	CHECK_EQ(s->distance[4], 3);
	/* class A: g (10, retains 100) and z (dominated by g: not counted again) */
	{
		int64_t a = lh_snapshot_find_class(s, ",A"), b = lh_snapshot_find_class(s, ",B");

		CHECK(a >= 0 && b >= 0);
		if (a >= 0 && b >= 0) {
			CHECK_EQ(s->classes[a].count, 2);
			CHECK_EQ(s->classes[a].shallow_size, 50);
			CHECK_EQ(s->classes[a].retained_size, 100);
			CHECK_EQ(s->classes[b].retained_size, 50);
			CHECK_EQ(s->classes[a].distance, 1);
		}
	}
	lh_snapshot_free(s);
}

/*
 * Weak and shortcut edges do not retain: root -> g; g -weak-> w; h (another
 * user root) -shortcut-> w; g -> w2 -> w via a cycle w -> w2.  w's only
 * essential retainer is w2.
 */
TEST(analyze_weak_and_shortcut)
{
	struct n nodes[] = {
		{ 9, 1, 1, 0, 2 }, { 3, 5, 3, 10, 2 }, { 3, 5, 5, 10, 1 }, { 3, 6, 7, 30, 1 }, { 3, 6, 9, 5, 1 },
	};
	struct e edges[] = {
		{ 5, 3, 1 }, { 5, 4, 2 },          /* root -> g, root -> h */
		{ 6, 3, 3 }, { 2, 4, 4 },          /* g -weak-> w, g -> w2 */
		{ 5, 3, 3 },                       /* h -shortcut-> w */
		{ 2, 3, 4 },                       /* w -> w2 */
		{ 2, 3, 3 },                       /* w2 -> w */
	};
	struct lh_snapshot *s = build(nodes, 5, edges, 7, STRINGS);

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(s->dominator[3], 4);
	CHECK_EQ(s->dominator[4], 1);
	CHECK_EQ(s->retained_size[1], 45);
	CHECK_EQ(s->retained_size[2], 10);
	/* distance: h's shortcut counts for the BFS (only weak edges are skipped) */
	CHECK_EQ(s->distance[3], 2);
	lh_snapshot_free(s);
}

/*
 * Unreachable nodes: x is retained only weakly (an orphan: its own DFS from
 * the root), p <-> q is a clique nothing else points at: both go directly
 * under the root.  Nodes no BFS reaches have distance LH_NO_DISTANCE.
 */
TEST(analyze_unreachable)
{
	struct n nodes[] = {
		{ 9, 1, 1, 0, 1 }, { 3, 5, 3, 10, 1 }, { 3, 6, 5, 20, 1 }, { 3, 5, 7, 30, 0 },
		{ 3, 5, 9, 40, 1 }, { 3, 5, 11, 50, 1 },
	};
	struct e edges[] = {
		{ 5, 3, 1 },  /* root -> g */
		{ 6, 3, 2 },  /* g -weak-> x */
		{ 2, 3, 3 },  /* x -> y */
		{ 2, 3, 5 },  /* p -> q */
		{ 2, 3, 4 },  /* q -> p */
	};
	struct lh_snapshot *s = build(nodes, 6, edges, 5, STRINGS);

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(s->dominator[2], 0);
	CHECK_EQ(s->dominator[3], 2);
	CHECK_EQ(s->dominator[4], 0);
	CHECK_EQ(s->dominator[5], 0);
	CHECK_EQ(s->retained_size[2], 50);
	CHECK_EQ(s->retained_size[0], 10 + 50 + 40 + 50);
	CHECK_EQ(s->distance[2], LH_NO_DISTANCE);
	CHECK_EQ(s->distance[4], LH_NO_DISTANCE);
	lh_snapshot_free(s);
}

/*
 * Shallow-size reassignment: an array owned by one object moves its size
 * into it; an array shared by two objects keeps its own.  Distances skip
 * nothing here: root's non-synthetic child is at 1.
 */
TEST(analyze_shallow_sizes)
{
	struct n nodes[] = {
		{ 9, 1, 1, 0, 2 }, { 3, 5, 3, 10, 2 }, { 3, 6, 5, 20, 1 }, { 1, 0, 7, 100, 0 }, { 1, 0, 9, 200, 0 },
	};
	struct e edges[] = {
		{ 5, 3, 1 }, { 5, 4, 2 },
		{ 3, 3, 3 }, { 3, 4, 4 },  /* g owns arr1; shares arr2 */
		{ 3, 3, 4 },               /* h -> arr2 */
	};
	struct lh_snapshot *s = build(nodes, 5, edges, 5, STRINGS);

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(s->self_size[1], 110);
	CHECK_EQ(s->self_size[3], 0);
	CHECK_EQ(s->self_size[4], 200);
	{
		/* reassigned in place; V8's sizes come back on request */
		uint32_t *v8 = lh_snapshot_v8_sizes(s);

		CHECK_EQ(v8[3], 100);
		CHECK_EQ(v8[1], 10);
		free(v8);
	}
	CHECK_EQ(s->retained_size[1], 110);
	CHECK_EQ(s->retained_size[0], 330);
	CHECK_EQ(s->distance[4], 2);
	lh_snapshot_free(s);
}

/*
 * A WeakMap value: the table's edge (named with the table's own id) is not
 * essential, the key's is, so the key dominates the value.  For distances
 * the first of the two edges met is skipped.
 */
TEST(analyze_ephemeron)
{
	struct n nodes[] = {
		{ 9, 1, 1, 0, 1 }, { 3, 5, 3, 10, 2 }, { 0, 5, 5, 20, 1 }, { 3, 6, 7, 30, 1 }, { 3, 5, 9, 40, 0 },
	};
	struct e edges[] = {
		{ 5, 3, 1 },             /* root -> g */
		{ 2, 3, 2 }, { 2, 4, 3 }, /* g -> table, g -> key */
		{ 3, 8, 4 },             /* table -> value (pair edge of table @5) */
		{ 3, 9, 4 },             /* key -> value */
	};
	struct lh_snapshot *s = build(nodes, 5, edges, 5,
				      STRINGS ",\"1 / part of key (B @7) -> value (A @9) pair in WeakMap (table @5)\""
				      ",\"2 / part of key (B @7) -> value (A @9) pair in WeakMap (table @5)\"");

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(s->dominator[4], 3);
	CHECK_EQ(s->retained_size[3], 70);
	CHECK_EQ(s->distance[4], 3);
	lh_snapshot_free(s);
}

/* Plain objects get "{a, b}" interface names when enough of them share properties. */
TEST(analyze_interfaces)
{
	struct n nodes[] = {
		{ 9, 1, 1, 0, 1 }, { 3, 5, 3, 10, 3 }, { 3, 2, 5, 20, 2 }, { 3, 2, 7, 30, 2 }, { 3, 2, 9, 40, 1 },
	};
	struct e edges[] = {
		{ 5, 3, 1 },
		{ 2, 3, 2 }, { 2, 4, 3 }, { 2, 5, 4 },
		{ 2, 3, 1 }, { 2, 4, 1 },
		{ 2, 3, 1 }, { 2, 4, 1 },
		{ 2, 3, 1 },
	};
	struct lh_snapshot *s = build(nodes, 5, edges, 9, STRINGS);

	CHECK(s != NULL);
	if (!s)
		return;
	{
		int64_t ab = lh_snapshot_find_class(s, ",{a, b}"), obj = lh_snapshot_find_class(s, ",Object");

		CHECK(ab >= 0);
		CHECK(obj >= 0);
		if (ab >= 0)
			CHECK_EQ(s->classes[ab].count, 2);
		if (obj >= 0)
			CHECK_EQ(s->classes[obj].count, 1);
	}
	lh_snapshot_free(s);
}

/*
 * A diff applies the other snapshot's interface names: alone, one {a, b}
 * object is just "Object" (an interface needs two); with a base that
 * inferred {a, b}, it is "{a, b}".
 */
TEST(analyze_interfaces_from_base)
{
	struct n base_nodes[] = {
		{ 9, 1, 1, 0, 1 }, { 3, 5, 3, 10, 2 }, { 3, 2, 5, 20, 2 }, { 3, 2, 7, 30, 2 },
	};
	struct e base_edges[] = {
		{ 5, 3, 1 }, { 2, 3, 2 }, { 2, 4, 3 }, { 2, 3, 1 }, { 2, 4, 1 }, { 2, 3, 1 }, { 2, 4, 1 },
	};
	struct n nodes[] = { { 9, 1, 1, 0, 1 }, { 3, 5, 3, 10, 1 }, { 3, 2, 5, 20, 2 } };
	struct e edges[] = { { 5, 3, 1 }, { 2, 3, 2 }, { 2, 3, 1 }, { 2, 4, 1 } };
	struct lh_snapshot *base = build(base_nodes, 4, base_edges, 7, STRINGS);
	struct lh_snapshot *s = build(nodes, 3, edges, 4, STRINGS);

	CHECK(base && s);
	if (base && s) {
		CHECK(lh_snapshot_find_class(s, ",Object") >= 0);
		CHECK(lh_snapshot_find_class(s, ",{a, b}") < 0);
		CHECK_EQ(lh_snapshot_analyze(s, base, 0), 0);
		CHECK(lh_snapshot_find_class(s, ",Object") < 0);
		CHECK(lh_snapshot_find_class(s, ",{a, b}") >= 0);
		/* and analyzing again alone goes back to the snapshot's own names */
		CHECK_EQ(lh_snapshot_analyze(s, NULL, LH_ANALYZE_NO_THREADS), 0);
		CHECK(lh_snapshot_find_class(s, ",Object") >= 0);
	}
	lh_snapshot_free(base);
	lh_snapshot_free(s);
}

/* Is t reachable from the root (node 0) without passing through node cut? */
static int reaches(const struct n *nodes, int nn, const struct e *edges, int cut, int t, uint8_t *seen, int *stack)
{
	int sp = 0;

	memset(seen, 0, (size_t)nn);
	seen[0] = 1;
	stack[sp++] = 0;
	while (sp) {
		int v = stack[--sp], first = 0;

		if (v == t)
			return 1;
		for (int i = 0; i < v; i++)
			first += nodes[i].edges;
		for (int k = first; k < first + nodes[v].edges; k++) {
			int w = edges[k].to;

			if (w != cut && !seen[w]) {
				seen[w] = 1;
				stack[sp++] = w;
			}
		}
	}
	return 0;
}

/*
 * Random graphs full of cycles, every node reachable from "global" (node 1,
 * the root's shortcut target), against dominators found the slow way: d
 * dominates v when v cannot be reached without d.  The immediate dominator
 * is the strict dominator with the most dominators of its own.  Back edges
 * make the dominator iteration take several passes, each visiting only the
 * nodes whose tree chain changed.
 */
static void random_graphs(void)
{
	enum { N = 90, MAXE = 600 };
	static struct n nodes[N];
	static struct e edges[MAXE];
	static uint8_t dom[N][N], seen[N];
	static int stack[MAXE + N], parent[N];
	unsigned seed = 12345;
	int passes_checked = 0;

	for (int g = 0; g < 40; g++) {
		int ne = 0, extra = 1 + g % 5;
		struct lh_snapshot *s;

		/* node i > 1 hangs off an earlier node, then gets extra edges anywhere, back edges included */
		for (int i = 2; i < N; i++) {
			seed = seed * 1103515245 + 12345;
			parent[i] = 1 + (int)((seed >> 8) % (unsigned)(i - 1));
		}
		nodes[0] = (struct n){ 9, 1, 1, 0, 1 };
		edges[ne++] = (struct e){ 5, 3, 1 };
		for (int i = 1; i < N; i++) {
			int first = ne;

			for (int j = 2; j < N; j++)
				if (parent[j] == i)
					edges[ne++] = (struct e){ 2, 3, j };
			for (int k = 0; k < extra; k++) {
				seed = seed * 1103515245 + 12345;
				edges[ne++] = (struct e){ 2, 4, 1 + (int)((seed >> 8) % (N - 1)) };
			}
			nodes[i] = (struct n){ 3, 5, 2 * i + 1, i, ne - first };
		}
		s = build(nodes, N, edges, ne, STRINGS);
		CHECK(s != NULL);
		if (!s)
			return;
		for (int d = 0; d < N; d++)
			for (int v = 0; v < N; v++)
				dom[d][v] = d == v || d == 0 || !reaches(nodes, N, edges, d, v, seen, stack);
		for (int v = 1; v < N; v++) {
			int best = 0, best_depth = -1;

			for (int d = 0; d < N; d++) {
				int depth = 0;

				if (d == v || !dom[d][v])
					continue;
				for (int x = 0; x < N; x++)
					depth += dom[x][d];
				if (depth > best_depth)
					best = d, best_depth = depth;
			}
			CHECK_EQ(s->dominator[v], (uint32_t)best);
			if (s->dominator[v] != (uint32_t)best) {
				fprintf(stderr, "  graph %d, node %d\n", g, v);
				g = 40;
				break;
			}
		}
		passes_checked++;
		lh_snapshot_free(s);
	}
	CHECK_EQ(passes_checked, 40);
}

TEST(analyze_dominators_of_random_graphs)
{
	random_graphs();
}

/* The same graphs by Semi-NCA, which deep trees get: with no budget, every
 * graph whose iteration takes a step up the tree goes to it. */
TEST(analyze_dominators_of_random_graphs_semi_nca)
{
	uint64_t budget = lh_dominators_budget;

	lh_dominators_budget = 0;
	random_graphs();
	lh_dominators_budget = budget;
}
