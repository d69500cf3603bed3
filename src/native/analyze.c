/*
 * Summary numbers of a .lht trace (definitions in analyze.h).
 *
 * The live blocks sit in an open-addressing table keyed by address with
 * backward-shift deletion (no tombstones, so churn never degrades it).  Each
 * entry remembers the allocating thread and the event number, so the
 * "temporary" test is one comparison with that thread's latest allocation.
 */
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "native/analyze.h"
#include "native/trace.h"

struct block {
	uint64_t ptr;  /* 0: empty slot */
	uint64_t size;
	uint64_t seq;  /* event number of the allocation */
	uint64_t stack;
	uint32_t tid;
};

struct blocks {
	struct block *slot;
	size_t mask, nr;
};

struct thread_last {
	uint32_t tid;
	uint64_t seq; /* this thread's latest allocation */
};

static size_t hash_ptr(uint64_t p)
{
	p ^= p >> 29;
	p *= 0xbf58476d1ce4e5b9ULL;
	p ^= p >> 32;
	return (size_t)p;
}

static void blocks_grow(struct blocks *b);

static struct block *blocks_find(struct blocks *b, uint64_t ptr)
{
	for (size_t i = hash_ptr(ptr) & b->mask;; i = (i + 1) & b->mask) {
		if (b->slot[i].ptr == ptr)
			return &b->slot[i];
		if (!b->slot[i].ptr)
			return NULL;
	}
}

static void blocks_put(struct blocks *b, const struct block *v)
{
	size_t i;

	if ((b->nr + 1) * 4 > (b->mask + 1) * 3)
		blocks_grow(b);
	for (i = hash_ptr(v->ptr) & b->mask; b->slot[i].ptr && b->slot[i].ptr != v->ptr; i = (i + 1) & b->mask)
		;
	if (!b->slot[i].ptr)
		b->nr++;
	b->slot[i] = *v;
}

static void blocks_grow(struct blocks *b)
{
	struct blocks nb = { lh_xcalloc((b->mask + 1) * 2, sizeof(struct block)), b->mask * 2 + 1, 0 };

	for (size_t i = 0; i <= b->mask; i++)
		if (b->slot[i].ptr)
			blocks_put(&nb, &b->slot[i]);
	free(b->slot);
	*b = nb;
}

static void blocks_del(struct blocks *b, struct block *e)
{
	size_t i = (size_t)(e - b->slot), j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & b->mask;
		if (!b->slot[j].ptr)
			break;
		home = hash_ptr(b->slot[j].ptr) & b->mask;
		/* move j back to i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			b->slot[i] = b->slot[j];
			i = j;
		}
	}
	b->slot[i].ptr = 0;
	b->nr--;
}

static struct thread_last *thread_of(struct thread_last **v, size_t *nr, size_t *alloc, uint32_t tid)
{
	for (size_t i = 0; i < *nr; i++)
		if ((*v)[i].tid == tid)
			return &(*v)[i];
	ALLOC_GROW(*v, *nr + 1, *alloc);
	(*v)[*nr] = (struct thread_last){ tid, UINT64_MAX };
	return &(*v)[(*nr)++];
}

static int cmp_stack(const void *a, const void *b)
{
	const struct lh_alloc_leak *x = a, *y = b;

	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static int cmp_bytes(const void *a, const void *b)
{
	const struct lh_alloc_leak *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

const char *lh_alloc_function(const struct lh_alloc_summary *s, uint64_t ip)
{
	size_t lo = 0, hi = s->nsyms;

	/* symbols arrive sorted by ip (record writes them that way) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->sym_ip[mid] < ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->nsyms && s->sym_ip[lo] == ip && s->sym_func[lo] && s->sym_func[lo] <= s->nstrings)
		return s->strings[s->sym_func[lo] - 1];
	return NULL;
}

int lh_alloc_summarize(struct lh_alloc_summary *s, const char *path)
{
	struct blocks live = { lh_xcalloc(1024, sizeof(struct block)), 1023, 0 };
	struct thread_last *threads = NULL;
	size_t nthreads = 0, threads_alloc = 0, nodes_alloc = 0, strings_alloc = 0, leaks_alloc = 0;
	struct lh_trace t;
	struct lh_trace_rec r;
	uint64_t heap = 0, now_ms = 0;

	memset(s, 0, sizeof(*s));
	strbuf_init(&s->damage, 0);
	if (lh_trace_open(&t, path)) {
		free(live.slot);
		return -1;
	}
	while (lh_trace_next_ordered(&t, &r)) {
		struct block *e;

		switch (r.type) {
		case LHT_REC_SAMPLE:
			now_ms = r.ms;
			if (r.rss > s->peak_rss)
				s->peak_rss = r.rss;
			s->events++;
			continue;
		case LHT_REC_END:
			if (r.ms > now_ms)
				now_ms = r.ms;
			continue;
		case LHT_REC_FREE:
		case LHT_REC_REALLOC:
			break;
		case LHT_REC_ALLOC:
			break;
		case LHT_REC_NODE:
			if (r.id < (1u << 28)) {
				size_t want = r.id + 1;

				ALLOC_GROW(s->node_parent, want, nodes_alloc);
				s->node_ip = lh_xrealloc(s->node_ip, nodes_alloc * sizeof(*s->node_ip));
				for (; s->nnodes < want; s->nnodes++)
					s->node_parent[s->nnodes] = s->node_ip[s->nnodes] = 0;
				s->node_parent[r.id] = r.parent;
				s->node_ip[r.id] = r.ip;
			}
			continue;
		case LHT_REC_STRING:
			if (r.id == s->nstrings + 1) {
				ALLOC_GROW(s->strings, s->nstrings + 1, strings_alloc);
				s->strings[s->nstrings++] = lh_xstrndup(r.str, r.str_len);
			}
			continue;
		case LHT_REC_SYMBOL:
			if (r.nframes) {
				ALLOC_GROW(s->sym_ip, s->nsyms + 1, s->syms_alloc);
				s->sym_func = lh_xrealloc(s->sym_func, s->syms_alloc * sizeof(*s->sym_func));
				s->sym_ip[s->nsyms] = r.ip;
				s->sym_func[s->nsyms++] = t.frames[0].function;
			}
			continue;
		default:
			continue;
		}
		s->events++;
		if (r.type == LHT_REC_FREE || (r.type == LHT_REC_REALLOC && r.old)) {
			uint64_t ptr = r.type == LHT_REC_FREE ? r.ptr : r.old;

			e = blocks_find(&live, ptr);
			/* heaptrack's rule: only a free that comes right after the allocation */
			if (e) {
				struct thread_last *th = thread_of(&threads, &nthreads, &threads_alloc, e->tid);

				if (th->seq == e->seq)
					s->temporary++;
			}
			thread_of(&threads, &nthreads, &threads_alloc, r.tid)->seq = UINT64_MAX;
			if (!e) {
				s->unknown_frees++;
			} else {
				heap -= e->size;
				s->frees++;
				blocks_del(&live, e);
			}
		}
		if (r.type == LHT_REC_ALLOC || r.type == LHT_REC_REALLOC) {
			struct block b = { r.ptr, r.size, r.seq, r.stack, r.tid };

			/* an address handed out twice means its free was lost: forget the old block */
			e = blocks_find(&live, r.ptr);
			if (e) {
				heap -= e->size;
				blocks_del(&live, e);
			}
			blocks_put(&live, &b);
			thread_of(&threads, &nthreads, &threads_alloc, r.tid)->seq = r.seq;
			s->calls++;
			heap += r.size;
			if (heap > s->peak_bytes) {
				s->peak_bytes = heap;
				s->peak_ms = now_ms;
			}
		}
	}
	/* leaks by stack: sort the live blocks' stacks, then merge runs */
	for (size_t i = 0; i <= live.mask; i++) {
		if (!live.slot[i].ptr)
			continue;
		ALLOC_GROW(s->leaks, s->nleaks + 1, leaks_alloc);
		s->leaks[s->nleaks++] = (struct lh_alloc_leak){ live.slot[i].stack, live.slot[i].size, 1 };
	}
	if (s->nleaks) {
		size_t k = 0;

		qsort(s->leaks, s->nleaks, sizeof(*s->leaks), cmp_stack);
		for (size_t i = 0; i < s->nleaks; i++) {
			if (k && s->leaks[k - 1].stack == s->leaks[i].stack) {
				s->leaks[k - 1].bytes += s->leaks[i].bytes;
				s->leaks[k - 1].blocks++;
			} else {
				s->leaks[k++] = s->leaks[i];
			}
		}
		s->nleaks = k;
		qsort(s->leaks, s->nleaks, sizeof(*s->leaks), cmp_bytes);
	}
	s->leaked_bytes = heap;
	s->leaked_blocks = live.nr;
	s->runtime_ms = now_ms;
	s->missing = t.missing;
	s->ended = t.ended;
	strbuf_addstr(&s->damage, t.damage.buf);
	lh_trace_release(&t);
	free(live.slot);
	free(threads);
	return 0;
}

void lh_alloc_summary_release(struct lh_alloc_summary *s)
{
	strbuf_release(&s->damage);
	for (size_t i = 0; i < s->nstrings; i++)
		free(s->strings[i]);
	free(s->strings);
	free(s->leaks);
	free(s->node_parent);
	free(s->node_ip);
	free(s->sym_ip);
	free(s->sym_func);
}
