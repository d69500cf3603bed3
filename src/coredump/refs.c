/*
 * findrefs; see refs.h.  Two linear passes over the core: one for the
 * target, one for the backing stores among its holders (to name their
 * owners).  Both compare every aligned word, which runs at memory speed; the
 * walk back to a holder's map word happens only per hit and stops after
 * MAX_WALK bytes (V8's large-object pages hold one object, which can be
 * longer: a hit deep inside a huge array reads as "object not recognized").
 * Holders are looked for only in V8's pages (lh_v8meta's heap): malloc's
 * heap holds stale copies of heap words (V8's handle blocks), which would
 * read as objects; a hit there is native memory.
 */
#include "refs.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/sorted.h"
#include "base/strbuf.h"
#include "jsprint.h"
#include "v8obj.h"

#define MAX_WALK (16u << 20)

/* The heap object (tagged) whose body holds the word at slot, or 0. */
static uint64_t holder(const struct lh_v8meta *m, uint64_t slot)
{
	const struct lh_core_seg *s = lh_v8_heap_area(m, slot);
	const uint64_t *w;
	uint64_t k, lo;

	if (!s || (s->offset & 7) || (s->vaddr & 7))
		return 0;
	w = (const uint64_t *)(const void *)(m->core->data + s->offset);
	k = (slot - s->vaddr) / 8;
	lo = k > MAX_WALK / 8 ? k - MAX_WALK / 8 : 0;
	for (uint64_t i = k + 1; i-- > lo;) {
		uint64_t obj, size;

		if ((w[i] & m->heap_tag_mask) != m->heap_tag || !lh_v8_is_map(m, w[i]))
			continue;
		obj = s->vaddr + i * 8 + m->heap_tag;
		size = lh_v8_object_size(m, obj, w[i]);
		/* the nearest header's object ends before the slot: the slot is in something we cannot read */
		if (size && slot - (obj - m->heap_tag) >= size)
			return 0;
		return obj;
	}
	return 0;
}

/* The name of in-object or property-array field index idx of a fast-mode map, or -1. */
static int field_name(const struct lh_v8meta *m, uint64_t map, uint32_t idx, struct strbuf *sb)
{
	uint64_t descs = lh_v8_word(m, map, m->o_map_descriptors);
	uint32_t nown = lh_v8_map_own_descriptors(m, map);

	for (uint32_t i = 0; i < nown; i++) {
		uint64_t d = (uint64_t)lh_v8_descriptor_details(m, descs, i);

		if (((d & m->pd_location_mask) >> m->pd_location_shift) != m->pd_location_field ||
		    ((d & m->pd_index_mask) >> m->pd_index_shift) != idx)
			continue;
		strbuf_addch(sb, '.');
		return lh_v8_descriptor_key(m, descs, i, sb);
	}
	return -1;
}

static uint32_t inobject_count(const struct lh_v8meta *m, uint64_t map)
{
	uint32_t size = lh_v8_byte(m, map, m->o_map_size_words), start = lh_v8_byte(m, map, m->o_map_inobject_start);

	return size > start ? size - start : 0;
}

/* A context slot: "context NAME" from the context's ScopeInfo, when it has inline local names. */
static int context_slot_name(const struct lh_v8meta *m, uint64_t ctx, uint64_t idx, struct strbuf *sb)
{
	uint64_t si = lh_v8_fixed_get(m, ctx, m->context_scope_info), name;
	int64_t nlocals;
	uint32_t t;

	if (idx < m->context_min_slots || !lh_v8_obj_type(m, si, &t) || t != m->t_scope_info)
		return -1;
	nlocals = lh_v8_smi(lh_v8_word(m, si, m->scope_info_nlocals_slot * 8));
	if (nlocals <= 0 || idx - m->context_min_slots >= (uint64_t)nlocals || nlocals > 100000)
		return -1;
	name = lh_v8_word(m, si, m->o_scope_info_locals + (uint32_t)(idx - m->context_min_slots) * 8);
	if (!lh_v8_is_name(m, name))
		return -1;
	strbuf_addstr(sb, "context ");
	lh_v8_name(m, name, sb, 200);
	return 0;
}

/* Name the slot at byte offset off of heap object obj. */
static void slot_name(const struct lh_v8meta *m, uint64_t obj, uint64_t off, struct strbuf *sb)
{
	uint64_t map = lh_v8_word(m, obj, 0);
	uint32_t t = lh_v8_map_type(m, map);
	size_t len = sb->len;

	if (!off) {
		strbuf_addstr(sb, "map");
		return;
	}
	if (t >= m->t_first_js_object) {
		uint32_t start = lh_v8_byte(m, map, m->o_map_inobject_start);

		if (off == m->o_properties)
			strbuf_addstr(sb, "properties");
		else if (off == m->o_elements)
			strbuf_addstr(sb, "elements");
		else if (t == m->t_js_array && off == m->o_js_array_length)
			strbuf_addstr(sb, "length");
		else if (t >= m->t_js_function && t <= m->t_js_function_last && off == m->o_fn_context)
			strbuf_addstr(sb, "context");
		else if (t >= m->t_js_function && t <= m->t_js_function_last && off == m->o_fn_shared)
			strbuf_addstr(sb, "shared");
		else if (off / 8 >= start && !lh_v8_map_is_dictionary(m, map) &&
			 !field_name(m, map, (uint32_t)(off / 8 - start), sb))
			return;
		else
			goto raw;
		return;
	}
	if ((lh_v8_type_is_slots(m, t)) && off >= m->o_fixed_data) {
		uint64_t idx = (off - m->o_fixed_data) / 8;

		if (t >= m->t_first_context && t <= m->t_last_context && !context_slot_name(m, obj, idx, sb))
			return;
		strbuf_setlen(sb, len);
		strbuf_addf(sb, "[%llu]", (unsigned long long)idx);
		return;
	}
	if (t == m->t_map && (off == m->o_map_prototype || off == m->o_map_ctor || off == m->o_map_descriptors)) {
		strbuf_addstr(sb, off == m->o_map_prototype ? "prototype" : off == m->o_map_ctor ?
				  "constructor_or_back_pointer" : "descriptors");
		return;
	}
	if (t == m->t_property_array && off >= 16) {
		strbuf_addf(sb, "[%llu]", (unsigned long long)(off - 16) / 8);
		return;
	}
raw:
	strbuf_setlen(sb, len);
	strbuf_addf(sb, "+0x%llx", (unsigned long long)off);
}

/*
 * The slot of store (the properties or elements backing store of JS object
 * owner, at owner's byte offset store_off) at store's byte offset off, as
 * seen from owner: "[i]" for elements, ".name" for properties.
 */
static void owner_slot_name(const struct lh_v8meta *m, uint64_t owner, uint64_t store_off, uint64_t store,
			    uint64_t off, struct strbuf *sb)
{
	uint64_t map = lh_v8_word(m, owner, 0);
	uint32_t t = 0;
	size_t len = sb->len;

	lh_v8_obj_type(m, store, &t);
	if (store_off == m->o_elements && off >= m->o_fixed_data) {
		strbuf_addf(sb, "[%llu]", (unsigned long long)(off - m->o_fixed_data) / 8);
		return;
	}
	if (store_off == m->o_properties && t == m->t_property_array && off >= 16 &&
	    !field_name(m, map, inobject_count(m, map) + (uint32_t)((off - 16) / 8), sb))
		return;
	strbuf_setlen(sb, len);
	if (store_off == m->o_properties && lh_v8_map_is_dictionary(m, map) && off >= m->o_fixed_data) {
		uint64_t idx = (off - m->o_fixed_data) / 8, first = m->nd_prefix_start + m->nd_prefix_size;

		if (idx >= first && (idx - first) % m->nd_entry_size == 1) {
			uint64_t key = lh_v8_fixed_get(m, store, idx - 1);

			if (lh_v8_is_name(m, key)) {
				strbuf_addch(sb, '.');
				lh_v8_name(m, key, sb, 200);
				return;
			}
		}
	}
	strbuf_addf(sb, "%s+0x%llx", store_off == m->o_elements ? "elements" : "properties", (unsigned long long)off);
}

static int is_store(const struct lh_v8meta *m, uint64_t obj)
{
	uint32_t t;

	return lh_v8_obj_type(m, obj, &t) && ((t >= m->t_fixed_array && t <= m->t_fixed_array_last) ||
					       t == m->t_property_array);
}

/* Fill in the owners of the holders that are backing stores: one pass over the core for all of them. */
static void find_owners(struct lh_core_refs *r, const struct lh_v8meta *m)
{
	uint64_t *stores = lh_xcalloc(r->nr ? r->nr : 1, sizeof(*stores));
	uint32_t n = 0, found = 0;
	struct strbuf sb = STRBUF_INIT;

	for (uint32_t i = 0; i < r->nr; i++)
		if (r->refs[i].from && is_store(m, r->refs[i].from))
			stores[n++] = r->refs[i].from;
	if (!n)
		goto out;
	qsort(stores, n, sizeof(*stores), lh_cmp_u64);
	for (uint32_t si = 0; si < m->core->nsegs && found < n; si++) {
		const struct lh_core_seg *s = &m->core->segs[si];
		const uint64_t *w = (const uint64_t *)(const void *)(m->core->data + s->offset);

		if (!s->filesz || (s->offset & 7) || !(s->flags & 2))
			continue;
		for (uint64_t k = 0; k < s->filesz / 8; k++) {
			uint64_t slot, owner, off;
			uint32_t t;

			if ((w[k] & m->heap_tag_mask) != m->heap_tag || w[k] < stores[0] || w[k] > stores[n - 1] ||
			    !bsearch(&w[k], stores, n, sizeof(*stores), lh_cmp_u64))
				continue;
			slot = s->vaddr + k * 8;
			owner = holder(m, slot);
			if (!owner || !lh_v8_obj_type(m, owner, &t) || t < m->t_first_js_object)
				continue;
			off = slot - (owner - m->heap_tag);
			if (off != m->o_elements && off != m->o_properties)
				continue;
			for (uint32_t i = 0; i < r->nr; i++) {
				struct lh_core_ref *ref = &r->refs[i];

				if (ref->from != w[k] || ref->owner)
					continue;
				ref->owner = owner;
				lh_jsprint_value(m, owner, &sb);
				ref->owner_label = strbuf_detach(&sb, NULL);
				owner_slot_name(m, owner, off, ref->from, ref->slot - (ref->from - m->heap_tag), &sb);
				ref->owner_edge = strbuf_detach(&sb, NULL);
				found++;
			}
		}
	}
out:
	strbuf_release(&sb);
	free(stores);
}

static const char *native_kind(const struct lh_core *c, uint64_t addr)
{
	for (uint32_t i = 0; i < c->nfiles; i++)
		if (addr >= c->files[i].start && addr < c->files[i].end)
			return c->files[i].path;
	return NULL;
}

int lh_core_refs_find(struct lh_core_refs *r, const struct lh_v8meta *m, uint64_t target, uint32_t max)
{
	struct strbuf sb = STRBUF_INIT;
	uint32_t t;

	memset(r, 0, sizeof(*r));
	r->target = target;
	if (!lh_v8_obj_type(m, target, &t))
		return lh_error("0x%llx is not a heap object in core '%s'; give an address from 'leakhunt objects' "
				"(a tagged pointer, ending in 1, 9 ...)", (unsigned long long)target, m->core->path);
	for (uint32_t si = 0; si < m->core->nsegs; si++) {
		const struct lh_core_seg *s = &m->core->segs[si];
		const uint64_t *w = (const uint64_t *)(const void *)(m->core->data + s->offset);

		if (!s->filesz || (s->offset & 7))
			continue;
		for (uint64_t k = 0; k < s->filesz / 8; k++) {
			struct lh_core_ref *ref;
			const char *file;

			if (w[k] != target)
				continue;
			if (r->total++ >= max)
				continue;
			ALLOC_GROW(r->refs, r->nr + 1, r->alloc);
			ref = &r->refs[r->nr++];
			memset(ref, 0, sizeof(*ref));
			ref->slot = s->vaddr + k * 8;
			ref->from = holder(m, ref->slot);
			if (ref->from) {
				lh_jsprint_value(m, ref->from, &sb);
				ref->from_label = strbuf_detach(&sb, NULL);
				slot_name(m, ref->from, ref->slot - (ref->from - m->heap_tag), &sb);
				ref->edge = strbuf_detach(&sb, NULL);
				continue;
			}
			file = native_kind(m->core, ref->slot);
			strbuf_addf(&sb, "(native memory%s%s)", file ? ": " : "", file ? file : "");
			ref->from_label = strbuf_detach(&sb, NULL);
			strbuf_addf(&sb, "0x%llx", (unsigned long long)ref->slot);
			ref->edge = strbuf_detach(&sb, NULL);
		}
	}
	find_owners(r, m);
	strbuf_release(&sb);
	return 0;
}

void lh_core_refs_release(struct lh_core_refs *r)
{
	for (uint32_t i = 0; i < r->nr; i++) {
		free(r->refs[i].from_label);
		free(r->refs[i].edge);
		free(r->refs[i].owner_label);
		free(r->refs[i].owner_edge);
	}
	free(r->refs);
	memset(r, 0, sizeof(*r));
}
