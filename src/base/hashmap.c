/*
 * Byte-string hash map; see hashmap.h.  The hash is FNV-1a folded 8 bytes at
 * a time with a final mix: keys here are short and this is plenty.
 */
#include "hashmap.h"

#include <string.h>

#include "alloc.h"

uint64_t lh_hash_bytes(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

void lh_hashmap_init(struct lh_hashmap *m)
{
	memset(m, 0, sizeof(*m));
	strbuf_init(&m->pool, 0);
}

void lh_hashmap_release(struct lh_hashmap *m)
{
	free(m->entries);
	free(m->table);
	strbuf_release(&m->pool);
	memset(m, 0, sizeof(*m));
	strbuf_init(&m->pool, 0);
}

static void rehash(struct lh_hashmap *m, uint32_t size)
{
	free(m->table);
	m->table = lh_xcalloc(size, sizeof(uint32_t));
	m->mask = size - 1;
	for (uint32_t i = 0; i < m->nr; i++) {
		uint32_t slot = (uint32_t)m->entries[i].hash & m->mask;

		while (m->table[slot])
			slot = (slot + 1) & m->mask;
		m->table[slot] = i + 1;
	}
}

struct lh_hashmap_entry *lh_hashmap_get(const struct lh_hashmap *m, const void *key, size_t len)
{
	uint64_t h;
	uint32_t slot;

	if (!m->table)
		return NULL;
	h = lh_hash_bytes(key, len);
	for (slot = (uint32_t)h & m->mask; m->table[slot]; slot = (slot + 1) & m->mask) {
		struct lh_hashmap_entry *e = &m->entries[m->table[slot] - 1];

		if (e->hash == h && e->len == len && !memcmp(m->pool.buf + e->off, key, len))
			return e;
	}
	return NULL;
}

struct lh_hashmap_entry *lh_hashmap_put(struct lh_hashmap *m, const void *key, size_t len, int *added)
{
	struct lh_hashmap_entry *e = lh_hashmap_get(m, key, len);
	uint32_t slot;

	if (added)
		*added = !e;
	if (e)
		return e;
	if (!m->table || (uint64_t)(m->nr + 1) * 2 > (uint64_t)m->mask + 1)
		rehash(m, m->table ? (m->mask + 1) * 2 : 64);
	ALLOC_GROW(m->entries, m->nr + 1, m->alloc);
	e = &m->entries[m->nr];
	e->hash = lh_hash_bytes(key, len);
	e->off = m->pool.len;
	e->len = len;
	e->value = 0;
	strbuf_add(&m->pool, key, len);
	for (slot = (uint32_t)e->hash & m->mask; m->table[slot]; slot = (slot + 1) & m->mask)
		;
	m->table[slot] = ++m->nr;
	return e;
}
