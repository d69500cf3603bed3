/*
 * libFuzzer target for the WebSocket frame parser (src/inspect/ws.c, wslay
 * underneath): the input is a stream of server bytes as they would come
 * from the inspector's socket.  It is fed twice, once in pieces whose sizes
 * come from the input's first bytes and once whole; either way the parser
 * must reject it or parse it, never crash or loop.  When both runs accept
 * the stream they must give the same messages and the same close; when one
 * rejects it, its messages must be the first messages of the other run.  A
 * parser that kept state wrongly across reads (a length, a mask, a fragment
 * split over two reads) shows up as a difference.  (The verdicts may differ:
 * wslay checks some frames, e.g. an oversized control frame, only once it
 * has more of it in its buffer, so a stream cut short can pass one way and
 * fail the other.)
 *
 * Input: byte 0 = how many size bytes follow (1..8), then the size bytes
 * (piece i is 1 + s*s/4 bytes, s cycling through them), then the stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "inspect/ws.h"

/* Everything the parser handed out, in order, with the final verdict. */
static void drain(struct lh_ws *ws, struct strbuf *log, int *failed)
{
	struct strbuf msg = STRBUF_INIT;

	while (!*failed && lh_ws_take(ws, &msg)) {
		strbuf_addf(log, "[%zu]", msg.len);
		strbuf_add(log, msg.buf, msg.len);
		if (lh_ws_feed(ws, NULL, 0) < 0) /* parsing pauses while a message waits */
			*failed = 1;
	}
	strbuf_release(&msg);
}

/* Feed the stream; log gets the messages, close the close and verdict; returns failed. */
static int run(const uint8_t *sizes, size_t nsizes, const uint8_t *data, size_t len,
	       struct strbuf *log, struct strbuf *close)
{
	struct lh_ws ws;
	size_t off = 0, i = 0;
	int failed = 0;

	memset(&ws, 0, sizeof(ws));
	ws.fd = -1;
	lh_ws_attach(&ws);
	while (off < len && !failed) {
		size_t s = nsizes ? sizes[i++ % nsizes] : 0, n = nsizes ? 1 + s * s / 4 : len;

		if (n > len - off)
			n = len - off;
		if (lh_ws_feed(&ws, data + off, n) < 0)
			failed = 1;
		off += n;
		drain(&ws, log, &failed);
	}
	strbuf_addf(close, "close=%d,%u", ws.close_received, ws.close_code);
	lh_ws_close(&ws);
	return failed;
}

/* Is a a prefix of b? */
static int prefix(const struct strbuf *a, const struct strbuf *b)
{
	return a->len <= b->len && !memcmp(a->buf, b->buf, a->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf split = STRBUF_INIT, whole = STRBUF_INIT, err = STRBUF_INIT;
	struct strbuf split_close = STRBUF_INIT, whole_close = STRBUF_INIT;
	int split_failed, whole_failed;
	size_t nsizes;

	if (!size)
		return 0;
	nsizes = data[0] % 8 + 1;
	if (size < 1 + nsizes)
		return 0;
	lh_error_capture(&err);
	split_failed = run(data + 1, nsizes, data + 1 + nsizes, size - 1 - nsizes, &split,
			   &split_close);
	whole_failed = run(NULL, 0, data + 1 + nsizes, size - 1 - nsizes, &whole, &whole_close);
	lh_error_capture(NULL);
	if (!split_failed && !whole_failed &&
	    (!prefix(&split, &whole) || split.len != whole.len || strcmp(split_close.buf, whole_close.buf)))
		abort();
	if (split_failed && !prefix(&split, &whole))
		abort();
	if (whole_failed && !prefix(&whole, &split))
		abort();
	strbuf_release(&split);
	strbuf_release(&whole);
	strbuf_release(&split_close);
	strbuf_release(&whole_close);
	strbuf_release(&err);
	return 0;
}
