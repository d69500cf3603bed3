/*
 * Calling functions inside another running process with ptrace, for
 * `leakhunt record -p PID` (x86-64 Linux): the target's main thread is
 * stopped at a safe point, made to call dlopen() and our library's
 * lh_preload_attach() / lh_preload_detach() as if it had called them itself,
 * then resumed exactly where it was, every register (vector state included)
 * restored.  Only that one thread stops, and only for the calls.
 *
 * A call: the arguments (strings) are written below the thread's red zone,
 * a return address of 0 is pushed, rip points at the function; when it
 * returns, the jump to 0 faults, and the SIGSEGV stop tells us the call is
 * done (rax holds the result).  The fault is never delivered.  orig_rax is
 * set to -1 so that the kernel does not "restart" an interrupted system call
 * into our code; the saved registers put it back when we resume.  The fault
 * is forced on the thread: where SIGSEGV is blocked, the kernel unblocks it
 * and resets the program's SIGSEGV handler to the default, for the whole
 * process, so the thread's calls run with SIGSEGV unblocked and its own
 * mask comes back at the end.
 *
 * A safe point: the thread must not hold a lock our calls take (malloc's
 * arena locks, the dynamic loader's lock), so it is only used while it runs
 * code outside libc and ld.so, or sleeps in a system call that libc never
 * makes with those locks held.  Otherwise it runs on for a moment and is
 * stopped again.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dlfcn.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "native/inject.h"

#define XSTATE_MAX (64 * 1024)
#define ERESTARTNOHAND 514 /* the kernel's: restart unless a handler runs */
#define ERESTART_RESTARTBLOCK 516 /* the same, through restart_syscall */

/* The start of the mapping at offset 0 of the file (dev, ino) in the
 * target: the same file may have another name there (/lib vs /usr/lib). */
static int find_base(pid_t pid, dev_t dev, ino_t ino, uintptr_t *base)
{
	char name[64], line[PATH_MAX + 256];
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%d/maps", (int)pid);
	f = fopen(name, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, off, ma, mi, in;

		if (sscanf(line, "%lx-%*x %*s %lx %lx:%lx %lu", &lo, &off, &ma, &mi, &in) == 5 && off == 0 &&
		    in == ino && makedev(ma, mi) == dev) {
			*base = lo;
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -1;
}

/*
 * The target's memory map, line by line: with what, whether any line names
 * it; without, whether the mapping that holds rip is libc's, the dynamic
 * loader's or ours.  unreadable: the answer when the map cannot be read.
 */
static int maps_match(pid_t pid, uintptr_t rip, const char *what, int unreadable)
{
	char name[64], line[PATH_MAX + 256];
	int hit = 0;
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%d/maps", (int)pid);
	f = fopen(name, "re");
	if (!f)
		return unreadable;
	while (!hit && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (what) {
			hit = strstr(line, what) != NULL;
		} else if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && rip >= lo && rip < hi) {
			hit = strstr(line, "/libc.so") || strstr(line, "/ld-linux") || strstr(line, "libleakhunt");
			break;
		}
	}
	fclose(f);
	return hit;
}

/* Is rip inside libc or the dynamic loader of the target? */
static int in_libc(pid_t pid, uintptr_t rip)
{
	return maps_match(pid, rip, NULL, 1);
}

/* Does the target map a file whose name contains what? */
static int maps_have(pid_t pid, const char *what)
{
	return maps_match(pid, 0, what, 0);
}

/* System calls libc makes without holding malloc's or the loader's locks
 * (not openat or mmap: the loader makes those holding its lock). */
static int sleeping_call(long nr)
{
	switch (nr) {
	case SYS_futex: case SYS_nanosleep: case SYS_clock_nanosleep: case SYS_read:
	case SYS_poll: case SYS_ppoll: case SYS_select: case SYS_pselect6: case SYS_epoll_wait:
	case SYS_epoll_pwait: case SYS_wait4: case SYS_pause: case SYS_rt_sigsuspend:
	case SYS_rt_sigtimedwait: case SYS_accept: case SYS_accept4: case SYS_recvfrom:
	case SYS_recvmsg: case SYS_waitid: case SYS_write: case SYS_writev: case SYS_sendto:
	case SYS_sendmsg: case SYS_connect: case SYS_recvmmsg: case SYS_sendmmsg:
	/* the kernel's continuation of a sleep that a stop interrupted (a
	 * nanosleep, a futex or poll with a timeout: all above); an earlier
	 * attach leaves an idle process here, and its detach waited for it */
	case SYS_restart_syscall:
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
#endif
		return 1;
	}
	return 0;
}

/* Wait for the next stop of the thread; the signal that stopped it, 0 for an
 * event stop, or -1 when the process is gone. */
static int wait_stop(struct lh_inject *in)
{
	int status;

	for (;;) {
		if (waitpid(in->pid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return -1;
		if (WIFSTOPPED(status))
			return status >> 16 == PTRACE_EVENT_STOP ? 0 : WSTOPSIG(status);
	}
}

static int get_xstate(struct lh_inject *in, void *buf, size_t *len)
{
	struct iovec io = { buf, XSTATE_MAX };

	if (ptrace(PTRACE_GETREGSET, in->pid, (void *)NT_X86_XSTATE, &io))
		return -1;
	*len = io.iov_len;
	return 0;
}

/* A number field of /proc/PID/status ("TracerPid", "Uid": the first
 * number), or -1. */
static long status_field(pid_t pid, const char *key)
{
	char name[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%d/status", (int)pid);
	f = fopen(name, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Why PTRACE_SEIZE said EPERM, when it is not the user or ptrace_scope:
 * another tracer (a second `record -p`, gdb, strace), or a process that made
 * itself non-dumpable (the files in its /proc directory are then root's).  0 when neither. */
static int eperm_reason(pid_t pid)
{
	char name[64], comm[64] = "?";
	long tracer = status_field(pid, "TracerPid"), uid = status_field(pid, "Uid");
	struct stat st;
	FILE *f;

	if (tracer > 0) {
		snprintf(name, sizeof(name), "/proc/%ld/comm", tracer);
		f = fopen(name, "re");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = 0;
			fclose(f);
		}
		return lh_error("cannot trace process %d: it is being traced by process %ld (%s): another "
				"'leakhunt record -p', a debugger or strace; a process has one tracer at a time: "
				"try again once that one has let go", (int)pid, tracer, comm);
	}
	snprintf(name, sizeof(name), "/proc/%d/status", (int)pid);
	if (uid >= 0 && (uid_t)uid == geteuid() && !stat(name, &st) && st.st_uid != (uid_t)uid)
		return lh_error("cannot trace process %d: it made itself non-dumpable (prctl(PR_SET_DUMPABLE, 0), "
				"or it changed its user or group ids): only root can trace it", (int)pid);
	return 0;
}

/* Does the target have a handler for sig (SigCgt of /proc/PID/status)? */
static int catches(pid_t pid, int sig)
{
	char name[64], line[256];
	unsigned long long caught = 0;
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%d/status", (int)pid);
	f = fopen(name, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "SigCgt:", 7)) {
			caught = strtoull(line + 7, NULL, 16);
			break;
		}
	fclose(f);
	return sig >= 1 && sig <= 64 && (caught >> (sig - 1) & 1);
}

/*
 * Our stop made a sleep end with EINTR where the kernel does not restart it
 * by itself (epoll_wait, sigtimedwait, semtimedop, a socket read with
 * SO_RCVTIMEO: signal(7) lists those that fail so after a stop); the
 * program saw an EINTR no signal caused (one that took it for an error
 * exited at the attach).  ERESTARTNOHAND makes the kernel call it again
 * when the thread resumes, or return EINTR after all if a signal handler of
 * the program runs then, as it would have without us.  1 if regs changed.
 */
static int restart_interrupted(struct user_regs_struct *regs)
{
	if ((long)regs->orig_rax < 0 || (long)regs->rax != -EINTR)
		return 0;
	regs->rax = (unsigned long)-ERESTARTNOHAND;
	return 1;
}

/* Does the system call nr sleep with a mask of its own in place of the
 * thread's (the thread's is put back after a handler runs, or when the
 * thread goes on without one)? */
static int masking_call(long nr)
{
	switch (nr) {
	case SYS_ppoll: case SYS_pselect6: case SYS_epoll_pwait: case SYS_rt_sigsuspend:
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
#endif
		return 1;
	}
	return 0;
}

/*
 * Stopped in a call such as ppoll, the thread still has the call's mask,
 * and the kernel puts the thread's own back only when the thread resumes:
 * after our first call's fault, too late.  So it is resumed first into a
 * getpid at the same syscall instruction, and held at that call's entry,
 * its own mask back; the saved registers restart the sleep at the end,
 * which takes its mask again.  A signal that comes meanwhile is delivered.
 */
static int settle_mask(struct lh_inject *in)
{
	struct user_regs_struct r = in->regs;

	r.rip -= 2; /* the syscall instruction */
	r.rax = SYS_getpid;
	r.orig_rax = (unsigned long)-1;
	if (ptrace(PTRACE_SETOPTIONS, in->pid, NULL, (void *)PTRACE_O_TRACESYSGOOD) ||
	    ptrace(PTRACE_SETREGS, in->pid, NULL, &r) || ptrace(PTRACE_SYSCALL, in->pid, NULL, NULL))
		return lh_error("cannot run code in process %d: %s", (int)in->pid, strerror(errno));
	for (int stops = 0, handled = 0; stops < 1000; stops++) {
		int sig = wait_stop(in);

		if (sig < 0)
			return lh_error("process %d exited while attaching", (int)in->pid);
		if (sig == (SIGTRAP | 0x80)) {
			if (ptrace(PTRACE_GETREGS, in->pid, NULL, &r))
				return lh_error("cannot read the registers of process %d: %s", (int)in->pid,
						strerror(errno));
			if ((long)r.orig_rax == SYS_getpid && r.rip == in->regs.rip) {
				/* a handler of the program ran meanwhile (it
				 * returned through rt_sigreturn): the sleep ends
				 * with EINTR, as it would have, not restarted (a
				 * ppoll waiting for that signal slept on) */
				if (handled)
					in->regs.rax = (unsigned long)-EINTR;
				return 0;
			}
			handled |= (long)r.orig_rax == SYS_rt_sigreturn;
			sig = 0;
		}
		ptrace(PTRACE_SYSCALL, in->pid, NULL, (void *)(long)sig);
	}
	return lh_error("process %d did not come back from its signal handler while attaching; try again",
			(int)in->pid);
}

int lh_inject_open(struct lh_inject *in, pid_t pid)
{
	memset(in, 0, sizeof(*in));
	in->pid = pid;
	in->mem = -1;
	if (kill(pid, 0) && errno == ESRCH)
		return lh_error("no process %d", (int)pid);
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL)) {
		int e = errno;
		FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
		int scope = -1;

		if (f) {
			if (fscanf(f, "%d", &scope) != 1)
				scope = -1;
			fclose(f);
		}
		if (e == EPERM && eperm_reason(pid))
			return -1;
		if (e == EPERM && scope > 0)
			return lh_error("cannot trace process %d: ptrace is restricted "
					"(/proc/sys/kernel/yama/ptrace_scope is %d); run as root or "
					"set it to 0", (int)pid, scope);
		if (e == EPERM)
			return lh_error("cannot trace process %d: %s; run as the process's user (or root)", (int)pid,
					strerror(e));
		return lh_error("cannot trace process %d: %s", (int)pid, strerror(e));
	}
	in->seized = 1;
	in->xstate = calloc(1, XSTATE_MAX);
	if (!in->xstate)
		return lh_error("out of memory");
	/* stop the thread where it is safe to call into libc */
	for (int tries = 0;; tries++) {
		int sig;

		if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL))
			return lh_error("cannot stop process %d: %s", (int)pid, strerror(errno));
		while ((sig = wait_stop(in)) > 0)
			/* a signal on its way to the program: let it through */
			ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
		if (sig < 0)
			return lh_error("process %d exited while attaching", (int)pid);
		if (ptrace(PTRACE_GETREGS, pid, NULL, &in->regs))
			return lh_error("cannot read the registers of process %d: %s", (int)pid, strerror(errno));
		if (((long)in->regs.orig_rax >= 0 && sleeping_call((long)in->regs.orig_rax)) ||
		    ((long)in->regs.orig_rax < 0 && !in_libc(pid, in->regs.rip)))
			break;
		if (tries == 5000) {
			if ((long)in->regs.orig_rax >= 0)
				return lh_error("process %d never reached a point where it is safe to attach: its "
						"main thread stays in system call %ld inside libc; try again when "
						"it is less busy", (int)pid, (long)in->regs.orig_rax);
			return lh_error("process %d never reached a point where it is safe to attach: its main "
					"thread stays inside libc; try again when it is less busy", (int)pid);
		}
		/* not there yet: on, with the sleep we ended (if any) going on */
		if (restart_interrupted(&in->regs))
			ptrace(PTRACE_SETREGS, pid, NULL, &in->regs);
		ptrace(PTRACE_CONT, pid, NULL, NULL);
		nanosleep(&(struct timespec){ 0, 200 * 1000 }, NULL);
	}
	restart_interrupted(&in->regs);
	/* only a sleep our stop interrupted still holds its own mask, with rip
	 * just past its syscall instruction: a call that completed has put the
	 * thread's mask back, and one whose signal handler we let through
	 * above keeps its number in orig_rax with rip at the handler's first
	 * instruction (rip - 2 ran the bytes before the handler) */
	if ((long)in->regs.orig_rax >= 0 && (long)in->regs.rax == -ERESTARTNOHAND &&
	    masking_call((long)in->regs.orig_rax) && settle_mask(in))
		return -1;
	if (get_xstate(in, in->xstate, &in->xstate_len))
		return lh_error("cannot read the vector registers of process %d: %s", (int)pid, strerror(errno));
	in->stopped = 1;
	if (ptrace(PTRACE_GETSIGMASK, pid, (void *)sizeof(in->sigmask), &in->sigmask))
		return lh_error("cannot read the signal mask of process %d: %s", (int)pid, strerror(errno));
	if (in->sigmask & (1ULL << (SIGSEGV - 1))) {
		uint64_t mask = in->sigmask & ~(1ULL << (SIGSEGV - 1));

		if (ptrace(PTRACE_SETSIGMASK, pid, (void *)sizeof(mask), &mask))
			return lh_error("cannot change the signal mask of process %d: %s", (int)pid,
					strerror(errno));
		in->mask_set = 1;
	}
	{
		char name[64];

		snprintf(name, sizeof(name), "/proc/%d/mem", (int)pid);
		in->mem = open(name, O_RDWR | O_CLOEXEC);
		if (in->mem < 0)
			return lh_error("cannot open %s: %s", name, strerror(errno));
	}
	return 0;
}

/* The address of one of our libc's functions in the target's libc. */
int lh_inject_libc_symbol(struct lh_inject *in, const char *name, uintptr_t *addr)
{
	/* libc's own symbol, not an interceptor of the same name (ASan builds) */
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	void *self = libc ? dlsym(libc, name) : NULL;
	uintptr_t base;
	struct stat st;
	Dl_info info;

	if (!self || !dladdr(self, &info) || !info.dli_fname || stat(info.dli_fname, &st))
		return lh_error("cannot find %s in this libc", name);
	if (find_base(in->pid, st.st_dev, st.st_ino, &base)) {
		if (!maps_have(in->pid, "libc.so") && !maps_have(in->pid, "/ld-linux"))
			return lh_error("process %d has no shared libc (a static executable?): a library "
					"cannot be loaded into it, so it cannot be recorded", (int)in->pid);
		return lh_error("process %d does not map '%s' (another libc, or another mount "
				"namespace: attaching needs the same libc as leakhunt)", (int)in->pid,
				info.dli_fname);
	}
	*addr = base + ((uintptr_t)self - (uintptr_t)info.dli_fbase);
	return 0;
}

int lh_inject_call(struct lh_inject *in, uintptr_t fn, int nargs, const struct lh_inject_arg *args, long *ret)
{
	struct user_regs_struct r = in->regs;
	uintptr_t sp = (in->regs.rsp - 512) & ~(uintptr_t)15, val[3] = { 0, 0, 0 }, zero = 0;
	int sig;

	for (int i = 0; i < nargs && i < 3; i++) {
		size_t n;

		val[i] = args[i].val;
		if (!args[i].str)
			continue;
		n = strlen(args[i].str) + 1;
		sp = (sp - n) & ~(uintptr_t)15;
		if (pwrite(in->mem, args[i].str, n, (off_t)sp) != (ssize_t)n)
			return lh_error("cannot write to process %d: %s", (int)in->pid, strerror(errno));
		val[i] = sp;
	}
	sp -= 8; /* the return address: rsp % 16 == 8 at entry, as after a call */
	if (pwrite(in->mem, &zero, 8, (off_t)sp) != 8)
		return lh_error("cannot write to process %d: %s", (int)in->pid, strerror(errno));
	r.rsp = sp;
	r.rip = fn;
	r.rdi = val[0];
	r.rsi = val[1];
	r.rdx = val[2];
	r.rax = 0;
	r.orig_rax = (unsigned long)-1;
	if (ptrace(PTRACE_SETREGS, in->pid, NULL, &r) || ptrace(PTRACE_CONT, in->pid, NULL, NULL))
		return lh_error("cannot run code in process %d: %s", (int)in->pid, strerror(errno));
	for (;;) {
		sig = wait_stop(in);
		if (sig < 0) {
			in->stopped = 0;
			return lh_error("process %d exited during the call", (int)in->pid);
		}
		if (ptrace(PTRACE_GETREGS, in->pid, NULL, &r))
			return lh_error("cannot read the registers of process %d: %s", (int)in->pid, strerror(errno));
		if (sig == SIGSEGV && r.rip == 0)
			break;
		if (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGABRT)
			return lh_error("the call crashed in process %d (signal %d at 0x%llx)", (int)in->pid, sig,
					(unsigned long long)r.rip);
		/* another signal or a stop request during the call: deliver it;
		 * a handler that runs ends the sleep we stopped (lh_inject_close) */
		if (sig > 0 && catches(in->pid, sig))
			in->handled = 1;
		ptrace(PTRACE_CONT, in->pid, NULL, (void *)(long)(sig > 0 ? sig : 0));
	}
	*ret = (long)r.rax;
	return 0;
}

void lh_inject_close(struct lh_inject *in)
{
	if (in->stopped) {
		struct iovec io = { in->xstate, in->xstate_len };

		/* a handler of the program ran during our calls: the sleep we
		 * stopped ends with EINTR, as the kernel ends it when a handler
		 * runs, not restarted (a program that waits in epoll_wait or
		 * pause for that signal slept on, its flag never looked at) */
		if (in->handled && (long)in->regs.orig_rax >= 0 &&
		    ((long)in->regs.rax == -ERESTARTNOHAND || (long)in->regs.rax == -ERESTART_RESTARTBLOCK))
			in->regs.rax = (unsigned long)-EINTR;
		ptrace(PTRACE_SETREGSET, in->pid, (void *)NT_X86_XSTATE, &io);
		ptrace(PTRACE_SETREGS, in->pid, NULL, &in->regs);
		if (in->mask_set)
			ptrace(PTRACE_SETSIGMASK, in->pid, (void *)sizeof(in->sigmask), &in->sigmask);
	}
	if (in->seized)
		ptrace(PTRACE_DETACH, in->pid, NULL, NULL);
	if (in->mem >= 0)
		close(in->mem);
	free(in->xstate);
	memset(in, 0, sizeof(*in));
	in->mem = -1;
}
