/*
 * Recurses argv[1] frames deep (default 300) and allocates 42 B at the
 * bottom, leaked: the test checks that the stack reaches main when the depth
 * allows it, and is marked truncated when it does not.
 */
#include <stdlib.h>

static void *volatile sink;

static volatile int depth_seen;

__attribute__((noipa)) static int rec(int n)
{
	int r;

	if (n == 0) {
		sink = malloc(42);
		return 0;
	}
	r = rec(n - 1);
	depth_seen = r; /* a side effect after the call: no tail call, no loop */
	return r + 1;
}

int main(int argc, char **argv)
{
	return rec(argc > 1 ? atoi(argv[1]) : 300) < 0;
}
