/*
 * Compression of the per-thread event buffers (src/native/lht.h and
 * src/native/lht_ptr.h): a closed half of a buffer, in version 2's column
 * form, goes out as one zstd frame, made by the timer thread or the thread
 * that flushes the buffer, never under a global lock.  Version 2 (the
 * default) writes the half's columns as they are; version 3 (`record
 * --compact`)
 * rewrites its pointers on the way as references into the buffer's recent
 * allocations and frees (lht_ptr.h), which takes most of the chunk's size
 * away; the codec's state lives with the buffer (one stream), and is
 * updated in the order the chunks are written, under the buffer's write
 * lock, which is the order the reader meets them in.
 *
 * Everything lives in mmap'ed memory of our own (ZSTD_initStaticCCtx: zstd
 * never calls malloc here).  Anything that fails leaves the chunk as plain
 * rows, which readers take as well; the codec's state then starts again
 * from empty (the reader never sees a rows chunk's events in its state).
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_initStaticCCtx: no malloc inside the target */
#include <zstd.h>

#include "native/lht.h"
#include "native/lht_ptr.h"
#include "native/preload/preload.h"

#define ZLEVEL 1 /* the fastest regular level: columns already do most of the work */
#define HEAD_MAX (5 * 10 + LHT_REF_COLUMNS * 10)
/* a column of codes may be longer than the version 2 column it comes from
 * (its deltas start elsewhere): room for the longest code of every event */
#define CODES_MAX (LH_COL_SIZE * 10)
#define BLOCK_MAX (HEAD_MAX + 8 * LH_COL_SIZE + 2 * CODES_MAX) /* the frame, at most */

struct lh_zstate {
	ZSTD_CCtx *cctx;
	size_t out_cap;
	uint8_t *out;     /* chunk header + compressed frame */
	uint8_t *col[LHT_REF_COLUMNS]; /* the columns being made (types and
					* seqs are the half's own) */
	unsigned stream;  /* this buffer's stream id in chunks */
	unsigned trace;   /* the trace file the state belongs to
			   * (lh_record_trace_id): a forked child's trace, a
			   * later attach session start from empty */
	int fresh;        /* the reader has not seen this state: reset first */
	struct lht_ptr_state ps;
	struct lht_ptr_index *ix;
};

static unsigned next_stream; /* stream ids of this process, from 1 */

static size_t zstate_size(size_t *ws, size_t *out_cap)
{
	ZSTD_compressionParameters cp = ZSTD_getCParams(ZLEVEL, BLOCK_MAX, 0);

	*ws = ZSTD_estimateCStreamSize_usingCParams(cp);
	/* every flushed column ends a block: a few bytes each on top */
	*out_cap = LHT_CHUNK_HEADER + ZSTD_compressBound(BLOCK_MAX) + 64 * LHT_REF_COLUMNS;
	return sizeof(struct lh_zstate) + *ws + *out_cap + 6 * LH_COL_SIZE + 2 * CODES_MAX +
	       sizeof(struct lht_ptr_index) + LHT_PTR_WINDOW + 16 * 64;
}

static uint8_t *carve(uint8_t **q, size_t n)
{
	uint8_t *p = *q;

	*q += (n + 63) & ~(size_t)63;
	return p;
}

static struct lh_zstate *zstate_new(void)
{
	size_t ws, out_cap, total = zstate_size(&ws, &out_cap);
	uint8_t *m = lh_map_anon(total), *q;
	struct lh_zstate *z;

	if (!m)
		return NULL;
	z = (struct lh_zstate *)m;
	q = m;
	carve(&q, sizeof(*z));
	z->cctx = ZSTD_initStaticCCtx(carve(&q, ws), ws);
	/* a static context starts with zeroed parameters: no content size in
	 * the frame unless asked (the reader needs it); the checksum (4 bytes
	 * a chunk) lets a reader find a damaged chunk instead of reading other
	 * events out of it */
	if (!z->cctx || ZSTD_isError(ZSTD_CCtx_reset(z->cctx, ZSTD_reset_parameters)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, ZLEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_contentSizeFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1))) {
		munmap(m, total);
		return NULL;
	}
	z->out = carve(&q, out_cap);
	z->out_cap = out_cap;
	z->col[LHT_RC_SIZE] = carve(&q, LH_COL_SIZE);
	z->col[LHT_RC_SIZE_HI] = carve(&q, LH_COL_SIZE);
	z->col[LHT_RC_STACK] = carve(&q, LH_COL_SIZE);
	z->col[LHT_RC_STACK_HI] = carve(&q, LH_COL_SIZE);
	z->col[LHT_RC_ALLOC] = carve(&q, LH_COL_SIZE);
	z->col[LHT_RC_FREE] = carve(&q, LH_COL_SIZE);
	z->col[LHT_RC_ALLOC_HI] = carve(&q, CODES_MAX);
	z->col[LHT_RC_FREE_HI] = carve(&q, CODES_MAX);
	z->ix = (struct lht_ptr_index *)carve(&q, sizeof(*z->ix));
	/* the writer keeps no address rings (lht_ptr.h), only the classes */
	z->ps.aclass = carve(&q, LHT_PTR_WINDOW);
	z->ps.acap = z->ps.fcap = LHT_PTR_WINDOW;
	z->stream = __atomic_add_fetch(&next_stream, 1, __ATOMIC_RELAXED);
	z->fresh = 1;
	return z;
}

/* Empty state on both sides from this chunk on (the chunk says so). */
static void zstate_restart(struct lh_zstate *z)
{
	lht_ptr_reset(&z->ps);
	if (lh_preload_conf.compact) /* untouched otherwise: no need to map its pages in */
		lht_ptr_index_reset(z->ix);
	z->trace = __atomic_load_n(&lh_record_trace_id, __ATOMIC_ACQUIRE);
	z->fresh = 1;
}

/*
 * The half's pointer column, decoded some events ahead of the encoder,
 * which fetches the index bucket of each address the encoder will look up
 * then: the encoder's time went to waiting for them (1 MiB, random).  Only
 * a hint: the bucket may change before the encoder gets there, which costs
 * a miss, never a wrong code.
 */
#define AHEAD 16 /* a power of two */

struct ahead {
	const uint8_t *r, *e;
	uint64_t ptr;
	uint32_t n;              /* addresses decoded */
	uint64_t addr[AHEAD];    /* address i at i % AHEAD */
};

static inline void ahead_next(struct lh_zstate *z, struct ahead *a, uint32_t nrec)
{
	uint64_t v;

	if (a->n < nrec && !lht_get_varint(&a->r, a->e, &v)) {
		a->ptr += (uint64_t)lht_unzigzag(lht_row_ptr(v));
		a->addr[a->n++ & (AHEAD - 1)] = a->ptr;
		__builtin_prefetch(ptr_bucket(z->ix, a->ptr), 1);
	}
}

/*
 * The half's version 2 columns (types, seq deltas, sizes, stacks, pointer
 * deltas from 0, old pointers) into the version 3 columns that differ:
 * sizes and stacks split, pointers coded by reference.  Types and seqs stay
 * as they are.  0, or -1 if a column does not parse (then the state has
 * taken part of the half: the caller restarts it).
 */
static int encode_half(struct lh_zstate *z, const struct half *h, uint8_t *w[LHT_REF_COLUMNS])
{
	const uint8_t *r[LHT_COLUMNS], *e[LHT_COLUMNS];
	uint64_t ptr, size = 0, v;
	struct ahead ahead = { .r = h->col[4], .e = h->col[4] + h->len[4] };

	for (int k = 0; k < LHT_COLUMNS; k++) {
		r[k] = h->col[k];
		e[k] = h->col[k] + h->len[k];
	}
	if (h->len[0] < h->nrec)
		return -1;
	for (uint32_t i = 0; i < AHEAD; i++)
		ahead_next(z, &ahead, h->nrec);
	for (uint32_t i = 0; i < h->nrec; i++) {
		uint8_t type = h->col[0][i];

		if (i >= ahead.n)
			return -1; /* the pointer column ran out */
		ptr = ahead.addr[i & (AHEAD - 1)];
		ahead_next(z, &ahead, h->nrec);
		if (type != LHT_REC_FREE) {
			if (lht_get_varint(&r[2], e[2], &size) || lht_get_varint(&r[3], e[3], &v))
				return -1;
			lht_put_split(&w[LHT_RC_SIZE], &w[LHT_RC_SIZE_HI], size);
			lht_put_split(&w[LHT_RC_STACK], &w[LHT_RC_STACK_HI], v);
		}
		if (type == LHT_REC_REALLOC) {
			if (lht_get_varint(&r[5], e[5], &v))
				return -1;
			lht_put_split(&w[LHT_RC_FREE], &w[LHT_RC_FREE_HI], lht_ptr_encode_free(&z->ps, z->ix, v));
		}
		if (type == LHT_REC_FREE)
			lht_put_split(&w[LHT_RC_FREE], &w[LHT_RC_FREE_HI], lht_ptr_encode_free(&z->ps, z->ix, ptr));
		else
			lht_put_split(&w[LHT_RC_ALLOC], &w[LHT_RC_ALLOC_HI],
				      lht_ptr_encode_alloc(&z->ps, z->ix, ptr, size));
	}
	return 0;
}

/* Feed [p, p+n) to the frame; flush: end the zstd block here.  0, or -1. */
static int feed(struct lh_zstate *z, ZSTD_outBuffer *out, const uint8_t *p, size_t n, ZSTD_EndDirective how)
{
	ZSTD_inBuffer in = { p, n, 0 };
	size_t left;

	do {
		left = ZSTD_compressStream2(z->cctx, out, &in, how);
		if (ZSTD_isError(left) || (left && out->pos == out->size))
			return -1;
	} while (how == ZSTD_e_continue ? in.pos < in.size : left != 0);
	return 0;
}

/*
 * One chunk: a zstd frame of head[0..nhead) and the columns, each column
 * ending a zstd block of its own, so that each gets its own entropy tables
 * (one table for all of them cost 10% on churn), written from thread tid.
 * 0, or -1 when it does not compress.
 */
static int write_frame(struct lh_zstate *z, int tid, const uint8_t *head, size_t nhead, const uint8_t *const *col,
		       const size_t *len, int ncol)
{
	ZSTD_outBuffer out = { z->out + LHT_CHUNK_HEADER, z->out_cap - LHT_CHUNK_HEADER, 0 };
	size_t total = nhead;

	for (int k = 0; k < ncol; k++)
		total += len[k];
	if (ZSTD_isError(ZSTD_CCtx_reset(z->cctx, ZSTD_reset_session_only)) ||
	    ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(z->cctx, total)) ||
	    feed(z, &out, head, nhead, ZSTD_e_continue))
		return -1;
	for (int k = 0; k < ncol; k++)
		if (feed(z, &out, col[k], len[k], k == ncol - 1 ? ZSTD_e_end : ZSTD_e_flush))
			return -1;
	if (out.pos >= LHT_MAX_CHUNK)
		return -1;
	lht_put32(z->out, (uint32_t)out.pos | LHT_CHUNK_ZSTD);
	lht_put32(z->out + 4, (uint32_t)tid);
	lh_record_write(z->out, LHT_CHUNK_HEADER + out.pos);
	return 0;
}

/* Version 2: the half's columns as they are. */
static int write_columns(struct lh_zstate *z, int tid, const struct half *h)
{
	uint8_t head[HEAD_MAX], *p = lht_put_varint(head, h->nrec);
	const uint8_t *col[LHT_COLUMNS];
	size_t len[LHT_COLUMNS];

	for (int k = 0; k < LHT_COLUMNS; k++) {
		p = lht_put_varint(p, h->len[k]);
		col[k] = h->col[k];
		len[k] = h->len[k];
	}
	return write_frame(z, tid, head, (size_t)(p - head), col, len, LHT_COLUMNS);
}

/* Version 3: pointers by reference (lht_ptr.h), sizes split. */
static int write_refs(struct lh_zstate *z, int tid, const struct half *h)
{
	uint8_t head[HEAD_MAX], *p, *w[LHT_REF_COLUMNS];
	const uint8_t *col[LHT_REF_COLUMNS];
	size_t len[LHT_REF_COLUMNS];
	uint64_t nev;

	/* not "recording stopped since": a session whose first chunk of this
	 * buffer was written by the final flush, after recording stopped,
	 * went on from the last session's state, and its reader lost every
	 * event of the buffer (two short --compact sessions in a row) */
	if (z->trace != __atomic_load_n(&lh_record_trace_id, __ATOMIC_ACQUIRE))
		zstate_restart(z);
	nev = z->ps.nev;
	for (int k = 0; k < LHT_REF_COLUMNS; k++)
		w[k] = z->col[k];
	if (encode_half(z, h, w))
		return -1;
	col[LHT_RC_TYPES] = h->col[0];
	len[LHT_RC_TYPES] = h->nrec;
	col[LHT_RC_SEQ] = h->col[1];
	len[LHT_RC_SEQ] = h->len[1];
	for (int k = LHT_RC_SIZE; k < LHT_REF_COLUMNS; k++) {
		col[k] = z->col[k];
		len[k] = (size_t)(w[k] - z->col[k]);
	}
	p = lht_put_varint(head, 0); /* not a version 2 block */
	p = lht_put_varint(p, z->stream);
	p = lht_put_varint(p, z->fresh ? LHT_REF_RESET : 0);
	p = lht_put_varint(p, nev);
	p = lht_put_varint(p, h->nrec);
	for (int k = 0; k < LHT_REF_COLUMNS; k++)
		p = lht_put_varint(p, len[k]);
	if (write_frame(z, tid, head, (size_t)(p - head), col, len, LHT_REF_COLUMNS))
		return -1;
	z->fresh = 0;
	return 0;
}

void lh_write_half(struct lh_zstate **zp, int tid, const struct half *h, uint8_t *rows)
{
	const uint8_t *col[LHT_COLUMNS];
	size_t len[LHT_COLUMNS];
	long n;

	if (!h->nrec)
		return;
	if (!*zp && (*zp = zstate_new()))
		zstate_restart(*zp);
	if (*zp && !(lh_preload_conf.compact ? write_refs(*zp, tid, h) : write_columns(*zp, tid, h)))
		return;
	if (*zp)
		zstate_restart(*zp); /* the reader will not see these events in its state */
	for (int k = 0; k < LHT_COLUMNS; k++) {
		col[k] = h->col[k];
		len[k] = h->len[k];
	}
	n = lht_columns_to_rows(col, len, h->nrec, rows + LHT_CHUNK_HEADER, LH_ROWS_SIZE - LHT_CHUNK_HEADER);
	if (n > 0) {
		lht_put32(rows, (uint32_t)n);
		lht_put32(rows + 4, (uint32_t)tid);
		lh_record_write(rows, LHT_CHUNK_HEADER + (size_t)n);
	}
}
