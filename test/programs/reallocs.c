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
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

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

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	pthread_t t[64];
	void **keep;

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
