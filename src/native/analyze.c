/*
 * The allocation model of a .lht trace (what it holds: analyze.h).  This file
 * owns the one streaming pass over the events and the naming of frames.
 *
 * The pass reads records in file order (lh_trace_next) and restores the
 * global event order itself in a ring indexed by sequence number: events are
 * dense numbers, so an event that arrives early waits in slot seq % size and
 * the ring is drained while the next number is present.  That is O(1) per
 * event with 48-byte slots; lh_trace_next_ordered's heap of full records
 * spent more than half of the time on a 16 M-event trace.  The ring grows
 * with the ordering lag (per-thread buffering), never with the trace, and a
 * lag above LAG_LIMIT declares the oldest missing numbers lost.  A number
 * further past the events read than any buffering explains is damage that
 * stops the reader (seq_far), so the ring's span stays bounded.
 *
 * Live blocks sit in an open-addressing table keyed by address, with
 * backward-shift deletion (no tombstones, so churn never degrades it).
 *
 * With two CPUs, reading the file and analyzing the events run on two
 * threads joined by a queue that keeps the file order (see "The pass runs
 * on two threads" below): the same model as on one thread.
 *
 * Peak contribution per stack is exact without a second pass: a stack's live
 * bytes at the peak equal its live bytes at its first change after the peak
 * (or at the end), because nothing changed in between.  So before every
 * change, a stack whose previous change was at or before the current peak
 * copies live into peak; the end of the pass does the same once.
 */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>
#include <pthread.h>
#include <unistd.h>
#include <sched.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/sorted.h"
#include "native/analyze.h"
#include "native/suppress.h"
#include "native/trace.h"

#define LAG_LIMIT (1u << 22) /* events held back before giving up on a number */
#define SEQ_AHEAD LAG_LIMIT  /* an event numbered further past those read before it is damage */
#define DROP_EVERY (8u << 20) /* release mapped trace pages behind us this often */
#define START_NAME "__libc_start_call_main" /* glibc's caller of main */
#define SMALL_SIZES 4096 /* sizes counted in a plain array; bigger ones hashed */

struct block {
	uint64_t ptr;  /* 0: empty slot */
	uint64_t size;
	uint32_t stack;
	uint32_t thr;  /* index into pass.threads of the allocating thread, and BLOCK_UP */
};

/* In a sampled trace: the block's count was rounded up (weight_of). */
#define BLOCK_UP (1u << 31)
#define BLOCK_THR (BLOCK_UP - 1)

struct blocks {
	struct block *slot;
	size_t mask, nr;
};

/* One event waiting for its turn; type 0 is an empty slot. */
struct ev {
	uint64_t seq, ptr, size, stack, old; /* SAMPLE: size = ms, stack = rss */
	int type;
	uint32_t thr;  /* index into pass.threads */
};

/* The reader copies a compressed chunk's events into messages as they are
 * (thr is set by the analyzer): the layouts must agree. */
#define SAME_FIELD(f) (offsetof(struct ev, f) == offsetof(struct lh_trace_event, f))
_Static_assert(sizeof(struct ev) == sizeof(struct lh_trace_event) && SAME_FIELD(seq) && SAME_FIELD(ptr) &&
		       SAME_FIELD(size) && SAME_FIELD(stack) && SAME_FIELD(old) && SAME_FIELD(type),
	       "struct ev starts as struct lh_trace_event");

/*
 * A thread's latest event, for temporaries: the address it allocated, or 0
 * after a free.  The address names the allocation as well as its sequence
 * number would: a live block at that address owned by this thread can only
 * come from that allocation (a later one at the same address by this thread
 * would be the latest instead), and block entries are 8 bytes smaller.
 */
struct thread_last {
	uint32_t tid;
	uint64_t ptr;
};

/* Numbers [lo, hi) given up on as lost. */
struct seq_range {
	uint64_t lo, hi;
};

struct pass {
	struct blocks live;
	struct ev *ring;
	size_t ring_mask, pending;
	uint64_t next_seq;
	struct seq_range *given_up; /* ascending, apart */
	size_t ngiven_up, given_up_alloc;
	struct thread_last *threads;
	size_t nthreads, threads_alloc, last_thread;
	uint32_t *tid_slot;   /* index + 1 into threads, 0: empty */
	size_t tid_mask;
	uint64_t heap, now_ms;
	/* distinct sizes: open addressing, size + 1 as key (0 = empty) */
	struct lh_size_count *sz;
	size_t sz_mask, sz_nr;
	size_t sizes_alloc, timeline_alloc;
	uint64_t samples_in_point;
	uint64_t last_rss;    /* the latest RSS sample, for the closing point */
	uint64_t blocks;      /* live blocks (estimated, in a sampled trace) */
	uint64_t heap_hi;     /* the highest heap since the last timeline point */
	double inv_mean;      /* record --sample: 1 / mean, else 0 */
	uint64_t small_sizes[SMALL_SIZES];
};

/*
 * What a recorded block of size bytes stands for: itself in a full trace;
 * in a sampled one (record --sample MEAN, which records a block with
 * probability q = 1 - exp(-size / MEAN); the preload samples a 0-byte block
 * as 1 byte), 1/q blocks and size/q bytes, the unbiased (Horvitz-Thompson)
 * estimates.  Counts are whole numbers, so 1/q is rounded up or down at
 * random with the odds that keep it unbiased (rounding to nearest made
 * 400-byte blocks at a mean of 4 KiB 2.3% too many: 1/q = 10.75).  The coin
 * is a hash of the allocation's number, one of its own for every event (a
 * hash of address and size gave a malloc/free loop at one address the same
 * rounding every time: calls 21% off); *up says how it fell, kept in the
 * block (BLOCK_UP) so that its free takes back exactly what it added.
 * size/q is at least size: rounding it to nearest costs nothing measurable.
 */
struct weight {
	uint64_t blocks, bytes;
};

static inline struct weight weight_of(const struct pass *p, uint64_t seq, uint64_t size, int *up)
{
	double q, x, whole, bytes;
	uint64_t h;

	if (__builtin_expect(p->inv_mean == 0, 1))
		return (struct weight){ 1, size };
	q = -expm1(-(double)(size ? size : 1) * p->inv_mean);
	/* capped at 2^62: a mean (or a size) near 2^64 bytes, as a damaged
	 * info record can say, made 1/q a count no integer holds, and converting
	 * it was undefined */
	x = fmin(1 / q, 0x1p62);
	bytes = fmin((double)size / q, 0x1p62);
	whole = floor(x);
	if (up) {
		h = (seq + 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
		h = (h ^ h >> 31) * 0x94d049bb133111ebULL;
		*up = (double)((h ^ h >> 29) >> 11) * 0x1p-53 < x - whole;
	}
	return (struct weight){ (uint64_t)whole, (uint64_t)llround(bytes) };
}

/*
 * Blocks are 16-byte aligned and a program allocates near its last
 * allocation, so (address / 16) keeps locality: the probes of consecutive
 * events stay in cache.  Each 16 MiB region of addresses is moved to a
 * place of its own in the table by a hash of its number.  (The high bits
 * were once folded in by xor alone, which left every thread's glibc arena,
 * 64 MiB aligned, at the same slots: 8 threads with 100,000 live blocks
 * each made one run of 800,000 slots, and the report never finished.)
 */
static inline size_t hash_u64(uint64_t p)
{
	return (size_t)((p >> 4) + ((p >> 24) * 0x9e3779b97f4a7c15ULL >> 24));
}

static void blocks_grow(struct blocks *b);

static struct block *blocks_find(struct blocks *b, uint64_t ptr)
{
	for (size_t i = hash_u64(ptr) & b->mask;; i = (i + 1) & b->mask) {
		if (b->slot[i].ptr == ptr)
			return &b->slot[i];
		if (!b->slot[i].ptr)
			return NULL;
	}
}

/* Insert v, whose address is not in the table. */
static void blocks_add(struct blocks *b, const struct block *v)
{
	size_t i;

	if ((b->nr + 1) * 2 > b->mask + 1)
		blocks_grow(b);
	for (i = hash_u64(v->ptr) & b->mask; b->slot[i].ptr; i = (i + 1) & b->mask)
		;
	b->nr++;
	b->slot[i] = *v;
}

static void blocks_grow(struct blocks *b)
{
	struct blocks nb = { lh_xcalloc(lh_st_mult(b->mask + 1, 2), sizeof(struct block)), b->mask * 2 + 1, 0 };

	for (size_t i = 0; i <= b->mask; i++)
		if (b->slot[i].ptr)
			blocks_add(&nb, &b->slot[i]);
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
		home = hash_u64(b->slot[j].ptr) & b->mask;
		/* move j back to i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			b->slot[i] = b->slot[j];
			i = j;
		}
	}
	b->slot[i].ptr = 0;
	b->nr--;
}

/* tid -> index + 1 in a table of twice as many slots as threads: a linear
 * scan made every change of thread cost the number of threads seen (2000
 * threads taking turns: 58% of a report) */
static inline size_t hash_tid(uint32_t tid)
{
	return (size_t)((tid * 0x9e3779b97f4a7c15ULL) >> 32);
}

static __attribute__((noinline)) uint32_t thread_find(struct pass *p, uint32_t tid)
{
	size_t i;

	for (i = hash_tid(tid) & p->tid_mask; p->tid_slot[i]; i = (i + 1) & p->tid_mask) {
		if (p->threads[p->tid_slot[i] - 1].tid == tid) {
			p->last_thread = p->tid_slot[i] - 1;
			return (uint32_t)p->last_thread;
		}
	}
	ALLOC_GROW(p->threads, p->nthreads + 1, p->threads_alloc);
	p->threads[p->nthreads] = (struct thread_last){ tid, 0 };
	p->last_thread = p->nthreads;
	p->nthreads++;
	if (p->nthreads * 2 > p->tid_mask + 1) {
		free(p->tid_slot);
		p->tid_mask = p->tid_mask * 2 + 1;
		p->tid_slot = lh_xcalloc(p->tid_mask + 1, sizeof(*p->tid_slot));
		for (size_t k = 0; k < p->nthreads; k++) {
			for (i = hash_tid(p->threads[k].tid) & p->tid_mask; p->tid_slot[i]; i = (i + 1) & p->tid_mask)
				;
			p->tid_slot[i] = (uint32_t)k + 1;
		}
	} else {
		p->tid_slot[i] = (uint32_t)p->nthreads;
	}
	return (uint32_t)p->last_thread;
}

/* The index of thread tid; most events come from the thread of the previous one. */
static inline uint32_t thread_index(struct pass *p, uint32_t tid)
{
	if (p->last_thread < p->nthreads && p->threads[p->last_thread].tid == tid)
		return (uint32_t)p->last_thread;
	return thread_find(p, tid);
}

/* Sizes are not addresses: hash_u64 drops their low 4 bits, so 16
 * neighbouring sizes shared a home slot and linear probing ran through
 * clusters (churn's 64 K distinct sizes: 88% of a report's time, 8.8 s for
 * 8 M events).  A multiplicative mix spreads them. */
static inline size_t hash_size(uint64_t s)
{
	s *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(s ^ s >> 29);
}

static void count_size(struct pass *p, uint64_t size, uint64_t n)
{
	size_t i;

	if ((p->sz_nr + 1) * 2 > p->sz_mask + 1) {
		struct lh_size_count *old = p->sz;
		size_t slots = p->sz_mask + 1;

		p->sz_mask = slots * 2 - 1;
		p->sz = lh_xcalloc(slots * 2, sizeof(*p->sz));
		for (size_t k = 0; k < slots; k++) {
			if (!old[k].size)
				continue;
			for (i = hash_size(old[k].size) & p->sz_mask; p->sz[i].size; i = (i + 1) & p->sz_mask)
				;
			p->sz[i] = old[k];
		}
		free(old);
	}
	for (i = hash_size(size + 1) & p->sz_mask; p->sz[i].size; i = (i + 1) & p->sz_mask) {
		if (p->sz[i].size == size + 1) {
			p->sz[i].count += n;
			return;
		}
	}
	p->sz[i].size = size + 1;
	p->sz[i].count = n;
	p->sz_nr++;
}

static void grow_nodes(struct lh_alloc_model *m, size_t want)
{
	size_t old = m->nodes_alloc;

	if (want <= old)
		return;
	m->nodes_alloc = want < 64 ? 64 : want + want / 2;
	m->node_parent = lh_xrealloc(m->node_parent, lh_st_mult(m->nodes_alloc, sizeof(*m->node_parent)));
	m->node_ip = lh_xrealloc(m->node_ip, lh_st_mult(m->nodes_alloc, sizeof(*m->node_ip)));
	m->cost = lh_xrealloc(m->cost, lh_st_mult(m->nodes_alloc, sizeof(*m->cost)));
	memset(m->node_parent + old, 0, (m->nodes_alloc - old) * sizeof(*m->node_parent));
	memset(m->node_ip + old, 0, (m->nodes_alloc - old) * sizeof(*m->node_ip));
	memset(m->cost + old, 0, (m->nodes_alloc - old) * sizeof(*m->cost));
}

/* An event names a stack the trie never defined (damage): count it at the root. */
static struct lh_alloc_cost *cost_of(struct lh_alloc_model *m, uint64_t stack)
{
	if (stack >= m->nnodes) {
		if (stack < (1u << 28) && stack < m->nodes_alloc)
			m->nnodes = stack + 1;
		else
			stack = 0;
	}
	return &m->cost[stack];
}

/* Before changing c's live counts: keep its value at the current peak. */
static inline void touch(struct lh_alloc_model *m, struct lh_alloc_cost *c, uint64_t seq)
{
	if (c->stamp <= m->peak_seq) {
		c->peak_bytes = c->live_bytes;
		c->peak_blocks = c->live_blocks;
	}
	c->stamp = seq;
}

static void take_at(struct lh_alloc_model *m, struct pass *p)
{
	for (size_t i = 0; i < m->nnodes; i++) {
		m->cost[i].at_bytes = m->cost[i].live_bytes;
		m->cost[i].at_blocks = m->cost[i].live_blocks;
	}
	m->at_heap = p->heap;
	m->at_blocks = p->blocks;
	m->at_real_ms = p->now_ms;
	m->at_taken = 1;
}

static void timeline_point(struct lh_alloc_model *m, struct pass *p, uint64_t rss)
{
	struct lh_timeline_point *pt;

	if (m->ntimeline && p->samples_in_point < m->timeline_stride) {
		pt = &m->timeline[m->ntimeline - 1];
		p->samples_in_point++;
	} else {
		if (m->ntimeline == LH_TIMELINE_MAX) {
			/* halve the resolution: merge neighbours, keep the maxima */
			for (size_t i = 0; i < LH_TIMELINE_MAX / 2; i++) {
				struct lh_timeline_point a = m->timeline[2 * i], b = m->timeline[2 * i + 1];

				b.heap_max = a.heap_max > b.heap_max ? a.heap_max : b.heap_max;
				b.rss = a.rss > b.rss ? a.rss : b.rss;
				m->timeline[i] = b;
			}
			m->ntimeline = LH_TIMELINE_MAX / 2;
			m->timeline_stride *= 2;
		}
		ALLOC_GROW(m->timeline, m->ntimeline + 1, p->timeline_alloc);
		pt = &m->timeline[m->ntimeline++];
		memset(pt, 0, sizeof(*pt));
		p->samples_in_point = 1;
	}
	pt->ms = p->now_ms;
	pt->heap = p->heap;
	/* between two RSS samples too: a peak between them was missed (a
	 * 202 MB peak drawn as 102 MB) */
	if (p->heap_hi > pt->heap_max)
		pt->heap_max = p->heap_hi;
	if (p->heap > pt->heap_max)
		pt->heap_max = p->heap;
	p->heap_hi = p->heap;
	if (rss > pt->rss)
		pt->rss = rss;
	pt->calls = m->calls;
	pt->temporary = m->temporary;
}

static void do_free(struct lh_alloc_model *m, struct pass *p, uint64_t ptr, uint64_t seq, uint32_t thr)
{
	struct block *e = blocks_find(&p->live, ptr);
	struct lh_alloc_cost *c;
	struct weight w;

	if (!e) {
		m->unknown_frees++;
		p->threads[thr].ptr = 0;
		return;
	}
	c = &m->cost[e->stack];
	w = weight_of(p, 0, e->size, NULL);
	w.blocks += !!(e->thr & BLOCK_UP);
	/* a sampled trace misses the events between its samples: nearly
	 * every recorded block would look temporary (sqlite3 at 64k: 34x) */
	if (p->threads[e->thr & BLOCK_THR].ptr == ptr && !p->inv_mean) {
		m->temporary += w.blocks;
		c->temporary += w.blocks;
	}
	p->threads[thr].ptr = 0;
	touch(m, c, seq);
	c->live_bytes -= w.bytes;
	c->live_blocks -= w.blocks;
	p->heap -= w.bytes;
	p->blocks -= w.blocks;
	m->frees += w.blocks;
	blocks_del(&p->live, e);
}

static void do_alloc(struct lh_alloc_model *m, struct pass *p, const struct ev *v)
{
	struct lh_alloc_cost *c = cost_of(m, v->stack);
	struct blocks *b = &p->live;
	struct weight w;
	int up = 0;
	size_t i;

	if ((b->nr + 1) * 2 > b->mask + 1)
		blocks_grow(b);
	for (i = hash_u64(v->ptr) & b->mask; b->slot[i].ptr; i = (i + 1) & b->mask) {
		if (b->slot[i].ptr == v->ptr) {
			/* an address handed out twice means its free was lost: forget the old block */
			do_free(m, p, v->ptr, v->seq, v->thr);
			for (i = hash_u64(v->ptr) & b->mask; b->slot[i].ptr; i = (i + 1) & b->mask)
				;
			break;
		}
	}
	w = weight_of(p, v->seq, v->size, &up);
	w.blocks += up;
	b->slot[i] = (struct block){ v->ptr, v->size, (uint32_t)(c - m->cost), v->thr | (up ? BLOCK_UP : 0) };
	b->nr++;
	p->threads[v->thr].ptr = v->ptr;
	touch(m, c, v->seq);
	c->calls += w.blocks;
	c->samples++;
	c->bytes += w.bytes;
	c->live_bytes += w.bytes;
	c->live_blocks += w.blocks;
	m->calls += w.blocks;
	m->sampled_calls++;
	m->alloc_bytes += w.bytes;
	p->heap += w.bytes;
	p->blocks += w.blocks;
	if (p->heap > p->heap_hi)
		p->heap_hi = p->heap;
	if (v->size < SMALL_SIZES)
		p->small_sizes[v->size] += w.blocks;
	else
		count_size(p, v->size, w.blocks);
	if (p->heap > m->peak_bytes) {
		m->peak_bytes = p->heap;
		m->peak_blocks = p->blocks;
		m->peak_seq = v->seq;
		m->peak_ms = p->now_ms;
	}
}

static inline void process(struct lh_alloc_model *m, struct pass *p, const struct ev *v)
{
	m->events++;
	if (v->type == LHT_REC_SAMPLE) {
		p->now_ms = v->size;
		p->last_rss = v->stack;
		if (v->stack > m->peak_rss)
			m->peak_rss = v->stack;
	}
	/* the live heap at --at: the state after every event up to that moment */
	if (p->now_ms > m->at_ms && !m->at_taken)
		take_at(m, p);
	switch (v->type) {
	case LHT_REC_SAMPLE:
		timeline_point(m, p, v->stack);
		break;
	case LHT_REC_FREE:
		do_free(m, p, v->ptr, v->seq, v->thr);
		break;
	case LHT_REC_REALLOC:
		if (v->old)
			do_free(m, p, v->old, v->seq, v->thr);
		do_alloc(m, p, v);
		break;
	case LHT_REC_ALLOC:
		do_alloc(m, p, v);
		break;
	}
}

static void ring_grow(struct pass *p, size_t need)
{
	size_t n = p->ring_mask + 1, nn = n;
	struct ev *nr;

	while (nn <= need)
		nn *= 2;
	nr = lh_xcalloc(nn, sizeof(*nr));
	for (size_t i = 0; i < n; i++)
		if (p->ring[i].type)
			nr[p->ring[i].seq & (nn - 1)] = p->ring[i];
	free(p->ring);
	p->ring = nr;
	p->ring_mask = nn - 1;
}

/* Process the waiting events that are next in order. */
static void ring_drain(struct lh_alloc_model *m, struct pass *p)
{
	while (p->pending) {
		struct ev *s = &p->ring[p->next_seq & p->ring_mask];

		if (!s->type || s->seq != p->next_seq)
			return;
		process(m, p, s);
		s->type = 0;
		p->pending--;
		p->next_seq++;
	}
}

/*
 * Give up on missing numbers: jump to the oldest waiting event.  Every
 * waiting number lies in [next_seq, next_seq + ring size) (event_in grows
 * the ring to fit), so the first used slot from next_seq on is the oldest,
 * and the scan only covers numbers that are given up on: linear in all.
 */
static void ring_skip(struct lh_alloc_model *m, struct pass *p)
{
	size_t k = 0;

	while (k <= p->ring_mask && !p->ring[(p->next_seq + k) & p->ring_mask].type)
		k++;
	if (k > p->ring_mask)
		return;
	if (p->ngiven_up && p->given_up[p->ngiven_up - 1].hi == p->next_seq) {
		p->given_up[p->ngiven_up - 1].hi += k;
	} else {
		ALLOC_GROW(p->given_up, p->ngiven_up + 1, p->given_up_alloc);
		p->given_up[p->ngiven_up++] = (struct seq_range){ p->next_seq, p->next_seq + k };
	}
	m->missing += k;
	p->next_seq += k;
	ring_drain(m, p);
}

/*
 * An event whose number is behind next_seq: one given up on that came after
 * all (already counted missing), or a number an event had before, which no
 * writer hands out twice: damage, counted, and the first event keeps it.
 */
static __attribute__((noinline)) void event_late(struct lh_alloc_model *m, const struct pass *p, uint64_t seq)
{
	/* the first range given up on that ends above seq */
	size_t lo = lh_sorted_count_le(p->given_up, p->ngiven_up, sizeof(*p->given_up), offsetof(struct seq_range, hi), seq);

	if (lo == p->ngiven_up || seq < p->given_up[lo].lo)
		m->duplicates++;
}

static void event_in(struct lh_alloc_model *m, struct pass *p, const struct ev *v)
{
	uint64_t lag;

	if (v->seq == p->next_seq && !p->pending) {
		process(m, p, v);
		p->next_seq++;
		return;
	}
	if (v->seq < p->next_seq) {
		event_late(m, p, v->seq);
		return;
	}
	lag = v->seq - p->next_seq;
	if (lag > m->max_lag)
		m->max_lag = lag;
	if (lag > LAG_LIMIT) {
		ring_skip(m, p);
		if (v->seq < p->next_seq) {
			event_late(m, p, v->seq);
			return;
		}
		lag = v->seq - p->next_seq;
	}
	if (lag > p->ring_mask)
		ring_grow(p, lag);
	if (p->ring[v->seq & p->ring_mask].type) {
		m->duplicates++; /* the same number twice (damage): the first one counts */
		return;
	}
	p->ring[v->seq & p->ring_mask] = *v;
	p->pending++;
	ring_drain(m, p);
}

static inline int vget(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	if (*pp < end && **pp < 0x80) {
		*out = *(*pp)++;
		return 0;
	}
	return lht_get_varint(pp, end, out);
}

#define MAX_EVENT_BYTES (1 + 5 * 10) /* type and five varints */

/*
 * decode_event for a record with MAX_EVENT_BYTES + 8 readable bytes: the same
 * result, with vget8.  -1 when a varint is longer than 8 bytes or the record
 * is not an event: the caller then decodes it with decode_event.
 */
static inline int decode_event_fast(const uint8_t **qq, uint64_t *seq, uint64_t *ptr, struct ev *v)
{
	const uint8_t *q = *qq;
	uint64_t d, z;

	v->type = *q++;
	if (lht_get_varint8(&q, &d))
		return -1;
	switch (v->type) {
	case LHT_REC_FREE:
		if (lht_get_varint8(&q, &z))
			return -1;
		v->size = v->stack = v->old = 0;
		break;
	case LHT_REC_ALLOC:
	case LHT_REC_REALLOC:
		if (lht_get_varint8(&q, &v->size) || lht_get_varint8(&q, &v->stack) || lht_get_varint8(&q, &z))
			return -1;
		v->old = 0;
		if (v->type == LHT_REC_REALLOC && lht_get_varint8(&q, &v->old))
			return -1;
		break;
	default:
		return -1;
	}
	/* address 0 is damage: lh_trace_next says so */
	if (!(v->ptr = *ptr + (uint64_t)lht_unzigzag(z)))
		return -1;
	*ptr = v->ptr;
	*seq += d;
	v->seq = *seq;
	*qq = q;
	return 0;
}

/*
 * Decode one A/F/R/S record at *qq (exactly as trace.c does) into v; 0, or
 * -1 for any other record or one that does not decode (left for lh_trace_next).
 */
static inline int decode_event(const uint8_t **qq, const uint8_t *end, uint64_t *seq, uint64_t *ptr,
			       struct ev *v)
{
	const uint8_t *q = *qq;
	uint64_t d, z;

	v->type = *q++;
	switch (v->type) {
	case LHT_REC_ALLOC:
	case LHT_REC_REALLOC:
		if (vget(&q, end, &d) || vget(&q, end, &v->size) || vget(&q, end, &v->stack) || vget(&q, end, &z))
			return -1;
		v->old = 0;
		if (v->type == LHT_REC_REALLOC && vget(&q, end, &v->old))
			return -1;
		/* address 0 is damage: left to lh_trace_next, which says so */
		if (!(v->ptr = *ptr + (uint64_t)lht_unzigzag(z)))
			return -1;
		*ptr = v->ptr;
		break;
	case LHT_REC_FREE:
		if (vget(&q, end, &d) || vget(&q, end, &z))
			return -1;
		if (!(v->ptr = *ptr + (uint64_t)lht_unzigzag(z)))
			return -1;
		*ptr = v->ptr;
		v->size = v->stack = v->old = 0;
		break;
	case LHT_REC_SAMPLE:
		if (vget(&q, end, &d) || vget(&q, end, &v->size) || vget(&q, end, &v->stack))
			return -1;
		v->ptr = v->old = 0;
		break;
	default:
		return -1;
	}
	*seq += d;
	v->seq = *seq;
	*qq = q;
	return 0;
}

/*
 * The pass runs on two threads when the process has two CPUs: this one reads
 * the file (lh_trace_next: zstd, and the decoding of the columns into
 * events) and turns the records into messages, and an analyzer thread runs
 * the events through the model.  They meet in a queue of SLABS buffers of
 * messages in file order, so the analyzer sees exactly the sequence a single
 * thread would: the numbers cannot depend on the threads.  Memory is the
 * slabs, never the trace.  The reader keeps what only finish() needs
 * (strings, symbols, modules, info, end); the analyzer owns everything
 * events touch.
 */
#define SLABS 8
#define SLAB_BYTES (64u << 10)

enum msg_kind {
	MSG_EVENTS = 1, /* len events (struct ev, thr not set yet) follow */
	MSG_NODE,       /* a stack node: ev.seq = id, ev.ptr = parent, ev.stack = ip */
};

struct msg {
	uint32_t kind;
	uint32_t tid;   /* thread that wrote the chunk */
	uint64_t len;
	struct ev ev;
};

struct slab {
	uint8_t *buf;
	size_t len, alloc;
};

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;     /* a slab was published or consumed, or the end */
	struct slab slab[SLABS];
	uint64_t head, tail;     /* slabs published, slabs consumed */
	int done, threaded;
	pthread_t thread;
	struct lh_alloc_model *m;
	struct pass *p;
	uint64_t nread;          /* the reader's: events sent so far */
};

/*
 * A run of events from one thread.  The table slot of the event PREFETCH
 * places ahead is prefetched before each one is processed: the table is
 * random access by nature, and the loads then overlap with the work on the
 * events before them instead of stalling each.
 */
#define PREFETCH 8

static void events_in(struct lh_alloc_model *m, struct pass *p, const struct msg *h)
{
	const struct ev *v = (const struct ev *)(h + 1);
	uint32_t thr = thread_index(p, h->tid);

	for (size_t i = 0; i < h->len; i++) {
		struct ev e = v[i];

		if (i + PREFETCH < h->len) {
			const struct ev *a = &v[i + PREFETCH];

			__builtin_prefetch(&p->live.slot[hash_u64(a->old ? a->old : a->ptr) & p->live.mask]);
		}
		e.thr = thr;
		event_in(m, p, &e);
	}
}

static void add_node(struct lh_alloc_model *m, uint64_t id, uint64_t parent, uint64_t ip);

static void slab_consume(struct queue *qu, const struct slab *s)
{
	for (size_t off = 0; off < s->len;) {
		const struct msg *h = (const struct msg *)(s->buf + off);

		if (h->kind == MSG_EVENTS) {
			events_in(qu->m, qu->p, h);
			off += sizeof(*h) + h->len * sizeof(struct ev);
		} else {
			add_node(qu->m, h->ev.seq, h->ev.ptr, h->ev.stack);
			off += sizeof(*h);
		}
	}
}

static void *analyzer(void *arg)
{
	struct queue *qu = arg;

	pthread_mutex_lock(&qu->lock);
	for (;;) {
		while (qu->tail == qu->head && !qu->done)
			pthread_cond_wait(&qu->cond, &qu->lock);
		if (qu->tail == qu->head)
			break;
		pthread_mutex_unlock(&qu->lock);
		/* the reader fills other slabs meanwhile: head - tail < SLABS */
		slab_consume(qu, &qu->slab[qu->tail % SLABS]);
		pthread_mutex_lock(&qu->lock);
		__atomic_store_n(&qu->tail, qu->tail + 1, __ATOMIC_RELAXED);
		pthread_cond_broadcast(&qu->cond);
	}
	pthread_mutex_unlock(&qu->lock);
	return NULL;
}

/* The CPUs this process may run on (taskset), not those of the machine. */
static int cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return (int)sysconf(_SC_NPROCESSORS_ONLN);
	return CPU_COUNT(&set);
}

static void queue_init(struct queue *qu, struct lh_alloc_model *m, struct pass *p)
{
	memset(qu, 0, sizeof(*qu));
	qu->m = m;
	qu->p = p;
	pthread_mutex_init(&qu->lock, NULL);
	pthread_cond_init(&qu->cond, NULL);
	/* one CPU for us, or no thread to be had: the reader analyzes each slab itself */
	qu->threaded = cpus() > 1 && !pthread_create(&qu->thread, NULL, analyzer, qu);
}

/* Hand the current slab over, then wait until the next one is free. */
static void queue_publish(struct queue *qu)
{
	if (!qu->threaded) {
		slab_consume(qu, &qu->slab[qu->head % SLABS]);
		qu->slab[qu->head % SLABS].len = 0;
		return;
	}
	pthread_mutex_lock(&qu->lock);
	qu->head++;
	pthread_cond_broadcast(&qu->cond);
	while (qu->head - qu->tail >= SLABS)
		pthread_cond_wait(&qu->cond, &qu->lock);
	pthread_mutex_unlock(&qu->lock);
	qu->slab[qu->head % SLABS].len = 0;
}

/* Room for a message of up to n bytes (header included) in the current
 * slab; the caller adds what it used to the slab's len. */
static struct msg *queue_room(struct queue *qu, size_t n)
{
	struct slab *s = &qu->slab[qu->head % SLABS];

	if (s->len && s->len + n > SLAB_BYTES) {
		queue_publish(qu);
		s = &qu->slab[qu->head % SLABS];
	}
	ALLOC_GROW(s->buf, s->len + n, s->alloc);
	return (struct msg *)(s->buf + s->len);
}

static void queue_used(struct queue *qu, size_t n)
{
	qu->slab[qu->head % SLABS].len += n;
}

/* Everything sent so far is analyzed when this returns. */
static void queue_finish(struct queue *qu)
{
	if (qu->slab[qu->head % SLABS].len)
		queue_publish(qu);
	if (qu->threaded) {
		pthread_mutex_lock(&qu->lock);
		qu->done = 1;
		pthread_cond_broadcast(&qu->cond);
		pthread_mutex_unlock(&qu->lock);
		pthread_join(qu->thread, NULL);
	}
	for (int i = 0; i < SLABS; i++)
		free(qu->slab[i].buf);
	pthread_mutex_destroy(&qu->lock);
	pthread_cond_destroy(&qu->cond);
}

#define MIN_EVENT_BYTES 3 /* a free: type, seq delta, pointer delta */
#define EVENTS_PER_MSG 4096

/*
 * Sequence numbers the file cannot hold.  In a real trace the numbers below
 * an event's that are not in the file yet belong to events still in other
 * threads' buffers (two halves of at most 32768 events a thread, written
 * every 10-100 ms): an event numbered more than SEQ_AHEAD past the events
 * read before it is a damaged number (a flipped bit in a seq delta, say,
 * which moves the rest of its chunk too).  Reading stops there, as at any
 * damage; so the ring, which spans every waiting number, never grows past
 * SEQ_AHEAD plus the events read (a number near 2^64 made it loop forever).
 */
static inline int seq_far(uint64_t seq, uint64_t before)
{
	return seq > before && seq - before > SEQ_AHEAD;
}

/* Whether a compressed chunk's events (t->ev, the first just returned by
 * lh_trace_next) all have numbers the file can hold; if not, reading stops
 * and none of them is sent, as for any damaged compressed chunk. */
static int chunk_seqs_ok(struct queue *qu, struct lh_trace *t)
{
	for (size_t i = 0; i < t->ev_nr; i++) {
		if (seq_far(t->ev[i].seq, qu->nread + i)) {
			lh_trace_damaged(t, "event number %" PRIu64 " in the compressed chunk at byte %zu is far "
					 "past the %" PRIu64 " events before it (a damaged number)",
					 t->ev[i].seq, t->chunk_off, qu->nread + i);
			return 0;
		}
	}
	return 1;
}

static void seq_damage(struct lh_trace *t, uint64_t seq, uint64_t before, size_t off)
{
	lh_trace_damaged(t, "event number %" PRIu64 " at byte %zu is far past the %" PRIu64
			 " events before it (a damaged number)", seq, off, before);
}

/* The events of the reader's current compressed chunk (decoded by the
 * reader), as messages of up to EVENTS_PER_MSG events. */
static void send_chunk_events(struct queue *qu, struct lh_trace *t)
{
	const struct lh_trace_event *e;
	size_t n;

	while ((e = lh_trace_events(t, EVENTS_PER_MSG, &n))) {
		struct msg *h = queue_room(qu, sizeof(*h) + n * sizeof(struct ev));
		struct ev *v = (struct ev *)(h + 1);

		memcpy(v, e, n * sizeof(*v));
		h->kind = MSG_EVENTS;
		h->tid = t->tid;
		h->len = n;
		queue_used(qu, sizeof(*h) + n * sizeof(struct ev));
		qu->nread += n;
	}
}

/*
 * The event records left in the reader's current plain chunk, decoded from
 * the reader's own cursor (t->p, t->chunk_end, t->last_seq, t->last_ptr) into
 * messages of up to EVENTS_PER_MSG events: lh_trace_next fills a 400-byte
 * record per call, which was most of the cost of reading 16 M events.  Any
 * record other than A/F/R/S is left where it starts for lh_trace_next, which
 * handles it and reports damage.
 */
static void send_events(struct queue *qu, struct lh_trace *t)
{
	send_chunk_events(qu, t);
	while (t->p && t->p < t->chunk_end) {
		const uint8_t *q = t->p, *end = t->chunk_end;
		const uint8_t *far = NULL;
		uint64_t seq = t->last_seq, ptr = t->last_ptr;
		size_t most = (size_t)(end - q) / MIN_EVENT_BYTES + 1, n = 0;
		struct msg *h;
		struct ev *v;

		if (most > EVENTS_PER_MSG)
			most = EVENTS_PER_MSG;
		/* a node or other record next: lh_trace_next's.  Asking for room
		 * first published the slab for every node of a deep new stack
		 * (room for 4096 events does not fit next to anything) */
		if (*q != LHT_REC_ALLOC && *q != LHT_REC_FREE && *q != LHT_REC_REALLOC && *q != LHT_REC_SAMPLE)
			return;
		h = queue_room(qu, sizeof(*h) + most * sizeof(struct ev));
		v = (struct ev *)(h + 1);
		while (n < most && q < end) {
			const uint8_t *rec = q;

			if (!((end - q >= MAX_EVENT_BYTES + 8 && !decode_event_fast(&q, &seq, &ptr, &v[n])) ||
			      !decode_event(&q, end, &seq, &ptr, &v[n])))
				break;
			if (seq_far(v[n].seq, qu->nread + n)) {
				far = rec;
				break;
			}
			n++;
		}
		t->p = q;
		t->last_seq = seq;
		t->last_ptr = ptr;
		if (n) {
			h->kind = MSG_EVENTS;
			h->tid = t->tid;
			h->len = n;
			queue_used(qu, sizeof(*h) + n * sizeof(struct ev));
			qu->nread += n;
		}
		if (far)
			seq_damage(t, v[n].seq, qu->nread, (size_t)(far - (const uint8_t *)t->mf.data));
		if (!n || far)
			return;
	}
}

/* An event lh_trace_next decoded (one that send_events left to it). */
static void rec_in(struct queue *qu, const struct lh_trace_rec *r)
{
	struct msg *h = queue_room(qu, sizeof(*h) + sizeof(struct ev));
	struct ev *v = (struct ev *)(h + 1);

	*v = (struct ev){ r->seq, r->ptr, r->size, r->stack, r->old, r->type, 0 };
	if (v->type == LHT_REC_SAMPLE) {
		v->size = r->ms;
		v->stack = r->rss;
	}
	h->kind = MSG_EVENTS;
	h->tid = r->tid;
	h->len = 1;
	queue_used(qu, sizeof(*h) + sizeof(struct ev));
	qu->nread++;
}

static void node_in(struct queue *qu, const struct lh_trace_rec *r)
{
	struct msg *h = queue_room(qu, sizeof(*h));

	h->kind = MSG_NODE;
	h->tid = r->tid;
	h->len = 0;
	h->ev = (struct ev){ .seq = r->id, .ptr = r->parent, .stack = r->ip };
	queue_used(qu, sizeof(*h));
}

static void add_node(struct lh_alloc_model *m, uint64_t id, uint64_t parent, uint64_t ip)
{
	if (id >= (1u << 28))
		return;
	grow_nodes(m, id + 1);
	if (id >= m->nnodes)
		m->nnodes = id + 1;
	m->node_parent[id] = parent < id ? parent : 0;
	m->node_ip[id] = ip;
}

static void add_symbol(struct lh_alloc_model *m, const struct lh_trace *t, const struct lh_trace_rec *r)
{
	if (!r->nframes)
		return;
	ALLOC_GROW(m->syms, m->nsyms + 1, m->syms_alloc);
	ALLOC_GROW(m->symframes, m->nsymframes + 3 * (size_t)r->nframes, m->symframes_alloc);
	m->syms[m->nsyms++] = (struct lh_alloc_sym){ r->ip, (uint32_t)m->nsymframes, (uint32_t)r->nframes };
	for (int i = 0; i < r->nframes; i++) {
		m->symframes[m->nsymframes++] = (uint32_t)t->frames[i].function;
		m->symframes[m->nsymframes++] = (uint32_t)t->frames[i].file;
		m->symframes[m->nsymframes++] = (uint32_t)t->frames[i].line;
	}
}

/* seen: the (bias, lo, path) keys of the modules so far.  Every dlopen
 * writes the whole list again: a scan of the modules per record made 2000
 * libraries loaded one by one cubic (84% of a report's time). */
static void add_module(struct lh_alloc_model *m, const struct lh_trace_rec *r, struct lh_hashmap *seen,
		       struct strbuf *key)
{
	struct lh_alloc_module mod = { r->bias, UINT64_MAX, 0, NULL };
	int added;

	for (int i = 0; i < r->nseg; i++) {
		uint64_t lo = r->bias + r->seg_vaddr[i], hi = lo + r->seg_memsz[i];

		if (lo < mod.lo)
			mod.lo = lo;
		if (hi > mod.hi)
			mod.hi = hi;
	}
	/* the same object listed again after a dlopen: keep one */
	strbuf_reset(key);
	strbuf_add(key, &mod.bias, sizeof(mod.bias));
	strbuf_add(key, &mod.lo, sizeof(mod.lo));
	strbuf_add(key, r->str, r->str_len);
	lh_hashmap_put(seen, key->buf, key->len, &added);
	if (!added)
		return;
	mod.path = lh_xstrndup(r->str, r->str_len);
	ALLOC_GROW(m->modules, m->nmodules + 1, m->modules_alloc);
	m->modules[m->nmodules++] = mod;
}

void lh_alloc_model_init(struct lh_alloc_model *m, uint64_t at_ms)
{
	memset(m, 0, sizeof(*m));
	strbuf_init(&m->damage, 0);
	strbuf_init(&m->strpool, 0);
	lh_hashmap_init(&m->funcs);
	m->at_ms = at_ms;
	m->timeline_stride = 1;
	m->main_func = m->start_func = UINT32_MAX;
}

int lh_alloc_model_load(struct lh_alloc_model *m, const char *path)
{
	struct pass p;
	struct lh_trace t;
	struct lh_trace_rec r;
	struct queue qu;
	size_t dropped = 0;
	uint64_t nodes = 1; /* the next node id, the root 0 being implied */
	struct lh_hashmap seen_modules;
	struct strbuf module_key = STRBUF_INIT;

	if (lh_trace_open(&t, path))
		return -1;
	lh_hashmap_init(&seen_modules);
	if (t.flags & LHT_FLAG_WRITE_FAILED)
		m->write_error = (int)(t.flags >> LHT_FLAG_ERRNO_SHIFT & 0xff);
	m->attached = !!(t.flags & LHT_FLAG_ATTACHED);
	memset(&p, 0, sizeof(p));
	p.live = (struct blocks){ lh_xcalloc(1024, sizeof(struct block)), 1023, 0 };
	p.ring = lh_xcalloc(1024, sizeof(struct ev));
	p.ring_mask = 1023;
	p.sz = lh_xcalloc(256, sizeof(*p.sz));
	p.sz_mask = 255;
	p.tid_slot = lh_xcalloc(64, sizeof(*p.tid_slot));
	p.tid_mask = 63;
	grow_nodes(m, 1);
	m->nnodes = 1;
	queue_init(&qu, m, &p);
	for (;;) {
		send_events(&qu, &t);
		if (!lh_trace_next(&t, &r))
			break;
		switch (r.type) {
		case LHT_REC_ALLOC:
		case LHT_REC_FREE:
		case LHT_REC_REALLOC:
		case LHT_REC_SAMPLE:
			/* a compressed chunk is checked whole, at its first event */
			if (t.zchunk && t.ev_next == 1 && !chunk_seqs_ok(&qu, &t))
				break;
			if (!t.zchunk && seq_far(r.seq, qu.nread)) {
				seq_damage(&t, r.seq, qu.nread, t.rec_off);
				break;
			}
			rec_in(&qu, &r);
			break;
		case LHT_REC_NODE:
			/* the writer numbers nodes 1, 2, ... and writes each at once,
			 * so a node is at most the next one: a bigger id is damage
			 * (2^28 - 1 made the per-node arrays 40 GB) */
			if (r.id > nodes) {
				lh_trace_damaged(&t, "stack node %" PRIu64 " at byte %zu comes after only %" PRIu64
						 " nodes (a damaged id)", r.id, t.rec_off, nodes - 1);
				break;
			}
			nodes += r.id == nodes;
			node_in(&qu, &r);
			break;
		case LHT_REC_END:
			m->ended = 1;
			if (r.ms > m->runtime_ms)
				m->runtime_ms = r.ms;
			if (r.seq > m->end_events)
				m->end_events = r.seq;
			break;
		case LHT_REC_STRING:
			/* ids are dense from 1; anything else is damage we skip */
			if (r.id == m->nstr + 1) {
				ALLOC_GROW(m->str_off, m->nstr + 1, m->str_alloc);
				m->str_off[m->nstr++] = m->strpool.len;
				strbuf_add(&m->strpool, r.str, r.str_len);
				strbuf_addch(&m->strpool, 0);
			}
			break;
		case LHT_REC_SYMBOL:
			add_symbol(m, &t, &r);
			break;
		case LHT_REC_SYMBOLS_END:
			m->has_symbols = 1;
			break;
		case LHT_REC_MODULE:
			add_module(m, &r, &seen_modules, &module_key);
			break;
		case LHT_REC_INFO:
			if (!m->exe) {
				m->exe = lh_xstrndup(r.str, r.str_len);
				m->cmdline = lh_xstrndup(r.str2, r.str2_len);
				m->sample_mean = r.sample;
				m->unwind_fp = r.unwind == LHT_UNWIND_FP;
				/* no event is queued yet: the analyzer thread is not
				 * reading p (the queue's lock orders this before it) */
				if (r.sample && !qu.nread)
					p.inv_mean = 1.0 / (double)r.sample;
			}
			break;
		default:
			break;
		}
		/* the mapped file must not stay resident as we go: flat memory */
		if (t.off > dropped + DROP_EVERY) {
			size_t upto = t.off - DROP_EVERY / 2;

			lh_mapfile_drop(&t.mf, dropped, upto - dropped);
			dropped = upto;
		}
	}
	queue_finish(&qu);
	/* the end of the file: whatever still waits comes after lost numbers */
	while (p.pending)
		ring_skip(m, &p);
	/*
	 * Numbers the end record counts that no event had, after the last one
	 * read: lost too (a thread's last event), or the count is damaged.  A
	 * number at or past the count is not damage: the timer's last sample
	 * may take one just after the end record was written.
	 */
	if (m->ended && !t.damage.len && m->end_events > p.next_seq) {
		m->missing_at_end = m->end_events - p.next_seq;
		m->missing += m->missing_at_end;
	}
	if (!m->at_taken && m->at_ms != LH_AT_END)
		take_at(m, &p);
	for (size_t i = 0; i < m->nnodes; i++)
		touch(m, &m->cost[i], UINT64_MAX);
	if (p.now_ms > m->runtime_ms)
		m->runtime_ms = p.now_ms;
	if (!m->ntimeline || m->timeline[m->ntimeline - 1].ms < m->runtime_ms || m->ended) {
		p.now_ms = m->runtime_ms;
		p.samples_in_point = m->timeline_stride; /* a point of its own */
		timeline_point(m, &p, p.last_rss);
	}
	m->heap_end = p.heap;
	m->blocks_end = p.blocks;
	m->leaked_bytes = p.heap;
	m->leaked_blocks = p.blocks;
	strbuf_addstr(&m->damage, t.damage.buf);
	for (size_t i = 0; i < SMALL_SIZES; i++) {
		if (!p.small_sizes[i])
			continue;
		ALLOC_GROW(m->sizes, m->nsizes + 1, p.sizes_alloc);
		m->sizes[m->nsizes++] = (struct lh_size_count){ i, p.small_sizes[i] };
	}
	for (size_t i = 0; i <= p.sz_mask; i++) {
		if (!p.sz[i].size)
			continue;
		ALLOC_GROW(m->sizes, m->nsizes + 1, p.sizes_alloc);
		m->sizes[m->nsizes++] = (struct lh_size_count){ p.sz[i].size - 1, p.sz[i].count };
	}
	lh_trace_release(&t);
	lh_hashmap_release(&seen_modules);
	strbuf_release(&module_key);
	free(p.live.slot);
	free(p.ring);
	free(p.given_up);
	free(p.threads);
	free(p.tid_slot);
	free(p.sz);
	return 0;
}

size_t lh_alloc_size_buckets(const struct lh_alloc_model *m, uint64_t bucket[LH_SIZE_BUCKETS])
{
	memset(bucket, 0, LH_SIZE_BUCKETS * sizeof(*bucket));
	for (size_t i = 0; i < m->nsizes; i++) {
		uint64_t s = m->sizes[i].size;

		bucket[s ? 64 - __builtin_clzll(s) : 0] += m->sizes[i].count;
	}
	return m->nsizes;
}

const char *lh_alloc_string(const struct lh_alloc_model *m, uint64_t id)
{
	if (!id || id > m->nstr)
		return "";
	return m->strpool.buf + m->str_off[id - 1];
}

static int cmp_sym(const void *a, const void *b)
{
	const struct lh_alloc_sym *x = a, *y = b;

	return x->ip < y->ip ? -1 : x->ip > y->ip;
}

static int cmp_size(const void *a, const void *b)
{
	const struct lh_size_count *x = a, *y = b;

	return x->size < y->size ? -1 : x->size > y->size;
}

static const struct lh_alloc_sym *find_sym(const struct lh_alloc_model *m, uint64_t ip)
{
	size_t lo = 0, hi = m->nsyms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->syms[mid].ip < ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->nsyms && m->syms[lo].ip == ip ? &m->syms[lo] : NULL;
}

/*
 * Which module holds an address: the module ranges cut the address space
 * into pieces at their bounds, each with its owner (index + 1, 0: none).
 * Later modules win: a dlopen may reuse an unloaded object's range.  (A
 * scan of the modules per node, from the last, made 2000 libraries and
 * 262,144 stacks 70% of a report.)
 */
struct module_map {
	uint64_t *at;   /* the sorted distinct bounds; piece i is [at[i], at[i + 1]) */
	uint32_t *own;  /* owner of piece i */
	size_t n;       /* bounds */
};

static size_t piece_of(const struct module_map *mm, uint64_t ip)
{
	return lh_sorted_count_le(mm->at, mm->n, sizeof(*mm->at), 0, ip) - 1; /* ip >= at[0] */
}

/* next[i]: a piece at or after i that may have no owner yet (n - 1: none) */
static size_t next_free(size_t *next, size_t i)
{
	size_t r = i;

	while (next[r] != r)
		r = next[r];
	while (next[i] != r) {
		size_t t = next[i];

		next[i] = r;
		i = t;
	}
	return r;
}

static void module_map_build(struct module_map *mm, const struct lh_alloc_model *m)
{
	size_t n = 0, *next;

	mm->at = lh_xmalloc((2 * m->nmodules + 1) * sizeof(*mm->at));
	for (size_t i = 0; i < m->nmodules; i++) {
		if (m->modules[i].lo >= m->modules[i].hi)
			continue;
		mm->at[n++] = m->modules[i].lo;
		mm->at[n++] = m->modules[i].hi;
	}
	if (n)
		qsort(mm->at, n, sizeof(*mm->at), lh_cmp_u64);
	mm->n = 0;
	for (size_t i = 0; i < n; i++)
		if (!mm->n || mm->at[mm->n - 1] != mm->at[i])
			mm->at[mm->n++] = mm->at[i];
	mm->own = lh_xcalloc(mm->n + 1, sizeof(*mm->own));
	next = lh_xmalloc((mm->n + 1) * sizeof(*next));
	for (size_t i = 0; i <= mm->n; i++)
		next[i] = i;
	/* the last module first: each piece keeps the first owner it gets */
	for (size_t i = m->nmodules; i-- > 0;) {
		size_t k, end;

		if (m->modules[i].lo >= m->modules[i].hi)
			continue;
		end = piece_of(mm, m->modules[i].hi);
		for (k = next_free(next, piece_of(mm, m->modules[i].lo)); k < end; k = next_free(next, k)) {
			mm->own[k] = (uint32_t)i + 1;
			next[k] = k + 1;
		}
	}
	free(next);
}

/* Index + 1 of the module holding ip, 0 when none does. */
static uint32_t module_of(const struct module_map *mm, uint64_t ip)
{
	if (!mm->n || ip < mm->at[0] || ip >= mm->at[mm->n - 1])
		return 0;
	return mm->own[piece_of(mm, ip)];
}

static uint32_t intern(struct lh_alloc_model *m, const char *name)
{
	int added;
	struct lh_hashmap_entry *e = lh_hashmap_put(&m->funcs, name, strlen(name) + 1, &added);

	return (uint32_t)(e - m->funcs.entries);
}


/* An unresolved frame: "module+0xoffset" (offset from the load bias), or the address. */
static uint32_t intern_unresolved(struct lh_alloc_model *m, uint64_t ip, uint32_t mod, struct strbuf *sb)
{
	strbuf_reset(sb);
	if (ip == LHT_IP_TRUNCATED)
		strbuf_addstr(sb, "[truncated]");
	else if (mod) {
		const char *path = m->modules[mod - 1].path;

		strbuf_addf(sb, "%s+0x%" PRIx64, *path ? lh_path_base(path) : (m->exe ? lh_path_base(m->exe) : "[exe]"),
			    ip - m->modules[mod - 1].bias);
	} else {
		strbuf_addf(sb, "0x%" PRIx64, ip);
	}
	return intern(m, sb->buf);
}

#define NAME_PENDING 0x80000000u /* node_frames[].func holds a name's string id */

/* The identity of a named function: its name, module and source file. */
struct func_key {
	uint32_t name, module, file;
};

static void count_up(struct lh_hashmap *h, const void *key, size_t len)
{
	int added;

	lh_hashmap_put(h, key, len, &added)->value++;
}

/* The key of a last part of a path among the files of (name, module), or
 * the modules of name (len 2 or 1 of key's ids): kind, the ids, the part. */
static void part_key(struct strbuf *sb, char kind, const struct func_key *key, size_t len, const char *part)
{
	strbuf_reset(sb);
	strbuf_addch(sb, kind);
	strbuf_add(sb, key, len * sizeof(uint32_t));
	strbuf_addstr(sb, part);
}

/* A module's path, "" for the program (when the trace has no name of it). */
static const char *module_path(const struct lh_alloc_model *m, uint32_t module)
{
	const char *mod = module ? m->modules[module - 1].path : "";

	return *mod ? mod : (m->exe ? m->exe : "[exe]");
}

/* path, or its last part where no other path among them has that part */
static const char *label(const struct lh_hashmap *parts, struct strbuf *key, char kind, const struct func_key *fk,
			 size_t len, const char *path)
{
	const struct lh_hashmap_entry *e;

	part_key(key, kind, fk, len, lh_path_base(path));
	e = lh_hashmap_get(parts, key->buf, key->len);
	return e && e->value > 1 ? path : lh_path_base(path);
}

/*
 * Function ids for the named frames.  A name alone merged different
 * functions: a static helper() in a library and another in the program, or
 * in two files of one program, were one site (heaptrack keeps them apart).
 * A function is its name, module and source file (the file of its frames'
 * lines: a function's own lines are in its own file, what it inlined has
 * frames of its own); a name that more than one function has is shown with
 * what tells them apart: "helper (libtwo.so)", "helper (a.c)".  Frames
 * without a file join the function of their name and module when there is
 * only one.
 */
static void name_functions(struct lh_alloc_model *m)
{
	/* seen: (name, module, file) and (name, module) pairs met; files: by
	 * (name, module), its files; modules: by name, its modules */
	struct lh_hashmap seen, files_of, modules_of, parts;
	struct strbuf sb = STRBUF_INIT, pk = STRBUF_INIT;
	size_t bare_alloc = 0;

	lh_hashmap_init(&seen);
	lh_hashmap_init(&files_of);
	lh_hashmap_init(&modules_of);
	/* parts: how many files of (name, module), or modules of name, end
	 * in one last part: two util.c in two directories, shown by their
	 * paths (by their last parts they were one function again) */
	lh_hashmap_init(&parts);
	for (size_t k = 0; k < m->nnode_frames; k++) {
		const struct lh_alloc_frame *f = &m->node_frames[k];
		struct func_key key = { f->func & ~NAME_PENDING, f->module, f->file };
		struct func_key pair = { key.name, key.module, UINT32_MAX }; /* no file id is UINT32_MAX */
		int added;

		if (!(f->func & NAME_PENDING))
			continue;
		if (key.file) {
			lh_hashmap_put(&seen, &key, sizeof(key), &added);
			if (added) {
				count_up(&files_of, &key, 2 * sizeof(uint32_t));
				part_key(&pk, 'f', &key, 2, lh_path_base(lh_alloc_string(m, key.file)));
				count_up(&parts, pk.buf, pk.len);
			}
		}
		lh_hashmap_put(&seen, &pair, sizeof(pair), &added);
		if (added) {
			count_up(&modules_of, &key, sizeof(uint32_t));
			part_key(&pk, 'm', &key, 1, lh_path_base(module_path(m, key.module)));
			count_up(&parts, pk.buf, pk.len);
		}
	}
	for (size_t k = 0; k < m->nnode_frames; k++) {
		struct lh_alloc_frame *f = &m->node_frames[k];
		struct func_key key = { f->func & ~NAME_PENDING, f->module, f->file };
		const struct lh_hashmap_entry *files, *mods;
		const char *name;
		int by_module, by_file;
		uint32_t id;

		if (!(f->func & NAME_PENDING))
			continue;
		name = lh_alloc_string(m, key.name);
		files = lh_hashmap_get(&files_of, &key, 2 * sizeof(uint32_t));
		mods = lh_hashmap_get(&modules_of, &key, sizeof(uint32_t));
		by_module = mods && mods->value > 1;
		by_file = files && files->value > 1;
		if (!by_module && !by_file) {
			id = intern(m, name);
		} else {
			strbuf_reset(&sb);
			strbuf_addf(&sb, "%s (", name);
			if (by_module)
				strbuf_addstr(&sb, label(&parts, &pk, 'm', &key, 1, module_path(m, f->module)));
			if (by_file)
				strbuf_addf(&sb, "%s%s", by_module ? ", " : "",
					    f->file ? label(&parts, &pk, 'f', &key, 2, lh_alloc_string(m, f->file)) :
						      "no file");
			strbuf_addch(&sb, ')');
			id = intern(m, sb.buf);
		}
		ALLOC_GROW(m->func_bare, (size_t)id + 1, bare_alloc);
		while (m->nfunc_bare <= id)
			m->func_bare[m->nfunc_bare++] = 0;
		if (by_module || by_file)
			m->func_bare[id] = key.name;
		f->func = id;
	}
	strbuf_release(&sb);
	strbuf_release(&pk);
	lh_hashmap_release(&seen);
	lh_hashmap_release(&files_of);
	lh_hashmap_release(&modules_of);
	lh_hashmap_release(&parts);
}

/* The first function named name (as shown, or without what tells two of
 * that name apart), or UINT32_MAX. */
static uint32_t find_function(const struct lh_alloc_model *m, const char *name)
{
	const struct lh_hashmap_entry *e = lh_hashmap_get(&m->funcs, name, strlen(name) + 1);

	if (e)
		return (uint32_t)(e - m->funcs.entries);
	for (uint32_t f = 0; f < m->funcs.nr; f++)
		if (!strcmp(lh_alloc_func_bare(m, f), name))
			return f;
	return UINT32_MAX;
}

/* Whether str matches either list, computed once per index i of its kind. */
static int memo_match(signed char *memo, size_t i, const struct lh_suppressions *a, const struct lh_suppressions *b,
		      const char *str)
{
	if (memo[i] < 0)
		memo[i] = (signed char)(lh_suppressions_match(a, str) >= 0 || (b && lh_suppressions_match(b, str) >= 0));
	return memo[i];
}

/* Is module mod (index + 1) glibc or the dynamic loader, where every
 * thread starts (__libc_start_call_main, start_thread, _dl_start_user)? */
static int start_module(const struct lh_alloc_model *m, uint32_t mod)
{
	const char *path, *base;

	if (!mod || mod > m->nmodules)
		return 0;
	path = m->modules[mod - 1].path;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5) || !strncmp(base, "ld-linux", 8) ||
	       !strncmp(base, "ld-", 3);
}

/*
 * --unwind fp: the walk stops at the first frame that keeps no frame pointer,
 * and nothing in the trace says so (a --depth cut is marked, this is not): a
 * stack is whole when its outermost frame is glibc's or the loader's start
 * code (the return into __libc_start_call_main or start_thread: glibc keeps
 * no frame pointers, so the walk ends there), or _start.  Counted per
 * allocation call, for the summary.  Parents have lower ids than their
 * children, so one pass finds each node's outermost frame.
 */
static void count_incomplete(struct lh_alloc_model *m)
{
	unsigned char *whole = lh_xcalloc(m->nnodes ? m->nnodes : 1, 1);

	m->incomplete_calls = 0;
	for (size_t i = 1; i < m->nnodes; i++) {
		uint64_t parent = m->node_parent[i];

		if (parent && parent < i) {
			whole[i] = whole[parent];
		} else if (m->node_frame_off[i] < m->node_frame_off[i + 1]) {
			const struct lh_alloc_frame *f = &m->node_frames[m->node_frame_off[i + 1] - 1];

			whole[i] = m->node_ip[i] != LHT_IP_TRUNCATED &&
				   (start_module(m, f->module) || !strcmp(lh_alloc_func_name(m, f->func), "_start"));
		}
		if (!whole[i])
			m->incomplete_calls += m->cost[i].calls;
	}
	free(whole);
}

void lh_alloc_model_finish(struct lh_alloc_model *m, unsigned flags, const struct lh_suppressions *supp)
{
	struct lh_suppressions builtin;
	struct strbuf sb = STRBUF_INIT;
	size_t frames_alloc = 0;
	int sorted = 1;
	signed char *sup_func, *sup_file, *sup_mod;
	struct module_map mm;

	if (m->nsizes > 1)
		qsort(m->sizes, m->nsizes, sizeof(*m->sizes), cmp_size);
	for (size_t i = 1; i < m->nsyms && sorted; i++)
		sorted = m->syms[i - 1].ip < m->syms[i].ip;
	if (!sorted)
		qsort(m->syms, m->nsyms, sizeof(*m->syms), cmp_sym);

	module_map_build(&mm, m);
	m->node_frame_off = lh_xcalloc(m->nnodes + 1, sizeof(*m->node_frame_off));
	for (size_t i = 1; i < m->nnodes; i++) {
		uint64_t ip = m->node_ip[i];
		const struct lh_alloc_sym *sym = ip == LHT_IP_TRUNCATED ? NULL : find_sym(m, ip);
		uint32_t mod = module_of(&mm, ip);
		int named = 0;

		m->node_frame_off[i] = (uint32_t)m->nnode_frames;
		if (sym) {
			/* innermost first; the last frame is the function that holds ip */
			for (uint32_t k = (flags & LH_ALLOC_NO_INLINE) ? sym->n - 1 : 0; k < sym->n; k++) {
				const uint32_t *f = &m->symframes[sym->off + 3 * k];
				const char *name = lh_alloc_string(m, f[0]);

				if (!*name || (f[0] & NAME_PENDING))
					continue;
				ALLOC_GROW(m->node_frames, m->nnode_frames + 1, frames_alloc);
				/* the name's string id for now: name_functions() */
				m->node_frames[m->nnode_frames++] =
					(struct lh_alloc_frame){ f[0] | NAME_PENDING, f[1], f[2], mod };
				named = 1;
			}
		}
		if (!named) {
			ALLOC_GROW(m->node_frames, m->nnode_frames + 1, frames_alloc);
			m->node_frames[m->nnode_frames++] =
				(struct lh_alloc_frame){ intern_unresolved(m, ip, mod, &sb), 0, 0, mod };
		}
	}
	free(mm.at);
	free(mm.own);
	name_functions(m);
	m->node_frame_off[m->nnodes] = (uint32_t)m->nnode_frames;
	if (m->nnodes)
		m->node_frame_off[0] = 0;
	m->main_func = find_function(m, "main");
	m->start_func = find_function(m, START_NAME);

	/* suppressions: a node inherits its parent's verdict (parents have lower ids) */
	lh_suppressions_init(&builtin);
	if (!(flags & LH_ALLOC_NO_BUILTIN_SUPP))
		lh_suppressions_builtin(&builtin);
	m->suppressed = lh_xcalloc(m->nnodes ? m->nnodes : 1, 1);
	m->leaked_bytes = m->leaked_blocks = m->suppressed_bytes = m->suppressed_blocks = 0;
	/* a verdict per function, file and module, not per frame: the patterns
	 * ran on every frame of every node (8 M nodes: 20 s) */
	sup_func = lh_xmalloc(m->funcs.nr + 1);
	sup_file = lh_xmalloc(m->nstr + 1);
	sup_mod = lh_xmalloc(m->nmodules + 1);
	memset(sup_func, -1, m->funcs.nr + 1);
	memset(sup_file, -1, m->nstr + 1);
	memset(sup_mod, -1, m->nmodules + 1);
	for (size_t i = 1; i < m->nnodes; i++) {
		int s = m->node_parent[i] < i && m->suppressed[m->node_parent[i]];

		for (uint32_t k = m->node_frame_off[i]; !s && k < m->node_frame_off[i + 1]; k++) {
			const struct lh_alloc_frame *f = &m->node_frames[k];

			s = memo_match(sup_func, f->func, &builtin, supp, lh_alloc_func_bare(m, f->func)) ||
			    (f->file && f->file <= m->nstr &&
			     memo_match(sup_file, f->file, &builtin, supp, lh_alloc_string(m, f->file))) ||
			    (f->module && memo_match(sup_mod, f->module, &builtin, supp, m->modules[f->module - 1].path));
		}
		m->suppressed[i] = (unsigned char)s;
	}
	free(sup_func);
	free(sup_file);
	free(sup_mod);
	for (size_t i = 0; i < m->nnodes; i++) {
		if (m->suppressed[i]) {
			m->suppressed_bytes += m->cost[i].live_bytes;
			m->suppressed_blocks += m->cost[i].live_blocks;
		} else {
			m->leaked_bytes += m->cost[i].live_bytes;
			m->leaked_blocks += m->cost[i].live_blocks;
		}
	}
	lh_suppressions_release(&builtin);
	strbuf_release(&sb);
	if (m->unwind_fp)
		count_incomplete(m);
}

size_t lh_alloc_stack(const struct lh_alloc_model *m, uint64_t node, int stop_at_main,
		      struct lh_alloc_frame **out, size_t *alloc)
{
	size_t n = 0, guard = 0;

	while (node && node < m->nnodes && guard++ < m->nnodes) {
		for (uint32_t k = m->node_frame_off[node]; k < m->node_frame_off[node + 1]; k++) {
			/* a main that tail-called (python's, node's) left no
			 * frame: libc's caller of main is where the program starts */
			if (stop_at_main && n && m->node_frames[k].func == m->start_func)
				return n;
			ALLOC_GROW(*out, n + 1, *alloc);
			(*out)[n++] = m->node_frames[k];
			if (stop_at_main && m->node_frames[k].func == m->main_func)
				return n;
		}
		node = m->node_parent[node];
	}
	return n;
}

void lh_alloc_model_release(struct lh_alloc_model *m)
{
	strbuf_release(&m->damage);
	strbuf_release(&m->strpool);
	lh_hashmap_release(&m->funcs);
	free(m->func_bare);
	for (size_t i = 0; i < m->nmodules; i++)
		free(m->modules[i].path);
	free(m->modules);
	free(m->exe);
	free(m->cmdline);
	free(m->node_parent);
	free(m->node_ip);
	free(m->cost);
	free(m->timeline);
	free(m->sizes);
	free(m->str_off);
	free(m->syms);
	free(m->symframes);
	free(m->node_frame_off);
	free(m->node_frames);
	free(m->suppressed);
	memset(m, 0, sizeof(*m));
}
