/*
 * Gives up root for nobody (65534), then forks a child that allocates: under
 * `record --follow-fork` (test/cli/record.sh, as root) the child cannot
 * create its trace in a directory only root may write, and both the child
 * and record must say so.
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

int main(void)
{
	pid_t pid;

	sink = malloc(10);
	if (setgid(65534) || setuid(65534))
		return 2;
	pid = fork();
	if (!pid) {
		sink = malloc(20);
		_exit(0);
	}
	return pid < 0 || waitpid(pid, NULL, 0) != pid;
}
