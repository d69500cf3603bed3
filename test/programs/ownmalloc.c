/*
 * A program with an allocator of its own: malloc, free, calloc and realloc
 * defined in the executable (a bump allocator over a static arena), as a
 * program with jemalloc or mimalloc linked in statically has them.  They come
 * before the preload's in the symbol lookup order, so nothing reaches
 * leakhunt's hooks; record must say so instead of a silent empty trace.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static char arena[1 << 22];
static size_t used;

void *malloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (used + n > sizeof(arena))
		return NULL;
	p = arena + used;
	used += n;
	return p;
}

void free(void *p)
{
	(void)p;
}

void *calloc(size_t a, size_t b)
{
	void *p = b && a > (size_t)-1 / b ? NULL : malloc(a * b);

	if (p)
		memset(p, 0, a * b);
	return p;
}

void *realloc(void *p, size_t n)
{
	void *q = malloc(n);

	if (q && p)
		memcpy(q, p, n); /* may read past the old block: within the arena, and this test never reallocs */
	return q;
}

int main(void)
{
	for (int i = 0; i < 1000; i++) {
		char *s = malloc(100);

		snprintf(s, 100, "%d", i);
		free(s);
	}
	puts("ownmalloc done");
	return 0;
}
