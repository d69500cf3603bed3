/*
 * V8's layout in a core: the postmortem metadata node exports as v8dbg_*
 * symbols (offsets, instance types, bit fields), read from the binary's
 * symbol table, plus the few facts V8 does not export, kept in one table
 * per V8 major version (v8meta.c).  A value in an initialized section is
 * read from the binary file; one in .bss (set by a static constructor when
 * node starts) from the core's copy of that page.
 *
 * Anything missing is an error that says what is missing: an unknown V8
 * version, a binary without metadata (stripped, or not node), a
 * pointer-compressed build, a binary that is not the one the core ran.
 * We never guess a layout: a wrong layout gives a plausible, wrong census.
 */
#ifndef LH_COREDUMP_V8META_H
#define LH_COREDUMP_V8META_H

#include <stdint.h>

#include "base/mapfile.h"
#include "coredump.h"

struct lh_v8meta {
	const struct lh_core *core;
	char *binary;                /* path of the node binary, owned */
	char version[48];            /* "11.3.244.8" */
	int major, minor;

	/* tagging */
	uint64_t smi_shift;          /* SmiShiftSize + SmiTagSize */
	uint64_t heap_tag, heap_tag_mask;

	/* instance types (exported unless noted) */
	uint32_t t_map, t_first_nonstring, t_first_js_object, t_js_object, t_js_array, t_js_function;
	uint32_t t_js_function_last; /* not exported: version table */
	uint32_t t_fixed_array, t_fixed_array_last; /* last: version table */
	uint32_t t_property_array, t_swiss_dict, t_sfi, t_scope_info, t_symbol, t_heap_number, t_oddball;
	uint32_t t_descriptor_array, t_strong_descriptor_array;
	uint32_t t_fixed_double_array, t_property_cell, t_js_proxy;
	uint32_t t_bigint;           /* version table */
	uint32_t t_first_context, t_last_context; /* function, block, module, native ... contexts */

	/* field offsets in bytes */
	uint32_t o_map_type, o_map_size_words, o_map_inobject_start, o_map_bit_field3, o_map_ctor, o_map_descriptors;
	uint32_t o_properties, o_elements, o_js_array_length; /* length: version table */
	uint32_t o_fn_shared, o_sfi_name, o_symbol_name, o_heap_number_value, o_oddball_kind;
	uint32_t o_str_length, o_seq1_chars, o_seq2_chars, o_cons_first, o_cons_second;
	uint32_t o_sliced_parent, o_sliced_offset, o_thin_actual;
	uint32_t o_fixed_length, o_fixed_data, o_desc_header;
	uint32_t o_fn_context;       /* JSFunction::context */
	uint32_t o_map_prototype;
	uint32_t o_map_bit_field2;   /* holds the elements kind */
	uint32_t context_min_slots;  /* a context's first local's slot index */
	uint32_t context_scope_info; /* slot index of a context's ScopeInfo */
	uint32_t o_scope_info_locals; /* version table: byte offset of the first slot after the header */
	uint32_t scope_info_nlocals_slot;

	/* descriptors and property details */
	uint32_t desc_key, desc_details, desc_value, desc_size;
	uint32_t pd_index_mask, pd_index_shift, pd_location_mask, pd_location_shift, pd_location_field;
	uint32_t pd_kind_mask, pd_kind_accessor;
	uint32_t pd_dict_index_shift, pd_dict_index_mask; /* version table */
	uint32_t bf3_own_mask, bf3_own_shift, bf3_dict_shift;

	/* strings */
	uint32_t s_repr_mask, s_enc_mask, s_one_byte, s_seq, s_cons, s_sliced, s_thin, s_external;
	uint32_t s_uncached_mask;    /* version table */
	uint32_t o_ext_resource, o_ext_data; /* data: version table (resource + 8) */

	/* NameDictionary (prefix_start: every hash table's) */
	uint32_t nd_prefix_start, nd_entry_size, nd_prefix_size;
	/* NumberDictionary: a sparse array's elements (elements kind dictionary) */
	uint32_t numd_entry_size, numd_prefix_size;
	uint32_t ek_mask, ek_shift, ek_dictionary; /* Map::bit_field2's elements kind */

	/* oddball kinds */
	uint32_t odd_false, odd_true, odd_undefined, odd_null, odd_hole;

	uint64_t meta_map;           /* tagged address of the map of all maps */

	/*
	 * V8's heap: the object areas of its pages, as pieces of the core's
	 * segments, sorted.  Where the page headers are not recognized, every
	 * segment of the core.  Objects are looked for only here.
	 */
	struct lh_core_seg *heap;
	uint32_t nheap;
};

/*
 * Load the metadata of binary (NULL: the program named by the core's
 * NT_FILE) for core.  Returns 0, or -1 after lh_error() saying what is
 * missing and what to do.
 */
int lh_v8meta_load(struct lh_v8meta *m, const struct lh_core *core, const char *binary);
void lh_v8meta_release(struct lh_v8meta *m);

/* The piece of m->heap holding the byte at addr (untagged), or NULL. */
const struct lh_core_seg *lh_v8_heap_area(const struct lh_v8meta *m, uint64_t addr);

#endif
