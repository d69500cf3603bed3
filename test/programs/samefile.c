/*
 * Two static helpers in two files of one name: test/programs/samename_b.c
 * built as one/util.c and, with helper_b renamed helper_c, as two/util.c.
 * helper_b's leaks 3 blocks of 100 B, helper_c's 4 of 200 B.  By their
 * files' last parts both were "helper (util.c)", one site of 7 blocks.
 */
#include <stdlib.h>

void *helper_b(size_t n); /* one/util.c */
void *helper_c(size_t n); /* two/util.c */

static void *volatile sink;

int main(void)
{
	for (int i = 0; i < 3; i++)
		sink = helper_b(100);
	for (int i = 0; i < 4; i++)
		sink = helper_c(200);
	return 0;
}
