/*
 * Compression of the per-thread event buffers (format v2, src/native/lht.h):
 * a closed half of a buffer, already in column form, goes out as one zstd
 * frame, compressed by the timer thread or the thread that flushes the
 * buffer, never under a global lock.  zstd's context lives in mmap'ed memory
 * of its own (ZSTD_initStaticCCtx): zstd never calls malloc here.  Anything
 * that fails leaves the chunk as plain rows, which readers take as well.
 */
#include <string.h>
#include <sys/mman.h>

#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_initStaticCCtx: no malloc inside the target */
#include <zstd.h>

#include "native/lht.h"
#include "native/preload/preload.h"

#define ZLEVEL 1 /* the fastest regular level: columns already do most of the work */
#define BLOCK_MAX (10 + LHT_COLUMNS * 10 + LHT_COLUMNS * LH_COL_SIZE)

struct lh_zstate {
	ZSTD_CCtx *cctx;
	size_t out_cap;
	uint8_t *out;   /* chunk header + compressed frame */
	uint8_t *block; /* nrec, column lengths, columns */
};

static size_t zstate_size(size_t *ws, size_t *out_cap)
{
	ZSTD_compressionParameters cp = ZSTD_getCParams(ZLEVEL, BLOCK_MAX, 0);

	*ws = ZSTD_estimateCCtxSize_usingCParams(cp);
	*out_cap = LHT_CHUNK_HEADER + ZSTD_compressBound(BLOCK_MAX);
	return sizeof(struct lh_zstate) + *ws + *out_cap + BLOCK_MAX + 64;
}

static struct lh_zstate *zstate_new(void)
{
	size_t ws, out_cap, total = zstate_size(&ws, &out_cap);
	uint8_t *m = lh_map_anon(total), *q;
	struct lh_zstate *z;

	if (!m)
		return NULL;
	z = (struct lh_zstate *)m;
	q = m + ((sizeof(*z) + 63) & ~(size_t)63);
	z->cctx = ZSTD_initStaticCCtx(q, ws);
	q += (ws + 63) & ~(size_t)63;
	z->out = q;
	z->out_cap = out_cap;
	q += out_cap;
	z->block = q;
	if (!z->cctx) {
		munmap(m, total);
		return NULL;
	}
	return z;
}

/* 0 when the closed half h went out compressed; -1: write it as rows. */
static int write_compressed(struct lh_zstate *z, int tid, const struct half *h)
{
	size_t n, c;
	uint8_t *p;

	p = lht_put_varint(z->block, h->nrec);
	for (int k = 0; k < LHT_COLUMNS; k++)
		p = lht_put_varint(p, h->len[k]);
	for (int k = 0; k < LHT_COLUMNS; k++) {
		memcpy(p, h->col[k], h->len[k]);
		p += h->len[k];
	}
	n = (size_t)(p - z->block);
	c = ZSTD_compressCCtx(z->cctx, z->out + LHT_CHUNK_HEADER, z->out_cap - LHT_CHUNK_HEADER, z->block, n, ZLEVEL);
	if (ZSTD_isError(c) || c >= LHT_MAX_CHUNK)
		return -1;
	lht_put32(z->out, (uint32_t)c | LHT_CHUNK_ZSTD);
	lht_put32(z->out + 4, (uint32_t)tid);
	lh_record_write(z->out, LHT_CHUNK_HEADER + c);
	return 0;
}

void lh_write_half(struct lh_zstate **zp, int tid, const struct half *h, uint8_t *rows)
{
	const uint8_t *col[LHT_COLUMNS];
	size_t len[LHT_COLUMNS];
	long n;

	if (!h->nrec)
		return;
	if (!*zp)
		*zp = zstate_new();
	if (*zp && !write_compressed(*zp, tid, h))
		return;
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
