/*
 * argv[1] threads; each mallocs 1000 blocks of 24 B into a shared table and
 * frees the 1000 blocks of the thread before it (every free crosses threads),
 * then leaks 100 blocks of 48 B.  With argv[1] = 0 only the threads' own
 * machinery allocates: the baseline the test subtracts (glibc allocates a DTV
 * per thread).  Allocation calls: T x 1100 over the baseline; leaked: T x 100
 * blocks, T x 4800 B.
 */
#include <pthread.h>
#include <stdlib.h>

#define PER 1000

static void **table;
static int nthreads;
static pthread_barrier_t barrier;
static void *volatile sink;

static void *worker(void *arg)
{
	long me = (long)arg, prev = (me + nthreads - 1) % nthreads;

	for (int i = 0; i < PER; i++)
		table[me * PER + i] = malloc(24);
	pthread_barrier_wait(&barrier);
	for (int i = 0; i < PER; i++)
		free(table[prev * PER + i]);
	for (int i = 0; i < 100; i++)
		sink = malloc(48);
	return NULL;
}

int main(int argc, char **argv)
{
	static void *slots[64 * PER];
	pthread_t th[64];
	int n = argc > 1 ? atoi(argv[1]) : 8;

	table = slots;
	nthreads = n;
	pthread_barrier_init(&barrier, NULL, n ? n : 1);
	for (long i = 0; i < n; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return 0;
}
