/*
 * WeakMap ephemeron edges.  V8 writes a WeakMap value as retained by two
 * internal edges, one from the key and one from the WeakMap's table, both
 * named "<n> / part of key (K @k) -> value (V @v) pair in WeakMap (table @t)"
 * with only <n> differing.  DevTools recognises them with the regular
 * expression
 *
 *   ^\d+(?<duplicatedPart> \/ part of key \(.*? @\d+\) -> value \(.*? @\d+\)
 *      pair in WeakMap \(table @(?<tableId>\d+)\))$
 *
 * and uses the shared part (to pair the two edges when computing distances)
 * and the table id (to drop the table's edge from the dominator graph).
 *
 * We match the same language by hand instead of with a regex engine: "."
 * excludes JS line terminators, "\d" is ASCII digits.  Each string index is
 * parsed once; equal shared parts get one pair number through a small hash
 * table, so callers compare numbers, never strings.
 */
#include "analysis.h"

#include <string.h>

#include "base/alloc.h"

static const char key_part[] = " / part of key (";
static const char value_part[] = ") -> value (";
static const char table_part[] = ") pair in WeakMap (table @";

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* JS's "." does not match \n, \r, U+2028 or U+2029. */
static int has_line_terminator(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' || p[i] == '\r')
			return 1;
		if ((unsigned char)p[i] == 0xe2 && i + 2 < len && (unsigned char)p[i + 1] == 0x80 &&
		    ((unsigned char)p[i + 2] == 0xa8 || (unsigned char)p[i + 2] == 0xa9))
			return 1;
	}
	return 0;
}

/* Does [p, p + len) hold " @" digits ") -> value (" anywhere? */
static int has_key_end(const char *p, size_t len)
{
	size_t vlen = sizeof(value_part) - 1;

	for (size_t i = 0; i + 2 < len; i++) {
		size_t j;

		if (p[i] != ' ' || p[i + 1] != '@' || !is_digit(p[i + 2]))
			continue;
		for (j = i + 2; j < len && is_digit(p[j]); j++)
			;
		if (len - j >= vlen && !memcmp(p + j, value_part, vlen))
			return 1;
	}
	return 0;
}

/*
 * Match name against DevTools' pattern.  On success set *shared to the offset
 * of the duplicated part and *table to the table id (saturated, as JS's
 * parseInt would be inexact there anyway).
 */
static int match(const char *name, size_t len, uint32_t *shared, uint64_t *table)
{
	size_t i = 0, end, mid_begin, mid_end, klen = sizeof(key_part) - 1;
	size_t tlen = sizeof(table_part) - 1;
	uint64_t id = 0;

	while (i < len && is_digit(name[i]))
		i++;
	if (i == 0 || len - i < klen || memcmp(name + i, key_part, klen))
		return 0;
	if (has_line_terminator(name, len))
		return 0;
	mid_begin = i + klen;
	/* the tail: table_part digits ")" */
	if (name[len - 1] != ')')
		return 0;
	end = len - 1;
	while (end > mid_begin && is_digit(name[end - 1]))
		end--;
	if (end == len - 1 || end - mid_begin < tlen || memcmp(name + end - tlen, table_part, tlen))
		return 0;
	for (size_t k = end; k < len - 1; k++)
		id = id > (UINT64_MAX - 9) / 10 ? UINT64_MAX : id * 10 + (uint64_t)(name[k] - '0');
	mid_end = end - tlen;
	/* the value's " @" digits just before the tail */
	end = mid_end;
	while (end > mid_begin && is_digit(name[end - 1]))
		end--;
	if (end == mid_end || end - mid_begin < 2 || name[end - 1] != '@' || name[end - 2] != ' ')
		return 0;
	if (!has_key_end(name + mid_begin, end - 2 - mid_begin))
		return 0;
	*shared = (uint32_t)i;
	*table = id;
	return 1;
}

static uint32_t hash_bytes(const char *p)
{
	uint32_t h = 2166136261u;

	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static const char *pair_text(const struct lh_ephemerons *e, const struct lh_snapshot *s, uint32_t pair)
{
	return lh_snapshot_str(s, e->pair_str[pair]) + e->pair_off[pair];
}

static void grow_hash(struct lh_ephemerons *e, const struct lh_snapshot *s)
{
	uint32_t size = e->hash_size ? e->hash_size * 2 : 1024;

	free(e->hash);
	e->hash = lh_xcalloc(size, sizeof(uint32_t));
	e->hash_size = size;
	for (uint32_t p = 0; p < e->pair_count; p++) {
		uint32_t h = hash_bytes(pair_text(e, s, p)) & (size - 1);

		while (e->hash[h])
			h = (h + 1) & (size - 1);
		e->hash[h] = p + 1;
	}
}

int64_t lh_ephemerons_pair(struct lh_ephemerons *e, const struct lh_snapshot *s, uint32_t str)
{
	const char *name;
	uint32_t shared, h;
	uint64_t table;

	if (str >= s->string_count)
		return -1;
	if (!e->state)
		e->state = lh_xcalloc(s->string_count ? s->string_count : 1, sizeof(uint32_t));
	if (e->state[str])
		return e->state[str] == 1 ? -1 : (int64_t)e->state[str] - 2;
	name = lh_snapshot_str(s, str);
	if (!match(name, s->string_off[str + 1] - s->string_off[str] - 1, &shared, &table)) {
		e->state[str] = 1;
		return -1;
	}
	if ((uint64_t)(e->pair_count + 1) * 2 > e->hash_size)
		grow_hash(e, s);
	h = hash_bytes(name + shared) & (e->hash_size - 1);
	while (e->hash[h]) {
		uint32_t p = e->hash[h] - 1;

		if (!strcmp(pair_text(e, s, p), name + shared)) {
			e->state[str] = p + 2;
			return p;
		}
		h = (h + 1) & (e->hash_size - 1);
	}
	ALLOC_GROW(e->table_id, e->pair_count + 1, e->pair_alloc);
	e->pair_str = lh_xrealloc(e->pair_str, lh_st_mult(e->pair_alloc, sizeof(uint32_t)));
	e->pair_off = lh_xrealloc(e->pair_off, lh_st_mult(e->pair_alloc, sizeof(uint32_t)));
	e->table_id[e->pair_count] = table;
	e->pair_str[e->pair_count] = str;
	e->pair_off[e->pair_count] = shared;
	e->hash[h] = e->pair_count + 1;
	e->state[str] = e->pair_count + 2;
	return e->pair_count++;
}

void lh_ephemerons_release(struct lh_ephemerons *e)
{
	free(e->state);
	free(e->table_id);
	free(e->pair_str);
	free(e->pair_off);
	free(e->hash);
	memset(e, 0, sizeof(*e));
}

void lh_ephemerons_parse_all(struct lh_ephemerons *e, const struct lh_snapshot *s)
{
	for (uint32_t i = 0; i < s->string_count; i++)
		lh_ephemerons_pair(e, s, i);
}
