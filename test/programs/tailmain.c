/*
 * A main that ends in a tail call (at -O2 'return run();' is a jump), as
 * python's and node's do: main leaves no frame, and the report's stacks
 * must still start at the program (run), not in libc's _start.
 */
#include <stdlib.h>

static void *volatile sink;

__attribute__((noinline)) int run(void)
{
	for (int i = 0; i < 10; i++)
		sink = malloc(100);
	return 0;
}

int main(void)
{
	return run();
}
