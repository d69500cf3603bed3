/*
 * The allocation-heavy benchmark of bench/record.sh: argv[1] malloc/free
 * pairs (default 8,000,000) on argv[2] threads (default 1), each allocation
 * made through one of 8 call paths 10 to 31 frames deep (three chains of
 * noinline functions entered at different levels), like heaptrack's anchor
 * benchmark in shared/reference/heaptrack.md.
 *
 * Sizes: 70% 16-256 B, 25% 256 B-4 KiB, 5% 4-64 KiB; half of chain b's
 * allocations use calloc.  A quarter of the blocks are freed at once, the
 * rest replace a random slot in a ring of 4096 live blocks; with threads,
 * 1/16 of the replacements go through a shared array, so some blocks are
 * freed by another thread.  The output (a checksum of the sizes) is fixed
 * for given arguments, so a run under a tracer can be checked against a
 * native one.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RING 4096
#define SHARED 1024

static void *volatile shared[SHARED];
static long per_thread;
static volatile unsigned side; /* work after each call: no tail calls */

static void *leaf_a(size_t n)
{
	return malloc(n);
}

static void *leaf_b(size_t n)
{
	return n & 1 ? calloc(1, n) : malloc(n);
}

static void *leaf_c(size_t n)
{
	return malloc(n);
}

/* LINK(x, y): x calls y and does some work after it returns. */
#define LINK(x, y)                                               \
	__attribute__((noinline)) static void *x(size_t n)       \
	{                                                        \
		void *p = y(n);                                  \
		side += (unsigned)n;                             \
		return p;                                        \
	}

LINK(a0, leaf_a) LINK(a1, a0) LINK(a2, a1) LINK(a3, a2) LINK(a4, a3)
LINK(a5, a4) LINK(a6, a5) LINK(a7, a6) LINK(a8, a7) LINK(a9, a8)
LINK(a10, a9) LINK(a11, a10) LINK(a12, a11) LINK(a13, a12) LINK(a14, a13)
LINK(a15, a14) LINK(a16, a15) LINK(a17, a16) LINK(a18, a17) LINK(a19, a18)
LINK(a20, a19) LINK(a21, a20) LINK(a22, a21) LINK(a23, a22) LINK(a24, a23)
LINK(a25, a24) LINK(a26, a25) LINK(a27, a26) LINK(a28, a27) LINK(a29, a28)
LINK(b0, leaf_b) LINK(b1, b0) LINK(b2, b1) LINK(b3, b2) LINK(b4, b3)
LINK(b5, b4) LINK(b6, b5) LINK(b7, b6) LINK(b8, b7) LINK(b9, b8)
LINK(b10, b9) LINK(b11, b10) LINK(b12, b11) LINK(b13, b12) LINK(b14, b13)
LINK(b15, b14) LINK(b16, b15) LINK(b17, b16) LINK(b18, b17) LINK(b19, b18)
LINK(c0, leaf_c) LINK(c1, c0) LINK(c2, c1) LINK(c3, c2) LINK(c4, c3)
LINK(c5, c4) LINK(c6, c5) LINK(c7, c6) LINK(c8, c7) LINK(c9, c8)
LINK(c10, c9) LINK(c11, c10)

static void *(*const paths[8])(size_t) = { a29, a19, a9, b19, b12, b7, c11, c6 };

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t pick_size(uint64_t r)
{
	unsigned m = (unsigned)(r % 100);

	r /= 100;
	if (m < 70)
		return 16 + r % 241;
	if (m < 95)
		return 256 + r % 3841;
	return 4096 + r % 61441;
}

static void *run(void *arg)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL * ((uintptr_t)arg + 1), sum = 0;
	void **ring = calloc(RING, sizeof(*ring));

	for (long i = 0; i < per_thread; i++) {
		uint64_t r = next_rand(&s);
		size_t n = pick_size(r >> 8);
		char *p = paths[r & 7](n);

		p[0] = 1;
		sum += n;
		if ((r >> 3 & 3) == 0) {
			free(p);
			continue;
		}
		if ((r >> 5 & 15) == 0 && arg) {
			p = __atomic_exchange_n(&shared[(r >> 12) % SHARED], p, __ATOMIC_ACQ_REL);
		} else {
			void **slot = &ring[(r >> 12) % RING];
			void *q = *slot;

			*slot = p;
			p = q;
		}
		free(p);
	}
	for (int i = 0; i < RING; i++)
		free(ring[i]);
	free(ring);
	return (void *)(uintptr_t)sum;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 8000000;
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	uint64_t sum = 0;

	if (threads < 1 || threads > 64)
		threads = 1;
	per_thread = n / threads;
	if (threads == 1) {
		sum = (uint64_t)(uintptr_t)run(NULL);
	} else {
		pthread_t th[64];

		for (int t = 0; t < threads; t++)
			pthread_create(&th[t], NULL, run, (void *)(uintptr_t)(t + 1));
		for (int t = 0; t < threads; t++) {
			void *r;

			pthread_join(th[t], &r);
			sum += (uint64_t)(uintptr_t)r;
		}
		for (int i = 0; i < SHARED; i++)
			free(shared[i]);
	}
	printf("%ld pairs on %d threads, %llu bytes\n", n, threads, (unsigned long long)sum);
#ifdef CHURN_THREAD_CPU
	/* bench/record_ab.sh: the CPU time of the thread that ran (one thread:
	 * this one), less moved by other work on the machine than wall time */
	{
		struct timespec ts;

		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		fprintf(stderr, "thread-cpu %.6f\n", (double)ts.tv_sec + ts.tv_nsec / 1e9);
	}
#endif
	return 0;
}
