/*
 * The interposed libc names of libleakhunt.so (mimalloc's alloc-override.c,
 * heaptrack's heaptrack_preload.cpp): malloc and its nine relatives, dlopen
 * and dlclose (module maps change), _exit, daemon, the exec family, abort
 * and assert's __assert_fail (buffers must reach the file).
 *
 * Bootstrap: the real functions come from dlsym(RTLD_NEXT), and dlsym itself
 * may call calloc before we have a real calloc to forward to.  Such early
 * requests are served from a static bump buffer that free() recognises and
 * ignores.  Reentrancy: every hook sets a thread-local flag while it works, so
 * an allocation made by our own machinery (libunwind, pthread internals, a
 * realloc inside a hook) goes straight to libc and is never recorded.
 *
 * Order per event: an allocation is recorded after the real call returns, a
 * free before the real free, so that in the trace an address is never given
 * out again before its free was recorded.
 *
 * errno: the program sees the value the real call left (KEEP_ERRNO).
 */
#include <assert.h> /* __assert_fail, __assert_perror_fail prototypes */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h> /* memalign, pvalloc prototypes */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "native/preload/preload.h"

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);
static void *(*real_dlopen)(const char *, int);
static int (*real_dlclose)(void *);
static void (*real__exit)(int) __attribute__((noreturn));
static void (*real_abort)(void) __attribute__((noreturn));
static void (*real___assert_fail)(const char *, const char *, unsigned int, const char *)
	__attribute__((noreturn));
static void (*real___assert_perror_fail)(int, const char *, unsigned int, const char *)
	__attribute__((noreturn));
static int (*real_pthread_getattr_np)(pthread_t, pthread_attr_t *);
static int (*real_execve)(const char *, char *const[], char *const[]);
static int (*real_execv)(const char *, char *const[]);
static int (*real_execvp)(const char *, char *const[]);
static int (*real_execvpe)(const char *, char *const[], char *const[]);
static int (*real_fexecve)(int, char *const[], char *const[]);

/* dlsym's own allocations before the real calloc is known; 16-byte headers
 * hold each block's size so that realloc can copy out of it. */
static _Alignas(16) unsigned char boot_buf[32768];
static size_t boot_used;
static int resolving;

static int in_boot(const void *p)
{
	return (const unsigned char *)p >= boot_buf && (const unsigned char *)p < boot_buf + sizeof(boot_buf);
}

static void *boot_alloc(size_t n)
{
	size_t need = ((n + 15) & ~(size_t)15) + 16, off;

	off = __atomic_fetch_add(&boot_used, need, __ATOMIC_RELAXED);
	if (off + need > sizeof(boot_buf))
		return NULL;
	memcpy(boot_buf + off, &n, sizeof(n));
	memset(boot_buf + off + 16, 0, n);
	return boot_buf + off + 16;
}

static void *next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static __attribute__((noinline)) void resolve(void)
{
	if (resolving)
		return;
	resolving = 1;
	real_calloc = next("calloc");
	real_malloc = next("malloc");
	real_free = next("free");
	real_realloc = next("realloc");
	real_posix_memalign = next("posix_memalign");
	real_aligned_alloc = next("aligned_alloc");
	real_memalign = next("memalign");
	real_valloc = next("valloc");
	real_pvalloc = next("pvalloc");
	real_dlopen = next("dlopen");
	real_dlclose = next("dlclose");
	real__exit = next("_exit");
	real_abort = next("abort");
	real___assert_fail = next("__assert_fail");
	real___assert_perror_fail = next("__assert_perror_fail");
	real_pthread_getattr_np = next("pthread_getattr_np");
	real_execve = next("execve");
	real_execv = next("execv");
	real_execvp = next("execvp");
	real_execvpe = next("execvpe");
	real_fexecve = next("fexecve");
	resolving = 0;
	if (!real_malloc || !real_free || !real_calloc || !real_realloc) {
		static const char msg[] = "libleakhunt: cannot find libc's malloc; not recording\n";

		(void)!write(2, msg, sizeof(msg) - 1);
		abort();
	}
}

/* The slow path of every hook: the real functions are not known yet. */
static __attribute__((noinline)) void *early_alloc(size_t n)
{
	if (resolving)
		return boot_alloc(n);
	resolve();
	return NULL;
}

/* Constructor: resolve, then start recording (read the configuration, open
 * the trace, start the sampling thread) before main runs. */
__attribute__((constructor)) static void preload_init(void)
{
	if (!real_malloc)
		resolve();
	lh_record_start_once();
}

__attribute__((destructor)) static void preload_fini(void)
{
	lh_record_exit();
}

/* The hook body shared by the allocating functions: forward when busy. */
#define ENTER()                                                                    \
	int lh_busy_ = lh_preload_busy || !lh_preload_active;                      \
	if (LH_UNLIKELY(lh_busy_) && !lh_preload_busy && lh_record_start_early())  \
		lh_busy_ = 0; /* recording started at this call, the first it records */ \
	if (!lh_busy_) {                                                           \
		lh_preload_busy = 1;                                               \
		lh_hook_frame = __builtin_frame_address(0);                        \
	}
#define LEAVE()                              \
	if (!lh_busy_) {                     \
		lh_hook_frame = NULL;        \
		lh_preload_busy = 0;         \
	}

/*
 * Recording makes system calls on the program's thread, and some fail by
 * design: libunwind checks a stack address by writing it to a pipe it first
 * drains to EAGAIN (the first allocation called from code without unwind
 * information, JIT code, returned with errno EAGAIN); a write fails on a full
 * disk; the trace's descriptor, closed by the program, fails fstat.  The
 * program must see the errno its real call left, as without us (and free
 * keeps errno, as POSIX 2024 requires), so every recording call keeps it.
 */
#define KEEP_ERRNO(call)            \
	do {                        \
		int errno_ = errno; \
		call;               \
		errno = errno_;     \
	} while (0)

/*
 * --sample's path for malloc and calloc: the countdown comes first, so that
 * an allocation short of the next sample point is one subtraction and a jump
 * to libc, with no frame of ours (the hook's prologue, its call and errno
 * were most of what a sampled run cost beside the program).  Only the
 * allocation that reaches a point comes here, and takes the busy flag
 * (lh_sample_point takes a lock a signal handler's malloc must not wait
 * for).  Our own allocations (busy), those while recording is off and
 * failed ones are counted too, and a point they reach is passed over
 * (lh_sample_skip): the program's blocks are sampled as before.
 */
static __attribute__((noinline)) void *sample_point(void *p, size_t n)
{
	int err = errno;

	if (p && !lh_preload_busy && lh_preload_active) {
		lh_preload_busy = 1;
		if (lh_sample_point(p))
			lh_record_alloc_now(p, n);
		lh_preload_busy = 0;
	} else {
		lh_sample_skip();
	}
	errno = err; /* KEEP_ERRNO */
	return p;
}

/* The hooks' recording paths, apart from the --sample paths above so that
 * those need no frame. */
static __attribute__((noinline)) void *malloc_recorded(size_t n)
{
	void *p;

	ENTER();
	p = real_malloc(n);
	if (!lh_busy_ && p)
		KEEP_ERRNO(lh_record_alloc(p, n));
	LEAVE();
	return p;
}

LH_EXPORT void *malloc(size_t n)
{
	void *p;

	if (LH_UNLIKELY(!real_malloc) && (p = early_alloc(n), !real_malloc))
		return p;
	if (lh_preload_conf.sample) {
		if (LH_LIKELY(!lh_sample_count(n)))
			return real_malloc(n);
		return sample_point(real_malloc(n), n);
	}
	return malloc_recorded(n);
}

static __attribute__((noinline)) void free_recorded(void *p)
{
	if (!p || LH_UNLIKELY(in_boot(p)))
		return;
	if (LH_UNLIKELY(!real_free))
		resolve();
	/* --sample: a block the filter says was not sampled is not recorded,
	 * busy or not, so it goes to libc at once */
	if (lh_preload_conf.sample && LH_LIKELY(!lh_sample_maybe(p))) {
		real_free(p);
		return;
	}
	ENTER();
	if (!lh_busy_)
		KEEP_ERRNO(lh_record_free(p));
	real_free(p);
	LEAVE();
}

LH_EXPORT void free(void *p)
{
	/* --sample: nearly every block is one the filter says was not
	 * sampled, and goes to libc at once (free(NULL) too) */
	if (lh_preload_conf.sample && LH_LIKELY(real_free) && LH_LIKELY(!in_boot(p)) &&
	    LH_LIKELY(!lh_sample_maybe(p)))
		return real_free(p);
	free_recorded(p);
}

static __attribute__((noinline)) void *calloc_recorded(size_t nmemb, size_t size, size_t total)
{
	void *p;

	ENTER();
	p = real_calloc(nmemb, size);
	if (!lh_busy_ && p)
		KEEP_ERRNO(lh_record_alloc(p, total));
	LEAVE();
	return p;
}

LH_EXPORT void *calloc(size_t nmemb, size_t size)
{
	void *p;
	size_t total;

	if (__builtin_mul_overflow(nmemb, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if (LH_UNLIKELY(!real_calloc) && (p = early_alloc(total), !real_calloc))
		return p;
	if (lh_preload_conf.sample) {
		if (LH_LIKELY(!lh_sample_count(total)))
			return real_calloc(nmemb, size);
		return sample_point(real_calloc(nmemb, size), total);
	}
	return calloc_recorded(nmemb, size, total);
}

LH_EXPORT void *realloc(void *old, size_t n)
{
	void *p;

	if (LH_UNLIKELY(old && in_boot(old))) {
		size_t have;

		memcpy(&have, (unsigned char *)old - 16, sizeof(have));
		p = malloc(n);
		if (p)
			memcpy(p, old, have < n ? have : n);
		return p;
	}
	if (LH_UNLIKELY(!real_realloc) && (p = early_alloc(n), !real_realloc))
		return p;
	ENTER();
	if (!lh_busy_ && old && !n) {
		/* glibc frees and returns NULL: record the free first */
		KEEP_ERRNO(lh_record_free(old));
		p = real_realloc(old, n);
	} else if (!lh_busy_ && old) {
		int ticket;

		KEEP_ERRNO(ticket = lh_record_realloc_begin(old, n));
		p = real_realloc(old, n);
		KEEP_ERRNO(lh_record_realloc_end(ticket, old, p, n));
	} else {
		p = real_realloc(old, n);
		if (!lh_busy_ && p)
			KEEP_ERRNO(lh_record_realloc(old, p, n));
	}
	LEAVE();
	return p;
}

extern void *own_realloc(void *old, size_t n) __attribute__((visibility("hidden"))); /* below */

LH_EXPORT void *reallocarray(void *old, size_t nmemb, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(nmemb, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return own_realloc(old, total); /* realloc@plt is libc's when we were attached */
}

LH_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	int rc;

	if (LH_UNLIKELY(!real_posix_memalign))
		resolve();
	ENTER();
	rc = real_posix_memalign(out, align, n);
	if (!lh_busy_ && !rc && *out)
		KEEP_ERRNO(lh_record_alloc(*out, n));
	LEAVE();
	return rc;
}

/* aligned_alloc, memalign, valloc and pvalloc differ only in the real call. */
#define ALIGNED_HOOK(name, params, args, size)                \
	LH_EXPORT void *name params                           \
	{                                                     \
		void *p;                                      \
		if (LH_UNLIKELY(!real_##name))                \
			resolve();                            \
		ENTER();                                      \
		p = real_##name args;                         \
		if (!lh_busy_ && p)                           \
			KEEP_ERRNO(lh_record_alloc(p, size)); \
		LEAVE();                                      \
		return p;                                     \
	}

ALIGNED_HOOK(aligned_alloc, (size_t align, size_t n), (align, n), n)
ALIGNED_HOOK(memalign, (size_t align, size_t n), (align, n), n)
ALIGNED_HOOK(valloc, (size_t n), (n), n)
ALIGNED_HOOK(pvalloc, (size_t n), (n), n)

LH_EXPORT void *dlopen(const char *file, int mode)
{
	void *h;

	if (LH_UNLIKELY(!real_dlopen))
		resolve();
	h = real_dlopen(file, mode);
	if (h) {
		KEEP_ERRNO(lh_attach_patch_all()); /* attached at run time: hook the new objects too */
		KEEP_ERRNO(lh_record_modules_changed());
	}
	return h;
}

LH_EXPORT int dlclose(void *h)
{
	int rc;

	if (LH_UNLIKELY(!real_dlclose))
		resolve();
	rc = real_dlclose(h);
	KEEP_ERRNO(lh_unwind_forget()); /* another object may be loaded at the same addresses */
	KEEP_ERRNO(lh_record_modules_changed());
	return rc;
}

/* _exit skips the destructors: flush here so that the trace keeps the end. */
LH_EXPORT void _exit(int status)
{
	if (LH_UNLIKELY(!real__exit))
		resolve();
	lh_record_finish();
	real__exit(status);
}

/* abort skips the destructors too: the buffers are written first (record.c,
 * lh_record_before_abort).  glibc's own aborts (a corrupted heap) call it
 * inside libc and are not seen. */
LH_EXPORT void abort(void)
{
	if (LH_UNLIKELY(!real_abort) && !resolving)
		resolve();
	lh_record_before_abort();
	if (real_abort)
		real_abort();
	raise(SIGABRT); /* dlsym found no abort: end as it would have */
	__builtin_trap();
}

/*
 * A failed assert(): glibc's __assert_fail prints its message and calls the
 * abort inside libc, which never reaches the hook above (a C program's
 * 20,000 allocations before a failed assert were all lost).  The buffers
 * are written first here too.
 */
LH_EXPORT void __assert_fail(const char *assertion, const char *file, unsigned int line, const char *function)
{
	if (LH_UNLIKELY(!real___assert_fail) && !resolving)
		resolve();
	lh_record_before_abort();
	if (real___assert_fail)
		real___assert_fail(assertion, file, line, function);
	abort();
}

LH_EXPORT void __assert_perror_fail(int errnum, const char *file, unsigned int line, const char *function)
{
	if (LH_UNLIKELY(!real___assert_perror_fail) && !resolving)
		resolve();
	lh_record_before_abort();
	if (real___assert_perror_fail)
		real___assert_perror_fail(errnum, file, line, function);
	abort();
}

/*
 * daemon(3): glibc's ends the parent with its own _exit inside libc, which
 * never reaches the hook above, so the parent's trace had no end record
 * (reported incomplete, and `record` said the program had most likely
 * replaced itself by exec).  The same steps as glibc's misc/daemon.c, with
 * fork and _exit going through the library.
 */
LH_EXPORT int daemon(int nochdir, int noclose)
{
	struct stat st;
	int fd;

	switch (fork()) {
	case -1:
		return -1;
	case 0:
		break;
	default:
		_exit(0);
	}
	if (setsid() == -1)
		return -1;
	if (!nochdir)
		(void)!chdir("/");
	if (!noclose) {
		fd = open("/dev/null", O_RDWR);
		if (fd == -1)
			return -1;
		if (fstat(fd, &st)) {
			close(fd);
			return -1;
		}
		if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
			close(fd);
			errno = ENODEV; /* no call failed: glibc sets this one */
			return -1;
		}
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/*
 * The exec family: a successful exec ends the process image without
 * destructors, so the buffers are written first (lh_record_before_exec).
 * glibc's execvp and friends reach execve inside libc, not through us, so
 * each name is hooked; the execl forms gather their arguments and go on
 * as the matching execv form.
 */
#define EXEC_HOOK(call)                    \
	do {                               \
		if (LH_UNLIKELY(!real_execve)) \
			resolve();         \
		lh_record_before_exec();   \
		return call;               \
	} while (0)

LH_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	EXEC_HOOK(real_execve(path, argv, envp));
}

LH_EXPORT int execv(const char *path, char *const argv[])
{
	EXEC_HOOK(real_execv(path, argv));
}

LH_EXPORT int execvp(const char *file, char *const argv[])
{
	EXEC_HOOK(real_execvp(file, argv));
}

LH_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	EXEC_HOOK(real_execvpe(file, argv, envp));
}

LH_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	EXEC_HOOK(real_fexecve(fd, argv, envp));
}

/* The execl forms: their arguments up to the NULL, counted first, then
 * gathered into an argv of that size (as glibc's own do), and for execle
 * the environment after the NULL.  The argv is a variable-length array on
 * the stack, as glibc's: malloc is ours to record, and the stack is the one
 * memory an exec gives back whatever happens (DEVELOPER=1's -Wvla is
 * silenced for these three alone). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wvla"
#define EXECL(ap, arg, argv, tail)                                   \
	size_t n_ = 0;                                               \
	va_list c_;                                                  \
	const char *a0_ = arg;                                       \
	__asm__("" : "+r"(a0_)); /* declared nonnull, may be NULL */ \
	va_start(ap, arg);                                           \
	va_copy(c_, ap);                                             \
	if (a0_)                                                     \
		for (n_ = 1; va_arg(c_, const char *); n_++)         \
			;                                            \
	va_end(c_);                                                  \
	char *argv[n_ + 1];                                          \
	argv[0] = (char *)arg;                                       \
	for (size_t i_ = 1; i_ < n_; i_++)                           \
		argv[i_] = va_arg(ap, char *);                       \
	argv[n_] = NULL;                                             \
	if (a0_)                                                     \
		(void)va_arg(ap, char *); /* the NULL */             \
	tail;                                                        \
	va_end(ap)

LH_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;

	EXECL(ap, arg, argv, (void)0);
	return execv(path, argv);
}

LH_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;

	EXECL(ap, arg, argv, (void)0);
	return execvp(file, argv);
}

LH_EXPORT int execle(const char *path, const char *arg, ...)
{
	char **envp;
	va_list ap;

	EXECL(ap, arg, argv, envp = va_arg(ap, char **));
	return execve(path, argv, envp);
}
#pragma GCC diagnostic pop

/*
 * Rust's runtime asks for the stack of every thread first thing, and glibc's
 * pthread_getattr_np allocates while it holds the thread's lock: if that was
 * the thread's first event, unwind.c, learning the thread's stack bounds,
 * must not ask again from inside (it once did, and waited for ever).
 */
__thread int lh_preload_in_getattr LH_TLS;

LH_EXPORT int pthread_getattr_np(pthread_t thread, pthread_attr_t *attr)
{
	int rc;

	if (LH_UNLIKELY(!real_pthread_getattr_np))
		resolve();
	if (!real_pthread_getattr_np)
		return ENOSYS;
	lh_preload_in_getattr++;
	rc = real_pthread_getattr_np(thread, attr);
	lh_preload_in_getattr--;
	return rc;
}

/* Hidden aliases: inside the library, these names always mean our hooks,
 * even when libc's come first in the search order (attached at run time). */
#define OWN(n) extern __typeof(n) own_##n __attribute__((alias(#n), copy(n), visibility("hidden")));
OWN(malloc) OWN(free) OWN(calloc) OWN(realloc) OWN(reallocarray) OWN(posix_memalign)
OWN(aligned_alloc) OWN(memalign) OWN(valloc) OWN(pvalloc) OWN(dlopen) OWN(dlclose)
OWN(pthread_getattr_np) OWN(_exit) OWN(abort) OWN(__assert_fail) OWN(__assert_perror_fail) OWN(execve) OWN(execv) OWN(execvp) OWN(execvpe) OWN(fexecve)
#undef OWN

/* Preloaded, the program's pthread_getattr_np is ours; loaded into a running
 * process (attach.c patches only the allocation names), it is glibc's. */
int lh_getattr_hooked(void)
{
	return dlsym(RTLD_DEFAULT, "pthread_getattr_np") == (void *)own_pthread_getattr_np;
}

void *lh_hook_address(const char *name)
{
	static const struct {
		const char *name;
		void *hook;
	} hooks[] = {
#define H(n) { #n, (void *)own_##n }
		H(malloc), H(free), H(calloc), H(realloc), H(reallocarray), H(posix_memalign),
		H(aligned_alloc), H(memalign), H(valloc), H(pvalloc), H(dlopen), H(dlclose), H(_exit), H(abort),
		H(__assert_fail), H(__assert_perror_fail),
		H(execve), H(execv), H(execvp), H(execvpe), H(fexecve),
#undef H
	};

	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++)
		if (!strcmp(name, hooks[i].name))
			return hooks[i].hook;
	return NULL;
}
