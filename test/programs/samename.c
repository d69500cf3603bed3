/*
 * Three different functions named helper: a static one here (5 blocks of
 * 111 B), another in samename_b.c (7 of 222 B) and one in
 * libsamename.so, built from samename_lib.c (10 of 333 B).  All leak.  The
 * report keeps them apart, as heaptrack does: a name alone made them one
 * site of 22 blocks.  With an argument, the library's helper is not
 * called: a second trace to --diff against.
 */
#include <stdlib.h>

void *helper_b(size_t n);   /* samename_b.c */
void *helper_lib(size_t n); /* samename_lib.c */

static void *volatile sink;
static volatile size_t side; /* work after each call: no tail calls */

__attribute__((noinline)) static void *helper(size_t n)
{
	void *p = malloc(n);

	side += n;
	return p;
}

int main(int argc, char **argv)
{
	(void)argv;
	for (int i = 0; i < 5; i++)
		sink = helper(111);
	for (int i = 0; i < 7; i++)
		sink = helper_b(222);
	for (int i = 0; i < 10 && argc < 2; i++)
		sink = helper_lib(333);
	return 0;
}
