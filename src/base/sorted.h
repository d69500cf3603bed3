/*
 * Lookups in arrays of structs sorted by a uint64_t field: the address
 * tables of the symbolizer and the reader's ranges of given-up numbers;
 * and the order of plain uint64_t arrays.
 */
#ifndef LH_BASE_SORTED_H
#define LH_BASE_SORTED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* qsort and bsearch order of uint64_t values. */
static inline int lh_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* How many of the n elements of size bytes at base, sorted by the uint64_t
 * at byte offset off of each, have that field at or below key (so the
 * index of the first one above it). */
static inline size_t lh_sorted_count_le(const void *base, size_t n, size_t size, size_t off, uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t v;

		memcpy(&v, (const char *)base + mid * size + off, sizeof(v));
		if (v <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#endif
