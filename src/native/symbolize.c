/*
 * Address -> frames with elfutils' libdwfl (interface in symbolize.h).
 *
 * Each module the trace listed is reported at its load bias; an ip then maps
 * to the innermost DWARF scope at that address (dwarf_getscopes), and from
 * there to the DIEs that physically contain it (dwarf_getscopes_die).  Walking
 * those outward, every DW_TAG_inlined_subroutine is one frame whose location
 * is the line table's (innermost) or the inner inline's
 * DW_AT_call_file/call_line, up to the enclosing DW_TAG_subprogram: the
 * function the inlines were expanded into.  (dwarf_getscopes alone continues
 * past an inline with its abstract definition's scopes, which skips every
 * caller.)  Without DWARF the ELF symbol is used.
 * Names are demangled with libiberty's cplus_demangle (the code behind
 * libstdc++'s __cxa_demangle and binutils' c++filt): C++ names, and Rust's
 * legacy (_ZN...17h<hash>E) and v0 (_R...) names, without the hashes.
 *
 * A warm symbolizer (struct lh_symbolizer) holds a Dwfl whose modules were
 * reported, and their symbols and DWARF loaded, while the program ran.
 * Symbolizing then reports the final module list into that Dwfl between
 * dwfl_report_begin and dwfl_report_end: a module reported again with its
 * name and address range (dwfl_report_module) is kept with all it loaded,
 * one not reported again is dropped, a new one (dlopen'ed later) is added.
 * So the Dwfl ends up with the same modules, in the same order, as a fresh
 * one would, and every lookup gives the same answer.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libiberty/demangle.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/hashmap.h"
#include "base/sorted.h"
#include "base/strbuf.h"
#include "native/lht.h"
#include "native/symbolize.h"
#include "native/trace.h"

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

struct module {
	char *path;
	uint64_t bias;
	Dwfl_Module *mod; /* once reported: its handle (NULL: it could not be) */
};

/*
 * A module's ELF symbols sorted by address, for the frames without DWARF.
 * dwfl_module_addrinfo reads every symbol of the module for each address
 * (elfutils 0.188): node's 185,000 made symbolizing a Node program take
 * 30 s.  The rule is libdwfl's: the symbol whose [value, value + size)
 * holds the address, the one starting nearest below it (at one address:
 * global before weak before local, then the smaller); failing that, the
 * nearest sizeless symbol (an assembly label) at or above the end of every
 * sized symbol below the address, in the section that holds the address.
 */
struct sym {
	uint64_t lo, hi;  /* [lo, hi); hi == lo: no size */
	uint64_t sec_end; /* the end of the symbol's section (sizeless only) */
	const char *name;
	int rank;         /* global 3, weak 2, local 1 */
};

/*
 * A compile unit's function scopes, for the inlined frames at an address.
 * dwarf_getscopes walks the unit's DIE tree from its root for every address
 * (and dwarf_getscopes_die again for the chain around the scope it found):
 * about a millisecond an address in python's big units, a second for the
 * thousand addresses of a short python run.  Each unit is walked once
 * instead, when an address first falls in it: every DW_TAG_subprogram and
 * DW_TAG_inlined_subroutine that has code, the one it is nested in, and its
 * address ranges sorted by start.  Scopes nest, so the innermost one that
 * holds an address is the one whose range starts nearest below it and
 * still reaches it, the deeper first at one start (lh_symbolize_check
 * compares the two ways on every line-table address of a file).
 */
struct fscope {
	Dwarf_Die die;
	int parent; /* the enclosing function scope, -1 for none */
};

struct frange {
	uint64_t lo, hi; /* [lo, hi) in the unit's addresses (no bias) */
	uint32_t scope, depth;
};

struct cuindex {
	Dwarf_Off off; /* the unit DIE's offset: the key */
	struct fscope *scopes;
	struct frange *r;
	uint64_t *max_hi; /* [i]: the highest hi of r[0..i] */
	size_t nscopes, nr, scopes_alloc, r_alloc;
};

/* What is built for one module: its symbols, and its units' scopes as
 * addresses fall in them (an open-addressing table on the unit's offset). */
struct symindex {
	Dwfl_Module *mod;
	struct sym *v;
	uint64_t *max_hi; /* [i]: the highest hi of v[0..i] */
	size_t n;
	struct cuindex **cu;
	size_t cu_nr, cu_mask; /* cu has cu_mask + 1 slots (0: none yet) */
};

struct symindexes {
	struct symindex *v;
	size_t n, alloc;
};

struct lh_symbolizer {
	Dwfl *dwfl;
	struct symindexes syms;
	struct module *mods; /* every module reported to dwfl, in that order */
	size_t nr, alloc;
	uint64_t *ips;       /* the addresses resolved once already, sorted */
	size_t nips, ips_alloc;
};

/* seen: the (bias, path) of every module in mods.  Each dlopen writes the
 * whole list again: a scan of mods per record made 2000 libraries loaded
 * one by one cubic (53% of record's time). */
static int module_seen(struct lh_hashmap *seen, uint64_t bias, const char *path, size_t len)
{
	struct strbuf key = STRBUF_INIT;
	int added;

	strbuf_add(&key, &bias, sizeof(bias));
	strbuf_add(&key, path, len);
	lh_hashmap_put(seen, key.buf, key.len, &added);
	strbuf_release(&key);
	return !added;
}

/* Add the module of record r to mods unless it is there already. */
static void add_module(struct module **mods, size_t *nr, size_t *alloc, struct lh_hashmap *seen,
		       const struct lh_trace_rec *r)
{
	if (module_seen(seen, r->bias, r->str, r->str_len))
		return;
	ALLOC_GROW(*mods, *nr + 1, *alloc);
	(*mods)[*nr] = (struct module){ lh_xstrndup(r->str, r->str_len), r->bias, NULL };
	(*nr)++;
}

static void free_modules(struct module *mods, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(mods[i].path);
	free(mods);
}

/* The address range of one PT_LOAD segment of a recorded module. */
struct seg_range {
	uint64_t lo, hi;
	size_t mod; /* index in the module list */
};

static int cmp_seg_range(const void *a, const void *b)
{
	const struct seg_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/*
 * Two different objects loaded at the same addresses one after the other
 * (a plugin dlclose'd, another dlopen'ed in its place): a stack node holds
 * a bare address, so a frame there is named from one of them, and the
 * allocations of both share stacks; the leak of the first was shown under
 * the second's functions without a word.  Say so, naming both files.
 */
static void warn_reused_ranges(const struct module *mods, struct seg_range *r, size_t n)
{
	size_t (*pairs)[2] = NULL, npairs = 0, pairs_alloc = 0;

	if (n < 2)
		return;
	qsort(r, n, sizeof(*r), cmp_seg_range);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n && r[j].lo < r[i].hi; j++) {
			size_t a = r[i].mod < r[j].mod ? r[i].mod : r[j].mod;
			size_t b = r[i].mod < r[j].mod ? r[j].mod : r[i].mod;
			size_t k = 0;

			while (k < npairs && (pairs[k][0] != a || pairs[k][1] != b))
				k++;
			if (a == b || k < npairs)
				continue;
			ALLOC_GROW(pairs, npairs + 1, pairs_alloc);
			pairs[npairs][0] = a;
			pairs[npairs][1] = b;
			if (npairs++ < 5)
				lh_warn("'%s' and '%s' were loaded at the same addresses, one after the other "
					"(dlclose, then dlopen): a frame there is named from one of them, and allocations "
					"made through either share their stacks", mods[a].path, mods[b].path);
		}
	}
	if (npairs > 5)
		lh_warn("%zu more pairs of objects were loaded at the same addresses", npairs - 5);
	free(pairs);
}

/* Between dwfl_report_begin* and dwfl_report_end: m->mod set, NULL when the
 * file cannot be opened as ELF. */
/*
 * Load m's file.  A file changed after the recording started (start_ns, ns
 * since the epoch; 0: do not look) is not the one the program ran: its
 * addresses would be named from the new file, wrongly and silently (an
 * executable replaced while it ran gave _start and register_tm_clones for
 * its leak; heaptrack does the same).  Its frames are left as module+offset,
 * with a warning (unless quiet: the warm-up's look, said again at the end).
 */
static void report_elf(Dwfl *dwfl, struct module *m, uint64_t start_ns, int quiet)
{
	const char *base = strrchr(m->path, '/');
	struct stat sb;

	if (start_ns && !stat(m->path, &sb) &&
	    (uint64_t)sb.st_ctim.tv_sec * 1000000000u + (uint64_t)sb.st_ctim.tv_nsec > start_ns) {
		if (!quiet)
			lh_warn("'%s' changed on disk after the recording started (replaced or modified): its "
				"frames are left unnamed (module+offset) rather than named from the new file", m->path);
		m->mod = NULL;
		return;
	}
	m->mod = dwfl_report_elf(dwfl, base ? base + 1 : m->path, m->path, -1, m->bias, false);
}

/* Report m again as warm reported it, keeping what was loaded: NULL when
 * warm does not have it. */
static Dwfl_Module *report_again(struct lh_symbolizer *warm, const struct module *m)
{
	for (size_t i = 0; i < warm->nr; i++) {
		struct module *w = &warm->mods[i];
		Dwarf_Addr low, high;
		const char *name;

		if (!w->mod || w->bias != m->bias || strcmp(w->path, m->path))
			continue;
		name = dwfl_module_info(w->mod, NULL, &low, &high, NULL, NULL, NULL, NULL);
		return name ? dwfl_report_module(warm->dwfl, name, low, high) : NULL;
	}
	return NULL;
}

struct lh_symbolizer *lh_symbolizer_new(void)
{
	Dwfl *dwfl = dwfl_begin(&callbacks);
	struct lh_symbolizer *s;

	if (!dwfl)
		return NULL;
	s = lh_xcalloc(1, sizeof(*s));
	s->dwfl = dwfl;
	return s;
}

static void cuindex_free(struct cuindex *c)
{
	if (!c)
		return;
	free(c->scopes);
	free(c->r);
	free(c->max_hi);
	free(c);
}

static void symindex_release(struct symindex *x)
{
	free(x->v);
	free(x->max_hi);
	for (size_t i = 0; x->cu && i <= x->cu_mask; i++)
		cuindex_free(x->cu[i]);
	free(x->cu);
}

/* Drop the indexes of modules no longer in mods (gone from the Dwfl, whose
 * handles may be reused), or all of them (mods NULL). */
static void symindexes_keep(struct symindexes *sx, const struct module *mods, size_t nr)
{
	size_t k = 0;

	for (size_t i = 0; i < sx->n; i++) {
		int keep = 0;

		for (size_t j = 0; mods && j < nr && !keep; j++)
			keep = mods[j].mod == sx->v[i].mod;
		if (keep)
			sx->v[k++] = sx->v[i];
		else
			symindex_release(&sx->v[i]);
	}
	sx->n = k;
	if (!k) {
		FREE_AND_NULL(sx->v);
		sx->alloc = 0;
	}
}

static int sym_rank(const GElf_Sym *sym)
{
	switch (GELF_ST_BIND(sym->st_info)) {
	case STB_GLOBAL:
		return 3;
	case STB_WEAK:
		return 2;
	case STB_LOCAL:
		return 1;
	default:
		return 0;
	}
}

/* By address; at one address the preferred first. */
static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->rank != y->rank)
		return y->rank - x->rank;
	if ((x->hi == x->lo) != (y->hi == y->lo))
		return x->hi == x->lo ? 1 : -1; /* sized first */
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

static void symindex_build(struct symindex *x, Dwfl_Module *mod)
{
	int nsyms = dwfl_module_getsymtab(mod);
	size_t alloc = 0;

	memset(x, 0, sizeof(*x));
	x->mod = mod;
	for (int i = 1; i < nsyms; i++) {
		GElf_Sym sym;
		GElf_Addr addr, bias;
		GElf_Word shndx;
		Elf *elf;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, &elf, &bias);
		int type = GELF_ST_TYPE(sym.st_info);
		struct sym e;

		if (!name || !*name || shndx == SHN_UNDEF || type == STT_SECTION || type == STT_FILE ||
		    type == STT_TLS)
			continue;
		e = (struct sym){ addr, addr + sym.st_size, 0, name, sym_rank(&sym) };
		if (!sym.st_size) {
			Elf_Scn *scn = elf ? elf_getscn(elf, shndx) : NULL;
			GElf_Shdr sh;

			if (scn && gelf_getshdr(scn, &sh))
				e.sec_end = sh.sh_addr + bias + sh.sh_size;
		}
		ALLOC_GROW(x->v, x->n + 1, alloc);
		x->v[x->n++] = e;
	}
	if (x->n)
		qsort(x->v, x->n, sizeof(*x->v), cmp_sym);
	x->max_hi = lh_xmalloc((x->n ? x->n : 1) * sizeof(*x->max_hi));
	for (size_t i = 0; i < x->n; i++)
		x->max_hi[i] = i && x->max_hi[i - 1] > x->v[i].hi ? x->max_hi[i - 1] : x->v[i].hi;
}

/* mod's index, built at the first address in it. */
static struct symindex *module_index(struct symindexes *sx, Dwfl_Module *mod)
{
	struct symindex *x;

	for (size_t i = 0; i < sx->n; i++)
		if (sx->v[i].mod == mod)
			return &sx->v[i];
	ALLOC_GROW(sx->v, sx->n + 1, sx->alloc);
	x = &sx->v[sx->n++];
	symindex_build(x, mod);
	return x;
}

/* The name of the symbol at ip in x's module (see struct sym), or NULL. */
static const char *symbol_at(const struct symindex *x, uint64_t ip)
{
	const struct sym *best = NULL, *label = NULL;
	/* lo: the number of symbols starting at or below ip */
	size_t lo = lh_sorted_count_le(x->v, x->n, sizeof(*x->v), offsetof(struct sym, lo), ip);

	/* downwards, while a symbol below may still reach ip */
	for (size_t i = lo; i-- > 0 && x->max_hi[i] > ip;) {
		const struct sym *e = &x->v[i];

		if (e->hi > ip && (!best || e->lo > best->lo))
			best = e; /* the first at its address is the preferred */
		if (best && e->lo < best->lo)
			break;
	}
	if (best)
		return best->name;
	/* no sized symbol holds ip: the nearest label above them all */
	for (size_t i = lo; i-- > 0;) {
		const struct sym *e = &x->v[i];

		if (i && x->max_hi[i - 1] > e->lo)
			break; /* a sized symbol below ends above it */
		if (e->hi == e->lo && ip < e->sec_end) {
			label = e;
			break;
		}
		if (e->hi != e->lo)
			break;
	}
	return label ? label->name : NULL;
}

/* Add die's function scopes below it to c, nested in scope parent (-1:
 * none) at depth; an imported (partial) unit's are walked in place. */
static void cu_walk(struct cuindex *c, Dwarf_Die *die, int parent, uint32_t depth, int imports)
{
	Dwarf_Die child;

	if (dwarf_child(die, &child))
		return;
	do {
		int tag = dwarf_tag(&child), up = parent;
		Dwarf_Attribute a;
		Dwarf_Die unit;

		if (tag == DW_TAG_imported_unit) {
			if (imports < 8 && dwarf_attr(&child, DW_AT_import, &a) && dwarf_formref_die(&a, &unit))
				cu_walk(c, &unit, parent, depth, imports + 1);
			continue;
		}
		if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
			Dwarf_Addr base, lo, hi;
			ptrdiff_t off = 0;

			while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0) {
				if (hi <= lo)
					continue;
				if (up == parent) {
					ALLOC_GROW(c->scopes, c->nscopes + 1, c->scopes_alloc);
					c->scopes[c->nscopes] = (struct fscope){ child, parent };
					up = (int)c->nscopes++;
				}
				ALLOC_GROW(c->r, c->nr + 1, c->r_alloc);
				c->r[c->nr++] = (struct frange){ lo, hi, (uint32_t)up, depth + 1 };
			}
		}
		cu_walk(c, &child, up, up == parent ? depth : depth + 1, imports);
	} while (!dwarf_siblingof(&child, &child));
}

/* By start; at one start the outer first, and of two at one depth (glibc's
 * aliases: one code, a subprogram for each name) the later DIE first: the
 * lookup scans downwards and takes the first it meets, libdw the first DIE. */
static int cmp_frange(const void *a, const void *b)
{
	const struct frange *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->scope > y->scope ? -1 : x->scope < y->scope;
}

/* A unit's key in its module's index: its offset, with a split unit (a
 * .dwo's, whose offsets may equal the main file's) kept apart. */
static Dwarf_Off cu_key(Dwarf_Die *cu)
{
	uint8_t type = 0;

	if (!dwarf_cu_info(cu->cu, NULL, &type, NULL, NULL, NULL, NULL, NULL) && type == DW_UT_split_compile)
		return dwarf_dieoffset(cu) | 1ull << 62;
	return dwarf_dieoffset(cu);
}

static struct cuindex *cuindex_build(Dwarf_Die *cu)
{
	struct cuindex *c = lh_xcalloc(1, sizeof(*c));

	c->off = cu_key(cu);
	cu_walk(c, cu, -1, 0, 0);
	if (c->nr)
		qsort(c->r, c->nr, sizeof(*c->r), cmp_frange);
	c->max_hi = lh_xmalloc((c->nr ? c->nr : 1) * sizeof(*c->max_hi));
	for (size_t i = 0; i < c->nr; i++)
		c->max_hi[i] = i && c->max_hi[i - 1] > c->r[i].hi ? c->max_hi[i - 1] : c->r[i].hi;
	return c;
}

static size_t cu_slot(const struct symindex *x, Dwarf_Off off)
{
	size_t i = (size_t)(off * 0x9e3779b97f4a7c15ULL >> 20) & x->cu_mask;

	while (x->cu[i] && x->cu[i]->off != off)
		i = (i + 1) & x->cu_mask;
	return i;
}

/* The index of unit cu in x's module, built the first time. */
static struct cuindex *cu_index(struct symindex *x, Dwarf_Die *cu)
{
	Dwarf_Off off = cu_key(cu);
	size_t i;

	if (!x->cu || 2 * (x->cu_nr + 1) > x->cu_mask + 1) {
		struct cuindex **old = x->cu;
		size_t old_slots = old ? x->cu_mask + 1 : 0;

		x->cu_mask = old ? 2 * x->cu_mask + 1 : 63;
		x->cu = lh_xcalloc(x->cu_mask + 1, sizeof(*x->cu));
		for (size_t k = 0; k < old_slots; k++)
			if (old[k])
				x->cu[cu_slot(x, old[k]->off)] = old[k];
		free(old);
	}
	i = cu_slot(x, off);
	if (!x->cu[i]) {
		x->cu[i] = cuindex_build(cu);
		x->cu_nr++;
	}
	return x->cu[i];
}

/* The innermost function scope of c at pc (the unit's address), or -1. */
static int cu_innermost(const struct cuindex *c, uint64_t pc)
{
	size_t lo = lh_sorted_count_le(c->r, c->nr, sizeof(*c->r), offsetof(struct frange, lo), pc);

	for (size_t i = lo; i-- > 0 && c->max_hi[i] > pc;)
		if (c->r[i].hi > pc)
			return (int)c->r[i].scope;
	return -1;
}

/* libdw's own answer for the check: the function scopes at pc from the
 * innermost out to the first subprogram, as dwarf_getscopes (the innermost
 * scope) and dwarf_getscopes_die (the DIEs around it) give them. */
static int scopes_by_libdw(Dwarf_Die *cu, uint64_t pc, Dwarf_Off *offs, int max)
{
	Dwarf_Die *scopes = NULL, inner;
	int nscopes = dwarf_getscopes(cu, pc, &scopes), n = 0;

	if (nscopes <= 0)
		return 0;
	inner = scopes[0];
	free(scopes);
	scopes = NULL;
	nscopes = dwarf_getscopes_die(&inner, &scopes);
	for (int i = 0; i < nscopes && n < max; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
			continue;
		offs[n++] = dwarf_dieoffset(&scopes[i]);
		if (tag == DW_TAG_subprogram)
			break;
	}
	free(scopes);
	return n;
}

static int scopes_by_index(struct cuindex *c, uint64_t pc, Dwarf_Off *offs, int max)
{
	int n = 0;

	for (int k = cu_innermost(c, pc); k >= 0 && n < max; k = c->scopes[k].parent) {
		offs[n++] = dwarf_dieoffset(&c->scopes[k].die);
		if (dwarf_tag(&c->scopes[k].die) == DW_TAG_subprogram)
			break;
	}
	return n;
}

/* Compare at pc; 1 when the two differ. */
static int check_at(struct symindex *x, Dwfl_Module *mod, uint64_t ip)
{
	Dwarf_Off a[64], b[64];
	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, ip, &bias);
	int na, nb;

	if (!cu)
		return 0;
	na = scopes_by_libdw(cu, ip - bias, a, 64);
	nb = scopes_by_index(cu_index(x, cu), ip - bias, b, 64);
	if (na == nb && !memcmp(a, b, (size_t)na * sizeof(*a)))
		return 0;
	lh_debug("scopes differ at 0x%" PRIx64 ": libdw %d (innermost DIE 0x%" PRIx64 "), index %d (0x%" PRIx64 ")",
		 ip, na, na ? (uint64_t)a[0] : 0, nb, nb ? (uint64_t)b[0] : 0);
	return 1;
}

int lh_symbolize_check(const char *path, unsigned stride, uint64_t *checked, uint64_t *differed)
{
	Dwfl *dwfl = dwfl_begin(&callbacks);
	struct symindexes sx = { 0 };
	struct module m = { (char *)path, 0, NULL };
	Dwarf_Die *cu = NULL;
	Dwarf_Addr bias;

	*checked = *differed = 0;
	if (!dwfl)
		return -1;
	if (!stride)
		stride = 1;
	dwfl_report_begin(dwfl);
	report_elf(dwfl, &m, 0, 0);
	dwfl_report_end(dwfl, NULL, NULL);
	if (!m.mod) {
		dwfl_end(dwfl);
		return -1;
	}
	while ((cu = dwfl_module_nextcu(m.mod, cu, &bias))) {
		struct symindex *x = module_index(&sx, m.mod);
		struct cuindex *c = cu_index(x, cu);
		Dwarf_Lines *lines;
		size_t nlines;

		/* every line-table address, and both ends of every scope's range */
		if (!dwarf_getsrclines(cu, &lines, &nlines))
			for (size_t i = 0; i < nlines; i += stride) {
				Dwarf_Addr a;

				if (!dwarf_lineaddr(dwarf_onesrcline(lines, i), &a)) {
					*differed += (uint64_t)check_at(x, m.mod, a + bias);
					(*checked)++;
				}
			}
		for (size_t i = 0; i < c->nr; i += stride) {
			*differed += (uint64_t)check_at(x, m.mod, c->r[i].lo + bias);
			*differed += (uint64_t)check_at(x, m.mod, c->r[i].hi - 1 + bias);
			*checked += 2;
		}
	}
	symindexes_keep(&sx, NULL, 0);
	dwfl_end(dwfl);
	return 0;
}

void lh_symbolizer_free(struct lh_symbolizer *s)
{
	if (!s)
		return;
	symindexes_keep(&s->syms, NULL, 0);
	dwfl_end(s->dwfl);
	free_modules(s->mods, s->nr);
	free(s->ips);
	free(s);
}

/* strings interned to ids (1-based; 0 means unknown) */
struct strtab {
	char **s;
	uint32_t *slot; /* open addressing over ids */
	size_t nr, alloc, mask;
};

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static void strtab_rehash(struct strtab *t)
{
	free(t->slot);
	t->mask = t->mask ? t->mask * 2 + 1 : 1023;
	t->slot = lh_xcalloc(t->mask + 1, sizeof(*t->slot));
	for (size_t id = 1; id <= t->nr; id++) {
		size_t i = hash_str(t->s[id - 1]) & t->mask;

		while (t->slot[i])
			i = (i + 1) & t->mask;
		t->slot[i] = (uint32_t)id;
	}
}

/* The id of s; *fresh tells whether it is new (and must be written). */
static uint32_t strtab_intern(struct strtab *t, const char *s, int *fresh)
{
	size_t i;

	*fresh = 0;
	if (!s || !*s)
		return 0;
	if ((t->nr + 1) * 2 > t->mask)
		strtab_rehash(t);
	for (i = hash_str(s) & t->mask; t->slot[i]; i = (i + 1) & t->mask)
		if (!strcmp(t->s[t->slot[i] - 1], s))
			return t->slot[i];
	ALLOC_GROW(t->s, t->nr + 1, t->alloc);
	t->s[t->nr++] = lh_xstrdup(s);
	t->slot[i] = (uint32_t)t->nr;
	*fresh = 1;
	return (uint32_t)t->nr;
}

static void strtab_release(struct strtab *t)
{
	for (size_t i = 0; i < t->nr; i++)
		free(t->s[i]);
	free(t->s);
	free(t->slot);
}

/* The demangled name, to free, or NULL when name is not mangled (a C
 * name) or not in a scheme libiberty knows. */
static char *demangle(const char *name)
{
	if (!name || name[0] != '_' || (name[1] != 'Z' && name[1] != 'R'))
		return NULL;
	return cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI);
}

struct writer {
	int fd;
	struct strbuf buf; /* chunk header + records */
	struct strtab strings;
	struct lh_symbolize_stats *st;
	int failed;
};

static void put_varint(struct strbuf *sb, uint64_t v)
{
	uint8_t tmp[10];

	strbuf_add(sb, tmp, (size_t)(lht_put_varint(tmp, v) - tmp));
}

static void writer_flush(struct writer *w)
{
	const char *p = w->buf.buf;
	size_t n = w->buf.len;

	if (n <= LHT_CHUNK_HEADER)
		return;
	lht_put32((uint8_t *)w->buf.buf, (uint32_t)(n - LHT_CHUNK_HEADER));
	lht_put32((uint8_t *)w->buf.buf + 4, 0);
	while (n && !w->failed) {
		ssize_t k = write(w->fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			w->failed = errno ? errno : EIO;
			break;
		}
		p += k;
		n -= (size_t)k;
	}
	strbuf_setlen(&w->buf, LHT_CHUNK_HEADER);
}

static uint32_t intern(struct writer *w, const char *s)
{
	int fresh;
	uint32_t id = strtab_intern(&w->strings, s, &fresh);

	if (fresh) {
		strbuf_addch(&w->buf, LHT_REC_STRING);
		put_varint(&w->buf, id);
		put_varint(&w->buf, strlen(s));
		strbuf_addstr(&w->buf, s);
		w->st->strings++;
	}
	return id;
}

static int has_linkage_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;

	return dwarf_attr_integrate(die, DW_AT_linkage_name, &a) || dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a);
}

static const char *die_function(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *s = NULL;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
		s = dwarf_formstring(&a);
	if (!s)
		s = dwarf_diename(die);
	if (!s && dwarf_attr_integrate(die, DW_AT_name, &a))
		s = dwarf_formstring(&a);
	return s;
}

struct frame {
	const char *function;
	const char *file;
	int line;
	const char *dir; /* the CU's compilation directory, when file is relative */
};

/*
 * Is the return address ip + 1 the kernel's way back from a signal handler:
 * libc's sigreturn trampoline (__restore_rt: mov $15, %rax; syscall), which
 * has no dynamic symbol, so its frame was shown as libc.so.6+0x3c04f?  Named
 * then as gdb names it.  The bytes come from the module's file.
 */
static int at_sigreturn(Dwfl_Module *mod, uint64_t ip)
{
	static const unsigned char code[] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	Elf_Scn *scn = NULL;
	uint64_t a = ip + 1 - bias;

	while (elf && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_EXECINSTR) ||
		    a < sh.sh_addr || a - sh.sh_addr >= sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		return d && d->d_buf && a - sh.sh_addr + sizeof(code) <= d->d_size &&
		       !memcmp((const char *)d->d_buf + (a - sh.sh_addr), code, sizeof(code));
	}
	return 0;
}

/*
 * The absolute directory that cu's relative file names are relative to, or
 * NULL.  libdw joins a file name to its line-table directory, but leaves a
 * relative directory (rustc's std: "library/alloc/src" under the
 * compilation directory /rustc/HASH) relative, where addr2line and gdb
 * start from DW_AT_comp_dir.  Code of std inlined into a program names the
 * same file by its absolute path (the program's own compilation directory
 * is elsewhere): joined, std's functions are one function wherever their
 * code ended up.  A relative compilation directory (glibc's "./csu")
 * tells nothing more, and is left out.
 */
static const char *comp_dir(Dwarf_Die *cu)
{
	Dwarf_Attribute a;
	const char *d = cu ? dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &a)) : NULL;

	return d && d[0] == '/' ? d : NULL;
}

/* Fill frames (innermost first) for ip; returns how many. */
static int resolve(struct symindexes *sx, Dwfl *dwfl, uint64_t ip, struct frame *f, int max)
{
	Dwfl_Module *mod = dwfl_addrmodule(dwfl, ip);
	const char *file = NULL, *sym, *dir;
	int line = 0, n = 0;
	Dwarf_Addr bias;
	Dwarf_Die *cu, split;
	Dwfl_Line *l;
	struct symindex *x;
	struct cuindex *c;
	uint8_t type;
	int k = -1;

	if (!mod)
		return 0;
	if (at_sigreturn(mod, ip)) {
		f[0] = (struct frame){ "<signal handler called>", NULL, 0, NULL };
		return 1;
	}
	x = module_index(sx, mod);
	sym = symbol_at(x, ip);
	l = dwfl_module_getsrc(mod, ip);
	if (l)
		file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
	cu = dwfl_module_addrdie(mod, ip, &bias);
	dir = comp_dir(cu);
	/* -gsplit-dwarf: the skeleton unit has no scopes, its split unit (the
	 * .dwo, which libdw finds) has them; indexed as it was, the skeleton
	 * put inner_alloc's line on its caller and lost the inlined frames */
	if (cu && !dwarf_cu_info(cu->cu, NULL, &type, NULL, &split, NULL, NULL, NULL) && type == DW_UT_skeleton &&
	    dwarf_tag(&split) == DW_TAG_compile_unit)
		cu = &split;
	if (cu && (c = cu_index(x, cu)) && (k = cu_innermost(c, ip - bias)) >= 0) {
		Dwarf_Files *files = NULL;

		dwarf_getsrcfiles(cu, &files, NULL);
		for (; k >= 0 && n < max; k = c->scopes[k].parent) {
			Dwarf_Die *d = &c->scopes[k].die;
			int tag = dwarf_tag(d);
			Dwarf_Attribute a;
			Dwarf_Word w;

			f[n++] = (struct frame){ die_function(d), file, line, dir };
			if (tag == DW_TAG_subprogram)
				break;
			/* the caller's position is where this inline was called */
			line = 0;
			file = NULL;
			if (dwarf_attr(d, DW_AT_call_line, &a) && !dwarf_formudata(&a, &w))
				line = (int)w;
			if (files && dwarf_attr(d, DW_AT_call_file, &a) && !dwarf_formudata(&a, &w))
				file = dwarf_filesrc(files, w, NULL, NULL);
		}
		/* a function whose DIE has no linkage name (GCC's lambdas, some
		 * template members: just "operator()") is named by its ELF
		 * symbol, which holds the whole name
		 * (main::{lambda(int)#1}::operator()(int) const); not a local
		 * part such as main.cold */
		if (n && k >= 0 && dwarf_tag(&c->scopes[k].die) == DW_TAG_subprogram && sym &&
		    !strncmp(sym, "_Z", 2) && !strchr(sym, '.') && !has_linkage_name(&c->scopes[k].die))
			f[n - 1].function = sym;
	}
	if (!n) {
		if (!sym && !file)
			return 0;
		f[n++] = (struct frame){ sym, file, line, dir };
	} else if (!f[n - 1].function) {
		f[n - 1].function = sym;
	}
	return n;
}

static void write_symbol(struct writer *w, struct symindexes *sx, Dwfl *dwfl, uint64_t ip)
{
	struct frame f[64];
	uint32_t fn[64], fl[64];
	int n = resolve(sx, dwfl, ip, f, 64);
	struct strbuf path = STRBUF_INIT;

	for (int i = 0; i < n; i++) {
		char *dem = demangle(f[i].function);

		fn[i] = intern(w, dem ? dem : f[i].function);
		free(dem);
		if (f[i].file && f[i].file[0] != '/' && f[i].dir) {
			strbuf_reset(&path);
			strbuf_addf(&path, "%s/%s", f[i].dir, f[i].file);
			fl[i] = intern(w, path.buf);
		} else {
			fl[i] = intern(w, f[i].file);
		}
	}
	strbuf_release(&path);
	strbuf_addch(&w->buf, LHT_REC_SYMBOL);
	put_varint(&w->buf, ip);
	put_varint(&w->buf, (uint64_t)n);
	for (int i = 0; i < n; i++) {
		put_varint(&w->buf, fn[i]);
		put_varint(&w->buf, fl[i]);
		put_varint(&w->buf, (uint64_t)f[i].line);
	}
	if (n && fn[0])
		w->st->resolved++;
	w->st->frames += (uint64_t)n;
	if (w->buf.len > (1u << 20))
		writer_flush(w);
}

/* Sort v and drop repeats: the new length. */
static size_t sort_unique(uint64_t *v, size_t n)
{
	size_t k = 0;

	if (n)
		qsort(v, n, sizeof(*v), lh_cmp_u64);
	for (size_t i = 0; i < n; i++)
		if (!k || v[k - 1] != v[i])
			v[k++] = v[i];
	return k;
}

/* A trace with its header written, which lh_trace_open takes without a
 * message: the file may not even exist yet when the program starts. */
static int has_header(const char *path)
{
	uint8_t h[LHT_HEADER_SIZE];
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return 0;
	ok = !fstat(fd, &sb) && pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) && !memcmp(h, LHT_MAGIC, 8) &&
	     lht_get32(h + 8) <= LHT_READ_VERSION && lht_get32(h + 12) >= LHT_HEADER_SIZE &&
	     lht_get32(h + 12) <= (uint64_t)sb.st_size;
	close(fd);
	return ok;
}

static int stopped(const int *stop)
{
	return __atomic_load_n(stop, __ATOMIC_ACQUIRE);
}

static int resolved_before(const struct lh_symbolizer *s, uint64_t ip)
{
	return s->nips && bsearch(&ip, s->ips, s->nips, sizeof(ip), lh_cmp_u64);
}

int lh_symbolizer_warm(struct lh_symbolizer *s, const char *path, const int *stop)
{
	struct lh_trace t;
	struct lh_trace_rec r;
	struct frame f[64];
	uint64_t *ips = NULL, start_ns;
	size_t first = s->nr, nips = 0, ips_alloc = 0, done = 0;
	int listed = 0;
	struct lh_hashmap seen;

	if (!has_header(path) || lh_trace_open(&t, path))
		return 0;
	start_ns = t.start_ns;
	t.skip_events = 1;
	lh_hashmap_init(&seen);
	for (size_t i = 0; i < s->nr; i++)
		module_seen(&seen, s->mods[i].bias, s->mods[i].path, strlen(s->mods[i].path));
	while (lh_trace_next(&t, &r)) {
		if (r.type == LHT_REC_MODULE) {
			listed++;
			add_module(&s->mods, &s->nr, &s->alloc, &seen, &r);
		} else if (r.type == LHT_REC_NODE && r.ip > LHT_IP_TRUNCATED && !resolved_before(s, r.ip)) {
			ALLOC_GROW(ips, nips + 1, ips_alloc);
			ips[nips++] = r.ip;
		}
	}
	lh_hashmap_release(&seen);
	lh_trace_release(&t);
	if (!listed) {
		free(ips);
		return 0;
	}
	/* begin_add: the modules reported before stay */
	dwfl_report_begin_add(s->dwfl);
	for (size_t i = first; i < s->nr && !stopped(stop); i++)
		report_elf(s->dwfl, &s->mods[i], start_ns, 1);
	dwfl_report_end(s->dwfl, NULL, NULL);
	/* the loading that takes the time, decompressing included: in
	 * dwfl_module_getdwarf (dwarf_begin_elf uncompresses every compressed
	 * debug section it finds) */
	for (size_t i = first; i < s->nr && !stopped(stop); i++) {
		Dwarf_Addr bias;

		if (!s->mods[i].mod)
			continue;
		dwfl_module_getsymtab(s->mods[i].mod);
		dwfl_module_getdwarf(s->mods[i].mod, &bias);
	}
	/* the addresses of the stacks so far, once: libdw keeps what it read
	 * for them (CUs, line tables, scopes); the frames are not kept */
	nips = sort_unique(ips, nips);
	for (size_t i = 0; i < nips && !stopped(stop); i++) {
		resolve(&s->syms, s->dwfl, ips[i], f, 64);
		ALLOC_GROW(s->ips, s->nips + 1, s->ips_alloc);
		s->ips[s->nips++] = ips[i];
		done++;
	}
	if (done)
		qsort(s->ips, s->nips, sizeof(*s->ips), lh_cmp_u64);
	free(ips);
	return listed;
}


int lh_symbolize_trace(const char *path, struct lh_symbolizer *warm, struct lh_symbolize_stats *st)
{
	struct module *mods = NULL;
	size_t nmods = 0, mods_alloc = 0, nips = 0, ips_alloc = 0;
	uint64_t *ips = NULL;
	struct lh_trace t;
	struct lh_trace_rec r;
	struct writer w = { .fd = -1 };
	struct symindexes syms = { 0 };
	Dwfl *dwfl = NULL;
	int ret = -1;
	struct lh_hashmap seen;
	struct seg_range *ranges = NULL;
	size_t nranges = 0, ranges_alloc = 0;

	memset(st, 0, sizeof(*st));
	if (lh_trace_open(&t, path))
		return -1;
	lh_hashmap_init(&seen);
	while (lh_trace_next(&t, &r)) {
		if (r.type == LHT_REC_NODE && r.ip > LHT_IP_TRUNCATED) {
			ALLOC_GROW(ips, nips + 1, ips_alloc);
			ips[nips++] = r.ip;
		} else if (r.type == LHT_REC_MODULE) {
			size_t before = nmods;

			add_module(&mods, &nmods, &mods_alloc, &seen, &r);
			for (int k = 0; nmods > before && k < r.nseg; k++) {
				if (!r.seg_memsz[k])
					continue;
				ALLOC_GROW(ranges, nranges + 1, ranges_alloc);
				ranges[nranges++] = (struct seg_range){ r.bias + r.seg_vaddr[k],
					r.bias + r.seg_vaddr[k] + r.seg_memsz[k], nmods - 1 };
			}
		}
	}
	lh_hashmap_release(&seen);
	if (t.has_symbols) {
		ret = 0;
		goto out;
	}
	warn_reused_ranges(mods, ranges, nranges);
	nips = sort_unique(ips, nips);
	st->ips = nips;
	/* cut off a damaged tail first: the table must follow a complete chunk */
	w.fd = open(path, O_WRONLY | O_CLOEXEC);
	if (w.fd < 0) {
		lh_error("cannot write symbols to '%s': %s", path, strerror(errno));
		goto out;
	}
	if (t.damage.len && ftruncate(w.fd, (off_t)t.good_end)) {
		lh_error("cannot truncate the damaged tail of '%s': %s", path, strerror(errno));
		goto out;
	}
	if (lseek(w.fd, 0, SEEK_END) < 0) {
		lh_error("cannot write symbols to '%s': %s", path, strerror(errno));
		goto out;
	}
	dwfl = warm ? warm->dwfl : dwfl_begin(&callbacks);
	if (!dwfl) {
		lh_error("cannot start elfutils: %s", dwfl_errmsg(-1));
		goto out;
	}
	dwfl_report_begin(dwfl);
	for (size_t i = 0; i < nmods; i++) {
		mods[i].mod = warm ? report_again(warm, &mods[i]) : NULL;
		if (mods[i].mod)
			st->warm++;
		else
			report_elf(dwfl, &mods[i], t.start_ns, 0);
		if (mods[i].mod)
			st->modules++;
		else
			lh_debug("cannot load '%s' for symbols: %s", mods[i].path, dwfl_errmsg(-1));
	}
	dwfl_report_end(dwfl, NULL, NULL);
	if (warm) {
		/* the modules not reported again are gone from the Dwfl */
		symindexes_keep(&warm->syms, mods, nmods);
		free_modules(warm->mods, warm->nr);
		warm->mods = mods;
		warm->nr = nmods;
		warm->alloc = mods_alloc;
		mods = NULL;
		nmods = 0;
	}
	w.st = st;
	strbuf_init(&w.buf, 1 << 16);
	strbuf_addchars(&w.buf, 0, LHT_CHUNK_HEADER);
	for (size_t i = 0; i < nips; i++) {
		if (warm && resolved_before(warm, ips[i]))
			st->warm_ips++;
		write_symbol(&w, warm ? &warm->syms : &syms, dwfl, ips[i]);
	}
	strbuf_addch(&w.buf, LHT_REC_SYMBOLS_END);
	writer_flush(&w);
	if (w.failed) {
		lh_error("cannot write symbols to '%s': %s", path, strerror(w.failed));
		goto out;
	}
	ret = 0;
out:
	symindexes_keep(&syms, NULL, 0);
	if (dwfl && !warm)
		dwfl_end(dwfl);
	if (w.fd >= 0)
		close(w.fd);
	strbuf_release(&w.buf);
	strtab_release(&w.strings);
	free_modules(mods, nmods);
	free(ranges);
	free(ips);
	lh_trace_release(&t);
	return ret;
}
