/*
 * bench/record.sh's control for the cost of a thread of ours: preloaded
 * into a native run, it starts one thread that only sleeps.  glibc then
 * takes its multi-threaded malloc and free paths (arena locks, atomic
 * fastbins) for the rest of the run, as it does beside leakhunt's timer
 * thread; `--sample` runs without one for that reason.
 */
#include <pthread.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
	for (;;)
		pause();
	return arg;
}

__attribute__((constructor)) static void start_sleeper(void)
{
	pthread_t t;

	if (!pthread_create(&t, NULL, sleeper, NULL))
		pthread_detach(t);
}
