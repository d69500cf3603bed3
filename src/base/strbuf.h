/*
 * A growable byte string whose buffer is never NULL (git's strbuf.h).
 *
 * Invariants: sb->buf[sb->len] == '\0' always; sb->buf points at a shared
 * empty string until the first addition, so a fresh strbuf can be printed and
 * released without ever allocating.  Strings may hold NUL bytes in the middle.
 */
#ifndef LH_BASE_STRBUF_H
#define LH_BASE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "error.h"

struct strbuf {
	size_t alloc; /* bytes allocated for buf, 0 while buf is the shared "" */
	size_t len;   /* bytes used, not counting the terminating NUL */
	char *buf;    /* never NULL */
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

/* Set up an empty buffer, reserving hint bytes if hint > 0. */
void strbuf_init(struct strbuf *sb, size_t hint);
/* Free the contents; the strbuf is empty and reusable afterwards. */
void strbuf_release(struct strbuf *sb);
/* Hand the buffer to the caller (who frees it) and reset sb. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
/* Make room for extra more bytes. */
void strbuf_grow(struct strbuf *sb, size_t extra);
/* Set the length (<= alloc) and terminate. */
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen((sb), 0)

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) LH_PRINTF(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Append count copies of c. */
void strbuf_addchars(struct strbuf *sb, int c, size_t count);

/* The last part of a path ("util.c" of "src/a/util.c"); the whole path
 * when it has no slash or ends in one. */
const char *lh_path_base(const char *path);

#endif
