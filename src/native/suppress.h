/*
 * Leak suppressions in LeakSanitizer's format: one `leak:PATTERN` a line,
 * `#` comments, blank lines ignored, other kinds (`race:`...) skipped.  A
 * pattern matches a function name, a source file or a module path: as a
 * substring, with `*` for any run of characters, `^` anchoring the start and
 * `$` the end (sanitizer_common's TemplateMatch).  A leaking stack is
 * suppressed when any of its frames matches.
 *
 * The built-in list names libc and toolkit internals that are never the
 * program's leaks: heaptrack's own list plus glibc's per-thread DTV, which
 * stays allocated with cached thread stacks (heaptrack reports it as leaks).
 */
#ifndef LH_NATIVE_SUPPRESS_H
#define LH_NATIVE_SUPPRESS_H

#include <stddef.h>
#include <stdint.h>

#define LH_SUPP_TRIGRAMS 4

struct lh_suppressions {
	char **pattern;  /* owned */
	/* per pattern: up to LH_SUPP_TRIGRAMS hashed trigrams of its literal
	 * pieces, which any string it matches contains (a filter: 30,000
	 * patterns ran in full on each of 16,000 functions, 11 s) */
	uint16_t (*tri)[LH_SUPP_TRIGRAMS];
	unsigned char *ntri;
	size_t nr, alloc, tri_alloc, ntri_alloc;
};

void lh_suppressions_init(struct lh_suppressions *s);
void lh_suppressions_release(struct lh_suppressions *s);
/* Add one pattern (without "leak:"). */
void lh_suppressions_add(struct lh_suppressions *s, const char *pattern);
/* Add the built-in patterns. */
void lh_suppressions_builtin(struct lh_suppressions *s);
/* Read a LeakSanitizer suppressions file; 0, or -1 after lh_error(). */
int lh_suppressions_load(struct lh_suppressions *s, const char *path);
/* Index of the first pattern matching str, or -1. */
int lh_suppressions_match(const struct lh_suppressions *s, const char *str);
/* Does the template match str (the rules above)? */
int lh_suppress_template_match(const char *templ, const char *str);

#endif
