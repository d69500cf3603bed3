/*
 * A process to attach to whose main thread waits in epoll_wait (nothing to
 * wait for) until a SIGUSR1 handler sets a flag, as programs wait for
 * SIGTERM: on EINTR it looks at the flag, and prints "woke" once it is set.
 * A thread sends that SIGUSR1 once the attach has mapped libleakhunt, while
 * our calls run in the main thread.  The handler runs inside them; the
 * epoll_wait our stop ended was then restarted, not ended with EINTR, and
 * the program slept on, its flag set.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t woken;
static pid_t main_tid;

static void on_usr1(int sig)
{
	(void)sig;
	woken = 1;
}

/* SIGUSR1 to the main thread as soon as the library is in the map */
static void *watch(void *arg)
{
	static char buf[1 << 16];

	(void)arg;
	for (;;) {
		FILE *f = fopen("/proc/self/maps", "re");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

		if (f)
			fclose(f);
		buf[n] = 0;
		if (strstr(buf, "libleakhunt")) {
			syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
			return NULL;
		}
		usleep(20);
	}
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct epoll_event ev;
	pthread_t t;
	int ep = epoll_create1(0);

	sigaction(SIGUSR1, &sa, NULL);
	main_tid = (pid_t)syscall(SYS_gettid);
	if (ep < 0 || pthread_create(&t, NULL, watch, NULL))
		return 1;
	while (!woken)
		if (epoll_wait(ep, &ev, 1, -1) < 0 && errno != EINTR) {
			perror("epoll_wait");
			return 1;
		}
	printf("woke\n");
	return 0;
}
