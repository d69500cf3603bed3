/*
 * Mutual recursion: main -> ping -> pong -> ping -> ... -> pong, which
 * allocates 1000 B (leaked) at the bottom, argv[1] rounds deep (default 4).
 * The test checks that --function sees every occurrence of a recursive
 * function: pong's callees are ping and itself, ping's callers are main and
 * pong.
 */
#include <stdlib.h>

static void *volatile sink;
static volatile int rounds_seen;

static int ping(int n);

__attribute__((noipa)) static int pong(int n)
{
	int r;

	if (n == 0) {
		sink = malloc(1000);
		return 0;
	}
	r = ping(n - 1);
	rounds_seen = r; /* a side effect after the call: no tail call */
	return r + 1;
}

__attribute__((noipa)) static int ping(int n)
{
	int r = pong(n);

	rounds_seen = r;
	return r;
}

int main(int argc, char **argv)
{
	return ping(argc > 1 ? atoi(argv[1]) : 4) < 0;
}
