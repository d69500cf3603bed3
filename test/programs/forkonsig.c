/*
 * A process to attach to that forks on request, for test/cli/record.sh: it
 * allocates all the time; on SIGUSR1 it forks a child that does the same
 * and writes its pid to argv[1]; both run until SIGTERM (at most 30 s).  A
 * child forked while `record -p` is attached to the parent must be free of
 * the parent's hooks, and attachable itself.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t fork_now, stop;
void *volatile forkonsig_sink;

static void on_usr1(int sig)
{
	(void)sig;
	fork_now = 1;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	signal(SIGUSR1, on_usr1);
	signal(SIGTERM, on_term);
	for (int i = 0; i < 30000 && !stop; i++) {
		if (fork_now) {
			pid_t c;

			fork_now = 0;
			c = fork();
			if (c == 0) {
				FILE *f = fopen(argc > 1 ? argv[1] : "/dev/null", "w");

				if (f) {
					fprintf(f, "%d\n", (int)getpid());
					fclose(f);
				}
			}
		}
		free(forkonsig_sink);
		forkonsig_sink = malloc(100 + (size_t)i % 1000);
		usleep(1000);
	}
	return 0;
}
