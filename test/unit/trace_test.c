/*
 * Unit tests of the .lht reader's parts that `leakhunt record` uses
 * (src/native/trace.c): lh_trace_copy_meta(), which hands the symbolizer a
 * copy of a trace without its compressed event chunks, and the records'
 * fields being reset between records.  The traces are written here byte by
 * byte, in the layout of docs/lht-format.md.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "native/lht.h"
#include "native/lht_ptr.h"
#include "native/trace.h"
#include "test.h"

struct file {
	uint8_t buf[1 << 16];
	size_t len;
	size_t chunk_at[8]; /* where each chunk starts */
	int nchunks;
};

static void put_header(struct file *f)
{
	memset(f->buf, 0, LHT_HEADER_SIZE);
	memcpy(f->buf, LHT_MAGIC, 8);
	lht_put32(f->buf + 8, LHT_VERSION);
	lht_put32(f->buf + 12, LHT_HEADER_SIZE);
	lht_put32(f->buf + 24, 4242);
	f->len = LHT_HEADER_SIZE;
}

/* A chunk of rows [p, p + n) from thread tid. */
static void put_rows(struct file *f, uint32_t tid, const uint8_t *p, size_t n)
{
	f->chunk_at[f->nchunks++] = f->len;
	lht_put32(f->buf + f->len, (uint32_t)n);
	lht_put32(f->buf + f->len + 4, tid);
	memcpy(f->buf + f->len + 8, p, n);
	f->len += 8 + n;
}

/* The block [block, block+n) as one zstd-compressed chunk of thread tid. */
static void put_zstd_chunk(struct file *f, uint32_t tid, const uint8_t *block, size_t n)
{
	size_t z;

	f->chunk_at[f->nchunks++] = f->len;
	z = ZSTD_compress(f->buf + f->len + 8, sizeof(f->buf) - f->len - 8, block, n, 1);
	CHECK(!ZSTD_isError(z));
	lht_put32(f->buf + f->len, (uint32_t)z | LHT_CHUNK_ZSTD);
	lht_put32(f->buf + f->len + 4, tid);
	f->len += 8 + z;
}

/* The same rows as the preload writes them: zstd-compressed columns; a
 * record count claimed_extra higher than the rows hold makes it damaged. */
static void put_columns(struct file *f, uint32_t tid, const uint8_t *p, size_t n, uint64_t claimed_extra)
{
	uint8_t cols[LHT_COLUMNS][1024], block[8192], *col[LHT_COLUMNS], *q;
	size_t len[LHT_COLUMNS] = { 0 };
	uint64_t nrec = 0;

	for (int k = 0; k < LHT_COLUMNS; k++)
		col[k] = cols[k];
	CHECK_EQ(lht_rows_to_columns(p, p + n, col, len, &nrec), 0);
	q = lht_put_varint(block, nrec + claimed_extra);
	for (int k = 0; k < LHT_COLUMNS; k++)
		q = lht_put_varint(q, len[k]);
	for (int k = 0; k < LHT_COLUMNS; k++) {
		memcpy(q, cols[k], len[k]);
		q += len[k];
	}
	put_zstd_chunk(f, tid, block, (size_t)(q - block));
}

static void put_compressed(struct file *f, uint32_t tid, const uint8_t *p, size_t n)
{
	put_columns(f, tid, p, n, 0);
}

static uint8_t *put_str(uint8_t *p, const char *s)
{
	p = lht_put_varint(p, strlen(s));
	memcpy(p, s, strlen(s));
	return p + strlen(s);
}

/*
 * Header; rows: a module and two stack nodes; compressed: 3 allocations and
 * 2 frees; rows: one allocation and a child; and a last chunk cut short,
 * as a killed program leaves it.
 */
static void make_trace(struct file *f)
{
	uint8_t rows[512], *p = rows;

	put_header(f);
	*p++ = LHT_REC_MODULE;
	p = lht_put_varint(p, 0x400000);
	p = put_str(p, "/bin/prog");
	p = lht_put_varint(p, 1);
	p = lht_put_varint(p, 0x1000);
	p = lht_put_varint(p, 0x2000);
	*p++ = LHT_REC_NODE;
	p = lht_put_varint(p, 1);
	p = lht_put_varint(p, 0);
	p = lht_put_varint(p, 0x401234);
	*p++ = LHT_REC_NODE;
	p = lht_put_varint(p, 2);
	p = lht_put_varint(p, 1);
	p = lht_put_varint(p, 0x401300);
	put_rows(f, 7, rows, (size_t)(p - rows));

	p = rows;
	for (int i = 0; i < 3; i++) {
		*p++ = LHT_REC_ALLOC;
		p = lht_put_varint(p, 1);                /* seq delta */
		p = lht_put_varint(p, 100 + (uint64_t)i); /* size */
		p = lht_put_varint(p, 2);                /* stack */
		p = lht_put_varint(p, lht_zigzag(i ? 32 : 0x10000)); /* ptr delta */
	}
	for (int i = 0; i < 2; i++) {
		*p++ = LHT_REC_FREE;
		p = lht_put_varint(p, 1);
		p = lht_put_varint(p, lht_zigzag(-32));
	}
	put_compressed(f, 7, rows, (size_t)(p - rows));

	p = rows;
	*p++ = LHT_REC_ALLOC;
	p = lht_put_varint(p, 6);
	p = lht_put_varint(p, 77);
	p = lht_put_varint(p, 1);
	p = lht_put_varint(p, lht_zigzag(0x20000));
	*p++ = LHT_REC_CHILD;
	p = lht_put_varint(p, 999);
	p = put_str(p, "/tmp/prog.999.lht");
	put_rows(f, 8, rows, (size_t)(p - rows));

	p = rows;
	*p++ = LHT_REC_NODE;
	p = lht_put_varint(p, 3);
	p = lht_put_varint(p, 2);
	p = lht_put_varint(p, 0x401400);
	put_rows(f, 7, rows, (size_t)(p - rows));
	f->len -= 2; /* cut inside the last chunk */
}

/* Write f to path and open it as t; 0, or -1 (a failed check) when it does
 * not open. */
static int write_and_open(const char *path, const struct file *f, struct lh_trace *t)
{
	FILE *fp = fopen(path, "wb");

	CHECK(fp != NULL);
	if (fp) {
		CHECK_EQ(fwrite(f->buf, 1, f->len, fp), f->len);
		fclose(fp);
	}
	if (lh_trace_open(t, path)) {
		CHECK(!"opened");
		return -1;
	}
	return 0;
}

struct seen {
	int by_type[128];
	char child[64];
};

static void count(const struct lh_trace_rec *r, void *arg)
{
	struct seen *s = arg;

	s->by_type[r->type & 127]++;
	if (r->type == LHT_REC_CHILD)
		snprintf(s->child, sizeof(s->child), "%.*s", (int)r->str_len, r->str);
}

TEST(trace_copy_meta_leaves_out_compressed_events_and_the_cut_tail)
{
	static struct file f;
	char path[] = "/tmp/lh-trace-test-XXXXXX", copy[] = "/tmp/lh-trace-copy-XXXXXX";
	struct seen seen = { { 0 }, "" };
	struct lh_trace t;
	struct lh_trace_rec r;
	int fd = mkstemp(path), out = mkstemp(copy), n = 0;
	size_t expect_len;

	CHECK(fd >= 0 && out >= 0);
	close(fd);
	make_trace(&f);
	if (write_and_open(path, &f, &t))
		goto out;
	CHECK_EQ(lh_trace_copy_meta(&t, out, count, &seen), 0);
	/* every record of the row chunks, none of the compressed one's */
	CHECK_EQ(seen.by_type[LHT_REC_MODULE], 1);
	CHECK_EQ(seen.by_type[LHT_REC_NODE], 2);
	CHECK_EQ(seen.by_type[LHT_REC_ALLOC], 1);
	CHECK_EQ(seen.by_type[LHT_REC_FREE], 0);
	CHECK_EQ(seen.by_type[LHT_REC_CHILD], 1);
	CHECK_STR(seen.child, "/tmp/prog.999.lht");
	/* where the readable part ends: before the cut chunk */
	CHECK_EQ(t.good_end, f.chunk_at[3]);
	CHECK(t.damage.len > 0);
	lh_trace_release(&t);

	/* the copy: header, first and third chunk, byte for byte */
	expect_len = f.chunk_at[1] + (f.chunk_at[3] - f.chunk_at[2]);
	CHECK_EQ(lseek(out, 0, SEEK_END), (long long)expect_len);
	{
		uint8_t got[4096];

		CHECK_EQ(pread(out, got, expect_len, 0), (long long)expect_len);
		CHECK(!memcmp(got, f.buf, f.chunk_at[1]));
		CHECK(!memcmp(got + f.chunk_at[1], f.buf + f.chunk_at[2], f.chunk_at[3] - f.chunk_at[2]));
	}
	/* and it reads as a whole trace */
	if (lh_trace_open(&t, copy)) {
		CHECK(!"copy opened");
		goto out;
	}
	while (lh_trace_next(&t, &r))
		n++;
	CHECK_EQ(n, 5);
	CHECK_EQ(t.damage.len, 0);
	lh_trace_release(&t);
out:
	close(out);
	unlink(path);
	unlink(copy);
}

TEST(trace_next_resets_fields_between_records)
{
	static struct file f;
	char path[] = "/tmp/lh-trace-test-XXXXXX";
	struct lh_trace t;
	struct lh_trace_rec r;
	int fd = mkstemp(path), allocs = 0, frees = 0;

	CHECK(fd >= 0);
	close(fd);
	make_trace(&f);
	if (write_and_open(path, &f, &t)) {
		unlink(path);
		return;
	}
	/* one record variable throughout, as the readers use it */
	while (lh_trace_next(&t, &r)) {
		if (r.type == LHT_REC_MODULE) {
			CHECK_EQ(r.nseg, 1);
			CHECK_EQ(r.bias, 0x400000);
		} else if (r.type == LHT_REC_NODE) {
			CHECK(r.str == NULL);
			CHECK_EQ(r.nseg, 0);
			CHECK_EQ(r.bias, 0);
			CHECK_EQ(r.size, 0);
		} else if (r.type == LHT_REC_ALLOC) {
			allocs++;
			CHECK_EQ(r.old, 0);
			CHECK_EQ(r.parent, 0);
			CHECK_EQ(r.ip, 0);
			CHECK(r.size == 100 || r.size == 101 || r.size == 102 || r.size == 77);
		} else if (r.type == LHT_REC_FREE) {
			frees++;
			CHECK_EQ(r.size, 0);
			CHECK_EQ(r.stack, 0);
			CHECK(r.ptr >= 0x10000);
		} else if (r.type == LHT_REC_CHILD) {
			CHECK_EQ(r.id, 999);
			CHECK_EQ(r.seq, 0);
			CHECK_EQ(r.ptr, 0);
		}
	}
	CHECK_EQ(allocs, 4);
	CHECK_EQ(frees, 2);
	lh_trace_release(&t);
	unlink(path);
}

/*
 * n events with every shape of field: varints of 1 to 8 bytes and longer,
 * runs of one-byte ones, pointer deltas up and down, unaligned ones, and
 * reallocs with and without an old block.
 */
static size_t varied_rows(uint8_t *rows, int n)
{
	uint8_t *p = rows;

	for (int i = 0; i < n; i++) {
		int type = i % 5 == 4 ? LHT_REC_REALLOC : i % 3 == 2 ? LHT_REC_FREE : LHT_REC_ALLOC;
		/* the first from 0 to a heap address: no event has the address 0 */
		int64_t d = !i ? 0x10000 : i % 4 == 1 ? -(int64_t)i * 16 : i % 4 == 2 ? 3 + i : (int64_t)i << (i % 6 * 8);

		*p++ = (uint8_t)type;
		p = lht_put_varint(p, i % 7 == 6 ? 300 : 1);
		if (type != LHT_REC_FREE) {
			p = lht_put_varint(p, i < 16 ? (uint64_t)i : (uint64_t)i << (i % 10 * 7));
			p = lht_put_varint(p, (uint64_t)i);
		}
		p = lht_put_varint(p, lht_zigzag(d));
		if (type == LHT_REC_REALLOC)
			p = lht_put_varint(p, i % 2 ? 0 : 0x7000 + (uint64_t)i);
	}
	return (size_t)(p - rows);
}

static void same_event(const struct lh_trace_rec *a, uint64_t type, uint64_t seq, uint64_t ptr, uint64_t size,
		       uint64_t stack, uint64_t old)
{
	CHECK_EQ((uint64_t)a->type, type);
	CHECK_EQ(a->seq, seq);
	CHECK_EQ(a->ptr, ptr);
	CHECK_EQ(a->size, size);
	CHECK_EQ(a->stack, stack);
	CHECK_EQ(a->old, old);
}

TEST(trace_events_of_compressed_chunk_equal_the_rows)
{
	static struct file f;
	static uint8_t rows[8192];
	char path[] = "/tmp/lh-trace-test-XXXXXX";
	struct lh_trace_rec plain[64];
	struct lh_trace t;
	struct lh_trace_rec r;
	const struct lh_trace_event *e;
	int fd = mkstemp(path), nplain = 0, nev = 0, batched = 0;
	size_t n, len = varied_rows(rows, 60);

	CHECK(fd >= 0);
	close(fd);
	put_header(&f);
	put_rows(&f, 1, rows, len);
	put_compressed(&f, 2, rows, len);
	if (write_and_open(path, &f, &t)) {
		unlink(path);
		return;
	}
	/* the plain chunk through the row decoder; the compressed one's events
	 * in batches, after lh_trace_next has opened it with its first one */
	for (;;) {
		while ((e = lh_trace_events(&t, 7, &n))) {
			CHECK(n <= 7);
			CHECK_EQ(t.tid, 2);
			for (size_t i = 0; i < n && nev < nplain; i++, nev++, batched++)
				same_event(&plain[nev], (uint64_t)e[i].type, e[i].seq, e[i].ptr, e[i].size, e[i].stack,
					   e[i].old);
		}
		if (!lh_trace_next(&t, &r))
			break;
		if (r.tid == 1 && nplain < 64) {
			plain[nplain++] = r;
		} else if (r.tid == 2 && nev < nplain) {
			same_event(&plain[nev], (uint64_t)r.type, r.seq, r.ptr, r.size, r.stack, r.old);
			nev++;
		}
	}
	CHECK_EQ(nplain, 60);
	CHECK_EQ(nev, 60);
	CHECK_EQ(batched, 59);
	CHECK_EQ(t.damage.len, 0);
	lh_trace_release(&t);
	unlink(path);
}

TEST(trace_damaged_compressed_chunk_gives_none_of_its_events)
{
	static struct file f;
	static uint8_t rows[8192];
	char path[] = "/tmp/lh-trace-test-XXXXXX", want[64];
	struct lh_trace t;
	struct lh_trace_rec r;
	int fd = mkstemp(path), records = 0;
	size_t n, len = varied_rows(rows, 20);

	CHECK(fd >= 0);
	close(fd);
	put_header(&f);
	put_compressed(&f, 1, rows, len);
	put_columns(&f, 1, rows, len, 1); /* one record more than its columns hold */
	put_rows(&f, 1, rows, len);
	if (write_and_open(path, &f, &t)) {
		unlink(path);
		return;
	}
	for (;;) {
		while (lh_trace_events(&t, 1000, &n))
			records += (int)n;
		if (!lh_trace_next(&t, &r))
			break;
		records++;
	}
	/* the first chunk whole, nothing of the damaged one, nothing after it */
	CHECK_EQ(records, 20);
	snprintf(want, sizeof(want), "damaged compressed chunk at byte %zu", f.chunk_at[1]);
	CHECK_STR(t.damage.buf, want);
	CHECK_EQ(t.good_end, f.chunk_at[1]);
	lh_trace_release(&t);
	unlink(path);
}

/* ---- version 3: pointers by reference (lht_ptr.h) ---- */

struct v3_ev {
	int type;
	uint64_t seq, size, ptr, old;
};

/* One writer stream, as compress.c keeps it. */
struct v3_stream {
	unsigned id;
	int fresh;
	struct lht_ptr_state s;
	struct lht_ptr_index *ix;
};

static void v3_stream_init(struct v3_stream *w, unsigned id)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->fresh = 1;
	lh_test_ptr_writer_init(&w->s, &w->ix);
}

static void v3_stream_release(struct v3_stream *w)
{
	lh_test_ptr_writer_release(&w->s, w->ix);
}

/* The events ev[0..n) of stream w as a version 3 chunk from thread tid. */
static void put_refs(struct file *f, uint32_t tid, struct v3_stream *w, const struct v3_ev *ev, int n)
{
	uint8_t cols[LHT_REF_COLUMNS][512], *c[LHT_REF_COLUMNS], block[8192], *q;
	uint64_t seq = 0, nev = w->s.nev;

	for (int k = 0; k < LHT_REF_COLUMNS; k++)
		c[k] = cols[k];
	for (int i = 0; i < n; i++) {
		*c[LHT_RC_TYPES]++ = (uint8_t)ev[i].type;
		c[LHT_RC_SEQ] = lht_put_varint(c[LHT_RC_SEQ], ev[i].seq - seq);
		seq = ev[i].seq;
		if (ev[i].type != LHT_REC_FREE) {
			lht_put_split(&c[LHT_RC_SIZE], &c[LHT_RC_SIZE_HI], ev[i].size);
			lht_put_split(&c[LHT_RC_STACK], &c[LHT_RC_STACK_HI], 2);
		}
		if (ev[i].type == LHT_REC_REALLOC)
			lht_put_split(&c[LHT_RC_FREE], &c[LHT_RC_FREE_HI], lht_ptr_encode_free(&w->s, w->ix, ev[i].old));
		if (ev[i].type == LHT_REC_FREE)
			lht_put_split(&c[LHT_RC_FREE], &c[LHT_RC_FREE_HI], lht_ptr_encode_free(&w->s, w->ix, ev[i].ptr));
		else
			lht_put_split(&c[LHT_RC_ALLOC], &c[LHT_RC_ALLOC_HI],
				      lht_ptr_encode_alloc(&w->s, w->ix, ev[i].ptr, ev[i].size));
	}
	q = lht_put_varint(block, 0);
	q = lht_put_varint(q, w->id);
	q = lht_put_varint(q, w->fresh ? LHT_REF_RESET : 0);
	q = lht_put_varint(q, nev);
	q = lht_put_varint(q, (uint64_t)n);
	for (int k = 0; k < LHT_REF_COLUMNS; k++)
		q = lht_put_varint(q, (uint64_t)(c[k] - cols[k]));
	for (int k = 0; k < LHT_REF_COLUMNS; k++) {
		memcpy(q, cols[k], (size_t)(c[k] - cols[k]));
		q += c[k] - cols[k];
	}
	w->fresh = 0;
	put_zstd_chunk(f, tid, block, (size_t)(q - block));
}

#define A(seq, size, ptr) { LHT_REC_ALLOC, seq, size, ptr, 0 }
#define F(seq, ptr) { LHT_REC_FREE, seq, 0, ptr, 0 }
#define R(seq, size, ptr, old) { LHT_REC_REALLOC, seq, size, ptr, old }

/*
 * Two streams under one thread id (a buffer handed to a new thread whose
 * tid the kernel reused, while the old buffer's last chunk is still on its
 * way), a plain chunk of rows between them, a restart of one stream, and a
 * realloc of NULL: every event comes back as written.
 */
TEST(trace_v3_streams_are_decoded_by_stream_not_by_thread)
{
	static struct file f;
	static const struct v3_ev c1[] = { A(0, 40, 0x5000), A(1, 40, 0x5040), F(2, 0x5000), A(3, 24, 0x9000) };
	static const struct v3_ev c2[] = { A(4, 100, 0x70000), F(5, 0x70000), A(6, 100, 0x70000) };
	static const struct v3_ev c3[] = { A(8, 40, 0x5000), R(9, 200, 0x6000, 0x5040), F(10, 0x9000) };
	static const struct v3_ev c4[] = { F(11, 0x6000), R(12, 30, 0x6100, 0), A(13, 40, 0x5040) };
	static const struct v3_ev c5[] = { A(14, 40, 0x8000), F(15, 0x8000), F(16, 0x70000) };
	const struct v3_ev *all[] = { c1, c2, c3, c4, c5 };
	int nall[] = { 4, 3, 3, 3, 3 }, chunk = 0, i = 0, events = 0;
	struct v3_stream s1, s2;
	char path[] = "/tmp/lh-trace-test-XXXXXX";
	uint8_t rows[64], *p = rows;
	struct lh_trace t;
	struct lh_trace_rec r;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	v3_stream_init(&s1, 1);
	v3_stream_init(&s2, 2);
	put_header(&f);
	lht_put32(f.buf + 8, 3); /* whatever the preload writes now */
	put_refs(&f, 7, &s1, c1, 4);
	put_refs(&f, 7, &s2, c2, 3);
	*p++ = LHT_REC_ALLOC; /* rows: seq 7, in no stream's state */
	p = lht_put_varint(p, 7);
	p = lht_put_varint(p, 16);
	p = lht_put_varint(p, 2);
	p = lht_put_varint(p, lht_zigzag(0xabc0));
	put_rows(&f, 7, rows, (size_t)(p - rows));
	put_refs(&f, 7, &s1, c3, 3);
	lht_ptr_reset(&s1.s); /* s1 starts again: its next chunk says so */
	lht_ptr_index_reset(s1.ix);
	s1.fresh = 1;
	put_refs(&f, 7, &s1, c4, 3);
	put_refs(&f, 9, &s2, c5, 3);
	if (write_and_open(path, &f, &t))
		goto out;
	while (lh_trace_next(&t, &r)) {
		const struct v3_ev *e;

		events++;
		if (r.seq == 7) {
			CHECK_EQ(r.ptr, 0xabc0);
			continue;
		}
		while (chunk < 5 && i == nall[chunk]) {
			chunk++;
			i = 0;
		}
		if (chunk == 5)
			break;
		e = &all[chunk][i++];
		CHECK_EQ(r.type, e->type);
		CHECK_EQ(r.seq, e->seq);
		CHECK_EQ(r.ptr, e->ptr);
		CHECK_EQ(r.old, e->old);
		CHECK_EQ(r.size, e->size);
	}
	CHECK_EQ(events, 17);
	CHECK_EQ(t.damage.len, 0);
	lh_trace_release(&t);
out:
	v3_stream_release(&s1);
	v3_stream_release(&s2);
	unlink(path);
}

/* A stream's chunk whose predecessor is not in the file: its references
 * cannot be resolved, and the reader says so instead of guessing. */
TEST(trace_v3_chunk_without_its_predecessor_is_damage)
{
	static struct file f, skip;
	static const struct v3_ev c1[] = { A(0, 40, 0x5000), A(1, 40, 0x5040) };
	static const struct v3_ev c2[] = { F(2, 0x5000), F(3, 0x5040) };
	struct v3_stream s;
	char path[] = "/tmp/lh-trace-test-XXXXXX";
	struct lh_trace t;
	struct lh_trace_rec r;
	int fd = mkstemp(path), events = 0;

	CHECK(fd >= 0);
	close(fd);
	v3_stream_init(&s, 3);
	put_header(&f);
	lht_put32(f.buf + 8, 3); /* whatever the preload writes now */
	put_refs(&skip, 7, &s, c1, 2); /* written, but not to this file */
	put_refs(&f, 7, &s, c2, 2);
	if (write_and_open(path, &f, &t))
		goto out;
	while (lh_trace_next(&t, &r))
		events++;
	CHECK_EQ(events, 0);
	CHECK(strstr(t.damage.buf, "a chunk is missing") != NULL);
	CHECK_EQ(t.good_end, LHT_HEADER_SIZE);
	lh_trace_release(&t);
out:
	v3_stream_release(&s);
	unlink(path);
}

/* An empty version 2 block (0 records, zero lengths) in a version 3 file is
 * not taken for a version 3 block, whose 0 is followed by a stream id. */
TEST(trace_v3_file_keeps_empty_v2_blocks)
{
	static struct file f;
	static const struct v3_ev c1[] = { A(0, 40, 0x5000), F(1, 0x5000) };
	struct v3_stream s;
	char path[] = "/tmp/lh-trace-test-XXXXXX";
	struct lh_trace t;
	struct lh_trace_rec r;
	uint8_t none[1] = { 0 };
	int fd = mkstemp(path), events = 0;

	CHECK(fd >= 0);
	close(fd);
	v3_stream_init(&s, 1);
	put_header(&f);
	lht_put32(f.buf + 8, 3);
	put_compressed(&f, 7, none, 0);
	put_refs(&f, 7, &s, c1, 2);
	if (write_and_open(path, &f, &t))
		goto out;
	while (lh_trace_next(&t, &r)) {
		CHECK_EQ(r.ptr, 0x5000);
		events++;
	}
	CHECK_EQ(events, 2);
	CHECK_EQ(t.damage.len, 0);
	lh_trace_release(&t);
out:
	v3_stream_release(&s);
	unlink(path);
}
