/*
 * Recording a process that is already running (`leakhunt record -p PID`):
 * src/native/inject.c makes one of its threads dlopen this library and call
 * lh_preload_attach(), later lh_preload_detach().
 *
 * A library loaded late is not in front of libc in the symbol search order,
 * so nobody calls our malloc.  Attaching therefore rewrites, in every loaded
 * object but the dynamic loader and ourselves, the GOT slots bound to the
 * names we hook (the PLT and GLOB_DAT relocations, as heaptrack's inject
 * library does), and our dlopen hook does the same for objects loaded later.
 * Detaching writes the saved values back.  The library is never unloaded: a
 * thread may still be inside one of its hooks, and attaching again reuses it.
 *
 * Memory allocated before the attach is invisible; its frees show up as
 * frees of unknown blocks, which the report counts separately.
 */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "native/preload/preload.h"

#define MAX_PATCHES 4096

struct patch {
	void **slot;   /* a GOT entry */
	void *old;     /* what it held: restored at detach */
};

static struct patch patches[MAX_PATCHES];
static int npatches;
static pthread_mutex_t patch_lock = PTHREAD_MUTEX_INITIALIZER;
static int attached;

/* Point one GOT slot at our hook, keeping the old value; under patch_lock. */
static void patch_slot(void **slot, void *hook)
{
	uintptr_t page = (uintptr_t)slot & ~(uintptr_t)(getpagesize() - 1);

	if (*slot == hook || npatches == MAX_PATCHES)
		return;
	/* RELRO left the GOT read-only: open it for the one store */
	if (mprotect((void *)page, (size_t)getpagesize(), PROT_READ | PROT_WRITE))
		return;
	patches[npatches++] = (struct patch){ slot, *slot };
	__atomic_store_n(slot, hook, __ATOMIC_RELEASE);
}

/* Dynamic-section pointers are already relocated by glibc on x86-64 except
 * in objects whose dynamic section is read-only; add the base when needed. */
static uintptr_t dyn_ptr(uintptr_t v, uintptr_t base)
{
	return v < base ? v + base : v;
}

static void patch_relocs(const ElfW(Rela) *rel, size_t size, const ElfW(Sym) *symtab, const char *strtab,
			 uintptr_t base)
{
	for (size_t i = 0; i < size / sizeof(*rel); i++) {
		uint32_t type = ELF64_R_TYPE(rel[i].r_info), sym = ELF64_R_SYM(rel[i].r_info);
		void *hook;

		if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) || !sym)
			continue;
		hook = lh_hook_address(strtab + symtab[sym].st_name);
		if (hook)
			patch_slot((void **)(base + rel[i].r_offset), hook);
	}
}

static int patch_object(struct dl_phdr_info *info, size_t size, void *data)
{
	const ElfW(Dyn) *dyn = NULL;
	const ElfW(Rela) *jmprel = NULL, *rela = NULL;
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL, *name = info->dlpi_name;
	size_t jmprel_size = 0, rela_size = 0;
	uintptr_t base = info->dlpi_addr;

	if (name && (strstr(name, "/ld-linux") || strstr(name, "libleakhunt")))
		return 0;
	if (name && !strncmp(name, "linux-vdso", 10))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(base + info->dlpi_phdr[i].p_vaddr);
	if (!dyn)
		return 0;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_JMPREL: jmprel = (const void *)dyn_ptr(dyn->d_un.d_ptr, base); break;
		case DT_PLTRELSZ: jmprel_size = dyn->d_un.d_val; break;
		case DT_RELA: rela = (const void *)dyn_ptr(dyn->d_un.d_ptr, base); break;
		case DT_RELASZ: rela_size = dyn->d_un.d_val; break;
		case DT_SYMTAB: symtab = (const void *)dyn_ptr(dyn->d_un.d_ptr, base); break;
		case DT_STRTAB: strtab = (const void *)dyn_ptr(dyn->d_un.d_ptr, base); break;
		}
	}
	if (!symtab || !strtab)
		return 0;
	if (jmprel)
		patch_relocs(jmprel, jmprel_size, symtab, strtab, base);
	if (rela)
		patch_relocs(rela, rela_size, symtab, strtab, base);
	return 0;
}

void lh_attach_patch_all(void)
{
	if (!attached)
		return;
	pthread_mutex_lock(&patch_lock);
	dl_iterate_phdr(patch_object, NULL);
	pthread_mutex_unlock(&patch_lock);
}

/* Called by the injected thread: conf is LEAKHUNT_RECORD's syntax.  0, or
 * -1 when recording could not start (the trace cannot be opened). */
LH_EXPORT int lh_preload_attach(const char *conf)
{
	int busy = lh_preload_busy;

	lh_preload_busy = 1;
	if (attached || lh_record_attach(conf)) {
		lh_preload_busy = busy;
		return -1;
	}
	attached = 1;
	lh_attach_patch_all();
	lh_preload_busy = busy;
	return 0;
}

/* A child forked while we were attached is not the process `record -p`
 * attached to, and records nothing: its GOT entries go back to what they
 * held, so that it runs without our hooks and can be attached to itself
 * (it was refused as "being recorded already").  The child's only thread. */
void lh_attach_fork_child(void)
{
	if (!attached)
		return;
	pthread_mutex_init(&patch_lock, NULL);
	attached = 0;
	while (npatches > 0) {
		struct patch *p = &patches[--npatches];

		__atomic_store_n(p->slot, p->old, __ATOMIC_RELEASE);
	}
}

/* Undo the GOT patches, then end the trace. */
LH_EXPORT int lh_preload_detach(void)
{
	int busy = lh_preload_busy;

	lh_preload_busy = 1;
	if (!attached) {
		lh_preload_busy = busy;
		return -1;
	}
	pthread_mutex_lock(&patch_lock);
	attached = 0;
	while (npatches > 0) {
		struct patch *p = &patches[--npatches];

		__atomic_store_n(p->slot, p->old, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&patch_lock);
	lh_record_finish();
	lh_record_close(); /* one descriptor a session was left in the process */
	lh_preload_busy = busy;
	return 0;
}
