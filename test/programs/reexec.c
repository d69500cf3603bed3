/*
 * A program that runs another (argv[1]) in its own process with the
 * environment it was started with, read back from /proc/self/environ, as a
 * program that saved its environment before anything edited it would: under
 * `leakhunt record` that environment still holds the recording's variables,
 * which the preload removed from environ at start.  The exec'd program must
 * not write into the trace the first one started.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	char *env[4096];
	size_t len = 0, n = 0;
	FILE *f = fopen("/proc/self/environ", "r");

	if (argc < 2 || !f)
		return 2;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	for (size_t i = 0; i < len && n < 4095; i += strlen(buf + i) + 1)
		env[n++] = buf + i;
	env[n] = NULL;
	free(malloc(100)); /* one call of our own */
	execve(argv[1], argv + 1, env);
	perror("execve");
	return 127;
}
