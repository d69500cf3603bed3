/* The helper of libsamename.so, for test/programs/samename.c. */
#include <stdlib.h>

static volatile size_t side;

__attribute__((noinline)) static void *helper(size_t n)
{
	void *p = malloc(n);

	side += n;
	return p;
}

__attribute__((noinline)) void *helper_lib(size_t n)
{
	void *p = helper(n);

	side += n;
	return p;
}
