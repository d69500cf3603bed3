/*
 * Unit tests of the version 3 pointer codec (src/native/lht_ptr.h): streams
 * of allocations and frees are coded by a writer state and decoded by a
 * reader state that grows its rings the way src/native/trace.c does, and
 * every address must come back.  The streams are random (a heap with LIFO
 * reuse per size, temporaries, long-lived blocks, foreign frees, realloc),
 * and adversarial: restarts, chunks that neither side puts in its state
 * (rows), blocks freed past the window, addresses that all fall in one
 * bucket of the writer's index, and codes that refer past the reader's
 * state (damage).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "native/lht_ptr.h"
#include "test.h"

struct writer {
	struct lht_ptr_state s;
	struct lht_ptr_index *ix;
};

/* A writer's state as compress.c keeps it (an index, full-size rings, of
 * which the writer uses only the classes), in malloc'ed memory;
 * trace_test.c codes its streams with it too. */
void lh_test_ptr_writer_init(struct lht_ptr_state *s, struct lht_ptr_index **ix)
{
	memset(s, 0, sizeof(*s));
	*ix = calloc(1, sizeof(**ix));
	s->alloc = calloc(LHT_PTR_WINDOW, sizeof(uint64_t));
	s->freed = calloc(LHT_PTR_WINDOW, sizeof(uint64_t));
	s->aclass = calloc(LHT_PTR_WINDOW, 1);
	s->acap = s->fcap = LHT_PTR_WINDOW;
}

void lh_test_ptr_writer_release(struct lht_ptr_state *s, struct lht_ptr_index *ix)
{
	free(ix);
	free(s->alloc);
	free(s->freed);
	free(s->aclass);
}

static void writer_init(struct writer *w)
{
	lh_test_ptr_writer_init(&w->s, &w->ix);
}

static void writer_release(struct writer *w)
{
	lh_test_ptr_writer_release(&w->s, w->ix);
}

static void writer_restart(struct writer *w)
{
	lht_ptr_reset(&w->s);
	lht_ptr_index_reset(w->ix);
}

/* The reader's rings start small and grow before each chunk. */
static void reader_reserve(struct lht_ptr_state *s, uint64_t nrec)
{
	uint32_t a = lht_ptr_ring_size(s->nalloc + nrec), f = lht_ptr_ring_size(s->nfree + nrec);

	if (a > s->acap) {
		s->alloc = realloc(s->alloc, a * sizeof(uint64_t));
		s->aclass = realloc(s->aclass, a);
		s->acap = a;
	}
	if (f > s->fcap) {
		s->freed = realloc(s->freed, f * sizeof(uint64_t));
		s->fcap = f;
	}
}

static void reader_release(struct lht_ptr_state *s)
{
	free(s->alloc);
	free(s->freed);
	free(s->aclass);
	memset(s, 0, sizeof(*s));
}

struct ev {
	int type;      /* 'A', 'F' or 'R' */
	uint64_t ptr;  /* A, R: the new block; F: the freed one */
	uint64_t old;  /* R: the old block, 0 for NULL */
	uint64_t size; /* A, R */
};

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * A toy heap: per size class a LIFO of free blocks (tcache), fresh blocks
 * carved from a top pointer, a quarter of the blocks freed at once, the rest
 * kept in a ring of live blocks and freed when replaced, some frees of
 * blocks from elsewhere (another thread), some reallocs.
 */
struct heap {
	uint64_t top, x;
	uint64_t *live;
	size_t nlive;
	uint64_t *bin[LHT_PTR_CLASSES];
	size_t nbin[LHT_PTR_CLASSES];
	uint64_t *live_size;
};

#define LIVE 5000

static void heap_init(struct heap *h, uint64_t seed)
{
	memset(h, 0, sizeof(*h));
	h->top = 0x55550000a000ull;
	h->x = seed;
	h->live = calloc(LIVE, sizeof(uint64_t));
	h->live_size = calloc(LIVE, sizeof(uint64_t));
	for (int c = 0; c < LHT_PTR_CLASSES; c++)
		h->bin[c] = calloc(100000, sizeof(uint64_t));
}

static void heap_release(struct heap *h)
{
	free(h->live);
	free(h->live_size);
	for (int c = 0; c < LHT_PTR_CLASSES; c++)
		free(h->bin[c]);
}

static uint64_t heap_malloc(struct heap *h, uint64_t size)
{
	unsigned c = lht_ptr_class(size);
	uint64_t p;

	if (h->nbin[c] && rnd(&h->x) % 8)
		return h->bin[c][--h->nbin[c]];
	p = h->top;
	h->top += (size + 8 + 15) & ~15ull;
	return p;
}

static void heap_free(struct heap *h, uint64_t p, uint64_t size)
{
	unsigned c = lht_ptr_class(size);

	if (h->nbin[c] < 100000)
		h->bin[c][h->nbin[c]++] = p;
}

/* n events of the toy heap into ev. */
static void make_events(struct heap *h, struct ev *ev, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint64_t r = rnd(&h->x), size = r % 100 < 80 ? 1 + r / 100 % 400 : r / 100 % 70000;
		uint64_t p = heap_malloc(h, size);
		size_t slot;

		if (r >> 40 & 1 && i + 1 < n && r % 7 == 0) { /* realloc, maybe of NULL */
			uint64_t old = r >> 41 & 1 ? 0 : p;

			ev[i++] = (struct ev){ 'R', p, old, size + 1 };
			continue;
		}
		ev[i++] = (struct ev){ 'A', p, 0, size };
		if (i == n)
			break;
		if ((r >> 20 & 3) == 0) {
			ev[i++] = (struct ev){ 'F', p, 0, 0 };
			heap_free(h, p, size);
			continue;
		}
		if ((r >> 22 & 31) == 0) { /* freed elsewhere; something foreign freed here */
			ev[i++] = (struct ev){ 'F', 0x7f0000000000ull + (r >> 30) * 16, 0, 0 };
			continue;
		}
		slot = (r >> 24) % LIVE;
		if (h->live[slot]) {
			ev[i++] = (struct ev){ 'F', h->live[slot], 0, 0 };
			heap_free(h, h->live[slot], h->live_size[slot]);
		}
		h->live[slot] = p;
		h->live_size[slot] = size;
	}
}

/* Code events [0, n) with w; the codes go to codes[] (two per R). */
static size_t encode(struct writer *w, const struct ev *ev, size_t n, uint64_t *codes)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (ev[i].type == 'R')
			codes[m++] = lht_ptr_encode_free(&w->s, w->ix, ev[i].old);
		if (ev[i].type == 'F')
			codes[m++] = lht_ptr_encode_free(&w->s, w->ix, ev[i].ptr);
		else
			codes[m++] = lht_ptr_encode_alloc(&w->s, w->ix, ev[i].ptr, ev[i].size);
	}
	return m;
}

/* Decode what encode() made and compare; the number of mismatches (-1 for
 * a code the reader refused). */
static long decode_check(struct lht_ptr_state *s, const struct ev *ev, size_t n, const uint64_t *codes)
{
	long bad = 0;
	size_t m = 0;
	uint64_t a;

	reader_reserve(s, n);
	for (size_t i = 0; i < n; i++) {
		if (ev[i].type == 'R') {
			if (lht_ptr_decode_free(s, codes[m++], &a))
				return -1;
			bad += a != ev[i].old;
		}
		if (ev[i].type == 'F') {
			if (lht_ptr_decode_free(s, codes[m++], &a))
				return -1;
		} else if (lht_ptr_decode_alloc(s, codes[m++], ev[i].size, &a)) {
			return -1;
		}
		bad += a != ev[i].ptr;
	}
	return bad;
}

/* How many of the m codes are references (not deltas). */
static size_t count_refs(const struct ev *ev, size_t n, const uint64_t *codes)
{
	size_t m = 0, refs = 0;

	for (size_t i = 0; i < n; i++) {
		if (ev[i].type == 'R')
			refs += !(codes[m++] & 1);
		if (ev[i].type == 'F')
			refs += !(codes[m++] & 1);
		else
			refs += (codes[m++] & 3) != 2;
	}
	return refs;
}

#define CHUNK 3000

TEST(lht_ptr_round_trip_random_heap_with_restarts_and_rows_chunks)
{
	struct writer w;
	struct lht_ptr_state r = { 0 };
	struct heap h;
	struct ev *ev = malloc(CHUNK * sizeof(*ev));
	uint64_t *codes = malloc(2 * CHUNK * sizeof(uint64_t)), x = 99;
	size_t events = 0, refs = 0, epochs = 0;
	uint64_t nev;

	writer_init(&w);
	heap_init(&h, 12345);
	for (int chunk = 0; chunk < 200; chunk++) {
		size_t n = 1 + rnd(&x) % CHUNK, m;
		int what = (int)(rnd(&x) % 20);

		make_events(&h, ev, n);
		if (what == 0) {
			/* a chunk that went out as rows: neither side takes its
			 * events, and the writer starts again (so does the reader,
			 * told by the next chunk's flag) */
			writer_restart(&w);
			lht_ptr_reset(&r);
			continue;
		}
		if (what == 1) { /* a restart (new buffer owner, fork, new session) */
			writer_restart(&w);
			lht_ptr_reset(&r);
		}
		nev = w.s.nev;
		if (what == 2) /* an epoch ends: the writer empties its index */
			w.ix->epoch = nev - LHT_PTR_EPOCH;
		m = encode(&w, ev, n, codes);
		if (what == 2) {
			CHECK_EQ(w.ix->epoch, nev); /* emptied at the chunk's first code */
			epochs++;
		}
		CHECK_EQ(decode_check(&r, ev, n, codes), 0);
		CHECK_EQ(r.nev, w.s.nev);
		CHECK_EQ(r.nalloc, w.s.nalloc);
		CHECK_EQ(r.nfree, w.s.nfree);
		CHECK(m >= n);
		events += n;
		refs += count_refs(ev, n, codes);
	}
	/* the point of the codec: most addresses are references */
	CHECK(refs * 2 > events); /* measured: 66% */
	CHECK(epochs > 0);
	writer_release(&w);
	reader_release(&r);
	heap_release(&h);
	free(ev);
	free(codes);
}

/* The writer's tag filters (ptr_tag_matches, with SSE2 or eight bytes at a
 * time, and the eight-byte one where the first is SSE2's) find exactly the positions
 * whose tag byte matches, with many collisions and every byte value. */
TEST(lht_ptr_tag_matches_equal_a_plain_loop)
{
	uint64_t x = 7;
	uint8_t tags[LHT_PTR_DEPTH];
	int bad = 0;

	for (int it = 0; it < 20000; it++) {
		uint8_t t = (uint8_t)rnd(&x);

		for (int i = 0; i < LHT_PTR_DEPTH; i++) {
			uint64_t r = rnd(&x);

			/* a quarter match; neighbours of t (t ^ 1, t + 1, 0x80
			 * apart) test the carries of the zero-byte test */
			tags[i] = (uint8_t)(r % 4 == 0 ? t : r % 4 == 1 ? t ^ (1u << (r >> 8 & 7)) : r % 4 == 2 ? t + 1 : r >> 16);
		}
		uint64_t want = 0;

		for (int i = 0; i < LHT_PTR_DEPTH; i++)
			want |= (uint64_t)(tags[i] == t) << i;
		bad += ptr_tag_matches(tags, t) != want;
		bad += ptr_tag_matches_swar(tags, t) != want; /* where the other is SSE2's */
	}
	CHECK_EQ(bad, 0);
}

/* A stack code is the smallest j at which the class stack holds the
 * address, as a plain scan from the top finds it; an allocation the stack
 * does not hold but the free ring does gets a free-ring code. */
TEST(lht_ptr_stack_codes_are_the_nearest_entry)
{
	struct writer w;
	struct heap h;
	struct ev *ev = malloc(CHUNK * sizeof(*ev));
	size_t stack_codes = 0, deep = 0;
	long bad = 0;

	writer_init(&w);
	heap_init(&h, 777);
	for (int chunk = 0; chunk < 100; chunk++) {
		make_events(&h, ev, CHUNK);
		for (size_t i = 0; i < CHUNK; i++) {
			const struct ev *e = &ev[i];
			unsigned c = lht_ptr_class(e->size), t;
			long want = -1;
			uint64_t code;

			if (e->type == 'R')
				lht_ptr_encode_free(&w.s, w.ix, e->old);
			if (e->type == 'F') {
				lht_ptr_encode_free(&w.s, w.ix, e->ptr);
				continue;
			}
			t = w.s.top[c];
			for (unsigned j = 0; j < w.s.depth[c] && want < 0; j++)
				if (w.s.stack[c][(t - j) & (LHT_PTR_DEPTH - 1)] == e->ptr)
					want = j;
			code = lht_ptr_encode_alloc(&w.s, w.ix, e->ptr, e->size);
			/* the writer looks on the stack only for a block its index
			 * still knows as freed: a stack entry it lost costs a delta */
			if (want >= 0 && (code & 3) == 0) {
				bad += (long)(code >> 2) != want;
				stack_codes++;
				deep += want >= 16;
			} else if (want >= 0 && (code & 3) == 1) {
				bad++;
			} else if (want < 0) {
				bad += (code & 3) == 0;
			}
		}
	}
	CHECK_EQ(bad, 0);
	CHECK(stack_codes > 10000);
	CHECK(deep > 0);
	writer_release(&w);
	heap_release(&h);
	free(ev);
}

/* Taking a block from inside a stack moves the top entry into its place:
 * that entry is then found where it went (the random heap above is LIFO
 * and hardly ever reaches for the moved one). */
TEST(lht_ptr_stack_entry_moved_by_a_take_is_found)
{
	struct writer w;
	uint64_t a = 0x10000, b = 0x10040, c = 0x10080, d = 0x100c0;

	writer_init(&w);
	lht_ptr_encode_alloc(&w.s, w.ix, a, 40);
	lht_ptr_encode_alloc(&w.s, w.ix, b, 40);
	lht_ptr_encode_alloc(&w.s, w.ix, c, 40);
	lht_ptr_encode_alloc(&w.s, w.ix, d, 40);
	lht_ptr_encode_free(&w.s, w.ix, a);
	lht_ptr_encode_free(&w.s, w.ix, b);
	lht_ptr_encode_free(&w.s, w.ix, c);
	lht_ptr_encode_free(&w.s, w.ix, d); /* stack: a b c d (top) */
	CHECK_EQ(lht_ptr_encode_alloc(&w.s, w.ix, b, 40), 2u << 2); /* a d c */
	CHECK_EQ(lht_ptr_encode_alloc(&w.s, w.ix, d, 40), 1u << 2); /* a c */
	CHECK_EQ(lht_ptr_encode_alloc(&w.s, w.ix, c, 40), 0u << 2);
	CHECK_EQ(lht_ptr_encode_alloc(&w.s, w.ix, a, 40), 0u << 2);
	writer_release(&w);
}

TEST(lht_ptr_blocks_freed_past_the_window_fall_back_to_deltas)
{
	size_t n = 3 * LHT_PTR_WINDOW + 10, nfirst = 100;
	struct ev *ev = malloc(n * sizeof(*ev));
	uint64_t *codes = malloc(2 * n * sizeof(uint64_t));
	struct writer w;
	struct lht_ptr_state r = { 0 };
	uint64_t a = 0;
	size_t i, m;

	writer_init(&w);
	/* 100 blocks, then three windows of other allocations, then the 100
	 * first blocks freed: too old to be referred to */
	for (i = 0; i < nfirst; i++)
		ev[i] = (struct ev){ 'A', 0x1000 + i * 64, 0, 48 };
	for (; i < n - nfirst; i++)
		ev[i] = (struct ev){ 'A', 0x10000000 + i * 32, 0, 24 };
	for (; i < n; i++)
		ev[i] = (struct ev){ 'F', 0x1000 + (i - (n - nfirst)) * 64, 0, 0 };
	m = encode(&w, ev, n, codes);
	for (i = m - nfirst; i < m; i++)
		CHECK_EQ(codes[i] & 1, 1);
	/* in chunks of different sizes, so that the reader's rings grow */
	CHECK_EQ(decode_check(&r, ev, 70, codes), 0);
	CHECK_EQ(decode_check(&r, ev + 70, n - 70, codes + 70), 0);
	/* the reader refers back to the window's edge, not past it */
	CHECK_EQ(lht_ptr_decode_free(&r, (uint64_t)LHT_PTR_WINDOW << 1, &a), -1);
	CHECK_EQ(lht_ptr_decode_free(&r, (uint64_t)(LHT_PTR_WINDOW - 1) << 1, &a), 0);
	CHECK_EQ(a, 0x10000000 + (n - nfirst - LHT_PTR_WINDOW) * 32);
	writer_release(&w);
	reader_release(&r);
	free(ev);
	free(codes);
}

TEST(lht_ptr_addresses_in_one_bucket_of_the_index)
{
	/* 64 blocks whose addresses fall in one bucket: the index keeps
	 * LHT_PTR_WAYS of them, the others go as deltas, and all decode */
	enum { N = 64 };
	struct ev ev[3 * N];
	uint64_t codes[3 * N], addr[N];
	struct writer w;
	struct lht_ptr_state r = { 0 };
	size_t refs;
	int found = 0;

	writer_init(&w);
	for (uint64_t p = 0x1000; found < N; p += 16)
		if (ptr_bucket(w.ix, p) == ptr_bucket(w.ix, 0x1000))
			addr[found++] = p;
	for (int i = 0; i < N; i++)
		ev[i] = (struct ev){ 'A', addr[i], 0, 1000 };
	for (int i = 0; i < N; i++) /* the newest first: those the index kept */
		ev[N + i] = (struct ev){ 'F', addr[N - 1 - i], 0, 0 };
	for (int i = 0; i < N; i++)
		ev[2 * N + i] = (struct ev){ 'A', addr[i], 0, 1000 };
	encode(&w, ev, 3 * N, codes);
	CHECK_EQ(decode_check(&r, ev, 3 * N, codes), 0);
	refs = count_refs(ev, 3 * N, codes);
	CHECK(refs >= LHT_PTR_WAYS);
	writer_release(&w);
	reader_release(&r);
}

/*
 * The writer keeps no address rings: it trusts an entry's positions, which
 * its rules keep right (lht_ptr.h).  Streams that would break a careless
 * version: a temporary's position taken back and given to another block,
 * then the first block freed again (another thread reallocated and freed
 * it; this stream only sees the free); a block freed twice while its
 * allocation stays on the ring; a block on the free ring freed again and
 * allocated from the ring after its stack entry was taken; frees and
 * allocations past both windows.  Every address decodes.
 */
TEST(lht_ptr_writer_positions_without_rings)
{
	static struct ev ev[3 * LHT_PTR_WINDOW + 64];
	static uint64_t codes[2 * (3 * LHT_PTR_WINDOW + 64)];
	uint64_t x = 0x5000, y = 0x6000, z = 0x7000;
	struct writer w;
	struct lht_ptr_state r = { 0 };
	size_t n = 0;

	writer_init(&w);
	ev[n++] = (struct ev){ 'A', x, 0, 40 };
	ev[n++] = (struct ev){ 'F', x, 0, 0 };  /* k = 0: x's position taken back */
	ev[n++] = (struct ev){ 'A', y, 0, 40 }; /* y in x's old position */
	ev[n++] = (struct ev){ 'F', x, 0, 0 };  /* x again: not y's position */
	ev[n++] = (struct ev){ 'A', z, 0, 40 };
	ev[n++] = (struct ev){ 'A', x, 0, 40 };
	ev[n++] = (struct ev){ 'F', z, 0, 0 };  /* k = 1: z stays on the ring */
	ev[n++] = (struct ev){ 'F', z, 0, 0 };  /* and is freed again: k = 1 again */
	ev[n++] = (struct ev){ 'A', z, 0, 40 }; /* from the stack */
	ev[n++] = (struct ev){ 'A', z, 0, 40 }; /* the stack's second copy of z */
	ev[n++] = (struct ev){ 'A', z, 0, 40 }; /* z is off the stack: the free ring */
	ev[n++] = (struct ev){ 'R', y, y, 40 }; /* realloc in place */
	ev[n++] = (struct ev){ 'R', 0x8000, x, 3000 };
	/* a window's worth of others, then the three again: all past both
	 * windows, so deltas */
	for (uint64_t i = 0; i < LHT_PTR_WINDOW; i++) {
		ev[n++] = (struct ev){ 'A', 0x100000 + 64 * i, 0, 24 };
		ev[n++] = (struct ev){ 'F', 0x100000 + 64 * i, 0, 0 };
	}
	for (uint64_t i = 0; i < LHT_PTR_WINDOW; i++)
		ev[n++] = (struct ev){ 'F', 0x900000 + 64 * i, 0, 0 };
	ev[n++] = (struct ev){ 'F', y, 0, 0 };
	ev[n++] = (struct ev){ 'F', z, 0, 0 };
	ev[n++] = (struct ev){ 'A', x, 0, 40 };
	ev[n++] = (struct ev){ 'F', 0x8000, 0, 0 };
	encode(&w, ev, n, codes);
	CHECK_EQ(decode_check(&r, ev, n, codes), 0);
	CHECK_EQ(r.nalloc, w.s.nalloc);
	CHECK_EQ(r.nfree, w.s.nfree);
	/* the first twelve events: the second free of x a delta, both frees
	 * of z references, each putting z on the stack, then the free ring
	 * (codes: A F A F A A F F A A A R(2) R(2)) */
	CHECK_EQ(codes[3] & 1, 1u);
	CHECK_EQ(codes[6], 1u << 1);
	CHECK_EQ(codes[7], 1u << 1);
	CHECK_EQ(codes[8] & 3, 0u);
	CHECK_EQ(codes[9] & 3, 0u);
	CHECK_EQ(codes[10] & 3, 1u);
	writer_release(&w);
	reader_release(&r);
}

TEST(lht_ptr_reader_refuses_codes_past_its_state)
{
	struct lht_ptr_state r = { 0 };
	uint64_t a = 0;

	reader_reserve(&r, 10);
	/* nothing allocated or freed yet: every reference is damage */
	CHECK_EQ(lht_ptr_decode_free(&r, 0 << 1, &a), -1);
	CHECK_EQ(lht_ptr_decode_alloc(&r, 0 << 2, 32, &a), -1);
	CHECK_EQ(lht_ptr_decode_alloc(&r, 0 << 2 | 1, 32, &a), -1);
	CHECK_EQ(lht_ptr_decode_alloc(&r, 3, 32, &a), -1); /* no such tag */
	/* a delta is always fine; then one allocation can be referred to once
	 * it is there, and only as k = 0 */
	CHECK_EQ(lht_ptr_decode_alloc(&r, lht_col_ptr_delta(0x4000) << 2 | 2, 32, &a), 0);
	CHECK_EQ(a, 0x4000);
	CHECK_EQ(lht_ptr_decode_free(&r, 1 << 1, &a), -1);
	CHECK_EQ(lht_ptr_decode_free(&r, 0 << 1, &a), 0);
	CHECK_EQ(a, 0x4000);
	/* the temporary left the ring; its block is on its class's stack */
	CHECK_EQ(r.nalloc, 0);
	CHECK_EQ(lht_ptr_decode_alloc(&r, 1 << 2, 32, &a), -1);
	CHECK_EQ(lht_ptr_decode_alloc(&r, 0 << 2, 32, &a), 0);
	CHECK_EQ(a, 0x4000);
	/* realloc of NULL: address 0, no change */
	CHECK_EQ(lht_ptr_decode_free(&r, lht_col_ptr_delta((int64_t)(0 - 0x4000ull)) << 1 | 1, &a), 0);
	CHECK_EQ(a, 0);
	CHECK_EQ(r.nfree, 1);
	reader_release(&r);
}

TEST(lht_ptr_split_varints_round_trip_and_stop_at_the_end)
{
	static const uint64_t v[] = { 0, 1, 127, 128, 300, 1ull << 35, UINT64_MAX, 77 };
	uint8_t lo[64], hi[128], *l = lo, *h = hi;
	const uint8_t *rl = lo, *rh = hi;
	uint64_t got = 0;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		lht_put_split(&l, &h, v[i]);
	CHECK_EQ(l - lo, 8);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CHECK_EQ(lht_get_split(&rl, l, &rh, h, &got), 0);
		CHECK(got == v[i]);
	}
	CHECK_EQ(lht_get_split(&rl, l, &rh, h, &got), -1);
	/* a first byte that promises more than the other column holds */
	rl = lo + 3; /* 128 */
	rh = h;
	CHECK_EQ(lht_get_split(&rl, l, &rh, h, &got), -1);
}

TEST(lht_ptr_class_follows_glibc_chunk_sizes)
{
	CHECK_EQ(lht_ptr_class(0), 2);
	CHECK_EQ(lht_ptr_class(24), 2);  /* 32-byte chunk */
	CHECK_EQ(lht_ptr_class(25), 3);  /* 48 */
	CHECK_EQ(lht_ptr_class(1000), 63);
	CHECK_EQ(lht_ptr_class(1001), 64);
	CHECK_EQ(lht_ptr_class(1u << 30), LHT_PTR_CLASSES - 1);
	CHECK(lht_ptr_class(UINT64_MAX) == LHT_PTR_CLASSES - 1);
}

/*
 * The slot of ring position p is also written by position p + the window,
 * and when that allocation is taken back (a temporary's free) p is within
 * the window again while its slot holds the other block: a block
 * allocated, a window's worth of long-lived allocations (here one address
 * allocated again and again: its frees are another thread's), a temporary,
 * then the first block freed at k = window - 1.  The writer must not refer
 * to that slot (a version that trusted the position alone coded k =
 * window - 1, which the reader decoded as the temporary).
 */
TEST(lht_ptr_slot_rewritten_past_the_window_then_taken_back)
{
	static struct ev ev[LHT_PTR_WINDOW + 16];
	static uint64_t codes[2 * (LHT_PTR_WINDOW + 16)];
	uint64_t x = 0x5000, f = 0x9000, y = 0x6000, z = 0x7000;
	struct writer w;
	struct lht_ptr_state r = { 0 };
	size_t n = 0, m;

	writer_init(&w);
	ev[n++] = (struct ev){ 'A', x, 0, 40 }; /* position 0 */
	for (int i = 0; i < LHT_PTR_WINDOW - 1; i++)
		ev[n++] = (struct ev){ 'A', f, 0, 40 };
	ev[n++] = (struct ev){ 'A', y, 0, 24 }; /* position W: x's slot */
	ev[n++] = (struct ev){ 'A', z, 0, 24 };
	ev[n++] = (struct ev){ 'F', z, 0, 0 };  /* k = 0 */
	ev[n++] = (struct ev){ 'F', y, 0, 0 };  /* k = 0: x is k = W - 1 again */
	ev[n++] = (struct ev){ 'F', x, 0, 0 };  /* its slot holds y: a delta */
	ev[n++] = (struct ev){ 'A', x, 0, 40 }; /* not on the stack: the free ring */
	ev[n++] = (struct ev){ 'A', y, 0, 24 }; /* y is on its stack */
	m = encode(&w, ev, n, codes);
	CHECK_EQ(codes[m - 3] & 1, 1u);
	CHECK_EQ(codes[m - 2] & 3, 1u);
	CHECK_EQ(codes[m - 1], 0u);
	CHECK_EQ(decode_check(&r, ev, 70, codes), 0); /* the reader's rings grow */
	CHECK_EQ(decode_check(&r, ev + 70, n - 70, codes + 70), 0);
	CHECK_EQ(r.nalloc, w.s.nalloc);
	writer_release(&w);
	reader_release(&r);
}

/*
 * Random adversarial streams, coded event by event and decoded chunk by
 * chunk: few addresses (so that they repeat in every role), addresses of
 * one bucket, odd ones, sizes of every class, temporaries, frees in LIFO
 * order, double and foreign frees, realloc of NULL, in place and of a
 * block never seen, frees aimed at the window's edge as the writer's ring
 * stands (the slot case above), restarts, rows chunks and epochs ending at
 * random moments.  Every address decodes, and the counters agree.
 */
struct fuzz {
	struct writer w;
	uint64_t x;
	uint64_t pool[4096], npool, one_bucket[32];
	int nbucket, mode;
	uint64_t *pos_addr;         /* the writer's ring: address at position & (FUZZ_POS - 1) */
	uint64_t *codes;
	size_t m;
};

#define FUZZ_POS (1u << 18)

static uint64_t fz(struct fuzz *f, uint64_t n)
{
	return n ? rnd(&f->x) % n : 0;
}

static void fuzz_pool(struct fuzz *f)
{
	static const uint64_t sizes[] = { 1, 2, 5, 16, 64, 300, 4096 };
	static const uint64_t strides[] = { 16, 16, 32, 8, 1, 48, 0x100000000ull };
	uint64_t stride = strides[fz(f, 7)], base = 0x555500000000ull + (fz(f, 1 << 20) << 4) + fz(f, 2) * fz(f, 16);

	f->npool = sizes[fz(f, 7)];
	for (uint64_t i = 0; i < f->npool; i++)
		f->pool[i] = base + i * stride;
	f->nbucket = 0;
	for (uint64_t p = base & ~15ull; fz(f, 3) == 0 && f->nbucket < 32; p += 16)
		if (ptr_bucket(f->w.ix, p) == ptr_bucket(f->w.ix, base & ~15ull))
			f->one_bucket[f->nbucket++] = p;
	f->mode = (int)fz(f, 4);
}

static uint64_t fuzz_addr(struct fuzz *f)
{
	uint64_t u = fz(f, 100);

	if (u < 2)
		return u ? rnd(&f->x) >> 8 : fz(f, 64); /* anywhere below 2^56, or near 0 */
	if (u < 15 && f->nbucket)
		return f->one_bucket[fz(f, (uint64_t)f->nbucket)];
	return f->pool[fz(f, f->npool)];
}

/* The block at ring position nalloc - 1 - k as the writer's ring stands. */
static uint64_t fuzz_ring(struct fuzz *f, uint64_t k)
{
	const struct lht_ptr_state *s = &f->w.s;

	return k < s->nalloc && k < FUZZ_POS ? f->pos_addr[(s->nalloc - 1 - k) & (FUZZ_POS - 1)] : fuzz_addr(f);
}

static uint64_t fuzz_freed(struct fuzz *f)
{
	uint64_t u = fz(f, 100);

	if (u < 30)
		return fuzz_ring(f, 0);
	if (u < 45)
		return fuzz_ring(f, fz(f, 8));
	if (u < 65) /* the window's edge */
		return fuzz_ring(f, LHT_PTR_WINDOW - 3 + fz(f, 4));
	if (u < 75)
		return fuzz_ring(f, fz(f, 3 * LHT_PTR_WINDOW));
	if (u < 78)
		return 0;
	return fuzz_addr(f);
}

static uint64_t fuzz_size(struct fuzz *f)
{
	uint64_t u = fz(f, 8);

	return u == 0 ? 0 : u == 1 ? fz(f, 30) : u == 2 ? 990 + fz(f, 40) : u == 3 ? rnd(&f->x) >> fz(f, 64) : 1 + fz(f, 300);
}

/* Append e to ev[*i] and code it at once (the next choices look at the
 * writer's ring). */
static void fuzz_put(struct fuzz *f, struct ev *ev, size_t *i, struct ev e)
{
	struct lht_ptr_state *s = &f->w.s;

	ev[(*i)++] = e;
	if (e.type == 'R')
		f->codes[f->m++] = lht_ptr_encode_free(s, f->w.ix, e.old);
	if (e.type == 'F') {
		f->codes[f->m++] = lht_ptr_encode_free(s, f->w.ix, e.ptr);
		return;
	}
	f->pos_addr[s->nalloc & (FUZZ_POS - 1)] = e.ptr;
	f->codes[f->m++] = lht_ptr_encode_alloc(s, f->w.ix, e.ptr, e.size);
}

static void fuzz_events(struct fuzz *f, struct ev *ev, size_t n, size_t epoch_at)
{
	size_t i = 0;

	f->m = 0;
	while (i < n) {
		uint64_t u = fz(f, 100), a = fuzz_addr(f), o;

		if (i == epoch_at) /* the epoch ends at this code (or one or two later) */
			f->w.ix->epoch = f->w.s.nev - LHT_PTR_EPOCH + fz(f, 3);
		if (f->mode == 1 && u < 40) { /* a temporary */
			fuzz_put(f, ev, &i, (struct ev){ 'A', a, 0, fuzz_size(f) });
			if (i < n)
				fuzz_put(f, ev, &i, (struct ev){ 'F', a, 0, 0 });
		} else if (f->mode == 2 && u < 3) { /* free the latest blocks, newest first */
			for (uint64_t k = 0, end = fz(f, fz(f, 2) ? 200 : 2 * LHT_PTR_WINDOW); k < end && i < n; k++)
				fuzz_put(f, ev, &i, (struct ev){ 'F', fuzz_ring(f, 0), 0, 0 });
		} else if ((f->mode == 3 && u < 50) || u < 40) {
			if (fz(f, 10) == 0)
				a = fuzz_freed(f);
			fuzz_put(f, ev, &i, (struct ev){ 'A', a, 0, fuzz_size(f) });
		} else if (u < 85) {
			fuzz_put(f, ev, &i, (struct ev){ 'F', fuzz_freed(f), 0, 0 });
		} else {
			u = fz(f, 5);
			o = u == 0 ? 0 : u == 1 ? a : fuzz_freed(f);
			fuzz_put(f, ev, &i, (struct ev){ 'R', u == 4 ? o : a, o, fuzz_size(f) });
		}
	}
}

TEST(lht_ptr_round_trip_adversarial_random_streams)
{
	enum { MAXN = 20000 };
	struct fuzz f = { .x = 0x243f6a8885a308d3ull };
	struct lht_ptr_state r = { 0 };
	struct ev *ev = malloc(MAXN * sizeof(*ev));
	size_t events = 0, refs = 0, epochs = 0, bad = 0;

	writer_init(&f.w);
	f.pos_addr = calloc(FUZZ_POS, sizeof(uint64_t));
	f.codes = malloc(2 * MAXN * sizeof(uint64_t));
	fuzz_pool(&f);
	while (events < 1500000 && !bad) {
		size_t n = 1 + fz(&f, fz(&f, 4) ? 3000 : MAXN), epoch_at = fz(&f, 20) == 0 ? fz(&f, n) : n;
		uint64_t u = fz(&f, 100), nev = f.w.s.nev;

		if (u < 10)
			fuzz_pool(&f);
		if (u < 4) { /* a restart, or a rows chunk (which neither side takes) */
			writer_restart(&f.w);
			lht_ptr_reset(&r);
			nev = 0;
			if (u < 2)
				continue;
		}
		fuzz_events(&f, ev, n, epoch_at);
		epochs += epoch_at < n;
		CHECK_EQ(r.nev, nev);
		bad += decode_check(&r, ev, n, f.codes) != 0;
		bad += r.nev != f.w.s.nev || r.nalloc != f.w.s.nalloc || r.nfree != f.w.s.nfree;
		events += n;
		refs += count_refs(ev, n, f.codes);
	}
	CHECK_EQ(bad, 0);
	CHECK(events >= 1500000);
	CHECK(refs * 3 > events);
	CHECK(epochs > 0);
	writer_release(&f.w);
	reader_release(&r);
	free(f.pos_addr);
	free(f.codes);
	free(ev);
}
