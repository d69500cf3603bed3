/*
 * A hash map from byte strings to uint32_t values, for grouping (census
 * signatures, class keys, symbol names).
 *
 * Keys are copied into one pool owned by the map; entries are numbered in the
 * order they were added (0, 1, 2, ...), which callers use as dense group ids.
 * Open addressing with linear probing over a power-of-two table of entry
 * numbers, grown at 50% load.  Not thread-safe.
 */
#ifndef LH_BASE_HASHMAP_H
#define LH_BASE_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

struct lh_hashmap_entry {
	uint64_t hash;  /* of the key bytes */
	size_t off;     /* key's offset in pool */
	size_t len;     /* key's length */
	uint32_t value; /* the caller's */
};

struct lh_hashmap {
	struct lh_hashmap_entry *entries; /* in insertion order */
	uint32_t nr, alloc;
	uint32_t *table;                  /* entry number + 1; 0 is empty */
	uint32_t mask;                    /* table size - 1 */
	struct strbuf pool;               /* the keys, back to back */
};

void lh_hashmap_init(struct lh_hashmap *m);
void lh_hashmap_release(struct lh_hashmap *m);
/*
 * The entry for key, added with value 0 if absent (then *added = 1).  The
 * pointer is valid until the next insertion.
 */
struct lh_hashmap_entry *lh_hashmap_put(struct lh_hashmap *m, const void *key, size_t len, int *added);
/* The entry for key, or NULL. */
struct lh_hashmap_entry *lh_hashmap_get(const struct lh_hashmap *m, const void *key, size_t len);
/* An entry's key bytes (not NUL-terminated when keys hold binary data). */
static inline const char *lh_hashmap_key(const struct lh_hashmap *m, const struct lh_hashmap_entry *e)
{
	return m->pool.buf + e->off;
}

uint64_t lh_hash_bytes(const void *data, size_t len);

#endif
