/*
 * Retainer paths; see paths.h.
 */
#include "paths.h"

#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "base/alloc.h"

struct frame {
	uint32_t node; /* node whose retainers are being tried */
	uint32_t k;    /* next retainer index to try */
	int pass;      /* 0: retainers one step closer to the root; 1: any closer one */
};

uint32_t lh_snapshot_node_by_id(const struct lh_snapshot *s, uint32_t id)
{
	for (uint32_t i = 0; i < s->node_count; i++)
		if (s->node_id[i] == id)
			return i;
	return UINT32_MAX;
}

static int retains(const struct lh_snapshot *s, uint32_t edge)
{
	return s->edge_type[edge] != LH_EDGE_WEAK;
}

static int closer(const struct lh_snapshot *s, uint32_t from, uint32_t to, int pass)
{
	int32_t df = s->distance[from], dt = s->distance[to];

	if (from == s->root)
		return 1;
	if (df < 0 || dt < 0 || df >= dt)
		return 0;
	return pass || df == dt - 1;
}

struct found {
	struct lh_path_hop *hops;
	uint32_t len;
};

static int cmp_found(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	return x->len < y->len ? -1 : x->len > y->len;
}

void lh_paths_find(struct lh_snapshot *s, uint32_t target, uint32_t max_paths, uint32_t max_visits,
		   struct lh_paths *out)
{
	struct frame *stack = NULL;
	size_t alloc = 0, depth = 0, falloc = 0;
	struct found *found = NULL;
	uint32_t nfound = 0, visits = 0, total = 0, p;

	memset(out, 0, sizeof(*out));
	out->target = target;
	lh_snapshot_build_retainers(s);
	if (s->distance[target] < 0 && target != s->root)
		goto done;
	ALLOC_GROW(stack, 1, alloc);
	stack[depth++] = (struct frame){ target, s->first_retainer[target], 0 };
	while (depth && nfound < max_paths) {
		struct frame *f = &stack[depth - 1];
		uint32_t end = s->first_retainer[f->node + 1];

		if (f->node == s->root) {
			/* a path: the frames below the root, read from the root down */
			struct found fp;

			fp.len = (uint32_t)depth - 1;
			fp.hops = lh_xmalloc(lh_st_mult(fp.len ? fp.len : 1, sizeof(*fp.hops)));
			for (uint32_t h = 0; h < fp.len; h++) {
				struct frame *from = &stack[depth - 1 - h];
				struct frame *to = &stack[depth - 2 - h];

				/* the edge that led from 'to' up to 'from' is the retainer just tried */
				fp.hops[h].from = from->node;
				fp.hops[h].edge = s->retainer_edge[to->k - 1];
			}
			ALLOC_GROW(found, nfound + 1, falloc);
			found[nfound++] = fp;
			depth--;
			continue;
		}
		if (f->k >= end) {
			if (f->pass == 0) {
				f->pass = 1;
				f->k = s->first_retainer[f->node];
				continue;
			}
			depth--;
			continue;
		}
		{
			uint32_t k = f->k++;
			uint32_t from = s->retainer_node[k];
			uint32_t e = s->retainer_edge[k];
			int one_step;

			if (!retains(s, e))
				continue;
			one_step = closer(s, from, f->node, 0);
			/* pass 0 takes the one-step-closer retainers, pass 1 the others */
			if (f->pass == 0 ? !one_step : one_step || !closer(s, from, f->node, 1))
				continue;
			if (++visits > max_visits) {
				out->truncated = 1;
				break;
			}
			ALLOC_GROW(stack, depth + 1, alloc);
			stack[depth++] = (struct frame){ from, s->first_retainer[from], 0 };
		}
	}
	if (nfound)
		qsort(found, nfound, sizeof(*found), cmp_found);
	for (p = 0; p < nfound; p++)
		total += found[p].len;
	out->hops = lh_xmalloc(lh_st_mult((size_t)total + 1, sizeof(*out->hops)));
	out->first = lh_xmalloc(lh_st_mult((size_t)nfound + 1, sizeof(uint32_t)));
	total = 0;
	for (p = 0; p < nfound; p++) {
		out->first[p] = total;
		memcpy(out->hops + total, found[p].hops, found[p].len * sizeof(*out->hops));
		total += found[p].len;
		free(found[p].hops);
	}
	out->first[nfound] = total;
	out->nr = nfound;
done:
	free(found);
	free(stack);
}

void lh_paths_release(struct lh_paths *p)
{
	free(p->hops);
	free(p->first);
	memset(p, 0, sizeof(*p));
}
