/*
 * A second thread that starts recording late: main allocates alone for
 * argv[1] malloc/free pairs (the recorder numbers its events without locked
 * adds then), then starts a thread, and both make argv[1] more pairs at the
 * same time, handing every 8th block to the other thread to free through a
 * shared slot.  Each thread leaks 5 blocks of 40 B at the end.  Allocation
 * calls: 3 x argv[1] + 10, plus what pthread_create allocates (a DTV at most);
 * every free matches an allocation, so a sequence number taken twice or lost
 * at the switch shows as an unknown free, a leak or a missing event.
 */
#include <pthread.h>
#include <stdlib.h>

static long pairs;
static void *volatile slot;
static void *volatile sink;

static void churn(long n, unsigned seed)
{
	for (long i = 0; i < n; i++) {
		char *p = malloc(16 + (seed + i) % 200);

		p[0] = 1;
		if (i % 8 == 0)
			p = __atomic_exchange_n(&slot, p, __ATOMIC_ACQ_REL);
		free(p);
	}
}

static void leak(void)
{
	for (int i = 0; i < 5; i++)
		sink = malloc(40);
}

static void *second(void *arg)
{
	churn(pairs, 7);
	leak();
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t th;

	pairs = argc > 1 ? atol(argv[1]) : 100000;
	churn(pairs, 1);
	if (pthread_create(&th, NULL, second, NULL))
		return 1;
	churn(pairs, 3);
	pthread_join(th, NULL);
	free(slot);
	leak();
	return 0;
}
