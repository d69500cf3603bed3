/*
 * For --sample and allocations that fail: one malloc of argv[1] bytes (a
 * size no system has: it fails), then argv[2] blocks of 4 KiB that leak,
 * in work().  The hooks count a failed allocation's bytes down before the
 * call; the sample points it passed must not hang the program or stop its
 * sampling.  Exits 1 if the failed malloc did not leave ENOMEM.
 * With a third argument "ok" the malloc of argv[1] bytes must succeed
 * (untouched, then freed): a sampled block spanning that many points must
 * not take a step per point either.  Exits 2 if it failed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink; /* the stores keep every malloc */

static __attribute__((noinline)) void work(long n)
{
	for (long i = 0; i < n; i++)
		sink = malloc(4096);
}

int main(int argc, char **argv)
{
	size_t huge = argc > 1 ? strtoull(argv[1], NULL, 0) : (size_t)1 << 62;
	long n = argc > 2 ? atol(argv[2]) : 20000;

	errno = 0;
	sink = malloc(huge);
	if (argc > 3 && !strcmp(argv[3], "ok")) {
		if (!sink)
			return 2;
		free(sink);
	} else if (sink || errno != ENOMEM) {
		return 1;
	}
	work(n);
	return 0;
}
