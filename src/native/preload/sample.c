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
 * a set of their addresses whose lookups take no lock (sampled blocks are
 * few: one per BYTES allocated, and only the live ones stay in the set).
 * In front of the set, a filter of 16,384 bits, one per address hash
 * bucket, answers "not sampled" for nearly every free with one load from
 * 2 KiB that stay in cache, where a probe of the 8 MiB set was a cache miss per free (and a
 * filter of byte counters, 16 KiB, still missed often: most of the cost of
 * a free).  A bucket's bit is set while its count of live sampled blocks,
 * kept beside it and changed only with sampled blocks, is not 0; a count
 * that reaches 255 stays there: its frees always look in the set.
 */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "native/preload/preload.h"

/*
 * The set of live sampled blocks: open addressing with linear probing,
 * grown by doubling from 4,096 slots (32 KiB) up to 4 Mi slots (32 MiB), at
 * most half full.  It once was 4 Mi slots from the start, and its random
 * inserts touched a new page at nearly every sampled block: 16,000 page
 * faults in one second of churn at --sample 512k, a tenth of the run, for a
 * few hundred live blocks.  A removed block's slot is emptied by moving up
 * the later entries of its run (no tombstones: they only accumulate, and
 * after N samples about exp(-N / 4 Mi) of the slots were still empty, so a
 * lookup of a block not in the set would grow longer over a very long run;
 * a model, not a measurement: 8 M samples in a helper's test ran no slower
 * at the end).
 *
 * Changes (insert, remove, grow) take set_lock, which only sampled blocks
 * reach.  A lookup takes no lock: it reads set_seq (odd while a removal or
 * a growth is under way), probes, and trusts a "not there" only if set_seq
 * did not move; a removal that moved entries under its probe makes it look
 * again.  An insert does not move set_seq: it only fills an empty slot,
 * which cannot hide a block that was in the set before (readers waited for
 * every insert too, and spent half of a free's time spinning at --sample
 * 64 on 4 threads).
 * A table that was outgrown stays mapped (a lookup may still be in it)
 * until the next recording starts from empty.
 */
#define SET_MIN_BITS 12
#define SET_MAX_BITS 22 /* at most 2 Mi live sampled blocks: about 8 GiB of heap at --sample 4k */

struct set_table {
	size_t mask;            /* slots - 1 */
	atomic_uintptr_t slot[]; /* 0: empty */
};

__thread int64_t lh_sample_until LH_TLS;
static __thread uint64_t rng LH_TLS;   /* 0: the thread has not started counting */
static struct set_table *_Atomic set;
static struct set_table *tables[SET_MAX_BITS + 1]; /* every table mapped, by size */
static atomic_uint set_seq;
static atomic_bool set_lock;
static long live; /* sampled blocks in the set (under set_lock) */

#define STUCK 255
_Atomic uint64_t lh_sample_filter[(1 << LH_SAMPLE_FILTER_BITS) / 64];
static uint8_t counts[1 << LH_SAMPLE_FILTER_BITS]; /* live sampled blocks per bucket */

static void spin(unsigned *n)
{
	if (++*n < 128)
		__builtin_ia32_pause();
	else
		sched_yield();
}

static void set_lock_take(void)
{
	/* test and test-and-set: waiters spin on a shared copy of the line,
	 * and yield after a while: with more threads than CPUs the holder may
	 * be waiting for one (a growth copies up to 2 Mi entries under it) */
	unsigned n = 0;

	while (atomic_exchange_explicit(&set_lock, 1, memory_order_acquire))
		while (atomic_load_explicit(&set_lock, memory_order_relaxed))
			spin(&n);
}

static void set_lock_give(void)
{
	atomic_store_explicit(&set_lock, 0, memory_order_release);
}

/* A change to the set begins (set_seq odd) and ends (even again): under set_lock. */
static void change_begin(void)
{
	atomic_store_explicit(&set_seq, atomic_load_explicit(&set_seq, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void change_end(void)
{
	atomic_store_explicit(&set_seq, atomic_load_explicit(&set_seq, memory_order_relaxed) + 1,
			      memory_order_release);
}

/* A sampled block of bucket p comes (d = 1) or goes (d = -1): its count and
 * bit change together, under set_lock. */
static void filter_add(const void *p, int d)
{
	size_t k = lh_sample_bucket(p);
	uint64_t bit = (uint64_t)1 << (k % 64);

	if (counts[k] != STUCK)
		counts[k] = (uint8_t)(counts[k] + d);
	if (counts[k])
		atomic_fetch_or_explicit(&lh_sample_filter[k / 64], bit, memory_order_relaxed);
	else
		atomic_fetch_and_explicit(&lh_sample_filter[k / 64], ~bit, memory_order_relaxed);
}

/*
 * The threads that count, so that an attach session can start every
 * thread's countdown again (lh_sample_reset): a countdown is
 * thread-local, and one left by the last session was a gap drawn from that
 * session's mean.  A session at --sample 64k after one at --sample 1g
 * recorded nothing (each thread's next point was still about a gigabyte
 * away), and one at 1g after one at 64k took a sample early in every
 * thread, each weighed as a gigabyte's.  A thread joins at its first gap
 * and leaves at its exit (threads_key's destructor), before its TLS goes.
 */
struct counter {
	int64_t *until;       /* the thread's lh_sample_until */
	uint64_t *rng;        /* and its rng: 0, start at a gap again */
	struct counter *next; /* on counters, or on spare_counters */
};

static __thread struct counter *me LH_TLS;
static struct counter *counters, *spare_counters;
static atomic_bool counters_lock;
static pthread_key_t threads_key;
static int have_key;

static void counters_take(void)
{
	unsigned n = 0;

	while (atomic_exchange_explicit(&counters_lock, 1, memory_order_acquire))
		spin(&n);
}

static void counters_give(void)
{
	atomic_store_explicit(&counters_lock, 0, memory_order_release);
}

/* The calling thread joins counters (it has just seeded its rng). */
static __attribute__((noinline)) void count_me(void)
{
	struct counter *c;

	counters_take();
	if (!spare_counters) {
		struct counter *page = lh_map_anon((size_t)getpagesize());

		for (size_t i = 0; page && i < (size_t)getpagesize() / sizeof(*page); i++) {
			page[i].next = spare_counters;
			spare_counters = &page[i];
		}
	}
	c = spare_counters;
	if (c) {
		spare_counters = c->next;
		c->until = &lh_sample_until;
		c->rng = &rng;
		c->next = counters;
		counters = c;
	}
	counters_give();
	me = c;
	if (c && have_key)
		pthread_setspecific(threads_key, c); /* may allocate: rng is set, no way back here */
}

/* threads_key's destructor: the thread exits, its TLS goes with it. */
static void uncount(void *arg)
{
	counters_take();
	for (struct counter **p = &counters; *p; p = &(*p)->next) {
		if (*p == arg) {
			*p = ((struct counter *)arg)->next;
			((struct counter *)arg)->next = spare_counters;
			spare_counters = arg;
			break;
		}
	}
	counters_give();
	me = NULL;
}

/* A forked child has only the thread that forked: the others' entries point
 * into stacks glibc may unmap (it caches them).  This thread joins again at
 * its next gap.  The pages stay mapped, unused.
 *
 * The set's lock and sequence are the child's too: another thread of the
 * parent may have been inside a change, and a child that does not follow
 * the recording (no --follow-fork, or a fork under record -p) kept them as
 * they were, locked and odd.  The next record -p of that child then waited
 * for the lock for ever in lh_sample_reset, and every free would have
 * waited for an even set_seq (forklock.c; about one child in four of a
 * program whose threads allocate at --sample 1).  No thread is left to
 * finish that change: its half-moved entries are emptied by the next
 * session's reset, or the tables unmapped by a followed child's. */
static void counters_fork_child(void)
{
	atomic_store(&counters_lock, 0);
	counters = spare_counters = NULL;
	me = NULL;
	rng = 0;
	atomic_store(&set_lock, 0);
	atomic_store(&set_seq, atomic_load(&set_seq) & ~1u);
}

static __attribute__((noinline)) int64_t next_gap(void)
{
	double u, g;

	if (!rng) { /* never 0 again: xorshift keeps a nonzero state nonzero */
		rng = ((uint64_t)syscall(SYS_gettid) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)clock()) | 1;
		if (!me)
			count_me();
	}
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	u = ((double)(rng >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
	g = -log(u) * (double)lh_preload_conf.sample;
	return g < 0x1p61 ? (int64_t)g + 1 : (int64_t)1 << 61; /* the cast must not overflow */
}

static size_t slot_of(uintptr_t p, size_t mask)
{
	return (size_t)((p * 0x9e3779b97f4a7c15ULL) >> (64 - SET_MAX_BITS)) & mask;
}

/* A table of 2^bits empty slots (mapped once per size and recording). */
static struct set_table *table_of(int bits)
{
	size_t n = (size_t)1 << bits;
	struct set_table *t = tables[bits];

	if (!t) {
		void *p = mmap(NULL, sizeof(*t) + n * sizeof(t->slot[0]), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED)
			return NULL;
		t = tables[bits] = p;
		t->mask = n - 1;
	}
	return t;
}

int lh_sample_init(void)
{
	static int once;

	if (!once) {
		/* once, as record.c's begin() registers its own */
		once = 1;
		pthread_atfork(NULL, NULL, counters_fork_child);
		have_key = !pthread_key_create(&threads_key, uncount);
	}
	if (!atomic_load_explicit(&set, memory_order_relaxed)) {
		struct set_table *t = table_of(SET_MIN_BITS);

		if (!t)
			return -1;
		atomic_store_explicit(&set, t, memory_order_release);
	}
	return 0;
}

static void put(struct set_table *t, uintptr_t p)
{
	size_t i = slot_of(p, t->mask);

	while (atomic_load_explicit(&t->slot[i], memory_order_relaxed))
		i = (i + 1) & t->mask;
	atomic_store_explicit(&t->slot[i], p, memory_order_relaxed);
}

/* Room for one more block (under set_lock; a growth is a change): the table,
 * grown if it would be more than half full; NULL when it cannot grow. */
static struct set_table *room(struct set_table *t)
{
	struct set_table *big;
	int bits = SET_MIN_BITS;

	if ((size_t)live + 1 <= (t->mask + 1) / 2)
		return t;
	while (((size_t)1 << bits) <= t->mask + 1)
		bits++;
	if (bits > SET_MAX_BITS)
		return NULL;
	if (!(big = table_of(bits))) /* no memory: fuller, slower, still correct */
		return (size_t)live + 1 <= (t->mask + 1) / 4 * 3 ? t : NULL;
	change_begin();
	for (size_t i = 0; i <= t->mask; i++) {
		uintptr_t p = atomic_load_explicit(&t->slot[i], memory_order_relaxed);

		if (p)
			put(big, p);
	}
	atomic_store_explicit(&set, big, memory_order_release);
	change_end();
	return big;
}

/* The countdown reached 0 or less at an allocation that is not recorded
 * (ours, a failed one, one while recording is off): its points are passed
 * over.  Points are a Poisson process over the bytes, so those left in the
 * program's blocks are still one, of the same rate, and the next one is a
 * gap past the allocation's end whatever lay inside it: one draw, not one
 * per point (a failed malloc of 2^62 bytes spans 2^46 points at --sample
 * 64k, and walking them hung the program). */
void lh_sample_skip(void)
{
	lh_sample_until = next_gap();
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
	/* a block may span several points: still one record, and the next
	 * point is one gap past its end (as in lh_sample_skip: walking the
	 * points a successful allocation of 16 GiB spans took 16 G steps at
	 * --sample 1) */
	lh_sample_until = next_gap();
	return lh_sample_keep(ptr);
}

/* Put ptr in the set; 0: the set is full (sampling would lose frees). */
int lh_sample_keep(void *ptr)
{
	struct set_table *t;

	/* the home slot's line, fetched before the lock is held */
	t = atomic_load_explicit(&set, memory_order_relaxed);
	if (t)
		__builtin_prefetch(&t->slot[slot_of((uintptr_t)ptr, t->mask)], 1);
	set_lock_take();
	t = room(atomic_load_explicit(&set, memory_order_relaxed));
	if (t) {
		/* not a change for lookups: an insert only fills an empty slot,
		 * so the run of a block already in the set stays whole */
		put(t, (uintptr_t)ptr);
		live++;
		filter_add(ptr, 1); /* before the program can see the block: no free races it */
	}
	set_lock_give();
	if (!t) {
		static atomic_int said;
		static const char msg[] =
			"libleakhunt: over 2 million sampled blocks are live (or no memory for more); "
			"sample points are skipped "
			"until some are freed, so the report's estimates will be low: record with a larger "
			"--sample\n";

		if (!atomic_exchange(&said, 1))
			(void)!write(2, msg, sizeof(msg) - 1);
		return 0;
	}
	return 1;
}

/* Where ptr is in t, or -1 (a scan of t's run from ptr's home slot). */
static long find(struct set_table *t, uintptr_t p)
{
	size_t i = slot_of(p, t->mask);

	for (size_t k = 0; k <= t->mask; k++, i = (i + 1) & t->mask) {
		uintptr_t have = atomic_load_explicit(&t->slot[i], memory_order_relaxed);

		if (have == p)
			return (long)i;
		if (!have)
			break;
	}
	return -1;
}

/* Empty slot i of t, moving up the later entries of its run that may not
 * stay behind the hole (under set_lock, inside a change). */
static void take_out(struct set_table *t, size_t i)
{
	for (size_t j = (i + 1) & t->mask;; j = (j + 1) & t->mask) {
		uintptr_t p = atomic_load_explicit(&t->slot[j], memory_order_relaxed);
		size_t home;

		if (!p)
			break;
		home = slot_of(p, t->mask);
		/* p stays if its home is cyclically in (i, j] */
		if (i < j ? home > i && home <= j : home > i || home <= j)
			continue;
		atomic_store_explicit(&t->slot[i], p, memory_order_relaxed);
		i = j;
	}
	atomic_store_explicit(&t->slot[i], 0, memory_order_relaxed);
}

/* Is ptr a sampled block (the filter says it may be)?  It then leaves the
 * set: 1, record its free.  Only the thread that frees a block looks for
 * it, so it cannot leave the set between the lookup and the removal. */
int lh_sample_drop(void *ptr)
{
	unsigned n = 0;

	for (;;) {
		unsigned seq = atomic_load_explicit(&set_seq, memory_order_acquire);
		struct set_table *t = atomic_load_explicit(&set, memory_order_acquire);

		if (!t)
			return 0;
		if (seq & 1) {
			spin(&n);
			continue;
		}
		if (find(t, (uintptr_t)ptr) >= 0)
			break;
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&set_seq, memory_order_relaxed) == seq)
			return 0;
	}
	set_lock_take();
	change_begin();
	{
		struct set_table *t = atomic_load_explicit(&set, memory_order_relaxed);
		long i = find(t, (uintptr_t)ptr);

		if (i >= 0) {
			take_out(t, (size_t)i);
			live--;
			filter_add(ptr, -1);
		}
		change_end();
		set_lock_give();
		return i >= 0;
	}
}

/* A forked child's thread: the parent's random state would make the same
 * choices in every child (each seeds again from its own thread id). */
void lh_sample_fork_child(void)
{
	rng = 0;
}

/*
 * A new recording: no block is sampled yet.  A forked child (child = 1)
 * has only the thread that forked: the lock another thread of the parent
 * may have held is dropped, and the tables unmapped.  A new attach session
 * runs beside threads that may still be inside keep or drop from the last
 * session: it waits for the lock instead, and empties the tables in place
 * (their pages given back), so that such a thread never touches unmapped
 * memory; what it leaves in the new set is at worst one block.
 */
void lh_sample_reset(int child)
{
	if (child) {
		atomic_store(&set_lock, 0);
		atomic_store(&set, NULL);
		for (int bits = 0; bits <= SET_MAX_BITS; bits++) {
			if (tables[bits]) {
				munmap(tables[bits], sizeof(*tables[bits]) + ((size_t)1 << bits) * sizeof(uintptr_t));
				tables[bits] = NULL;
			}
		}
		atomic_store(&set_seq, 0);
	} else {
		/* every thread starts at a gap of this session's mean, as a new
		 * one does (the hooks were not patched in since the last
		 * session ended: none is counting now) */
		counters_take();
		for (struct counter *c = counters; c; c = c->next) {
			*c->until = 0;
			*c->rng = 0;
		}
		counters_give();
		set_lock_take();
		change_begin();
		for (int bits = 0; bits <= SET_MAX_BITS; bits++) {
			if (tables[bits]) {
				madvise(tables[bits], sizeof(*tables[bits]) + ((size_t)1 << bits) * sizeof(uintptr_t),
					MADV_DONTNEED);
				tables[bits]->mask = ((size_t)1 << bits) - 1;
			}
		}
		atomic_store(&set, tables[SET_MIN_BITS]);
	}
	live = 0;
	for (size_t i = 0; i < sizeof(lh_sample_filter) / sizeof(lh_sample_filter[0]); i++)
		atomic_store_explicit(&lh_sample_filter[i], 0, memory_order_relaxed);
	memset(counts, 0, sizeof(counts));
	if (!child) {
		change_end();
		set_lock_give();
	}
}
