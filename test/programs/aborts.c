/*
 * Leaks 20000 x 10 B, then aborts at once, before the recorder's timer
 * flushes (every 100 ms), as node's process.abort() and its fatal out of
 * memory do: the trace has no end record but every one of the 20000
 * allocations, which the abort hook wrote out (they were lost before).
 */
#include <stdlib.h>

static void *volatile sink;

int main(void)
{
	for (int i = 0; i < 20000; i++)
		sink = malloc(10);
	abort();
}
