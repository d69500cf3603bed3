/*
 * 8192 distinct stacks for test/cli/record.sh: walk(13, bits) descends 13
 * levels, through left() or right() by one bit of bits each, and allocates
 * at the bottom, so every value of bits is a stack of its own; all of them
 * twice.  Far more stacks and trie nodes than the preload's tables start
 * with (they grow as they fill), each of which must keep its own count.
 */
#include <stdlib.h>

static volatile unsigned side; /* work after each call: no tail calls */
void *volatile manystacks_sink;

static void walk(int depth, unsigned bits);

__attribute__((noinline)) static void left(int depth, unsigned bits)
{
	walk(depth, bits);
	side++;
}

__attribute__((noinline)) static void right(int depth, unsigned bits)
{
	walk(depth, bits);
	side++;
}

__attribute__((noinline)) static void walk(int depth, unsigned bits)
{
	if (!depth) {
		manystacks_sink = malloc(16);
		free(manystacks_sink);
	} else if (bits & 1) {
		left(depth - 1, bits >> 1);
	} else {
		right(depth - 1, bits >> 1);
	}
	side++;
}

static volatile int passes = 2; /* read at run time: one loop, one call site of walk */

int main(void)
{
	for (int pass = 0; pass < passes; pass++)
		for (unsigned b = 0; b < 1u << 13; b++)
			walk(13, b);
	return 0;
}
