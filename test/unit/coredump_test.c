/*
 * Unit tests of src/coredump/ on small hand-made files: a core written
 * byte by byte here (two memory segments, one left out, the notes gdb reads,
 * an ELF header page with a build id) for the reader and its errors, and
 * tiny ELF "node binaries" written with libelf, whose only content is the
 * v8dbg_* and Version symbols a case needs, for the metadata errors
 * (pointer compression, unknown V8, stripped, no metadata).  Real cores and
 * a real node are test/cli/core.sh's.
 */
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <unistd.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "coredump/coredump.h"
#include "coredump/v8meta.h"
#include "test.h"

/* A file name under $LH_TMP (or /tmp) unique to this process. */
static void tmp_path(char *out, size_t n, const char *name)
{
	const char *dir = getenv("LH_TMP");

	snprintf(out, n, "%s/coredump-%d-%s", dir ? dir : "/tmp", (int)getpid(), name);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ(fwrite(p, 1, n, f), n);
	fclose(f);
}

struct buf {
	unsigned char b[8192];
	size_t len;
};

static size_t put(struct buf *b, const void *p, size_t n)
{
	size_t at = (b->len + 7) & ~(size_t)7;

	memset(b->b + b->len, 0, at - b->len);
	memcpy(b->b + at, p, n);
	b->len = at + n;
	return at;
}

static void put_note(struct buf *b, uint32_t type, const void *desc, uint32_t n)
{
	Elf64_Nhdr h = { 5, n, type };
	unsigned char name[8] = "CORE";

	/* notes are 4-byte aligned, not 8: written in place */
	memcpy(b->b + b->len, &h, sizeof(h));
	b->len += sizeof(h);
	memcpy(b->b + b->len, name, 8);
	b->len += 8;
	memcpy(b->b + b->len, desc, n);
	b->len += (n + 3) & ~3u;
}

/* Offsets in the hand-made core, for the tests that damage it. */
struct core_layout {
	size_t notes, notes_len, seg_hi, size;
};

/*
 * The hand-made core: segments at 0x20000 (64 bytes: words 0..7, then
 * value 4 at 0x20000 for the .bss test), 0x10000 (an ELF header page with a
 * GNU build id de ad be ef, listed after the first so the reader must sort)
 * and 0x30000 (memsz 4096, not in the file).  Notes: one NT_PRSTATUS, an
 * NT_PRPSINFO (pid 4242, "prog"), an NT_FILE mapping /fake/prog at
 * 0x10000.  The machine and type can be spoiled for the error cases.
 */
static void make_core(struct buf *b, struct core_layout *l, uint16_t type, uint16_t machine)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph[4] = { { 0 } };
	struct elf_prstatus pr = { 0 };
	struct elf_prpsinfo ps = { 0 };
	unsigned char ntfile[16 + 24 + 16] = { 0 };
	uint64_t nf[5] = { 1, 4096, 0x10000, 0x11000, 0 };
	unsigned char hdr_page[256] = { 0 };
	uint64_t words[8];
	size_t notes, seg_a, seg_b;

	memset(b, 0, sizeof(*b));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = type;
	eh.e_machine = machine;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 4;
	b->len = sizeof(eh) + sizeof(ph);

	pr.pr_pid = 4243;
	ps.pr_pid = 4242;
	memcpy(ps.pr_fname, "prog", 5);
	memcpy(ntfile, nf, sizeof(nf));
	memcpy(ntfile + 40, "/fake/prog", 11);
	notes = b->len;
	put_note(b, NT_PRSTATUS, &pr, sizeof(pr));
	put_note(b, NT_PRPSINFO, &ps, sizeof(ps));
	put_note(b, NT_FILE, ntfile, sizeof(ntfile));
	l->notes = notes;
	l->notes_len = b->len - notes;

	for (int i = 0; i < 8; i++)
		words[i] = (uint64_t)i;
	words[0] = 4;
	seg_a = put(b, words, sizeof(words));

	/* an ELF header whose one PT_NOTE (at file offset 120) holds a GNU build id */
	{
		Elf64_Ehdr *h = (Elf64_Ehdr *)(void *)hdr_page;
		Elf64_Phdr *p = (Elf64_Phdr *)(void *)(hdr_page + 64);
		Elf64_Nhdr *n = (Elf64_Nhdr *)(void *)(hdr_page + 120);

		memcpy(h->e_ident, ELFMAG, SELFMAG);
		h->e_phoff = 64;
		h->e_phentsize = sizeof(Elf64_Phdr);
		h->e_phnum = 1;
		p->p_type = PT_NOTE;
		p->p_offset = 120;
		p->p_filesz = sizeof(*n) + 4 + 4;
		n->n_namesz = 4;
		n->n_descsz = 4;
		n->n_type = NT_GNU_BUILD_ID;
		memcpy(hdr_page + 120 + sizeof(*n), "GNU\0\xde\xad\xbe\xef", 8);
	}
	seg_b = put(b, hdr_page, sizeof(hdr_page));

	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = notes, .p_filesz = l->notes_len };
	ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = seg_a, .p_vaddr = 0x20000,
			      .p_filesz = sizeof(words), .p_memsz = 4096 };
	ph[2] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R, .p_offset = seg_b, .p_vaddr = 0x10000,
			      .p_filesz = sizeof(hdr_page), .p_memsz = 4096 };
	ph[3] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R, .p_offset = b->len, .p_vaddr = 0x30000,
			      .p_filesz = 0, .p_memsz = 4096 };
	memcpy(b->b, &eh, sizeof(eh));
	memcpy(b->b + sizeof(eh), ph, sizeof(ph));
	l->seg_hi = seg_b + sizeof(hdr_page);
	l->size = b->len;
}

/* Open a core made of b's first n bytes; the error text (if any) into err. */
static int open_bytes(struct lh_core *c, const struct buf *b, size_t n, const char *name, char *path, size_t pathsz,
		      struct strbuf *err)
{
	int rc;

	tmp_path(path, pathsz, name);
	write_file(path, b->b, n);
	strbuf_reset(err);
	lh_error_capture(err);
	rc = lh_core_open(c, path);
	lh_error_capture(NULL);
	return rc;
}

TEST(coredump_core_reads_hand_made_core)
{
	struct buf b;
	struct core_layout l;
	struct lh_core c;
	struct strbuf err = STRBUF_INIT;
	char path[512], id[64];
	const uint64_t *w;
	const struct lh_core_file *f;

	make_core(&b, &l, ET_CORE, EM_X86_64);
	CHECK_EQ(open_bytes(&c, &b, l.size, "good", path, sizeof(path), &err), 0);
	CHECK_EQ(err.len, 0);
	CHECK_EQ(c.nsegs, 3);
	CHECK_EQ(c.segs[0].vaddr, 0x10000); /* sorted by address */
	CHECK_EQ(c.segs[1].vaddr, 0x20000);
	CHECK_EQ(c.segs[2].filesz, 0);
	CHECK_EQ(c.pid, 4242);
	CHECK_STR(c.fname, "prog");
	CHECK_EQ(c.threads, 1);
	CHECK_EQ(c.nfiles, 1);
	f = lh_core_main_file(&c);
	CHECK(f != NULL);
	if (f) {
		CHECK_STR(f->path, "/fake/prog");
		CHECK_EQ(f->start, 0x10000);
	}
	w = lh_core_ptr(&c, 0x20000 + 8 * 3, 8);
	CHECK(w != NULL);
	if (w)
		CHECK_EQ(*w, 3);
	CHECK(lh_core_ptr(&c, 0x20000 + 56, 8) != NULL);
	CHECK(lh_core_ptr(&c, 0x20000 + 60, 8) == NULL); /* runs past the bytes in the file */
	CHECK(lh_core_ptr(&c, 0x30000, 1) == NULL);      /* a segment with no bytes in the file */
	CHECK(lh_core_ptr(&c, 0x1000, 1) == NULL);       /* below every segment */
	CHECK_EQ(lh_core_build_id(&c, 0x10000, id, sizeof(id)), 0);
	CHECK_STR(id, "deadbeef");
	CHECK_EQ(lh_core_build_id(&c, 0x20000, id, sizeof(id)), -1);
	lh_core_release(&c);
	CHECK(lh_core_is_elf(path));
	unlink(path);
	strbuf_release(&err);
}

TEST(coredump_core_errors)
{
	struct buf b;
	struct core_layout l;
	struct lh_core c;
	struct strbuf err = STRBUF_INIT;
	char path[512], want[128];

	make_core(&b, &l, ET_CORE, EM_X86_64);
	/* cut inside the last segment: which segment, and up to where it needed */
	CHECK_EQ(open_bytes(&c, &b, l.size - 10, "cut", path, sizeof(path), &err), -1);
	snprintf(want, sizeof(want), "truncated at byte %zu (segment 3 of 4 needs bytes up to %zu)", l.size - 10,
		 l.seg_hi);
	CHECK(strstr(err.buf, want) != NULL);
	unlink(path);
	CHECK_EQ(open_bytes(&c, &b, 40, "cut40", path, sizeof(path), &err), -1);
	CHECK(strstr(err.buf, "truncated at byte 40 (inside the ELF header)") != NULL);
	unlink(path);
	CHECK_EQ(open_bytes(&c, &b, 100, "cut100", path, sizeof(path), &err), -1);
	CHECK(strstr(err.buf, "truncated at byte 100 (inside the program headers)") != NULL);
	unlink(path);

	CHECK_EQ(open_bytes(&c, (const struct buf *)(const void *)"#!/bin/sh\necho hi\n", 18, "text", path,
			    sizeof(path), &err), -1);
	CHECK(strstr(err.buf, "not an ELF file") != NULL);
	CHECK(!lh_core_is_elf(path));
	unlink(path);

	make_core(&b, &l, ET_EXEC, EM_X86_64);
	CHECK_EQ(open_bytes(&c, &b, l.size, "exec", path, sizeof(path), &err), -1);
	CHECK(strstr(err.buf, "an ELF executable, not a core") != NULL);
	unlink(path);

	make_core(&b, &l, ET_CORE, EM_AARCH64);
	CHECK_EQ(open_bytes(&c, &b, l.size, "arm", path, sizeof(path), &err), -1);
	CHECK(strstr(err.buf, "machine 183 is not supported (x86-64 only)") != NULL);
	unlink(path);

	/* a note whose size runs past the notes segment */
	make_core(&b, &l, ET_CORE, EM_X86_64);
	((Elf64_Nhdr *)(void *)(b.b + l.notes))->n_descsz = 100000;
	CHECK_EQ(open_bytes(&c, &b, l.size, "badnote", path, sizeof(path), &err), -1);
	CHECK(strstr(err.buf, "a note runs past the notes segment") != NULL);
	unlink(path);
	strbuf_release(&err);
}

/*
 * A tiny ELF executable holding symbols: name=value pairs as 4-byte ints in
 * .data, and those named in bss_names (values in the core) in a .bss at
 * 0x20000.  No program headers, no build id.
 */
struct fake_sym {
	const char *name;
	int32_t value;
	int bss;
};

static int write_fake_binary(const char *path, const struct fake_sym *syms, size_t n, int with_symtab)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600), rc = -1;
	Elf *e;
	Elf64_Ehdr *eh;
	Elf_Scn *data_scn, *bss_scn, *sym_scn, *str_scn, *shstr_scn;
	Elf_Data *d;
	Elf64_Shdr *sh;
	int32_t values[64] = { 0 };
	Elf64_Sym esyms[65] = { { 0 } };
	char strtab[4096] = "", shstrtab[] = "\0.data\0.bss\0.symtab\0.strtab\0.shstrtab";
	size_t strlen_ = 1, ndata = 0, nbss = 0;

	if (fd < 0 || n > 64)
		return -1;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!e)
		goto out;
	eh = elf64_newehdr(e);
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;

	data_scn = elf_newscn(e);
	bss_scn = elf_newscn(e);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(syms[i].name) + 1;

		esyms[i + 1].st_name = (Elf64_Word)strlen_;
		memcpy(strtab + strlen_, syms[i].name, len);
		strlen_ += len;
		esyms[i + 1].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT);
		esyms[i + 1].st_size = 4;
		if (syms[i].bss) {
			esyms[i + 1].st_shndx = (Elf64_Section)elf_ndxscn(bss_scn);
			esyms[i + 1].st_value = 0x20000 + 4 * nbss++;
		} else {
			esyms[i + 1].st_shndx = (Elf64_Section)elf_ndxscn(data_scn);
			esyms[i + 1].st_value = 0x1000 + 4 * ndata;
			values[ndata++] = syms[i].value;
		}
	}
	d = elf_newdata(data_scn);
	d->d_buf = values;
	d->d_size = 4 * (ndata ? ndata : 1);
	d->d_align = 4;
	d->d_type = ELF_T_BYTE;
	sh = elf64_getshdr(data_scn);
	sh->sh_name = 1;
	sh->sh_type = SHT_PROGBITS;
	sh->sh_flags = SHF_ALLOC | SHF_WRITE;
	sh->sh_addr = 0x1000;

	d = elf_newdata(bss_scn);
	d->d_buf = NULL;
	d->d_size = 4 * (nbss ? nbss : 1);
	d->d_align = 4;
	d->d_type = ELF_T_BYTE;
	sh = elf64_getshdr(bss_scn);
	sh->sh_name = 7;
	sh->sh_type = SHT_NOBITS;
	sh->sh_flags = SHF_ALLOC | SHF_WRITE;
	sh->sh_addr = 0x20000;

	str_scn = NULL;
	if (with_symtab) {
		sym_scn = elf_newscn(e);
		str_scn = elf_newscn(e);
		d = elf_newdata(sym_scn);
		d->d_buf = esyms;
		d->d_size = sizeof(Elf64_Sym) * (n + 1);
		d->d_align = 8;
		d->d_type = ELF_T_SYM;
		sh = elf64_getshdr(sym_scn);
		sh->sh_name = 12;
		sh->sh_type = SHT_SYMTAB;
		sh->sh_entsize = sizeof(Elf64_Sym);
		sh->sh_link = (Elf64_Word)elf_ndxscn(str_scn);
		sh->sh_info = 1;
		d = elf_newdata(str_scn);
		d->d_buf = strtab;
		d->d_size = strlen_;
		d->d_align = 1;
		d->d_type = ELF_T_BYTE;
		sh = elf64_getshdr(str_scn);
		sh->sh_name = 20;
		sh->sh_type = SHT_STRTAB;
	}
	shstr_scn = elf_newscn(e);
	d = elf_newdata(shstr_scn);
	d->d_buf = shstrtab;
	d->d_size = sizeof(shstrtab);
	d->d_align = 1;
	d->d_type = ELF_T_BYTE;
	sh = elf64_getshdr(shstr_scn);
	sh->sh_name = 28;
	sh->sh_type = SHT_STRTAB;
	eh->e_shstrndx = (Elf64_Half)elf_ndxscn(shstr_scn);
	if (elf_update(e, ELF_C_WRITE) >= 0)
		rc = 0;
	elf_end(e);
out:
	close(fd);
	return rc;
}

/* Load the metadata of a fake binary for the hand-made core; the error text into err. */
static int load_fake(const struct fake_sym *syms, size_t n, int with_symtab, struct strbuf *err)
{
	struct buf b;
	struct core_layout l;
	struct lh_core c;
	struct lh_v8meta m;
	char core_path[512], bin_path[512];
	int rc = -1;

	make_core(&b, &l, ET_CORE, EM_X86_64);
	tmp_path(core_path, sizeof(core_path), "meta-core");
	write_file(core_path, b.b, l.size);
	tmp_path(bin_path, sizeof(bin_path), "fake-node");
	CHECK_EQ(write_fake_binary(bin_path, syms, n, with_symtab), 0);
	strbuf_reset(err);
	if (lh_core_open(&c, core_path))
		goto out;
	lh_error_capture(err);
	rc = lh_v8meta_load(&m, &c, bin_path);
	lh_error_capture(NULL);
	if (!rc)
		lh_v8meta_release(&m);
	lh_core_release(&c);
out:
	unlink(core_path);
	unlink(bin_path);
	return rc;
}

#define VERSION_SYMS(major, minor)                                         \
	{ "_ZN2v88internal7Version6major_E", major, 0 },                   \
	{ "_ZN2v88internal7Version6minor_E", minor, 0 },                   \
	{ "_ZN2v88internal7Version6build_E", 0, 0 },                       \
	{ "_ZN2v88internal7Version6patch_E", 0, 0 }

TEST(coredump_meta_errors)
{
	struct strbuf err = STRBUF_INIT;
	const struct fake_sym none[] = { { "main_data", 1, 0 } };
	const struct fake_sym compressed[] = { { "v8dbg_TaggedSize", 4, 0 }, { "v8dbg_SystemPointerSize", 8, 0 },
					       VERSION_SYMS(11, 3) };
	/* the same, but the tagged size in .bss: read from the core's page at 0x20000, which holds 4 */
	const struct fake_sym compressed_bss[] = { { "v8dbg_TaggedSize", 0, 1 }, { "v8dbg_SystemPointerSize", 8, 0 } };
	const struct fake_sym no_version[] = { { "v8dbg_TaggedSize", 8, 0 }, { "v8dbg_SystemPointerSize", 8, 0 } };
	const struct fake_sym v12[] = { { "v8dbg_TaggedSize", 8, 0 }, { "v8dbg_SystemPointerSize", 8, 0 },
					VERSION_SYMS(12, 4) };
	const struct fake_sym v11_bare[] = { { "v8dbg_TaggedSize", 8, 0 }, { "v8dbg_SystemPointerSize", 8, 0 },
					     VERSION_SYMS(11, 3) };

	CHECK_EQ(load_fake(none, 1, 1, &err), -1);
	CHECK(strstr(err.buf, "has no V8 postmortem metadata (no v8dbg_* symbols): stripped, or not node") != NULL);
	CHECK_EQ(load_fake(none, 0, 0, &err), -1); /* no symbol table at all: stripped */
	CHECK(strstr(err.buf, "has no V8 postmortem metadata") != NULL);
	CHECK_EQ(load_fake(compressed, 6, 1, &err), -1);
	CHECK(strstr(err.buf, "is a pointer-compressed V8 build (tagged values of 4 bytes): not supported") != NULL);
	CHECK_EQ(load_fake(compressed_bss, 2, 1, &err), -1);
	CHECK(strstr(err.buf, "pointer-compressed V8 build (tagged values of 4 bytes)") != NULL);
	CHECK_EQ(load_fake(no_version, 2, 1, &err), -1);
	CHECK(strstr(err.buf, "cannot tell the V8 version of") != NULL);
	CHECK_EQ(load_fake(v12, 6, 1, &err), -1);
	CHECK(strstr(err.buf, "V8 12.4.0.0 (in '") != NULL);
	CHECK(strstr(err.buf, "is not supported: leakhunt knows the unexported layout of V8 11") != NULL);
	CHECK_EQ(load_fake(v11_bare, 6, 1, &err), -1);
	CHECK(strstr(err.buf, "lacks the metadata symbol 'v8dbg_") != NULL);
	strbuf_release(&err);
}

TEST(coredump_meta_binary_errors)
{
	struct buf b;
	struct core_layout l;
	struct lh_core c;
	struct lh_v8meta m;
	struct strbuf err = STRBUF_INIT;
	char core_path[512], text_path[512];

	make_core(&b, &l, ET_CORE, EM_X86_64);
	tmp_path(core_path, sizeof(core_path), "bin-core");
	write_file(core_path, b.b, l.size);
	tmp_path(text_path, sizeof(text_path), "text");
	write_file(text_path, "not elf\n", 8);
	CHECK_EQ(lh_core_open(&c, core_path), 0);
	lh_error_capture(&err);
	CHECK_EQ(lh_v8meta_load(&m, &c, text_path), -1);
	CHECK(strstr(err.buf, "not an ELF file") != NULL);
	strbuf_reset(&err);
	CHECK_EQ(lh_v8meta_load(&m, &c, "/nonexistent/node"), -1);
	CHECK(strstr(err.buf, "cannot open binary '/nonexistent/node'") != NULL);
	lh_error_capture(NULL);
	lh_core_release(&c);
	unlink(core_path);
	unlink(text_path);
	strbuf_release(&err);
}
