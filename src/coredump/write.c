/*
 * Writing a core of a running process (what gcore does, with a shorter
 * pause and a smaller file).  The process is stopped thread by thread with
 * PTRACE_SEIZE + PTRACE_INTERRUPT (no signal is queued to it, unlike
 * SIGSTOP, and it never sees a stop its shell could notice), its mappings are
 * read from /proc/PID/smaps, the memory analysis needs is copied from
 * /proc/PID/mem into the file, and every thread is let go.  Only then are
 * the ELF header, program headers and notes written: everything they need
 * was gathered while the process was stopped.
 *
 * What is copied decides both the pause and the size.  gcore copies
 * PROT_NONE reservations too (V8 reserves hundreds of MB of address space
 * it never touches), which makes a 80 MB process a 1 GB core.  We copy:
 * readable anonymous memory, writable file mappings, read-only file pages
 * that were written (relocated data: smaps counts them as "Anonymous"), and
 * the first page of every file mapped from offset 0 (its ELF header, which
 * holds the build id, as the kernel does).  Pages of zeros become holes.
 */
#include "coredump.h"

#include <cpuid.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/outfile.h"
#include "base/strbuf.h"

#define PAGE 4096u
#define MAX_THREADS 100000

struct thread {
	pid_t tid;
	int stopped;                    /* seized and in a ptrace stop */
	int status;                     /* waitpid's status for that stop */
	struct user_regs_struct regs;
	struct user_fpregs_struct fpregs;
	int have_fp;
	unsigned char *xstate;          /* NT_X86_XSTATE's bytes, or NULL */
	size_t xstate_len;
	siginfo_t si;                   /* NT_SIGINFO's */
	int cursig;                     /* the signal the thread is stopped with */
	int pending_sig;                /* a signal it was about to take: given back at detach */
};

struct mapping {
	uint64_t start, end, offset;
	char perms[5];
	char *path;                     /* "" for anonymous */
	uint64_t anon_kb;               /* smaps "Anonymous" */
	uint64_t dump;                  /* bytes to copy from start */
	uint64_t file_off;              /* where they go in the core */
};

struct writer {
	pid_t pid;
	char dir[64];                   /* "/proc/PID", or a live thread's "/proc/PID/task/TID" */
	pid_t dir_tid;                  /* that thread, or 0 */
	struct thread *threads;
	size_t nthreads, alloc_threads;
	struct mapping *maps;
	size_t nmaps, alloc_maps;
	struct strbuf auxv, cmdline, stat;
	unsigned int uid, gid;          /* the process's real ids (/proc/PID/status) */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int read_proc(struct strbuf *sb, const char *dir, const char *what)
{
	char path[96];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		strbuf_grow(sb, 65536);
		n = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
		if (n <= 0)
			break;
		strbuf_setlen(sb, sb->len + n);
	}
	close(fd);
	return n < 0 ? -1 : 0;
}

static struct thread *find_thread(struct writer *w, pid_t tid)
{
	for (size_t i = 0; i < w->nthreads; i++)
		if (w->threads[i].tid == tid)
			return &w->threads[i];
	return NULL;
}

/*
 * Wait until every seized thread is in its ptrace stop or gone; -1 when none
 * is left.  Waits for whichever thread reports first, not thread by thread:
 * when the process is killed meanwhile, its main thread's exit is reported
 * only after every other thread's has been collected, so waiting for the
 * main thread first would wait forever.
 */
static int wait_stopped(struct writer *w)
{
	size_t pending = 0, alive = 0;

	for (size_t i = 0; i < w->nthreads; i++)
		pending += w->threads[i].tid && !w->threads[i].stopped;
	while (pending) {
		int status;
		pid_t tid = waitpid(-1, &status, __WALL);
		struct thread *t;

		if (tid < 0) {
			if (errno == EINTR)
				continue;
			/* no tracee left to report: all gone */
			for (size_t i = 0; i < w->nthreads; i++)
				if (!w->threads[i].stopped)
					w->threads[i].tid = 0;
			break;
		}
		t = find_thread(w, tid);
		if (!t)
			continue;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			pending -= !t->stopped;
			t->tid = 0; /* gone */
		} else if (!t->stopped) {
			t->stopped = 1;
			t->status = status;
			/* a signal-delivery stop: the signal is given back at
			 * detach, also when stop_threads fails after this */
			if (WIFSTOPPED(status) && !(status >> 16))
				t->pending_sig = WSTOPSIG(status);
			pending--;
		}
	}
	for (size_t i = 0; i < w->nthreads; i++)
		alive += w->threads[i].tid != 0;
	return alive ? 0 : -1;
}

/* Has the task whose stat file is path exited (gone, or a zombie whose memory is gone)? */
static int stat_dead(const char *path)
{
	char buf[512], *q;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	q = strrchr(buf, ')'); /* the name may hold anything */
	return q && q[1] == ' ' && (q[2] == 'Z' || q[2] == 'X');
}

/*
 * Has pid exited?  Its main thread may have exited alone (pthread_exit):
 * it is a zombie until the other threads exit, and the process lives on in
 * them.
 */
static int process_dead(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	int dead = 1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!stat_dead(path))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 1;
	while (dead && (de = readdir(d))) {
		int tid = atoi(de->d_name);

		if (tid <= 0 || tid == pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, tid);
		dead = stat_dead(path);
	}
	closedir(d);
	return dead;
}

static int thread_dead(pid_t pid, pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	return stat_dead(path);
}

/*
 * Open the process's memory.  When its main thread has exited and waits for
 * the others as a zombie, /proc/PID's mem, smaps, auxv and cmdline are
 * empty (the zombie has no memory): those of a live thread are read instead,
 * from w->dir.
 */
static int open_mem(struct writer *w)
{
	char path[96], task[64];
	DIR *d;
	struct dirent *de;
	int fd, err;

	snprintf(w->dir, sizeof(w->dir), "/proc/%d", (int)w->pid);
	w->dir_tid = 0;
	snprintf(path, sizeof(path), "%s/mem", w->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || errno != ESRCH)
		return fd;
	snprintf(task, sizeof(task), "/proc/%d/task", (int)w->pid);
	d = opendir(task);
	if (!d) {
		errno = ESRCH;
		return -1;
	}
	err = ESRCH;
	while (fd < 0 && (de = readdir(d))) {
		int tid = atoi(de->d_name);

		if (tid <= 0 || tid == w->pid)
			continue;
		snprintf(path, sizeof(path), "%s/%d/mem", task, tid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno != ESRCH && errno != ENOENT)
				err = errno;
			continue;
		}
		snprintf(w->dir, sizeof(w->dir), "/proc/%d/task/%d", (int)w->pid, tid);
		w->dir_tid = tid;
	}
	closedir(d);
	if (fd < 0)
		errno = err;
	return fd;
}

/*
 * After the threads are stopped, read /proc from one of them: the thread
 * w->dir named may have exited since, taking its files with it.
 */
static void pick_stopped_dir(struct writer *w)
{
	struct thread *t = w->dir_tid ? find_thread(w, w->dir_tid) : NULL;

	if (!w->dir_tid || (t && t->tid && t->stopped))
		return;
	for (size_t i = 0; i < w->nthreads; i++) {
		if (w->threads[i].tid && w->threads[i].stopped) {
			w->dir_tid = w->threads[i].tid;
			snprintf(w->dir, sizeof(w->dir), "/proc/%d/task/%d", (int)w->pid, (int)w->dir_tid);
			return;
		}
	}
}

/*
 * Seize and interrupt every thread, re-listing /proc/PID/task until a pass
 * finds no new one: threads created while we stop the others are caught on
 * the next pass (a stopped thread cannot create more).
 */
static int stop_threads(struct writer *w)
{
	char path[64];
	int round;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)w->pid);
	for (round = 0; round < 100; round++) {
		DIR *d = opendir(path);
		struct dirent *de;
		int added = 0;

		if (!d && process_dead(w->pid))
			return lh_error("cannot stop process %d: it exited", (int)w->pid);
		if (!d)
			return lh_error("cannot stop process %d: cannot list its threads: %s", (int)w->pid,
					strerror(errno));
		while ((de = readdir(d))) {
			pid_t tid = atoi(de->d_name);
			struct thread *t;

			if (tid <= 0 || find_thread(w, tid))
				continue;
			if (w->nthreads >= MAX_THREADS)
				break;
			ALLOC_GROW(w->threads, w->nthreads + 1, w->alloc_threads);
			t = &w->threads[w->nthreads];
			memset(t, 0, sizeof(*t));
			t->tid = tid;
			if (ptrace(PTRACE_SEIZE, tid, 0, 0)) {
				/* exited meanwhile; a thread that has exited but is not yet
				 * gone (or a main thread waiting for the others) is EPERM */
				if (errno == ESRCH || (errno == EPERM && thread_dead(w->pid, tid)))
					continue;
				closedir(d);
				return lh_error("cannot stop process %d: ptrace of thread %d: %s; "
						"run as the process's user (or root), and check "
						"/proc/sys/kernel/yama/ptrace_scope", (int)w->pid, (int)tid,
						strerror(errno));
			}
			w->nthreads++;
			added++;
			if (ptrace(PTRACE_INTERRUPT, tid, 0, 0))
				continue;
		}
		closedir(d);
		if (wait_stopped(w))
			return lh_error("cannot stop process %d: it exited", (int)w->pid);
		if (!added)
			return 0;
	}
	return lh_error("cannot stop process %d: it keeps creating threads", (int)w->pid);
}

/*
 * What a stopped thread is stopped with, for pr_cursig and NT_SIGINFO.  Our
 * PTRACE_INTERRUPT makes an event stop whose siginfo is ptrace's own
 * (SIGTRAP, si_code SIGTRAP | PTRACE_EVENT_STOP << 8), not a signal anyone
 * sent: it is written as SIGSTOP from the kernel (SI_KERNEL), which is what
 * gcore's cores say (gdb's attach sends SIGSTOP).  A thread found in a group
 * stop (kill -STOP, Ctrl-Z) is stopped by that signal.  A thread that was
 * taking a signal when it was seized reports that instead (a
 * signal-delivery stop): its siginfo is the real one, and the signal is
 * given back when we detach (detaching with 0 would discard it).
 */
static void read_stop_signal(struct thread *t)
{
	int sig = WSTOPSIG(t->status);

	memset(&t->si, 0, sizeof(t->si));
	if (t->status >> 16 == 0 && !ptrace(PTRACE_GETSIGINFO, t->tid, 0, &t->si)) {
		t->cursig = t->pending_sig = sig;
		return;
	}
	t->cursig = t->status >> 16 == PTRACE_EVENT_STOP && sig != SIGTRAP ? sig : SIGSTOP;
	t->si.si_signo = t->cursig;
	t->si.si_code = SI_KERNEL;
}

/* Intel's offsets and sizes of the user xsave components 2 to 9 (the SDM's standard format) */
static const uint16_t intel_off[10] = { [2] = 576, [3] = 960, [4] = 1024, [5] = 1088, [6] = 1152, [7] = 1664,
					[9] = 2688 };
static const uint16_t intel_size[10] = { [2] = 256, [3] = 64, [4] = 64, [5] = 64, [6] = 512, [7] = 1024, [9] = 8 };
#define XSAVE_HDR_END 576u              /* legacy area (512) and xsave header (64) */
#define XSAVE_XCR0 464u                 /* where the kernel puts XCR0 (sw_reserved) */
#define XSAVE_BV 512u                   /* XSTATE_BV: the components the area holds */

/*
 * The thread's xsave area (AVX and later registers) for NT_X86_XSTATE, read
 * into buf.  The kernel gives it in this CPU's standard format and writes it
 * so in its own cores, but gdb (13 at least) reads each component at Intel's
 * offset, and from AVX-512 on AMD's differ (no MPX: opmask at 832, not
 * 1088): gdb finds a kernel core's note "too small" there and shows no ymm
 * upper half.  gcore writes Intel's layout, and so do we when this CPU's
 * offsets (CPUID leaf 0xd) are not Intel's: components moved, those Intel's
 * layout lacks left out and cleared from XCR0 and XSTATE_BV, so that no
 * reader looks for them.
 */
static void read_xstate(struct thread *t, unsigned char *buf, size_t bufsz)
{
	struct iovec iov = { buf, bufsz };
	uint64_t xcr0, bv, keep = 3;
	size_t end = XSAVE_HDR_END;
	int moved = 0;

	if (ptrace(PTRACE_GETREGSET, t->tid, NT_X86_XSTATE, &iov) || iov.iov_len < XSAVE_HDR_END)
		return;
	memcpy(&xcr0, buf + XSAVE_XCR0, 8);
	for (int i = 2; i < 10; i++) {
		unsigned int size, off, ecx, edx;

		if (xcr0 >> i & 1 && intel_size[i] &&
		    (!__get_cpuid_count(0xd, i, &size, &off, &ecx, &edx) || off != intel_off[i]))
			moved = 1;
	}
	if (!moved) {
		t->xstate = lh_xmalloc(iov.iov_len);
		memcpy(t->xstate, buf, iov.iov_len);
		t->xstate_len = iov.iov_len;
		return;
	}
	t->xstate = lh_xcalloc(1, intel_off[9] + intel_size[9]);
	memcpy(t->xstate, buf, XSAVE_HDR_END);
	for (int i = 2; i < 10; i++) {
		unsigned int size, off, ecx, edx;

		if (!(xcr0 >> i & 1) || !intel_size[i] || !__get_cpuid_count(0xd, i, &size, &off, &ecx, &edx) ||
		    size != intel_size[i] || off < XSAVE_HDR_END || off + size > iov.iov_len)
			continue;
		memcpy(t->xstate + intel_off[i], buf + off, size);
		keep |= 1ull << i;
		if (intel_off[i] + size > end)
			end = intel_off[i] + size;
	}
	xcr0 &= keep;
	memcpy(t->xstate + XSAVE_XCR0, &xcr0, 8);
	memcpy(&bv, t->xstate + XSAVE_BV, 8);
	bv &= keep;
	memcpy(t->xstate + XSAVE_BV, &bv, 8);
	t->xstate_len = end;
}

static void resume_threads(struct writer *w)
{
	for (size_t i = 0; i < w->nthreads; i++)
		if (w->threads[i].tid)
			ptrace(PTRACE_DETACH, w->threads[i].tid, 0, w->threads[i].pending_sig);
}

static int is_file_path(const char *p)
{
	size_t n = strlen(p);

	return p[0] == '/' && !(n > 10 && !strcmp(p + n - 10, " (deleted)"));
}

static int parse_smaps(struct writer *w, const char *text)
{
	const char *line = text;

	while (*line) {
		const char *eol = strchr(line, '\n');
		unsigned long long start, end, off, ino;
		char perms[8];
		int pathpos = 0;

		char one[512];

		if (!eol)
			eol = line + strlen(line);
		/* on a copy cut at the line's end: " %n" must not run into the next line */
		snprintf(one, sizeof(one), "%.*s", (int)(eol - line), line);
		if (sscanf(one, "%llx-%llx %7s %llx %*s %llu %n", &start, &end, perms, &off, &ino,
			   &pathpos) >= 5 && pathpos > 0 && pathpos <= eol - line) {
			struct mapping *m;

			ALLOC_GROW(w->maps, w->nmaps + 1, w->alloc_maps);
			m = &w->maps[w->nmaps++];
			memset(m, 0, sizeof(*m));
			m->start = start;
			m->end = end;
			m->offset = off;
			memcpy(m->perms, perms, 4);
			m->path = lh_xmalloc(eol - line - pathpos + 1);
			memcpy(m->path, line + pathpos, eol - line - pathpos);
			m->path[eol - line - pathpos] = 0;
			for (size_t k = strlen(m->path); k && m->path[k - 1] == ' '; k--)
				m->path[k - 1] = 0;
		} else if (w->nmaps && !strncmp(line, "Anonymous:", 10)) {
			w->maps[w->nmaps - 1].anon_kb = strtoull(line + 10, NULL, 10);
		}
		line = *eol ? eol + 1 : eol;
	}
	/* a process killed while stopped has no memory left: say that (its
	 * exit may still be under way: its memory goes before it is a zombie) */
	for (int i = 0; !w->nmaps && i < 50 && !process_dead(w->pid); i++)
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	if (!w->nmaps && process_dead(w->pid))
		return lh_error("cannot write a core of process %d: it exited while it was stopped; no core written",
				(int)w->pid);
	if (!w->nmaps)
		return lh_error("cannot read the mappings of process %d: /proc/%d/smaps is empty", (int)w->pid,
				(int)w->pid);
	return 0;
}

/* The kernel's rule of what a debugger needs, minus what the files hold anyway. */
static uint64_t dump_size(const struct mapping *m)
{
	uint64_t size = m->end - m->start;

	if (m->perms[0] != 'r')
		return 0; /* PROT_NONE reservations (and unreadable pages) */
	if (!is_file_path(m->path))
		return size;
	if (m->perms[3] == 's')
		return 0; /* shared file mappings: the file is the memory */
	if (m->perms[1] == 'w' || m->anon_kb)
		return size; /* private data, or read-only pages written by relocation */
	if (m->offset == 0)
		return PAGE; /* the ELF header and, right after it, the build id note */
	return 0;
}

/* Skip mappings that are not memory at all. */
static int listed(const struct mapping *m)
{
	return strcmp(m->path, "[vvar]") && strcmp(m->path, "[vsyscall]") && strcmp(m->path, "[vvar_vclock]");
}

static int all_zero(const unsigned char *p, size_t n)
{
	const uint64_t *q = (const uint64_t *)(const void *)p;

	for (size_t i = 0; i < n / 8; i++)
		if (q[i])
			return 0;
	return 1;
}

/*
 * Is m private anonymous memory, whose pages never touched are zeros?  (Of
 * a file mapping, a page not yet faulted in is the file's.)
 */
static int anonymous(const struct mapping *m)
{
	return m->perms[3] == 'p' && (!m->path[0] || !strcmp(m->path, "[heap]") || !strncmp(m->path, "[stack", 6) ||
				      !strncmp(m->path, "[anon:", 6));
}

/*
 * Is any page of [addr, addr + len) present or swapped out?  /proc/PID/mem
 * reads a page never touched as zeros by mapping the zero page there: for a
 * 100 GB MAP_NORESERVE reservation, seconds of pause and 200 MB of the
 * process's page tables.  pagemap tells without touching.  Yes when it
 * cannot tell.
 */
static int any_page(int pagemapfd, uint64_t addr, size_t len)
{
	uint64_t e[1024];
	size_t n = len / PAGE;

	if (n > sizeof(e) / sizeof(*e) || pread(pagemapfd, e, n * 8, addr / PAGE * 8) != (ssize_t)(n * 8))
		return 1;
	for (size_t i = 0; i < n; i++)
		if (e[i] & (3ull << 62)) /* present, swapped */
			return 1;
	return 0;
}

/*
 * Copy one mapping's bytes to fd at m->file_off; unreadable pages stay holes,
 * and so do runs of untouched anonymous pages (pagemapfd, or -1).
 */
static int copy_mapping(int memfd, int pagemapfd, int fd, const struct mapping *m, unsigned char *buf,
			size_t bufsz, uint64_t *copied)
{
	if (!anonymous(m))
		pagemapfd = -1;
	for (uint64_t done = 0; done < m->dump;) {
		size_t n = m->dump - done < bufsz ? m->dump - done : bufsz;
		ssize_t r;

		if (pagemapfd >= 0 && !any_page(pagemapfd, m->start + done, n)) {
			done += n;
			continue;
		}
		r = pread(memfd, buf, n, m->start + done);

		if (r <= 0) {
			/* page by page: a guard page inside the range must not lose the rest */
			r = PAGE;
			if (pread(memfd, buf, PAGE, m->start + done) != PAGE) {
				done += PAGE;
				continue;
			}
		}
		for (size_t k = 0; k < (size_t)r; k += PAGE) {
			size_t len = (size_t)r - k < PAGE ? (size_t)r - k : PAGE;

			if (all_zero(buf + k, len))
				continue;
			if (pwrite(fd, buf + k, len, m->file_off + done + k) != (ssize_t)len)
				return -1;
		}
		*copied += r;
		done += r;
	}
	return 0;
}

/* Can the process's memory still be read?  Tries the first page of each mapping copied. */
static int process_memory_alive(int memfd, const struct writer *w)
{
	unsigned char page[PAGE];

	for (size_t i = 0; i < w->nmaps; i++)
		if (w->maps[i].dump && pread(memfd, page, PAGE, w->maps[i].start) == PAGE)
			return 1;
	return 0;
}

static void note(struct strbuf *sb, uint32_t type, const char *name, const void *desc, size_t len)
{
	Elf64_Nhdr h = { .n_namesz = strlen(name) + 1, .n_descsz = len, .n_type = type };
	static const char zero[4];

	strbuf_add(sb, &h, sizeof(h));
	strbuf_add(sb, name, h.n_namesz);
	strbuf_add(sb, zero, (4 - h.n_namesz % 4) % 4);
	strbuf_add(sb, desc, len);
	strbuf_add(sb, zero, (4 - len % 4) % 4);
}

/* Fields of /proc/PID/stat after the command name (which may hold spaces). */
struct procstat {
	char state;
	int ppid, pgrp, sid;
	long nice;
	unsigned long flags;
	char comm[17];
};

static void parse_stat(const char *text, struct procstat *ps)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')');

	memset(ps, 0, sizeof(*ps));
	if (!open || !close || close < open)
		return;
	snprintf(ps->comm, sizeof(ps->comm), "%.*s", (int)(close - open - 1), open + 1);
	sscanf(close + 1, " %c %d %d %d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %ld", &ps->state,
	       &ps->ppid, &ps->pgrp, &ps->sid, &ps->flags, &ps->nice);
}

/* The process's real uid and gid, for NT_PRPSINFO (the kernel's and gcore's choice), not ours. */
static void read_ids(struct writer *w, const char *dir)
{
	struct strbuf sb = STRBUF_INIT;
	const char *u, *g;

	if (!read_proc(&sb, dir, "status") && (u = strstr(sb.buf, "\nUid:")) && (g = strstr(sb.buf, "\nGid:"))) {
		w->uid = strtoul(u + 5, NULL, 10);
		w->gid = strtoul(g + 5, NULL, 10);
	}
	strbuf_release(&sb);
}

static void build_notes(struct writer *w, struct strbuf *sb)
{
	static const char states[] = "RSDTZW";
	const char *state;
	struct procstat ps;
	struct elf_prpsinfo info;
	struct strbuf files = STRBUF_INIT, names = STRBUF_INIT;
	uint64_t count = 0, page = PAGE;

	parse_stat(w->stat.buf, &ps);
	/* the main thread first: gdb makes the first NT_PRSTATUS the current thread */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < w->nthreads; i++) {
			struct thread *t = &w->threads[i];
			struct elf_prstatus pr;

			if (!t->tid || (pass == 0) != (t->tid == w->pid))
				continue;
			memset(&pr, 0, sizeof(pr));
			pr.pr_info.si_signo = t->cursig;
			pr.pr_cursig = t->cursig;
			pr.pr_pid = t->tid;
			pr.pr_ppid = ps.ppid;
			pr.pr_pgrp = ps.pgrp;
			pr.pr_sid = ps.sid;
			memcpy(&pr.pr_reg, &t->regs, sizeof(t->regs) < sizeof(pr.pr_reg) ? sizeof(t->regs)
											     : sizeof(pr.pr_reg));
			pr.pr_fpvalid = t->have_fp; /* as the kernel's: NT_FPREGSET follows */
			note(sb, NT_PRSTATUS, "CORE", &pr, sizeof(pr));
			if (t->have_fp)
				note(sb, NT_FPREGSET, "CORE", &t->fpregs, sizeof(t->fpregs));
			/* gdb's reader takes this one only from a note named "LINUX" */
			if (t->xstate)
				note(sb, NT_X86_XSTATE, "LINUX", t->xstate, t->xstate_len);
			/* one per thread, as gcore writes (the kernel writes the dumping thread's) */
			note(sb, NT_SIGINFO, "CORE", &t->si, sizeof(t->si));
		}
	}
	memset(&info, 0, sizeof(info));
	/* the kernel's and gdb's numbering; "t" is a stop by a debugger */
	state = ps.state ? strchr(states, ps.state == 't' ? 'T' : ps.state) : NULL;
	info.pr_state = state ? state - states : 0;
	info.pr_sname = ps.state ? ps.state : 'R';
	info.pr_nice = ps.nice;
	info.pr_flag = ps.flags;
	info.pr_uid = w->uid;
	info.pr_gid = w->gid;
	info.pr_pid = w->pid;
	info.pr_ppid = ps.ppid;
	info.pr_pgrp = ps.pgrp;
	info.pr_sid = ps.sid;
	memcpy(info.pr_fname, ps.comm, strnlen(ps.comm, sizeof(info.pr_fname)));
	for (size_t i = 0; i < w->cmdline.len && i < sizeof(info.pr_psargs) - 1; i++)
		info.pr_psargs[i] = w->cmdline.buf[i] ? w->cmdline.buf[i] : ' ';
	note(sb, NT_PRPSINFO, "CORE", &info, sizeof(info));
	if (w->auxv.len)
		note(sb, NT_AUXV, "CORE", w->auxv.buf, w->auxv.len);
	/* NT_FILE: count, page size, then (start, end, offset in pages), then the names */
	for (size_t i = 0; i < w->nmaps; i++) {
		const struct mapping *m = &w->maps[i];
		uint64_t e[3] = { m->start, m->end, m->offset / PAGE };

		/* a file deleted since it was mapped too, as " (deleted)": the kernel's and gcore's
		 * cores list it so, and gdb's "info proc mappings" shows it */
		if (m->path[0] != '/' || !listed(m))
			continue;
		strbuf_add(&files, e, sizeof(e));
		strbuf_add(&names, m->path, strlen(m->path) + 1);
		count++;
	}
	{
		struct strbuf desc = STRBUF_INIT;

		strbuf_add(&desc, &count, 8);
		strbuf_add(&desc, &page, 8);
		strbuf_add(&desc, files.buf, files.len);
		strbuf_add(&desc, names.buf, names.len);
		note(sb, NT_FILE, "CORE", desc.buf, desc.len);
		strbuf_release(&desc);
	}
	strbuf_release(&files);
	strbuf_release(&names);
}

static void writer_release(struct writer *w)
{
	for (size_t i = 0; i < w->nmaps; i++)
		free(w->maps[i].path);
	free(w->maps);
	for (size_t i = 0; i < w->nthreads; i++)
		free(w->threads[i].xstate);
	free(w->threads);
	strbuf_release(&w->auxv);
	strbuf_release(&w->cmdline);
	strbuf_release(&w->stat);
}

static int write_all_at(int fd, const void *p, size_t n, uint64_t off)
{
	return pwrite(fd, p, n, off) == (ssize_t)n ? 0 : -1;
}

int lh_coredump_write(pid_t pid, const char *path, struct lh_coredump_write_stats *st)
{
	struct writer w = { .pid = pid, .auxv = STRBUF_INIT, .cmdline = STRBUF_INIT, .stat = STRBUF_INIT };
	struct strbuf smaps = STRBUF_INIT, notes = STRBUF_INIT, tmp = STRBUF_INIT;
	unsigned char *buf = NULL;
	size_t bufsz = 4u << 20;
	uint64_t t0 = 0, off, nload = 0, want = 0;
	int fd = -1, memfd = -1, pagemapfd = -1, ret = -1, stopped = 0;
	char procdir[64];
	Elf64_Ehdr eh;
	Elf64_Phdr *ph = NULL;
	size_t np = 0;

	memset(st, 0, sizeof(*st));
	snprintf(procdir, sizeof(procdir), "/proc/%d", (int)pid);
	if (read_proc(&w.stat, procdir, "stat") || !w.stat.len) {
		ret = lh_error("cannot read process %d: %s", (int)pid,
			       errno == ENOENT ? "no such process" : strerror(errno));
		goto out;
	}
	read_ids(&w, procdir);
	memfd = open_mem(&w);
	read_proc(&w.auxv, w.dir, "auxv");
	strbuf_addf(&tmp, "%s/pagemap", w.dir);
	pagemapfd = open(tmp.buf, O_RDONLY | O_CLOEXEC); /* without it, untouched pages are read too */
	strbuf_reset(&tmp);
	read_proc(&w.cmdline, w.dir, "cmdline");
	if (memfd < 0) {
		ret = lh_error("cannot read the memory of process %d: %s; run as its user or root", (int)pid,
			       strerror(errno));
		goto out;
	}
	strbuf_addf(&tmp, "%s.partial", path);
	if (!access(path, F_OK)) {
		ret = lh_error("cannot write '%s': the file exists; give another name with -o", path);
		goto out;
	}
	/* Ctrl-C while we write: no FILE.partial left */
	fd = lh_open_guarded(tmp.buf, O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = lh_error("cannot create '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	buf = lh_xmalloc(bufsz);

	/* --- the process is stopped from here --- */
	t0 = now_ns();
	stopped = 1;
	if (stop_threads(&w))
		goto out_unlink;
	pick_stopped_dir(&w);
	for (size_t i = 0; i < w.nthreads; i++) {
		struct thread *t = &w.threads[i];

		if (!t->tid)
			continue;
		read_stop_signal(t);
		if (ptrace(PTRACE_GETREGS, t->tid, 0, &t->regs)) {
			lh_warn("cannot read the registers of thread %d: %s", (int)t->tid, strerror(errno));
			continue;
		}
		t->have_fp = !ptrace(PTRACE_GETFPREGS, t->tid, 0, &t->fpregs);
		read_xstate(t, buf, bufsz);
		st->threads++;
	}
	if (read_proc(&smaps, w.dir, "smaps")) {
		if (process_dead(pid))
			lh_error("cannot write a core of process %d: it exited while it was stopped; no core written",
				 (int)pid);
		else
			lh_error("cannot read /proc/%d/smaps: %s", (int)pid, strerror(errno));
		goto out_unlink;
	}
	if (parse_smaps(&w, smaps.buf))
		goto out_unlink;
	build_notes(&w, &notes);
	for (size_t i = 0; i < w.nmaps; i++)
		nload += listed(&w.maps[i]);
	np = 1 + nload;
	off = sizeof(Elf64_Ehdr) + np * sizeof(Elf64_Phdr);
	off += notes.len;
	off = (off + PAGE - 1) / PAGE * PAGE;
	for (size_t i = 0; i < w.nmaps; i++) {
		struct mapping *m = &w.maps[i];

		if (!listed(m))
			continue;
		m->dump = dump_size(m);
		m->file_off = off;
		off += m->dump;
		want += m->dump;
	}
	for (size_t i = 0; i < w.nmaps; i++) {
		if (!w.maps[i].dump)
			continue;
		if (copy_mapping(memfd, pagemapfd, fd, &w.maps[i], buf, bufsz, &st->copied)) {
			lh_error("cannot write '%s': %s", tmp.buf, strerror(errno));
			goto out_unlink;
		}
	}
	/*
	 * A process killed while stopped (SIGKILL reaches a ptrace-stopped
	 * process) loses its memory: every read after that fails, and those
	 * pages would be holes in a core that looks complete.  Its memory is
	 * gone for good once gone, so one read now that succeeds means every
	 * read before it was of the live process.
	 */
	if (!process_memory_alive(memfd, &w)) {
		lh_error("cannot write a core of process %d: it exited while its memory was copied "
			 "(%llu of %llu bytes read); no core written", (int)pid,
			 (unsigned long long)st->copied, (unsigned long long)want);
		goto out_unlink;
	}
	resume_threads(&w);
	stopped = 0;
	st->pause_ns = now_ns() - t0;
	/* --- running again --- */

	if (ftruncate(fd, off)) {
		lh_error("cannot write '%s': %s", tmp.buf, strerror(errno));
		goto out_unlink;
	}
	ph = lh_xcalloc(np, sizeof(*ph));
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = sizeof(Elf64_Ehdr) + np * sizeof(Elf64_Phdr);
	ph[0].p_filesz = notes.len;
	ph[0].p_align = 4;
	np = 1;
	for (size_t i = 0; i < w.nmaps; i++) {
		const struct mapping *m = &w.maps[i];
		Elf64_Phdr *p = &ph[np];

		if (!listed(m))
			continue;
		p->p_type = PT_LOAD;
		p->p_flags = (m->perms[0] == 'r' ? PF_R : 0) | (m->perms[1] == 'w' ? PF_W : 0) |
			     (m->perms[2] == 'x' ? PF_X : 0);
		p->p_offset = m->file_off;
		p->p_vaddr = m->start;
		p->p_filesz = m->dump;
		p->p_memsz = m->end - m->start;
		p->p_align = PAGE;
		np++;
	}
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = np;
	if (write_all_at(fd, &eh, sizeof(eh), 0) || write_all_at(fd, ph, np * sizeof(*ph), sizeof(eh)) ||
	    write_all_at(fd, notes.buf, notes.len, ph[0].p_offset)) {
		lh_error("cannot write '%s': %s", tmp.buf, strerror(errno));
		goto out_unlink;
	}
	if (close(fd)) {
		fd = -1;
		lh_error("cannot write '%s': %s", tmp.buf, strerror(errno));
		goto out_unlink;
	}
	fd = -1;
	if (renameat2(AT_FDCWD, tmp.buf, AT_FDCWD, path, RENAME_NOREPLACE)) {
		lh_error("cannot rename '%s' to '%s': %s", tmp.buf, path,
			 errno == EEXIST ? "the file exists" : strerror(errno));
		goto out_unlink;
	}
	lh_outfile_unguard(tmp.buf);
	st->file_size = off;
	st->segments = np - 1;
	ret = 0;
	goto out;
out_unlink:
	if (stopped) {
		resume_threads(&w);
		st->pause_ns = now_ns() - t0;
	}
	unlink(tmp.buf);
	lh_outfile_unguard(tmp.buf);
out:
	if (fd >= 0)
		close(fd);
	if (memfd >= 0)
		close(memfd);
	if (pagemapfd >= 0)
		close(pagemapfd);
	free(buf);
	free(ph);
	strbuf_release(&smaps);
	strbuf_release(&notes);
	strbuf_release(&tmp);
	writer_release(&w);
	return ret;
}
