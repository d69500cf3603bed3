/*
 * Allocation sampling (`record --sample BYTES`), the scheme of jemalloc's
 * and tcmalloc's heap profilers: the allocated bytes of each thread are cut
 * at points a geometric distance apart (mean BYTES), and an allocation that
 * contains a point is recorded, with its stack.  A block of size s is thus
 * recorded with probability p(s) = 1 - exp(-s / BYTES), and a reader that
 * counts it as 1 / p(s) calls and s / p(s) bytes gets unbiased estimates
 * (the mean is in the trace's info record).
 *
 * Everything else costs one subtraction, inline in the hooks (preload.h):
 * no stack, no record.  Frees are recorded only for sampled blocks, found in
 * a lock-free set of their addresses (sampled blocks are few: one per BYTES
 * allocated, and only the live ones stay in the set).  In front of the set,
 * a filter of 16,384 bits, one per address hash bucket, answers "not
 * sampled" for nearly every free with one load from 2 KiB that stay in
 * cache, where a probe of the 8 MiB set was a cache miss per free (and a
 * filter of byte counters, 16 KiB, still missed often: most of the cost of
 * a free).  A bucket's bit is set while its count of live sampled blocks,
 * kept beside it and changed only with sampled blocks, is not 0; a count
 * that reaches 255 stays there: its frees always look in the set.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "native/preload/preload.h"

/* 4 Mi slots, 32 MiB reserved (pages touched as used): at most 2 Mi sampled
 * blocks live at once, about 8 GiB of heap at --sample 4k */
#define SET_BITS 22
#define TOMB ((uintptr_t)1)

__thread int64_t lh_sample_until LH_TLS;
static __thread uint64_t rng LH_TLS;   /* 0: the thread has not started counting */
static atomic_uintptr_t *set;
static atomic_long live;                /* sampled blocks in the set */

#define STUCK 255
_Atomic uint64_t lh_sample_filter[(1 << LH_SAMPLE_FILTER_BITS) / 64];
static uint8_t counts[1 << LH_SAMPLE_FILTER_BITS]; /* live sampled blocks per bucket */
static atomic_flag counts_lock = ATOMIC_FLAG_INIT;

/* A sampled block of bucket p comes (d = 1) or goes (d = -1): its count and
 * bit change together, under a lock taken only for sampled blocks. */
static void filter_add(const void *p, int d)
{
	size_t k = lh_sample_bucket(p);
	uint64_t bit = (uint64_t)1 << (k % 64);

	while (atomic_flag_test_and_set_explicit(&counts_lock, memory_order_acquire))
		;
	if (counts[k] != STUCK)
		counts[k] = (uint8_t)(counts[k] + d);
	if (counts[k])
		atomic_fetch_or_explicit(&lh_sample_filter[k / 64], bit, memory_order_relaxed);
	else
		atomic_fetch_and_explicit(&lh_sample_filter[k / 64], ~bit, memory_order_relaxed);
	atomic_flag_clear_explicit(&counts_lock, memory_order_release);
}

static __attribute__((noinline)) int64_t next_gap(void)
{
	double u, g;

	if (!rng) /* never 0 again: xorshift keeps a nonzero state nonzero */
		rng = ((uint64_t)syscall(SYS_gettid) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)clock()) | 1;
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	u = ((double)(rng >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
	g = -log(u) * (double)lh_preload_conf.sample;
	return g < 0x1p61 ? (int64_t)g + 1 : (int64_t)1 << 61; /* the cast must not overflow */
}

int lh_sample_init(void)
{
	if (!set) {
		void *p = mmap(NULL, sizeof(*set) << SET_BITS, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED)
			return -1;
		set = p;
	}
	return 0;
}

static size_t slot_of(uintptr_t p)
{
	return (size_t)((p * 0x9e3779b97f4a7c15ULL) >> (64 - SET_BITS));
}

/* lh_sample_take's countdown reached 0 or less at this allocation; 1:
 * record it (its address is now in the set). */
int lh_sample_point(void *ptr)
{
	if (!rng) {
		/* the thread's first allocation: its countdown starts at a gap */
		lh_sample_until += next_gap();
		if (lh_sample_until > 0)
			return 0;
	}
	while (lh_sample_until <= 0)
		lh_sample_until += next_gap(); /* a block may span several points: still one record */
	return lh_sample_keep(ptr);
}

/* Put ptr in the set; 0: the set is full (sampling would lose frees). */
int lh_sample_keep(void *ptr)
{
	size_t mask = ((size_t)1 << SET_BITS) - 1, i;

	if (atomic_load_explicit(&live, memory_order_relaxed) >= (long)(mask / 2)) {
		static atomic_int said;
		static const char msg[] =
			"libleakhunt: over 2 million sampled blocks are live; sample points are skipped "
			"until some are freed, so the report's estimates will be low: record with a larger "
			"--sample\n";

		if (!atomic_exchange(&said, 1))
			(void)!write(2, msg, sizeof(msg) - 1);
		return 0;
	}
	for (i = slot_of((uintptr_t)ptr);; i = (i + 1) & mask) {
		uintptr_t have = atomic_load_explicit(&set[i], memory_order_relaxed);

		if ((have == 0 || have == TOMB) &&
		    atomic_compare_exchange_strong(&set[i], &have, (uintptr_t)ptr))
			break;
	}
	atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
	filter_add(ptr, 1); /* before the program can see the block: no free races it */
	return 1;
}

/* Is ptr a sampled block (the filter says it may be)?  It then leaves the
 * set: 1, record its free. */
int lh_sample_drop(void *ptr)
{
	size_t mask = ((size_t)1 << SET_BITS) - 1;

	for (size_t i = slot_of((uintptr_t)ptr), k = 0; k <= mask; i = (i + 1) & mask, k++) {
		uintptr_t have = atomic_load_explicit(&set[i], memory_order_relaxed);

		if (!have)
			return 0;
		if (have == (uintptr_t)ptr && atomic_compare_exchange_strong(&set[i], &have, TOMB)) {
			atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
			filter_add(ptr, -1);
			return 1;
		}
	}
	return 0;
}

/* A forked child's thread: the parent's random state would make the same
 * choices in every child (each seeds again from its own thread id). */
void lh_sample_fork_child(void)
{
	rng = 0;
}

/* A new recording (attach, or a followed child): no block is sampled yet. */
void lh_sample_reset(void)
{
	if (set) {
		/* fresh zero pages rather than touching 8 MiB */
		munmap(set, sizeof(*set) << SET_BITS);
		set = NULL;
	}
	atomic_store(&live, 0);
	for (size_t i = 0; i < sizeof(lh_sample_filter) / sizeof(lh_sample_filter[0]); i++)
		atomic_store_explicit(&lh_sample_filter[i], 0, memory_order_relaxed);
	memset(counts, 0, sizeof(counts));
	atomic_flag_clear(&counts_lock); /* a forked child: another thread of the parent may have held it */
}
