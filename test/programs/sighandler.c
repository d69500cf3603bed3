/*
 * A signal handler that allocates: 100 times raise(SIGUSR1), whose handler
 * mallocs and frees 32 B (a temporary); main leaks 7 B each time.
 * Allocation calls: 200; temporary: 100; leaked: 700 B in 100 blocks.
 */
#include <signal.h>
#include <stdlib.h>

static void *volatile sink;

static void handler(int sig)
{
	void *p = malloc(32);

	sink = p;
	free(p);
}

int main(void)
{
	signal(SIGUSR1, handler);
	for (int i = 0; i < 100; i++) {
		raise(SIGUSR1);
		sink = malloc(7);
	}
	return 0;
}
