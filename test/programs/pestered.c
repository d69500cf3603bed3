/*
 * A process to attach to whose main thread is signalled all the time (a
 * thread sends it SIGUSR1 every 30 us; the handler counts) while it sleeps
 * in ppoll for a millisecond between runs of libc's memset.  An attach often
 * lets a SIGUSR1 through first and stops the thread at its handler's first
 * instruction, ppoll's number still in orig_rax: that is no sleep to resume
 * (rip - 2 is the end of the function before the handler), and the program
 * died of SIGSEGV there.  It runs until killed.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long handled;
static pid_t main_tid;
static char buf[1 << 20];

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

static void *pester(void *arg)
{
	(void)arg;
	for (;;) {
		syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
		usleep(30);
	}
	return NULL;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	struct timespec ms = { 0, 1000 * 1000 };
	pthread_t t;

	sigaction(SIGUSR1, &sa, NULL);
	main_tid = (pid_t)syscall(SYS_gettid);
	if (pthread_create(&t, NULL, pester, NULL))
		return 1;
	for (unsigned i = 0;; i++) {
		memset(buf, (int)i, sizeof(buf));
		ppoll(NULL, 0, &ms, NULL);
	}
}
