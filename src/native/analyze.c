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

int lh_alloc_summarize(struct lh_alloc_summary *s, const char *path)
{
	struct blocks live = { lh_xcalloc(1024, sizeof(struct block)), 1023, 0 };
	struct thread_last *threads = NULL;
	size_t nthreads = 0, threads_alloc = 0;
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
			struct block b = { r.ptr, r.size, r.seq, r.tid };

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
}
