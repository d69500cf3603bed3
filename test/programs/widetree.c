/*
 * A call tree too big for report --html's flame graph, for
 * test/cli/report.sh: walk(9, bits) takes 512 paths through left() and
 * right(), and each ends in chain(120), 120 frames of recursion, then
 * allocates 16 bytes; every frame of it holds 1/512 of every cost, above
 * the graph's 1/1000 cut, so the 64,000 frames pass the 50,000 it keeps.
 */
#include <stdlib.h>

static volatile unsigned side; /* work after each call: no tail calls */
void *volatile widetree_sink;

static void walk(int depth, unsigned bits);

__attribute__((noinline)) static void chain(int depth)
{
	if (!depth)
		widetree_sink = malloc(16);
	else
		chain(depth - 1);
	side++;
}

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
	if (!depth)
		chain(120);
	else if (bits & 1)
		left(depth - 1, bits >> 1);
	else
		right(depth - 1, bits >> 1);
	side++;
}

int main(void)
{
	for (unsigned b = 0; b < 512; b++)
		walk(9, b);
	return 0;
}
