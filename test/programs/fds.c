/*
 * A program that treats file descriptors as its own, as daemons do, for
 * test/cli/record.sh.  argv[1]:
 *   close FILE  closes every descriptor above 2 (the trace's among them),
 *               then writes 1000 lines to FILE, one malloc'ed line at a
 *               time: 1000 calls before the close, 1000 after, all freed;
 *   dup2        duplicates stdout onto every descriptor from 3 to 8 below
 *               the limit, then makes 1000 calls (the trace's number
 *               included: the preload must see that it is not the trace
 *               any more, and open the trace again on one of the 8);
 *   vfork       100 calls, a vfork()ed child that _exit()s at once (the
 *               idiom after a failed exec), 100 calls more.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

static void calls(int n)
{
	for (int i = 0; i < n; i++) {
		sink = malloc(32 + (size_t)i % 64);
		free(sink);
	}
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int limit;

	if (argc < 2 || getrlimit(RLIMIT_NOFILE, &rl))
		return 2;
	limit = rl.rlim_cur > 65536 ? 65536 : (int)rl.rlim_cur;
	if (!strcmp(argv[1], "close") && argc > 2) {
		calls(1000);
		for (int fd = 3; fd < limit; fd++)
			close(fd);
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			return 3;
		for (int i = 0; i < 1000; i++) {
			char *line = malloc(64);
			int len = snprintf(line, 64, "line %d\n", i);

			if (write(fd, line, (size_t)len) != len)
				return 4;
			free(line);
		}
		close(fd);
		return 0;
	}
	if (!strcmp(argv[1], "dup2")) {
		for (int fd = 3; fd < limit - 8; fd++)
			dup2(1, fd);
		calls(1000);
		return 0;
	}
	if (!strcmp(argv[1], "vfork")) {
		pid_t pid;

		calls(100);
		pid = vfork();
		if (!pid)
			_exit(0);
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			return 3;
		calls(100);
		return 0;
	}
	return 2;
}
