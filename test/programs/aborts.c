/*
 * Leaks 20000 x 10 B, then aborts at once, before the recorder's timer
 * flushes (every 100 ms), as node's process.abort() and its fatal out of
 * memory do: the trace has no end record but every one of the 20000
 * allocations, which the abort hook wrote out (they were lost before).
 * With "assert", a failed assert() ends it: glibc's __assert_fail calls the
 * abort inside libc, not the hooked one, and lost them all too.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink;

int main(int argc, char **argv)
{
	for (int i = 0; i < 20000; i++)
		sink = malloc(10);
	assert(argc < 2 || strcmp(argv[1], "assert"));
	abort();
}
