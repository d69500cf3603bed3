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
 *               idiom after a failed exec), 100 calls more;
 *   forkhigh    parks a pipe's write end on each descriptor from 260 to
 *               250 below the limit (4096 at most: where the preload keeps
 *               the trace and /proc/self/statm), forks a child that
 *               writes through it, and reads it back: exit 1 when a
 *               child's write did not arrive (a forked child once closed
 *               the parent's statm number, the program's pipe by then);
 *   daemon      100 calls, daemon(3), 100 calls more (glibc's daemon ends
 *               the parent with an _exit inside libc).
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
	if (!strcmp(argv[1], "forkhigh")) {
		int top = limit > 4096 ? 4096 : limit, bad = 0;

		for (int fd = top - 260; fd < top - 250; fd++) {
			char buf[8] = { 0 };
			int p[2], st;
			pid_t pid;

			if (pipe(p) || dup2(p[1], fd) < 0)
				return 3;
			close(p[1]);
			pid = fork();
			if (!pid) {
				calls(10);
				_exit(write(fd, "hello", 5) == 5 ? 0 : 1);
			}
			if (pid < 0 || waitpid(pid, &st, 0) != pid)
				return 3;
			close(fd);
			if (read(p[0], buf, sizeof(buf)) != 5 || !WIFEXITED(st) || WEXITSTATUS(st))
				bad++;
			close(p[0]);
		}
		return bad ? 1 : 0;
	}
	if (!strcmp(argv[1], "daemon")) {
		calls(100);
		if (daemon(1, 1))
			return 3;
		calls(100);
		return 0;
	}
	return 2;
}
