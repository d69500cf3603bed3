/*
 * Leaks 20000 x 10 B, sleeps long enough for the recorder's timer to flush
 * every buffer (it does so every 100 ms), then kills itself with SIGKILL: the
 * trace has no end record but every one of the 20000 allocations.
 */
#include <signal.h>
#include <stdlib.h>
#include <time.h>

static void *volatile sink;

int main(void)
{
	struct timespec ts = { 0, 400 * 1000 * 1000 };

	for (int i = 0; i < 20000; i++)
		sink = malloc(10);
	nanosleep(&ts, NULL);
	raise(SIGKILL);
	return 0;
}
