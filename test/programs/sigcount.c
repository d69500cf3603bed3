/*
 * Sends itself SIGUSR1 in a loop and counts the signals sent and handled,
 * for test/cli/core_native.sh: a core taken while a signal is being
 * delivered finds the thread in a signal-delivery stop, and detaching from it
 * with 0 discards the signal.  SIGUSR2 prints "sent N handled M" (blocked
 * while a count and its signal are not both done).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile long handled;
static long sent;

static void on_usr1(int sig)
{
	handled++;
}

static void on_usr2(int sig)
{
	printf("sent %ld handled %ld\n", sent, (long)handled);
	fflush(stdout);
}

int main(void)
{
	sigset_t usr2, old;

	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		sigprocmask(SIG_BLOCK, &usr2, &old);
		sent++;
		syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
}
