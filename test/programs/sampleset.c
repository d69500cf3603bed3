/*
 * For --sample's set of live sampled blocks: argv[1] threads (default 4)
 * each keep argv[2] blocks of 64 B (default 50000) live in work(), so the
 * set grows while other threads look blocks up in it, then free the blocks
 * of the thread before them in a scattered order, all but every 100th,
 * with a malloc/free pair of 64 B in temp() after each free (lookups while
 * other threads take entries out).  At --sample 1 every 64-byte block is
 * sampled with weight 1, so the report's numbers are exact: work() makes
 * T x N calls and leaks T x N / 100 blocks, temp() makes T x N calls and
 * leaks nothing.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void **table;
static long per;
static int nthreads;
static pthread_barrier_t barrier;
static void *volatile sink;

static __attribute__((noinline)) void *work(void)
{
	void *p = malloc(64);

	sink = p; /* not a tail call: work() stays on the stack */
	return p;
}

static __attribute__((noinline)) void temp(void)
{
	void *volatile p = malloc(64); /* volatile: the pair is not optimized away */

	free(p);
}

static void *worker(void *arg)
{
	long me = (long)arg, prev = (me + nthreads - 1) % nthreads;
	void **mine = table + me * per, **theirs = table + prev * per;

	for (long i = 0; i < per; i++)
		mine[i] = work();
	pthread_barrier_wait(&barrier);
	/* 7919 is prime and does not divide per: every index once */
	for (long k = 0; k < per; k++) {
		long i = (k * 7919) % per;

		if (i % 100)
			free(theirs[i]);
		temp();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[64];

	nthreads = argc > 1 ? atoi(argv[1]) : 4;
	per = argc > 2 ? atol(argv[2]) : 50000;
	if (nthreads < 1 || nthreads > 64 || per < 100 || per % 7919 == 0)
		return 2;
	table = calloc((size_t)(nthreads * per), sizeof(*table));
	pthread_barrier_init(&barrier, NULL, (unsigned)nthreads);
	for (long i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	printf("%d threads, %ld blocks each\n", nthreads, per);
	return 0;
}
