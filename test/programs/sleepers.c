/*
 * A process to attach to whose main thread sleeps in system calls that a
 * ptrace stop ends with EINTR, which the kernel does not restart by itself
 * (signal(7), "Interruption of system calls ... by stop signals"): first
 * epoll_wait on the fifo argv[1] until it can be read, then sigwaitinfo
 * until SIGUSR1.  Each prints what it returned ("epoll_wait: 1",
 * "sigwaitinfo: 10"), or the error (and exits 1); a thread allocates
 * meanwhile.  An attach must leave both asleep: they returned EINTR at the
 * attach, and a program that takes EINTR for an error gave up there.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

void *volatile sleepers_sink;

static void *allocate(void *arg)
{
	(void)arg;
	for (;;) {
		sleepers_sink = malloc(64);
		free(sleepers_sink);
		usleep(1000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN }, got;
	sigset_t usr1;
	pthread_t th;
	int fd, ep, r, failed;

	if (argc != 2)
		return 2;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	fd = open(argv[1], O_RDWR); /* RDWR: no EOF, no wait for a writer */
	ep = epoll_create1(0);
	if (fd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		return 2;
	pthread_create(&th, NULL, allocate, NULL);
	r = epoll_wait(ep, &got, 1, -1);
	printf("epoll_wait: %s\n", r < 0 ? strerror(errno) : "1");
	fflush(stdout);
	failed = r < 0;
	r = sigwaitinfo(&usr1, NULL);
	printf("sigwaitinfo: %s\n", r < 0 ? strerror(errno) : r == SIGUSR1 ? "10" : "?");
	return failed || r != SIGUSR1;
}
