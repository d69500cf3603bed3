/*
 * lh_unwind(): the program's return addresses at an allocation, innermost
 * first, behind one function (jemalloc's prof_sys.c backtrace switch).
 *
 * Three unwinders (costs measured in shared/reference/unwinding.md):
 *   fp     follow the saved frame-pointer chain: about 1.7 ns a frame, but it
 *          stops (or, in code without frame pointers, goes astray) at the first
 *          frame that does not keep one.
 *   dwarf  libunwind's unw_backtrace with a per-thread cache, as heaptrack:
 *          about 8 ns a frame and correct wherever CFI exists.
 *   auto   (default) the same stacks as dwarf at close to fp's speed: each
 *          return address is looked up in a lock-free table of frame rules
 *          (cfi.c reads the rule from .eh_frame once per call site), and the
 *          rule says where the caller's frame is, whether or not the code keeps
 *          a frame pointer: glibc, -fomit-frame-pointer code and realigned
 *          frames all take one table hit and two loads.  Code without any
 *          unwind information (JIT code) is walked by its frame pointer, as
 *          libunwind guesses too.  A frame with a shape the rules do not cover
 *          (signal frames, CFI expressions) hands the whole stack to libunwind.
 *          test/cli/record.sh proves the stacks equal to libunwind's on every
 *          allocation of mixed programs (LEAKHUNT_RECORD check_unwind=1).
 *
 * The memo: a rule walk is a function of where it starts (ip, sp and, if a
 * rule uses it, rbp at the program's innermost frame), of the rules, and of
 * the stack words it reads.  Each thread keeps its last walks from a few
 * dozen starts, with every (address, value) they read; a walk from the same
 * start whose words all still hold those values is that same stack, so it is
 * checked with independent loads, about a cycle a frame, instead of a table
 * probe and a dependent load per frame.  Nothing is guessed: any word that
 * changed (another caller at the same depth, a new frame) means a real walk.
 *
 * Every memory read of a walk is bounds-checked against this thread's stack,
 * so a walk never faults.  Our own frames (the hook, the recorder) are cut
 * off by address range, not by counting, so inlining decisions of the
 * compiler cannot shift the stacks.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <emmintrin.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "native/lht.h"
#include "native/preload/preload.h"

static uintptr_t own_lo, own_hi; /* this library's executable segment */
static __thread uintptr_t stack_lo LH_TLS, stack_hi LH_TLS;

struct segment {
	uintptr_t addr, lo, hi;
};

/* dl_iterate_phdr: the PT_LOAD segment holding seg->addr. */
static int find_segment(struct dl_phdr_info *info, size_t size, void *data)
{
	struct segment *seg = data;

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && seg->addr >= lo && seg->addr < lo + ph->p_memsz) {
			seg->lo = lo;
			seg->hi = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

int lh_unwind_is_own(uintptr_t ip)
{
	return ip >= own_lo && ip < own_hi;
}

/*
 * This thread's stack bounds, learned at its first walk.  Another thread's
 * come from pthread_getattr_np, which knows the stack block without reading
 * /proc.  But it holds the thread's lock while it allocates (a FILE for the
 * main thread, the cpu set for any thread), and when that allocation is the
 * thread's first event we must not ask it again from inside: we did, and
 * waited on that lock for ever (every Rust program hung at start: its runtime
 * asks for the stack of each thread first thing).  So the main thread, a
 * thread inside pthread_getattr_np, and every thread of a process we were
 * loaded into while it ran (where that call does not pass our hook) read
 * /proc/self/maps instead, with plain system calls, and answer as glibc would:
 *
 * The main thread (the one that started recording: before main, or the one
 * attached to) has the "[stack]" mapping, which may still grow down to
 * RLIMIT_STACK below its top or to the mapping below, whichever is higher.
 * Another thread's stack is the mapping that holds its thread descriptor
 * (glibc puts it at the top of the stack block, of the program's own stacks
 * too).  Neither depends on where sp is, so a first event in a signal handler
 * on an alternate stack still learns the thread's own stack (the mapping of
 * sp is not a test: an alternate stack mmap'ed next to the main thread's
 * descriptor merged with it once).  Where /proc cannot be read the bounds
 * stay empty, and every stack is left to libunwind.
 */
static int getattr_hooked;     /* lh_getattr_hooked(), at init */
static uintptr_t main_thread;  /* pthread_self() of the thread that started recording */

struct maps_line {
	uintptr_t start, end, below; /* below: where the mapping before it ends */
};

struct maps_scan {
	uintptr_t sp, self;
	struct maps_line line, at_sp, at_self, main_stack;
	uintptr_t prev_end;
	int field; /* 0 start, 1 end, 2 the rest of the line */
	int tag;   /* bytes of the line's end matched against "[stack]" */
};

static int in_line(const struct maps_line *l, uintptr_t a)
{
	return a >= l->start && a < l->end;
}

static void scan_maps(struct maps_scan *m, const char *p, size_t n)
{
	static const char stack_tag[] = "[stack]";

	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (c == '\n') {
			m->line.below = m->prev_end;
			if (in_line(&m->line, m->sp))
				m->at_sp = m->line;
			if (in_line(&m->line, m->self))
				m->at_self = m->line;
			if (m->tag == (int)sizeof(stack_tag) - 1)
				m->main_stack = m->line;
			m->prev_end = m->line.end;
			m->line.start = m->line.end = 0;
			m->field = m->tag = 0;
		} else if (m->field == 2) {
			/* the name is the line's last field: match the tag at its end */
			m->tag = c == stack_tag[m->tag] ? m->tag + 1 : c == stack_tag[0];
		} else if (d >= 0) {
			uintptr_t *v = m->field ? &m->line.end : &m->line.start;

			*v = *v << 4 | (uintptr_t)d;
		} else {
			m->field = c == '-' && !m->field ? 1 : 2;
		}
	}
}

static void learn_from_maps(int is_main)
{
	struct maps_scan m = { .sp = (uintptr_t)__builtin_frame_address(0), .self = (uintptr_t)pthread_self() };
	const struct maps_line *l;
	char buf[4096];
	int fd, saved = errno;
	ssize_t got;
	struct rlimit rl;

	stack_lo = stack_hi = 1; /* tried: an empty range */
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		scan_maps(&m, buf, (size_t)got);
	close(fd);
	if (is_main)
		l = m.main_stack.end ? &m.main_stack : &m.at_sp;
	else
		l = m.at_self.end ? &m.at_self : &m.at_sp;
	if (!l->end)
		goto out;
	stack_lo = l->start;
	if (l == &m.main_stack) {
		uintptr_t lo = l->below;

		if (!getrlimit(RLIMIT_STACK, &rl) && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < l->end &&
		    l->end - (rl.rlim_cur & ~(uintptr_t)4095) > lo)
			lo = l->end - (rl.rlim_cur & ~(uintptr_t)4095);
		if (lo < stack_lo)
			stack_lo = lo;
	}
	stack_hi = l->end;
out:
	errno = saved;
}

static __attribute__((noinline)) void learn_stack(void)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;

	int is_main = (uintptr_t)pthread_self() == main_thread;

	if (!getattr_hooked || lh_preload_in_getattr || is_main) {
		learn_from_maps(is_main);
		return;
	}
	if (pthread_getattr_np(pthread_self(), &attr))
		return;
	if (!pthread_attr_getstack(&attr, &addr, &size)) {
		stack_lo = (uintptr_t)addr;
		stack_hi = (uintptr_t)addr + size;
	}
	pthread_attr_destroy(&attr);
}

/* ---- the frame-rule tables ---- */

/* The hot table holds the common rules (CFA = rsp or rbp + 8k, the caller's
 * rbp unchanged or in one of the 7 slots below the CFA) in one 64-bit word
 * per return address: ip << 16 | rule, so a slot is read and published with
 * one atomic access.  Slots are indexed by ip / 16, not by a hash: the return
 * addresses of one stack sit close together in .text, so several share a
 * cache line, and the walk stays fast under a program that thrashes the
 * caches between allocations (measured: a hashed 16-byte table was a third of
 * the whole tracer's time on churn).  Every other rule (big frames, realigned
 * frames, code without CFI, the outermost frame, fallbacks) goes to the wide
 * table, whose slots publish the rule before the key with release order.
 * Unloading an object swaps in empty tables (the old ones stay mapped: a
 * reader may still be in them, and dlclose is rare). */
#define HOT_BITS 14
#define WIDE_BITS 12
#define PROBES 32
#define HOT_WIDE 0 /* rule field of a hot word whose rule is in the wide table */
#define FP_FRAME (1 | 1 << 1 | 2 << 2 | 2 << 5) /* CFA = rbp + 16, rbp saved at CFA - 16 */

struct wide_slot {
	atomic_uintptr_t ra; /* 0: empty */
	uint32_t rule;
};

struct rule_tables {
	_Atomic uint64_t hot[1 << HOT_BITS];
	struct wide_slot wide[1 << WIDE_BITS];
};

static struct rule_tables *_Atomic tables;
static atomic_flag tables_lock = ATOMIC_FLAG_INIT;

/* hot rule bits: [0] valid, [1] CFA from rbp, [2..4] rbp slot, [5..15] CFA offset / 8 */
static uint32_t hot_rule(uint32_t rule)
{
	uint32_t kind = LH_CFI_KIND(rule), off = LH_CFI_OFF(rule), slot = LH_CFI_RBP_SLOT(rule);

	if (kind > LH_CFI_RBP || (off & 7) || !off || off / 8 > 0x7ff || slot > 7)
		return HOT_WIDE;
	return 1 | kind << 1 | slot << 2 | (off / 8) << 5;
}

static __attribute__((noinline)) uint32_t rule_miss(struct rule_tables *t, uintptr_t ra)
{
	uint32_t rule = lh_cfi_lookup(ra), hot = hot_rule(rule);
	size_t i;

	/* never wait: a thread that holds the lock may have been forked away */
	if (!t || atomic_flag_test_and_set_explicit(&tables_lock, memory_order_acquire))
		return rule;
	if (hot == HOT_WIDE) {
		i = (size_t)((ra * 0x9e3779b97f4a7c15ULL) >> (64 - WIDE_BITS));
		for (int k = 0; k < PROBES; k++, i = (i + 1) & ((1u << WIDE_BITS) - 1)) {
			uintptr_t have = atomic_load_explicit(&t->wide[i].ra, memory_order_relaxed);

			if (have == ra)
				break;
			if (!have) {
				t->wide[i].rule = rule;
				atomic_store_explicit(&t->wide[i].ra, ra, memory_order_release);
				break;
			}
		}
		hot = 1; /* valid, but offset 0: look in the wide table */
	}
	if (ra >> 47 == 0) {
		i = (ra >> 4) & ((1u << HOT_BITS) - 1);
		for (int k = 0; k < PROBES; k++, i = (i + 1) & ((1u << HOT_BITS) - 1)) {
			uint64_t have = atomic_load_explicit(&t->hot[i], memory_order_relaxed);

			if (have >> 16 == ra)
				break;
			if (!have) {
				atomic_store_explicit(&t->hot[i], (uint64_t)ra << 16 | hot, memory_order_relaxed);
				break;
			}
		}
	}
	atomic_flag_clear_explicit(&tables_lock, memory_order_release);
	return rule;
}

static __attribute__((noinline)) uint32_t wide_rule(struct rule_tables *t, uintptr_t ra)
{
	size_t i = (size_t)((ra * 0x9e3779b97f4a7c15ULL) >> (64 - WIDE_BITS));

	for (int k = 0; k < PROBES; k++, i = (i + 1) & ((1u << WIDE_BITS) - 1)) {
		uintptr_t have = atomic_load_explicit(&t->wide[i].ra, memory_order_acquire);

		if (have == ra)
			return t->wide[i].rule;
		if (!have)
			break;
	}
	return rule_miss(t, ra);
}

/*
 * The old tables stay mapped (a reader may still be in them) but give their
 * pages back: they read as zeros from then on, empty slots, so a late reader
 * only misses.  Kept resident, every dlclose left the pages its rules had
 * touched: 48 KiB per dlopen/dlclose cycle, 960 MB of RSS after 20,000.
 */
void lh_unwind_forget(void)
{
	void *p = mmap(NULL, sizeof(struct rule_tables), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct rule_tables *old;

	if (p == MAP_FAILED)
		return;
	old = atomic_exchange_explicit(&tables, p, memory_order_acq_rel);
	if (old)
		madvise(old, sizeof(*old), MADV_DONTNEED);
}

/*
 * libunwind keeps a pipe to check that an address is readable (it reads a
 * byte from one end, then writes one from the address to the other), opened
 * at its first use on the lowest free numbers: 3 and 4 in most programs, and
 * opened again whenever reading that end fails.  A program that closed them
 * (close_range, as daemons do) and opened its own files there lost bytes of
 * its input to libunwind and found stack bytes in its output, and a plain
 * program's first open returned 5 instead of 3.  So a pipe that libunwind
 * asks for (the call comes from its code: unw_lo, unw_hi) goes to the top
 * of the numbers (8 below the limit, 4096 at most), above the trace's and
 * statm's, where programs that park descriptors below ours (fds.c forkhigh)
 * do not reach.  Not airtight: a program that dup2s onto every number still
 * replaces it.  Everybody else's pipe2 is the system call, as glibc's; no
 * lookup here, since a signal handler may call it (dladdr would take the
 * loader's lock).  Attached (`record -p`), libunwind's calls go to libc's,
 * which was there first.
 */
static uintptr_t unw_lo, unw_hi;

LH_EXPORT int pipe2(int fd[2], int flags)
{
	uintptr_t from = (uintptr_t)__builtin_return_address(0);
	struct rlimit rl;
	int top;

	if (syscall(SYS_pipe2, fd, flags))
		return -1;
	if (from < unw_lo || from >= unw_hi || getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur <= 512)
		return 0;
	top = (int)(rl.rlim_cur > 4096 ? 4096 : rl.rlim_cur) - 8;
	for (int i = 0; i < 2; i++) {
		int high = fcntl(fd[i], F_DUPFD_CLOEXEC, top);

		if (high >= 0) {
			close(fd[i]);
			fd[i] = high;
		}
	}
	return 0;
}

void lh_unwind_init(void)
{
	struct segment own = { (uintptr_t)lh_unwind_init, 0, 0 }, unw = { (uintptr_t)unw_set_caching_policy, 0, 0 };

	dl_iterate_phdr(find_segment, &own);
	own_lo = own.lo;
	own_hi = own.hi;
	dl_iterate_phdr(find_segment, &unw);
	unw_lo = unw.lo;
	unw_hi = unw.hi;
	getattr_hooked = lh_getattr_hooked();
	main_thread = (uintptr_t)pthread_self();
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	unw_set_cache_size(unw_local_addr_space, 1024, 0);
	if (!atomic_load(&tables))
		lh_unwind_forget();
}

/* ---- the walks ---- */

static int unwind_fp(uintptr_t *ips, int max, uint64_t *hash)
{
	uintptr_t *fp = __builtin_frame_address(0);
	uint64_t h = 0;
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
		if (!lh_unwind_is_own(ip)) {
			ips[n++] = ip;
			h = lh_hash_step(h, ip);
		}
		up = (uintptr_t *)fp[0];
		if (up <= fp)
			break;
		fp = up;
	}
	*hash = h;
	return n;
}

static int unwind_dwarf(uintptr_t *ips, int max)
{
	void *buf[LH_MAX_DEPTH + 16];
	int got, n = 0;

	if (max > LH_MAX_DEPTH + 1)
		max = LH_MAX_DEPTH + 1;
	got = unw_backtrace(buf, max + 8);
	/* our frames: the hook and the recorder at the top, and a hook the
	 * program called that calls on into libc (pthread_getattr_np) */
	for (int i = 0; i < got && n < max; i++)
		if (!lh_unwind_is_own((uintptr_t)buf[i]))
			ips[n++] = (uintptr_t)buf[i];
	return n;
}

/* A stack word read by a walk, and noted in the memo entry being filled
 * (the walk keeps its singles and pairs, nr + nw, below LH_MEMO_READS - 3
 * before each frame, and a frame notes at most three). */
static inline uintptr_t note(struct lh_memo_entry *e, int *nr, uintptr_t at)
{
	uintptr_t v = *(const uintptr_t *)at;

	e->read[*nr][0] = at;
	e->read[*nr][1] = v;
	(*nr)++;
	return v;
}

/* Two adjacent stack words at at (a saved rbp and the return address above
 * it), noted as one pair: memo_holds compares the two at once.  Pairs take
 * their slots from the back of the entry's reads; 0 when at is too far from
 * the walk's start, sp0, to note (the walk is then not memoized). */
static inline int note_pair(struct lh_memo_entry *e, uintptr_t sp0, int *nw, uintptr_t at, uintptr_t v[2])
{
	intptr_t off = (intptr_t)(at - sp0);

	memcpy(v, (const void *)at, 2 * sizeof(*v));
	if (LH_UNLIKELY(off != (int32_t)off))
		return 0;
	e->win_at[*nw] = (int32_t)off;
	e->read[LH_MEMO_READS - 1 - *nw][0] = v[0];
	e->read[LH_MEMO_READS - 1 - *nw][1] = v[1];
	(*nw)++;
	return 1;
}

/* A frame whose rule is not in the hot table: the wide rule kinds.  Returns
 * 1 with the next state, 0 at the end of the stack, -1 for libunwind. */
static __attribute__((noinline)) int step_wide(struct rule_tables *t, uintptr_t *ip, uintptr_t *sp,
					       uintptr_t *bp, uintptr_t lo, uintptr_t hi,
					       struct lh_memo_entry *e, int *nr)
{
	uint32_t rule = t ? wide_rule(t, *ip) : rule_miss(t, *ip), slot = LH_CFI_RBP_SLOT(rule);
	uintptr_t cfa, at;

	switch (LH_CFI_KIND(rule)) {
	case LH_CFI_RSP:
		cfa = *sp + LH_CFI_OFF(rule);
		break;
	case LH_CFI_RBP:
		cfa = *bp + LH_CFI_OFF(rule);
		break;
	case LH_CFI_DEREF_RBP:
		at = *bp + (uintptr_t)(intptr_t)(int16_t)LH_CFI_OFF(rule);
		if (at < lo || at + 8 > hi || (at & 7))
			return -1;
		cfa = note(e, nr, at);
		at = *bp + (uintptr_t)(8 * ((intptr_t)slot - 2048));
		if (at < lo || at + 8 > hi || cfa < lo + 8 || cfa > hi || (cfa & 7) || cfa < *sp + 8)
			return -1;
		*bp = note(e, nr, at);
		*ip = note(e, nr, cfa - 8);
		*sp = cfa;
		return 1;
	case LH_CFI_NONE:
		/* no unwind information: trust the frame pointer, or stop */
		if (*bp < *sp || *bp < lo || *bp + 16 > hi || (*bp & 7))
			return 0;
		cfa = *bp + 16;
		slot = 2;
		break;
	case LH_CFI_END:
		return 0;
	default:
		return -1;
	}
	if (cfa < lo + 8 || cfa > hi || (cfa & 7) || cfa < *sp + 8)
		return -1;
	if (slot) {
		at = cfa - 8 * (uintptr_t)slot;
		if (at < lo)
			return -1;
		*bp = note(e, nr, at);
	}
	*ip = note(e, nr, cfa - 8);
	*sp = cfa;
	return 1;
}

/* The rule walk from (ip, sp, bp), the program's innermost frame; -1 when a
 * frame needs libunwind.  Every stack word it reads is noted in e, and
 * e->need_bp says whether the result depends on the starting bp (a rule read
 * rbp while it could still hold that value: once rbp was reloaded from the
 * stack, the noted word stands for it); e->nreads is -1 when the reads did
 * not fit. */
static int walk_rules(struct rule_tables *t, uintptr_t ip, uintptr_t sp, uintptr_t bp, uintptr_t *ips,
		      int max, uint64_t *hash, struct lh_memo_entry *e)
{
	uintptr_t lo = stack_lo, hi = stack_hi, bp0 = bp, sp0 = sp, v[2];
	uint64_t h = 0;
	int n = 0, nr = 0, nw = 0, over = 0, used_bp = 0;

	while (n < max) {
		uint64_t word = 0;
		uintptr_t cfa;
		uint32_t r;

		if (ip < 4096)
			break;
		if (LH_UNLIKELY(nr + nw > LH_MEMO_READS - 3)) {
			over = 1; /* too deep to memoize: keep noting over the start */
			nr = nw = 0;
		}
		if (LH_LIKELY(ip < own_lo || ip >= own_hi)) {
			ips[n++] = ip;
			h = lh_hash_step(h, ip);
		}
		if (LH_LIKELY(t)) {
			size_t i = (ip >> 4) & ((1u << HOT_BITS) - 1);

			for (int k = 0; k < PROBES; k++, i = (i + 1) & ((1u << HOT_BITS) - 1)) {
				word = atomic_load_explicit(&t->hot[i], memory_order_relaxed);
				if (word >> 16 == ip || !word)
					break;
			}
		}
		r = (uint32_t)word & 0xffff;
		if (LH_UNLIKELY(word >> 16 != ip || !(r >> 5))) {
			int rc;

			if (word >> 16 != ip && !(r = hot_rule(rule_miss(t, ip)) & 0xffff) >> 5) {
				/* fall through to the wide step below */
			} else if (word >> 16 != ip) {
				goto hot;
			}
			{
				/* copies, so that the hot loop keeps its state in registers */
				uintptr_t wip = ip, wsp = sp, wbp = bp;

				used_bp |= bp == bp0; /* wide rules may read rbp */
				rc = step_wide(t, &wip, &wsp, &wbp, lo, hi, e, &nr);
				ip = wip;
				sp = wsp;
				bp = wbp;
			}
			if (rc < 0)
				return -1;
			if (rc == 0)
				break;
			continue;
		}
hot:
		if (r == FP_FRAME) {
			/* a frame that keeps its frame pointer: a branch, not a
			 * select, so that the CPU follows the rbp chain without
			 * waiting for the table (fp code unwinds at fp speed) */
			cfa = bp + 16;
			used_bp |= bp == bp0;
			if (LH_UNLIKELY(cfa > hi || (cfa & 7) || cfa < sp + 8))
				return -1;
			over |= !note_pair(e, sp0, &nw, bp, v);
			bp = v[0];
			ip = v[1];
			sp = cfa;
			continue;
		}
		if (r & 2)
			used_bp |= bp == bp0;
		cfa = (r & 2 ? bp : sp) + (r >> 5) * 8;
		if (LH_UNLIKELY(cfa > hi || (cfa & 7) || cfa < sp + 8))
			return -1;
		if (((r >> 2) & 7) == 2) {
			/* rbp saved just below the return address, as by a push
			 * at the function's entry */
			over |= !note_pair(e, sp0, &nw, cfa - 16, v);
			bp = v[0];
			ip = v[1];
		} else {
			ip = note(e, &nr, cfa - 8);
			if (r & 0x1c)
				bp = note(e, &nr, cfa - 8 * ((r >> 2) & 7));
		}
		sp = cfa;
	}
	e->nreads = over ? -1 : (int16_t)nr;
	e->nwins = (int16_t)nw;
	e->need_bp = used_bp;
	*hash = h;
	return n;
}

static atomic_uint memo_gen = 1;

void lh_unwind_memo_forget(void)
{
	atomic_fetch_add(&memo_gen, 1);
}

void lh_unwind_memo_clear(struct lh_unwind_memo *memo)
{
	for (int i = 0; i < LH_MEMO_SETS; i++)
		memo->e[i][0].rules = memo->e[i][1].rules = NULL;
}

/* Do the words entry e's walk read still hold the values it read?  Plain
 * independent loads, no early exit: the CPU runs them side by side (a
 * function of its own, so that the loop keeps its state in registers). */
static __attribute__((noinline)) int memo_holds(const struct lh_memo_entry *e)
{
	const char *sp = (const char *)e->sp;
	__m128i diff = _mm_setzero_si128();
	uintptr_t one = 0;

	for (int j = 0; j < e->nwins; j++)
		diff = _mm_or_si128(diff, _mm_xor_si128(_mm_loadu_si128((const __m128i *)(sp + e->win_at[j])),
							_mm_load_si128((const __m128i *)e->read[LH_MEMO_READS - 1 - j])));
	for (int i = 0; i < e->nreads; i++)
		one |= *(const volatile uintptr_t *)e->read[i][0] ^ e->read[i][1];
	diff = _mm_or_si128(diff, _mm_cvtsi64_si128((long long)one));
	return _mm_movemask_epi8(_mm_cmpeq_epi8(diff, _mm_setzero_si128())) == 0xffff;
}

/* The program's innermost frame: the library keeps frame pointers, so our
 * own frames (the recorder, the hook) are skipped by the rbp chain alone,
 * without a rule lookup each, and the walk starts in the state the rules
 * would have reached.  A chain that looks wrong there leaves the rest of our
 * frames to the rules, which leave them out of the stack.  The hook noted
 * its frame: the chain starts there instead of following the recorder's
 * frames one load after another (a hook with a frame of its own between it
 * and the program is still skipped by the loop). */
static inline __attribute__((always_inline)) void program_frame(uintptr_t *ip, uintptr_t *sp, uintptr_t *bp)
{
	uintptr_t *fp = __builtin_frame_address(0), *hook = lh_hook_frame;

	if (LH_LIKELY(hook > fp) && LH_LIKELY((uintptr_t)hook + 16 <= stack_hi) && !((uintptr_t)hook & 7))
		fp = hook;

	while (fp[1] >= own_lo && fp[1] < own_hi) {
		uintptr_t *up = (uintptr_t *)fp[0];

		if (up <= fp || (uintptr_t)up + 16 > stack_hi || ((uintptr_t)up & 7))
			break;
		fp = up;
	}
	*ip = fp[1];
	*sp = (uintptr_t)(fp + 2);
	*bp = fp[0];
}

/* The rule walk behind the memo; -1 when a frame needs libunwind.  memo may
 * be NULL; *tag as lh_unwind's. */
static __attribute__((noinline)) int unwind_rules(struct lh_unwind_memo *memo, uintptr_t *ips, int max,
						  uint64_t *hash, uint32_t **tag)
{
	struct rule_tables *t = atomic_load_explicit(&tables, memory_order_acquire);
	uint32_t gen = atomic_load_explicit(&memo_gen, memory_order_relaxed);
	struct lh_memo_entry scratch, *e = &scratch;
	uintptr_t ip, sp, bp;
	int n;

	if (LH_UNLIKELY(!stack_hi))
		learn_stack();
	program_frame(&ip, &sp, &bp);
	*tag = NULL;
	/* only walks that start on this thread's own stack are memoized: they
	 * read nothing outside [stack_lo, stack_hi), which stays mapped, so the
	 * check's loads cannot fault (a coroutine's stack may be gone) */
	if (LH_LIKELY(memo != NULL) && LH_LIKELY(sp >= stack_lo && sp < stack_hi)) {
		size_t set = ((ip ^ sp * 0x9e3779b97f4a7c15ULL) * 0xff51afd7ed558ccdULL) >> (64 - LH_MEMO_BITS);
		struct lh_memo_entry *w = memo->e[set];

		for (int k = 0; k < 2; k++) {
			e = &w[k];
			if (e->ip == ip && e->sp == sp && (!e->need_bp || e->bp == bp) && e->rules == t &&
			    e->gen == gen && e->max == max && memo_holds(e)) {
				memo->last[set] = (uint8_t)k;
				*tag = &e->tag;
				*hash = e->hash;
				if (e->tag)
					return e->n;
				e = &scratch; /* the caller wants the ips: walk, keep the entry */
				goto walk;
			}
		}
		/* refill the way used less recently; empty while it is refilled */
		memo->last[set] = !memo->last[set];
		e = &w[memo->last[set]];
		e->rules = NULL;
	}
walk:
	n = walk_rules(t, ip, sp, bp, ips, max, hash, e);
	if (e != &scratch && n >= 0 && e->nreads >= 0 && t) {
		e->ip = ip;
		e->sp = sp;
		e->bp = bp;
		e->gen = gen;
		e->max = max;
		e->n = n;
		e->hash = *hash;
		e->tag = 0;
		e->rules = t;
		*tag = &e->tag;
	}
	return n;
}

static atomic_uint_fast64_t checked, differed, fell_back, recognised;

void lh_unwind_check_counts(uint64_t *compared, uint64_t *diff, uint64_t *by_libunwind, uint64_t *by_memo)
{
	*compared = atomic_load(&checked);
	*diff = atomic_load(&differed);
	*by_libunwind = atomic_load(&fell_back);
	*by_memo = atomic_load(&recognised);
}

static __attribute__((noinline)) int unwind_auto(struct lh_unwind_memo *memo, uintptr_t *ips, int max,
						 uint64_t *hash, uint32_t **tag)
{
	int n = unwind_rules(memo, ips, max, hash, tag);

	if (LH_UNLIKELY(n < 0)) {
		*tag = NULL;
		if (lh_preload_conf.check_unwind)
			atomic_fetch_add(&fell_back, 1);
		n = unwind_dwarf(ips, max);
		*hash = lh_hash_ips(ips, n);
	}
	return n;
}

/* The check: the stack auto finds against libunwind's, and a stack the memo
 * recognised against a real walk (the ips are then the walk's, so the
 * libunwind comparison covers the memo too). */
static __attribute__((noinline)) int unwind_checked(struct lh_unwind_memo *memo, uintptr_t *ips, int max,
						    uint64_t *hash, uint32_t **tag)
{
	uintptr_t ref[LH_MAX_DEPTH + 1];
	uint32_t *none;
	uint64_t h;
	int n = unwind_auto(memo, ips, max, hash, tag), m;

	if (*tag && **tag) {
		atomic_fetch_add(&recognised, 1);
		m = n;
		n = unwind_auto(NULL, ips, max, &h, &none);
		if (n != m || h != *hash)
			atomic_fetch_add(&differed, 1);
		*hash = h;
	}
	m = unwind_dwarf(ref, max);
	atomic_fetch_add(&checked, 1);
	if (n != m || memcmp(ips, ref, (size_t)n * sizeof(*ips)))
		atomic_fetch_add(&differed, 1);
	return n;
}

int lh_unwind(struct lh_unwind_memo *memo, uintptr_t *ips, int max, uint64_t *hash, uint32_t **tag)
{
	int n;

	*tag = NULL;
	switch (lh_preload_conf.unwind) {
	case LHT_UNWIND_FP:
		return unwind_fp(ips, max, hash);
	case LHT_UNWIND_DWARF:
		n = unwind_dwarf(ips, max);
		*hash = lh_hash_ips(ips, n);
		return n;
	default:
		if (LH_UNLIKELY(lh_preload_conf.check_unwind))
			return unwind_checked(memo, ips, max, hash, tag);
		return unwind_auto(memo, ips, max, hash, tag);
	}
}
