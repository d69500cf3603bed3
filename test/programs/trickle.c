/*
 * A process to attach to that allocates a little and often: one block
 * replaced every half millisecond, 64 live, until SIGTERM; then it prints
 * "trickle: ok" and exits 0.  A short attach session (less than the
 * timer's 100 ms between flushes) sees no buffer handed off while it
 * records: every chunk of the session is written by the final flush, after
 * recording stopped.  With --compact the second such session continued the
 * first's codec state, and its report lost every event (test/cli/record.sh).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	stop = 1;
}

int main(void)
{
	struct timespec half_ms = { 0, 500000 };
	void *blk[64] = { 0 };

	signal(SIGTERM, on_term);
	for (unsigned i = 0; !stop; i++) {
		free(blk[i % 64]);
		blk[i % 64] = malloc(16 + i % 100);
		nanosleep(&half_ms, NULL);
	}
	for (int i = 0; i < 64; i++)
		free(blk[i]);
	printf("trickle: ok\n");
	return 0;
}
