/*
 * Core dumps of running processes: writing them (write.c) and reading them
 * (core.c).  A core is the standard ELF ET_CORE file the kernel and gdb
 * write: PT_LOAD segments holding memory, one PT_NOTE with NT_PRSTATUS per
 * thread, NT_PRPSINFO, NT_AUXV and NT_FILE (which file is mapped where).
 * Segments we did not copy (PROT_NONE reservations, read-only file pages the
 * binary holds anyway) keep their PT_LOAD with a p_filesz of 0, as in the
 * kernel's cores, so a reader knows the address range but must take the
 * bytes from the file named by NT_FILE.
 */
#ifndef LH_COREDUMP_COREDUMP_H
#define LH_COREDUMP_COREDUMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct lh_coredump_write_stats {
	uint64_t pause_ns;      /* from the first thread stopped to the last resumed */
	uint64_t copied;        /* bytes of memory copied into the file */
	uint64_t file_size;     /* apparent size of the file */
	uint32_t threads;       /* threads stopped and recorded */
	uint32_t segments;      /* PT_LOAD headers */
};

/*
 * Write a core of the running process pid to path (never over an existing
 * file; mode 0600; written as path.partial and renamed when complete).  The
 * process is stopped only while its memory is copied and keeps running after.
 * Returns 0, or -1 after lh_error().
 */
int lh_coredump_write(pid_t pid, const char *path, struct lh_coredump_write_stats *st);

/* One NT_FILE entry: [start, end) maps path from file offset offset. */
struct lh_core_file {
	uint64_t start, end, offset;
	const char *path;       /* points into the core's mapped note */
};

/* One PT_LOAD segment. */
struct lh_core_seg {
	uint64_t vaddr, memsz;
	uint64_t offset, filesz; /* bytes present in the core file */
	uint32_t flags;          /* PF_R | PF_W | PF_X */
};

struct lh_core {
	const char *path;
	const unsigned char *data; /* the mapped core */
	size_t size;
	struct lh_core_seg *segs;  /* sorted by vaddr */
	uint32_t nsegs;
	struct lh_core_file *files;
	uint32_t nfiles;
	uint32_t threads;          /* NT_PRSTATUS notes */
	int pid;                   /* from NT_PRPSINFO, or the first NT_PRSTATUS */
	char fname[17];            /* NT_PRPSINFO's command name */
	void *priv;                /* the mapping */
	uint32_t *hint;            /* LH_CORE_HINTS segment indices by address bits: a lookup cache, not state */
};

/*
 * Open and check a core file: ELF64 x86-64 ET_CORE, every segment within the
 * file, notes parsed.  Returns 0, or -1 after lh_error() (not a core,
 * truncated, unsupported machine).
 */
int lh_core_open(struct lh_core *c, const char *path);
void lh_core_release(struct lh_core *c);

/* Does the file at path start like an ELF file (a core, or a binary given by mistake)? */
int lh_core_is_elf(const char *path);

/*
 * Read len bytes at virtual address addr from the core's segments.  Returns
 * a pointer into the mapped core, or NULL when some byte is not in the file.
 * Inline: the census calls it for every object it checks; consecutive reads
 * mostly fall in a few segments (the object's, and read-only space, where
 * the empty arrays and the maps live), so a small table of the last
 * segment hit per 256 KB region (V8's page size) of the address is tried
 * before a binary search.
 */
#define LH_CORE_HINTS 64
const void *lh_core_ptr_slow(const struct lh_core *c, uint64_t addr, size_t len);

/* Of n segments sorted by vaddr, the index of the last one starting at or
 * below addr (which may still end before it), or n when there is none. */
uint32_t lh_core_seg_index(const struct lh_core_seg *segs, uint32_t n, uint64_t addr);

static inline const void *lh_core_ptr(const struct lh_core *c, uint64_t addr, size_t len)
{
	const struct lh_core_seg *s = &c->segs[c->hint[(addr >> 18) % LH_CORE_HINTS]];
	uint64_t rel = addr - s->vaddr;

	if (addr >= s->vaddr && rel <= s->filesz && len <= s->filesz - rel)
		return c->data + s->offset + rel;
	return lh_core_ptr_slow(c, addr, len);
}

/* The NT_FILE entry of the program itself (the first one mapping offset 0 of an executable), or NULL. */
const struct lh_core_file *lh_core_main_file(const struct lh_core *c);

/*
 * The GNU build id of the file mapped at start (from the ELF header page the
 * core holds for it), as hex into out (at least 41 bytes); 0, or -1 when the
 * core does not hold it.
 */
int lh_core_build_id(const struct lh_core *c, uint64_t start, char *out, size_t outsz);

#endif
