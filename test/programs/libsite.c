/*
 * A shared library for test/cli/record.sh: loaded through a relative path
 * (LD_LIBRARY_PATH=.), its frames must still be named.  Built with
 * test/programs/uselib.c.
 */
#include <stdlib.h>

static volatile int side; /* work after the call: no tail call */

__attribute__((noinline)) void *libsite_alloc(size_t n)
{
	void *p = malloc(n);

	side++;
	return p;
}
