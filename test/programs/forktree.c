/*
 * Forked children for test/cli/record.sh --follow-fork cases, by mode:
 *   rss N     the child allocates N MiB and touches every page, the parent
 *             next to nothing: the child's trace must show the child's RSS
 *   chain N   a chain of N forks, each child forking the next and waiting
 *             for it; the last allocates 7 bytes (every level must be
 *             symbolized)
 *   reuse     two children in turn that get the same pid (run in a new pid
 *             namespace as root: ns_last_pid is set back), the second
 *             allocating 20 times: each must have a trace of its own
 *   daemon    a double fork: the program returns at once, the grandchild
 *             allocates 100 blocks 0.5 s later (record must wait for its
 *             trace before symbolizing it)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void *keep[1024]; /* not static: the stores (and so the mallocs) must stay */

__attribute__((noinline)) static void late_alloc(int i)
{
	keep[i] = malloc(1000 + (size_t)i);
}

__attribute__((noinline)) static void *chain_alloc(size_t n)
{
	void *p = malloc(n);

	keep[1023] = p; /* no tail call */
	return p;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 0;
	pid_t c, first = 0;

	if (argc > 1 && !strcmp(argv[1], "rss")) {
		if ((c = fork()) > 0)
			return waitpid(c, NULL, 0) == c ? 0 : 1;
		for (int i = 0; i < n && i < 1000; i++) {
			keep[i] = malloc(1 << 20);
			memset(keep[i], 1, 1 << 20);
			usleep(1000); /* the samples come every 10 ms */
		}
		usleep(30000);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "chain")) {
		for (int d = 0; d < n; d++) {
			keep[d % 1000] = malloc(100 + (size_t)d);
			if ((c = fork()) > 0)
				return waitpid(c, NULL, 0) == c ? 0 : 1;
		}
		chain_alloc(7);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "reuse")) {
		for (int round = 0; round < 2; round++) {
			if (round) {
				char b[32];
				int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY), len;

				len = snprintf(b, sizeof(b), "%d", first - 1);
				if (fd < 0 || write(fd, b, (size_t)len) != len)
					return 2;
				close(fd);
			}
			if (!(c = fork())) {
				for (int j = 0; j < 10 * (round + 1); j++)
					keep[j] = malloc(100);
				_exit(0);
			}
			if (!round)
				first = c;
			waitpid(c, NULL, 0);
			printf("round %d child %d\n", round, (int)c);
			fflush(stdout);
		}
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "daemon")) {
		if (fork())
			return 0;
		setsid();
		if (fork())
			_exit(0);
		usleep(500000);
		for (int i = 0; i < 100; i++)
			late_alloc(i);
		return 0;
	}
	fprintf(stderr, "usage: forktree rss N | chain N | reuse | daemon\n");
	return 2;
}
