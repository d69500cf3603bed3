/*
 * The core census; see census.h.  Speed: a first pass collects every map of
 * the core (each word equal to the meta map is a map's header: a compare
 * per word, at memory speed) into a hash set small enough for the CPU cache,
 * so the main pass asks "is this word a map pointer?" of that set instead
 * of reading the memory each pointer points at, which would be a cache miss
 * per pointer.  Maps are classified once each, when an object first uses
 * them: a JS object map or not, its instance size, and for fast-mode maps
 * the group its objects join.  Dictionary-mode objects carry their property
 * names in their own NameDictionary, so they are grouped one by one.
 *
 * A signature is the constructor name and the property names, NUL-separated,
 * used as the group's hash key; names are decoded from V8 strings once per
 * map.  Every read of the core goes through lh_core_ptr, which says NULL for
 * addresses the core does not hold: a damaged object is skipped, never
 * followed.
 */
#include "census.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/strbuf.h"
#include "v8obj.h"

/* One map of the core, classified when first used. */
struct mapinfo {
	uint64_t addr;       /* tagged map pointer, 0 for an empty cache slot */
	int32_t group;       /* group of its objects; -1 not a JS object map; -2 dictionary map; -3 not yet classified */
	uint32_t size;       /* instance size in bytes */
	uint32_t type;       /* instance type, read when the map is collected */
};

struct mapcache {
	struct mapinfo *slots;
	uint32_t mask, nr;
	uint64_t *filter;    /* FILTER_BITS bits, one set per map by hash: "surely not a map" in 128 KB */
};

/*
 * Most tagged words are pointers to other objects, not maps; the filter
 * rejects ~98% of them from L2 before the slots (1-2 MB for a heap's tens
 * of thousands of maps) are probed.
 */
#define FILTER_SHIFT 20
#define FILTER_BITS (1u << FILTER_SHIFT)

static inline uint32_t filter_bit(uint64_t addr)
{
	return (uint32_t)((addr * 0x9E3779B97F4A7C15ull) >> (64 - FILTER_SHIFT));
}

static inline int filter_has(const struct mapcache *mc, uint64_t addr)
{
	uint32_t b = filter_bit(addr);

	return (mc->filter[b >> 6] >> (b & 63)) & 1;
}

static struct mapinfo *cache_slot(struct mapcache *mc, uint64_t addr)
{
	uint64_t h = addr * 0x9E3779B97F4A7C15ull;

	for (uint32_t i = (uint32_t)(h >> 32) & mc->mask;; i = (i + 1) & mc->mask)
		if (mc->slots[i].addr == addr || !mc->slots[i].addr)
			return &mc->slots[i];
}

static struct mapinfo *cache_add(struct mapcache *mc, uint64_t addr)
{
	struct mapinfo *s;

	if ((mc->nr + 1) * 2 > mc->mask + 1) {
		struct mapcache bigger = { lh_xcalloc((size_t)(mc->mask + 1) * 2, sizeof(struct mapinfo)),
					   mc->mask * 2 + 1, mc->nr, mc->filter };

		for (uint32_t i = 0; i <= mc->mask; i++)
			if (mc->slots[i].addr)
				*cache_slot(&bigger, mc->slots[i].addr) = mc->slots[i];
		free(mc->slots);
		*mc = bigger;
	}
	s = cache_slot(mc, addr);
	s->addr = addr;
	mc->nr++;
	return s;
}

static int group_for(struct lh_core_census *c, const struct strbuf *sig, uint32_t nprops, uint64_t rep)
{
	int added;
	struct lh_hashmap_entry *e = lh_hashmap_put(&c->sigs, sig->buf, sig->len, &added);

	if (added) {
		ALLOC_GROW(c->groups, c->nr + 1, c->alloc);
		e->value = c->nr;
		memset(&c->groups[c->nr], 0, sizeof(c->groups[c->nr]));
		c->groups[c->nr].nprops = nprops;
		c->groups[c->nr].representative = rep;
		c->nr++;
	}
	return (int)e->value;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The signature of a dictionary-mode object: its NameDictionary's keys,
 * sorted by name (the dictionary's own order is its hash order, which
 * differs between objects with the same keys).
 */
static uint32_t dict_signature(const struct lh_v8meta *m, uint64_t obj, struct strbuf *sig, struct strbuf *tmp)
{
	uint64_t dict = lh_v8_word(m, obj, m->o_properties), len;
	uint32_t n = 0, cap;
	char **names = NULL;
	size_t alloc = 0;
	uint32_t entries_start = m->nd_prefix_start + m->nd_prefix_size;

	if (!lh_v8_is_heap_object(m, dict) || !lh_v8_is_fixed_array(m, dict))
		return 0;
	len = lh_v8_fixed_length(m, dict);
	cap = (uint32_t)lh_v8_smi(lh_v8_fixed_get(m, dict, 2)); /* HashTable's capacity slot */
	if (cap > len || (uint64_t)entries_start + (uint64_t)cap * m->nd_entry_size > len)
		return 0;
	for (uint32_t i = 0; i < cap && i < 100000; i++) {
		uint64_t key = lh_v8_fixed_get(m, dict, entries_start + i * m->nd_entry_size);

		if (!lh_v8_is_name(m, key))
			continue; /* undefined: empty slot; the hole: deleted */
		strbuf_reset(tmp);
		lh_v8_name(m, key, tmp, 200);
		ALLOC_GROW(names, n + 1, alloc);
		names[n++] = strbuf_detach(tmp, NULL);
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (uint32_t i = 0; i < n; i++) {
		strbuf_add(sig, names[i], strlen(names[i]) + 1);
		free(names[i]);
	}
	free(names);
	return n;
}

/* Classify the map w points at (w is known to be tagged and not yet cached). */
static void classify(struct lh_core_census *c, const struct lh_v8meta *m, struct mapinfo *mi,
		     struct strbuf *sig, struct strbuf *tmp)
{
	uint32_t type, nown;
	uint64_t descs;

	mi->group = -1;
	if (!lh_v8_is_map(m, mi->addr))
		return;
	type = lh_v8_map_type(m, mi->addr);
	if (type < m->t_first_js_object || (type >= m->t_js_function && type <= m->t_js_function_last))
		return;
	mi->size = lh_v8_byte(m, mi->addr, m->o_map_size_words) * 8;
	if (mi->size < 24)
		return;
	if (lh_v8_map_is_dictionary(m, mi->addr)) {
		mi->group = -2;
		return;
	}
	strbuf_reset(sig);
	lh_v8_constructor_name(m, mi->addr, sig);
	strbuf_addch(sig, 0);
	nown = lh_v8_map_own_descriptors(m, mi->addr);
	descs = lh_v8_word(m, mi->addr, m->o_map_descriptors);
	for (uint32_t i = 0; i < nown; i++) {
		strbuf_reset(tmp);
		if (lh_v8_descriptor_key(m, descs, i, tmp))
			strbuf_addstr(tmp, "<unreadable>");
		strbuf_add(sig, tmp->buf, tmp->len + 1);
	}
	mi->group = group_for(c, sig, nown, 0);
}

/*
 * lh_v8_obj_type through the map set: one read of the core (v's map word)
 * instead of three (the map's map, its type).  Every map is in the set.
 */
static int obj_type(const struct lh_v8meta *m, const struct mapcache *mc, uint64_t v, uint32_t *type)
{
	const uint64_t *p;
	const struct mapinfo *mi;

	if ((v & m->heap_tag_mask) != m->heap_tag || !(p = lh_core_ptr(m->core, v - m->heap_tag, 8)))
		return 0;
	mi = cache_slot((struct mapcache *)mc, *p);
	if (!mi->addr)
		return 0;
	*type = mi->type;
	return 1;
}

/* What V8 keeps in a JS object's properties slot: a Smi (hash) or a backing store. */
static int sane_properties(const struct lh_v8meta *m, const struct mapcache *mc, uint64_t v)
{
	uint32_t t;

	if (lh_v8_is_smi(v))
		return 1;
	if (!obj_type(m, mc, v, &t))
		return 0;
	return (t >= m->t_fixed_array && t <= m->t_fixed_array_last) || t == m->t_property_array ||
	       t == m->t_swiss_dict;
}

static int sane_elements(const struct lh_v8meta *m, const struct mapcache *mc, uint64_t v)
{
	uint32_t t;

	if (!obj_type(m, mc, v, &t))
		return 0;
	/* FixedArray, FixedDoubleArray, NumberDictionary and the other FixedArrayBase kinds, ByteArray
	 * (typed arrays): all instance types between FIXED_ARRAY_TYPE and the first non-array ones */
	return t >= m->t_fixed_array && t < m->t_property_array;
}

static int is_file_backed(const struct lh_core *core, const struct lh_core_seg *s)
{
	for (uint32_t i = 0; i < core->nfiles; i++)
		if (core->files[i].start < s->vaddr + s->memsz && core->files[i].end > s->vaddr)
			return 1;
	return 0;
}

struct visitor {
	lh_core_census_fn *fn;
	void *data;
};

static void scan_segment(struct lh_core_census *c, const struct lh_v8meta *m, const struct lh_core_seg *s,
			 struct mapcache *mc, struct strbuf *sig, struct strbuf *tmp, const struct visitor *v)
{
	const uint64_t *w = (const uint64_t *)(const void *)(m->core->data + s->offset);
	uint64_t n = s->filesz / 8;

	for (uint64_t k = 0; k + 2 < n; k++) {
		struct mapinfo *mi;
		uint64_t obj, words;
		int32_t g;

		if ((w[k] & m->heap_tag_mask) != m->heap_tag || !filter_has(mc, w[k]))
			continue;
		mi = cache_slot(mc, w[k]);
		if (!mi->addr)
			continue; /* not a map */
		if (mi->group == -3)
			classify(c, m, mi, sig, tmp);
		if (mi->group == -1)
			continue;
		if (!sane_properties(m, mc, w[k + 1]) || !sane_elements(m, mc, w[k + 2]))
			continue;
		obj = s->vaddr + k * 8 + m->heap_tag;
		g = mi->group;
		if (g == -2) {
			uint32_t np;

			strbuf_reset(sig);
			lh_v8_constructor_name(m, w[k], sig);
			strbuf_addch(sig, 0);
			np = dict_signature(m, obj, sig, tmp);
			g = group_for(c, sig, np, obj);
		}
		if (!c->groups[g].representative)
			c->groups[g].representative = obj;
		c->groups[g].count++;
		c->groups[g].shallow_size += mi->size;
		c->objects++;
		if (v->fn)
			v->fn(c, obj, (uint32_t)g, mi->size, v->data);
		words = mi->size / 8;
		if (words > 1)
			k += (words < n - k ? words : n - k) - 1;
	}
	c->scanned_bytes += s->filesz;
}

/* Every map of the core into mc, unclassified: the objects whose map word is the meta map. */
static void collect_maps(const struct lh_v8meta *m, struct mapcache *mc)
{
	for (uint32_t i = 0; i < m->nheap; i++) {
		const struct lh_core_seg *s = &m->heap[i];
		const uint64_t *w = (const uint64_t *)(const void *)(m->core->data + s->offset);
		uint64_t n = s->filesz / 8, meta = m->meta_map;

		if (!s->filesz || (s->offset & 7) || (s->vaddr & 7))
			continue;
		for (uint64_t k = 0; k < n; k++) {
			uint64_t addr;
			struct mapinfo *mi;
			uint16_t u16 = 0;

			if (w[k] != meta)
				continue;
			addr = s->vaddr + k * 8 + m->heap_tag;
			mi = cache_slot(mc, addr);
			if (mi->addr)
				continue;
			mi = cache_add(mc, addr);
			mi->group = -3;
			mc->filter[filter_bit(addr) >> 6] |= 1ull << (filter_bit(addr) & 63);
			if ((k + 1) * 8 + m->o_map_type <= s->filesz)
				memcpy(&u16, (const char *)&w[k] + m->o_map_type, 2);
			mi->type = u16;
		}
	}
}

static int cmp_group(const void *a, const void *b)
{
	const struct lh_core_census_group *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->shallow_size != y->shallow_size)
		return x->shallow_size > y->shallow_size ? -1 : 1;
	return x->representative < y->representative ? -1 : x->representative > y->representative;
}

const char *lh_core_census_key_ctor(const struct lh_core_census *c, uint32_t key)
{
	return lh_hashmap_key(&c->sigs, &c->sigs.entries[key]);
}

int lh_core_census_compute(struct lh_core_census *c, const struct lh_v8meta *m)
{
	return lh_core_census_visit(c, m, NULL, NULL);
}

int lh_core_census_visit(struct lh_core_census *c, const struct lh_v8meta *m, lh_core_census_fn *fn, void *data)
{
	const struct visitor v = { fn, data };
	struct mapcache mc = { lh_xcalloc(4096, sizeof(struct mapinfo)), 4095, 0,
			       lh_xcalloc(FILTER_BITS / 64, sizeof(uint64_t)) };
	struct strbuf sig = STRBUF_INIT, tmp = STRBUF_INIT;
	uint32_t keep = 0;
	size_t nptr = 0;

	memset(c, 0, sizeof(*c));
	lh_hashmap_init(&c->sigs);
	collect_maps(m, &mc);
	for (uint32_t i = 0; i < m->nheap; i++) {
		const struct lh_core_seg *s = &m->heap[i];

		/* V8's pages are writable anonymous memory; file-backed data is never heap */
		if (!s->filesz || !(s->flags & 2) || (s->offset & 7) || is_file_backed(m->core, s))
			continue;
		scan_segment(c, m, s, &mc, &sig, &tmp, &v);
	}
	/* drop groups of maps that no object used; then name each group's properties from its key */
	for (uint32_t i = 0; i < c->nr; i++)
		nptr += c->groups[i].count ? c->groups[i].nprops : 0;
	c->prop_ptrs = lh_xcalloc(nptr ? nptr : 1, sizeof(*c->prop_ptrs));
	nptr = 0;
	for (uint32_t i = 0; i < c->nr; i++) {
		struct lh_core_census_group g = c->groups[i];
		const char *key = lh_hashmap_key(&c->sigs, &c->sigs.entries[i]);

		if (!g.count)
			continue;
		g.ctor = key;
		g.key = i;
		g.props = c->prop_ptrs + nptr;
		key += strlen(key) + 1;
		for (uint32_t k = 0; k < g.nprops; k++) {
			c->prop_ptrs[nptr++] = key;
			key += strlen(key) + 1;
		}
		c->groups[keep++] = g;
	}
	c->nr = keep;
	if (c->nr)
		qsort(c->groups, c->nr, sizeof(*c->groups), cmp_group);
	free(mc.slots);
	free(mc.filter);
	strbuf_release(&sig);
	strbuf_release(&tmp);
	return 0;
}

void lh_core_census_release(struct lh_core_census *c)
{
	free(c->groups);
	free(c->prop_ptrs);
	lh_hashmap_release(&c->sigs);
	memset(c, 0, sizeof(*c));
}
