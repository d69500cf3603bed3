/*
 * Calling functions inside a running process (ptrace, x86-64), for
 * `leakhunt record -p PID`; how and why in inject.c.
 */
#ifndef LH_NATIVE_INJECT_H
#define LH_NATIVE_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

struct lh_inject {
	pid_t pid;
	int seized, stopped; /* attached with ptrace; held at a safe point */
	int mem;             /* /proc/PID/mem */
	struct user_regs_struct regs; /* the thread's registers when stopped */
	void *xstate;        /* and its vector state */
	size_t xstate_len;
	uint64_t sigmask;    /* its blocked signals, put back at the end */
	int mask_set;        /* SIGSEGV unblocked for our calls */
	int handled;         /* a handler of the program ran during our calls */
};

/* Attach to pid and hold its main thread at a safe point; 0, or -1 after
 * lh_error() (no such process, not allowed: ptrace_scope, exited). */
int lh_inject_open(struct lh_inject *in, pid_t pid);
/* The address in the target of a function of libc (which must be the same
 * file as ours), e.g. "dlopen". */
int lh_inject_libc_symbol(struct lh_inject *in, const char *name, uintptr_t *addr);
/* An argument of an injected call: a string (copied into the target's
 * stack) when str is set, else the integer val. */
struct lh_inject_arg {
	const char *str;
	uintptr_t val;
};

/* Make the held thread call fn(args[0], .., args[nargs-1]) (at most 3); the
 * return value in *ret.  The thread is held again afterwards. */
int lh_inject_call(struct lh_inject *in, uintptr_t fn, int nargs, const struct lh_inject_arg *args, long *ret);
/* Restore the thread's registers and let the process go. */
void lh_inject_close(struct lh_inject *in);

#endif
