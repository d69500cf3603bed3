/*
 * Unit tests of the native allocation model (src/native/analyze.c,
 * callgraph.c, suppress.c) on traces built here byte by byte, so every
 * number is known: events of two threads written out of order, a realloc,
 * inline frames, an unresolved frame, a cut chunk.
 */
#include <stdlib.h>
#include <unistd.h>
#include <zstd.h>

#include <cjson/cJSON.h>

#include "native/analyze.h"
#include "native/callgraph.h"
#include "native/lht.h"
#include "native/suppress.h"
#include "report/native.h"
#include "test.h"

struct chunk {
	uint8_t buf[4096];
	size_t len;
	uint64_t seq, ptr; /* previous seq and ptr in this chunk */
	int first;
};

static void chunk_init(struct chunk *c)
{
	memset(c, 0, sizeof(*c));
	c->first = 1;
}

static void put_v(struct chunk *c, uint64_t v)
{
	c->len = (size_t)(lht_put_varint(c->buf + c->len, v) - c->buf);
}

static void put_str(struct chunk *c, const char *s)
{
	put_v(c, strlen(s));
	memcpy(c->buf + c->len, s, strlen(s));
	c->len += strlen(s);
}

static void put_seq(struct chunk *c, uint64_t seq)
{
	put_v(c, c->first ? seq : seq - c->seq);
	c->seq = seq;
	c->first = 0;
}

static void put_ptr(struct chunk *c, uint64_t ptr)
{
	put_v(c, lht_zigzag((int64_t)(ptr - c->ptr)));
	c->ptr = ptr;
}

static void ev_alloc(struct chunk *c, uint64_t seq, uint64_t size, uint64_t stack, uint64_t ptr)
{
	c->buf[c->len++] = LHT_REC_ALLOC;
	put_seq(c, seq);
	put_v(c, size);
	put_v(c, stack);
	put_ptr(c, ptr);
}

static void ev_free(struct chunk *c, uint64_t seq, uint64_t ptr)
{
	c->buf[c->len++] = LHT_REC_FREE;
	put_seq(c, seq);
	put_ptr(c, ptr);
}

static void ev_realloc(struct chunk *c, uint64_t seq, uint64_t size, uint64_t stack, uint64_t ptr, uint64_t old)
{
	c->buf[c->len++] = LHT_REC_REALLOC;
	put_seq(c, seq);
	put_v(c, size);
	put_v(c, stack);
	put_ptr(c, ptr);
	put_v(c, old);
}

static void node(struct chunk *c, uint64_t id, uint64_t parent, uint64_t ip)
{
	c->buf[c->len++] = LHT_REC_NODE;
	put_v(c, id);
	put_v(c, parent);
	put_v(c, ip);
}

static void write_chunk(FILE *f, uint32_t tid, const struct chunk *c)
{
	uint8_t h[8];

	lht_put32(h, (uint32_t)c->len);
	lht_put32(h + 4, tid);
	fwrite(h, 1, 8, f);
	fwrite(c->buf, 1, c->len, f);
}

/* The file header of the version the preload writes by default. */
static void put_header(FILE *f)
{
	uint8_t h[LHT_HEADER_SIZE] = { 0 };

	memcpy(h, LHT_MAGIC, 8);
	lht_put32(h + 8, LHT_VERSION);
	lht_put32(h + 12, LHT_HEADER_SIZE);
	fwrite(h, 1, sizeof(h), f);
}

/*
 * Two threads.  Stacks: 1 = main (0x1000), 2 = inl inlined in f (0x2000),
 * 3 = an address in libfoo.so without a symbol (0x3400).  Global order:
 *   0 A t1 100 @2 0x10    1 A t2 50 @3 0x20    2 F t2 0x20 (temporary)
 *   3 A t1 200 @2 0x30    4 F t1 0x10          5 R t1 400 @3 0x40 <- 0x30
 *   6 A t2 10 @2 0x50     7 F t1 0x40 (temporary: t1 did nothing since 5)   Z
 * calls 5, temporary 2, peak 410 at seq 6 (stack 2: 10, stack 3: 400),
 * leaked 10 B in 1 block on stack 2.  Thread 2's chunk comes first.
 */
static void write_trace(const char *path, int cut)
{
	FILE *f = fopen(path, "wb");
	struct chunk c;

	put_header(f);

	chunk_init(&c);
	c.buf[c.len++] = LHT_REC_MODULE;
	put_v(&c, 0);
	put_str(&c, "/x/libfoo.so");
	put_v(&c, 1);
	put_v(&c, 0x3000);
	put_v(&c, 0x1000);
	node(&c, 1, 0, 0x1000);
	node(&c, 2, 1, 0x2000);
	node(&c, 3, 1, 0x3400);
	write_chunk(f, 1, &c);

	chunk_init(&c);
	ev_alloc(&c, 1, 50, 3, 0x20);
	ev_free(&c, 2, 0x20);
	ev_alloc(&c, 6, 10, 2, 0x50);
	write_chunk(f, 2, &c);

	chunk_init(&c);
	ev_alloc(&c, 0, 100, 2, 0x10);
	ev_alloc(&c, 3, 200, 2, 0x30);
	ev_free(&c, 4, 0x10);
	ev_realloc(&c, 5, 400, 3, 0x40, 0x30);
	ev_free(&c, 7, 0x40);
	c.buf[c.len++] = LHT_REC_END;
	put_seq(&c, 8);
	put_v(&c, 5);
	if (cut) {
		/* the last chunk claims more bytes than the file has */
		uint8_t hh[8];

		lht_put32(hh, (uint32_t)c.len + 100);
		lht_put32(hh + 4, 1);
		fwrite(hh, 1, 8, f);
		fwrite(c.buf, 1, c.len, f);
		fclose(f);
		return;
	}
	write_chunk(f, 1, &c);

	chunk_init(&c);
	for (int i = 0; i < 4; i++) {
		static const char *const s[] = { "main", "f", "inl", "t.c" };

		c.buf[c.len++] = LHT_REC_STRING;
		put_v(&c, (uint64_t)i + 1);
		put_str(&c, s[i]);
	}
	c.buf[c.len++] = LHT_REC_SYMBOL;
	put_v(&c, 0x1000);
	put_v(&c, 1);
	put_v(&c, 1), put_v(&c, 4), put_v(&c, 10);
	c.buf[c.len++] = LHT_REC_SYMBOL;
	put_v(&c, 0x2000);
	put_v(&c, 2);
	put_v(&c, 3), put_v(&c, 4), put_v(&c, 3);
	put_v(&c, 2), put_v(&c, 4), put_v(&c, 20);
	c.buf[c.len++] = LHT_REC_SYMBOLS_END;
	write_chunk(f, 0, &c);
	fclose(f);
}

static char *tmp_trace(int cut)
{
	static char path[64];

	snprintf(path, sizeof(path), "/tmp/lh-native-report-%d.lht", (int)getpid());
	write_trace(path, cut);
	return path;
}

static const struct lh_site *site(const struct lh_alloc_model *m, const struct lh_site *s, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].func != LH_FUNC_NONE && !strcmp(lh_alloc_func_name(m, s[i].func), name))
			return &s[i];
	return NULL;
}

TEST(native_model_two_threads_out_of_order)
{
	struct lh_alloc_model m;
	struct lh_callgraph g;
	struct lh_site *s;
	const struct lh_site *x;
	char *path = tmp_trace(0);
	size_t n;

	lh_alloc_model_init(&m, LH_AT_END);
	CHECK_EQ(lh_alloc_model_load(&m, path), 0);
	lh_alloc_model_finish(&m, 0, NULL);
	CHECK_EQ(m.calls, 5);
	CHECK_EQ(m.temporary, 2);
	CHECK_EQ(m.frees, 4);
	CHECK_EQ(m.peak_bytes, 410);
	CHECK_EQ(m.peak_seq, 6);
	CHECK_EQ(m.leaked_bytes, 10);
	CHECK_EQ(m.leaked_blocks, 1);
	CHECK_EQ(m.missing, 0);
	CHECK(m.ended);
	CHECK_EQ(m.damage.len, 0);
	CHECK_EQ(m.cost[2].peak_bytes, 10);
	CHECK_EQ(m.cost[3].peak_bytes, 400);
	CHECK_EQ(m.cost[3].temporary, 2);
	CHECK(m.max_lag > 0);

	CHECK_EQ(lh_callgraph_build(&g, &m, NULL), 0);
	n = lh_callgraph_sites(&g, LH_COST_PEAK, &s);
	CHECK_EQ(n, 2);
	CHECK_STR(lh_alloc_func_name(&m, s[0].func), "libfoo.so+0x3400");
	CHECK_EQ(s[0].c.peak, 400);
	x = site(&m, s, n, "inl");
	CHECK(x != NULL);
	if (x) {
		CHECK_EQ(x->c.calls, 3);
		CHECK_EQ(x->c.leaked, 10);
		CHECK_EQ(x->c.bytes, 310);
	}
	free(s);
	lh_callgraph_release(&g);
	lh_alloc_model_release(&m);

	/* --no-inline: the address belongs to f */
	lh_alloc_model_init(&m, LH_AT_END);
	CHECK_EQ(lh_alloc_model_load(&m, path), 0);
	lh_alloc_model_finish(&m, LH_ALLOC_NO_INLINE, NULL);
	CHECK_EQ(lh_callgraph_build(&g, &m, "^f$"), 0);
	n = lh_callgraph_sites(&g, LH_COST_CALLS, &s);
	CHECK_EQ(n, 1);
	CHECK(site(&m, s, n, "f") != NULL);
	free(s);
	lh_callgraph_release(&g);
	lh_alloc_model_release(&m);
	unlink(path);
}

TEST(native_model_tree_and_function)
{
	struct lh_alloc_model m;
	struct lh_callgraph g;
	struct lh_tree t;
	struct lh_func_view v;
	char *path = tmp_trace(0);

	lh_alloc_model_init(&m, LH_AT_END);
	CHECK_EQ(lh_alloc_model_load(&m, path), 0);
	lh_alloc_model_finish(&m, 0, NULL);
	CHECK_EQ(lh_callgraph_build(&g, &m, NULL), 0);
	lh_callgraph_tree(&g, 0, UINT32_MAX, &t);
	/* root -> main -> {f -> inl, libfoo.so+0x3400} */
	CHECK_EQ(t.nr, 5);
	CHECK_EQ(t.node[0].c.calls, 5);
	CHECK_STR(lh_alloc_func_name(&m, t.node[t.node[0].child].func), "main");
	lh_tree_release(&t);
	lh_callgraph_function(&g, "f", LH_COST_CALLS, &v);
	CHECK(v.found);
	CHECK_EQ(v.total.calls, 3);
	CHECK_EQ(v.self.calls, 0);
	CHECK_EQ(v.ncallers, 1);
	CHECK_EQ(v.ncallees, 1);
	if (v.ncallees)
		CHECK_STR(lh_alloc_func_name(&m, v.callees[0].func), "inl");
	lh_func_view_release(&v);
	/* the HTML report's functions table: one pass, the totals of
	 * lh_callgraph_function for each function, biggest first */
	{
		struct lh_func_costs *fc;
		size_t n = lh_callgraph_functions(&g, LH_COST_CALLS, &fc);

		CHECK_EQ(n, 4);
		if (n)
			CHECK_STR(lh_alloc_func_name(&m, fc[0].func), "main");
		for (size_t i = 0; i < n; i++) {
			lh_callgraph_function_id(&g, fc[i].func, LH_COST_CALLS, &v);
			CHECK(v.found);
			CHECK(!memcmp(&v.total, &fc[i].total, sizeof(v.total)));
			CHECK(!memcmp(&v.self, &fc[i].self, sizeof(v.self)));
			CHECK(i == 0 || fc[i].total.calls <= fc[i - 1].total.calls);
			lh_func_view_release(&v);
		}
		free(fc);
	}
	lh_callgraph_release(&g);
	lh_alloc_model_release(&m);
	unlink(path);
}

TEST(native_model_suppressions)
{
	struct lh_alloc_model m;
	struct lh_suppressions s;
	char *path = tmp_trace(0);

	lh_suppressions_init(&s);
	lh_suppressions_add(&s, "^in*l$");
	lh_alloc_model_init(&m, LH_AT_END);
	CHECK_EQ(lh_alloc_model_load(&m, path), 0);
	lh_alloc_model_finish(&m, 0, &s);
	CHECK_EQ(m.leaked_bytes, 0);
	CHECK_EQ(m.suppressed_bytes, 10);
	CHECK_EQ(m.suppressed_blocks, 1);
	lh_alloc_model_release(&m);
	lh_suppressions_release(&s);
	unlink(path);
}

TEST(native_model_cut_chunk)
{
	struct lh_alloc_model m;
	char *path = tmp_trace(1);

	lh_alloc_model_init(&m, LH_AT_END);
	CHECK_EQ(lh_alloc_model_load(&m, path), 0);
	lh_alloc_model_finish(&m, 0, NULL);
	/* thread 2's chunk survives; thread 1's 0, 3, 4, 5 are counted lost (7 is past the last seen) */
	CHECK(strstr(m.damage.buf, "ends inside a chunk") != NULL);
	CHECK_EQ(m.calls, 2);
	CHECK(!m.ended);
	CHECK_EQ(m.missing, 4);
	lh_alloc_model_release(&m);
	unlink(path);
}

/* A new trace file /tmp/lh-native-NAME-PID.lht: the header and stack 1 (0x1000). */
static FILE *one_stack_trace(char *path, size_t size, const char *name)
{
	struct chunk c;
	FILE *f;

	snprintf(path, size, "/tmp/lh-native-%s-%d.lht", name, (int)getpid());
	f = fopen(path, "wb");
	put_header(f);
	chunk_init(&c);
	node(&c, 1, 0, 0x1000);
	write_chunk(f, 1, &c);
	return f;
}

/*
 * Temporaries when addresses come back on other threads (stack 1 = main):
 *   0 A t1 16 X   1 F t2 X (temporary: t1's latest)   2 A t3 32 X
 *   3 F t4 X (temporary: t3's latest)   4 A t1 48 X   5 A t1 64 Y
 *   6 F t2 X (not: t1 allocated Y since)   7 A t3 8 X
 *   8 A t3 8 X (its free was lost: the old block goes, a temporary as t3 did
 *     nothing since)   9 F t1 Y (temporary)   10 F t3 X (temporary)
 * calls 6, frees 6, temporary 5, peak 112 at seq 5, nothing leaked.
 */
TEST(native_model_address_reuse_across_threads)
{
	static const struct { uint32_t tid; char type; uint64_t size, ptr; } ev[] = {
		{ 1, 'A', 16, 0x100 }, { 2, 'F', 0, 0x100 }, { 3, 'A', 32, 0x100 }, { 4, 'F', 0, 0x100 },
		{ 1, 'A', 48, 0x100 }, { 1, 'A', 64, 0x200 }, { 2, 'F', 0, 0x100 }, { 3, 'A', 8, 0x100 },
		{ 3, 'A', 8, 0x100 }, { 1, 'F', 0, 0x200 }, { 3, 'F', 0, 0x100 },
	};
	char path[64];
	struct lh_alloc_model m;
	struct chunk c;
	FILE *f;

	f = one_stack_trace(path, sizeof(path), "reuse");
	/* one chunk per event, in order: each thread's view is what matters here */
	for (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
		chunk_init(&c);
		if (ev[i].type == 'A')
			ev_alloc(&c, i, ev[i].size, 1, ev[i].ptr);
		else
			ev_free(&c, i, ev[i].ptr);
		write_chunk(f, ev[i].tid, &c);
	}
	fclose(f);

	lh_alloc_model_init(&m, LH_AT_END);
	CHECK_EQ(lh_alloc_model_load(&m, path), 0);
	lh_alloc_model_finish(&m, 0, NULL);
	CHECK_EQ(m.calls, 6);
	CHECK_EQ(m.frees, 6);
	CHECK_EQ(m.temporary, 5);
	CHECK_EQ(m.cost[1].temporary, 5);
	CHECK_EQ(m.peak_bytes, 112);
	CHECK_EQ(m.peak_seq, 5);
	CHECK_EQ(m.leaked_blocks, 0);
	CHECK_EQ(m.unknown_frees, 0);
	lh_alloc_model_release(&m);
	unlink(path);
}

/*
 * Damage: one sequence number twice, both waiting behind numbers that never
 * come.  The second is dropped as damage (it must not hang the end of the
 * pass, which waits until nothing is pending); 2 numbers are missing.
 */
TEST(native_model_duplicate_seq_waiting)
{
	char path[64];
	struct lh_alloc_model m;
	struct chunk c;
	FILE *f;

	f = one_stack_trace(path, sizeof(path), "dup");
	chunk_init(&c);
	ev_alloc(&c, 2, 16, 1, 0x100);
	write_chunk(f, 2, &c);
	chunk_init(&c);
	ev_alloc(&c, 2, 32, 1, 0x200);
	ev_alloc(&c, 5, 64, 1, 0x300);
	write_chunk(f, 3, &c);
	fclose(f);

	lh_alloc_model_init(&m, LH_AT_END);
	CHECK_EQ(lh_alloc_model_load(&m, path), 0);
	lh_alloc_model_finish(&m, 0, NULL);
	CHECK_EQ(m.calls, 2);
	CHECK_EQ(m.leaked_bytes, 16 + 64);
	CHECK_EQ(m.missing, 4);
	lh_alloc_model_release(&m);
	unlink(path);
}

/* A chunk as `record` writes it in v2: its rows as zstd-compressed columns. */
static void write_chunk_zstd(FILE *f, uint32_t tid, const struct chunk *c)
{
	uint8_t *col[LHT_COLUMNS], *block = malloc(8 * c->len + 256), *out, *p, h[8];
	size_t len[LHT_COLUMNS], n, bound;
	uint64_t nrec = 0;

	for (int k = 0; k < LHT_COLUMNS; k++)
		col[k] = malloc(c->len + 16);
	CHECK_EQ(lht_rows_to_columns(c->buf, c->buf + c->len, col, len, &nrec), 0);
	p = lht_put_varint(block, nrec);
	for (int k = 0; k < LHT_COLUMNS; k++)
		p = lht_put_varint(p, len[k]);
	for (int k = 0; k < LHT_COLUMNS; k++) {
		memcpy(p, col[k], len[k]);
		p += len[k];
	}
	bound = ZSTD_compressBound((size_t)(p - block));
	out = malloc(bound);
	n = ZSTD_compress(out, bound, block, (size_t)(p - block), 1);
	CHECK(!ZSTD_isError(n));
	lht_put32(h, (uint32_t)n | LHT_CHUNK_ZSTD);
	lht_put32(h + 4, tid);
	fwrite(h, 1, 8, f);
	fwrite(out, 1, n, f);
	for (int k = 0; k < LHT_COLUMNS; k++)
		free(col[k]);
	free(block);
	free(out);
}

/*
 * Many chunks, more than the analysis queue holds at once, in both chunk
 * forms.  Thread 1 keeps a ring of RING 32-byte blocks (stack 1): iteration
 * i frees slot i % RING once the ring is full and allocates it again.
 * Thread 2 (stack 2) allocates and frees an 8-byte block every 4th
 * iteration: each one a temporary.  Each thread's chunk is written when it
 * is full, so the file interleaves the threads out of sequence order.
 */
#define RING 1000
#define ITERS 60000
#define PER_CHUNK 250

static void write_ring_trace(const char *path, int zstd)
{
	struct chunk c[2], nodes;
	uint64_t seq = 0;
	FILE *f = fopen(path, "wb");
	int nrec[2] = { 0, 0 };

	put_header(f);
	chunk_init(&nodes);
	node(&nodes, 1, 0, 0x1000);
	node(&nodes, 2, 0, 0x2000);
	write_chunk(f, 1, &nodes);
	chunk_init(&c[0]);
	chunk_init(&c[1]);
	for (int i = 0; i < ITERS; i++) {
		uint64_t slot = 0x10000000 + 48 * (uint64_t)(i % RING);

		if (i >= RING)
			ev_free(&c[0], seq++, slot), nrec[0]++;
		ev_alloc(&c[0], seq++, 32, 1, slot), nrec[0]++;
		if (i % 4 == 0) {
			ev_alloc(&c[1], seq++, 8, 2, 0x20000000), nrec[1]++;
			ev_free(&c[1], seq++, 0x20000000), nrec[1]++;
		}
		for (int k = 0; k < 2; k++) {
			if (nrec[k] < PER_CHUNK && i + 1 < ITERS)
				continue;
			(zstd ? write_chunk_zstd : write_chunk)(f, (uint32_t)k + 1, &c[k]);
			chunk_init(&c[k]);
			nrec[k] = 0;
		}
	}
	fclose(f);
}

TEST(native_model_many_chunks_plain_and_compressed)
{
	for (int zstd = 0; zstd < 2; zstd++) {
		struct lh_alloc_model m;
		char path[64];

		snprintf(path, sizeof(path), "/tmp/lh-native-ring-%d.lht", (int)getpid());
		write_ring_trace(path, zstd);
		lh_alloc_model_init(&m, LH_AT_END);
		CHECK_EQ(lh_alloc_model_load(&m, path), 0);
		lh_alloc_model_finish(&m, 0, NULL);
		CHECK_EQ(m.damage.len, 0);
		CHECK_EQ(m.missing, 0);
		CHECK_EQ(m.calls, ITERS + ITERS / 4);
		CHECK_EQ(m.frees, ITERS - RING + ITERS / 4);
		CHECK_EQ(m.events, m.calls + m.frees);
		CHECK_EQ(m.temporary, ITERS / 4);
		CHECK_EQ(m.cost[2].temporary, ITERS / 4);
		/* the ring is full at iteration RING - 1; the next temporary comes on top */
		CHECK_EQ(m.peak_bytes, RING * 32 + 8);
		CHECK_EQ(m.cost[1].peak_bytes, RING * 32);
		CHECK_EQ(m.cost[2].peak_bytes, 8);
		CHECK_EQ(m.leaked_bytes, RING * 32);
		CHECK_EQ(m.leaked_blocks, RING);
		CHECK(m.max_lag > 0);
		lh_alloc_model_release(&m);
		unlink(path);
	}
}

TEST(native_suppress_template_match)
{
	CHECK(lh_suppress_template_match("foo", "xfooy"));
	CHECK(!lh_suppress_template_match("^foo", "xfoo"));
	CHECK(lh_suppress_template_match("^foo", "foox"));
	CHECK(lh_suppress_template_match("foo$", "xfoo"));
	CHECK(!lh_suppress_template_match("foo$", "foox"));
	CHECK(lh_suppress_template_match("^a*c$", "abbbc"));
	CHECK(!lh_suppress_template_match("^a*c$", "abbbcd"));
	CHECK(lh_suppress_template_match("_dl_allocate_tls", "__GI__dl_allocate_tls"));
	CHECK(!lh_suppress_template_match("x", ""));
}

/* An allocation without a stack (stack id 0) is a sample of its own in the
 * speedscope export, on a "[no stack]" frame, so that every profile's
 * samples add up to its endValue. */
TEST(native_speedscope_counts_allocations_without_a_stack)
{
	static char path[64];
	struct lh_alloc_model m;
	struct lh_callgraph g;
	struct chunk c;
	char *buf = NULL;
	size_t len = 0;
	FILE *f, *out;
	cJSON *j, *frames, *prof;
	int checked = 0;

	snprintf(path, sizeof(path), "/tmp/lh-native-nostack-%d.lht", (int)getpid());
	f = fopen(path, "wb");
	put_header(f);
	chunk_init(&c);
	node(&c, 1, 0, 0x1000);
	ev_alloc(&c, 0, 100, 1, 0x10);
	ev_alloc(&c, 1, 30, 0, 0x20); /* no stack */
	c.buf[c.len++] = LHT_REC_END;
	put_seq(&c, 2);
	put_v(&c, 5);
	write_chunk(f, 1, &c);
	fclose(f);

	lh_alloc_model_init(&m, LH_AT_END);
	CHECK_EQ(lh_alloc_model_load(&m, path), 0);
	lh_alloc_model_finish(&m, 0, NULL);
	CHECK_EQ(lh_callgraph_build(&g, &m, NULL), 0);
	out = open_memstream(&buf, &len);
	CHECK_EQ(lh_native_write_speedscope(out, &g, "t"), 0);
	fclose(out);
	j = cJSON_Parse(buf);
	CHECK(j != NULL);
	frames = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "shared"), "frames");
	cJSON_ArrayForEach(prof, cJSON_GetObjectItem(j, "profiles"))
	{
		cJSON *s, *wt;
		double sum = 0;
		int nostack = 0;

		cJSON_ArrayForEach(wt, cJSON_GetObjectItem(prof, "weights")) sum += wt->valuedouble;
		CHECK_EQ((uint64_t)sum, (uint64_t)cJSON_GetObjectItem(prof, "endValue")->valuedouble);
		cJSON_ArrayForEach(s, cJSON_GetObjectItem(prof, "samples"))
		{
			cJSON *fr = cJSON_GetArrayItem(s, cJSON_GetArraySize(s) - 1);

			CHECK(fr != NULL);
			if (fr && !strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(frames, fr->valueint), "name")->valuestring,
					  "[no stack]"))
				nostack++;
		}
		if (!strcmp(cJSON_GetObjectItem(prof, "name")->valuestring, "memory leaked")) {
			CHECK_EQ((uint64_t)sum, 130);
			CHECK_EQ(nostack, 1);
			checked = 1;
		}
	}
	CHECK(checked);
	cJSON_Delete(j);
	free(buf);
	lh_callgraph_release(&g);
	lh_alloc_model_release(&m);
	unlink(path);
}
