/*
 * Internal interface of libleakhunt.so, the preload library that records every
 * heap allocation of a program into a .lht trace (src/native/lht.h).
 *
 * hooks.c owns the interposed libc names, the bootstrap and the reentrancy
 * guard; record.c owns the trace file, the per-thread buffers, the stack trie
 * and the timer thread; unwind.c owns lh_unwind().  Nothing here may call
 * malloc on its own behalf: memory comes from mmap, so the program's numbers
 * are only the program's.
 */
#ifndef LH_PRELOAD_H
#define LH_PRELOAD_H

#include <stddef.h>
#include <stdint.h>

#define LH_EXPORT __attribute__((visibility("default")))
#define LH_TLS __attribute__((tls_model("initial-exec")))
#define LH_LIKELY(x) __builtin_expect(!!(x), 1)
#define LH_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define LH_MAX_DEPTH 1024

struct lh_preload_conf {
	char out[4096];   /* trace path, created by `leakhunt record` */
	int depth;        /* frames kept per stack; deeper stacks are marked truncated */
	int unwind;       /* enum lht_unwind */
	int follow_fork;  /* a forked child writes OUT.<pid>.lht instead of stopping */
	int keep_preload; /* leave LD_PRELOAD for exec'd children */
};

extern struct lh_preload_conf lh_preload_conf;

/* Nonzero while this thread is inside a hook or inside our own machinery:
 * allocations made then go straight to libc, unrecorded. */
extern __thread int lh_preload_busy LH_TLS;
/* Nonzero while events are being recorded (after init, before the end). */
extern volatile int lh_preload_active;

/* record.c */
void lh_record_start(void);
void lh_record_alloc(void *ptr, size_t size);
void lh_record_free(void *ptr);
void lh_record_realloc(void *old, void *ptr, size_t size);
void lh_record_modules_changed(void);
void lh_record_finish(void);

/* unwind.c: fill ips with the return addresses of the calling program,
 * innermost first, leaving out the library's own frames; returns how many
 * (at most max). */
void lh_unwind_init(void);
int lh_unwind(uintptr_t *ips, int max);
int lh_unwind_is_own(uintptr_t ip);

#endif
