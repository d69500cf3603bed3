/*
 * Leaks 10 x 111 B, forks; the child leaks 5 x 222 B and frees one of the
 * parent's blocks, then exits; the parent waits and leaks 3 x 333 B more.
 * Parent trace: 13 calls, 2109 B in 13 blocks.  Child trace (--follow-fork):
 * 5 calls, 1110 B in 5 blocks, one free of a block it never saw allocated.
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

int main(void)
{
	void *first = NULL;
	pid_t pid;

	for (int i = 0; i < 10; i++)
		sink = first = malloc(111);
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 5; i++)
			sink = malloc(222);
		free(first);
		exit(0);
	}
	waitpid(pid, NULL, 0);
	for (int i = 0; i < 3; i++)
		sink = malloc(333);
	return 0;
}
