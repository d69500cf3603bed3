/*
 * Internal interface of libleakhunt.so, the preload library that records every
 * heap allocation of a program into a .lht trace (src/native/lht.h).
 *
 * hooks.c owns the interposed libc names, the bootstrap and the reentrancy
 * guard; record.c owns the trace file, the per-thread buffers, the stack trie
 * and the timer thread; compress.c turns a buffer's events into a chunk;
 * unwind.c owns lh_unwind().  Nothing here may call
 * malloc on its own behalf: memory comes from mmap, so the program's numbers
 * are only the program's.
 */
#ifndef LH_PRELOAD_H
#define LH_PRELOAD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "native/lht.h"

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
	int check_unwind; /* auto: compare every stack with libunwind's, count differences */
	uint64_t sample;  /* record one allocation per this many bytes on average; 0: all */
	int compact;      /* write version 3 (LHT_VERSION_COMPACT): a smaller trace for
			   * more CPU in the thread that compresses */
	int pid;          /* the process started to be recorded; 0: any (older
			   * callers) */
	int recorder;     /* attached: the pid of `leakhunt record -p`, which
			   * must outlive the recording (record.c, timer_main) */
	int writer_delay; /* tests only: microseconds of delay in the hand-over
			   * of full halves (record.c, drain), 0 in real use */
	int trie_bits;    /* tests only: the stack trie's largest size, 2^N
			   * slots (record.c, trie_grow); 0: the default */
};

extern struct lh_preload_conf lh_preload_conf;

/* Nonzero while this thread is inside a hook or inside our own machinery:
 * allocations made then go straight to libc, unrecorded. */
extern __thread int lh_preload_busy LH_TLS;
/* The frame of the hook that set lh_preload_busy (hooks.c's ENTER), while it
 * runs, else NULL: where unwind.c's walk finds the program's innermost frame
 * without following the rbp chain through the recorder's own frames. */
extern __thread uintptr_t *lh_hook_frame LH_TLS;
/* Nonzero while events are being recorded (after init, before the end). */
extern volatile int lh_preload_active;
/* Nonzero while this thread is inside pthread_getattr_np (hooks.c): glibc
 * holds the thread's lock there while it allocates, so unwind.c must not ask
 * it again.  lh_getattr_hooked() says whether the program's calls come
 * through our hook at all (not when we were loaded into a running process). */
extern __thread int lh_preload_in_getattr LH_TLS;
int lh_getattr_hooked(void);

/* record.c: memory of our own (never malloc), and one write of [p, p+n) to
 * the trace (a failure stops recording). */
void *lh_map_anon(size_t size);
void lh_record_write(const uint8_t *p, size_t n);

/*
 * Events are appended straight into columns (lht.h: types, seq deltas,
 * sizes, stacks, pointers in column form, old pointers), the layout of a
 * compressed chunk, so that the writer only copies them behind a small
 * header and compresses: regrouping rows into columns at every flush cost
 * the writer more than zstd did.  A half is handed off when one of its
 * columns is full; the pointer column (about 3 bytes an event) fills first,
 * after some 10,000 events.
 */
#define LH_COL_SIZE (32 * 1024) /* one column of a half */
#define LH_COL_ROOM 11          /* the most one event adds to a column */

struct half {
	uint32_t nrec;             /* events; set when the half is closed */
	uint32_t len[LHT_COLUMNS]; /* bytes of each column; likewise */
	uint8_t col[LHT_COLUMNS][LH_COL_SIZE];
};

#define LH_ROWS_SIZE (LHT_CHUNK_HEADER + LHT_COLUMNS * LH_COL_SIZE)

/* compress.c: write the closed half h of thread tid's buffer as one chunk,
 * compressed with the buffer's state *z (mapped at the first call), or, when
 * that is impossible, as rows made in the buffer's rows[LH_ROWS_SIZE].  One
 * caller at a time per buffer. */
struct lh_zstate;
/* record.c: changes whenever a trace file is opened (an attach session, a
 * forked child's trace), so that a buffer's codec state, kept across them,
 * starts again from empty in the new file. */
extern unsigned lh_record_trace_id;
void lh_write_half(struct lh_zstate **z, int tid, const struct half *h, uint8_t *rows);

/* record.c */
void lh_record_start(void);
/* lh_record_start(), unless it was tried before (the constructor's way). */
void lh_record_start_once(void);
/* A hook called while not recording: start, if it was not tried yet and
 * libc is initialized; 1 when this very call is to be recorded. */
int lh_record_start_early(void);
/* Record one event now (after sampling has chosen it, if --sample). */
void lh_record_alloc_now(void *ptr, size_t size);
void lh_record_free_now(void *ptr);
void lh_record_realloc(void *old, void *ptr, size_t size);
/* realloc(old, ...) with old non-NULL: begin before the real call, end after
 * it with begin's answer and the call's result (record.c says why). */
enum {
	LH_TICKET_NONE,      /* not numbered: end records as lh_record_realloc */
	LH_TICKET_TAKEN,     /* numbered, in the thread's buffer */
	LH_TICKET_UNSAMPLED, /* --sample: old was not sampled, only the new block may be */
};
int lh_record_realloc_begin(void *old, size_t n);
void lh_record_realloc_end(int ticket, void *old, void *ptr, size_t size);
void lh_record_modules_changed(void);
void lh_record_finish(void);
/* At normal exit (our destructor): runtime pools freed, then finish. */
void lh_record_exit(void);
void lh_record_close(void);
void lh_record_before_exec(void);
/* abort: write the buffers out, unless this thread is inside our own code. */
void lh_record_before_abort(void);
/* Start recording in a running process (attach.c): conf as LEAKHUNT_RECORD. */
/* attach.c: a child forked while attached unpatches itself */
void lh_attach_fork_child(void);
int lh_record_attach(const char *conf);

/* attach.c: patch the GOT slots of newly loaded objects while attached. */
void lh_attach_patch_all(void);
/* attach.c, exported: what `leakhunt record -p` calls in the process, by
 * name through dlsym (conf as LEAKHUNT_RECORD); 0, or -1. */
int lh_preload_attach(const char *conf);
int lh_preload_detach(void);
/* hooks.c: our hooks by name, bound inside the library (hidden aliases), for
 * the GOT patches. */
void *lh_hook_address(const char *name);

/*
 * sample.c: --sample.  take() says whether an allocation is recorded,
 * forget() whether a freed block was (and drops it).  Both are inline in
 * the hooks: nearly every allocation costs one subtraction from a
 * thread-local countdown and nearly every free one load from a 2 KiB
 * filter; only the rare sampled ones call into sample.c (calling in for
 * every event was most of --sample's cost).
 */
#define LH_SAMPLE_FILTER_BITS 14 /* address hash buckets */
extern __thread int64_t lh_sample_until LH_TLS; /* bytes to this thread's next sample point */
/* a bucket's bit: it may hold live sampled blocks (2 KiB, so that it stays in cache) */
extern _Atomic uint64_t lh_sample_filter[(1 << LH_SAMPLE_FILTER_BITS) / 64];

int lh_sample_init(void);
void lh_sample_fork_child(void);
void lh_sample_reset(int child); /* 1: in a forked child */
/* The countdown passed a sample point at this allocation: 1, record it. */
int lh_sample_point(void *ptr);
/* The countdown passed a point at an allocation not recorded: go on to the next. */
void lh_sample_skip(void);
/* The filter says ptr may be sampled: 1 if it is (it leaves the set). */
int lh_sample_drop(void *ptr);
/* Put ptr in the sampled set (a realloc that failed keeps its block); 0: full. */
int lh_sample_keep(void *ptr);

static inline size_t lh_sample_bucket(const void *p)
{
	return (size_t)(((uintptr_t)p * 0x9e3779b97f4a7c15ULL) >> (64 - LH_SAMPLE_FILTER_BITS));
}

/* Count size bytes down: 1 when they reach this thread's next sample point.
 * A 0-byte block counts as 1 (the report weighs it so): never sampled, a
 * program's malloc(0) leaks would not be seen at all.  A size past
 * PTRDIFF_MAX (it can only fail, and is counted as the hooks count before
 * the call) loses its top bit: as a negative int64_t it raised the
 * countdown, and one of -2^62 stopped the thread's sampling for good. */
static inline int lh_sample_count(size_t size)
{
	lh_sample_until -= (int64_t)(size & INT64_MAX) + !size;
	return LH_UNLIKELY(lh_sample_until <= 0);
}

static inline int lh_sample_take(void *ptr, size_t size)
{
	return lh_sample_count(size) && lh_sample_point(ptr);
}

/* The filter's answer: 0, ptr is not a sampled block; 1, it may be. */
static inline int lh_sample_maybe(const void *ptr)
{
	size_t k = lh_sample_bucket(ptr);

	return atomic_load_explicit(&lh_sample_filter[k / 64], memory_order_relaxed) >> (k % 64) & 1;
}

static inline int lh_sample_forget(void *ptr)
{
	return LH_UNLIKELY(lh_sample_maybe(ptr)) && lh_sample_drop(ptr);
}

/* The hooks' entries (after the real call, outside the busy state). */
static inline void lh_record_alloc(void *ptr, size_t size)
{
	if (lh_preload_conf.sample && !lh_sample_take(ptr, size))
		return;
	lh_record_alloc_now(ptr, size);
}

static inline void lh_record_free(void *ptr)
{
	if (lh_preload_conf.sample && !lh_sample_forget(ptr))
		return;
	lh_record_free_now(ptr);
}

/* cfi.c: the frame rule for a return address, packed as below; about a
 * microsecond, so unwind.c caches the answers. */
enum lh_cfi_kind {
	LH_CFI_RSP = 0,       /* CFA = rsp + off */
	LH_CFI_RBP = 1,       /* CFA = rbp + off */
	LH_CFI_DEREF_RBP = 2, /* CFA = *(rbp + (int16_t)off), a realigned frame */
	LH_CFI_NONE = 3,      /* no unwind information: guess from the frame pointer */
	LH_CFI_END = 4,       /* the outermost frame: no return address */
	LH_CFI_FALLBACK = 5,  /* a shape we do not handle: ask libunwind */
};
#define LH_CFI_KIND(r) ((r) & 7)
#define LH_CFI_OFF(r) (((r) >> 3) & 0xffff)
#define LH_CFI_RBP_SLOT(r) ((r) >> 19) /* caller's rbp at CFA - 8*slot; 0: unchanged;
					* DEREF_RBP: at rbp + 8*(slot - 2048) */
uint32_t lh_cfi_lookup(uintptr_t ra);

/* The stack hash, one multiply per frame: the walks fold it in while they
 * wait for memory, so it costs nothing extra there. */
static inline uint64_t lh_hash_step(uint64_t h, uintptr_t ip)
{
	return (h ^ ip) * 0xff51afd7ed558ccdULL;
}

static inline uint64_t lh_hash_ips(const uintptr_t *ips, int n)
{
	uint64_t h = 0;

	for (int i = 0; i < n; i++)
		h = lh_hash_step(h, ips[i]);
	return h;
}

/* unwind.c's memo of a thread's recent stacks (in record.c's buffer, one
 * per thread; zeroed memory is an empty memo).  An entry is the start of one
 * walk and every stack word that walk read; the caller keeps its stack id in
 * tag.  Two entries per set, so that two hot stacks whose starts share a set
 * (or two callers of one function at one depth) do not evict each other;
 * an entry is 40 cache lines, its header the first. */
#define LH_MEMO_BITS 5
#define LH_MEMO_SETS (1 << LH_MEMO_BITS)
#define LH_MEMO_READS 124
struct lh_memo_entry {
	uintptr_t ip, sp, bp; /* where the walk started: the program's innermost frame */
	const void *rules;    /* the rule tables it was walked with; NULL: empty */
	uint32_t gen;         /* lh_unwind_memo_forget()'s count when walked */
	int max, n;           /* frames asked for, frames found */
	int16_t nreads;       /* single stack words the walk read; -1: too many */
	int16_t nwins;        /* pairs of adjacent words it read (saved rbp, return address) */
	int need_bp;          /* the walk depended on the starting rbp */
	uint32_t tag;         /* the caller's (record.c: the stack id); 0: none yet */
	uint64_t hash;        /* lh_hash_ips() of the frames */
	/* the single words from the front (address, value), the pairs' values
	 * from the back (one 16-byte compare each), together at most
	 * LH_MEMO_READS; a pair's address is sp + win_at[j] */
	_Alignas(16) uintptr_t read[LH_MEMO_READS][2];
	int32_t win_at[LH_MEMO_READS];
} __attribute__((aligned(64)));

struct lh_unwind_memo {
	struct lh_memo_entry e[LH_MEMO_SETS][2];
	uint8_t last[LH_MEMO_SETS]; /* the way of each set used last */
};

/* unwind.c: fill ips with the return addresses of the calling program,
 * innermost first, leaving out the library's own frames; returns how many
 * (at most max), and in *hash lh_hash_ips() of them.  With a memo (auto
 * unwinding), a stack met before may be recognised instead: *tag then points
 * at its entry's tag, and when that is nonzero ips was not filled (n and
 * *hash were).  Otherwise *tag is NULL or points at a zero tag the caller
 * may set. */
void lh_unwind_init(void);
int lh_unwind(struct lh_unwind_memo *memo, uintptr_t *ips, int max, uint64_t *hash, uint32_t **tag);
/* Every memo entry walked before this call is stale (new stack ids). */
void lh_unwind_memo_forget(void);
/* Empty one memo (its buffer passes to another thread, whose stack may
 * have other bounds). */
void lh_unwind_memo_clear(struct lh_unwind_memo *memo);
int lh_unwind_is_own(uintptr_t ip);
/* Forget cached frame rules (an object was unloaded). */
void lh_unwind_forget(void);
/* After the run with check_unwind: stacks compared, how many differed, how
 * many the rule walk handed to libunwind, and how many the memo recognised
 * (each of those also walked and compared). */
void lh_unwind_check_counts(uint64_t *compared, uint64_t *differed, uint64_t *by_libunwind, uint64_t *by_memo);

#endif
