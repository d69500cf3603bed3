/*
 * Forks while other threads allocate, for test/cli/record.sh: argv[1]
 * threads malloc and free without pause while the main thread forks
 * argv[2] children, a few milliseconds apart.  Under `record --sample`
 * every allocation the threads make may be a sample point, which takes the
 * sampled-block set's lock: a child forked while another thread held it
 * must not inherit it held.  Each child writes its pid to argv[3] (one line
 * each, appended) and allocates a little every millisecond until SIGTERM
 * (30 s at most), so that `record -p CHILD --sample` reaches sample points.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static volatile int done;
void *volatile forklock_sink;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void *churn(void *arg)
{
	(void)arg;
	while (!done) {
		void *p[8];

		for (int i = 0; i < 8; i++)
			p[i] = malloc(32 + (size_t)i * 16);
		for (int i = 0; i < 8; i++)
			free(p[i]);
	}
	return NULL;
}

static void child(const char *pidfile)
{
	char line[32];
	int fd = open(pidfile, O_WRONLY | O_APPEND | O_CREAT, 0644);

	if (fd >= 0) {
		int n = snprintf(line, sizeof(line), "%d\n", (int)getpid());

		(void)!write(fd, line, (size_t)n);
		close(fd);
	}
	for (int i = 0; i < 30000 && !stop; i++) {
		free(forklock_sink);
		forklock_sink = malloc(1000 + (size_t)i % 4000);
		usleep(1000);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 4, nkids = argc > 2 ? atoi(argv[2]) : 8;
	const char *pidfile = argc > 3 ? argv[3] : "/dev/null";
	pthread_t t[64];

	signal(SIGTERM, on_term);
	if (nthreads > 64)
		nthreads = 64;
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, churn, NULL);
	usleep(20000);
	for (int k = 0; k < nkids; k++) {
		if (fork() == 0)
			child(pidfile);
		usleep(5000);
	}
	done = 1;
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	return 0;
}
