/*
 * Threads whose first allocation happens where Rust's runtime makes it: inside
 * pthread_getattr_np(pthread_self()), which holds the thread's lock while it
 * allocates (the preload once asked it again from there, and hung).  With
 * "alt", each thread's first allocation is in a signal handler running on an
 * alternate stack instead, and pthread_getattr_np comes after.
 *
 * Then the main thread and one other each leak 100 blocks of 4242 bytes from
 * 40 frames deep, so that the test can check that the stacks reach main and
 * worker: the preload learned each thread's own stack bounds.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void *volatile sink;
static volatile int depth_seen;
static int alt;

static void on_signal(int sig)
{
	(void)sig;
	sink = malloc(24); /* a temporary block: the thread's first event */
	free(sink);
}

/* The first event on the alternate stack, then the stack size asked. */
static void first_events(void)
{
	pthread_attr_t attr;
	size_t size;
	void *addr;

	if (alt) {
		stack_t ss = { .ss_size = 64 * 1024 };
		struct sigaction sa;

		ss.ss_sp = mmap(NULL, ss.ss_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ss.ss_sp == MAP_FAILED || sigaltstack(&ss, NULL))
			exit(2);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sa.sa_flags = SA_ONSTACK;
		sigaction(SIGUSR1, &sa, NULL);
		pthread_kill(pthread_self(), SIGUSR1);
	}
	if (pthread_getattr_np(pthread_self(), &attr))
		exit(3);
	if (pthread_attr_getstack(&attr, &addr, &size) || size == 0)
		exit(4);
	pthread_attr_destroy(&attr);
}

__attribute__((noipa)) static int rec(int n)
{
	int r;

	if (n == 0) {
		for (int i = 0; i < 100; i++)
			sink = malloc(4242);
		return 0;
	}
	r = rec(n - 1);
	depth_seen = r; /* no tail call */
	return r + 1;
}

__attribute__((noipa)) static void *worker(void *arg)
{
	first_events();
	rec(40);
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t t;

	alt = argc > 1 && !strcmp(argv[1], "alt");
	first_events();
	rec(40);
	if (pthread_create(&t, NULL, worker, NULL) || pthread_join(t, NULL))
		return 1;
	puts("done");
	return 0;
}
