/*
 * Allocation helpers: every allocation in leakhunt goes through these so that
 * running out of memory is one clear message instead of a NULL dereference, and
 * size arithmetic is overflow-checked (git's st_mult / ALLOC_GROW discipline).
 *
 * The x* functions die on failure: they are for the CLI and the analysis
 * library alike, because a heap-snapshot analysis that cannot get memory has
 * nothing sensible to fall back to.  The big arrays of a loader go through
 * lh_try_* instead, so the error can name the file and the size asked for
 * (test/unit/load_test.c caps the address space to prove it).
 */
#ifndef LH_BASE_ALLOC_H
#define LH_BASE_ALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

void *lh_xmalloc(size_t n);
void *lh_xcalloc(size_t nmemb, size_t size);
void *lh_xrealloc(void *p, size_t n);
char *lh_xstrdup(const char *s);
char *lh_xstrndup(const char *s, size_t n);

/* Like lh_xmalloc but returns NULL on failure: for the big arrays whose
 * failure the caller reports with the file name and the size asked for. */
void *lh_try_malloc(size_t n);
void *lh_try_calloc(size_t nmemb, size_t size);

/* Overflow-checked size arithmetic; dies with a clear message on overflow. */
size_t lh_st_add(size_t a, size_t b);
size_t lh_st_mult(size_t a, size_t b);

#define FREE_AND_NULL(p) \
	do {             \
		free(p);     \
		(p) = NULL;  \
	} while (0)

/* Grow an array so that it holds at least nr elements (git's ALLOC_GROW). */
#define ALLOC_GROW(x, nr, alloc)                                                 \
	do {                                                                     \
		if ((size_t)(nr) > (size_t)(alloc)) {                            \
			size_t lh_ag_new_ = ((size_t)(alloc) + 16) * 3 / 2;      \
			if (lh_ag_new_ < (size_t)(nr))                           \
				lh_ag_new_ = (size_t)(nr);                       \
			(x) = lh_xrealloc((x), lh_st_mult(sizeof(*(x)), lh_ag_new_)); \
			(alloc) = lh_ag_new_;                                    \
		}                                                                \
	} while (0)

#endif
