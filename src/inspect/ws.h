/*
 * A WebSocket client (RFC 6455) for the inspector: the handshake is ours,
 * the framing is wslay's (masking, 16/64-bit lengths, fragmentation,
 * ping/pong and close are handled there); we own only the socket loop.
 *
 * Received messages are whole (wslay reassembles fragments) and queued in
 * order; lh_ws_recv() hands them out one at a time.  Every call takes an
 * absolute deadline (net.h) so a peer that stops talking is an error, not
 * a hang.
 */
#ifndef LH_INSPECT_WS_H
#define LH_INSPECT_WS_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

/* The largest message we accept; the inspector's biggest are ~140 kB. */
#define LH_WS_MAX_MSG (64u * 1024 * 1024)

struct wslay_event_context;

struct lh_ws {
	int fd;                          /* -1 when not connected */
	struct wslay_event_context *ctx; /* wslay's state machine */
	char *what;                      /* "'ws://host:port/path'" for messages */
	struct strbuf in;                /* received stream bytes (from the HTTP head on) */
	size_t in_off;                   /* how much of in wslay has consumed */
	struct strbuf *queue;            /* received messages, oldest at q_head */
	size_t q_head, q_nr, q_alloc;
	int eof;                         /* the peer closed the TCP stream */
	int io_errno;                    /* errno of a failed recv/send, or 0 */
	int close_received;              /* a close frame arrived */
	unsigned close_code;             /* its status code (0: none given) */
	int quiet_timeout;               /* lh_ws_recv() returns -2 silently at the deadline */
};

/* Split "ws://host:port/path" (host may be "[v6]"; port defaults to 80). 0 or -1. */
int lh_ws_parse_url(const char *url, struct strbuf *host, int *port, struct strbuf *path);

/* Connect and do the opening handshake before the deadline.  0 or -1 with a message. */
int lh_ws_connect(struct lh_ws *ws, const char *host, int port, const char *path,
		  int64_t deadline);

/*
 * Start the WebSocket layer on ws->fd, a non-blocking socket whose opening
 * handshake is done (lh_ws_connect() does this; tests use a socketpair).
 * The caller zeroes *ws and sets fd (and optionally what, malloc'ed) first.
 */
void lh_ws_attach(struct lh_ws *ws);

/*
 * The frame parser without the socket: hand it len bytes of the stream as
 * if they had been read, and complete messages join the queue (take them
 * with lh_ws_take()).  While a message waits in the queue parsing pauses;
 * lh_ws_feed(ws, NULL, 0) resumes it.  lh_ws_recv() goes through the same
 * path.  0, or -1 with a message when the stream is malformed (a masked or
 * reserved-bit frame, a bad opcode, a message over LH_WS_MAX_MSG).  Control
 * frames are handled as on a socket: a close sets close_received, pings
 * queue pongs that lh_ws_recv() would send.
 */
int lh_ws_feed(struct lh_ws *ws, const void *data, size_t len);

/* Move the oldest received message into msg (replacing it): 1, or 0 if none is queued. */
int lh_ws_take(struct lh_ws *ws, struct strbuf *msg);

/* Send one text message.  0 or -1 with a message. */
int lh_ws_send_text(struct lh_ws *ws, const char *data, size_t len, int64_t deadline);

/*
 * Receive the next text or binary message into msg (replacing its contents):
 * 1 got one, 0 the peer closed the connection cleanly (close frame), -1 on
 * error or timeout (with a message); with quiet_timeout set, reaching the
 * deadline returns -2 without a message (for "wait until the next tick").
 */
int lh_ws_recv(struct lh_ws *ws, struct strbuf *msg, int64_t deadline);

/*
 * Wait for the peer to end the session: drop the messages that still come,
 * answer its close frame (wslay queues the answer; we flush it) and wait for
 * the end of the TCP stream.  Use it when the peer is about to close, so we
 * never send a close frame of our own at the same time (node's inspector
 * crashes when both sides close at once, see session.c).  1 the peer closed,
 * 0 the deadline passed first, -1 on a socket error (no message: the caller
 * decides what to say).
 */
int lh_ws_await_close(struct lh_ws *ws, int64_t deadline);

/*
 * Send a close frame (unless one was sent or the stream ended) without
 * waiting for the answer, close the socket, free.
 */
void lh_ws_close(struct lh_ws *ws);

#endif
