/*
 * Loading V8's postmortem metadata; see v8meta.h.  The symbols are read
 * with libelf from .dynsym (where node exports v8dbg_*) and .symtab (where
 * the V8 version lives, as v8::internal::Version::major_ and friends).
 *
 * The per-version table holds only what the metadata lacks; each value is
 * explained where it is set.  Adding a V8 major means checking each of them
 * against that version's sources and a core of that node (docs/core.md).
 */
#include "v8meta.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/hashmap.h"

/* What V8 does not export, per major version. */
struct v8_layout {
	int major;
	uint32_t js_function_last_delta; /* LAST_JS_FUNCTION_TYPE - JS_FUNCTION_TYPE */
	uint32_t fixed_array_last;       /* last FixedArray-like type (hash tables included) */
	uint32_t js_array_length;        /* JSArray::length offset */
	uint32_t scope_info_locals;      /* ScopeInfo: offset of the first context local name */
	uint32_t scope_info_nlocals;     /* ScopeInfo: slot index of the context local count */
	uint32_t uncached_external_mask; /* instance type bit of external strings without a data pointer */
	uint32_t external_data_delta;    /* ExternalString: the cached data pointer, after the resource */
	uint32_t page_bits;              /* log2 of the alignment of V8's pages (its MemoryChunk) */
	uint32_t chunk_area;             /* page header: offset of area_start (area_end follows) */
	uint32_t bigint_type;            /* BIGINT_TYPE */
	uint32_t dict_index_shift;       /* PropertyDetails: a dictionary entry's enumeration index */
	uint32_t dict_index_bits;
};

static const struct v8_layout layouts[] = {
	/*
	 * V8 11 (Node 20).  JS_FUNCTION_TYPE (2066) opens a range of 16 function
	 * types (typed-array, Array, Promise and RegExp constructors, ending with
	 * JS_CLASS_CONSTRUCTOR_TYPE = 2081): `class` instances' constructors have
	 * the last one.  FixedArray-like types run from FIXED_ARRAY_TYPE (175) to
	 * 194 (the hash tables: NameDictionary, NumberDictionary, ...).  JSArray
	 * has its length right after elements.  ScopeInfo is flags, parameter
	 * count, context local count (slots 1..3), then the local names.
	 * kUncachedExternalStringMask is 1 << 4; a cached external string keeps
	 * its characters' address right after the resource pointer (8 bytes:
	 * no V8 sandbox, which needs pointer compression).  Every page (a
	 * MemoryChunk) starts at a multiple of 256 KB (kPageSizeBits 18) with
	 * its size, flags, Heap*, area_start and area_end: objects live in
	 * [area_start, area_end); a large-object page is one longer chunk.
	 * BIGINT_TYPE is 129 (a BigInt's layout: jsprint.c).  A dictionary
	 * entry's PropertyDetails keep its enumeration index in bits 8-30 (kind,
	 * constness, 3 attribute bits and 3 property-cell-type bits first).
	 */
	{ 11, 15, 194, 24, 32, 3, 0x10, 8, 18, 24, 129, 8, 23 },
};

struct sym {
	uint64_t value, size;
	uint32_t shndx;
};

struct binary {
	int fd;
	Elf *elf;
	struct lh_hashmap names;   /* symbol name -> index in syms */
	struct sym *syms;
	uint32_t nsyms, alloc;
	uint64_t bias;             /* core address - link-time address */
	int missing;               /* a required symbol was absent (sticky) */
	const char *first_missing;
};

static void add_symbols(struct binary *b, Elf_Scn *scn, GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	for (size_t i = 0; data && i < n; i++) {
		GElf_Sym s;
		const char *name;
		struct lh_hashmap_entry *e;
		int added;

		if (!gelf_getsym(data, i, &s) || s.st_shndx == SHN_UNDEF)
			continue;
		name = elf_strptr(b->elf, sh->sh_link, s.st_name);
		if (!name || (strncmp(name, "v8dbg_", 6) && strncmp(name, "_ZN2v88internal7Version", 23)))
			continue;
		e = lh_hashmap_put(&b->names, name, strlen(name), &added);
		if (!added)
			continue;
		ALLOC_GROW(b->syms, b->nsyms + 1, b->alloc);
		e->value = b->nsyms;
		b->syms[b->nsyms++] = (struct sym){ s.st_value, s.st_size, s.st_shndx };
	}
}

/*
 * The value of symbol name (an int, as all v8dbg_* are): from the binary
 * file for initialized data, from the core for .bss.  Returns 0 and sets
 * the sticky missing flag when the symbol or its bytes are absent.
 */
static int64_t sym_value(struct binary *b, const struct lh_core *core, const char *name)
{
	struct lh_hashmap_entry *e = lh_hashmap_get(&b->names, name, strlen(name));
	const struct sym *s;
	Elf_Scn *scn;
	GElf_Shdr sh;
	int32_t v = 0;

	if (!e)
		goto missing;
	s = &b->syms[e->value];
	scn = elf_getscn(b->elf, s->shndx);
	if (!scn || !gelf_getshdr(scn, &sh))
		goto missing;
	if (sh.sh_type == SHT_NOBITS) {
		const void *p = lh_core_ptr(core, s->value + b->bias, 4);

		if (!p)
			goto missing;
		memcpy(&v, p, 4);
	} else {
		if (pread(b->fd, &v, 4, sh.sh_offset + (s->value - sh.sh_addr)) != 4)
			goto missing;
	}
	return v;
missing:
	if (!b->missing)
		b->first_missing = name;
	b->missing = 1;
	return 0;
}

static int open_binary(struct binary *b, const char *path)
{
	size_t nscn;

	memset(b, 0, sizeof(*b));
	lh_hashmap_init(&b->names);
	elf_version(EV_CURRENT);
	b->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (b->fd < 0)
		return lh_error("cannot open binary '%s': %s; give the node binary that wrote the core with --binary",
				path, strerror(errno));
	b->elf = elf_begin(b->fd, ELF_C_READ_MMAP, NULL);
	if (!b->elf || elf_kind(b->elf) != ELF_K_ELF || elf_getshdrnum(b->elf, &nscn))
		return lh_error("cannot read binary '%s': not an ELF file; give the node binary with --binary", path);
	for (Elf_Scn *scn = elf_nextscn(b->elf, NULL); scn; scn = elf_nextscn(b->elf, scn)) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && (sh.sh_type == SHT_DYNSYM || sh.sh_type == SHT_SYMTAB))
			add_symbols(b, scn, &sh);
	}
	return 0;
}

static void close_binary(struct binary *b)
{
	if (b->elf)
		elf_end(b->elf);
	if (b->fd > 0)
		close(b->fd);
	lh_hashmap_release(&b->names);
	free(b->syms);
}

/* The binary's GNU build id as hex, or "" when it has none. */
static void binary_build_id(struct binary *b, char *out, size_t outsz)
{
	out[0] = 0;
	for (Elf_Scn *scn = elf_nextscn(b->elf, NULL); scn; scn = elf_nextscn(b->elf, scn)) {
		GElf_Shdr sh;
		Elf_Data *d;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || !(d = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((char *)d->d_buf + name_off, "GNU", 4) && nh.n_descsz * 2 + 1 <= outsz) {
				for (uint32_t k = 0; k < nh.n_descsz; k++)
					snprintf(out + 2 * k, 3, "%02x", ((unsigned char *)d->d_buf)[desc_off + k]);
				return;
			}
		}
	}
}

/* Core address minus link-time address of the program, from where NT_FILE maps its offset 0. */
static uint64_t load_bias(struct binary *b, const struct lh_core_file *f)
{
	size_t n;

	if (!f || elf_getphdrnum(b->elf, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(b->elf, i, &ph) && ph.p_type == PT_LOAD && ph.p_offset == 0)
			return f->start - (ph.p_vaddr & ~(uint64_t)4095);
	}
	return 0;
}

/* The map of maps: the one map whose own map word points at itself. */
static uint64_t find_meta_map(const struct lh_core *c, uint32_t o_type, uint32_t map_type)
{
	/* read-only space first (it lives there since V8 9), then everything */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < c->nsegs; i++) {
			const struct lh_core_seg *s = &c->segs[i];
			const uint64_t *w = (const uint64_t *)(const void *)(c->data + s->offset);

			if (!s->filesz || (pass == 0 && (s->flags & 2)) || (s->offset & 7))
				continue;
			for (uint64_t k = 0; k + o_type / 8 + 1 < s->filesz / 8; k++) {
				uint16_t t;

				if (w[k] != s->vaddr + k * 8 + 1)
					continue;
				memcpy(&t, (const char *)&w[k] + o_type, 2);
				if (t == map_type)
					return w[k];
			}
		}
	}
	return 0;
}

const struct lh_core_seg *lh_v8_heap_area(const struct lh_v8meta *m, uint64_t addr)
{
	uint32_t i = lh_core_seg_index(m->heap, m->nheap, addr);

	if (i == m->nheap || addr - m->heap[i].vaddr >= m->heap[i].filesz)
		return NULL;
	return &m->heap[i];
}

/*
 * The object areas of V8's pages, as pieces of the core's segments (sorted,
 * since the segments are): at each page-aligned address, a header whose size
 * is a multiple of 4 KB and whose area lies within it, after a header of at
 * most 64 KB.  Other memory (malloc's heap, stacks) holds stale copies of
 * heap words, V8's handle blocks among them, which read as objects.  Returns
 * the number of pages found.
 */
static uint32_t find_heap(struct lh_v8meta *m, const struct v8_layout *lay)
{
	const struct lh_core *c = m->core;
	uint64_t page = 1ull << lay->page_bits;
	uint32_t pages = 0, alloc = 0;

	for (uint32_t i = 0; i < c->nsegs; i++) {
		const struct lh_core_seg *s = &c->segs[i];
		uint64_t b = (s->vaddr + page - 1) & ~(page - 1), end = s->vaddr + s->filesz;

		if ((s->offset & 7) || b < s->vaddr || end < s->vaddr)
			continue; /* misaligned, or at the top of the address space */
		while (b + lay->chunk_area + 16 <= end) {
			const uint64_t *w = (const uint64_t *)(const void *)(c->data + s->offset + (b - s->vaddr));
			uint64_t size = w[0], start = w[lay->chunk_area / 8], stop = w[lay->chunk_area / 8 + 1];
			struct lh_core_seg *a;

			if (!size || (size & 4095) || start <= b || start - b > (64u << 10) || stop < start ||
			    stop - b > size) {
				b += page;
				continue;
			}
			pages++;
			if (start < end) {
				ALLOC_GROW(m->heap, m->nheap + 1, alloc);
				a = &m->heap[m->nheap++];
				*a = *s;
				a->vaddr = start;
				a->memsz = stop - start;
				a->offset = s->offset + (start - s->vaddr);
				a->filesz = (stop < end ? stop : end) - start;
			}
			if (size >= end - b)
				break; /* the page runs to the segment's end (or past it) */
			b += (size + page - 1) & ~(page - 1);
		}
	}
	return pages;
}

int lh_v8meta_load(struct lh_v8meta *m, const struct lh_core *core, const char *binary)
{
	const struct lh_core_file *main_file = lh_core_main_file(core);
	const struct v8_layout *lay = NULL;
	struct binary b;
	char core_id[64], bin_id[64];
	uint32_t pages;
	int ret = -1;

	memset(m, 0, sizeof(*m));
	m->core = core;
	if (!binary) {
		if (!main_file)
			return lh_error("cannot tell which program wrote core '%s': it has no NT_FILE note; give the "
					"node binary with --binary", core->path);
		binary = main_file->path;
	}
	m->binary = lh_xmalloc(strlen(binary) + 1);
	memcpy(m->binary, binary, strlen(binary) + 1);
	if (open_binary(&b, binary))
		goto out;
	b.bias = load_bias(&b, main_file);

	/* the build id first: with the wrong binary every other check would mislead */
	binary_build_id(&b, bin_id, sizeof(bin_id));
	if (main_file && !lh_core_build_id(core, main_file->start, core_id, sizeof(core_id))) {
		if (bin_id[0] && strcmp(core_id, bin_id)) {
			lh_error("binary '%s' does not match core '%s': build id %s, the core's program ('%s') has %s; "
				 "give the binary that wrote the core with --binary", binary, core->path, bin_id,
				 main_file->path, core_id);
			goto out;
		}
	} else {
		lh_info("core '%s' does not hold its program's ELF header: cannot check the build id", core->path);
	}
	if (!lh_hashmap_get(&b.names, "v8dbg_TaggedSize", 16)) {
		lh_error("binary '%s' has no V8 postmortem metadata (no v8dbg_* symbols): %s; give the node "
			 "binary that wrote the core with --binary", binary,
			 b.nsyms ? "a node built without it" : "stripped, or not node");
		goto out;
	}
	if (sym_value(&b, core, "v8dbg_TaggedSize") != 8 || sym_value(&b, core, "v8dbg_SystemPointerSize") != 8) {
		lh_error("binary '%s' is a pointer-compressed V8 build (tagged values of %d bytes): not supported; "
			 "leakhunt reads 64-bit builds without pointer compression (as NodeSource's and Debian's)",
			 binary, (int)sym_value(&b, core, "v8dbg_TaggedSize"));
		goto out;
	}
	b.missing = 0;
	m->major = sym_value(&b, core, "_ZN2v88internal7Version6major_E");
	m->minor = sym_value(&b, core, "_ZN2v88internal7Version6minor_E");
	snprintf(m->version, sizeof(m->version), "%d.%d.%d.%d", m->major, m->minor,
		 (int)sym_value(&b, core, "_ZN2v88internal7Version6build_E"),
		 (int)sym_value(&b, core, "_ZN2v88internal7Version6patch_E"));
	if (b.missing) {
		lh_error("cannot tell the V8 version of '%s': no v8::internal::Version symbols (stripped .symtab?); "
			 "give an unstripped node binary with --binary", binary);
		goto out;
	}
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].major == m->major)
			lay = &layouts[i];
	if (!lay) {
		lh_error("V8 %s (in '%s') is not supported: leakhunt knows the unexported layout of V8 11 "
			 "(Node 20) only; see docs/core.md on adding a version", m->version, binary);
		goto out;
	}

#define V(name) ((uint32_t)sym_value(&b, core, "v8dbg_" name))
	m->smi_shift = V("SmiShiftSize") + 1;
	m->heap_tag = V("HeapObjectTag");
	m->heap_tag_mask = V("HeapObjectTagMask");
	m->t_map = V("type_Map__MAP_TYPE");
	m->t_first_nonstring = V("FirstNonstringType");
	m->t_first_js_object = V("SpecialAPIObjectType");
	m->t_js_object = V("type_JSObject__JS_OBJECT_TYPE");
	m->t_js_array = V("type_JSArray__JS_ARRAY_TYPE");
	m->t_js_function = V("type_JSFunction__JS_FUNCTION_TYPE");
	m->t_js_function_last = m->t_js_function + lay->js_function_last_delta;
	m->t_fixed_array = V("type_FixedArray__FIXED_ARRAY_TYPE");
	m->t_fixed_array_last = lay->fixed_array_last;
	m->t_property_array = V("type_PropertyArray__PROPERTY_ARRAY_TYPE");
	m->t_swiss_dict = V("type_SwissNameDictionary__SWISS_NAME_DICTIONARY_TYPE");
	m->t_sfi = V("type_SharedFunctionInfo__SHARED_FUNCTION_INFO_TYPE");
	m->t_scope_info = V("type_ScopeInfo__SCOPE_INFO_TYPE");
	m->t_symbol = V("type_Symbol__SYMBOL_TYPE");
	m->t_heap_number = V("type_HeapNumber__HEAP_NUMBER_TYPE");
	m->t_oddball = V("type_Oddball__ODDBALL_TYPE");
	m->t_descriptor_array = V("type_DescriptorArray__DESCRIPTOR_ARRAY_TYPE");
	m->t_strong_descriptor_array = V("type_StrongDescriptorArray__STRONG_DESCRIPTOR_ARRAY_TYPE");
	m->t_fixed_double_array = V("type_FixedDoubleArray__FIXED_DOUBLE_ARRAY_TYPE");
	m->t_property_cell = V("type_PropertyCell__PROPERTY_CELL_TYPE");
	m->t_js_proxy = V("type_JSProxy__JS_PROXY_TYPE");
	m->t_bigint = lay->bigint_type;
	m->pd_dict_index_shift = lay->dict_index_shift;
	m->pd_dict_index_mask = (1u << lay->dict_index_bits) - 1;
	m->t_first_context = V("FirstContextType");
	m->t_last_context = V("LastContextType");

	m->o_map_type = V("class_Map__instance_type__uint16_t");
	m->o_map_size_words = V("class_Map__instance_size_in_words__char");
	m->o_map_inobject_start = V("class_Map__inobject_properties_start_or_constructor_function_index__char");
	m->o_map_bit_field3 = V("class_Map__bit_field3__int");
	m->o_map_ctor = V("class_Map__constructor_or_back_pointer__Object");
	m->o_map_descriptors = V("class_Map__instance_descriptors__DescriptorArray");
	m->o_properties = V("class_JSReceiver__raw_properties_or_hash__Object");
	m->o_elements = V("class_JSObject__elements__Object");
	m->o_js_array_length = lay->js_array_length;
	m->o_fn_shared = V("class_JSFunction__shared__SharedFunctionInfo");
	m->o_sfi_name = V("class_SharedFunctionInfo__name_or_scope_info__Object");
	m->o_symbol_name = V("class_Symbol__name__Object");
	m->o_heap_number_value = V("class_HeapNumber__value__double");
	m->o_oddball_kind = V("class_Oddball__kind_offset__int");
	m->o_str_length = V("class_String__length__int32_t");
	m->o_seq1_chars = V("class_SeqOneByteString__chars__char");
	m->o_seq2_chars = V("class_SeqTwoByteString__chars__char");
	m->o_cons_first = V("class_ConsString__first__String");
	m->o_cons_second = V("class_ConsString__second__String");
	m->o_sliced_parent = V("class_SlicedString__parent__String");
	m->o_sliced_offset = V("class_SlicedString__offset__SMI");
	m->o_thin_actual = V("class_ThinString__actual__String");
	m->o_fixed_length = V("class_FixedArrayBase__length__SMI");
	m->o_fixed_data = V("class_FixedArray__data__uintptr_t");
	m->o_desc_header = V("class_DescriptorArray__header_size__uintptr_t");
	m->o_fn_context = V("class_JSFunction__context__Context");
	m->o_map_prototype = V("class_Map__prototype__Object");
	m->o_map_bit_field2 = V("class_Map__bit_field2__char");
	m->context_min_slots = V("context_min_slots");
	m->context_scope_info = V("context_idx_scope_info");
	m->o_scope_info_locals = lay->scope_info_locals;
	m->scope_info_nlocals_slot = lay->scope_info_nlocals;

	m->desc_key = V("prop_desc_key");
	m->desc_details = V("prop_desc_details");
	m->desc_value = V("prop_desc_value");
	m->desc_size = V("prop_desc_size");
	m->pd_index_mask = V("prop_index_mask");
	m->pd_index_shift = V("prop_index_shift");
	m->pd_location_mask = V("prop_location_mask");
	m->pd_location_shift = V("prop_location_shift");
	m->pd_location_field = V("prop_location_Field");
	m->pd_kind_mask = V("prop_kind_mask");
	m->pd_kind_accessor = V("prop_kind_Accessor");
	m->bf3_own_mask = V("bit_field3_number_of_own_descriptors_mask");
	m->bf3_own_shift = V("bit_field3_number_of_own_descriptors_shift");
	m->bf3_dict_shift = V("bit_field3_is_dictionary_map_shift");

	m->s_repr_mask = V("StringRepresentationMask");
	m->s_enc_mask = V("StringEncodingMask");
	m->s_one_byte = V("OneByteStringTag");
	m->s_seq = V("SeqStringTag");
	m->s_cons = V("ConsStringTag");
	m->s_sliced = V("SlicedStringTag");
	m->s_thin = V("ThinStringTag");
	m->s_external = V("ExternalStringTag");
	m->s_uncached_mask = lay->uncached_external_mask;
	m->o_ext_resource = V("class_ExternalString__resource__Object");
	m->o_ext_data = m->o_ext_resource + lay->external_data_delta;

	m->nd_prefix_start = V("namedictionary_prefix_start_index");
	m->nd_entry_size = V("namedictionaryshape_entry_size");
	m->nd_prefix_size = V("namedictionaryshape_prefix_size");
	m->numd_entry_size = V("numberdictionaryshape_entry_size");
	m->numd_prefix_size = V("numberdictionaryshape_prefix_size");
	m->ek_mask = V("bit_field2_elements_kind_mask");
	m->ek_shift = V("bit_field2_elements_kind_shift");
	m->ek_dictionary = V("elements_dictionary_elements");

	m->odd_false = V("OddballFalse");
	m->odd_true = V("OddballTrue");
	m->odd_undefined = V("OddballUndefined");
	m->odd_null = V("OddballNull");
	m->odd_hole = V("OddballTheHole");
#undef V
	if (b.missing) {
		lh_error("binary '%s' (V8 %s) lacks the metadata symbol '%s': this node build is not supported",
			 binary, m->version, b.first_missing);
		goto out;
	}
	if (m->smi_shift != 32 || m->heap_tag != 1) {
		lh_error("binary '%s' (V8 %s) tags values differently (Smi shift %u, heap tag %u): not supported",
			 binary, m->version, (unsigned)m->smi_shift, (unsigned)m->heap_tag);
		goto out;
	}
	m->meta_map = find_meta_map(core, m->o_map_type, m->t_map);
	if (!m->meta_map) {
		lh_error("cannot find V8's meta map in core '%s': is it a core of node (V8 %s)? a core written "
			 "with 'leakhunt core' or gcore holds V8's read-only space", core->path, m->version);
		goto out;
	}
	lh_info("V8 %s, binary '%s', meta map 0x%llx", m->version, binary, (unsigned long long)m->meta_map);
	pages = find_heap(m, lay);
	if (!lh_v8_heap_area(m, m->meta_map - m->heap_tag)) {
		/* a layout we do not know: every segment, stale copies and all */
		lh_info("V8's page headers not recognized (%u found): reading all of the core's memory", pages);
		free(m->heap);
		m->heap = lh_xmalloc((core->nsegs ? core->nsegs : 1) * sizeof(*m->heap));
		memcpy(m->heap, core->segs, core->nsegs * sizeof(*m->heap));
		m->nheap = core->nsegs;
	} else {
		uint64_t bytes = 0;

		for (uint32_t i = 0; i < m->nheap; i++)
			bytes += m->heap[i].filesz;
		lh_info("V8's heap: %u pages, %llu bytes of object areas", pages, (unsigned long long)bytes);
	}
	ret = 0;
out:
	if (b.fd || b.elf)
		close_binary(&b);
	if (ret)
		lh_v8meta_release(m);
	return ret;
}

void lh_v8meta_release(struct lh_v8meta *m)
{
	free(m->binary);
	free(m->heap);
	m->binary = NULL;
	m->heap = NULL;
	m->nheap = 0;
}
