/*
 * A streaming JSON writer (the --json output of every command).
 *
 * It tracks nesting so callers never place commas by hand, escapes strings
 * (control characters, quotes, backslashes; lone UTF-16 surrogates kept in
 * WTF-8 form by the snapshot loader come back out as \uXXXX, so names
 * round-trip), and keeps a sticky error flag (SQLite's JsonString) that the
 * caller checks once in lh_jsonw_finish().  Output is indented when pretty.
 * With script set, '<', '>' and '&' are written as \u003c, \u003e and \u0026,
 * so that the document can sit inside an HTML <script> element: a name such
 * as "f</script>" cannot end the element, nor "<!--" change how it parses.
 */
#ifndef LH_BASE_JSONW_H
#define LH_BASE_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LH_JSONW_MAX_DEPTH 64

struct lh_jsonw {
	FILE *out;
	int pretty;                          /* indent with two spaces */
	int depth;                           /* open containers */
	unsigned char first[LH_JSONW_MAX_DEPTH]; /* 1 until a member is written at that depth */
	unsigned char is_array[LH_JSONW_MAX_DEPTH]; /* ']' closes it, else '}' */
	int after_key;                       /* a key was written; its value comes next */
	int error;                           /* sticky: nesting misuse or write failure */
	int script;                          /* escape < > & for an HTML <script> (set after init) */
};

void lh_jsonw_init(struct lh_jsonw *w, FILE *out, int pretty);
void lh_jsonw_object(struct lh_jsonw *w);  /* { */
void lh_jsonw_array(struct lh_jsonw *w);   /* [ */
void lh_jsonw_end(struct lh_jsonw *w);     /* } or ] */
void lh_jsonw_key(struct lh_jsonw *w, const char *key);
void lh_jsonw_str(struct lh_jsonw *w, const char *s);
void lh_jsonw_strn(struct lh_jsonw *w, const char *s, size_t len);
void lh_jsonw_int(struct lh_jsonw *w, int64_t v);
void lh_jsonw_uint(struct lh_jsonw *w, uint64_t v);
void lh_jsonw_double(struct lh_jsonw *w, double v);
void lh_jsonw_bool(struct lh_jsonw *w, int v);
void lh_jsonw_null(struct lh_jsonw *w);
/* A member: key and value in one call. */
void lh_jsonw_kstr(struct lh_jsonw *w, const char *key, const char *s);
void lh_jsonw_kint(struct lh_jsonw *w, const char *key, int64_t v);
void lh_jsonw_kuint(struct lh_jsonw *w, const char *key, uint64_t v);
void lh_jsonw_kbool(struct lh_jsonw *w, const char *key, int v);
/* Terminate with a newline and flush; 0, or -1 (with a message) on misuse or I/O error. */
int lh_jsonw_finish(struct lh_jsonw *w);

/* Write s as a JSON string literal (with quotes) into any FILE. */
void lh_json_escape(FILE *out, const char *s, size_t len);

/*
 * The length of the valid UTF-8 sequence of two or more bytes at p (RFC 3629:
 * no overlong forms, nothing past U+10FFFF, no surrogates), or 0 (ASCII, or
 * not UTF-8).  avail: the bytes readable at p.
 */
size_t lh_utf8_len(const unsigned char *p, size_t avail);

#endif
