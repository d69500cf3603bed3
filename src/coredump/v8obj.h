/*
 * Reading V8 heap objects out of a core: tagged values, maps, fixed arrays,
 * strings, descriptors, constructor names.  Every read is bounds-checked
 * through the core (lh_core_ptr): an address the core does not hold reads
 * as 0, which no check below accepts, so a damaged heap yields "not an
 * object", never a crash.  Tagged values are 64-bit (no pointer
 * compression): a Smi has its value in the upper 32 bits, a heap object
 * pointer is the address + 1.
 */
#ifndef LH_COREDUMP_V8OBJ_H
#define LH_COREDUMP_V8OBJ_H

#include <stdint.h>

#include "base/strbuf.h"
#include "v8meta.h"

static inline int lh_v8_is_smi(uint64_t v)
{
	return !(v & 1);
}

static inline int64_t lh_v8_smi(uint64_t v)
{
	return (int64_t)v >> 32;
}

static inline int lh_v8_is_heap_object(const struct lh_v8meta *m, uint64_t v)
{
	return (v & m->heap_tag_mask) == m->heap_tag;
}

/* The tagged word at byte offset off of heap object obj (0 when unreadable). */
uint64_t lh_v8_word(const struct lh_v8meta *m, uint64_t obj, uint32_t off);
uint32_t lh_v8_byte(const struct lh_v8meta *m, uint64_t obj, uint32_t off);
uint32_t lh_v8_u32(const struct lh_v8meta *m, uint64_t obj, uint32_t off);

/* Is v a map (its map is the meta map)? */
int lh_v8_is_map(const struct lh_v8meta *m, uint64_t v);
uint32_t lh_v8_map_type(const struct lh_v8meta *m, uint64_t map);
int lh_v8_map_is_dictionary(const struct lh_v8meta *m, uint64_t map);
uint32_t lh_v8_map_own_descriptors(const struct lh_v8meta *m, uint64_t map);

/* The instance type of heap object v into *type: 1, or 0 when v is not a readable object. */
int lh_v8_obj_type(const struct lh_v8meta *m, uint64_t v, uint32_t *type);

int lh_v8_is_fixed_array(const struct lh_v8meta *m, uint64_t v);
uint64_t lh_v8_fixed_length(const struct lh_v8meta *m, uint64_t arr);
uint64_t lh_v8_fixed_get(const struct lh_v8meta *m, uint64_t arr, uint64_t i);

/* A string or a symbol (a property key)? */
int lh_v8_is_name(const struct lh_v8meta *m, uint64_t v);
/* Append the string v (at most max bytes, UTF-8); 0, or -1 when v is not a readable string. */
int lh_v8_string(const struct lh_v8meta *m, uint64_t v, struct strbuf *sb, size_t max);
/* A property key as the heap snapshot names it: the string, or "<symbol desc>". */
void lh_v8_name(const struct lh_v8meta *m, uint64_t v, struct strbuf *sb, size_t max);
/* Key i of DescriptorArray descs; 0, or -1 when unreadable. */
int lh_v8_descriptor_key(const struct lh_v8meta *m, uint64_t descs, uint32_t i, struct strbuf *sb);
/* Details (a Smi's value) of descriptor i. */
int64_t lh_v8_descriptor_details(const struct lh_v8meta *m, uint64_t descs, uint32_t i);

/*
 * The constructor name of objects of map: through the back pointers to the
 * JSFunction, its SharedFunctionInfo, its name (or, for classes, the name
 * kept in its ScopeInfo).  "Object" when the constructor is not a function.
 */
void lh_v8_constructor_name(const struct lh_v8meta *m, uint64_t map, struct strbuf *sb);

/*
 * The name of JSFunction fn (a class's from its ScopeInfo), "(anonymous)"
 * when it has none; -1 (nothing appended) when fn is not a function.
 */
int lh_v8_function_name(const struct lh_v8meta *m, uint64_t fn, struct strbuf *sb);

/*
 * The kind of an internal (non-JS) heap object of type t, appended to sb:
 * "Map", "FixedArray length 8", "Context length 5", "SharedFunctionInfo",
 * or "internal type 190" for the types the metadata does not name.
 */
void lh_v8_type_name(const struct lh_v8meta *m, uint64_t v, uint32_t t, struct strbuf *sb);

/*
 * The size in bytes of heap object obj with map map: the map's instance
 * size, or for the variable-sized kinds we know (FixedArray-likes,
 * contexts, PropertyArray) from their length; 0 when unknown.
 */
uint64_t lh_v8_object_size(const struct lh_v8meta *m, uint64_t obj, uint64_t map);

/* Is type t a FixedArray-like with a length and tagged slots (hash tables and contexts included)? */
static inline int lh_v8_type_is_slots(const struct lh_v8meta *m, uint32_t t)
{
	return (t >= m->t_fixed_array && t <= m->t_fixed_array_last) ||
	       (t >= m->t_first_context && t <= m->t_last_context);
}

#endif
