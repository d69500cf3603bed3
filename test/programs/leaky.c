/*
 * A program with exactly known heap behaviour for `leakhunt record` tests
 * (no stdio: it would allocate its buffer).  Leaks 1000x1000 B, 37x4096 B,
 * one malloc(100)->realloc(5000)->realloc(12345) and 10x calloc(7, 11):
 * 1,164,667 B in 1048 blocks.  Then 1000 temporaries of 64 B and a hump of
 * 64 x 100,000 B freed oldest first.  Allocation calls: 2114; temporary:
 * 1002 (the 1000, plus the two blocks realloc moved away from); peak:
 * 1,164,667 + 6,400,000 = 7,564,667 B.
 */
#include <stdlib.h>

static void *volatile sink;

__attribute__((noinline)) static void leak_small(void)
{
	for (int i = 0; i < 1000; i++)
		sink = malloc(1000);
}

__attribute__((noinline)) static void leak_page(void)
{
	for (int i = 0; i < 37; i++)
		sink = malloc(4096);
}

__attribute__((noinline)) static void leak_realloc(void)
{
	void *p = malloc(100);

	p = realloc(p, 5000);
	p = realloc(p, 12345);
	sink = p;
}

__attribute__((noinline)) static void leak_calloc(void)
{
	for (int i = 0; i < 10; i++)
		sink = calloc(7, 11);
}

__attribute__((noinline)) static void temporaries(void)
{
	for (int i = 0; i < 1000; i++) {
		void *p = malloc(64);

		sink = p;
		free(p);
	}
}

__attribute__((noinline)) static void hump(void)
{
	void *blocks[64];

	for (int i = 0; i < 64; i++)
		blocks[i] = malloc(100000);
	for (int i = 0; i < 64; i++)
		free(blocks[i]);
}

int main(void)
{
	leak_small();
	leak_page();
	leak_realloc();
	leak_calloc();
	temporaries();
	hump();
	return 0;
}
