/*
 * Reading V8 heap objects out of a core; see v8obj.h.  Strings are decoded
 * without recursion: cons strings push their halves on a small explicit
 * stack, and every walk has a step bound, so a cycle in a damaged heap ends.
 */
#include "v8obj.h"

#include <string.h>

static const void *at(const struct lh_v8meta *m, uint64_t obj, uint32_t off, size_t len)
{
	return lh_core_ptr(m->core, obj - m->heap_tag + off, len);
}

uint64_t lh_v8_word(const struct lh_v8meta *m, uint64_t obj, uint32_t off)
{
	const void *p = at(m, obj, off, 8);
	uint64_t v = 0;

	if (p)
		memcpy(&v, p, 8);
	return v;
}

uint32_t lh_v8_byte(const struct lh_v8meta *m, uint64_t obj, uint32_t off)
{
	const unsigned char *p = at(m, obj, off, 1);

	return p ? *p : 0;
}

uint32_t lh_v8_u32(const struct lh_v8meta *m, uint64_t obj, uint32_t off)
{
	const void *p = at(m, obj, off, 4);
	uint32_t v = 0;

	if (p)
		memcpy(&v, p, 4);
	return v;
}

int lh_v8_is_map(const struct lh_v8meta *m, uint64_t v)
{
	return lh_v8_is_heap_object(m, v) && lh_v8_word(m, v, 0) == m->meta_map;
}

uint32_t lh_v8_map_type(const struct lh_v8meta *m, uint64_t map)
{
	const void *p = at(m, map, m->o_map_type, 2);
	uint16_t t = 0;

	if (p)
		memcpy(&t, p, 2);
	return t;
}

int lh_v8_map_is_dictionary(const struct lh_v8meta *m, uint64_t map)
{
	return (lh_v8_u32(m, map, m->o_map_bit_field3) >> m->bf3_dict_shift) & 1;
}

uint32_t lh_v8_map_own_descriptors(const struct lh_v8meta *m, uint64_t map)
{
	return (lh_v8_u32(m, map, m->o_map_bit_field3) & m->bf3_own_mask) >> m->bf3_own_shift;
}

int lh_v8_obj_type(const struct lh_v8meta *m, uint64_t v, uint32_t *type)
{
	uint64_t map;

	if (!lh_v8_is_heap_object(m, v))
		return 0;
	map = lh_v8_word(m, v, 0);
	if (!lh_v8_is_map(m, map))
		return 0;
	*type = lh_v8_map_type(m, map);
	return 1;
}

int lh_v8_is_fixed_array(const struct lh_v8meta *m, uint64_t v)
{
	uint32_t t;

	return lh_v8_obj_type(m, v, &t) && t >= m->t_fixed_array && t <= m->t_fixed_array_last;
}

uint64_t lh_v8_fixed_length(const struct lh_v8meta *m, uint64_t arr)
{
	int64_t n = lh_v8_smi(lh_v8_word(m, arr, m->o_fixed_length));

	return n < 0 ? 0 : (uint64_t)n;
}

uint64_t lh_v8_fixed_get(const struct lh_v8meta *m, uint64_t arr, uint64_t i)
{
	if (i > (UINT32_MAX - m->o_fixed_data) / 8)
		return 0;
	return lh_v8_word(m, arr, m->o_fixed_data + (uint32_t)i * 8);
}

int lh_v8_is_name(const struct lh_v8meta *m, uint64_t v)
{
	uint32_t t;

	return lh_v8_obj_type(m, v, &t) && (t < m->t_first_nonstring || t == m->t_symbol);
}

static void add_utf8(struct strbuf *sb, uint32_t c)
{
	if (c < 0x80) {
		strbuf_addch(sb, c);
	} else if (c < 0x800) {
		strbuf_addch(sb, 0xc0 | (c >> 6));
		strbuf_addch(sb, 0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		strbuf_addch(sb, 0xe0 | (c >> 12));
		strbuf_addch(sb, 0x80 | ((c >> 6) & 0x3f));
		strbuf_addch(sb, 0x80 | (c & 0x3f));
	} else {
		strbuf_addch(sb, 0xf0 | (c >> 18));
		strbuf_addch(sb, 0x80 | ((c >> 12) & 0x3f));
		strbuf_addch(sb, 0x80 | ((c >> 6) & 0x3f));
		strbuf_addch(sb, 0x80 | (c & 0x3f));
	}
}

/* len characters at address chars (one byte or two each) as UTF-8; -1 when the core does not hold them. */
static int add_chars(const struct lh_v8meta *m, uint64_t chars, int one, uint32_t len, struct strbuf *sb, size_t max)
{
	const unsigned char *p;

	if (sb->len >= max)
		return 0;
	if (len > max - sb->len)
		len = max - sb->len;
	p = lh_core_ptr(m->core, chars, one ? len : 2 * (size_t)len);
	if (!p)
		return -1;
	for (uint32_t i = 0; i < len; i++) {
		uint32_t c = one ? p[i] : (uint32_t)(p[2 * i] | p[2 * i + 1] << 8);

		if (!one && c >= 0xd800 && c < 0xdc00 && i + 1 < len) {
			uint32_t lo = p[2 * i + 2] | p[2 * i + 3] << 8;

			if (lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				i++;
			}
		}
		add_utf8(sb, c);
	}
	return 0;
}

/* Characters [from, from+len) of sequential string s of type t; -1 when unreadable. */
static int add_seq(const struct lh_v8meta *m, uint64_t s, uint32_t t, uint32_t from, uint32_t len,
		   struct strbuf *sb, size_t max)
{
	int one = (t & m->s_enc_mask) == m->s_one_byte;
	uint64_t chars = s - m->heap_tag + (one ? m->o_seq1_chars : m->o_seq2_chars);

	return add_chars(m, chars + (one ? from : 2 * (uint64_t)from), one, len, sb, max);
}

/*
 * An external string's characters live outside the V8 heap (malloc'd, or in
 * the binary for node's own JS sources); a cached one keeps their address.
 * Those the core does not hold (read-only file pages) are named, not shown.
 */
static void add_external(const struct lh_v8meta *m, uint64_t s, uint32_t t, uint32_t len, struct strbuf *sb,
			 size_t max)
{
	int one = (t & m->s_enc_mask) == m->s_one_byte;
	uint64_t data = lh_v8_word(m, s, m->o_ext_data);

	if ((t & m->s_uncached_mask) || !data || add_chars(m, data, one, len, sb, max))
		strbuf_addf(sb, "<external string of %u characters not in the core>", len);
}

int lh_v8_string(const struct lh_v8meta *m, uint64_t v, struct strbuf *sb, size_t max)
{
	uint64_t stack[64];
	int sp = 0, steps = 0;

	stack[sp++] = v;
	while (sp && sb->len < max) {
		uint64_t s = stack[--sp];
		uint32_t t, repr, len;

		if (++steps > 100000 || !lh_v8_obj_type(m, s, &t) || t >= m->t_first_nonstring)
			return -1;
		repr = t & m->s_repr_mask;
		len = lh_v8_u32(m, s, m->o_str_length);
		if (repr == m->s_seq) {
			if (add_seq(m, s, t, 0, len, sb, max))
				return -1;
		} else if (repr == m->s_cons) {
			if (sp + 2 > (int)(sizeof(stack) / sizeof(stack[0]))) {
				strbuf_addstr(sb, "...");
				return 0;
			}
			stack[sp++] = lh_v8_word(m, s, m->o_cons_second);
			stack[sp++] = lh_v8_word(m, s, m->o_cons_first);
		} else if (repr == m->s_thin) {
			stack[sp++] = lh_v8_word(m, s, m->o_thin_actual);
		} else if (repr == m->s_sliced) {
			uint64_t parent = lh_v8_word(m, s, m->o_sliced_parent);
			int64_t off = lh_v8_smi(lh_v8_word(m, s, m->o_sliced_offset));
			uint32_t pt;

			if (!lh_v8_obj_type(m, parent, &pt) || (pt & m->s_repr_mask) != m->s_seq || off < 0 ||
			    add_seq(m, parent, pt, (uint32_t)off, len, sb, max))
				return -1;
		} else {
			add_external(m, s, t, len, sb, max);
		}
	}
	return 0;
}

void lh_v8_name(const struct lh_v8meta *m, uint64_t v, struct strbuf *sb, size_t max)
{
	uint32_t t;

	if (!lh_v8_obj_type(m, v, &t)) {
		strbuf_addstr(sb, "<unreadable>");
	} else if (t == m->t_symbol) {
		uint64_t desc = lh_v8_word(m, v, m->o_symbol_name);

		strbuf_addstr(sb, "<symbol");
		if (lh_v8_is_name(m, desc)) {
			strbuf_addch(sb, ' ');
			lh_v8_string(m, desc, sb, sb->len + max);
		}
		strbuf_addch(sb, '>');
	} else if (lh_v8_string(m, v, sb, sb->len + max)) {
		strbuf_addstr(sb, "<unreadable>");
	}
}

static uint32_t desc_slot(const struct lh_v8meta *m, uint32_t i, uint32_t which)
{
	return m->o_desc_header + (i * m->desc_size + which) * 8;
}

int lh_v8_descriptor_key(const struct lh_v8meta *m, uint64_t descs, uint32_t i, struct strbuf *sb)
{
	uint64_t key = lh_v8_word(m, descs, desc_slot(m, i, m->desc_key));

	if (!lh_v8_is_name(m, key))
		return -1;
	lh_v8_name(m, key, sb, 200);
	return 0;
}

int64_t lh_v8_descriptor_details(const struct lh_v8meta *m, uint64_t descs, uint32_t i)
{
	return lh_v8_smi(lh_v8_word(m, descs, desc_slot(m, i, m->desc_details)));
}

/*
 * A class's name is not in its SharedFunctionInfo but in its ScopeInfo:
 * after the header and the context locals (a name and an info slot each)
 * come the optional fields, the function name among the first few.  The
 * first non-empty string there is the name (llnode's heuristic; the
 * optional fields' presence bits are not exported).
 */
static int scope_info_name(const struct lh_v8meta *m, uint64_t si, struct strbuf *sb)
{
	int64_t nlocals = lh_v8_smi(lh_v8_word(m, si, m->scope_info_nlocals_slot * 8));

	if (nlocals < 0 || nlocals > 100000)
		return -1;
	for (uint32_t j = 0; j < 5; j++) {
		uint64_t v = lh_v8_word(m, si, m->o_scope_info_locals + (uint32_t)(2 * nlocals + j) * 8);
		uint32_t t;

		if (lh_v8_obj_type(m, v, &t) && t < m->t_first_nonstring && lh_v8_u32(m, v, m->o_str_length) > 0) {
			size_t len = sb->len;

			if (!lh_v8_string(m, v, sb, len + 200))
				return 0;
			strbuf_setlen(sb, len);
		}
	}
	return -1;
}

int lh_v8_function_name(const struct lh_v8meta *m, uint64_t fn, struct strbuf *sb)
{
	uint64_t sfi, name;
	uint32_t t;
	size_t len = sb->len;

	if (!lh_v8_obj_type(m, fn, &t) || t < m->t_js_function || t > m->t_js_function_last)
		return -1;
	sfi = lh_v8_word(m, fn, m->o_fn_shared);
	if (!lh_v8_obj_type(m, sfi, &t) || t != m->t_sfi)
		return -1;
	name = lh_v8_word(m, sfi, m->o_sfi_name);
	if (lh_v8_obj_type(m, name, &t)) {
		if (t < m->t_first_nonstring && !lh_v8_string(m, name, sb, len + 200) && sb->len > len)
			return 0;
		strbuf_setlen(sb, len);
		if (t == m->t_scope_info && !scope_info_name(m, name, sb))
			return 0;
	}
	strbuf_setlen(sb, len);
	strbuf_addstr(sb, "(anonymous)");
	return 0;
}

void lh_v8_constructor_name(const struct lh_v8meta *m, uint64_t map, struct strbuf *sb)
{
	uint64_t c = lh_v8_word(m, map, m->o_map_ctor);

	/* back pointers: a map made by a transition points at the map it came from */
	for (int i = 0; i < 10000 && lh_v8_is_map(m, c); i++)
		c = lh_v8_word(m, c, m->o_map_ctor);
	if (lh_v8_function_name(m, c, sb))
		strbuf_addstr(sb, "Object");
}

void lh_v8_type_name(const struct lh_v8meta *m, uint64_t v, uint32_t t, struct strbuf *sb)
{
	if (t == m->t_map)
		strbuf_addstr(sb, "Map");
	else if (t == m->t_fixed_array)
		strbuf_addf(sb, "FixedArray length %llu", (unsigned long long)lh_v8_fixed_length(m, v));
	else if (t == m->t_fixed_double_array)
		strbuf_addf(sb, "FixedDoubleArray length %llu", (unsigned long long)lh_v8_fixed_length(m, v));
	else if (t >= m->t_first_context && t <= m->t_last_context)
		strbuf_addf(sb, "Context length %llu", (unsigned long long)lh_v8_fixed_length(m, v));
	else if (t > m->t_fixed_array && t <= m->t_fixed_array_last)
		strbuf_addf(sb, "FixedArray (type %u) length %llu", t, (unsigned long long)lh_v8_fixed_length(m, v));
	else if (t == m->t_property_array)
		strbuf_addstr(sb, "PropertyArray");
	else if (t == m->t_descriptor_array || t == m->t_strong_descriptor_array)
		strbuf_addstr(sb, "DescriptorArray");
	else if (t == m->t_sfi)
		strbuf_addstr(sb, "SharedFunctionInfo");
	else if (t == m->t_property_cell)
		strbuf_addstr(sb, "PropertyCell"); /* a global variable's */
	else if (t == m->t_scope_info)
		strbuf_addstr(sb, "ScopeInfo");
	else if (t == m->t_swiss_dict)
		strbuf_addstr(sb, "SwissNameDictionary");
	else if (t == m->t_js_proxy)
		strbuf_addstr(sb, "Proxy");
	else if (t < m->t_first_nonstring)
		strbuf_addstr(sb, "String");
	else
		strbuf_addf(sb, "internal type %u", t);
}

uint64_t lh_v8_object_size(const struct lh_v8meta *m, uint64_t obj, uint64_t map)
{
	uint32_t words = lh_v8_byte(m, map, m->o_map_size_words), t;

	if (words)
		return (uint64_t)words * 8;
	t = lh_v8_map_type(m, map);
	if (lh_v8_type_is_slots(m, t) || t == m->t_fixed_double_array)
		return m->o_fixed_data + lh_v8_fixed_length(m, obj) * 8;
	/* PropertyArray: a Smi holding the length in its low 10 bits and a hash above (V8's
	 * PropertyArray::LengthField), then the slots */
	if (t == m->t_property_array)
		return 16 + (uint64_t)(lh_v8_smi(lh_v8_word(m, obj, 8)) & 0x3ff) * 8;
	return 0;
}
