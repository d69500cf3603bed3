/*
 * 500 blocks of 100 bytes kept, then an exec of the kind argv[1] names,
 * for test/cli/record.sh: the 500 must reach the trace before the process
 * image is replaced (exec runs no destructors).
 *   l, lp, le, v, vp, ve  execl("/bin/echo"), execlp("echo"), execle(env)
 *                         with X=1, execv, execvp, execve
 *   fail                  execl of a file that does not exist, then 100
 *                         more blocks: recording goes on
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink;

int main(int argc, char **argv)
{
	char *echo[] = { "echo", "exec", "ran", NULL }, *env[] = { "X=1", NULL }, *envv[] = { "env", NULL };
	const char *m = argc > 1 ? argv[1] : "";

	for (int i = 0; i < 500; i++)
		sink = malloc(100);
	if (!strcmp(m, "l"))
		execl("/bin/echo", "echo", "exec", "ran", (char *)NULL);
	else if (!strcmp(m, "lp"))
		execlp("echo", "echo", "exec", "ran", (char *)NULL);
	else if (!strcmp(m, "le"))
		execle("/usr/bin/env", "env", (char *)NULL, env);
	else if (!strcmp(m, "v"))
		execv("/bin/echo", echo);
	else if (!strcmp(m, "vp"))
		execvp("echo", echo);
	else if (!strcmp(m, "ve"))
		execve("/usr/bin/env", envv, env);
	else if (!strcmp(m, "fail")) {
		execl("/nonexistent/program", "program", (char *)NULL);
		for (int i = 0; i < 100; i++)
			sink = malloc(10);
		return 0;
	}
	return 1;
}
