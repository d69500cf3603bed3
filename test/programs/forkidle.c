/*
 * --sample's self-timed writes in a forked child (test/cli/record.sh): the
 * parent idles 400 ms, allocates, then forks; the child makes 50 allocations
 * of 1 MiB, 5 ms apart (each is sampled at --sample 64k with probability
 * 1 - e^-16), idles 300 ms and kills itself.  Its trace must hold the
 * allocations its thread wrote along the way: the writes are timed by the
 * child's own clock, which starts again at the fork.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *volatile sink;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000 };

	nanosleep(&ts, NULL);
}

int main(void)
{
	pid_t child;

	sleep_ms(400);
	for (int i = 0; i < 2000; i++) {
		sink = malloc(100000);
		free(sink);
	}
	child = fork();
	if (child == 0) {
		for (int i = 0; i < 50; i++) {
			sink = malloc(1 << 20);
			sleep_ms(5);
		}
		sleep_ms(300);
		raise(SIGKILL);
	}
	waitpid(child, NULL, 0);
	return 0;
}
