/*
 * Views over per-stack costs (callgraph.h).  Every view starts from the
 * filtered stack list, whose functions are stored innermost first in one flat
 * array; trees find a child through a hash map keyed by (parent, function),
 * so building is linear in the total number of frames.
 */
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/hashmap.h"
#include "base/strbuf.h"
#include "native/callgraph.h"

static const char *const cost_names[LH_COST_NR] = {
	"calls", "bytes", "temporary", "peak", "leaked", "at",
};

int lh_cost_parse(const char *s, enum lh_cost *out)
{
	if (!strcmp(s, "allocations")) {
		*out = LH_COST_CALLS;
		return 0;
	}
	for (int i = 0; i < LH_COST_NR; i++) {
		if (!strcmp(s, cost_names[i])) {
			*out = (enum lh_cost)i;
			return 0;
		}
	}
	return -1;
}

const char *lh_cost_name(enum lh_cost k)
{
	return k < LH_COST_NR ? cost_names[k] : "?";
}

uint64_t lh_costs_get(const struct lh_costs *c, enum lh_cost k)
{
	switch (k) {
	case LH_COST_CALLS: return c->calls;
	case LH_COST_BYTES: return c->bytes;
	case LH_COST_TEMPORARY: return c->temporary;
	case LH_COST_PEAK: return c->peak;
	case LH_COST_LEAKED: return c->leaked;
	case LH_COST_AT: return c->at;
	default: return 0;
	}
}

void lh_costs_add(struct lh_costs *to, const struct lh_costs *c)
{
	to->calls += c->calls;
	to->bytes += c->bytes;
	to->temporary += c->temporary;
	to->samples += c->samples;
	to->peak += c->peak;
	to->peak_blocks += c->peak_blocks;
	to->leaked += c->leaked;
	to->leaked_blocks += c->leaked_blocks;
	to->at += c->at;
	to->at_blocks += c->at_blocks;
}

static int costs_empty(const struct lh_costs *c)
{
	return !c->calls && !c->peak && !c->leaked && !c->at;
}

/* C++'s operator new (every overload) only passes the request on to malloc:
 * like heaptrack, a stack starts below it, so that its caller is the site. */
static int is_operator_new(const char *name)
{
	return !strncmp(name, "operator new(", 13) || !strncmp(name, "operator new[](", 15);
}

int lh_callgraph_build(struct lh_callgraph *g, const struct lh_alloc_model *m, const char *filter)
{
	struct lh_alloc_frame *fr = NULL;
	size_t fr_alloc = 0;
	signed char *match = NULL, *op_new = lh_xcalloc(m->funcs.nr ? m->funcs.nr : 1, 1);
	regex_t re;

	memset(g, 0, sizeof(*g));
	g->m = m;
	for (uint32_t f = 0; f < m->funcs.nr; f++)
		op_new[f] = (signed char)is_operator_new(lh_alloc_func_bare(m, f));
	if (filter) {
		int rc = regcomp(&re, filter, REG_EXTENDED | REG_NOSUB);

		if (rc) {
			char msg[256];

			regerror(rc, &re, msg, sizeof(msg));
			free(op_new);
			return lh_error("bad --filter '%s': %s (a POSIX extended regular expression)", filter, msg);
		}
		/* one regexec per function, not per frame */
		match = lh_xcalloc(m->funcs.nr ? m->funcs.nr : 1, 1);
		/* the name as shown or as the program has it: "^helper$"
		 * keeps "helper (libtwo.so)" */
		for (uint32_t f = 0; f < m->funcs.nr; f++)
			match[f] = !regexec(&re, lh_alloc_func_name(m, f), 0, NULL, 0) ||
				   !regexec(&re, lh_alloc_func_bare(m, f), 0, NULL, 0);
		regfree(&re);
	}
	for (size_t i = 0; i < m->nnodes; i++) {
		const struct lh_alloc_cost *mc = &m->cost[i];
		struct lh_cg_stack s = { i, (uint32_t)g->nfuncs, 0, { 0 } };
		size_t n, skip = 0;
		int keep = !match;

		s.c.calls = mc->calls;
		s.c.bytes = mc->bytes;
		s.c.temporary = mc->temporary;
		s.c.samples = mc->samples;
		s.c.peak = mc->peak_bytes;
		s.c.peak_blocks = mc->peak_blocks;
		if (!m->suppressed || !m->suppressed[i]) {
			s.c.leaked = mc->live_bytes;
			s.c.leaked_blocks = mc->live_blocks;
		}
		s.c.at = mc->at_bytes;
		s.c.at_blocks = mc->at_blocks;
		if (costs_empty(&s.c))
			continue;
		n = lh_alloc_stack(m, i, 1, &fr, &fr_alloc);
		while (skip + 1 < n && op_new[fr[skip].func])
			skip++;
		for (size_t k = skip; k < n && !keep; k++)
			keep = match[fr[k].func];
		if (!keep)
			continue;
		ALLOC_GROW(g->funcs, g->nfuncs + n - skip, g->funcs_alloc);
		for (size_t k = skip; k < n; k++)
			g->funcs[g->nfuncs++] = fr[k].func;
		s.n = (uint32_t)(n - skip);
		ALLOC_GROW(g->stacks, g->nstacks + 1, g->stacks_alloc);
		g->stacks[g->nstacks++] = s;
	}
	free(fr);
	free(match);
	free(op_new);
	return 0;
}

void lh_callgraph_release(struct lh_callgraph *g)
{
	free(g->stacks);
	free(g->funcs);
	memset(g, 0, sizeof(*g));
}

static enum lh_cost sort_key;

/* Biggest sort_key cost first, then most calls, then by function id. */
static int cmp_costs(const struct lh_costs *x, uint32_t fx, const struct lh_costs *y, uint32_t fy)
{
	uint64_t cx = lh_costs_get(x, sort_key), cy = lh_costs_get(y, sort_key);

	if (cx != cy)
		return cx > cy ? -1 : 1;
	if (x->calls != y->calls)
		return x->calls > y->calls ? -1 : 1;
	return fx < fy ? -1 : fx > fy;
}

static int cmp_site(const void *a, const void *b)
{
	const struct lh_site *x = a, *y = b;

	return cmp_costs(&x->c, x->func, &y->c, y->func);
}

static void sort_sites(struct lh_site *s, size_t n, enum lh_cost k)
{
	sort_key = k;
	if (n > 1)
		qsort(s, n, sizeof(*s), cmp_site);
}

static int cmp_leak(const void *a, const void *b, void *arg)
{
	const struct lh_callgraph *g = arg;
	const struct lh_cg_stack *x = &g->stacks[*(const size_t *)a], *y = &g->stacks[*(const size_t *)b];

	if (x->c.leaked != y->c.leaked)
		return x->c.leaked > y->c.leaked ? -1 : 1;
	return x->node < y->node ? -1 : x->node > y->node;
}

size_t lh_callgraph_leaks(const struct lh_callgraph *g, size_t **out)
{
	size_t *order = NULL, n = 0, alloc = 0;

	for (size_t i = 0; i < g->nstacks; i++) {
		if (!g->stacks[i].c.leaked_blocks)
			continue;
		ALLOC_GROW(order, n + 1, alloc);
		order[n++] = i;
	}
	/* a sort, not insertion: 65,536 leaking stacks took 4 s that way */
	if (n > 1)
		qsort_r(order, n, sizeof(*order), cmp_leak, (void *)g);
	*out = order;
	return n;
}

size_t lh_callgraph_sites(const struct lh_callgraph *g, enum lh_cost sort, struct lh_site **out)
{
	size_t nf = g->m->funcs.nr, n = 0;
	struct lh_site *by = lh_xcalloc(nf + 1, sizeof(*by));

	for (size_t i = 0; i < g->nstacks; i++) {
		const struct lh_cg_stack *s = &g->stacks[i];
		size_t f = s->n ? g->funcs[s->off] : nf;

		lh_costs_add(&by[f].c, &s->c);
	}
	for (size_t f = 0; f <= nf; f++) {
		if (costs_empty(&by[f].c))
			continue;
		by[n].c = by[f].c;
		by[n++].func = f == nf ? LH_FUNC_NONE : (uint32_t)f;
	}
	sort_sites(by, n, sort);
	*out = by;
	return n;
}

void lh_callgraph_tree(const struct lh_callgraph *g, int bottom_up, uint32_t max_depth, struct lh_tree *t)
{
	struct lh_hashmap edges;

	memset(t, 0, sizeof(*t));
	lh_hashmap_init(&edges);
	ALLOC_GROW(t->node, 1, t->alloc);
	memset(&t->node[0], 0, sizeof(t->node[0]));
	t->node[0].func = LH_FUNC_NONE;
	t->nr = 1;
	for (size_t i = 0; i < g->nstacks; i++) {
		const struct lh_cg_stack *s = &g->stacks[i];
		uint32_t cur = 0;

		lh_costs_add(&t->node[0].c, &s->c);
		for (uint32_t k = 0; k < s->n && k < max_depth; k++) {
			uint32_t f = g->funcs[s->off + (bottom_up ? k : s->n - 1 - k)];
			uint32_t key[2] = { cur, f };
			int added;
			struct lh_hashmap_entry *e = lh_hashmap_put(&edges, key, sizeof(key), &added);

			if (added) {
				ALLOC_GROW(t->node, t->nr + 1, t->alloc);
				t->node[t->nr] = (struct lh_tree_node){ f, cur, 0, t->node[cur].child, { 0 } };
				t->node[cur].child = (uint32_t)t->nr;
				e->value = (uint32_t)t->nr++;
			}
			cur = e->value;
			lh_costs_add(&t->node[cur].c, &s->c);
		}
	}
	lh_hashmap_release(&edges);
}

static const struct lh_tree *tree_key;

static int cmp_child(const void *a, const void *b)
{
	const struct lh_tree_node *x = &tree_key->node[*(const uint32_t *)a];
	const struct lh_tree_node *y = &tree_key->node[*(const uint32_t *)b];
	uint64_t cx = lh_costs_get(&x->c, sort_key), cy = lh_costs_get(&y->c, sort_key);

	if (cx != cy)
		return cx > cy ? -1 : 1;
	if (x->c.calls != y->c.calls)
		return x->c.calls > y->c.calls ? -1 : 1;
	return x->func < y->func ? -1 : x->func > y->func;
}

size_t lh_tree_children(const struct lh_tree *t, uint32_t i, enum lh_cost k, uint32_t **out, size_t *alloc)
{
	size_t n = 0;

	for (uint32_t c = t->node[i].child; c; c = t->node[c].sibling) {
		ALLOC_GROW(*out, n + 1, *alloc);
		(*out)[n++] = c;
	}
	sort_key = k;
	tree_key = t;
	if (n > 1)
		qsort(*out, n, sizeof(**out), cmp_child);
	return n;
}

void lh_tree_release(struct lh_tree *t)
{
	free(t->node);
	memset(t, 0, sizeof(*t));
}

/* slot: index + 1 in *v of each function (LH_FUNC_NONE last), 0 when not
 * there yet; a scan of *v made a function with 32,000 distinct callers
 * quadratic */
static void add_to(struct lh_site **v, size_t *n, size_t *alloc, uint32_t *slot, size_t nf, uint32_t f,
		   const struct lh_costs *c)
{
	size_t k = f == LH_FUNC_NONE || f >= nf ? nf : f;

	if (slot[k]) {
		lh_costs_add(&(*v)[slot[k] - 1].c, c);
		return;
	}
	ALLOC_GROW(*v, *n + 1, *alloc);
	(*v)[*n] = (struct lh_site){ f, *c };
	slot[k] = (uint32_t)++(*n);
}

void lh_callgraph_function(const struct lh_callgraph *g, const char *name, enum lh_cost sort,
			   struct lh_func_view *v)
{
	const struct lh_hashmap_entry *e = lh_hashmap_get(&g->m->funcs, name, strlen(name) + 1);

	if (!e) {
		memset(v, 0, sizeof(*v));
		return;
	}
	lh_callgraph_function_id(g, (uint32_t)(e - g->m->funcs.entries), sort, v);
}

void lh_callgraph_function_id(const struct lh_callgraph *g, uint32_t f, enum lh_cost sort, struct lh_func_view *v)
{
	size_t callers_alloc = 0, callees_alloc = 0, nf = g->m->funcs.nr;
	uint32_t *caller_slot, *callee_slot, *caller_seen, *callee_seen;

	memset(v, 0, sizeof(*v));
	if (f >= nf)
		return;
	caller_slot = lh_xcalloc(nf + 1, sizeof(*caller_slot));
	callee_slot = lh_xcalloc(nf + 1, sizeof(*callee_slot));
	caller_seen = lh_xcalloc(nf + 1, sizeof(*caller_seen));
	callee_seen = lh_xcalloc(nf + 1, sizeof(*callee_seen));
	v->found = 1;
	for (size_t i = 0; i < g->nstacks; i++) {
		const struct lh_cg_stack *s = &g->stacks[i];
		const uint32_t *fr = g->funcs + s->off;
		uint32_t stamp = (uint32_t)i + 1;
		int through = 0;

		/* every occurrence, as heaptrack_gui's caller/callee view: under
		 * recursion (rec -> rec -> main, a -> b -> a -> main) each of
		 * them has its own caller and callee.  A stack counts once in
		 * the total and once per distinct caller or callee (the seen
		 * stamps), so the lists need not add up to the total. */
		for (uint32_t k = 0; k < s->n; k++) {
			uint32_t callee = k ? fr[k - 1] : LH_FUNC_NONE;
			uint32_t caller = k + 1 < s->n ? fr[k + 1] : LH_FUNC_NONE;
			size_t ce = callee >= nf ? nf : callee, cr = caller >= nf ? nf : caller;

			if (fr[k] != f)
				continue;
			through = 1;
			if (callee_seen[ce] != stamp) {
				callee_seen[ce] = stamp;
				add_to(&v->callees, &v->ncallees, &callees_alloc, callee_slot, nf, callee, &s->c);
			}
			if (caller_seen[cr] != stamp) {
				caller_seen[cr] = stamp;
				add_to(&v->callers, &v->ncallers, &callers_alloc, caller_slot, nf, caller, &s->c);
			}
		}
		if (!through)
			continue;
		lh_costs_add(&v->total, &s->c);
		if (fr[0] == f)
			lh_costs_add(&v->self, &s->c);
	}
	free(caller_seen);
	free(callee_seen);
	free(caller_slot);
	free(callee_slot);
	sort_sites(v->callers, v->ncallers, sort);
	sort_sites(v->callees, v->ncallees, sort);
}

static int cmp_func(const void *a, const void *b)
{
	const struct lh_func_costs *x = a, *y = b;

	return cmp_costs(&x->total, x->func, &y->total, y->func);
}

size_t lh_callgraph_functions(const struct lh_callgraph *g, enum lh_cost sort, struct lh_func_costs **out)
{
	size_t nf = g->m->funcs.nr, n = 0;
	struct lh_func_costs *by = lh_xcalloc(nf + 1, sizeof(*by));
	uint32_t *seen = lh_xcalloc(nf + 1, sizeof(*seen)); /* by function: the last stack through it + 1 */

	for (size_t i = 0; i < g->nstacks; i++) {
		const struct lh_cg_stack *s = &g->stacks[i];
		const uint32_t *fr = g->funcs + s->off;

		/* once per stack, however often it recurses: the total of
		 * lh_callgraph_function_id, which the HTML report shows beside */
		for (uint32_t k = 0; k < s->n; k++) {
			if (fr[k] >= nf || seen[fr[k]] == i + 1)
				continue;
			seen[fr[k]] = (uint32_t)i + 1;
			lh_costs_add(&by[fr[k]].total, &s->c);
		}
		if (s->n && fr[0] < nf)
			lh_costs_add(&by[fr[0]].self, &s->c);
	}
	for (size_t f = 0; f < nf; f++) {
		if (costs_empty(&by[f].total))
			continue;
		by[n] = by[f];
		by[n++].func = (uint32_t)f;
	}
	free(seen);
	sort_key = sort;
	if (n > 1)
		qsort(by, n, sizeof(*by), cmp_func);
	*out = by;
	return n;
}

void lh_func_view_release(struct lh_func_view *v)
{
	free(v->callers);
	free(v->callees);
	memset(v, 0, sizeof(*v));
}

static int cmp_diff(const void *a, const void *b)
{
	const struct lh_site_diff *x = a, *y = b;
	int64_t dx = (int64_t)(lh_costs_get(&x->new_, sort_key) - lh_costs_get(&x->old, sort_key));
	int64_t dy = (int64_t)(lh_costs_get(&y->new_, sort_key) - lh_costs_get(&y->old, sort_key));
	uint64_t ax = dx < 0 ? -(uint64_t)dx : (uint64_t)dx, ay = dy < 0 ? -(uint64_t)dy : (uint64_t)dy;

	if (ax != ay)
		return ax > ay ? -1 : 1;
	return strcmp(x->name, y->name);
}

static const char *site_name(const struct lh_alloc_model *m, uint32_t f)
{
	return f == LH_FUNC_NONE ? "[no stack]" : lh_alloc_func_name(m, f);
}


/*
 * What matches a site of one trace with a site of the other.  Its name as
 * shown depends on the trace: "helper (libtwo.so)" where two functions of
 * that name allocate, "helper" where one does, so the program's name is
 * the key while each trace has one site of that name; otherwise the name,
 * module and source file (by their last parts: the two may be builds in
 * two directories).  homes: by function, a frame of it.
 */
static void diff_key(struct strbuf *sb, const struct lh_alloc_model *m, const uint32_t *homes, uint32_t f,
		     int by_name)
{
	const struct lh_alloc_frame *home;

	strbuf_reset(sb);
	if (f == LH_FUNC_NONE) {
		strbuf_addstr(sb, "[no stack]");
		return;
	}
	strbuf_addstr(sb, lh_alloc_func_bare(m, f));
	if (by_name || homes[f] == UINT32_MAX)
		return;
	home = &m->node_frames[homes[f]];
	strbuf_addch(sb, 0);
	if (home->module)
		strbuf_addstr(sb, lh_path_base(m->modules[home->module - 1].path));
	strbuf_addch(sb, 0);
	if (home->file)
		strbuf_addstr(sb, lh_path_base(lh_alloc_string(m, home->file)));
}

/* By function of m, a frame of it, one with a source file if any has. */
static uint32_t *function_homes(const struct lh_alloc_model *m)
{
	uint32_t *homes = lh_xcalloc(m->funcs.nr + 1, sizeof(*homes));

	memset(homes, 0xff, (m->funcs.nr + 1) * sizeof(*homes));
	for (size_t k = 0; k < m->nnode_frames; k++) {
		const struct lh_alloc_frame *f = &m->node_frames[k];

		if (f->func < m->funcs.nr &&
		    (homes[f->func] == UINT32_MAX || (f->file && !m->node_frames[homes[f->func]].file)))
			homes[f->func] = (uint32_t)k;
	}
	return homes;
}

/* How many sites of s are named name as the program has it. */
static void count_bare(struct lh_hashmap *h, const struct lh_alloc_model *m, const struct lh_site *s, size_t n,
		       unsigned shift)
{
	for (size_t i = 0; i < n; i++) {
		const char *bare = s[i].func == LH_FUNC_NONE ? "[no stack]" : lh_alloc_func_bare(m, s[i].func);
		int added;

		lh_hashmap_put(h, bare, strlen(bare), &added)->value += 1u << shift;
	}
}

/* One trace alone has a site of that name, or each has one. */
static int unique_bare(const struct lh_hashmap *h, const struct lh_alloc_model *m, uint32_t f)
{
	const char *bare = f == LH_FUNC_NONE ? "[no stack]" : lh_alloc_func_bare(m, f);
	const struct lh_hashmap_entry *e = lh_hashmap_get(h, bare, strlen(bare));

	return e && (e->value & 0xffff) <= 1 && e->value >> 16 <= 1;
}

size_t lh_callgraph_diff(const struct lh_callgraph *a, const struct lh_callgraph *b, enum lh_cost sort,
			 struct lh_site_diff **out)
{
	struct lh_site *sa, *sb;
	size_t na = lh_callgraph_sites(a, sort, &sa), nb = lh_callgraph_sites(b, sort, &sb), n = 0;
	struct lh_site_diff *d = lh_xcalloc(na + nb + 1, sizeof(*d));
	uint32_t *homes_a = function_homes(a->m), *homes_b = function_homes(b->m);
	struct lh_hashmap bykey, bare;
	struct strbuf key = STRBUF_INIT;

	lh_hashmap_init(&bykey);
	lh_hashmap_init(&bare);
	count_bare(&bare, a->m, sa, na, 0);
	count_bare(&bare, b->m, sb, nb, 16);
	for (size_t i = 0; i < na; i++) {
		int added;

		diff_key(&key, a->m, homes_a, sa[i].func, unique_bare(&bare, a->m, sa[i].func));
		lh_hashmap_put(&bykey, key.buf, key.len, &added)->value = (uint32_t)n;
		d[n].name = site_name(a->m, sa[i].func);
		d[n++].old = sa[i].c;
	}
	for (size_t i = 0; i < nb; i++) {
		const char *name = site_name(b->m, sb[i].func);
		struct lh_hashmap_entry *e;
		int added;

		diff_key(&key, b->m, homes_b, sb[i].func, unique_bare(&bare, b->m, sb[i].func));
		e = lh_hashmap_put(&bykey, key.buf, key.len, &added);
		if (added) {
			e->value = (uint32_t)n;
			d[n++].name = name;
		} else if (strlen(name) > strlen(d[e->value].name)) {
			/* the name that tells it apart: "helper (prog)" in
			 * one trace is "helper" in the other */
			d[e->value].name = name;
		}
		d[e->value].new_ = sb[i].c;
	}
	strbuf_release(&key);
	lh_hashmap_release(&bykey);
	lh_hashmap_release(&bare);
	free(homes_a);
	free(homes_b);
	free(sa);
	free(sb);
	sort_key = sort;
	if (n > 1)
		qsort(d, n, sizeof(*d), cmp_diff);
	*out = d;
	return n;
}
