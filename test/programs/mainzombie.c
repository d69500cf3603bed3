/*
 * A process whose main thread has ended with pthread_exit, for
 * test/cli/core_native.sh: until its other thread ends, the main thread is a
 * zombie (it cannot be traced, and /proc/PID/mem and /proc/PID/smaps are
 * empty) while the process lives on.  The thread waits in pause(); marker
 * holds a known string to read back from the core.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

char marker[32] = "mainzombie marker";

static void *waiter(void *arg)
{
	for (;;)
		pause();
	return arg;
}

int main(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, waiter, NULL))
		return 1;
	printf("ready\n");
	fflush(stdout);
	pthread_exit(NULL);
}
