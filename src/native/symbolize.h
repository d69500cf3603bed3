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
};

/* Append the symbol table to the trace at path (once: a trace that already
 * has one is left alone).  0, or -1 after lh_error(). */
int lh_symbolize_trace(const char *path, struct lh_symbolize_stats *st);

#endif
