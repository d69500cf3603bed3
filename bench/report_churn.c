/*
 * The trace behind bench/report.sh: argv[1] malloc/free pairs (default
 * 8,000,000, i.e. 16 M events) through 4 call paths of 3 to 12 noinline
 * frames.  A quarter of the blocks are freed at once (temporaries), the rest
 * replace a random slot in a ring of 4096 live blocks; sizes 16-4111 B.
 * Deterministic (xorshift), no stdio before exit, no leaks.
 */
#include <stdlib.h>

#define RING 4096

static void *ring[RING];
static void *volatile sink;
static volatile unsigned side; /* work after each call: no tail calls */

__attribute__((noinline)) static void *depth(int d, size_t n)
{
	void *p = d ? depth(d - 1, n) : malloc(n);

	side += (unsigned)d;
	return p;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 8000000;
	unsigned long long x = 88172645463325252ULL;

	for (long i = 0; i < n; i++) {
		size_t size;
		void *p;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size = 16 + (size_t)((x >> 40) % ((x & 16) ? 240 : 4096));
		p = depth((int)(x >> 60) % 4 * 3, size);
		if ((x & 3) == 0) {
			sink = p;
			free(p);
			continue;
		}
		free(ring[(x >> 20) % RING]);
		ring[(x >> 20) % RING] = p;
	}
	for (int k = 0; k < RING; k++)
		free(ring[k]);
	return 0;
}
