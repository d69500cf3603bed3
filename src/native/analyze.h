/*
 * The allocation model of a .lht trace, first slice: the summary numbers that
 * `leakhunt report` prints (issue 3 grows this into per-site views).
 *
 * Definitions (docs/lht-format.md, "What the numbers mean"):
 *   calls      allocation calls that returned memory: malloc, calloc,
 *              realloc (one call, even though it frees too), the aligned ones
 *   temporary  an allocation whose free comes before any other allocation or
 *              free of the thread that made it (heaptrack_interpret's rule, per
 *              thread instead of in global order; a realloc frees its old
 *              block first, then allocates)
 *   peak       the highest sum of requested sizes of live blocks, in event
 *              order; leaked = blocks never freed when the trace ends
 * Events are read in their global order (lh_trace_next_ordered), with one
 * hash-table entry per live block, so memory follows the live heap.
 */
#ifndef LH_NATIVE_ANALYZE_H
#define LH_NATIVE_ANALYZE_H

#include <stdint.h>

#include "base/strbuf.h"

/* Bytes and blocks still allocated at the end, per stack (leaf node id). */
struct lh_alloc_leak {
	uint64_t stack, bytes, blocks;
};

struct lh_alloc_summary {
	uint64_t calls;          /* allocation calls that returned memory */
	uint64_t frees;          /* frees of known blocks (realloc's included) */
	uint64_t temporary;      /* see above */
	uint64_t peak_bytes;     /* highest live heap */
	uint64_t peak_ms;        /* when it happened (ms since start, from samples) */
	uint64_t peak_rss;       /* highest RSS sample */
	uint64_t leaked_bytes;   /* live at the end */
	uint64_t leaked_blocks;
	uint64_t runtime_ms;     /* last sample or the end record */
	uint64_t events;         /* events read */
	uint64_t missing;        /* events lost (a killed program's unflushed buffers) */
	uint64_t unknown_frees;  /* frees of blocks allocated before recording began */
	int ended;               /* the program finished and the trace is complete */
	struct strbuf damage;    /* why reading stopped early, if it did */

	struct lh_alloc_leak *leaks; /* biggest first */
	size_t nleaks;
	/* the stack trie and the symbol table, for naming frames */
	uint64_t *node_parent, *node_ip; /* by node id */
	size_t nnodes;
	char **strings;              /* by string id - 1 */
	size_t nstrings;
	uint64_t *sym_ip, *sym_func; /* innermost function of each resolved ip, sorted by ip */
	size_t nsyms, syms_alloc;
};

/* The function name at node ip (innermost frame, inlining resolved), or NULL. */
const char *lh_alloc_function(const struct lh_alloc_summary *s, uint64_t ip);

/* Read the trace at path and fill s; 0, or -1 after lh_error(). */
int lh_alloc_summarize(struct lh_alloc_summary *s, const char *path);
void lh_alloc_summary_release(struct lh_alloc_summary *s);

#endif
