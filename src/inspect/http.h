/*
 * Just enough HTTP/1.1 for the inspector's discovery endpoints (/json/list,
 * /json/version) and the WebSocket upgrade.  Node answers "HTTP/1.0 200" but
 * keeps the connection open, so a body is read by Content-Length, never to
 * end of stream; every read has a deadline.
 */
#ifndef LH_INSPECT_HTTP_H
#define LH_INSPECT_HTTP_H

#include <stdint.h>

#include "base/strbuf.h"

#define LH_HTTP_MAX_HEAD (64 * 1024)
#define LH_HTTP_MAX_BODY (16 * 1024 * 1024)

/*
 * Read a response head (up to and including the blank line) into head;
 * bytes that arrived after it go to rest.  0, or -1 with a message.
 */
int lh_http_read_head(int fd, int64_t deadline, const char *what, struct strbuf *head,
		      struct strbuf *rest);

/* The status code of a response head, or -1 when the status line is malformed. */
int lh_http_status(const char *head);

/* Copy the value of header name (case-insensitive) into val: 1 found, 0 not. */
int lh_http_header(const char *head, const char *name, struct strbuf *val);

/*
 * GET path from host:port and put the body of a 200 answer into body.
 * 0, or -1 with a message (including the status line for other answers).
 */
int lh_http_get(const char *host, int port, const char *path, int timeout_ms,
		struct strbuf *body);

#endif
