/*
 * Allocation through two levels of inlined static functions, for the test
 * that every inline level and its caller get a frame: at -O2,
 * fill_record() is inlined into new_record(), which is inlined into
 * build_table() (noinline), called from main.  The one malloc leaks
 * argv[1] blocks of 48 B (default 100) from the stack, innermost first:
 * fill_record, new_record, build_table, main.
 */
#include <stdlib.h>
#include <string.h>

static void *volatile sink[1024];

static inline __attribute__((always_inline)) void *fill_record(size_t n, int k)
{
	char *p = malloc(n);

	if (p)
		memset(p, k, n);
	return p;
}

static inline __attribute__((always_inline)) void *new_record(int k)
{
	return fill_record(48, k);
}

static __attribute__((noinline)) void build_table(int n)
{
	for (int i = 0; i < n; i++)
		sink[i % 1024] = new_record(i);
}

int main(int argc, char **argv)
{
	build_table(argc > 1 ? atoi(argv[1]) : 100);
	return 0;
}
