/*
 * Threads that move blocks with realloc while other threads allocate the
 * same sizes: argv[1] threads (default 4) of argv[2] rounds (default 50000).
 * A round allocates 24 bytes, grows the block to 400 with realloc (which
 * moves it: glibc's chunk behind it is taken), keeps every 100th result and
 * frees the rest, so exactly threads * rounds / 100 blocks of 400 bytes leak.
 * Run with MALLOC_ARENA_MAX=1 and tcache off: the block realloc frees goes to
 * the shared arena at once, where another thread's malloc can take it while
 * realloc is still returning, which is what test/cli/record.sh checks the
 * numbering against.  Before the threads, main makes one realloc that fails
 * (the block stays; its number must not be lost).
 *
 * reallocs cancel: 4 threads make failing and moving reallocs until main
 * cancels them after 300 ms (a thread cancelled inside the library's write
 * once died holding its lock: the process hung).  Prints "cancel: skipped"
 * if a 64 TiB realloc does not fail here (overcommit).
 *
 * reallocs long MB: 2 threads malloc and free all the time while main moves
 * one MB-MiB block with realloc (with MALLOC_MMAP_MAX_=0 it is in the heap
 * and copied: a long call, during which the other threads number millions
 * of events).  Leaks nothing.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long rounds = 50000;

static void *work(void *arg)
{
	void **keep = arg;
	long kept = 0;

	for (long i = 0; i < rounds; i++) {
		char *fence = malloc(24); /* so that the next block cannot grow in place */
		char *p = malloc(24), *q;

		p[0] = 1;
		q = realloc(p, 400);
		if (!q)
			abort();
		q[399] = 2;
		free(fence);
		if (i % 100 == 0)
			keep[kept++] = q;
		else
			free(q);
	}
	return NULL;
}

static void *cancelled(void *arg)
{
	volatile size_t huge = (size_t)1 << 46;
	char *p = malloc(100);

	for (;;) {
		char *q = realloc(p, huge), *fence;

		if (q)
			abort(); /* checked in main first */
		fence = malloc(100);
		p = realloc(p, 100 + (size_t)(uintptr_t)fence % 300);
		free(fence);
		pthread_testcancel();
	}
	return arg;
}

static int cancel_mode(void)
{
	volatile size_t huge = (size_t)1 << 46;
	char *p = malloc(100), *q = realloc(p, huge);
	pthread_t t[4];

	if (q) {
		free(q);
		printf("cancel: skipped\n");
		return 0;
	}
	free(p);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, cancelled, NULL);
	usleep(300000);
	for (int i = 0; i < 4; i++)
		pthread_cancel(t[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	printf("cancel: done\n");
	return 0;
}

static atomic_int churning = 1;

static void *churn(void *arg)
{
	while (atomic_load_explicit(&churning, memory_order_relaxed)) {
		void *volatile p = malloc(32);

		free(p);
	}
	return arg;
}

static int long_mode(size_t mb)
{
	pthread_t t[2];
	char *p = malloc(mb << 20), *fence = malloc(64), *q;

	memset(p, 1, mb << 20);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, churn, NULL);
	usleep(50000);
	q = realloc(p, (mb << 20) + 4096); /* the fence is behind it: it moves */
	atomic_store(&churning, 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	free(fence);
	free(q);
	printf("long: done\n");
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	pthread_t t[64];
	void **keep;

	if (argc > 1 && !strcmp(argv[1], "cancel"))
		return cancel_mode();
	if (argc > 2 && !strcmp(argv[1], "long"))
		return long_mode((size_t)atol(argv[2]));
	if (argc > 2)
		rounds = atol(argv[2]);
	if (n < 1 || n > 64 || rounds < 1)
		return 2;
	{
		volatile size_t huge = (size_t)1 << 62;
		char *p = malloc(10), *q = realloc(p, huge);

		if (q)
			return 3;
		free(p);
	}
	keep = calloc((size_t)n * (size_t)(rounds / 100 + 1), sizeof(*keep));
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, work, keep + (size_t)i * (size_t)(rounds / 100 + 1));
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("reallocs: %ld blocks kept\n", n * ((rounds + 99) / 100));
	return 0;
}
