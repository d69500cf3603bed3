/*
 * A process to attach to whose main thread blocks every signal and has a
 * SIGSEGV handler: it sleeps in ppoll (with a mask that lets SIGUSR1 in)
 * until SIGUSR1, then in read on the fifo argv[1] until a byte comes; after
 * each it prints "ppoll: ok" / "read: ok", or what changed: SIGSEGV
 * unblocked, the handler gone.  A thread allocates meanwhile.  The calls
 * an attach makes end with a SIGSEGV that the kernel forces on the thread,
 * unblocking it and resetting the handler to the default where it is
 * blocked: both changed at every attach.  ppoll's own mask is in place
 * while it sleeps, so the thread's mask is known only once it resumes.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *volatile sigmask_sink;
static volatile sig_atomic_t woken;

static void on_segv(int sig)
{
	(void)sig;
	_exit(3);
}

static void on_usr1(int sig)
{
	(void)sig;
	woken = 1;
}

static void *allocate(void *arg)
{
	(void)arg;
	for (;;) {
		sigmask_sink = malloc(64);
		free(sigmask_sink);
		usleep(1000);
	}
	return NULL;
}

/* 0 when SIGSEGV is still blocked and handled by on_segv; says what not */
static int intact(const char *after)
{
	struct sigaction sa;
	sigset_t cur;
	int bad = 0;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	sigaction(SIGSEGV, NULL, &sa);
	if (!sigismember(&cur, SIGSEGV)) {
		printf("%s: SIGSEGV unblocked\n", after);
		bad = 1;
	}
	if (sa.sa_handler != on_segv) {
		printf("%s: SIGSEGV handler reset\n", after);
		bad = 1;
	}
	if (!bad)
		printf("%s: ok\n", after);
	fflush(stdout);
	return bad;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_segv };
	sigset_t all, usr1_in;
	pthread_t th;
	char c;
	int fd, bad;

	if (argc != 2)
		return 2;
	fd = open(argv[1], O_RDWR);
	if (fd < 0)
		return 2;
	sigaction(SIGSEGV, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_create(&th, NULL, allocate, NULL);
	sigfillset(&usr1_in);
	sigdelset(&usr1_in, SIGUSR1);
	while (!woken)
		ppoll(NULL, 0, NULL, &usr1_in);
	bad = intact("ppoll");
	if (read(fd, &c, 1) != 1)
		return 2;
	return intact("read") || bad;
}
