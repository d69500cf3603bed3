/*
 * Pointers by reference: the pointer codec of .lht version 3
 * (docs/lht-format.md), shared by its writer (src/native/preload/compress.c)
 * and its reader (src/native/trace.c).
 *
 * The addresses of a churning heap are nearly random, so a delta from the
 * previous pointer (version 2) costs about 2.7 bytes an event after zstd.
 * But almost every address was seen a moment before by the same thread: a
 * free gives back a block that thread allocated (a temporary: the
 * allocation just before; a long-lived block: one some thousands back), and
 * an allocation gets a block that thread freed (glibc's tcache and bins are
 * LIFO per size).  So both sides keep the same state per writer stream and
 * the column says where in it the address is:
 *
 *   free side  (F ptr, R old):  k << 1      the k-th most recent allocation
 *                               d << 1 | 1  d = lht_col_ptr_delta(addr - prev)
 *   alloc side (A ptr, R ptr):  j << 2      the j-th entry from the top of the
 *                                           freed-block stack of the size class
 *                               f << 2 | 1  the f-th most recent free
 *                               d << 2 | 2  d as above
 *
 * The state is a ring of the last LHT_PTR_WINDOW allocations (address and
 * size class), a ring of the last LHT_PTR_WINDOW freed addresses, and per
 * size class a stack of up to LHT_PTR_DEPTH freed blocks (what tcache would
 * hand out next).  A free of the latest allocation (k = 0, a temporary)
 * takes it off the ring again, so the ring counts longer-lived blocks only.
 * Both sides apply exactly the same updates, event by event, in the order
 * the chunks of a stream reach the file; nothing depends on which encoding
 * the writer chose except the decoded address.  The reader needs only array
 * lookups; the writer finds addresses through a lossy hash index
 * (struct lht_ptr_index) whose positions it keeps exact without keeping the
 * rings themselves (see the writer's part below), so a lost index entry
 * only costs a longer code, never a wrong one.
 *
 * Header-only and allocation-free (the caller provides the memory), so that
 * the preload can use it.
 */
#ifndef LH_NATIVE_LHT_PTR_H
#define LH_NATIVE_LHT_PTR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "native/lht.h"

/*
 * A version 3 event chunk is a compressed chunk (LHT_CHUNK_ZSTD) whose zstd
 * frame holds
 *
 *   v 0, v stream, v flags, v nev, v nrec, v len[LHT_REF_COLUMNS], columns
 *
 * The leading 0 and a stream id, never 0, tell it from a version 2 block
 * (which starts with its number of records: 0 only in an empty block, whose
 * column lengths, all 0, follow), so the chunk layer stays as it was.
 * stream: the writer's buffer (1, 2, ...: a thread id can be reused while
 * a buffer's last chunk is still on its way, a stream id cannot); flags:
 * LHT_REF_RESET when the writer's state started again from empty (a fresh
 * buffer, a forked child, a new recording session, a chunk that went out as
 * rows); nev: how many codes the stream's state had taken before this chunk,
 * which the reader checks against its own.  Each column is compressed as
 * zstd blocks of its own (flushed), so each gets its own entropy tables.
 */
#define LHT_REF_COLUMNS 10
#define LHT_REF_MAX_STREAMS (1u << 14) /* a larger stream id is damage */

enum lht_ref_column {
	LHT_RC_TYPES,    /* one byte per record: A, F or R */
	LHT_RC_SEQ,      /* seq deltas, as in version 2 */
	LHT_RC_SIZE,     /* A and R: sizes, split (lht_put_split) ... */
	LHT_RC_SIZE_HI,  /* ... into first bytes and the rest */
	LHT_RC_STACK,    /* A and R: stack ids, split */
	LHT_RC_STACK_HI,
	LHT_RC_ALLOC,    /* A and R: alloc-side codes of the new block, split */
	LHT_RC_ALLOC_HI,
	LHT_RC_FREE,     /* F: the freed block; R: the old block (first); split */
	LHT_RC_FREE_HI,
};

enum lht_ref_flags {
	LHT_REF_RESET = 1 << 0,
};

#define LHT_PTR_WINDOW 32768 /* ring entries; a power of two */
#define LHT_PTR_DEPTH 64     /* freed blocks kept per size class; a power of two */
#define LHT_PTR_CLASSES 65   /* 16-byte chunk classes up to 1 KiB, then one for the rest */

struct lht_ptr_state {
	uint64_t nalloc;  /* allocations on the ring (a temporary's free takes one off) */
	uint64_t nfree;   /* frees on the ring */
	uint64_t nev;     /* codes taken so far, for the chunk header's check */
	uint64_t prev;    /* the last address coded: deltas are from it */
	uint32_t acap, fcap; /* ring sizes: powers of two, at most LHT_PTR_WINDOW,
			      * and at least nalloc / nfree while below it */
	uint64_t *alloc;  /* [acap] allocation addresses, position & (acap - 1) */
	uint8_t *aclass;  /* [acap] their size classes */
	uint64_t *freed;  /* [fcap] freed addresses */
	uint8_t top[LHT_PTR_CLASSES], depth[LHT_PTR_CLASSES]; /* stack top index, entries */
	uint64_t stack[LHT_PTR_CLASSES][LHT_PTR_DEPTH];
};

/* glibc's chunk size class of a request: (size + 8) rounded up to 16, at
 * least 32 bytes; everything above 1 KiB shares the last class. */
static inline unsigned lht_ptr_class(uint64_t size)
{
	if (size > 1024 - 8 - 15)
		return LHT_PTR_CLASSES - 1;
	if (size < 9)
		return 2;
	return (unsigned)((size + 8 + 15) >> 4);
}

/* Back to the empty state, keeping the rings' memory. */
static inline void lht_ptr_reset(struct lht_ptr_state *s)
{
	s->nalloc = s->nfree = s->nev = s->prev = 0;
	memset(s->top, 0, sizeof(s->top));
	memset(s->depth, 0, sizeof(s->depth));
}

/* The ring size a reader needs for n entries: a power of two, at least 64,
 * at most LHT_PTR_WINDOW (the reader grows its rings as a stream grows; a
 * ring that grows keeps every entry in place, since positions below the old
 * size map to themselves). */
static inline uint32_t lht_ptr_ring_size(uint64_t n)
{
	uint32_t c = 64;

	while (c < n && c < LHT_PTR_WINDOW)
		c <<= 1;
	return c;
}

/* ---- the updates both sides make ---- */

static inline void ptr_stack_push(struct lht_ptr_state *s, unsigned c, uint64_t addr)
{
	s->top[c] = (uint8_t)((s->top[c] + 1) & (LHT_PTR_DEPTH - 1));
	s->stack[c][s->top[c]] = addr;
	if (s->depth[c] < LHT_PTR_DEPTH)
		s->depth[c]++;
}

/* Take entry j (0 = top) out of class c's stack: the top takes its place
 * (shifting the newer ones down instead kept tcache's order, for 0.4% of
 * the trace, but was a tenth of the reader's time). */
static inline uint64_t ptr_stack_take(struct lht_ptr_state *s, unsigned c, unsigned j)
{
	unsigned t = s->top[c];
	uint64_t addr = s->stack[c][(t - j) & (LHT_PTR_DEPTH - 1)];

	s->stack[c][(t - j) & (LHT_PTR_DEPTH - 1)] = s->stack[c][t];
	s->top[c] = (uint8_t)((t - 1) & (LHT_PTR_DEPTH - 1));
	s->depth[c]--;
	return addr;
}

static inline void ptr_push_alloc(struct lht_ptr_state *s, uint64_t addr, unsigned c)
{
	uint32_t i = (uint32_t)s->nalloc & (s->acap - 1);

	s->alloc[i] = addr;
	s->aclass[i] = (uint8_t)c;
	s->nalloc++;
	s->prev = addr;
	s->nev++;
}

static inline void ptr_push_free(struct lht_ptr_state *s, uint64_t addr)
{
	s->freed[(uint32_t)s->nfree & (s->fcap - 1)] = addr;
	s->nfree++;
	s->prev = addr;
	s->nev++;
}

/* A free of the k-th most recent allocation: its block goes on its class's
 * stack, and a temporary (k = 0) leaves the ring. */
static inline void ptr_free_ref(struct lht_ptr_state *s, uint64_t k, uint32_t i)
{
	ptr_stack_push(s, s->aclass[i], s->alloc[i]);
	if (!k)
		s->nalloc--;
}

/* The pointer delta a lht_col_ptr_delta() value stands for. */
static inline uint64_t ptr_delta_value(uint64_t d)
{
	return (uint64_t)lht_unzigzag(lht_row_ptr(d));
}

static inline uint64_t ptr_window(uint64_t n)
{
	return n < LHT_PTR_WINDOW ? n : LHT_PTR_WINDOW;
}

/* ---- reader ---- */

/*
 * The address of a free-side code (F, or R's old block); updates s.  0, or
 * -1 when the code refers past what s holds (damage, or a chunk that lost
 * its stream's earlier chunks).  Address 0 (realloc of NULL) changes nothing.
 */
static inline int lht_ptr_decode_free(struct lht_ptr_state *s, uint64_t code, uint64_t *addr)
{
	uint64_t a;

	if (code & 1) {
		a = s->prev + ptr_delta_value(code >> 1);
		if (!a) {
			*addr = 0;
			return 0;
		}
	} else {
		uint64_t k = code >> 1;
		uint32_t i;

		if (k >= ptr_window(s->nalloc))
			return -1;
		i = (uint32_t)(s->nalloc - 1 - k) & (s->acap - 1);
		a = s->alloc[i];
		ptr_free_ref(s, k, i);
	}
	ptr_push_free(s, a);
	*addr = a;
	return 0;
}

/* The address of an alloc-side code (A, or R's new block) of a request of
 * size bytes; updates s.  0, or -1 as above. */
static inline int lht_ptr_decode_alloc(struct lht_ptr_state *s, uint64_t code, uint64_t size, uint64_t *addr)
{
	unsigned c = lht_ptr_class(size);
	uint64_t a, n = code >> 2;

	switch (code & 3) {
	case 0:
		if (n >= s->depth[c])
			return -1;
		a = ptr_stack_take(s, c, (unsigned)n);
		break;
	case 1:
		if (n >= ptr_window(s->nfree))
			return -1;
		a = s->freed[(uint32_t)(s->nfree - 1 - n) & (s->fcap - 1)];
		break;
	case 2:
		a = s->prev + ptr_delta_value(n);
		break;
	default:
		return -1;
	}
	ptr_push_alloc(s, a, c);
	*addr = a;
	return 0;
}

/* ---- writer ---- */

/*
 * Where the writer last saw each address: a set-associative table of
 * LHT_PTR_WAYS-entry buckets, newest first, the oldest entry dropped when a
 * bucket is full.
 *
 * The writer keeps no rings of addresses: it reads a bucket and nothing
 * else at random (checking each hit against the rings was a second cache
 * miss, dependent on the first, at most events).  That is exact because of
 * two rules it keeps:
 *  - an entry's apos is the position of the address's latest allocation,
 *    and is cleared when that allocation leaves the ring (the free of a
 *    temporary, k = 0, which is the only way a position is taken back and
 *    written again); likewise fpos for the free ring, which only ever
 *    appends;
 *  - a position within the window is not enough: the slot of position p
 *    is also written by position p + LHT_PTR_WINDOW, and when that one is
 *    taken back p is in the window again, its slot holding the other
 *    block.  So the writer marks a slot whose allocation was taken back
 *    (PTR_SLOT_TAKEN, in its class byte, which the take reads anyway) and
 *    refers to no marked slot; an allocation clears the mark.  An unmarked
 *    slot within the window was last written by an allocation still on the
 *    ring, which is the entry's own (a later one at p - LHT_PTR_WINDOW or
 *    at p would have taken p back first; one at p + LHT_PTR_WINDOW still
 *    on the ring puts p out of the window);
 *  - positions are kept modulo 2^32, plus one (0: none), and the table is
 *    emptied every LHT_PTR_EPOCH codes, so that no entry is old enough for
 *    its position to alias into the window.
 * A lost entry (a full bucket, an emptied table) costs a delta, never a
 * wrong code.  What the writer still keeps of the state: the counters, the
 * class stacks (addresses compared exactly) and the classes of the
 * allocation ring (with PTR_SLOT_TAKEN: the writer's aclass is its own).
 */
#define LHT_PTR_WAYS 4
/* in the writer's class of a ring slot: the allocation that last wrote the
 * slot was taken back (a temporary's free), so the slot holds no address
 * the writer may refer to (see above) */
#define PTR_SLOT_TAKEN 0x80
#define LHT_PTR_BUCKETS (2 * LHT_PTR_WINDOW / LHT_PTR_WAYS) /* two entries per ring slot */
#define LHT_PTR_EPOCH (1ull << 30)

struct lht_ptr_slot {
	uint64_t addr;
	uint32_t apos; /* its allocation's position on the alloc ring + 1; 0: none */
	uint32_t fpos; /* its last free's position on the free ring + 1; 0: none */
};

struct lht_ptr_index {
	struct lht_ptr_slot b[LHT_PTR_BUCKETS][LHT_PTR_WAYS];
	uint64_t epoch;   /* the state's nev when the buckets were last emptied */
	/* a byte of each class stack entry's hash, at the entry's position:
	 * finding an address on a stack reads these 64 bytes eight at a time
	 * instead of comparing 64 addresses (the stacks of a churning heap are
	 * deep: a fifth of the blocks found on one were 16 or more down, and a
	 * block freed but not on the stack was compared with all 64) */
	uint8_t tag[LHT_PTR_CLASSES][LHT_PTR_DEPTH];
};

static inline uint8_t ptr_tag(uint64_t addr)
{
	return (uint8_t)(((addr >> 4) * 0x9e3779b97f4a7c15ull) >> 56);
}

/* Bit i set where tags[i] == t (i < 64), eight bytes at a time: a byte of
 * x is 0 exactly where the tag matches, and z gets its top bit there; the
 * multiplication gathers the eight top bits of a word into one byte. */
static inline uint64_t ptr_tag_matches_swar(const uint8_t tags[LHT_PTR_DEPTH], uint8_t t)
{
	const uint64_t lo7 = 0x7f7f7f7f7f7f7f7full;
	uint64_t m = 0;

	for (int w = 0; w < LHT_PTR_DEPTH / 8; w++) {
		uint64_t x, z;

		memcpy(&x, tags + 8 * w, 8);
		x ^= 0x0101010101010101ull * t;
		z = ~(((x & lo7) + lo7) | x | lo7);
		m |= ((z >> 7) * 0x0102040810204080ull >> 56) << (8 * w);
	}
	return m;
}

#ifdef __SSE2__
#include <emmintrin.h>

/* The same sixteen bytes at a time (SSE2 is part of x86-64): a fifth of the
 * writer's coding time went to the eight-byte version. */
static inline uint64_t ptr_tag_matches(const uint8_t tags[LHT_PTR_DEPTH], uint8_t t)
{
	__m128i v = _mm_set1_epi8((char)t);
	uint64_t m = 0;

	for (int w = 0; w < LHT_PTR_DEPTH / 16; w++) {
		__m128i x = _mm_loadu_si128((const __m128i *)(tags + 16 * w));

		m |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, v)) << (16 * w);
	}
	return m;
}
#else
#define ptr_tag_matches ptr_tag_matches_swar
#endif

/* The smallest j (0 = top) at which class c's stack holds addr, or -1. */
static inline int ptr_stack_find(const struct lht_ptr_state *s, const struct lht_ptr_index *ix, unsigned c,
				 uint64_t addr)
{
	unsigned t = s->top[c], r = (LHT_PTR_DEPTH - 1 - t) & (LHT_PTR_DEPTH - 1);
	uint64_t m = ptr_tag_matches(ix->tag[c], ptr_tag(addr));

	/* rotated so that position t - j is bit 63 - j; then only the stack's
	 * depth top bits count */
	m = m << r | m >> ((LHT_PTR_DEPTH - r) & (LHT_PTR_DEPTH - 1));
	m &= s->depth[c] ? ~0ull << (LHT_PTR_DEPTH - s->depth[c]) : 0;
	while (m) {
		int j = __builtin_clzll(m);

		if (s->stack[c][(t - (unsigned)j) & (LHT_PTR_DEPTH - 1)] == addr)
			return j;
		m &= ~(1ull << (63 - j));
	}
	return -1;
}

static inline struct lht_ptr_slot *ptr_bucket(struct lht_ptr_index *ix, uint64_t addr)
{
	return ix->b[((addr >> 4) * 0x9e3779b97f4a7c15ull) >> 40 & (LHT_PTR_BUCKETS - 1)];
}

/* The entry of addr, made the bucket's newest (a new one starts as zeros). */
static inline struct lht_ptr_slot *ptr_touch(struct lht_ptr_index *ix, uint64_t addr)
{
	struct lht_ptr_slot *b = ptr_bucket(ix, addr), e = { addr, 0, 0 };
	int w = 0;

	while (w < LHT_PTR_WAYS - 1 && b[w].addr != addr)
		w++;
	if (b[w].addr == addr)
		e = b[w];
	memmove(&b[1], &b[0], (size_t)w * sizeof(*b));
	b[0] = e;
	return &b[0];
}

/* An empty index for an empty state (the tags follow the stacks: they are
 * emptied too). */
static inline void lht_ptr_index_reset(struct lht_ptr_index *ix)
{
	memset(ix, 0, sizeof(*ix));
}

/* The start of the writer's part of coding one address: the address's
 * entry, newest in its bucket, the buckets emptied first when an epoch is
 * over (the stacks and their tags stay). */
static inline struct lht_ptr_slot *ptr_writer_entry(struct lht_ptr_state *s, struct lht_ptr_index *ix,
						     uint64_t addr)
{
	if (s->nev - ix->epoch >= LHT_PTR_EPOCH) {
		memset(ix->b, 0, sizeof(ix->b));
		ix->epoch = s->nev;
	}
	return ptr_touch(ix, addr);
}

/* The code of a free-side address (0 for realloc of NULL); updates s and ix
 * as lht_ptr_decode_free will update the reader's state (but for the rings:
 * see above). */
static inline uint64_t lht_ptr_encode_free(struct lht_ptr_state *s, struct lht_ptr_index *ix, uint64_t addr)
{
	struct lht_ptr_slot *e;
	uint64_t code;

	if (!addr)
		return lht_col_ptr_delta((int64_t)(0 - s->prev)) << 1 | 1;
	e = ptr_writer_entry(s, ix, addr);
	code = lht_col_ptr_delta((int64_t)(addr - s->prev)) << 1 | 1;
	if (e->apos) {
		uint64_t k = (uint32_t)((uint32_t)s->nalloc - e->apos);
		uint8_t *cls = &s->aclass[(e->apos - 1) & (s->acap - 1)];

		if (k < ptr_window(s->nalloc) && !(*cls & PTR_SLOT_TAKEN)) {
			unsigned c = *cls;

			ptr_stack_push(s, c, addr);
			ix->tag[c][s->top[c]] = ptr_tag(addr);
			if (!k) {
				s->nalloc--; /* a temporary: its position is taken back */
				e->apos = 0;
				*cls |= PTR_SLOT_TAKEN;
			}
			code = k << 1;
		}
	}
	e->fpos = (uint32_t)s->nfree + 1;
	s->nfree++;
	s->prev = addr;
	s->nev++;
	return code;
}

/* The code of an alloc-side address of a request of size bytes; updates s
 * and ix as lht_ptr_decode_alloc will update the reader's state (but for the
 * rings). */
static inline uint64_t lht_ptr_encode_alloc(struct lht_ptr_state *s, struct lht_ptr_index *ix, uint64_t addr,
					    uint64_t size)
{
	unsigned c = lht_ptr_class(size), t = s->top[c];
	struct lht_ptr_slot *e = ptr_writer_entry(s, ix, addr);
	uint64_t code = lht_col_ptr_delta((int64_t)(addr - s->prev)) << 2 | 2;

	/* only a block freed within the window is looked for on the stack: the
	 * others (fresh memory, a quarter of them) are not there, or were lost
	 * to the index (a delta, then) */
	if (e->fpos) {
		uint64_t f = (uint32_t)((uint32_t)s->nfree - e->fpos);

		if (f < ptr_window(s->nfree)) {
			int j = ptr_stack_find(s, ix, c, addr);

			if (j >= 0) {
				/* the top entry takes j's place, its tag too */
				ix->tag[c][(t - (unsigned)j) & (LHT_PTR_DEPTH - 1)] = ix->tag[c][t];
				ptr_stack_take(s, c, (unsigned)j);
				code = (uint64_t)j << 2;
			} else {
				code = f << 2 | 1;
			}
		}
	}
	e->apos = (uint32_t)s->nalloc + 1;
	s->aclass[(uint32_t)s->nalloc & (s->acap - 1)] = (uint8_t)c;
	s->nalloc++;
	s->prev = addr;
	s->nev++;
	return code;
}

/* ---- split varints ---- */

/*
 * A column of varints whose first bytes go to one column and the rest to
 * another: zstd gives each (flushed) column its own Huffman table, and the
 * first bytes (nearly uniform low bits) and the rest (small, skewed high
 * bits) have very different statistics.
 */
static inline void lht_put_split(uint8_t **lo, uint8_t **hi, uint64_t v)
{
	if (v < 0x80) {
		*(*lo)++ = (uint8_t)v;
		return;
	}
	*(*lo)++ = (uint8_t)(v | 0x80);
	*hi = lht_put_varint(*hi, v >> 7);
}

/* Read one split varint; 0, or -1 when a column runs out. */
static inline int lht_get_split(const uint8_t **lo, const uint8_t *lo_end, const uint8_t **hi,
				const uint8_t *hi_end, uint64_t *v)
{
	uint64_t rest;
	uint8_t b;

	if (*lo >= lo_end)
		return -1;
	b = *(*lo)++;
	if (!(b & 0x80)) {
		*v = b;
		return 0;
	}
	if ((hi_end - *hi < 8 || lht_get_varint8(hi, &rest)) && lht_get_varint(hi, hi_end, &rest))
		return -1;
	if (rest >> 57)
		return -1;
	*v = (b & 0x7f) | rest << 7;
	return 0;
}

#endif
