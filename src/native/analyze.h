/*
 * The allocation model of a .lht trace: everything `leakhunt report` shows,
 * computed in one streaming pass (lh_alloc_model_load) and then named
 * (symbols, inline frames, module+offset, suppressions) in lh_alloc_model_finish.
 *
 * The one idea: every cost is kept per stack (the leaf node id of the trace's
 * stack trie), never per event.  Sites, trees, callers/callees, folded stacks
 * and diffs are all sums over those per-stack costs (callgraph.h).  Memory is
 * the live-block table (one entry per live block), the per-stack costs, the
 * symbol table, the distinct allocation sizes and a timeline of at most
 * LH_TIMELINE_MAX points: nothing grows with the number of events.
 *
 * Definitions (docs/report.md, "What the numbers mean"):
 *   calls      allocation calls that returned memory: malloc, calloc, realloc
 *              (one call, even though it also frees), the aligned ones
 *   temporary  (0 in a sampled trace: not estimated)
 *              an allocation whose free (by any thread) comes before the next
 *              allocation or free of the thread that made it: heaptrack_interpret's
 *              rule (a '-' right after its '+'), per thread instead of in global
 *              order; a realloc frees its old block first, then allocates
 *   peak       the highest sum of requested sizes of live blocks, in global
 *              event order; a stack's peak contribution is its live bytes at
 *              that moment (exact, kept lazily: see analyze.c)
 *   leaked     blocks never freed when the trace ends, minus suppressed ones
 */
#ifndef LH_NATIVE_ANALYZE_H
#define LH_NATIVE_ANALYZE_H

#include <stddef.h>
#include <stdint.h>

#include "base/hashmap.h"
#include "base/strbuf.h"

#define LH_TIMELINE_MAX 1024
#define LH_AT_END UINT64_MAX

/* Costs of one stack (leaf node). */
struct lh_alloc_cost {
	uint64_t calls;        /* allocation calls from this stack */
	uint64_t samples;      /* of those, recorded (all of them unless the trace is sampled) */
	uint64_t bytes;        /* bytes they asked for, in total */
	uint64_t temporary;    /* of those calls, temporary allocations */
	uint64_t live_bytes;   /* live now; at the end: leaked (before suppressions) */
	uint64_t live_blocks;
	uint64_t peak_bytes;   /* live at the moment of the global peak */
	uint64_t peak_blocks;
	uint64_t at_bytes;     /* live at the --at moment */
	uint64_t at_blocks;
	uint64_t stamp;        /* seq of the last change to live_*: peak capture */
};

/* One point of the timeline (a bucket of one or more RSS samples). */
struct lh_timeline_point {
	uint64_t ms;           /* end of the bucket, ms since start */
	uint64_t heap;         /* live heap at that moment */
	uint64_t heap_max;     /* highest live heap inside the bucket */
	uint64_t rss;          /* highest RSS sample inside the bucket */
	uint64_t calls;        /* allocation calls so far */
	uint64_t temporary;    /* temporary allocations so far */
};

struct lh_size_count {
	uint64_t size, count;
};

/* A frame of a stack node once named: one per (inline) function. */
struct lh_alloc_frame {
	uint32_t func;         /* index into lh_alloc_model.funcs */
	uint32_t file;         /* string id of the source file, 0 unknown */
	uint32_t line;         /* 0 unknown */
	uint32_t module;       /* index into modules + 1, 0 unknown */
};

struct lh_alloc_module {
	uint64_t bias, lo, hi; /* load bias and the address range of its segments */
	char *path;
};

enum lh_alloc_flags {
	LH_ALLOC_NO_INLINE = 1 << 0,     /* only the function that holds the ip */
	LH_ALLOC_NO_BUILTIN_SUPP = 1 << 1, /* do not suppress known libc internals */
};

struct lh_alloc_model {
	/* summary */
	uint64_t calls;          /* allocation calls that returned memory (estimated when sampled) */
	uint64_t sampled_calls;  /* of those, recorded: all of them unless sample_mean */
	uint64_t frees;          /* frees of known blocks (realloc's included) */
	uint64_t temporary;
	uint64_t alloc_bytes;    /* bytes requested, in total */
	uint64_t peak_bytes;     /* highest live heap */
	uint64_t peak_blocks;
	uint64_t peak_seq;       /* event number of the peak */
	uint64_t peak_ms;        /* when it happened (ms since start, from samples) */
	uint64_t peak_rss;       /* highest RSS sample */
	uint64_t heap_end;       /* live at the end, suppressed blocks included */
	uint64_t blocks_end;
	uint64_t leaked_bytes;   /* live at the end, suppressed blocks excluded */
	uint64_t leaked_blocks;
	uint64_t suppressed_bytes, suppressed_blocks;
	uint64_t runtime_ms;     /* the end record, or the last sample */
	uint64_t events;         /* events read */
	uint64_t missing;        /* events never seen (a killed program's buffers) */
	uint64_t missing_at_end; /* of those, numbers the end record counts past the last event read */
	uint64_t duplicates;     /* events dropped: their number was an earlier event's (damage) */
	uint64_t end_events;     /* events the end record counts (0 without one) */
	uint64_t unknown_frees;  /* frees of blocks allocated before recording began */
	uint64_t max_lag;        /* most events held back to restore the order */
	int ended;               /* the program finished normally */
	int attached;            /* recorded by attaching (record -p): a window of the process's life */
	int write_error;         /* recording stopped early: a write of the trace failed with this errno, or 0 */
	int has_symbols;         /* `record` appended the symbol table */
	struct strbuf damage;    /* why reading stopped early, if it did */
	char *exe, *cmdline;
	int unwind_fp;           /* recorded with --unwind fp */
	uint64_t incomplete_calls; /* with unwind_fp: allocation calls whose stack ends before the
				    * start of its thread (lh_alloc_model_finish) */
	uint64_t sample_mean;    /* record --sample: mean bytes between samples, 0 = every allocation;
				  * then every count and byte sum above and per stack is an estimate
				  * (analyze.c, weight_of), and sizes' counts too */

	/* --at */
	uint64_t at_ms;          /* requested moment, LH_AT_END for none */
	uint64_t at_heap, at_blocks, at_real_ms; /* the live heap then */
	int at_taken;

	/* per stack node, by node id (0 = the empty root) */
	uint64_t *node_parent, *node_ip;
	struct lh_alloc_cost *cost;
	size_t nnodes, nodes_alloc;

	struct lh_timeline_point *timeline;
	size_t ntimeline;
	uint64_t timeline_stride; /* samples merged into one point */

	struct lh_size_count *sizes; /* after finish: sorted by size */
	size_t nsizes;

	/* symbols from the file: ip -> frames, innermost first */
	struct strbuf strpool;   /* symbol strings, NUL-terminated */
	size_t *str_off;         /* by string id - 1 */
	size_t nstr, str_alloc;
	struct lh_alloc_sym { uint64_t ip; uint32_t off, n; } *syms; /* sorted by ip */
	size_t nsyms, syms_alloc;
	uint32_t *symframes;     /* (function id, file id, line) triples */
	size_t nsymframes, symframes_alloc;
	struct lh_alloc_module *modules;
	size_t nmodules, modules_alloc;

	/* named, after lh_alloc_model_finish */
	struct lh_hashmap funcs;  /* function names as shown, keys NUL-terminated; entry index = id */
	uint32_t *func_bare;      /* by id: the string id of the name without what tells two
				     functions of that name apart ("helper (libtwo.so)"), or 0 */
	size_t nfunc_bare;
	uint32_t *node_frame_off; /* frames of node i: node_frames[off[i] .. off[i+1]) */
	struct lh_alloc_frame *node_frames;
	size_t nnode_frames;
	unsigned char *suppressed; /* by node id: its leaks are suppressed */
	uint32_t main_func;      /* id of "main", or UINT32_MAX */
	uint32_t start_func;     /* id of glibc's "__libc_start_call_main", or UINT32_MAX */

	void *priv;              /* pass state, NULL after loading */
};

struct lh_suppressions;

/* Zero m; at_ms = LH_AT_END means no --at snapshot. */
void lh_alloc_model_init(struct lh_alloc_model *m, uint64_t at_ms);
/* Read the trace at path in one pass; 0, or -1 after lh_error() (not a trace,
 * newer version).  A damaged or cut trace is not an error: m->damage says why. */
int lh_alloc_model_load(struct lh_alloc_model *m, const char *path);
/* Name every frame (flags: enum lh_alloc_flags) and apply suppressions
 * (supp may be NULL: the built-in ones only). */
void lh_alloc_model_finish(struct lh_alloc_model *m, unsigned flags, const struct lh_suppressions *supp);
void lh_alloc_model_release(struct lh_alloc_model *m);

/* The name of function id f. */
static inline const char *lh_alloc_func_name(const struct lh_alloc_model *m, uint32_t f)
{
	return lh_hashmap_key(&m->funcs, &m->funcs.entries[f]);
}

/* The symbol-table string id, or "" for 0 / unknown. */
const char *lh_alloc_string(const struct lh_alloc_model *m, uint64_t id);

/* The name of function id f as the program has it: "helper" for the
 * "helper (libtwo.so)" that lh_alloc_func_name shows. */
static inline const char *lh_alloc_func_bare(const struct lh_alloc_model *m, uint32_t f)
{
	return f < m->nfunc_bare && m->func_bare[f] ? lh_alloc_string(m, m->func_bare[f]) : lh_alloc_func_name(m, f);
}

/*
 * The allocation sizes in powers of two, as `report --histogram` shows them:
 * bucket[0] counts the requests of size 0, bucket[b] those of a size in
 * [2^(b-1), 2^b).  Returns the count of distinct sizes.
 */
#define LH_SIZE_BUCKETS 65
size_t lh_alloc_size_buckets(const struct lh_alloc_model *m, uint64_t bucket[LH_SIZE_BUCKETS]);

/*
 * The frames of the stack whose leaf is node, innermost first, into *out
 * (grown with ALLOC_GROW).  With stop_at_main, frames outside main (libc's
 * start code) are dropped.  Returns the number of frames.
 */
size_t lh_alloc_stack(const struct lh_alloc_model *m, uint64_t node, int stop_at_main,
		      struct lh_alloc_frame **out, size_t *alloc);

#endif
