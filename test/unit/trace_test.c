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

/* The same rows as the preload writes them: zstd-compressed columns. */
static void put_compressed(struct file *f, uint32_t tid, const uint8_t *p, size_t n)
{
	uint8_t cols[LHT_COLUMNS][1024], block[8192], *col[LHT_COLUMNS], *q;
	size_t len[LHT_COLUMNS] = { 0 }, z;
	uint64_t nrec = 0;

	for (int k = 0; k < LHT_COLUMNS; k++)
		col[k] = cols[k];
	CHECK_EQ(lht_rows_to_columns(p, p + n, col, len, &nrec), 0);
	q = lht_put_varint(block, nrec);
	for (int k = 0; k < LHT_COLUMNS; k++)
		q = lht_put_varint(q, len[k]);
	for (int k = 0; k < LHT_COLUMNS; k++) {
		memcpy(q, cols[k], len[k]);
		q += len[k];
	}
	f->chunk_at[f->nchunks++] = f->len;
	z = ZSTD_compress(f->buf + f->len + 8, sizeof(f->buf) - f->len - 8, block, (size_t)(q - block), 1);
	CHECK(!ZSTD_isError(z));
	lht_put32(f->buf + f->len, (uint32_t)z | LHT_CHUNK_ZSTD);
	lht_put32(f->buf + f->len + 4, tid);
	f->len += 8 + z;
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

static void write_file(const char *path, const struct file *f)
{
	FILE *fp = fopen(path, "wb");

	CHECK(fp != NULL);
	if (!fp)
		return;
	CHECK_EQ(fwrite(f->buf, 1, f->len, fp), f->len);
	fclose(fp);
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
	write_file(path, &f);
	if (lh_trace_open(&t, path)) {
		CHECK(!"opened");
		goto out;
	}
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
	write_file(path, &f);
	if (lh_trace_open(&t, path)) {
		CHECK(!"opened");
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
