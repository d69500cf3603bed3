/*
 * Frame rules from DWARF call-frame information (.eh_frame), for the auto
 * unwinder in unwind.c: given a return address, how to find the caller's
 * frame, reduced to the few shapes that x86-64 compilers emit.
 *
 * A rule says where the canonical frame address (CFA, the caller's stack
 * pointer) is, rsp+k, rbp+k or *(rbp+k) (gcc's realigned frames, main among
 * them), and where the caller's rbp was saved (CFA-8*s, or not saved: rbp
 * unchanged).  The return address is always at CFA-8 on x86-64; a function
 * whose CFI says otherwise, a signal frame, or any expression we do not know
 * gets LH_CFI_FALLBACK, and the caller lets libunwind unwind that stack.
 *
 * lh_cfi_lookup() is the slow path, about a microsecond: find the object with
 * _dl_find_object (lock-free, allocation-free), binary-search its
 * .eh_frame_hdr table, run the CIE's and FDE's instructions up to the
 * address.  Its answers are cached per return address in unwind.c, so each
 * call site costs this once per run.  The reader trusts the loaded objects'
 * CFI as the dynamic loader and the C++ runtime do, but never reads past an
 * entry's own length.
 */
#include <dlfcn.h>
#include <dwarf.h>
#include <stdint.h>
#include <string.h>

#include "native/preload/preload.h"

#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16
#define MAX_REMEMBER 8

struct cursor {
	const uint8_t *p, *end;
	int bad;   /* ran past end or met an unknown encoding */
};

static uint64_t get_uleb(struct cursor *c)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (c->p < c->end) {
		uint8_t b = *c->p++;

		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return v;
	}
	c->bad = 1;
	return 0;
}

static int64_t get_sleb(struct cursor *c)
{
	int64_t v = 0;
	unsigned shift = 0;
	uint8_t b = 0;

	while (c->p < c->end) {
		b = *c->p++;
		if (shift < 64)
			v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
		shift += 7;
		if (!(b & 0x80)) {
			if (shift < 64 && (b & 0x40))
				v |= -((int64_t)1 << shift);
			return v;
		}
	}
	c->bad = 1;
	return 0;
}

static uint64_t get_fixed(struct cursor *c, int n)
{
	uint64_t v = 0;

	if (c->end - c->p < n) {
		c->bad = 1;
		return 0;
	}
	memcpy(&v, c->p, (size_t)n); /* little-endian */
	c->p += n;
	return v;
}

/* A DW_EH_PE-encoded pointer; datarel is relative to base (the start of
 * .eh_frame_hdr, which is what glibc and gcc use on x86-64). */
static uint64_t get_encoded(struct cursor *c, uint8_t enc, uintptr_t base)
{
	const uint8_t *at = c->p;
	uint64_t v;

	if (enc == DW_EH_PE_omit)
		return 0;
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr: v = get_fixed(c, 8); break;
	case DW_EH_PE_uleb128: v = get_uleb(c); break;
	case DW_EH_PE_udata2: v = get_fixed(c, 2); break;
	case DW_EH_PE_udata4: v = get_fixed(c, 4); break;
	case DW_EH_PE_udata8: v = get_fixed(c, 8); break;
	case DW_EH_PE_sleb128: v = (uint64_t)get_sleb(c); break;
	case DW_EH_PE_sdata2: v = (uint64_t)(int64_t)(int16_t)get_fixed(c, 2); break;
	case DW_EH_PE_sdata4: v = (uint64_t)(int64_t)(int32_t)get_fixed(c, 4); break;
	case DW_EH_PE_sdata8: v = get_fixed(c, 8); break;
	default: c->bad = 1; return 0;
	}
	switch (enc & 0x70) {
	case 0: break;
	case DW_EH_PE_pcrel: v += (uintptr_t)at; break;
	case DW_EH_PE_datarel: v += base; break;
	default: c->bad = 1; return 0;
	}
	if (enc & DW_EH_PE_indirect)
		c->bad = 1; /* only personality pointers use it, and we skip those */
	return v;
}

/* Register rules we track: rbp's and the return address's. */
enum { R_SAME, R_OFFSET, R_UNDEF, R_OTHER, R_BREG6 /* saved at rbp + off */ };

struct row {
	int cfa_reg;       /* REG_RSP, REG_RBP, or -1: CFA = *(rbp + cfa_off) */
	int64_t cfa_off;
	int cfa_bad;       /* an expression or a register we cannot use */
	int rbp_kind, ra_kind;
	int64_t rbp_off, ra_off; /* R_OFFSET: saved at CFA + off */
};

struct cie {
	uint64_t code_align;
	int64_t data_align;
	uint64_t ra_reg;
	uint8_t fde_enc;
	int has_aug_len, signal;
	const uint8_t *insns, *end;
};

static int parse_cie(const uint8_t *at, uintptr_t base, struct cie *cie)
{
	struct cursor c = { at, at + 4, 0 };
	uint64_t len = get_fixed(&c, 4);
	const char *aug;
	uint8_t version;

	if (len == 0xffffffff) /* 64-bit DWARF: not produced for .eh_frame here */
		return -1;
	c.end = c.p + len;
	if (get_fixed(&c, 4) != 0)
		return -1; /* .eh_frame CIE ids are 0 */
	version = (uint8_t)get_fixed(&c, 1);
	aug = (const char *)c.p;
	while (c.p < c.end && *c.p)
		c.p++;
	if (c.p++ >= c.end || (version != 1 && version != 3))
		return -1;
	cie->code_align = get_uleb(&c);
	cie->data_align = get_sleb(&c);
	cie->ra_reg = version == 1 ? get_fixed(&c, 1) : get_uleb(&c);
	cie->fde_enc = DW_EH_PE_absptr;
	cie->has_aug_len = aug[0] == 'z';
	cie->signal = 0;
	if (cie->has_aug_len) {
		uint64_t n = get_uleb(&c);
		const uint8_t *aug_end = c.p + n;

		for (const char *a = aug + 1; *a && !c.bad; a++) {
			if (*a == 'R') {
				cie->fde_enc = (uint8_t)get_fixed(&c, 1);
			} else if (*a == 'P') {
				uint8_t enc = (uint8_t)get_fixed(&c, 1);

				get_encoded(&c, enc & 0x7f, base);
			} else if (*a == 'L') {
				get_fixed(&c, 1);
			} else if (*a == 'S') {
				cie->signal = 1;
			} else {
				break; /* unknown letters are allowed: aug_end skips their data */
			}
		}
		c.p = aug_end;
	} else if (aug[0]) {
		return -1;
	}
	if (c.bad || c.p > c.end)
		return -1;
	cie->insns = c.p;
	cie->end = c.end;
	return 0;
}

static void set_reg(struct row *r, uint64_t reg, int kind, int64_t off)
{
	if (reg == REG_RBP) {
		r->rbp_kind = kind;
		r->rbp_off = off;
	} else if (reg == REG_RA) {
		r->ra_kind = kind;
		r->ra_off = off;
	} else if (reg == REG_RSP && kind != R_SAME) {
		r->cfa_bad = 1; /* rsp is always the CFA for us */
	}
}

/* Run instructions [p, end) while the location stays <= pc.  init is the row
 * after the CIE (for DW_CFA_restore); 0, or -1 on an unknown instruction. */
static int run_cfa(const uint8_t *p, const uint8_t *end, const struct cie *cie, uintptr_t loc,
		   uintptr_t pc, struct row *r, const struct row *init, uintptr_t base)
{
	struct cursor c = { p, end, 0 };
	struct row saved[MAX_REMEMBER];
	int nsaved = 0;

	while (c.p < c.end && !c.bad) {
		uint8_t op = *c.p++;
		uint64_t reg, a;
		int64_t s;

		switch (op & 0xc0) {
		case DW_CFA_advance_loc:
			loc += (op & 0x3f) * cie->code_align;
			if (loc > pc)
				return 0;
			continue;
		case DW_CFA_offset:
			a = get_uleb(&c);
			set_reg(r, op & 0x3f, R_OFFSET, (int64_t)a * cie->data_align);
			continue;
		case DW_CFA_restore:
			reg = op & 0x3f;
			if (!init)
				return -1;
			if (reg == REG_RBP)
				set_reg(r, reg, init->rbp_kind, init->rbp_off);
			else if (reg == REG_RA)
				set_reg(r, reg, init->ra_kind, init->ra_off);
			continue;
		}
		switch (op) {
		case DW_CFA_nop:
			break;
		case DW_CFA_set_loc:
			loc = get_encoded(&c, cie->fde_enc, base);
			if (loc > pc)
				return 0;
			break;
		case DW_CFA_advance_loc1:
		case DW_CFA_advance_loc2:
		case DW_CFA_advance_loc4:
			a = get_fixed(&c, op == DW_CFA_advance_loc1 ? 1 : op == DW_CFA_advance_loc2 ? 2 : 4);
			loc += a * cie->code_align;
			if (loc > pc)
				return 0;
			break;
		case DW_CFA_offset_extended:
			reg = get_uleb(&c);
			a = get_uleb(&c);
			set_reg(r, reg, R_OFFSET, (int64_t)a * cie->data_align);
			break;
		case DW_CFA_offset_extended_sf:
			reg = get_uleb(&c);
			s = get_sleb(&c);
			set_reg(r, reg, R_OFFSET, s * cie->data_align);
			break;
		case DW_CFA_GNU_negative_offset_extended:
			reg = get_uleb(&c);
			a = get_uleb(&c);
			set_reg(r, reg, R_OFFSET, -(int64_t)a * cie->data_align);
			break;
		case DW_CFA_restore_extended:
			reg = get_uleb(&c);
			if (!init)
				return -1;
			if (reg == REG_RBP)
				set_reg(r, reg, init->rbp_kind, init->rbp_off);
			else if (reg == REG_RA)
				set_reg(r, reg, init->ra_kind, init->ra_off);
			break;
		case DW_CFA_undefined:
			set_reg(r, get_uleb(&c), R_UNDEF, 0);
			break;
		case DW_CFA_same_value:
			set_reg(r, get_uleb(&c), R_SAME, 0);
			break;
		case DW_CFA_register:
			reg = get_uleb(&c);
			get_uleb(&c);
			set_reg(r, reg, R_OTHER, 0);
			break;
		case DW_CFA_remember_state:
			if (nsaved == MAX_REMEMBER)
				return -1;
			saved[nsaved++] = *r;
			break;
		case DW_CFA_restore_state:
			if (!nsaved)
				return -1;
			*r = saved[--nsaved];
			break;
		case DW_CFA_def_cfa:
			r->cfa_reg = (int)get_uleb(&c);
			r->cfa_off = (int64_t)get_uleb(&c);
			r->cfa_bad = 0;
			break;
		case DW_CFA_def_cfa_sf:
			r->cfa_reg = (int)get_uleb(&c);
			r->cfa_off = get_sleb(&c) * cie->data_align;
			r->cfa_bad = 0;
			break;
		case DW_CFA_def_cfa_register:
			r->cfa_reg = (int)get_uleb(&c);
			break;
		case DW_CFA_def_cfa_offset:
			r->cfa_off = (int64_t)get_uleb(&c);
			break;
		case DW_CFA_def_cfa_offset_sf:
			r->cfa_off = get_sleb(&c) * cie->data_align;
			break;
		case DW_CFA_def_cfa_expression: {
			/* gcc's stack realignment: DW_OP_breg6 (rbp) k; DW_OP_deref */
			const uint8_t *e;
			struct cursor x;

			a = get_uleb(&c);
			if (c.bad || (uint64_t)(c.end - c.p) < a)
				return -1;
			e = c.p;
			c.p += a;
			x = (struct cursor){ e, e + a, 0 };
			r->cfa_bad = 1;
			if (a >= 3 && get_fixed(&x, 1) == DW_OP_breg6) {
				s = get_sleb(&x);
				if (!x.bad && x.p + 1 == x.end && *x.p == DW_OP_deref) {
					r->cfa_reg = -1;
					r->cfa_off = s;
					r->cfa_bad = 0;
				}
			}
			break;
		}
		case DW_CFA_expression:
		case DW_CFA_val_expression: {
			struct cursor x;

			reg = get_uleb(&c);
			a = get_uleb(&c);
			if (c.bad || (uint64_t)(c.end - c.p) < a)
				return -1;
			x = (struct cursor){ c.p, c.p + a, 0 };
			c.p += a;
			/* the DRAP prologue saves rbp at DW_OP_breg6 (rbp) k */
			if (op == DW_CFA_expression && reg == REG_RBP && a >= 2 &&
			    get_fixed(&x, 1) == DW_OP_breg6) {
				s = get_sleb(&x);
				if (!x.bad && x.p == x.end) {
					set_reg(r, reg, R_BREG6, s);
					break;
				}
			}
			set_reg(r, reg, R_OTHER, 0);
			break;
		}
		case DW_CFA_val_offset:
			reg = get_uleb(&c);
			get_uleb(&c);
			set_reg(r, reg, R_OTHER, 0);
			break;
		case DW_CFA_val_offset_sf:
			reg = get_uleb(&c);
			get_sleb(&c);
			set_reg(r, reg, R_OTHER, 0);
			break;
		case DW_CFA_GNU_args_size:
			get_uleb(&c);
			break;
		default:
			return -1;
		}
	}
	return c.bad ? -1 : 0;
}

/* Pack a row into a rule, or LH_CFI_FALLBACK when it has a shape we do not
 * handle quickly. */
static uint32_t pack(const struct row *r)
{
	uint32_t rule, slot = 0;

	if (r->ra_kind == R_UNDEF)
		return LH_CFI_END;
	if (r->cfa_bad || r->ra_kind != R_OFFSET || r->ra_off != -8)
		return LH_CFI_FALLBACK;
	if (r->cfa_reg == REG_RSP)
		rule = LH_CFI_RSP;
	else if (r->cfa_reg == REG_RBP)
		rule = LH_CFI_RBP;
	else if (r->cfa_reg == -1)
		rule = LH_CFI_DEREF_RBP;
	else
		return LH_CFI_FALLBACK;
	if (rule == LH_CFI_DEREF_RBP ? r->cfa_off < -32768 || r->cfa_off > 32767
				     : r->cfa_off < 0 || r->cfa_off > 65535)
		return LH_CFI_FALLBACK;
	if (rule == LH_CFI_DEREF_RBP) {
		/* the realigned frame's own rbp points at the saved one */
		if (r->rbp_kind != R_BREG6 || (r->rbp_off & 7) || r->rbp_off / 8 < -2048 ||
		    r->rbp_off / 8 > 2047)
			return LH_CFI_FALLBACK;
		slot = (uint32_t)(r->rbp_off / 8 + 2048);
	} else if (r->rbp_kind == R_OFFSET) {
		if (r->rbp_off >= 0 || (-r->rbp_off & 7) || -r->rbp_off / 8 > 4095)
			return LH_CFI_FALLBACK;
		slot = (uint32_t)(-r->rbp_off / 8);
	} else if (r->rbp_kind != R_SAME) {
		return LH_CFI_FALLBACK;
	}
	return rule | (uint32_t)(r->cfa_off & 0xffff) << 3 | slot << 19;
}

/* Binary search of .eh_frame_hdr's sorted (initial location, FDE) table,
 * both datarel sdata4 as every gcc/ld/lld output has them. */
static const uint8_t *find_fde(const uint8_t *hdr, uintptr_t pc)
{
	struct cursor c = { hdr + 4, hdr + 4 + 16, 0 };
	const int32_t *table;
	uint64_t count, lo = 0, hi;

	if (hdr[0] != 1 || hdr[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4))
		return NULL;
	get_encoded(&c, hdr[1], (uintptr_t)hdr);
	count = get_encoded(&c, hdr[2], (uintptr_t)hdr);
	if (c.bad || !count)
		return NULL;
	table = (const int32_t *)c.p;
	hi = count;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if ((uintptr_t)hdr + (intptr_t)table[2 * mid] <= pc)
			lo = mid;
		else
			hi = mid;
	}
	if ((uintptr_t)hdr + (intptr_t)table[2 * lo] > pc)
		return NULL;
	return hdr + (intptr_t)table[2 * lo + 1];
}

/* Open the FDE at fde: its CIE, the code it covers, and c at its
 * instructions' augmentation.  0, or -1 for a shape we do not read. */
static int fde_open(const uint8_t *fde, uintptr_t base, struct cie *cie, struct cursor *c, uintptr_t *start,
		    uint64_t *range)
{
	uint64_t len;
	uint32_t cie_ptr;

	*c = (struct cursor){ fde, fde + 8, 0 };
	len = get_fixed(c, 4);
	if (len == 0xffffffff || len < 4)
		return -1;
	c->end = fde + 4 + len;
	cie_ptr = (uint32_t)get_fixed(c, 4);
	if (parse_cie(fde + 4 - cie_ptr, base, cie) || cie->signal || cie->ra_reg != REG_RA)
		return -1;
	*start = get_encoded(c, cie->fde_enc, base);
	*range = get_encoded(c, cie->fde_enc & 0x0f, base);
	return c->bad ? -1 : 0;
}

/*
 * The rule where no FDE covers pc (= ra - 1) in a module that has unwind
 * tables.  A return address that is the first instruction of a function,
 * after bytes no FDE covers, was not pushed by a call but by hand:
 * makecontext's return to __start_context, with rbp still that of the
 * context it was made from, so the frame pointer led the walk on through
 * that context's stack (libunwind stops there, as we now do).  Elsewhere
 * (code without CFI, such as V8's builtins inside node, which keep frame
 * pointers) the frame pointer is the guess.
 */
static uint32_t uncovered(const uint8_t *hdr, uintptr_t ra)
{
	const uint8_t *fde = find_fde(hdr, ra);
	struct cursor c;
	struct cie cie;
	uintptr_t start;
	uint64_t range;

	if (fde && !fde_open(fde, (uintptr_t)hdr, &cie, &c, &start, &range) && start == ra)
		return LH_CFI_END;
	return LH_CFI_NONE;
}

uint32_t lh_cfi_lookup(uintptr_t ra)
{
	struct dl_find_object obj;
	const uint8_t *fde, *hdr;
	struct cursor c;
	struct cie cie;
	struct row init, r;
	uint64_t len, range;
	uintptr_t pc = ra - 1, start, base;

	if (_dl_find_object((void *)pc, &obj) || !obj.dlfo_eh_frame)
		return LH_CFI_NONE;
	hdr = obj.dlfo_eh_frame;
	base = (uintptr_t)hdr;
	fde = find_fde(hdr, pc);
	if (!fde)
		return uncovered(hdr, ra);
	if (fde_open(fde, base, &cie, &c, &start, &range))
		return LH_CFI_FALLBACK;
	if (pc < start || pc >= start + range)
		return uncovered(hdr, ra);
	if (cie.has_aug_len) {
		len = get_uleb(&c);
		c.p += len;
	}
	if (c.bad || c.p > c.end)
		return LH_CFI_FALLBACK;
	memset(&init, 0, sizeof(init));
	init.cfa_reg = REG_RSP;
	init.rbp_kind = R_SAME;
	init.ra_kind = R_SAME;
	if (run_cfa(cie.insns, cie.end, &cie, 0, 0, &init, NULL, base) ||
	    (r = init, run_cfa(c.p, c.end, &cie, start, pc, &r, &init, base)))
		return LH_CFI_FALLBACK;
	return pack(&r);
}
