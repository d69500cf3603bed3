/*
 * jsprint; see jsprint.h.  A field's place comes from its property details:
 * location "field" with field index i lives in the object at
 * (inobject_start + i) words when i is below the in-object count, else in
 * the properties array at i - inobject count; location "descriptor" keeps
 * the value (a constant) in the descriptor itself.
 */
#include "jsprint.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/strbuf.h"
#include "base/table.h"
#include "v8obj.h"

/*
 * A number as JavaScript prints it (Number.prototype.toString; -0 as
 * console.log shows it): NaN, Infinity, the shortest digits that read back
 * the same, written out from 1e-6 to below 1e21 and with an exponent
 * outside, 1e-7 and 1.5e+21 (printf's %g switches at other powers and pads
 * the exponent: 1e-05 for 0.00001, 1e+16 for 10000000000000000).
 */
static void number(struct strbuf *sb, double d)
{
	char buf[40], digits[20], *e;
	int k = 0, n;

	if (isnan(d)) {
		strbuf_addstr(sb, "NaN");
		return;
	}
	if (isinf(d)) {
		strbuf_addstr(sb, d < 0 ? "-Infinity" : "Infinity");
		return;
	}
	if (d == 0) {
		strbuf_addstr(sb, signbit(d) ? "-0" : "0");
		return;
	}
	if (d < 0) {
		strbuf_addch(sb, '-');
		d = -d;
	}
	/* the fewest digits, correctly rounded, that read back as d: D[.DDD]e[+-]XX */
	for (int prec = 0; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	e = strchr(buf, 'e');
	for (const char *q = buf; q < e; q++)
		if (*q != '.')
			digits[k++] = *q;
	n = atoi(e + 1) + 1; /* the point goes after n digits (ECMA-262 Number::toString) */
	if (k <= n && n <= 21) {
		strbuf_add(sb, digits, k);
		while (n-- > k)
			strbuf_addch(sb, '0');
	} else if (n > 0 && n <= 21) {
		strbuf_add(sb, digits, n);
		strbuf_addch(sb, '.');
		strbuf_add(sb, digits + n, k - n);
	} else if (n > -6 && n <= 0) {
		strbuf_addstr(sb, "0.");
		for (int i = n; i < 0; i++)
			strbuf_addch(sb, '0');
		strbuf_add(sb, digits, k);
	} else {
		strbuf_addch(sb, digits[0]);
		if (k > 1) {
			strbuf_addch(sb, '.');
			strbuf_add(sb, digits + 1, k - 1);
		}
		strbuf_addf(sb, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
	}
}

/*
 * A string's characters quoted, one line whatever they hold: quotes escaped
 * as in a JavaScript literal, the rest as a terminal gets every name
 * (lh_terminal_escape: backslashes, control characters, C1 controls, bytes
 * that are not UTF-8), which a JavaScript literal reads the same way (a
 * newline inside would start what reads as the next property).
 */
static void quoted(struct strbuf *sb, const char *s, size_t len)
{
	size_t from = 0;

	strbuf_addch(sb, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '"')
			continue;
		lh_terminal_escape(sb, s + from, i - from);
		strbuf_addstr(sb, "\\\"");
		from = i + 1;
	}
	lh_terminal_escape(sb, s + from, len - from);
	strbuf_addch(sb, '"');
}

/*
 * A BigInt as JavaScript writes it (-5n).  V8 11 keeps it as its map, a
 * 32-bit bit field (bit 0 the sign, bits 1-30 the number of digits), 4
 * bytes of padding, then the digits: 64-bit words, least significant
 * first.  Up to 2048 bits are written out (617 decimal digits); a longer
 * one is said by its size.
 */
#define BIGINT_MAX_DIGITS 32

static void bigint(const struct lh_v8meta *m, uint64_t v, struct strbuf *sb)
{
	const uint64_t ten19 = 10000000000000000000ull;
	uint64_t d[BIGINT_MAX_DIGITS];
	char out[BIGINT_MAX_DIGITS * 20 + 1];
	size_t k = sizeof(out);
	const void *p = lh_core_ptr(m->core, v - m->heap_tag + 8, 4);
	uint32_t bits, n;

	if (!p) {
		strbuf_addf(sb, "0x%llx <unreadable BigInt>", (unsigned long long)v);
		return;
	}
	memcpy(&bits, p, 4);
	n = bits >> 1 & 0x3fffffff;
	if (n > BIGINT_MAX_DIGITS) {
		const void *top = lh_core_ptr(m->core, v - m->heap_tag + 16 + (uint64_t)(n - 1) * 8, 8);
		uint64_t t = 0;

		if (top)
			memcpy(&t, top, 8);
		strbuf_addf(sb, "0x%llx <BigInt of %llu bits>", (unsigned long long)v,
			    (unsigned long long)(n - 1) * 64 + (t ? 64 - (unsigned)__builtin_clzll(t) : 0));
		return;
	}
	if (n && !(p = lh_core_ptr(m->core, v - m->heap_tag + 16, (size_t)n * 8))) {
		strbuf_addf(sb, "0x%llx <unreadable BigInt>", (unsigned long long)v);
		return;
	}
	if (n)
		memcpy(d, p, (size_t)n * 8);
	while (n && !d[n - 1])
		n--;
	/* the decimal digits from the end, 19 at a time: d divided by 10^19 */
	do {
		unsigned __int128 r = 0;
		uint64_t chunk;

		for (uint32_t i = n; i-- > 0;) {
			r = r << 64 | d[i];
			d[i] = (uint64_t)(r / ten19);
			r %= ten19;
		}
		chunk = (uint64_t)r;
		while (n && !d[n - 1])
			n--;
		for (int j = 0; j < 19 && (chunk || n || j == 0); j++) {
			out[--k] = (char)('0' + chunk % 10);
			chunk /= 10;
		}
	} while (n);
	if ((bits & 1) && !(k == sizeof(out) - 1 && out[k] == '0'))
		strbuf_addch(sb, '-');
	strbuf_add(sb, out + k, sizeof(out) - k);
	strbuf_addch(sb, 'n');
}

void lh_jsprint_value(const struct lh_v8meta *m, uint64_t v, struct strbuf *sb)
{
	uint32_t t;

	if (lh_v8_is_smi(v)) {
		strbuf_addf(sb, "%lld", (long long)lh_v8_smi(v));
		return;
	}
	if (!lh_v8_obj_type(m, v, &t)) {
		strbuf_addf(sb, "0x%llx <unreadable>", (unsigned long long)v);
		return;
	}
	if (t < m->t_first_nonstring) {
		struct strbuf raw = STRBUF_INIT;

		if (lh_v8_string(m, v, &raw, 200))
			strbuf_addstr(sb, "\"<unreadable>\"");
		else
			quoted(sb, raw.buf, raw.len);
		strbuf_release(&raw);
	} else if (t == m->t_heap_number) {
		const void *p = lh_core_ptr(m->core, v - m->heap_tag + m->o_heap_number_value, 8);
		double d = 0;

		if (p)
			memcpy(&d, p, 8);
		number(sb, d);
	} else if (t == m->t_oddball) {
		int64_t k = lh_v8_smi(lh_v8_word(m, v, m->o_oddball_kind));

		strbuf_addstr(sb, k == m->odd_true ? "true" : k == m->odd_false ? "false" : k == m->odd_null ? "null" :
				  k == m->odd_undefined ? "undefined" : k == m->odd_hole ? "<hole>" : "<oddball>");
	} else if (t == m->t_bigint) {
		bigint(m, v, sb);
	} else if (t == m->t_symbol) {
		lh_v8_name(m, v, sb, 200);
	} else if (t >= m->t_js_function && t <= m->t_js_function_last) {
		strbuf_addf(sb, "0x%llx <Function ", (unsigned long long)v);
		lh_v8_function_name(m, v, sb);
		strbuf_addch(sb, '>');
	} else if (lh_v8_obj_type(m, v, &t) && t >= m->t_first_js_object) {
		strbuf_addf(sb, "0x%llx <", (unsigned long long)v);
		lh_v8_constructor_name(m, lh_v8_word(m, v, 0), sb);
		if (t == m->t_js_array)
			strbuf_addf(sb, " length %lld", (long long)lh_v8_smi(lh_v8_word(m, v, m->o_js_array_length)));
		strbuf_addch(sb, '>');
	} else {
		strbuf_addf(sb, "0x%llx <", (unsigned long long)v);
		lh_v8_type_name(m, v, t, sb);
		strbuf_addch(sb, '>');
	}
}

/*
 * Element i of a FixedDoubleArray (an array of only numbers keeps them
 * unboxed); V8 marks a hole with one NaN bit pattern (kHoleNanInt64).
 */
static void double_element(const struct lh_v8meta *m, uint64_t arr, uint64_t i, struct strbuf *sb)
{
	const void *p = lh_core_ptr(m->core, arr - m->heap_tag + m->o_fixed_data + i * 8, 8);
	uint64_t bits;
	double d;

	if (!p) {
		strbuf_addstr(sb, "<unreadable>");
		return;
	}
	memcpy(&bits, p, 8);
	memcpy(&d, p, 8);
	if (bits == 0xfff7fffffff7ffffull)
		strbuf_addstr(sb, "<hole>");
	else
		number(sb, d);
}

static void add_line(struct lh_jsprint *p, struct strbuf *key, struct strbuf *val)
{
	ALLOC_GROW(p->lines, p->nr + 1, p->alloc);
	p->lines[p->nr].key = strbuf_detach(key, NULL);
	p->lines[p->nr].value = strbuf_detach(val, NULL);
	p->nr++;
}

static void fast_properties(struct lh_jsprint *p, const struct lh_v8meta *m, uint64_t obj, uint64_t map)
{
	uint64_t descs = lh_v8_word(m, map, m->o_map_descriptors), props = lh_v8_word(m, obj, m->o_properties);
	uint32_t nown = lh_v8_map_own_descriptors(m, map);
	uint32_t size_words = lh_v8_byte(m, map, m->o_map_size_words);
	uint32_t start = lh_v8_byte(m, map, m->o_map_inobject_start);
	uint32_t inobject = size_words > start ? size_words - start : 0;
	struct strbuf key = STRBUF_INIT, val = STRBUF_INIT;

	for (uint32_t i = 0; i < nown; i++) {
		int64_t d = lh_v8_descriptor_details(m, descs, i);
		uint32_t loc = ((uint64_t)d & m->pd_location_mask) >> m->pd_location_shift;
		uint32_t kind = (uint64_t)d & m->pd_kind_mask;

		if (lh_v8_descriptor_key(m, descs, i, &key))
			strbuf_addstr(&key, "<unreadable>");
		if (kind == m->pd_kind_accessor) {
			strbuf_addstr(&val, "<accessor>");
		} else if (loc == m->pd_location_field) {
			uint32_t idx = ((uint64_t)d & m->pd_index_mask) >> m->pd_index_shift;
			uint64_t v = idx < inobject ? lh_v8_word(m, obj, (start + idx) * 8)
						    : lh_v8_fixed_get(m, props, idx - inobject);

			lh_jsprint_value(m, v, &val);
		} else {
			lh_jsprint_value(m, lh_v8_word(m, descs, m->o_desc_header + (i * m->desc_size + m->desc_value) * 8),
				  &val);
		}
		add_line(p, &key, &val);
	}
}

static uint32_t elements_kind(const struct lh_v8meta *m, uint64_t map)
{
	return (lh_v8_byte(m, map, m->o_map_bit_field2) & m->ek_mask) >> m->ek_shift;
}

/* An entry of a dictionary, to be listed in the order of its index. */
struct dict_entry {
	uint64_t index, key, value;
};

static int dict_entry_cmp(const void *a, const void *b)
{
	const struct dict_entry *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * A dictionary-mode object's properties: a NameDictionary of (key, value,
 * details) entries in hash order.  Listed in the order JavaScript gives
 * them (insertion order), by the enumeration index each entry's details
 * keep (V8's DictionaryStorageField: not exported, in the version table).
 */
static void dict_properties(struct lh_jsprint *p, const struct lh_v8meta *m, uint64_t obj)
{
	uint64_t dict = lh_v8_word(m, obj, m->o_properties);
	uint32_t first = m->nd_prefix_start + m->nd_prefix_size;
	uint64_t len = lh_v8_fixed_length(m, dict);
	struct dict_entry *e = NULL;
	size_t nr = 0, alloc = 0;
	struct strbuf key = STRBUF_INIT, val = STRBUF_INIT;

	if (!lh_v8_is_fixed_array(m, dict))
		return;
	for (uint64_t i = first; i + 2 < len && i < 300000; i += m->nd_entry_size) {
		uint64_t k = lh_v8_fixed_get(m, dict, i), details = lh_v8_fixed_get(m, dict, i + 2);

		if (!lh_v8_is_name(m, k))
			continue;
		ALLOC_GROW(e, nr + 1, alloc);
		e[nr].index = lh_v8_is_smi(details) ? (uint64_t)lh_v8_smi(details) >> m->pd_dict_index_shift &
								 m->pd_dict_index_mask
						     : UINT64_MAX;
		e[nr].key = k;
		e[nr].value = lh_v8_fixed_get(m, dict, i + 1);
		nr++;
	}
	qsort(e, nr, sizeof(*e), dict_entry_cmp);
	for (size_t i = 0; i < nr; i++) {
		lh_v8_name(m, e[i].key, &key, 200);
		lh_jsprint_value(m, e[i].value, &val);
		add_line(p, &key, &val);
	}
	free(e);
}

/*
 * The elements of a sparse array (elements kind dictionary): a
 * NumberDictionary of (index, value, details) entries in hash order, its
 * free entries holding undefined or the hole as key.  Read as a FixedArray
 * it would print the table's counts and capacity as [0], [1], ...; listed
 * here by index, the first 100.
 */
static void sparse_elements(struct lh_jsprint *p, const struct lh_v8meta *m, uint64_t dict)
{
	uint64_t len = lh_v8_fixed_length(m, dict), first = m->nd_prefix_start + m->numd_prefix_size;
	struct dict_entry *e = NULL;
	size_t nr = 0, alloc = 0;
	struct strbuf key = STRBUF_INIT, val = STRBUF_INIT;

	if (!lh_v8_is_fixed_array(m, dict))
		return;
	for (uint64_t i = first; i + 1 < len && i < 3000000; i += m->numd_entry_size) {
		uint64_t k = lh_v8_fixed_get(m, dict, i);
		uint32_t t;
		double d;

		if (lh_v8_is_smi(k)) {
			if (lh_v8_smi(k) < 0)
				continue;
			d = (double)lh_v8_smi(k);
		} else if (lh_v8_obj_type(m, k, &t) && t == m->t_heap_number) {
			/* indexes above 2^31 - 1 are HeapNumbers */
			const void *q = lh_core_ptr(m->core, k - m->heap_tag + m->o_heap_number_value, 8);

			if (!q)
				continue;
			memcpy(&d, q, 8);
			if (!(d >= 0 && d < 4294967296.0))
				continue;
		} else {
			continue; /* a free or deleted entry */
		}
		ALLOC_GROW(e, nr + 1, alloc);
		e[nr].index = (uint64_t)d;
		e[nr].value = lh_v8_fixed_get(m, dict, i + 1);
		nr++;
	}
	qsort(e, nr, sizeof(*e), dict_entry_cmp);
	for (size_t i = 0; i < nr && i < 100; i++) {
		strbuf_addf(&key, "[%llu]", (unsigned long long)e[i].index);
		lh_jsprint_value(m, e[i].value, &val);
		add_line(p, &key, &val);
	}
	free(e);
}

int lh_jsprint_describe(struct lh_jsprint *p, const struct lh_v8meta *m, uint64_t obj)
{
	struct strbuf sb = STRBUF_INIT, val = STRBUF_INIT;
	uint64_t map;

	memset(p, 0, sizeof(*p));
	if (!lh_v8_obj_type(m, obj, &p->type) || p->type < m->t_first_js_object)
		return lh_error("0x%llx is not a JavaScript object in core '%s'; give an address from "
				"'leakhunt objects' (a tagged pointer, ending in 1, 9 ...)",
				(unsigned long long)obj, m->core->path);
	map = lh_v8_word(m, obj, 0);
	lh_v8_constructor_name(m, map, &sb);
	p->ctor = strbuf_detach(&sb, NULL);
	if (lh_v8_map_is_dictionary(m, map))
		dict_properties(p, m, obj);
	else
		fast_properties(p, m, obj, map);
	if (p->type == m->t_js_array) {
		uint64_t elems = lh_v8_word(m, obj, m->o_elements);
		int64_t n = lh_v8_smi(lh_v8_word(m, obj, m->o_js_array_length));
		uint32_t et = 0;
		int dbl = lh_v8_obj_type(m, elems, &et) && et == m->t_fixed_double_array;

		p->elements_total = n > 0 ? (uint64_t)n : 0;
		if (elements_kind(m, map) == m->ek_dictionary) {
			sparse_elements(p, m, elems);
			return 0;
		}
		if (!dbl && !lh_v8_is_fixed_array(m, elems))
			return 0;
		for (uint64_t i = 0; i < p->elements_total && i < 100 && i < lh_v8_fixed_length(m, elems); i++) {
			strbuf_addf(&sb, "[%llu]", (unsigned long long)i);
			if (dbl)
				double_element(m, elems, i, &val);
			else
				lh_jsprint_value(m, lh_v8_fixed_get(m, elems, i), &val);
			add_line(p, &sb, &val);
		}
	}
	return 0;
}

void lh_jsprint_release(struct lh_jsprint *p)
{
	for (uint32_t i = 0; i < p->nr; i++) {
		free(p->lines[i].key);
		free(p->lines[i].value);
	}
	free(p->lines);
	free(p->ctor);
	memset(p, 0, sizeof(*p));
}
