/*
 * The recorder inside the traced process: turns hook calls into .lht records
 * (format in src/native/lht.h) and gets them into the file.
 *
 * - Events go to a per-thread buffer, flushed as one chunk per write() when
 *   full, at thread exit, at exit, and every 100 ms by the timer thread, so a
 *   process killed with SIGKILL loses at most the last fraction of a second.
 *   Each buffer has a tiny lock that only the owner and the flushers take.
 * - Every event takes the next number of one global counter: the reader
 *   restores the exact order across threads from those dense numbers.  While
 *   only one thread records, it counts with a plain load and store (see
 *   share_seq: the locked add cost ~85 ns a malloc/free pair).
 * - Stacks become ids inside the process: a top-down trie of (parent, ip-1)
 *   nodes, each written once, and in front of it a cache from the whole ip
 *   array to its leaf id that is read without locks.  New nodes are written
 *   straight to the file before any buffer can refer to them.
 * - All our memory comes from mmap: the program's numbers stay its own.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>


#include "native/lht.h"
#include "native/preload/preload.h"

struct lh_preload_conf lh_preload_conf = { .depth = 256 };
__thread int lh_preload_busy LH_TLS;
__thread uintptr_t *lh_hook_frame LH_TLS;
volatile int lh_preload_active;

#define TBUF_SIZE (64 * 1024) /* direct records */
struct tbuf {
	atomic_int in_use;  /* the owner is appending (asymmetric protocol below) */
	atomic_int steal;   /* a flusher wants the buffer: the owner must wait */
	atomic_int lock;    /* without membarrier: owner and flushers both take it */
	int tid;            /* kernel thread id, in the chunk header */
	uint32_t nrec;      /* events in the half being filled */
	uint32_t room;      /* events that surely fit before the columns are checked again */
	uint8_t *w[LHT_COLUMNS]; /* where its columns continue */
	uint8_t *lim[LHT_COLUMNS]; /* past these, another event may not fit */
	uint64_t last_seq;  /* seq deltas restart at 0 in every chunk */
	uintptr_t last_ptr; /* ptr deltas too */
	int owned;          /* a live thread uses it; otherwise on the free list */
	struct tbuf *next;  /* every buffer ever made, for the flushers */
	int cur;            /* the half being filled */
	atomic_uint pending; /* events of half pend_half waiting for the writer */
	int pend_half;      /* set before pending is published */
	atomic_flag wlock;  /* whoever compresses and writes this buffer's data */
	uint64_t flush_ms;  /* self-timed (below): when the owner writes its half next */
	int help;           /* the owner is to flush every buffer (help_flush) */
	int ticket;         /* a realloc is numbered (ticket_seq) but not written yet */
	uint64_t ticket_seq, ticket_sample;
	struct lh_zstate *z; /* compress.c's state, mapped at the first write */
	struct lh_unwind_memo memo; /* the owner's recent stacks, their ids as tags */
	uint8_t rows[LH_ROWS_SIZE]; /* only without zstd */
	struct half halves[2];
};

static int trace_fd = -1;
/* the counter alone in its cache line: with threads, every event takes the
 * line for its add, and no other read or write should have to fetch it */
static struct {
	_Alignas(64) atomic_uint_fast64_t n;
} seq;
static atomic_int seq_shared; /* more than one thread takes numbers: atomic adds */
static struct timespec start_time;
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER; /* trie, modules, buffer list */
static struct tbuf *all_bufs;
static pthread_key_t buf_key;
static __thread struct tbuf *my_buf LH_TLS;
static int finished;
static int statm_fd = -1;
static dev_t statm_dev; /* what statm_fd is: the program may have closed it, */
static ino_t statm_ino; /* or put a descriptor of its own on its number */
static long page_size;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)(ts.tv_sec - start_time.tv_sec) * 1000 +
	       (ts.tv_nsec - start_time.tv_nsec) / 1000000;
}

void *lh_map_anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void say(const char *msg)
{
	(void)!write(2, msg, strlen(msg));
}

/* Decimal digits of v at p (no stdio in here); returns the end. */
static char *put_dec(char *p, uint64_t v)
{
	char digits[24];
	int d = 0;

	do
		digits[d++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (d)
		*p++ = digits[--d];
	return p;
}

static char trace_path[4096]; /* the file trace_fd writes */

/*
 * A write failed: set LHT_FLAG_WRITE_FAILED and the errno in the header's
 * flags, so that `leakhunt record` and `report` can tell a trace cut short by
 * a full disk from a program that died.  Rewriting four bytes the file
 * already has needs no new space.  (Through a second descriptor: a pwrite()
 * on an O_APPEND one appends.)
 */
static void mark_write_failed(int err)
{
	int fd = open(trace_path, O_RDWR | O_CLOEXEC);
	uint8_t f[4];

	if (fd < 0)
		return;
	if (pread(fd, f, 4, LHT_HEADER_FLAGS) == 4) {
		lht_put32(f, lht_get32(f) | LHT_FLAG_WRITE_FAILED | (uint32_t)(err & 0xff) << LHT_FLAG_ERRNO_SHIFT);
		if (pwrite(fd, f, 4, LHT_HEADER_FLAGS) != 4)
			say("libleakhunt: cannot mark the trace as cut short\n");
	}
	close(fd);
}

/*
 * The trace's descriptor belongs to us, but the program does not know it: a
 * daemon closes every descriptor it did not open, a program dup2()s onto
 * numbers it thinks free, and the next chunk would go into its file.  So
 * the descriptor sits high (open_trace), where the lowest-free-number rule
 * never hands it out again, and every write first checks with fstat (about
 * a microsecond a chunk) that it is still the trace, or opens the trace
 * again by its path.  What remains is a program that replaces our very
 * number between the check and the write.
 */
static dev_t trace_dev;
static ino_t trace_ino;
static pid_t trace_pid; /* the process whose trace it is: a vfork()ed child
			 * shares our memory, and its _exit must not end it */
unsigned lh_record_trace_id; /* counts the traces opened (preload.h) */
static atomic_flag reopen_lock = ATOMIC_FLAG_INIT;

/* Is fd still the file (dev, ino)?  A program may have closed our
 * descriptor, or put one of its own on its number. */
static int same_file(int fd, dev_t dev, ino_t ino)
{
	struct stat sb;

	return fd >= 0 && !fstat(fd, &sb) && sb.st_dev == dev && sb.st_ino == ino;
}

static int is_trace(int fd)
{
	return same_file(fd, trace_dev, trace_ino);
}

/* fd moved above the numbers a program uses (its own is closed), close-on-exec. */
static int move_high(int fd)
{
	struct rlimit rl;
	int high = -1;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur > 512)
		high = fcntl(fd, F_DUPFD_CLOEXEC, (int)(rl.rlim_cur > 4096 ? 4096 : rl.rlim_cur) - 256);
	if (high < 0)
		return fd;
	close(fd);
	return high;
}

/*
 * /proc/self/statm, for the RSS samples, on a high descriptor like the
 * trace's, and known the same way: a program that closes every descriptor
 * or dup2s onto high numbers may have put one of its own on statm_fd's
 * number, which we must then neither read nor close (a forked child closed
 * it: the program's pipe, and the child's writes to it went into the
 * child's trace, opened again on that number).
 */
static int is_statm(int fd)
{
	return same_file(fd, statm_dev, statm_ino);
}

static void open_statm(void)
{
	struct stat sb;

	statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (statm_fd >= 0)
		statm_fd = move_high(statm_fd);
	if (statm_fd >= 0 && fstat(statm_fd, &sb)) {
		close(statm_fd);
		statm_fd = -1;
	}
	if (statm_fd >= 0) {
		statm_dev = sb.st_dev;
		statm_ino = sb.st_ino;
	}
}

/* Close the trace's descriptor if it still is the trace's. */
static void close_trace(void)
{
	if (is_trace(trace_fd))
		close(trace_fd);
	trace_fd = -1;
}

static int checked_trace_fd(void)
{
	int fd = trace_fd, nfd;

	if (fd < 0 || is_trace(fd))
		return fd;
	while (atomic_flag_test_and_set_explicit(&reopen_lock, memory_order_acquire))
		sched_yield();
	fd = trace_fd;
	if (fd >= 0 && !is_trace(fd)) {
		/* never close the old number: it is the program's now */
		nfd = trace_path[0] ? open(trace_path, O_WRONLY | O_APPEND | O_CLOEXEC) : -1;
		if (nfd >= 0 && !is_trace(nfd)) {
			close(nfd); /* another file by that name now */
			nfd = -1;
		}
		trace_fd = fd = nfd >= 0 ? move_high(nfd) : -1;
		if (fd < 0) {
			say("libleakhunt: the program closed the trace file and it cannot be opened again; "
			    "recording stopped\n");
			lh_preload_active = 0;
		}
	}
	atomic_flag_clear_explicit(&reopen_lock, memory_order_release);
	return fd;
}

/*
 * Write all of [p, p+n); on failure (a full disk) stop recording for good
 * rather than leave a chunk half-written in the middle of the file.  Any
 * thread of the program may write: SIGXFSZ is blocked meanwhile (a file size
 * limit must stop the recording, not kill the program), and one it raised
 * is taken back before the mask is restored.
 */
void lh_record_write(const uint8_t *p, size_t n)
{
	sigset_t xfsz, old, pending;
	int fd, was_pending, cancel;

	/* write() is a cancellation point: a thread cancelled in it would die
	 * holding state_lock or its buffer's lock, and the process hang */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	sigemptyset(&xfsz);
	sigaddset(&xfsz, SIGXFSZ);
	pthread_sigmask(SIG_BLOCK, &xfsz, &old);
	was_pending = !sigpending(&pending) && sigismember(&pending, SIGXFSZ);
	fd = checked_trace_fd();
	while (n && fd >= 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int err = w < 0 ? errno : ENOSPC;
			struct timespec zero = { 0, 0 };

			if (err == EFBIG && !was_pending)
				sigtimedwait(&xfsz, NULL, &zero);
			mark_write_failed(err);
			say(err == EFBIG ? "libleakhunt: cannot write the trace (the file size limit, ulimit -f); "
					   "recording stopped\n"
					 : "libleakhunt: cannot write the trace (disk full?); recording stopped\n");
			lh_preload_active = 0;
			close_trace();
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_setcancelstate(cancel, NULL);
}

/* Chunk header in front of the payload at buf, then one write. */
static void write_chunk(uint8_t *buf, uint32_t len, int tid)
{
	lht_put32(buf, len);
	lht_put32(buf + 4, (uint32_t)tid);
	lh_record_write(buf, LHT_CHUNK_HEADER + len);
}

static void wlock(struct tbuf *b)
{
	while (atomic_flag_test_and_set_explicit(&b->wlock, memory_order_acquire))
		sched_yield();
}

static void wunlock(struct tbuf *b)
{
	atomic_flag_clear_explicit(&b->wlock, memory_order_release);
}

/* Start filling half cur from empty. */
static void half_start(struct tbuf *b)
{
	for (int k = 0; k < LHT_COLUMNS; k++) {
		b->w[k] = b->halves[b->cur].col[k];
		b->lim[k] = b->w[k] + LH_COL_SIZE - LH_COL_ROOM;
	}
	b->nrec = 0;
	b->room = 0; /* the next event counts it */
	b->last_seq = 0;
	b->last_ptr = 0;
}

/* The half being filled, with its lengths, ready to be written. */
static struct half *half_close(struct tbuf *b)
{
	struct half *h = &b->halves[b->cur];

	h->nrec = b->nrec;
	for (int k = 0; k < LHT_COLUMNS; k++)
		h->len[k] = (uint32_t)(b->w[k] - h->col[k]);
	return h;
}

/* The tests' LEAKHUNT_TEST_WRITER_DELAY: a drainer done with the lock
 * waits before it lets go, the owner yields between its drain and its
 * publication, which widens the window that once lost a half. */
static void test_delay(int drainer)
{
	if (LH_UNLIKELY(lh_preload_conf.writer_delay)) {
		if (drainer)
			usleep((useconds_t)lh_preload_conf.writer_delay);
		else
			sched_yield();
	}
}

/*
 * Write the half handed to the writer thread, if any (any thread).  Only
 * the one who writes the half clears pending: the owner publishes its next
 * half as soon as it has seen pending at 0, without the write lock, so a
 * drainer that found nothing must not store 0 (it once did, after waiting
 * for the lock while the owner wrote the half itself, and wiped the next
 * half's hand-over: a whole half missing from the trace under load).
 */
static void drain(struct tbuf *b)
{
	if (!atomic_load_explicit(&b->pending, memory_order_acquire))
		return;
	wlock(b);
	if (atomic_load_explicit(&b->pending, memory_order_acquire)) {
		lh_write_half(&b->z, b->tid, &b->halves[b->pend_half], b->rows); /* not !cur: the owner flips cur after publishing */
		test_delay(1);
		atomic_store_explicit(&b->pending, 0, memory_order_release);
	} else {
		test_delay(1);
	}
	wunlock(b);
}

/* Write the half being filled, now; by the owner, or by a flusher that
 * holds the buffer (see own_enter). */
static void flush_locked(struct tbuf *b)
{
	wlock(b);
	lh_write_half(&b->z, b->tid, half_close(b), b->rows);
	wunlock(b);
	half_start(b);
}

/*
 * Who may touch a buffer.  The owner appends on every event; the timer and
 * the exit path flush other threads' buffers a few times a second.  A lock
 * taken on every event (an atomic exchange) was a measurable part of the
 * tracer's cost, so the two sides are asymmetric, as in userspace RCU: the
 * owner only stores in_use = 1 and then reads steal, with no fence; a flusher
 * sets steal on every buffer, then membarrier() forces a full barrier on
 * every thread of the process, after which each owner either is seen in_use
 * (the flusher waits for it to leave) or will see steal (and waits for the
 * flusher).  Where membarrier is missing, both sides take the spin lock.
 */
static int asym; /* membarrier registered */

static void buf_lock(struct tbuf *b)
{
	while (atomic_exchange_explicit(&b->lock, 1, memory_order_acquire))
		;
}

static void buf_unlock(struct tbuf *b)
{
	atomic_store_explicit(&b->lock, 0, memory_order_release);
}

static __attribute__((noinline)) void own_wait(struct tbuf *b)
{
	do {
		atomic_store_explicit(&b->in_use, 0, memory_order_release);
		while (atomic_load_explicit(&b->steal, memory_order_acquire))
			sched_yield();
		atomic_store_explicit(&b->in_use, 1, memory_order_relaxed);
		atomic_signal_fence(memory_order_seq_cst);
	} while (atomic_load_explicit(&b->steal, memory_order_relaxed));
	atomic_thread_fence(memory_order_acquire);
}

static inline void own_enter(struct tbuf *b)
{
	if (LH_UNLIKELY(!asym)) {
		buf_lock(b);
		return;
	}
	atomic_store_explicit(&b->in_use, 1, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	if (LH_UNLIKELY(atomic_load_explicit(&b->steal, memory_order_relaxed)))
		own_wait(b);
}

static inline void own_leave(struct tbuf *b)
{
	if (LH_UNLIKELY(!asym)) {
		buf_unlock(b);
		return;
	}
	atomic_store_explicit(&b->in_use, 0, memory_order_release);
}

/*
 * The writer: compressing 64 KiB of events costs the thread that filled them
 * about 60 ns an event, so a full half is handed to the timer thread, which
 * compresses and writes it while the owner fills the other half (heaptrack
 * gets the same parallelism from its separate interpreter and zstd
 * processes).  An owner that fills its second half before the first went out
 * waits for the writer; without a writer thread it writes the half itself.
 */
static sem_t wake;
static int writer_running;
static atomic_uint timer_gen; /* a timer thread of an earlier attach exits when it changes */

/*
 * --sample from the start runs without the timer thread: any second thread
 * switches glibc's malloc and free to their multi-threaded paths (arena
 * locks, atomic fastbins) for good.  On churn, single-threaded, one idle
 * thread makes glibc's malloc, calloc and _int_free about 9% of the run
 * slower in perf (against its memset, which we do not touch); in wall time
 * bench/record.sh's idle-thread column measured 1.01-1.04x, within its
 * noise.  Sampled events are few, so the threads do the timer's work at
 * their own events instead (self_tick): an RSS sample when 10 ms have
 * passed, and a thread writes its half when 10 ms have passed since it last
 * did.  What a thread recorded in the last 10
 * ms before it went idle therefore reaches the file at its next event, at
 * thread exit or at exit, not within 100 ms: a SIGKILL loses it.  Attaching
 * keeps the timer.
 */
static int self_timed;
static _Atomic uint64_t next_rss_ms; /* self-timed: when the next RSS sample is due */
static _Atomic uint64_t next_flush_ms; /* self-timed: when every thread's buffer is written next */

/*
 * Every buffer is written at least once a FLUSH_EVENTS numbers: the report
 * gives up on a number after LAG_LIMIT (4 Mi) later ones, and the timer's
 * flush every 100 ms was not enough where the events come faster than 40 M
 * a second, or the timer does not get a CPU: 32 threads allocating on 2
 * CPUs went 420 ms between flushes, a lag of 4.5 Mi, and the report counted
 * hundreds of thousands of events as lost, which were in the file.  So an
 * owner that hands off a half when the last flush is that far behind
 * flushes everybody's buffers itself, after its event (help_flush).
 */
#define FLUSH_EVENTS (1u << 20)
static _Atomic uint64_t flushed_seq; /* seq.n when every buffer was last written */

static void hand_off(struct tbuf *b)
{
	if (atomic_load_explicit(&seq.n, memory_order_relaxed) -
		    atomic_load_explicit(&flushed_seq, memory_order_relaxed) > FLUSH_EVENTS)
		b->help = 1;
	if (!writer_running) {
		flush_locked(b);
		return;
	}
	/* the writer has not taken the last half yet: write it ourselves (never
	 * wait for the writer: a flusher may be waiting for us under state_lock) */
	drain(b);
	test_delay(0);
	b->pend_half = b->cur;
	atomic_store_explicit(&b->pending, half_close(b)->nrec, memory_order_release);
	b->cur ^= 1;
	half_start(b);
	sem_post(&wake);
}

static void drain_all(void)
{
	/* buffers are only ever added at the head, published with release
	 * order: walk the list without state_lock, which a flusher may hold
	 * while it waits for an owner that waits for us */
	for (struct tbuf *b = __atomic_load_n(&all_bufs, __ATOMIC_ACQUIRE); b; b = b->next)
		drain(b);
}

/* With --sample, the numbers are shared from the start (see share_seq). */
static void *barrier_page; /* for process_barrier's fallback */

static void register_membarrier(void)
{
	asym = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
	if (asym && !barrier_page) {
		barrier_page = mmap(NULL, (size_t)page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (barrier_page == MAP_FAILED)
			barrier_page = NULL;
	}
	atomic_store(&seq_shared, !asym || lh_preload_conf.sample);
}

/*
 * A full barrier on every thread of the process.  membarrier can fail after
 * it was registered: a program that installs a seccomp filter (a sandbox,
 * systemd's SystemCallFilter=) gets EPERM for it from then on, and the
 * flushers once retried forever under state_lock (the program hung at exit,
 * or at its first thread after the filter).  Then the barrier comes from a
 * TLB shootdown, as .NET's FlushProcessWriteBuffers makes it: taking write
 * access away from a page just written interrupts every CPU running one of
 * our threads.  Where even that fails, a millisecond's sleep, in which any
 * owner's store of in_use leaves its store buffer.
 */
static void process_barrier(void)
{
	static const struct timespec ms = { 0, 1000 * 1000 };

	if (!syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0))
		return;
	if (barrier_page && !mprotect(barrier_page, (size_t)page_size, PROT_READ | PROT_WRITE)) {
		__atomic_add_fetch((volatile int *)barrier_page, 1, __ATOMIC_SEQ_CST);
		if (!mprotect(barrier_page, (size_t)page_size, PROT_NONE))
			return;
	}
	atomic_thread_fence(memory_order_seq_cst);
	nanosleep(&ms, NULL);
}

static void release_buf(void *arg)
{
	struct tbuf *b = arg;
	int busy = lh_preload_busy;

	lh_preload_busy = 1;
	own_enter(b);
	flush_locked(b);
	b->owned = 0;
	own_leave(b);
	my_buf = NULL;
	lh_preload_busy = busy;
}

/* With asym: keep every owner out of its buffer until resume_owners()
 * (process_barrier cannot fail).  Under state_lock. */
static void stop_owners(void)
{
	struct tbuf *b;

	for (b = all_bufs; b; b = b->next)
		atomic_store(&b->steal, 1);
	process_barrier();
	for (b = all_bufs; b; b = b->next)
		while (atomic_load_explicit(&b->in_use, memory_order_acquire))
			sched_yield();
}

static void resume_owners(void)
{
	for (struct tbuf *b = all_bufs; b; b = b->next)
		atomic_store_explicit(&b->steal, 0, memory_order_release);
}

/* Flush every buffer, the other threads' too; under state_lock. */
static void flush_all(void)
{
	struct tbuf *b;

	atomic_store_explicit(&flushed_seq, atomic_load_explicit(&seq.n, memory_order_relaxed),
			      memory_order_relaxed);

	if (asym) {
		stop_owners();
		for (b = all_bufs; b; b = b->next)
			flush_locked(b);
		resume_owners();
		return;
	}
	for (b = all_bufs; b; b = b->next) {
		buf_lock(b);
		flush_locked(b);
		buf_unlock(b);
	}
}

/*
 * The sequence counter.  A locked add on every event waits for the store
 * buffer to drain (measured ~85 ns a malloc/free pair single-threaded), so
 * while one thread alone takes numbers it uses a plain load and store, inside
 * own_enter/own_leave.  The first time another thread takes a buffer (or the
 * timer a number), every owner is stopped outside its buffer with the
 * asymmetric protocol above: no owner is then between its load and its store,
 * and its last store is visible (in_use is released after it).  From then on
 * everybody adds atomically; an owner that was stopped reads seq_shared only
 * after own_wait's acquire fence.  Without membarrier, always atomic; with
 * --sample too: its events are few, so the locked adds cost nothing, and
 * the timer would otherwise stop the program (an IPI to its CPUs) every
 * 10 ms only to number an RSS sample.
 */
static void share_seq(void)
{
	if (atomic_load_explicit(&seq_shared, memory_order_relaxed))
		return;
	stop_owners();
	atomic_store_explicit(&seq_shared, 1, memory_order_relaxed);
	resume_owners();
}

static inline uint64_t next_seq(void)
{
	uint64_t s;

	if (LH_UNLIKELY(atomic_load_explicit(&seq_shared, memory_order_relaxed)))
		return atomic_fetch_add_explicit(&seq.n, 1, memory_order_relaxed);
	s = atomic_load_explicit(&seq.n, memory_order_relaxed);
	atomic_store_explicit(&seq.n, s + 1, memory_order_relaxed);
	return s;
}

/*
 * A thread whose buffer cannot be mapped (the process at a memory limit,
 * ulimit -v or -d) loses its events: said once, and the map is tried again
 * only every BUF_RETRY events (it was tried at each, a system call per
 * allocation, and nothing said the trace lacked a thread).
 */
#define BUF_RETRY 4096
static __thread unsigned buf_retry LH_TLS;
static atomic_flag buf_failure_said = ATOMIC_FLAG_INIT;

static __attribute__((noinline)) struct tbuf *no_buf(void)
{
	char msg[200], *p = msg;

	buf_retry = BUF_RETRY;
	if (atomic_flag_test_and_set(&buf_failure_said))
		return NULL;
	p = stpcpy(p, "libleakhunt: no memory for the event buffer of thread ");
	p = put_dec(p, (uint64_t)syscall(SYS_gettid));
	p = stpcpy(p, " (a memory limit: ulimit -v or -d?): its allocations are not recorded, and the "
		      "trace lacks them\n");
	say(msg);
	return NULL;
}

static __attribute__((noinline)) struct tbuf *get_buf(void)
{
	struct tbuf *b;

	if (LH_UNLIKELY(buf_retry) && --buf_retry)
		return NULL;
	pthread_mutex_lock(&state_lock);
	if (all_bufs)
		share_seq(); /* another thread (or this one, before) has numbered events */
	for (b = all_bufs; b; b = b->next)
		if (!b->owned)
			break;
	if (!b) {
		b = lh_map_anon(sizeof(*b));
		if (!b) {
			pthread_mutex_unlock(&state_lock);
			return no_buf();
		}
		atomic_flag_clear(&b->wlock);
		b->next = all_bufs;
		__atomic_store_n(&all_bufs, b, __ATOMIC_RELEASE);
	}
	b->owned = 1;
	b->tid = (int)syscall(SYS_gettid);
	half_start(b);
	lh_unwind_memo_clear(&b->memo);
	pthread_mutex_unlock(&state_lock);
	my_buf = b;
	pthread_setspecific(buf_key, b);
	return b;
}

/* Records written straight to the file (nodes, modules, samples) are built
 * here under state_lock and written as one chunk. */
static uint8_t direct[TBUF_SIZE];
static uint32_t direct_len;

static void direct_flush(void)
{
	if (direct_len)
		write_chunk(direct, direct_len, (int)syscall(SYS_gettid));
	direct_len = 0;
}

static uint8_t *direct_room(size_t n)
{
	if (LHT_CHUNK_HEADER + direct_len + n > sizeof(direct))
		direct_flush();
	return direct + LHT_CHUNK_HEADER + direct_len;
}

static void direct_str(uint8_t **pp, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	*pp = lht_put_varint(*pp, n);
	memcpy(*pp, s, n);
	*pp += n;
}

/* ---- the stack trie and the whole-stack cache ---- */

/*
 * Both tables start small and double when half full, so that the pages a
 * program's RSS gains from us follow its number of stacks: at fixed sizes
 * (16 MiB of trie, 10 MiB of cache, their slots hashed at random) a python
 * script's 5,000 stacks touched nearly all of them, and its peak RSS read
 * 63 MB where it used 37 MB.  The trie is only used under state_lock.  The
 * cache is read without locks: a grown one is published with release order,
 * and the old one stays mapped (until free_tables) but gives its pages back
 * with MADV_DONTNEED, so that a reader still inside it reads zeros, which
 * are empty slots: a miss, and the slow path under the lock.
 */
#define TRIE_BITS_MIN 12
#define TRIE_BITS_MAX 24
#define CACHE_BITS_MIN 10
#define CACHE_BITS_MAX 22
#define ARENA_MAX ((size_t)1 << 30) /* address space only (reserved, PROT_NONE)... */
#define ARENA_MIN ((size_t)1 << 20)
#define ARENA_STEP ((size_t)1 << 20) /* made writable this much at a time */

struct trie_slot {
	uint64_t ip;     /* frame address - 1, or LHT_IP_TRUNCATED */
	uint32_t parent;
	uint32_t id;     /* 0: empty (ids start at 1; the root is 0) */
};

struct cache_slot {
	atomic_uint_fast64_t hash; /* 0: empty; published last */
	uint32_t id;
	uint32_t depth;   /* frames, plus 1<<31 when truncated */
	uint64_t first, last; /* innermost and outermost ip, checked with the hash */
	uint64_t ips_off; /* index of the ips in the arena */
};

struct cache_table {
	uint64_t mask;    /* slots - 1 */
	struct cache_slot slot[];
};

static struct trie_slot *trie;
static unsigned trie_bits;
static struct cache_table *_Atomic cache;
static struct cache_table *old_caches[CACHE_BITS_MAX]; /* given back, still mapped */
static int nold_caches;
static uintptr_t *arena;
static size_t arena_used, arena_size, arena_ready, trie_count, cache_count; /* ready: bytes writable */
static uint32_t next_id = 1;

static size_t cache_bytes(uint64_t mask)
{
	return sizeof(struct cache_table) + (mask + 1) * sizeof(struct cache_slot);
}

static struct cache_table *cache_new(unsigned bits)
{
	struct cache_table *t = lh_map_anon(cache_bytes(((uint64_t)1 << bits) - 1));

	if (t)
		t->mask = ((uint64_t)1 << bits) - 1;
	return t;
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static struct trie_slot *trie_slot(struct trie_slot *t, uint64_t mask, uint32_t parent, uint64_t ip)
{
	uint64_t i = mix(ip * 31 + parent) & mask;

	while (t[i].id && !(t[i].ip == ip && t[i].parent == parent))
		i = (i + 1) & mask;
	return &t[i];
}

/* Double the trie (under state_lock); 0, or -1 when it cannot grow. */
static int trie_grow(void)
{
	uint64_t mask = ((uint64_t)1 << trie_bits) - 1, nmask = 2 * mask + 1;
	struct trie_slot *t;

	if (trie_bits >= (lh_preload_conf.trie_bits >= TRIE_BITS_MIN && lh_preload_conf.trie_bits < TRIE_BITS_MAX
			      ? lh_preload_conf.trie_bits : TRIE_BITS_MAX) ||
	    !(t = lh_map_anon((nmask + 1) * sizeof(*t))))
		return -1;
	for (uint64_t i = 0; i <= mask; i++)
		if (trie[i].id)
			*trie_slot(t, nmask, trie[i].parent, trie[i].ip) = trie[i];
	munmap(trie, (mask + 1) * sizeof(*trie));
	trie = t;
	trie_bits++;
	return 0;
}

static int trie_full; /* a node could not be added (under state_lock) */

/* force: add even past the grow point (the table is at most half full, so
 * there is room), for the one node of a stack the full trie cuts. */
static uint32_t trie_find_or_add(uint32_t parent, uint64_t ip, int force)
{
	uint64_t mask = ((uint64_t)1 << trie_bits) - 1;
	struct trie_slot *s = trie_slot(trie, mask, parent, ip);
	uint8_t *p;

	if (s->id)
		return s->id;
	if (trie_count >= mask / 2 && !force) {
		if (trie_grow()) {
			trie_full = 1;
			return parent;
		}
		s = trie_slot(trie, ((uint64_t)1 << trie_bits) - 1, parent, ip);
	}
	*s = (struct trie_slot){ ip, parent, next_id++ };
	trie_count++;
	p = direct_room(1 + 3 * 10);
	*p++ = LHT_REC_NODE;
	p = lht_put_varint(p, s->id);
	p = lht_put_varint(p, parent);
	p = lht_put_varint(p, ip);
	direct_len = (uint32_t)(p - direct - LHT_CHUNK_HEADER);
	return s->id;
}

/*
 * The arena is reserved without access and made writable as the cache
 * fills it (under state_lock), ARENA_STEP at a time: the kernel counts a
 * private writable mapping in the data size (RLIMIT_DATA, `ulimit -d`),
 * reserved or not, and brk and the program's own mmaps fail past it.  The
 * whole gigabyte writable from the start left a program under `ulimit -d
 * 600000` 71 MB of its 600 (it asked for 300, and stopped), and one that
 * set the limit itself, as sandboxes do, got no memory at all.  0: the n
 * addresses fit; -1: they do not (the stack is then not cached).
 */
static int arena_room(size_t n)
{
	size_t need = (arena_used + n) * sizeof(*arena), ready;

	if (need <= arena_ready)
		return 0;
	ready = (need + ARENA_STEP - 1) / ARENA_STEP * ARENA_STEP;
	if (ready > arena_size)
		ready = arena_size;
	if (mprotect((uint8_t *)arena + arena_ready, ready - arena_ready, PROT_READ | PROT_WRITE))
		return -1;
	arena_ready = ready;
	return 0;
}

/* Double the cache (under state_lock): every entry goes to a new table,
 * published whole; the old one's pages are given back. */
static void cache_grow(void)
{
	struct cache_table *t = atomic_load_explicit(&cache, memory_order_relaxed), *n;
	unsigned bits = 0;

	while (((uint64_t)1 << bits) <= t->mask)
		bits++;
	if (bits >= CACHE_BITS_MAX || nold_caches >= CACHE_BITS_MAX || !(n = cache_new(bits + 1)))
		return;
	for (uint64_t i = 0; i <= t->mask; i++) {
		uint64_t h = atomic_load_explicit(&t->slot[i].hash, memory_order_relaxed), k;

		if (!h)
			continue;
		for (k = h & n->mask; atomic_load_explicit(&n->slot[k].hash, memory_order_relaxed); k = (k + 1) & n->mask)
			;
		n->slot[k].id = t->slot[i].id;
		n->slot[k].depth = t->slot[i].depth;
		n->slot[k].first = t->slot[i].first;
		n->slot[k].last = t->slot[i].last;
		n->slot[k].ips_off = t->slot[i].ips_off;
		atomic_store_explicit(&n->slot[k].hash, h, memory_order_relaxed);
	}
	atomic_store_explicit(&cache, n, memory_order_release);
	madvise(t, cache_bytes(t->mask), MADV_DONTNEED);
	old_caches[nold_caches++] = t;
}

/* The hash of a stack: lh_hash_ips() of its ips (folded in by the walk),
 * mixed with the depth.  The fast path trusts 64 bits of hash plus depth,
 * leaf and root, as the measurements in shared/reference/unwinding.md (g2)
 * do: a false match needs two different stacks of one depth, leaf and root
 * that collide in 64 bits. */
static uint64_t hash_stack(uint64_t ips_hash, uint32_t depth)
{
	return mix(ips_hash ^ depth * 0x9e3779b97f4a7c15ULL) | 1;
}

static __attribute__((noinline)) uint32_t stack_id_slow(const uintptr_t *ips, uint32_t depth, uint64_t h)
{
	uint32_t n = depth & 0x7fffffff, id = 0;
	struct cache_table *t;
	struct cache_slot *s;
	uint64_t i, mask;

	pthread_mutex_lock(&state_lock);
	trie_full = 0;
	if (depth >> 31)
		id = trie_find_or_add(id, LHT_IP_TRUNCATED, 0);
	for (uint32_t k = n; k-- > 0 && !trie_full;)
		id = trie_find_or_add(id, ips[k] - 1, 0);
	if (trie_full) {
		/* the trie is full (2^23 nodes): cut where it stopped, the
		 * allocation would be charged to a caller of its own; it goes
		 * under [truncated], the stack no longer known, and it says so */
		static int said;

		if (!said++)
			say("libleakhunt: the stack table is full (2^23 call-path nodes); allocations on new "
			    "call paths are recorded under [truncated] from now on\n");
		id = trie_find_or_add(0, LHT_IP_TRUNCATED, 1);
	}
	direct_flush();
	t = atomic_load_explicit(&cache, memory_order_relaxed);
	if (cache_count >= t->mask / 2) {
		cache_grow();
		t = atomic_load_explicit(&cache, memory_order_relaxed);
	}
	mask = t->mask;
	/* publish in the cache after the nodes are in the file */
	for (i = h & mask;; i = (i + 1) & mask) {
		s = &t->slot[i];
		uint64_t sh = atomic_load_explicit(&s->hash, memory_order_acquire);

		if (!sh)
			break;
		if (sh == h && s->depth == depth && !memcmp(arena + s->ips_off, ips, n * sizeof(*ips)))
			goto out;
		if (sh == h && s->depth == depth && n && s->first == ips[0] && s->last == ips[n - 1])
			goto out; /* a 64-bit collision: the fast path would take it too */
	}
	if (cache_count < mask / 2 && arena_used + n <= arena_size / sizeof(*arena) && !arena_room(n)) {
		memcpy(arena + arena_used, ips, n * sizeof(*ips));
		s->id = id;
		s->depth = depth;
		s->first = n ? ips[0] : 0;
		s->last = n ? ips[n - 1] : 0;
		s->ips_off = arena_used;
		arena_used += n;
		cache_count++;
		atomic_store_explicit(&s->hash, h, memory_order_release);
	}
out:
	pthread_mutex_unlock(&state_lock);
	return id;
}

static uint32_t stack_id(const uintptr_t *ips, uint32_t depth, uint64_t ips_hash)
{
	const struct cache_table *t = atomic_load_explicit(&cache, memory_order_acquire);
	uint64_t mask = t->mask, h = hash_stack(ips_hash, depth);
	uint32_t n = depth & 0x7fffffff;

	for (uint64_t i = h & mask;; i = (i + 1) & mask) {
		const struct cache_slot *s = &t->slot[i];
		uint64_t sh = atomic_load_explicit(&s->hash, memory_order_acquire);

		if (!sh)
			break;
		if (sh == h && s->depth == depth && (!n || (s->first == ips[0] && s->last == ips[n - 1])))
			return s->id;
	}
	return stack_id_slow(ips, depth, h);
}

/* The stack id of the current stack; b's memo keeps the ids of the
 * thread's recent stacks, so a stack met again costs no lookup at all. */
static uint32_t capture(struct tbuf *b)
{
	uintptr_t ips[LH_MAX_DEPTH + 1];
	int max = lh_preload_conf.depth;
	uint32_t *tag, id;
	uint64_t h;
	int n = lh_unwind(&b->memo, ips, max + 1, &h, &tag);
	uint32_t depth = (uint32_t)n;

	if (tag && *tag)
		return *tag;
	if (n > max) {
		depth = (uint32_t)max | 1u << 31;
		h = lh_hash_ips(ips, max);
	}
	id = stack_id(ips, depth, h);
	if (tag)
		*tag = id;
	return id;
}

/* ---- modules ---- */

static char exe_path[4096];

/*
 * The modules this trace lists already, by a hash of load bias and path: a
 * change of the module list (dlopen) writes only the modules not listed
 * yet, which readers add to those before.  Writing the whole list at every
 * change made a program that keeps N libraries loaded write N^2 / 2 module
 * records (2.2 MB of the trace for 300 libraries).  An open-addressing set
 * of nonzero hashes in pages of our own, at most half full; under
 * state_lock.
 */
static uint64_t *listed;
static size_t listed_cap, listed_nr;

static uint64_t module_key(uint64_t bias, const char *name)
{
	uint64_t h = bias * 0x9e3779b97f4a7c15ull ^ 0xcbf29ce484222325ull;

	for (const char *c = name; *c; c++)
		h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
	h ^= h >> 29;
	return h ? h : 1;
}

static int listed_grow(void)
{
	size_t cap = listed_cap ? 2 * listed_cap : 512;
	uint64_t *t = lh_map_anon(cap * sizeof(*t));

	if (!t)
		return -1;
	for (size_t i = 0; i < listed_cap; i++) {
		size_t j = listed[i] & (cap - 1);

		if (!listed[i])
			continue;
		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = listed[i];
	}
	if (listed)
		munmap(listed, listed_cap * sizeof(*listed));
	listed = t;
	listed_cap = cap;
	return 0;
}

/* 1 when the trace does not list the module yet (now it does), else 0.  A
 * set that cannot grow says 1: the module is listed again, as before. */
static int module_is_new(uint64_t bias, const char *name)
{
	uint64_t h = module_key(bias, name);
	size_t i;

	if (2 * (listed_nr + 1) > listed_cap && listed_grow())
		return 1;
	for (i = h & (listed_cap - 1); listed[i]; i = (i + 1) & (listed_cap - 1))
		if (listed[i] == h)
			return 0;
	listed[i] = h;
	listed_nr++;
	return 1;
}

/* A new trace (a recording session, a forked child's) lists none yet;
 * under state_lock. */
static void modules_unlisted(void)
{
	if (listed)
		memset(listed, 0, listed_cap * sizeof(*listed));
	listed_nr = 0;
}

static int module_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	const char *name = info->dlpi_name;
	char full[PATH_MAX];
	uint8_t *p;
	int nseg = 0;

	if (!name || !*name)
		name = exe_path;
	/* a library found through a relative path (LD_LIBRARY_PATH=., or
	 * dlopen("./x.so")) keeps that path: resolve it from the current
	 * directory, as the loader did unless the program moved since; the
	 * vdso and other objects without a file are left out */
	if (name[0] != '/' && (!strchr(name, '/') || !realpath(name, full)))
		return 0;
	if (name[0] != '/')
		name = full;
	if (!module_is_new(info->dlpi_addr, name))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++)
		nseg += info->dlpi_phdr[i].p_type == PT_LOAD;
	p = direct_room(1 + 10 + 10 + 4096 + 10 + (size_t)nseg * 20);
	*p++ = LHT_REC_MODULE;
	p = lht_put_varint(p, info->dlpi_addr);
	direct_str(&p, name, 4095);
	p = lht_put_varint(p, (uint64_t)nseg);
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		p = lht_put_varint(p, ph->p_vaddr);
		p = lht_put_varint(p, ph->p_memsz);
	}
	direct_len = (uint32_t)(p - direct - LHT_CHUNK_HEADER);
	return 0;
}

/* The modules the trace does not list yet; fresh: a new trace, which lists
 * none. */
static void write_modules(int fresh)
{
	uint8_t *p;

	pthread_mutex_lock(&state_lock);
	if (fresh)
		modules_unlisted();
	p = direct_room(1);
	*p++ = LHT_REC_MODULES_RESET;
	direct_len++;
	dl_iterate_phdr(module_cb, NULL);
	direct_flush();
	pthread_mutex_unlock(&state_lock);
}

void lh_record_modules_changed(void)
{
	int busy = lh_preload_busy;

	if (!lh_preload_active || busy)
		return;
	lh_preload_busy = 1;
	write_modules(0);
	lh_preload_busy = busy;
}

/* ---- events ---- */

/* How many more events surely fit in the half: an event adds at most
 * LH_COL_ROOM bytes to a column, and one fits while no column is past its
 * limit.  0: the half is full.  The types column never outgrows the seq
 * column (a seq varint is a byte at least), so it needs no check of its own.
 * Counted down by one an event, it is computed again only when it runs out
 * (a few dozen times a half, against a check of every column at every
 * event). */
static uint32_t half_room(const struct tbuf *b)
{
	ptrdiff_t least = LH_COL_SIZE;

	for (int k = 1; k < LHT_COLUMNS; k++)
		if (b->lim[k] - b->w[k] < least)
			least = b->lim[k] - b->w[k];
	return least < 0 ? 0 : (uint32_t)(least / LH_COL_ROOM) + 1;
}

/* The half's room ran out: count it again, or hand the full half off (the
 * event then goes into the other, fresh, half, as before room was counted). */
static __attribute__((noinline)) void room_out(struct tbuf *b)
{
	b->room = half_room(b);
	if (!b->room) {
		hand_off(b);
		b->room = half_room(b);
		if (!b->room)
			b->room = 1;
	}
}

/* Enter the buffer for one event. */
static inline void lock_buf(struct tbuf *b)
{
	own_enter(b);
	if (LH_UNLIKELY(!b->room))
		room_out(b);
	b->room--;
}

/* The fields every event has: type, seq delta, and (put_ptr) the pointer. */
static inline void put_event_at(struct tbuf *b, uint8_t type, uint64_t s)
{
	*b->w[0]++ = type;
	b->w[1] = lht_put_varint(b->w[1], s - b->last_seq);
	b->last_seq = s;
	b->nrec++;
}

static inline void put_event(struct tbuf *b, uint8_t type)
{
	put_event_at(b, type, next_seq());
}

static inline void put_ptr(struct tbuf *b, const void *ptr)
{
	b->w[4] = lht_put_varint(b->w[4], lht_col_ptr_delta((int64_t)((uintptr_t)ptr - b->last_ptr)));
	b->last_ptr = (uintptr_t)ptr;
}

/* This thread's buffer, made at its first event. */
static inline struct tbuf *my_buffer(void)
{
	struct tbuf *b = my_buf;

	return LH_LIKELY(b != NULL) ? b : get_buf();
}

static void self_tick(struct tbuf *b);

/* hand_off found the last flush FLUSH_EVENTS numbers behind: write the
 * halves waiting for the writer and every buffer, outside ours (flush_all
 * waits for owners to leave theirs); not when another flusher is at it. */
static __attribute__((noinline)) void help_flush(struct tbuf *b)
{
	b->help = 0;
	drain_all();
	if (pthread_mutex_trylock(&state_lock))
		return;
	if (atomic_load_explicit(&seq.n, memory_order_relaxed) -
		    atomic_load_explicit(&flushed_seq, memory_order_relaxed) > FLUSH_EVENTS && lh_preload_active)
		flush_all();
	pthread_mutex_unlock(&state_lock);
}

/* An event is in b: leave it, and do the timer's work if it is ours. */
static inline void event_done(struct tbuf *b)
{
	own_leave(b);
	if (LH_UNLIKELY(b->help))
		help_flush(b);
	if (LH_UNLIKELY(self_timed))
		self_tick(b);
}

/*
 * An allocation's event does the timer's work before it instead: an RSS
 * sample taken just after a sampled allocation would count, at every point
 * of the timeline, the block that was sampled, most often one about to be
 * freed (a weight of about MEAN bytes: 64 KiB live all through a phase that
 * had none).  Before, the sample sees what was live before it.
 */
static inline void alloc_tick(struct tbuf *b)
{
	if (LH_UNLIKELY(b->help))
		help_flush(b);
	if (LH_UNLIKELY(self_timed))
		self_tick(b);
}

void lh_record_alloc_now(void *ptr, size_t size)
{
	uint32_t id;
	struct tbuf *b = my_buffer();

	if (!b)
		return;
	alloc_tick(b);
	id = capture(b);
	lock_buf(b);
	put_event(b, LHT_REC_ALLOC);
	b->w[2] = lht_put_varint(b->w[2], size);
	b->w[3] = lht_put_varint(b->w[3], id);
	put_ptr(b, ptr);
	own_leave(b);
}

void lh_record_free_now(void *ptr)
{
	struct tbuf *b = my_buffer();

	if (!b)
		return;
	lock_buf(b);
	put_event(b, LHT_REC_FREE);
	put_ptr(b, ptr);
	event_done(b);
}

void lh_record_realloc(void *old, void *ptr, size_t size)
{
	uint32_t id;
	struct tbuf *b;

	if (lh_preload_conf.sample) {
		int was = old && lh_sample_forget(old);

		if (!lh_sample_take(ptr, size)) {
			if (was)
				lh_record_free_now(old);
			return;
		}
		if (!was)
			old = NULL; /* for the trace, a new block */
	}
	b = my_buffer();
	if (!b)
		return;
	alloc_tick(b);
	id = capture(b);
	lock_buf(b);
	put_event(b, LHT_REC_REALLOC);
	b->w[2] = lht_put_varint(b->w[2], size);
	b->w[3] = lht_put_varint(b->w[3], id);
	put_ptr(b, ptr);
	b->w[5] = lht_put_varint(b->w[5], (uintptr_t)old);
	own_leave(b);
}

/*
 * realloc(old, n) numbered in two steps.  Its free of old must be numbered
 * before the real call: under a shared arena another thread can be handed
 * old's address while realloc is still returning, and that thread's
 * allocation would otherwise come first in the trace (the report then frees
 * the wrong block).  The new block must be numbered after the call, as any
 * allocation: a thread that freed that address during the call numbered its
 * free first.  So lh_record_realloc_begin takes a number, a ticket kept in
 * the thread's buffer, and lh_record_realloc_end spends it: on the whole
 * call when the block stayed where it was (no other thread can have had the
 * address), on an F of old followed by an R of the new block (old 0) when
 * it moved, and on a copy of the last RSS sample when realloc failed (old
 * untouched).  A number must never be a gap, which the report counts as a
 * lost event: a recording that ends while a realloc is in the real call
 * spends the ticket the same way (flush_all_final), and its owner, finding
 * it gone, writes nothing.  Owner and ender look at the ticket only inside
 * the buffer (own_enter), so exactly one of them spends it.  With --sample,
 * old leaves the sampled set before the call too (another thread's block at
 * that address, sampled during the call, must not be dropped by us); a
 * ticket is taken only when old was sampled, and a block that realloc then
 * does not keep in the sample is only an F.  When this thread cannot record
 * there is no ticket and end records as lh_record_realloc does.
 */
#define SAMPLE_PAGE_BITS 30 /* 4 TiB of 4 KiB pages; the ms above: 198 days */
#define TICKET_MAX (1 << 20)
static _Atomic uint64_t last_sample; /* the last S written: ms, RSS in pages */

int lh_record_realloc_begin(void *old, size_t n)
{
	struct tbuf *b;

	/* No ticket for a size that cannot be had (128 TiB, x86-64's user
	 * address space; a number spent on a failure costs a write of its own:
	 * a loop of 1 M reallocs to 2^62 bytes ran 3x slower), nor for a block
	 * of TICKET_MAX bytes or more: its copy can take so long
	 * (0.2 s for 256 MiB) that other threads number millions of events
	 * meanwhile, and the report gives up on a number 2^22 behind.  Those
	 * are numbered at return, as before (another thread getting the old
	 * address first needs an allocation as large, at that address). */
	if (n >= (size_t)1 << 47 || malloc_usable_size(old) >= TICKET_MAX)
		return LH_TICKET_NONE;
	/* --sample: old leaves the set before the call, as a free's block does */
	if (lh_preload_conf.sample && !lh_sample_forget(old))
		return LH_TICKET_UNSAMPLED;
	if (!(b = my_buffer()))
		return lh_preload_conf.sample ? LH_TICKET_UNSAMPLED : LH_TICKET_NONE;
	alloc_tick(b); /* before the number: a sample between F and R would miss the block */
	own_enter(b);
	/* before the number: a sample numbered after it has a later time */
	b->ticket_sample = atomic_load_explicit(&last_sample, memory_order_relaxed);
	b->ticket_seq = next_seq();
	b->ticket = 1;
	own_leave(b);
	return LH_TICKET_TAKEN;
}

/* An RSS sample numbered s repeating the sample packed in last, written at
 * once as a chunk of its own (in a chunk, a seq after the first is a delta:
 * every record with one goes out alone); under state_lock. */
static void sample_copy(uint64_t s, uint64_t last)
{
	uint8_t *p = direct_room(1 + 3 * 10);

	*p++ = LHT_REC_SAMPLE;
	p = lht_put_varint(p, s);
	p = lht_put_varint(p, last >> SAMPLE_PAGE_BITS);
	p = lht_put_varint(p, (last & ((1ull << SAMPLE_PAGE_BITS) - 1)) * (uint64_t)page_size);
	direct_len = (uint32_t)(p - direct - LHT_CHUNK_HEADER);
	direct_flush();
}

void lh_record_realloc_end(int ticket, void *old, void *ptr, size_t size)
{
	struct tbuf *b;
	uint32_t id = 0;
	int keep;

	if (ticket != LH_TICKET_TAKEN) {
		if (ptr)
			lh_record_realloc(ticket == LH_TICKET_NONE ? old : NULL, ptr, size);
		return;
	}
	b = my_buffer(); /* made by begin */
	if (!ptr && (!lh_preload_conf.sample || lh_sample_keep(old))) {
		/* old is untouched (and sampled still).  Under state_lock: the end
		 * of the recording (which holds it) is either before, and took
		 * the ticket, or after the copy */
		pthread_mutex_lock(&state_lock);
		own_enter(b);
		ticket = b->ticket;
		b->ticket = 0;
		own_leave(b);
		if (ticket)
			sample_copy(b->ticket_seq, b->ticket_sample);
		pthread_mutex_unlock(&state_lock);
		return;
	}
	/* not kept: old leaves the sample (a failed call: the set is full) */
	keep = ptr && (!lh_preload_conf.sample || lh_sample_take(ptr, size));
	if (keep)
		id = capture(b);
	lock_buf(b);
	if (!b->ticket) {
		own_leave(b); /* the recording ended during the call */
		return;
	}
	b->ticket = 0;
	if (!keep || ptr != old) {
		put_event_at(b, LHT_REC_FREE, b->ticket_seq);
		put_ptr(b, old);
		if (!keep) {
			event_done(b);
			return;
		}
		own_leave(b);
		lock_buf(b); /* the buffer has room for one event at a time */
		put_event(b, LHT_REC_REALLOC);
		old = NULL;
	} else {
		put_event_at(b, LHT_REC_REALLOC, b->ticket_seq);
	}
	b->w[2] = lht_put_varint(b->w[2], size);
	b->w[3] = lht_put_varint(b->w[3], id);
	put_ptr(b, ptr);
	b->w[5] = lht_put_varint(b->w[5], (uintptr_t)old);
	own_leave(b);
}

/*
 * The end of a recording, under state_lock: with every owner outside its
 * buffer at once, flush the buffers, spend the tickets of reallocs still in
 * the real call (as copies of an RSS sample, see above), and take the number
 * of events for the end record.  Every number below it is then in the file,
 * and an event of a thread that was waiting to enter its buffer is numbered
 * past the end (the reader reads it as after the end, not as a lost event).
 */
static uint64_t flush_all_final(void)
{
	struct tbuf *b;
	uint64_t n;

	if (asym)
		stop_owners();
	else
		for (b = all_bufs; b; b = b->next)
			buf_lock(b);
	for (b = all_bufs; b; b = b->next) {
		flush_locked(b);
		if (b->ticket)
			sample_copy(b->ticket_seq, b->ticket_sample);
		b->ticket = 0;
	}
	n = atomic_load(&seq.n);
	if (asym)
		resume_owners();
	else
		for (b = all_bufs; b; b = b->next)
			buf_unlock(b);
	return n;
}

/* ---- the timer thread: RSS samples and stale buffers ---- */

static void write_sample(void)
{
	char buf[128];
	ssize_t n;
	uint64_t rss = 0, s, ms, pages;
	uint8_t *p;
	char *q;

	if (statm_fd >= 0 && !is_statm(statm_fd))
		open_statm(); /* the number is the program's now: not ours to close */
	n = statm_fd >= 0 ? pread(statm_fd, buf, sizeof(buf) - 1, 0) : -1;
	if (n <= 0)
		return;
	buf[n] = 0;
	q = strchr(buf, ' ');
	if (q)
		rss = strtoull(q + 1, NULL, 10) * (uint64_t)page_size;
	pthread_mutex_lock(&state_lock);
	p = direct_room(1 + 3 * 10);
	*p++ = LHT_REC_SAMPLE;
	if (atomic_load_explicit(&seq_shared, memory_order_relaxed)) {
		s = atomic_fetch_add_explicit(&seq.n, 1, memory_order_relaxed);
	} else {
		/* the one owner counts without locked adds: take it while it waits */
		stop_owners();
		s = atomic_fetch_add_explicit(&seq.n, 1, memory_order_relaxed);
		resume_owners();
	}
	ms = now_ms();
	p = lht_put_varint(p, s);
	p = lht_put_varint(p, ms);
	p = lht_put_varint(p, rss);
	direct_len = (uint32_t)(p - direct - LHT_CHUNK_HEADER);
	direct_flush();
	pages = rss / (uint64_t)page_size;
	atomic_store_explicit(&last_sample,
			      ms << SAMPLE_PAGE_BITS | (pages < 1ull << SAMPLE_PAGE_BITS ? pages : 0),
			      memory_order_relaxed);
	pthread_mutex_unlock(&state_lock);
}

/* Self-timed (see self_timed): the timer's work, at one of this thread's
 * events, outside its buffer (write_sample takes state_lock, whose holder
 * may be waiting for owners to leave their buffers). */
static __attribute__((noinline)) void self_tick(struct tbuf *b)
{
	uint64_t ms = now_ms(), due = atomic_load_explicit(&next_rss_ms, memory_order_relaxed);

	if (ms >= due && atomic_compare_exchange_strong(&next_rss_ms, &due, ms + 10))
		write_sample();
	/* every 100 ms, as the timer does: an idle thread's last events (main
	 * in pthread_join) would otherwise wait until its next event, and the
	 * report gives them up as lost once 4 Mi later events were read */
	due = atomic_load_explicit(&next_flush_ms, memory_order_relaxed);
	if (ms >= due && atomic_compare_exchange_strong(&next_flush_ms, &due, ms + 100)) {
		pthread_mutex_lock(&state_lock);
		flush_all();
		pthread_mutex_unlock(&state_lock);
	}
	if (ms >= b->flush_ms) {
		b->flush_ms = ms + 10; /* a write a tick at most: nothing, next to the program */
		own_enter(b);
		flush_locked(b);
		own_leave(b);
	}
}

/*
 * Attached (`record -p`): the recorder, which detaches us at the end, may die
 * first (killed, its terminal closed, a detach that failed), and recording
 * would then go on for as long as the process lives.  So the timer looks
 * every 100 ms whether the recorder is still there: the same process, by its
 * start time in /proc/PID/stat (a pid can be used again), and detaches by
 * itself when it is not.
 */
static uint64_t recorder_start;

/* Field want of /proc/PID/stat (pid 0: our own), a number, or for field 3,
 * the state, its letter; 0 when it cannot be read. */
static uint64_t stat_field(pid_t pid, int want)
{
	char path[64] = "/proc/self/stat", buf[1024], *q;
	uint64_t v = 0;
	ssize_t n;
	int fd, field = 2;

	if (pid)
		memcpy(put_dec(path + 6, (uint64_t)pid), "/stat", 6);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	q = strrchr(buf, ')'); /* the name, field 2, may hold anything */
	if (!q)
		return 0;
	for (; *q && field < want; q++)
		field += *q == ' ';
	if (want == 3)
		return (unsigned char)*q;
	while (*q >= '0' && *q <= '9')
		v = v * 10 + (uint64_t)(*q++ - '0');
	return field == want ? v : 0;
}

static uint64_t start_time_of(pid_t pid)
{
	return stat_field(pid, 22);
}

/*
 * The program's threads have all ended and ours runs on: main called
 * pthread_exit, then its last other thread ended.  glibc ends the process
 * with exit(0) in the last thread when no other is left, and ours is one
 * more: the process waited for ever, its main thread a zombie (state Z,
 * and 2 threads: that zombie and us).  Then we call exit(0) as the last
 * thread would have.
 */
static int program_threads_gone(void)
{
	return stat_field(0, 3) == 'Z' && stat_field(0, 20) == 2;
}

static void *exit_main(void *arg)
{
	sigset_t none;

	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL); /* ours blocks all: the program's threads did not */
	exit(0);
}

/*
 * The exit(0) the program's last thread would have made, on a thread like
 * it: atexit handlers and destructors are the program's and ran on a stack
 * of glibc's default size (RLIMIT_STACK, 8 MB), where ours has 256 KB (a
 * handler with a 1 MB frame crashed the process).  Ours returns; only when
 * no thread can be made does it exit itself.
 */
static void program_exit(void)
{
	pthread_attr_t attr;
	pthread_t th;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&th, &attr, exit_main, NULL);
	pthread_attr_destroy(&attr);
	if (rc) {
		lh_preload_busy = 0; /* atexit handlers and destructors are the program's */
		exit(0);
	}
}

static int recorder_gone(void)
{
	return lh_preload_conf.recorder && recorder_start && start_time_of(lh_preload_conf.recorder) != recorder_start;
}

static void *timer_main(void *arg)
{
	unsigned gen = (unsigned)(uintptr_t)arg;
	struct timespec next;
	unsigned tick = 0;

	lh_preload_busy = 1; /* forever: nothing this thread does is the program's */
	clock_gettime(CLOCK_REALTIME, &next);
	while (lh_preload_active && gen == atomic_load(&timer_gen)) {
		struct timespec now;

		next.tv_nsec += 10 * 1000 * 1000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000;
		}
		/* woken for every half handed off, and every 10 ms for a sample
		 * (sem_timedwait does not time out while wakes are pending, so a
		 * steady stream of them could put the tick off: a guard, not
		 * seen happen; churn on 4 threads gets ~100 samples a second
		 * with it and without) */
		while (sem_timedwait(&wake, &next) == 0 || errno == EINTR) {
			drain_all();
			if (!lh_preload_active)
				return NULL;
			clock_gettime(CLOCK_REALTIME, &now);
			if (now.tv_sec > next.tv_sec || (now.tv_sec == next.tv_sec && now.tv_nsec >= next.tv_nsec))
				break;
		}
		drain_all();
		if (!lh_preload_active)
			break;
		clock_gettime(CLOCK_REALTIME, &now);
		if (now.tv_sec > next.tv_sec + 1)
			next = now; /* the clock jumped: do not catch up tick by tick */
		write_sample();
		if (++tick % 10 == 0) {
			if (recorder_gone()) {
				say("libleakhunt: leakhunt record is gone; recording stopped\n");
				lh_preload_detach(); /* ends the trace: the loop ends */
				break;
			}
			if (program_threads_gone()) {
				program_exit();
				break;
			}
			pthread_mutex_lock(&state_lock);
			flush_all();
			pthread_mutex_unlock(&state_lock);
		}
	}
	return NULL;
}

static void start_timer(void)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t th;

	if (self_timed) {
		atomic_store(&next_rss_ms, 0);
		atomic_store(&next_flush_ms, 0);
		return;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (!writer_running)
		sem_init(&wake, 0, 0);
	writer_running = !pthread_create(&th, &attr, timer_main,
					 (void *)(uintptr_t)(atomic_fetch_add(&timer_gen, 1) + 1));
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- start, fork, finish ---- */

static int parse_conf(const char *s)
{
	while (s && *s) {
		if (!strncmp(s, "out=", 4)) {
			size_t n = strnlen(s + 4, sizeof(lh_preload_conf.out) - 1);

			memcpy(lh_preload_conf.out, s + 4, n);
			lh_preload_conf.out[n] = 0;
			return 0; /* the path is last: it may contain commas */
		}
		if (!strncmp(s, "depth=", 6))
			lh_preload_conf.depth = atoi(s + 6);
		else if (!strncmp(s, "unwind=", 7))
			lh_preload_conf.unwind = atoi(s + 7);
		else if (!strncmp(s, "follow_fork=", 12))
			lh_preload_conf.follow_fork = atoi(s + 12);
		else if (!strncmp(s, "keep_preload=", 13))
			lh_preload_conf.keep_preload = atoi(s + 13);
		else if (!strncmp(s, "check_unwind=", 13))
			lh_preload_conf.check_unwind = atoi(s + 13);
		else if (!strncmp(s, "sample=", 7))
			lh_preload_conf.sample = strtoull(s + 7, NULL, 10);
		else if (!strncmp(s, "compact=", 8))
			lh_preload_conf.compact = atoi(s + 8);
		else if (!strncmp(s, "pid=", 4))
			lh_preload_conf.pid = atoi(s + 4);
		else if (!strncmp(s, "recorder=", 9))
			lh_preload_conf.recorder = atoi(s + 9);
		else if (!strncmp(s, "writer_delay=", 13))
			lh_preload_conf.writer_delay = atoi(s + 13);
		else if (!strncmp(s, "trie_bits=", 10))
			lh_preload_conf.trie_bits = atoi(s + 10);
		s = strchr(s, ',');
		if (s)
			s++;
	}
	return -1;
}

static void write_header(void)
{
	uint8_t h[LHT_HEADER_SIZE] = { 0 };
	struct timespec rt;

	clock_gettime(CLOCK_REALTIME, &rt);
	memcpy(h, LHT_MAGIC, 8);
	lht_put32(h + 8, lh_preload_conf.compact ? LHT_VERSION_COMPACT : LHT_VERSION);
	lht_put32(h + 12, LHT_HEADER_SIZE);
	lht_put64(h + 16, (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec);
	lht_put32(h + 24, (uint32_t)getpid());
	lht_put32(h + LHT_HEADER_FLAGS, (lh_preload_conf.follow_fork ? LHT_FLAG_FOLLOW_FORK : 0) |
						(lh_preload_conf.recorder ? LHT_FLAG_ATTACHED : 0));
	lh_record_write(h, sizeof(h));
}

/* Append arg [a, a+n) to [*p, end) as a shell word: as it is when it has
 * only characters no shell treats specially, else in single quotes (a
 * quote inside as '\'').  0 when it does not fit (nothing appended). */
static int put_word(char **p, char *end, const char *a, size_t n)
{
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=@%+,-";
	size_t need = n, quote = !n;
	char *q = *p;

	for (size_t i = 0; i < n; i++) {
		if (!memchr(plain, a[i], sizeof(plain) - 1))
			quote = 1;
		if (a[i] == '\'')
			need += 3;
	}
	if (quote)
		need += 2;
	if (need > (size_t)(end - q))
		return 0;
	if (quote)
		*q++ = '\'';
	for (size_t i = 0; i < n; i++) {
		if (a[i] == '\'') {
			memcpy(q, "'\\''", 4);
			q += 4;
		} else {
			*q++ = a[i];
		}
	}
	if (quote)
		*q++ = '\'';
	*p = q;
	return 1;
}

/* The command line, each argument a shell word (so that 'a b' and a b
 * differ), " ..." where it was too long. */
static void write_info(void)
{
	char raw[4096], cmdline[4096], *c = cmdline, *end = cmdline + sizeof(cmdline) - 5;
	ssize_t n = 0;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC), cut = 0;
	uint8_t *p;

	if (fd >= 0) {
		n = read(fd, raw, sizeof(raw));
		close(fd);
	}
	if (n < 0)
		n = 0;
	if (n == (ssize_t)sizeof(raw)) {
		cut = 1; /* the last argument read may be partial: left out */
		while (n && raw[n - 1])
			n--;
	}
	for (ssize_t i = 0; i < n;) {
		const char *a = raw + i, *z = memchr(a, 0, (size_t)(n - i));
		size_t len = z ? (size_t)(z - a) : (size_t)(n - i);

		if (c > cmdline && c < end)
			*c++ = ' ';
		if (!put_word(&c, end, a, len)) {
			cut = 1;
			break;
		}
		i += (ssize_t)len + 1;
	}
	if (cut) {
		if (c > cmdline && c[-1] == ' ')
			c--;
		memcpy(c, c > cmdline ? " ..." : "...", 4);
		c += c > cmdline ? 4 : 3;
	}
	*c = 0;
	pthread_mutex_lock(&state_lock);
	p = direct_room(1 + 4096 * 2 + 40);
	*p++ = LHT_REC_INFO;
	direct_str(&p, exe_path, 4095);
	direct_str(&p, cmdline, 4095);
	p = lht_put_varint(p, (uint64_t)page_size);
	p = lht_put_varint(p, (uint64_t)lh_preload_conf.unwind);
	p = lht_put_varint(p, (uint64_t)lh_preload_conf.depth);
	p = lht_put_varint(p, lh_preload_conf.sample);
	direct_len = (uint32_t)(p - direct - LHT_CHUNK_HEADER);
	direct_flush();
	pthread_mutex_unlock(&state_lock);
}

static int open_trace(const char *path, int create)
{
	int flags = O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0);
	size_t len;

	struct stat sb;

	trace_fd = open(path, flags, 0600);
	if (trace_fd < 0)
		return -1;
	trace_fd = move_high(trace_fd);
	if (fstat(trace_fd, &sb)) {
		close(trace_fd);
		trace_fd = -1;
		return -1;
	}
	trace_dev = sb.st_dev;
	trace_ino = sb.st_ino;
	trace_pid = getpid();
	__atomic_add_fetch(&lh_record_trace_id, 1, __ATOMIC_RELEASE); /* no codec state carries over */
	len = strlen(path);
	if (len < sizeof(trace_path))
		memcpy(trace_path, path, len + 1);
	else
		trace_path[0] = 0; /* never mark an earlier trace (the parent's, a former session's) */
	/* `leakhunt record` creates the file empty for us: records already
	 * there are another program's (this process exec'd with the
	 * recording's environment, kept from before we edited it) */
	if (lseek(trace_fd, 0, SEEK_END) != 0) {
		close(trace_fd);
		trace_fd = -1;
		return -2;
	}
	write_header();
	return 0;
}

/*
 * ... but a limit on the address space (RLIMIT_AS, `ulimit -v`) counts it:
 * under a limit the arena takes an eighth of it at most, and less when the
 * mapping fails, so that the program keeps its own room (a program under
 * 600 MB was not recorded at all, and one that set 200 MB itself got no
 * memory).  A smaller arena only caches fewer stacks.
 */
static int alloc_tables(void)
{
	struct rlimit rl;

	trie_bits = TRIE_BITS_MIN;
	trie = lh_map_anon(sizeof(*trie) << TRIE_BITS_MIN);
	atomic_store(&cache, cache_new(CACHE_BITS_MIN));
	arena_size = ARENA_MAX;
	if (!getrlimit(RLIMIT_AS, &rl) && rl.rlim_cur != RLIM_INFINITY)
		while (arena_size > ARENA_MIN && arena_size > rl.rlim_cur / 8)
			arena_size /= 2;
	arena_ready = 0;
	while ((arena = mmap(NULL, arena_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)) ==
		       MAP_FAILED &&
	       arena_size > ARENA_MIN)
		arena_size /= 2;
	if (arena == MAP_FAILED)
		arena = NULL;
	return trie && atomic_load(&cache) && arena ? 0 : -1;
}

static void free_tables(void)
{
	struct cache_table *t = atomic_load(&cache);

	munmap(trie, sizeof(*trie) << trie_bits);
	if (t)
		munmap(t, cache_bytes(t->mask));
	while (nold_caches > 0) {
		t = old_caches[--nold_caches];
		munmap(t, cache_bytes(t->mask));
	}
	munmap(arena, arena_size);
	atomic_store(&cache, NULL);
	trie = NULL;
	trie_count = cache_count = arena_used = 0;
	next_id = 1;
	lh_unwind_memo_forget(); /* the memos' ids were the old tables' */
}

/*
 * The program's environment is read and edited here in place, in the array
 * environ points to, never with getenv, setenv or unsetenv: a program may
 * define those itself.  bash exports its own, which do nothing before its
 * variable table exists; it then builds the table from main's envp, the
 * array environ still points to, and passed our variables on to every
 * program it ran (each recorded itself into our trace).
 */
static char **env_find(const char *name)
{
	size_t n = strlen(name);

	for (char **e = environ; e && *e; e++)
		if (!strncmp(*e, name, n) && (*e)[n] == '=')
			return e;
	return NULL;
}

static const char *env_get(const char *name)
{
	char **e = env_find(name);

	return e ? *e + strlen(name) + 1 : NULL;
}

/* Take every NAME=... out of the array, the later entries moving up. */
static void env_drop(const char *name)
{
	char **e;

	while ((e = env_find(name)))
		for (; *e; e++)
			e[0] = e[1];
}

/* Remove our library from LD_PRELOAD so exec'd children run untraced. */
static void drop_preload(void)
{
	static char kept[sizeof("LD_PRELOAD=") + 4096];
	const char *v = env_get("LD_PRELOAD");
	size_t n = strlen("LD_PRELOAD=");
	char **e;

	if (!v)
		return;
	memcpy(kept, "LD_PRELOAD=", n);
	while (*v) {
		size_t len = strcspn(v, ": ");

		if (len && !memmem(v, len, "libleakhunt", 11) && n + len + 2 < sizeof(kept)) {
			if (n > strlen("LD_PRELOAD="))
				kept[n++] = ':';
			memcpy(kept + n, v, len);
			n += len;
		}
		v += len;
		if (*v)
			v++;
	}
	kept[n] = 0;
	if (n == strlen("LD_PRELOAD=")) {
		env_drop("LD_PRELOAD");
		return;
	}
	e = env_find("LD_PRELOAD");
	*e = kept;
	while (*++e) /* a second LD_PRELOAD= further on: the loader read the first */
		if (!strncmp(*e, "LD_PRELOAD=", strlen("LD_PRELOAD="))) {
			for (char **f = e; *f; f++)
				f[0] = f[1];
			e--;
		}
}

/*
 * --follow-fork: after fork, the parent waits (a second at most) until the
 * child has named its trace in the parent's (its child record).  A parent
 * that exits at once, as a daemon's double fork does, could otherwise have
 * its trace read to the end by leakhunt record before the child, not yet
 * scheduled, named its own there: that child was never waited for nor
 * symbolized (fork-daemon, under load).  The child counts itself in a page
 * of its parent's, shared across fork; it maps its own for its children.
 */
static _Atomic uint32_t *announced; /* children that have named their trace */
static uint32_t forks, fork_ticket;  /* children forked; this fork's number */

static void map_announced(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	announced = p == MAP_FAILED ? NULL : p;
	forks = 0;
}

/* In the child: tell the parent its child record is written (or never will be). */
static void announce(void)
{
	if (announced)
		atomic_fetch_add(announced, 1);
}

static void atfork_prepare(void)
{
	lh_preload_busy++;
	if (!lh_preload_active)
		return;
	pthread_mutex_lock(&state_lock);
	fork_ticket = ++forks;
	if (my_buf) {
		own_enter(my_buf);
		flush_locked(my_buf);
		own_leave(my_buf);
	}
}

static void atfork_parent(void)
{
	if (lh_preload_active) {
		uint32_t ticket = fork_ticket;
		uint64_t until = now_ms() + 1000;

		pthread_mutex_unlock(&state_lock);
		/* (a fork that failed is waited for too: its second is lost) */
		while (lh_preload_conf.follow_fork && announced &&
		       atomic_load(announced) < ticket && now_ms() < until)
			sched_yield();
	}
	lh_preload_busy--;
}

static void atfork_child(void)
{
	struct tbuf *b;
	char path[4200];
	size_t n;
	uint8_t *p;
	int fd;

	if (!lh_preload_active) {
		lh_preload_busy--;
		return;
	}
	pthread_mutex_init(&state_lock, NULL);
	/* the other threads' buffers hold the parent's events: never write them */
	register_membarrier(); /* the registration belongs to the parent's mm */
	writer_running = 0; /* the parent's writer thread did not come along */
	for (b = all_bufs; b; b = b->next) {
		atomic_store(&b->lock, 0);
		atomic_store(&b->in_use, 0);
		atomic_store(&b->steal, 0);
		atomic_store(&b->pending, 0); /* the parent's events */
		atomic_flag_clear(&b->wlock);
		half_start(b);
		b->flush_ms = 0; /* the child's clock starts again */
		b->ticket = 0;   /* a number of the parent's */
		b->owned = b == my_buf;
		if (b == my_buf)
			b->tid = (int)syscall(SYS_gettid);
	}
	if (!lh_preload_conf.follow_fork) {
		lh_preload_active = 0;
		announced = NULL; /* the parent does not wait */
		close_trace();
		lh_attach_fork_child();
		lh_preload_busy--;
		return;
	}
	/* OUT.lht -> OUT.<pid>.lht, created before it is announced in the
	 * parent's trace: a pid used again (a pid namespace, a long run) or a
	 * file left from an earlier run gets OUT.<pid>-2.lht and so on, never
	 * a name that is another process's trace */
	n = strlen(lh_preload_conf.out);
	if (n > 4 && !strcmp(lh_preload_conf.out + n - 4, ".lht"))
		n -= 4;
	fd = -1;
	if (n + 40 < sizeof(lh_preload_conf.out)) {
		memcpy(path, lh_preload_conf.out, n);
		path[n++] = '.';
		n = (size_t)(put_dec(path + n, (uint64_t)getpid()) - path);
		for (int k = 1; k <= 20 && fd < 0; k++) {
			char *q = path + n;

			if (k > 1) {
				*q++ = '-';
				q = put_dec(q, (uint64_t)k);
			}
			memcpy(q, ".lht", 5);
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			if (fd < 0 && errno != EEXIST)
				break;
		}
	}
	if (fd < 0) {
		/* one write: children failing at once do not interleave their lines */
		char msg[4400], *m = stpcpy(msg, "libleakhunt: cannot create a forked child's trace ");
		int fits = n + 40 < sizeof(lh_preload_conf.out);

		if (fits && errno != EEXIST) {
			/* named all the same (it does not exist): record says so too */
			p = direct + LHT_CHUNK_HEADER;
			*p++ = LHT_REC_CHILD;
			p = lht_put_varint(p, (uint64_t)getpid());
			direct_str(&p, path, 4095);
			direct_len = (uint32_t)(p - direct - LHT_CHUNK_HEADER);
			direct_flush();
		}
		m = stpcpy(m, fits ? path : "next to the parent's (its name is too long)");
		stpcpy(m, "; the child is not recorded\n");
		say(msg);
		announce();
		announced = NULL;
		close_trace();
		lh_preload_active = 0;
		lh_preload_busy--;
		return;
	}
	/* fd stays open until the trace is: from the moment the parent's trace
	 * names this file, a process holds it open until the child is done with
	 * it, which is how leakhunt record knows to wait for it */
	p = direct + LHT_CHUNK_HEADER;
	*p++ = LHT_REC_CHILD;
	p = lht_put_varint(p, (uint64_t)getpid());
	direct_str(&p, path, 4095);
	direct_len = (uint32_t)(p - direct - LHT_CHUNK_HEADER);
	direct_flush();
	announce();
	map_announced(); /* for our own children (the parent's page stays mapped: unused) */
	close_trace();
	free_tables();
	lh_sample_reset(1); /* the parent's sampled blocks are not in our trace */
	lh_sample_fork_child();
	atomic_store(&seq.n, 0);
	memcpy(lh_preload_conf.out, path, strlen(path) + 1);
	/* /proc/self/statm was opened by the parent: it would read the parent's RSS */
	if (is_statm(statm_fd))
		close(statm_fd);
	open_statm();
	if (alloc_tables() || (lh_preload_conf.sample && lh_sample_init()) || open_trace(path, 0)) {
		char msg[4400];

		close(fd);
		stpcpy(stpcpy(stpcpy(msg, "libleakhunt: cannot start a forked child's trace ("), path),
		       "); the child is not recorded\n");
		say(msg);
		lh_preload_active = 0;
		lh_preload_busy--;
		return;
	}
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &start_time);
	atomic_store(&last_sample, 0); /* its ms count from the start */
	write_info();
	write_modules(1);
	start_timer();
	lh_preload_busy--;
}

/*
 * A program that defines malloc itself (an allocator linked into it:
 * jemalloc, mimalloc or tcmalloc built statically) comes before us in the
 * symbol lookup order: its calls never reach our hooks, and the trace would
 * say, silently, that it allocated nothing.  Said at the start instead,
 * naming the file that has them.
 */
static void check_interposed(void)
{
	static const char *const names[] = { "malloc", "free", "calloc", "realloc" };
	char msg[1024] = "libleakhunt: ", *p = msg + strlen(msg), *end = msg + sizeof(msg) - 200;
	const char *where = NULL;
	int n = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		void *f = dlsym(RTLD_DEFAULT, names[i]);
		const ElfW(Sym) *sym = NULL;
		Dl_info info;

		/* a non-PIE executable that takes malloc's address (node) has a
		 * PLT stub for it, an undefined symbol with a value, which dlsym
		 * returns: only a definition counts */
		if (!f || lh_unwind_is_own((uintptr_t)f) || !dladdr1(f, &info, (void **)&sym, RTLD_DL_SYMENT) ||
		    !sym || sym->st_shndx == SHN_UNDEF)
			continue;
		if (!where && info.dli_fname)
			where = info.dli_fname;
		if (p + strlen(names[i]) + 4 < end) {
			p = stpcpy(p, n ? ", '" : "'");
			p = stpcpy(p, names[i]);
			*p++ = '\'';
		}
		n++;
	}
	if (!n)
		return;
	p = stpcpy(p, " of ");
	if (where && *where) {
		size_t len = strlen(where);

		if (len > 400)
			len = 400;
		*p++ = '\'';
		memcpy(p, where, len);
		p += len;
		*p++ = '\'';
	} else {
		p = stpcpy(p, "the program");
	}
	p = stpcpy(p, n > 1 ? " come before leakhunt's: allocations through them" : " comes before leakhunt's: allocations through it");
	p = stpcpy(p, " are not recorded (an allocator built into the program, such as jemalloc, mimalloc "
		      "or tcmalloc linked statically)\n");
	say(msg);
}

/* What starting and attaching share: the configuration is parsed, the
 * trace file exists.  0, or -1 when recording cannot start. */
static int begin(int attach)
{
	static int once;
	ssize_t n;

	if (lh_preload_conf.depth < 1)
		lh_preload_conf.depth = 1;
	if (lh_preload_conf.depth > LH_MAX_DEPTH)
		lh_preload_conf.depth = LH_MAX_DEPTH;
	page_size = sysconf(_SC_PAGESIZE);
	n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
	exe_path[n > 0 ? n : 0] = 0;
	clock_gettime(CLOCK_MONOTONIC, &start_time);
	atomic_store(&last_sample, 0); /* its ms count from the start */
	if (alloc_tables() || (lh_preload_conf.sample && lh_sample_init())) {
		say("libleakhunt: cannot map memory for the stack tables; not recording\n");
		return -1;
	}
	switch (open_trace(lh_preload_conf.out, 0)) {
	case 0:
		break;
	case -2:
		say("libleakhunt: the trace file already holds another program's recording; not recording this one\n");
		return -1;
	default:
		say("libleakhunt: cannot open the trace file; not recording\n");
		return -1;
	}
	if (!once) {
		once = 1;
		lh_unwind_init();
		if (!attach)
			check_interposed();
		register_membarrier();
		pthread_key_create(&buf_key, release_buf);
		pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
		if (lh_preload_conf.follow_fork && !attach)
			map_announced();
		open_statm();
	}
	if (lh_preload_conf.sample)
		atomic_store(&seq_shared, 1); /* attached again, now with --sample (never back to 0: threads may own buffers) */
	self_timed = lh_preload_conf.sample && !attach;
	write_info();
	lh_preload_active = 1;
	write_modules(1);
	start_timer();
	return 0;
}

void lh_record_start(void)
{
	const char *conf;
	int err = errno; /* at the program's first allocation: its errno (hooks.c KEEP_ERRNO) */

	lh_preload_busy = 1;
	conf = env_get("LEAKHUNT_RECORD");
	if (!conf)
		goto out;
	/* a variable that reached another process (one that kept its
	 * environment from before we edited it) is dropped unused: only the
	 * process `leakhunt record` started writes the trace */
	if (parse_conf(conf) || !lh_preload_conf.out[0] ||
	    (lh_preload_conf.pid && lh_preload_conf.pid != getpid())) {
		memset(&lh_preload_conf, 0, sizeof(lh_preload_conf));
		env_drop("LEAKHUNT_RECORD");
		drop_preload();
		goto out;
	}
	env_drop("LEAKHUNT_RECORD");
	if (!lh_preload_conf.keep_preload)
		drop_preload();
	begin(0);
out:
	lh_preload_busy = 0;
	errno = err;
}

/*
 * ld.so runs the constructors of the libraries the program links before
 * ours when they do not depend on each other (libstdc++'s emergency pool,
 * the static objects of C++ libraries, a library's own init): their
 * allocations come to our hooks before the constructor started recording,
 * and heaptrack, which starts at the first call, counted them where we did
 * not.  So the first hook call starts recording, once libc itself is
 * initialized: it has set program_invocation_name by then (ld.so's own
 * calls before that see "", and are left alone).
 */
static atomic_int start_tried;

void lh_record_start_once(void)
{
	if (!atomic_exchange(&start_tried, 1))
		lh_record_start();
}

int lh_record_start_early(void)
{
	const char *name = program_invocation_name;

	if (atomic_load_explicit(&start_tried, memory_order_relaxed) || !name || !*name ||
	    atomic_exchange(&start_tried, 1))
		return 0;
	lh_record_start();
	/* --sample decides at the allocation whether to count it: this one
	 * came in before, so it is left out */
	return lh_preload_active && !lh_preload_conf.sample;
}

int lh_record_attach(const char *conf)
{
	struct tbuf *b;

	if (lh_preload_active)
		return -1;
	memset(&lh_preload_conf, 0, sizeof(lh_preload_conf));
	lh_preload_conf.depth = 256;
	if (parse_conf(conf) || !lh_preload_conf.out[0])
		return -1;
	recorder_start = lh_preload_conf.recorder ? start_time_of(lh_preload_conf.recorder) : 0;
	/* attached before: start from empty tables and numbers (a thread still
	 * finishing a hook of the last session only ever forwards) */
	if (trie)
		free_tables();
	lh_sample_reset(0);
	atomic_store(&seq.n, 0);
	finished = 0;
	pthread_mutex_lock(&state_lock);
	for (b = all_bufs; b; b = b->next)
		half_start(b);
	pthread_mutex_unlock(&state_lock);
	return begin(1);
}

/* The program is about to exec, which ends its image without destructors:
 * what the buffers hold reaches the file now (a wrapper that execs, such as
 * pyenv's shims, kept none of its events).  If the exec fails, recording
 * goes on as before. */
void lh_record_before_exec(void)
{
	if (!lh_preload_active || finished || getpid() != trace_pid)
		return;
	lh_preload_busy++;
	pthread_mutex_lock(&state_lock);
	flush_all();
	for (struct tbuf *b = all_bufs; b; b = b->next)
		drain(b);
	pthread_mutex_unlock(&state_lock);
	lh_preload_busy--;
}

/*
 * The program is about to abort: node's process.abort() and its fatal out
 * of memory, a failed CHECK, std::terminate.  SIGABRT ends the process
 * without destructors, and the events since the timer's last flush (up to
 * 100 ms of them: those that led to the crash) never reached the file, where
 * heaptrack kept them.  So they are written now, as before an exec.  Not from
 * inside a hook (a signal handler that interrupted one calls abort): this
 * thread may hold the locks the flush takes, and a crash must not turn into
 * a hang.
 */
void lh_record_before_abort(void)
{
	if (lh_preload_busy)
		return;
	lh_record_before_exec();
}

/*
 * At exit, from our destructor: libstdc++'s emergency exception pool
 * (72,704 bytes with GCC 12), which its constructor allocates and nothing
 * frees, would be every C++ program's leak.  libstdc++ frees it in
 * __gnu_cxx::__freeres, which exists for tools like valgrind and heaptrack
 * to call at exit; so do we, while still recording, so that the free is in
 * the trace.
 */
void lh_record_exit(void)
{
	void (*freeres)(void) = NULL;

	if (lh_preload_active && !finished && getpid() == trace_pid) {
		lh_preload_busy++; /* dlsym's own allocations are not the program's */
		freeres = (void (*)(void))dlsym(RTLD_DEFAULT, "_ZN9__gnu_cxx9__freeresEv");
		lh_preload_busy--;
	}
	if (freeres)
		freeres();
	lh_record_finish();
}

/* After lh_record_finish, attached: the trace's descriptor is closed (under
 * state_lock, which a late sample of the timer thread takes; any write
 * after this finds no descriptor and is dropped). */
void lh_record_close(void)
{
	pthread_mutex_lock(&state_lock);
	close_trace();
	pthread_mutex_unlock(&state_lock);
}

void lh_record_finish(void)
{
	uint8_t *p;
	uint64_t s;

	if (!lh_preload_active || finished || getpid() != trace_pid)
		return;
	lh_preload_busy++;
	pthread_mutex_lock(&state_lock);
	finished = 1;
	lh_preload_active = 0;
	s = flush_all_final();
	for (struct tbuf *b = all_bufs; b; b = b->next)
		drain(b); /* halves the writer thread has not written yet */
	if (writer_running)
		sem_post(&wake);
	p = direct_room(1 + 2 * 10);
	*p++ = LHT_REC_END;
	p = lht_put_varint(p, s);
	p = lht_put_varint(p, now_ms());
	direct_len = (uint32_t)(p - direct - LHT_CHUNK_HEADER);
	direct_flush();
	pthread_mutex_unlock(&state_lock);
	if (lh_preload_conf.check_unwind) {
		char msg[200], *q = msg;
		uint64_t compared, differed, by_libunwind, by_memo;

		lh_unwind_check_counts(&compared, &differed, &by_libunwind, &by_memo);
		memcpy(q, "libleakhunt: unwind check: ", 27);
		q = put_dec(q + 27, compared);
		memcpy(q, " stacks, ", 9);
		q = put_dec(q + 9, differed);
		memcpy(q, " differ from libunwind's, ", 26);
		q = put_dec(q + 26, by_libunwind);
		memcpy(q, " unwound by libunwind, ", 23);
		q = put_dec(q + 23, by_memo);
		memcpy(q, " recognised by the memo\n", 25);
		q[25] = 0;
		say(msg);
	}
	lh_preload_busy--;
}
