/*
 * Symbolization of a finished .lht trace with elfutils: every ip of the
 * stack trie becomes its frames (function, file, line), inlined frames
 * included, innermost first, appended to the trace as a symbol table so the
 * file can be analyzed on another machine.  Runs outside the traced process,
 * after it ended: the modules are opened from the paths the trace recorded.
 */
#ifndef LH_NATIVE_SYMBOLIZE_H
#define LH_NATIVE_SYMBOLIZE_H

#include <stdint.h>

struct lh_symbolize_stats {
	uint64_t ips;        /* distinct addresses in the trie */
	uint64_t resolved;   /* of those, with a function name */
	uint64_t frames;     /* frames written, inlined ones included */
	uint64_t strings;
	uint64_t modules;
	uint64_t warm;       /* of those, loaded by a warm symbolizer before */
	uint64_t warm_ips;   /* addresses that it had resolved once before */
};

/*
 * A symbolizer prepared ahead of lh_symbolize_trace(), while the program
 * still runs: elfutils' decompressing of compressed debug sections (tens of
 * milliseconds for glibc's) and reading of the symbol tables happen then
 * instead of after the program ended.  One thread at a time uses it.
 */
struct lh_symbolizer;

/* An empty symbolizer; NULL when elfutils cannot start. */
struct lh_symbolizer *lh_symbolizer_new(void);
/*
 * Load the modules that the trace at path lists so far (it may be growing:
 * read up to its last complete chunk), each with its symbols and DWARF,
 * then resolve the addresses of its stacks once (what libdw reads for them
 * stays).  Called again, does only what is new in the trace.  Between
 * modules and addresses, stops early once *stop (read atomically) is
 * nonzero.  Silent; returns how many modules the trace listed, 0 when it
 * lists none yet (or is not readable yet: nothing was done, try later).
 */
int lh_symbolizer_warm(struct lh_symbolizer *s, const char *path, const int *stop);
void lh_symbolizer_free(struct lh_symbolizer *s);

/* Append the symbol table to the trace at path (once: a trace that already
 * has one is left alone), with the modules that warm (NULL: none) loaded
 * already reused: the table is the same either way.  0, or -1 after
 * lh_error(). */
int lh_symbolize_trace(const char *path, struct lh_symbolizer *warm, struct lh_symbolize_stats *st);

/*
 * The test of the scope index behind the inlined frames: for every
 * stride-th address of path's line tables, and both ends of every
 * stride-th function scope range,
 * compare the inlined and enclosing functions the index finds with what
 * libdw's dwarf_getscopes and dwarf_getscopes_die give (the first
 * differences are logged with lh_debug).  -1 when path cannot be loaded.
 */
int lh_symbolize_check(const char *path, unsigned stride, uint64_t *checked, uint64_t *differed);

#endif
