/*
 * argv[1] allocations of argv[2] bytes (0 allowed), each freed at once, so
 * that glibc hands out the same address every time; with a third argument
 * "keep", none is freed (argv[1] blocks leak).  For the sampled estimates:
 * an address and size that repeat must not get the same rounding of their
 * weight every time, and 0-byte blocks must be seen at all.
 */
#include <stdlib.h>
#include <string.h>

static void *volatile last; /* the stores keep every malloc */

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	size_t size = argc > 2 ? (size_t)atol(argv[2]) : 2048;
	int keep = argc > 3 && !strcmp(argv[3], "keep");

	for (long i = 0; i < n; i++) {
		last = malloc(size);
		if (!keep)
			free(last);
	}
	return 0;
}
