/*
 * The preload's event writer (src/native/preload/compress.c) alone, on the
 * events of a real trace: the first thread's events of TRACE (a version 2
 * trace of `leakhunt record`) are put into halves as record.c fills them,
 * then every half goes through lh_write_half ROUNDS times, with the
 * preload's state carried on (as a long run would), in one thread and
 * nothing else: the cost of version 2 (columns and zstd) and version 3
 * (pointers by reference, `record --compact`) per event, and the bytes an
 * event takes.  With LHT_WRITER_CODE=1, only version 3's coding of the
 * pointers (encode_half), without zstd.
 *
 *   lht_writer TRACE COMPACT(0|1) [ROUNDS]      (bench/lht_writer.sh runs it)
 *
 * compress.c is included whole: its static functions are what is measured,
 * and the few things it takes from the rest of the preload are defined here
 * (writes are counted, not made).
 */
#include "native/preload/compress.c"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "native/trace.h"

struct lh_preload_conf lh_preload_conf;
volatile int lh_preload_active = 1;
__thread int lh_preload_busy;
unsigned lh_record_trace_id; /* one trace: the state carries on */

static size_t written;

void *lh_map_anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void lh_record_write(const uint8_t *p, size_t n)
{
	(void)p;
	written += n;
}

#define MAX_HALVES 2048

/* The halves of the first thread's events, as record.c fills them: a half
 * is closed when a column might not take another event. */
static size_t load_halves(const char *path, struct half *hs)
{
	struct lh_trace t;
	struct lh_trace_rec r;
	uint8_t *w[LHT_COLUMNS];
	uint64_t last_seq = 0, last_ptr = 0;
	uint32_t tid = 0;
	size_t nh = 0;
	struct half *h = hs;

	if (lh_trace_open(&t, path)) {
		fprintf(stderr, "lht_writer: cannot read %s\n", path);
		exit(1);
	}
	for (int k = 0; k < LHT_COLUMNS; k++)
		w[k] = h->col[k];
	while (nh < MAX_HALVES && lh_trace_next(&t, &r)) {
		int full = 0;

		if (r.type != LHT_REC_ALLOC && r.type != LHT_REC_FREE && r.type != LHT_REC_REALLOC)
			continue;
		if (!tid)
			tid = r.tid;
		if (r.tid != tid)
			continue;
		*w[0]++ = (uint8_t)r.type;
		w[1] = lht_put_varint(w[1], r.seq - last_seq);
		last_seq = r.seq;
		if (r.type != LHT_REC_FREE) {
			w[2] = lht_put_varint(w[2], r.size);
			w[3] = lht_put_varint(w[3], r.stack);
		}
		w[4] = lht_put_varint(w[4], lht_col_ptr_delta((int64_t)(r.ptr - last_ptr)));
		last_ptr = r.ptr;
		if (r.type == LHT_REC_REALLOC)
			w[5] = lht_put_varint(w[5], r.old);
		h->nrec++;
		for (int k = 0; k < LHT_COLUMNS; k++)
			full |= w[k] - h->col[k] > LH_COL_SIZE - 32;
		if (!full)
			continue;
		for (int k = 0; k < LHT_COLUMNS; k++)
			h->len[k] = (uint32_t)(w[k] - h->col[k]);
		h = &hs[++nh];
		last_seq = last_ptr = 0;
		for (int k = 0; k < LHT_COLUMNS; k++)
			w[k] = h->col[k];
	}
	lh_trace_release(&t);
	return nh;
}

int main(int argc, char **argv)
{
	static uint8_t rows[LH_ROWS_SIZE];
	struct half *hs;
	struct lh_zstate *z = NULL;
	struct timespec a, b;
	int rounds = argc > 3 ? atoi(argv[3]) : 2, code = getenv("LHT_WRITER_CODE") != NULL;
	size_t nh;
	uint64_t nev = 0;
	double ns;

	if (argc < 3) {
		fprintf(stderr, "usage: lht_writer TRACE COMPACT(0|1) [ROUNDS]\n");
		return 2;
	}
	lh_preload_conf.compact = atoi(argv[2]);
	hs = calloc(MAX_HALVES + 1, sizeof(*hs));
	nh = load_halves(argv[1], hs);
	for (size_t i = 0; i < nh; i++)
		nev += hs[i].nrec;
	if (code) {
		z = zstate_new();
		zstate_restart(z);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int r = 0; r < rounds; r++) {
		for (size_t i = 0; i < nh; i++) {
			uint8_t *w[LHT_REF_COLUMNS];

			if (!code) {
				lh_write_half(&z, 1, &hs[i], rows);
				continue;
			}
			for (int k = 0; k < LHT_REF_COLUMNS; k++)
				w[k] = z->col[k];
			if (encode_half(z, &hs[i], w))
				return 1;
			for (int k = LHT_RC_SIZE; k < LHT_REF_COLUMNS; k++)
				written += (size_t)(w[k] - z->col[k]);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
	printf("%s halves %zu events %" PRIu64 " ns/event %.1f bytes/event %.3f\n",
	       code ? "code" : lh_preload_conf.compact ? "v3" : "v2", nh, nev * (uint64_t)rounds,
	       ns / (double)(nev * (uint64_t)rounds), (double)written / (double)(nev * (uint64_t)rounds));
	return 0;
}
