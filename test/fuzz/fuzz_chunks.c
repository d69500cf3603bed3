/*
 * libFuzzer target for the heap snapshot chunk decoder (src/inspect/jstr.c,
 * what capture.c runs over every addHeapSnapshotChunk string): the input is
 * the inside of a JSON string literal, cut into pieces at points taken from
 * its first byte, so escapes, \uXXXX digits and surrogate pairs straddle
 * the cuts.  Decoding the pieces one after another must give exactly what
 * decoding the whole at once gives: the same bytes, the same number of
 * bytes consumed, the same verdict at the same offset.  And when the string
 * is well-formed JSON, the bytes are what cJSON makes of it.
 *
 * Input: byte 0 = the cut pattern (piece sizes cycle through 1..16 driven by
 * it), then the string body, usually with a closing quote somewhere.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "inspect/jstr.h"

struct result {
	struct strbuf out;
	size_t used;       /* bytes consumed, up to and including the closing quote */
	int failed;        /* a feed returned -1 */
	int done;
	size_t offset;     /* where it stopped */
	int finished;      /* lh_jstr_finish() said the string ended cleanly */
};

static void decode(const char *s, size_t len, unsigned pattern, struct result *r)
{
	struct lh_jstr d;
	size_t off = 0, k = 0;

	lh_jstr_init(&d);
	strbuf_init(&r->out, 0);
	r->used = 0;
	r->failed = 0;
	while (off < len && !d.done) {
		/* pattern 0 means all at once; otherwise sizes 1..16 from its bits */
		size_t n = pattern ? 1 + ((pattern >> (k % 5)) * 7 + k) % 16 : len - off;
		ssize_t got;

		k++;
		if (n > len - off)
			n = len - off;
		got = lh_jstr_feed(&d, s + off, n, &r->out);
		if (got < 0) {
			r->failed = 1;
			break;
		}
		if ((size_t)got > n || ((size_t)got < n && !d.done))
			abort(); /* consumes all of a piece, or stops at the quote */
		off += got;
	}
	r->used = off;
	r->done = d.done;
	r->offset = d.offset;
	r->finished = !r->failed && lh_jstr_finish(&d, &r->out) == 0;
}

/* cJSON's reading of the same literal, when it has one without a NUL in it. */
static void check_against_cjson(const char *s, struct result *r)
{
	struct strbuf lit = STRBUF_INIT;
	cJSON *j;

	if (!r->finished || memchr(r->out.buf, '\0', r->out.len))
		return;
	strbuf_addch(&lit, '"');
	strbuf_add(&lit, s, r->used);
	j = cJSON_ParseWithLength(lit.buf, lit.len);
	/* cJSON refuses lone surrogates, which we keep as WTF-8: compare where both accept */
	if (cJSON_IsString(j) && (strlen(j->valuestring) != r->out.len ||
				  memcmp(j->valuestring, r->out.buf, r->out.len)))
		abort();
	cJSON_Delete(j);
	strbuf_release(&lit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result whole, split;
	const char *s = (const char *)data + 1;
	size_t len;

	if (!size)
		return 0;
	len = size - 1;
	decode(s, len, 0, &whole);
	decode(s, len, data[0] | 1, &split);
	if (whole.failed != split.failed || whole.done != split.done ||
	    whole.finished != split.finished || whole.offset != split.offset)
		abort();
	if (!whole.failed && whole.used != split.used)
		abort();
	if (whole.out.len != split.out.len || memcmp(whole.out.buf, split.out.buf, whole.out.len))
		abort();
	check_against_cjson(s, &whole);
	strbuf_release(&whole.out);
	strbuf_release(&split.out);
	return 0;
}
