/*
 * An incremental decoder for the inside of a JSON string literal: feed it
 * the bytes after the opening quote in pieces of any size, split anywhere
 * (mid-escape, mid-\uXXXX, between the halves of a surrogate pair), and it
 * appends the decoded bytes to a strbuf and stops at the closing quote.
 *
 * This is how heap snapshot chunks reach the disk: each
 * addHeapSnapshotChunk message carries ~100 kB of snapshot text as one
 * escaped string, which we decode straight into the output buffer without
 * building a JSON tree for it.  \uXXXX becomes UTF-8; a lone surrogate
 * becomes its 3-byte WTF-8 form, as the snapshot loader expects.
 */
#ifndef LH_INSPECT_JSTR_H
#define LH_INSPECT_JSTR_H

#include <stddef.h>
#include <sys/types.h>

#include "base/strbuf.h"

struct lh_jstr {
	int state;          /* where we are: plain, after '\', in \uXXXX, ... */
	unsigned code;      /* the \uXXXX digits read so far */
	int ndigits;        /* how many of the 4 */
	unsigned high;      /* a high surrogate waiting for its low half, or 0 */
	int done;           /* the closing quote was seen */
	size_t offset;      /* bytes consumed over all feeds, for messages */
	const char *error;  /* what was wrong, when lh_jstr_feed() returned -1 */
};

void lh_jstr_init(struct lh_jstr *d);

/*
 * Decode in[0..len) into out.  Returns how many bytes were consumed: all of
 * them, or up to and including the closing quote (then d->done is set).
 * Returns -1 on a bad escape or a raw control character (d->error says
 * which, at byte d->offset).  Feeding after done consumes nothing.
 */
ssize_t lh_jstr_feed(struct lh_jstr *d, const char *in, size_t len, struct strbuf *out);

/* 0 when the string ended cleanly, -1 (d->error set) when it stopped mid-way. */
int lh_jstr_finish(struct lh_jstr *d, struct strbuf *out);

#endif
