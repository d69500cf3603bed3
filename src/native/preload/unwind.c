/*
 * lh_unwind(): the program's return addresses at an allocation, innermost
 * first, behind one function (jemalloc's prof_sys.c backtrace switch).
 *
 * Two unwinders (costs measured in shared/reference/unwinding.md):
 *   fp     follow the saved frame-pointer chain: about 1.7 ns a frame, but it
 *          stops (or, in code without frame pointers, goes astray) at the first
 *          frame that does not keep one.  Every step is bounds-checked against
 *          this thread's stack, so it never faults.
 *   dwarf  libunwind's unw_backtrace with a per-thread cache, as heaptrack:
 *          about 8 ns a frame and correct wherever CFI exists.
 * auto currently means dwarf: a mixed walk is only allowed to become the
 * default once a test proves its stacks equal to libunwind's.
 *
 * Our own frames (the hook, the recorder) are cut off by address range, not by
 * counting, so inlining decisions of the compiler cannot shift the stacks.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>

#include "native/lht.h"
#include "native/preload/preload.h"

static uintptr_t own_lo, own_hi; /* this library's executable segment */
static __thread uintptr_t stack_lo LH_TLS, stack_hi LH_TLS;

static int find_own(struct dl_phdr_info *info, size_t size, void *data)
{
	uintptr_t me = (uintptr_t)data;

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && me >= lo && me < lo + ph->p_memsz) {
			own_lo = lo;
			own_hi = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

void lh_unwind_init(void)
{
	dl_iterate_phdr(find_own, (void *)(uintptr_t)lh_unwind_init);
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	unw_set_cache_size(unw_local_addr_space, 1024, 0);
}

int lh_unwind_is_own(uintptr_t ip)
{
	return ip >= own_lo && ip < own_hi;
}

/* Learn this thread's stack bounds once; pthread_getattr_np may allocate,
 * which is fine because we run with the busy flag set. */
static __attribute__((noinline)) void learn_stack(void)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &attr))
		return;
	if (!pthread_attr_getstack(&attr, &addr, &size)) {
		stack_lo = (uintptr_t)addr;
		stack_hi = (uintptr_t)addr + size;
	}
	pthread_attr_destroy(&attr);
}

static int unwind_fp(uintptr_t *ips, int max)
{
	uintptr_t *fp = __builtin_frame_address(0);
	int n = 0;

	if (LH_UNLIKELY(!stack_hi))
		learn_stack();
	while (n < max) {
		uintptr_t ip, *up;

		if ((uintptr_t)fp < stack_lo || (uintptr_t)fp + 16 > stack_hi || ((uintptr_t)fp & 7))
			break;
		ip = fp[1];
		if (ip < 4096)
			break;
		if (!lh_unwind_is_own(ip))
			ips[n++] = ip;
		up = (uintptr_t *)fp[0];
		if (up <= fp)
			break;
		fp = up;
	}
	return n;
}

static int unwind_dwarf(uintptr_t *ips, int max)
{
	void *buf[LH_MAX_DEPTH + 16];
	int got, skip = 0, n = 0;

	if (max > LH_MAX_DEPTH + 1)
		max = LH_MAX_DEPTH + 1;
	got = unw_backtrace(buf, max + 8);
	while (skip < got && lh_unwind_is_own((uintptr_t)buf[skip]))
		skip++;
	for (int i = skip; i < got && n < max; i++)
		ips[n++] = (uintptr_t)buf[i];
	return n;
}

int lh_unwind(uintptr_t *ips, int max)
{
	if (lh_preload_conf.unwind == LHT_UNWIND_FP)
		return unwind_fp(ips, max);
	return unwind_dwarf(ips, max);
}
