/*
 * Recurses argv[1] frames deep (default 300) and allocates 42 B at the
 * bottom, leaked: the test checks that the stack reaches main when the depth
 * allows it, and is marked truncated when it does not.
 */
#include <stdlib.h>

static void *volatile sink;

__attribute__((noinline)) static int rec(int n)
{
	if (n == 0) {
		sink = malloc(42);
		return 0;
	}
	return rec(n - 1) + 1; /* work after the call: no tail call */
}

int main(int argc, char **argv)
{
	return rec(argc > 1 ? atoi(argv[1]) : 300) < 0;
}
