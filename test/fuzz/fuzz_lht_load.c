/*
 * libFuzzer target for the .lht reader (src/native/trace.c) and the model
 * `leakhunt report` builds on it (src/native/analyze.c, callgraph.c and the
 * default text report plus --json, written to /dev/null).
 *
 * The input is a whole trace.  The reader takes a path, so the input goes to
 * a memfd opened as /proc/self/fd/N.  It is read four ways: record by record
 * in file order (lh_trace_next, with lh_trace_events taking a few events of
 * each compressed chunk in between), in sequence order
 * (lh_trace_next_ordered), through lh_trace_copy_meta as `record` does, and
 * by lh_alloc_model_load with what `report` does after it.  Any input must
 * either fail to open with a message naming the file, or read to the end or
 * to damage whose message names a byte inside the file; a clean read has
 * consumed every byte.  The model's leaked and suppressed sums must add up
 * to its live heap.
 *
 * A mapped file is not an ASan allocation: a read past its end but inside
 * its last page goes unseen.  So the cursor of every record is checked to
 * stay inside its chunk and the file, and every string inside the file.
 *
 * Compressed chunks carry an XXH64 checksum, so byte mutations of them only
 * test the checksum.  The custom mutator below mutates one chunk's
 * decompressed columns instead, half of the time, and compresses them again:
 * that is what reaches the column decoders and the version 3 pointer codes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "native/analyze.h"
#include "native/callgraph.h"
#include "native/lht.h"
#include "native/trace.h"
#include "report/native.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static int memfd = -1;
static char path[64];
static FILE *devnull;

static void setup(void)
{
	if (memfd >= 0)
		return;
	memfd = memfd_create("fuzz.lht", MFD_CLOEXEC);
	devnull = fopen("/dev/null", "w");
	if (memfd < 0 || !devnull)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
}

static void put_input(const uint8_t *data, size_t size)
{
	if (ftruncate(memfd, 0) || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
}

static void fail(const char *what, const char *msg)
{
	fprintf(stderr, "%s: %s\n", what, msg);
	abort();
}

/* An open that failed says which file and why, on one line. */
static void check_open_error(const struct strbuf *msg)
{
	if (!strstr(msg->buf, path) || !strstr(msg->buf, "cannot "))
		fail("bad open error", msg->buf);
}

/* Damage names the byte where reading stopped, which is in the file. */
static void check_damage(const char *damage, size_t size)
{
	const char *at = strstr(damage, "at byte ");

	if (!*damage)
		return;
	if (!at || strtoull(at + 8, NULL, 10) > size)
		fail("damage without a byte in the file", damage);
}

static void check_rec(const struct lh_trace *t, const struct lh_trace_rec *r)
{
	const char *base = t->mf.data, *end = base + t->mf.size;

	if (t->rec_off >= t->mf.size || t->good_end > t->mf.size)
		fail("record outside the file", "");
	if (!t->zchunk && (t->p > t->chunk_end || (const char *)t->chunk_end > end))
		fail("cursor past its chunk", "");
	if ((r->str && (r->str < base || r->str_len > (size_t)(end - r->str))) ||
	    (r->str2 && (r->str2 < base || r->str2_len > (size_t)(end - r->str2))))
		fail("string outside the file", "");
	if (r->nseg < 0 || r->nseg > LH_TRACE_MAX_SEGS || r->nframes < 0 || (size_t)r->nframes > t->frames_alloc)
		fail("bad counts", "");
}

static void read_in_file_order(size_t size)
{
	struct lh_trace t;
	struct lh_trace_rec r;
	size_t n;

	if (lh_trace_open(&t, path))
		return;
	while (lh_trace_next(&t, &r)) {
		check_rec(&t, &r);
		if (t.zchunk && lh_trace_events(&t, 3, &n) && (!n || n > 3))
			fail("lh_trace_events", "bad count");
	}
	check_damage(t.damage.buf, size);
	if (!t.damage.len && t.good_end != size)
		fail("clean read stopped early", "");
	lh_trace_release(&t);
}

/* Only that it ends: a damaged trace's late or repeated numbers come out of
 * order by design (the layer holds back early numbers, not late ones). */
static void read_in_order(void)
{
	struct lh_trace t;
	struct lh_trace_rec r;

	if (lh_trace_open(&t, path))
		return;
	while (lh_trace_next_ordered(&t, &r))
		;
	lh_trace_release(&t);
}

static void copy_meta(void)
{
	struct lh_trace t;

	if (lh_trace_open(&t, path))
		return;
	if (lh_trace_copy_meta(&t, fileno(devnull), NULL, NULL))
		fail("lh_trace_copy_meta", "cannot write /dev/null");
	lh_trace_release(&t);
}

/* What `leakhunt report` does with default options, and --json. */
static void report(size_t size)
{
	static const enum lh_cost order[] = { LH_COST_CALLS, LH_COST_PEAK, LH_COST_LEAKED, LH_COST_TEMPORARY };
	struct lh_native_opts o = { LH_COST_PEAK, 10, 5, 32, 100, "fuzz" };
	struct lh_alloc_model m;
	struct lh_callgraph g;

	lh_alloc_model_init(&m, LH_AT_END);
	if (lh_alloc_model_load(&m, path))
		return;
	lh_alloc_model_finish(&m, 0, NULL);
	check_damage(m.damage.buf, size);
	if (m.leaked_bytes + m.suppressed_bytes != m.heap_end || m.leaked_blocks + m.suppressed_blocks != m.blocks_end)
		fail("leaked and suppressed do not add up to the heap at the end", "");
	if (!lh_callgraph_build(&g, &m, NULL)) {
		lh_native_print_summary(devnull, &m);
		for (size_t i = 0; i < (m.sample_mean ? 3 : 4); i++) {
			o.sort = order[i];
			lh_native_print_sites(devnull, &g, &o);
		}
		lh_native_write_json(devnull, &g, &o, 0, 0);
		lh_callgraph_release(&g);
	}
	lh_alloc_model_release(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf msg = STRBUF_INIT;
	struct lh_trace t;

	setup();
	put_input(data, size);
	lh_error_capture(&msg);
	if (lh_trace_open(&t, path)) {
		check_open_error(&msg);
	} else {
		lh_trace_release(&t);
		read_in_file_order(size);
		read_in_order();
		copy_meta();
		report(size);
	}
	lh_error_capture(NULL);
	strbuf_release(&msg);
	return 0;
}

/*
 * Half of the time: one compressed chunk, chosen by seed, decompressed,
 * mutated and compressed again (with its content size, as the reader
 * needs), the chunk's length word rewritten.  Otherwise, or when the input
 * has no such chunk, an ordinary mutation of the whole.
 */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	size_t off, chunks[256], nchunks = 0, z, raw_len, cap, out_len, len;
	uint8_t *raw, *out;
	unsigned long long content;

	if (seed & 1 || size < LHT_HEADER_SIZE)
		return LLVMFuzzerMutate(data, size, max_size);
	off = lht_get32(data + 12);
	while (off >= LHT_HEADER_SIZE && off + LHT_CHUNK_HEADER <= size && nchunks < 256) {
		uint32_t word = lht_get32(data + off);

		len = word & ~LHT_CHUNK_ZSTD;
		if (len > size - off - LHT_CHUNK_HEADER)
			break;
		if (word & LHT_CHUNK_ZSTD)
			chunks[nchunks++] = off;
		off += LHT_CHUNK_HEADER + len;
	}
	if (!nchunks)
		return LLVMFuzzerMutate(data, size, max_size);
	off = chunks[(seed >> 1) % nchunks];
	len = lht_get32(data + off) & ~LHT_CHUNK_ZSTD;
	content = ZSTD_getFrameContentSize(data + off + LHT_CHUNK_HEADER, len);
	if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN || content > 65536)
		return LLVMFuzzerMutate(data, size, max_size);
	cap = 2 * (size_t)content + 64;
	raw = malloc(cap);
	raw_len = ZSTD_decompress(raw, cap, data + off + LHT_CHUNK_HEADER, len);
	if (ZSTD_isError(raw_len)) {
		free(raw);
		return LLVMFuzzerMutate(data, size, max_size);
	}
	raw_len = LLVMFuzzerMutate(raw, raw_len, cap);
	out = malloc(ZSTD_compressBound(raw_len));
	z = ZSTD_compress(out, ZSTD_compressBound(raw_len), raw, raw_len, 1);
	out_len = ZSTD_isError(z) ? 0 : z;
	free(raw);
	if (!out_len || size - len + out_len > max_size) {
		free(out);
		return LLVMFuzzerMutate(data, size, max_size);
	}
	memmove(data + off + LHT_CHUNK_HEADER + out_len, data + off + LHT_CHUNK_HEADER + len,
		size - off - LHT_CHUNK_HEADER - len);
	memcpy(data + off + LHT_CHUNK_HEADER, out, out_len);
	lht_put32(data + off, (uint32_t)out_len | LHT_CHUNK_ZSTD);
	free(out);
	return size - len + out_len;
}

/* Undefined behaviour is a failure, not a line in the log. */
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}
