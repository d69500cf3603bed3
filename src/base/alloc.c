/*
 * The x* allocators: die with one clear message when memory runs out, and
 * check size arithmetic for overflow.  See alloc.h.
 */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

static void oom(size_t n)
{
	lh_die("out of memory asking for %zu bytes; try a machine with more memory", n);
}

void *lh_try_malloc(size_t n)
{
	return malloc(n ? n : 1);
}

void *lh_try_calloc(size_t nmemb, size_t size)
{
	if (!nmemb || !size)
		return calloc(1, 1);
	return calloc(nmemb, size);
}

void *lh_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *lh_xcalloc(size_t nmemb, size_t size)
{
	void *p = lh_try_calloc(nmemb, size);

	if (!p)
		oom(lh_st_mult(nmemb, size));
	return p;
}

void *lh_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *lh_xstrdup(const char *s)
{
	return lh_xstrndup(s, strlen(s));
}

char *lh_xstrndup(const char *s, size_t n)
{
	char *p = lh_xmalloc(lh_st_add(n, 1));

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

size_t lh_st_add(size_t a, size_t b)
{
	if (a > SIZE_MAX - b)
		lh_die("size overflow: %zu + %zu", a, b);
	return a + b;
}

size_t lh_st_mult(size_t a, size_t b)
{
	if (b && a > SIZE_MAX / b)
		lh_die("size overflow: %zu * %zu", a, b);
	return a * b;
}
