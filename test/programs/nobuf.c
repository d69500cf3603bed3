/*
 * A thread that starts allocating when the process is at its data size
 * limit (RLIMIT_DATA, set by the program: argv[1] MiB), for
 * test/cli/record.sh: the thread is started first, the main thread then
 * takes 1 MiB, then 256 KiB blocks until malloc fails, and the thread makes
 * argv[2] small
 * allocations.  Under record the thread's event buffer cannot be mapped:
 * its allocations go unrecorded, which must be said.  Prints how many of
 * the thread's allocations succeeded.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static sem_t go;
static long small, got;

static void *worker(void *arg)
{
	sem_wait(&go);
	for (long i = 0; i < small; i++)
		if (malloc(16))
			got++;
	return arg;
}

int main(int argc, char **argv)
{
	rlim_t mib = argc > 1 ? (rlim_t)atol(argv[1]) : 256;
	struct rlimit rl = { mib << 20, mib << 20 };
	static void *blocks[65536];
	long n = 0;
	pthread_t t;

	small = argc > 2 ? atol(argv[2]) : 100;
	sem_init(&go, 0, 0);
	if (setrlimit(RLIMIT_DATA, &rl) || pthread_create(&t, NULL, worker, NULL))
		return 2;
	while (n < 65536 && (blocks[n] = malloc(1 << 20)))
		n++;
	/* and what is left, closer: no room for a buffer of ours either */
	while (n < 65536 && (blocks[n] = malloc(256 << 10)))
		n++;
	sem_post(&go);
	pthread_join(t, NULL);
	printf("nobuf: %ld of %ld, %ld blocks\n", got, small, n);
	return 0;
}
