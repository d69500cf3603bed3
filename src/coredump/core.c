/*
 * The ELF core reader; see coredump.h.  The core is mapped once; segments
 * point into the mapping, NT_FILE names point into the note.  Every offset
 * the file gives is checked against its size before use, so a truncated or
 * damaged core is an error here, not a wild read later.  Only x86-64 ELF64
 * little-endian cores are read (the only node we have metadata tables for).
 */
#include "coredump.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/mapfile.h"

int lh_core_is_elf(const char *path)
{
	unsigned char h[SELFMAG];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, h, sizeof(h));
	close(fd);
	return n == (ssize_t)sizeof(h) && !memcmp(h, ELFMAG, SELFMAG);
}

static int cmp_seg(const void *a, const void *b)
{
	const struct lh_core_seg *x = a, *y = b;

	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

/* NT_FILE: count, page size, count x (start, end, page offset), then count names. */
static int parse_nt_file(struct lh_core *c, const unsigned char *d, size_t len)
{
	uint64_t count, page;
	const char *names, *end = (const char *)d + len;

	if (len < 16)
		return -1;
	memcpy(&count, d, 8);
	memcpy(&page, d + 8, 8);
	if (count > (len - 16) / 24)
		return -1;
	names = (const char *)d + 16 + count * 24;
	c->files = lh_xcalloc(count ? count : 1, sizeof(*c->files));
	for (uint64_t i = 0; i < count; i++) {
		uint64_t e[3];
		const char *nul = memchr(names, 0, end - names);

		if (!nul)
			return -1;
		memcpy(e, d + 16 + i * 24, 24);
		c->files[i] = (struct lh_core_file){ e[0], e[1], e[2] * page, names };
		names = nul + 1;
	}
	c->nfiles = count;
	return 0;
}

static int parse_notes(struct lh_core *c, const unsigned char *p, size_t len)
{
	size_t off = 0;

	while (off + sizeof(Elf64_Nhdr) <= len) {
		Elf64_Nhdr h;
		size_t name_off, desc_off;

		memcpy(&h, p + off, sizeof(h));
		name_off = off + sizeof(h);
		desc_off = name_off + ((h.n_namesz + 3) & ~3u);
		if (desc_off > len || h.n_descsz > len - desc_off)
			return lh_error("cannot read core '%s': a note runs past the notes segment; is the core damaged?",
					c->path);
		if (h.n_namesz == 5 && !memcmp(p + name_off, "CORE", 5)) {
			const unsigned char *d = p + desc_off;

			if (h.n_type == NT_PRSTATUS && h.n_descsz >= sizeof(struct elf_prstatus)) {
				struct elf_prstatus pr;

				memcpy(&pr, d, sizeof(pr));
				if (!c->threads && !c->pid)
					c->pid = pr.pr_pid;
				c->threads++;
			} else if (h.n_type == NT_PRPSINFO && h.n_descsz >= sizeof(struct elf_prpsinfo)) {
				struct elf_prpsinfo info;

				memcpy(&info, d, sizeof(info));
				c->pid = info.pr_pid;
				memcpy(c->fname, info.pr_fname, sizeof(info.pr_fname));
				c->fname[sizeof(info.pr_fname)] = 0;
			} else if (h.n_type == NT_FILE && !c->files) {
				if (parse_nt_file(c, d, h.n_descsz))
					return lh_error("cannot read core '%s': its NT_FILE note is malformed", c->path);
			}
		}
		off = desc_off + ((h.n_descsz + 3) & ~3u);
	}
	return 0;
}

int lh_core_open(struct lh_core *c, const char *path)
{
	struct lh_mapfile *mf = lh_xcalloc(1, sizeof(*mf));
	const Elf64_Ehdr *eh;
	uint64_t need = 0;
	uint32_t nload = 0;

	memset(c, 0, sizeof(*c));
	c->path = path;
	c->priv = mf;
	c->hint = lh_xcalloc(LH_CORE_HINTS, sizeof(*c->hint));
	if (lh_mapfile_open(mf, path))
		goto fail;
	c->data = (const unsigned char *)mf->data;
	c->size = mf->size;
	eh = (const Elf64_Ehdr *)(const void *)c->data;
	if (c->size < SELFMAG || memcmp(c->data, ELFMAG, SELFMAG)) {
		lh_error("cannot read core '%s': not an ELF file; give a core file (from 'leakhunt core PID', "
			 "gcore or the kernel)", path);
		goto fail;
	}
	if (c->size < sizeof(*eh)) {
		lh_error("cannot read core '%s': truncated at byte %zu (inside the ELF header); was it still being "
			 "written?", path, c->size);
		goto fail;
	}
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB) {
		lh_error("cannot read core '%s': not a 64-bit little-endian ELF file", path);
		goto fail;
	}
	if (eh->e_type != ET_CORE) {
		lh_error("cannot read core '%s': an ELF %s, not a core; give the core file (and the program with "
			 "--binary)", path, eh->e_type == ET_EXEC ? "executable" : eh->e_type == ET_DYN ?
			 "shared object or PIE executable" : "file");
		goto fail;
	}
	if (eh->e_machine != EM_X86_64) {
		lh_error("cannot read core '%s': machine %u is not supported (x86-64 only)", path, eh->e_machine);
		goto fail;
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > c->size ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > c->size - eh->e_phoff) {
		lh_error("cannot read core '%s': truncated at byte %zu (inside the program headers); was it still "
			 "being written?", path, c->size);
		goto fail;
	}
	c->segs = lh_xcalloc(eh->e_phnum ? eh->e_phnum : 1, sizeof(*c->segs));
	for (uint32_t i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, c->data + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
			continue;
		if (ph.p_filesz && ph.p_offset + ph.p_filesz > need)
			need = ph.p_offset + ph.p_filesz;
		if (ph.p_filesz && (ph.p_offset > c->size || ph.p_filesz > c->size - ph.p_offset)) {
			lh_error("cannot read core '%s': truncated at byte %zu (segment %u of %u needs bytes up to "
				 "%llu); was it still being written, or cut by a size limit (ulimit -c)?", path,
				 c->size, i + 1, (unsigned)eh->e_phnum,
				 (unsigned long long)(ph.p_offset + ph.p_filesz));
			goto fail;
		}
		if (ph.p_type == PT_NOTE) {
			if (parse_notes(c, c->data + ph.p_offset, ph.p_filesz))
				goto fail;
			continue;
		}
		c->segs[nload++] = (struct lh_core_seg){ ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz,
							  ph.p_flags };
	}
	c->nsegs = nload;
	if (!nload) {
		lh_error("cannot read core '%s': it holds no memory segments", path);
		goto fail;
	}
	qsort(c->segs, c->nsegs, sizeof(*c->segs), cmp_seg);
	return 0;
fail:
	lh_core_release(c);
	return -1;
}

void lh_core_release(struct lh_core *c)
{
	if (c->priv) {
		lh_mapfile_release(c->priv);
		free(c->priv);
	}
	free(c->segs);
	free(c->files);
	free(c->hint);
	memset(c, 0, sizeof(*c));
}

uint32_t lh_core_seg_index(const struct lh_core_seg *segs, uint32_t n, uint64_t addr)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (segs[mid].vaddr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : n;
}

__attribute__((noinline)) const void *lh_core_ptr_slow(const struct lh_core *c, uint64_t addr, size_t len)
{
	uint32_t i = lh_core_seg_index(c->segs, c->nsegs, addr);
	const struct lh_core_seg *s;
	uint64_t rel;

	if (i == c->nsegs)
		return NULL;
	s = &c->segs[i];
	rel = addr - s->vaddr;
	if (rel > s->filesz || len > s->filesz - rel)
		return NULL;
	c->hint[(addr >> 18) % LH_CORE_HINTS] = i;
	return c->data + s->offset + rel;
}

const struct lh_core_file *lh_core_main_file(const struct lh_core *c)
{
	/* NT_FILE lists mappings by address; the program's own comes first (0x400000, or a PIE's
	 * 0x55...: below the libraries and the heap mappings named by files) */
	for (uint32_t i = 0; i < c->nfiles; i++)
		if (c->files[i].offset == 0)
			return &c->files[i];
	return NULL;
}

int lh_core_build_id(const struct lh_core *c, uint64_t start, char *out, size_t outsz)
{
	const Elf64_Ehdr *eh = lh_core_ptr(c, start, sizeof(*eh));

	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_phentsize != sizeof(Elf64_Phdr))
		return -1;
	for (uint32_t i = 0; i < eh->e_phnum && i < 256; i++) {
		const Elf64_Phdr *ph = lh_core_ptr(c, start + eh->e_phoff + i * sizeof(*ph), sizeof(*ph));
		const unsigned char *n;
		size_t off = 0;

		if (!ph)
			return -1;
		if (ph->p_type != PT_NOTE)
			continue;
		n = lh_core_ptr(c, start + ph->p_offset, ph->p_filesz);
		if (!n)
			continue;
		while (off + sizeof(Elf64_Nhdr) <= ph->p_filesz) {
			Elf64_Nhdr h;
			size_t desc;

			memcpy(&h, n + off, sizeof(h));
			desc = off + sizeof(h) + ((h.n_namesz + 3) & ~3u);
			if (desc > ph->p_filesz || h.n_descsz > ph->p_filesz - desc)
				break;
			if (h.n_type == NT_GNU_BUILD_ID && h.n_namesz == 4 && !memcmp(n + off + sizeof(h), "GNU", 4) &&
			    h.n_descsz * 2 + 1 <= outsz) {
				for (uint32_t k = 0; k < h.n_descsz; k++)
					snprintf(out + 2 * k, 3, "%02x", n[desc + k]);
				return 0;
			}
			off = desc + ((h.n_descsz + 3) & ~3u);
		}
	}
	return -1;
}
