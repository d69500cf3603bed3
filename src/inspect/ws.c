/*
 * WebSocket client over wslay (see ws.h).
 *
 * Bytes from the socket (and those that came with the HTTP upgrade answer)
 * go into ws->in; wslay parses frames out of it through our recv callback,
 * which never touches the socket.  That makes the parser a pure function of
 * the bytes (lh_ws_feed(), what the fuzz target drives), and lets one
 * recv() bring 256 kB where wslay alone would ask for 4 kB at a time.
 * While a received message waits in the queue the callback reports "would
 * block", so a fast peer cannot make us buffer more than one read's worth
 * of messages; lh_ws_recv() therefore lets wslay parse what is buffered
 * before it reads or waits in poll().
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <wslay/wslay.h>

#include "base/alloc.h"
#include "base/error.h"
#include "inspect/http.h"
#include "inspect/net.h"
#include "inspect/ws.h"

/* One recv(): big enough that a 1 GB snapshot costs thousands of calls, not 250,000. */
#define READ_SIZE (256 * 1024)

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
	struct lh_ws *ws = ud;
	size_t n = ws->in.len - ws->in_off;

	if (!n || ws->q_nr > ws->q_head) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (n > len)
		n = len;
	memcpy(buf, ws->in.buf + ws->in_off, n);
	ws->in_off += n;
	return n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
		       void *ud)
{
	struct lh_ws *ws = ud;

	for (;;) {
		ssize_t n = send(ws->fd, data, len, MSG_NOSIGNAL);

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
			return -1;
		}
		ws->io_errno = errno;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
}

static int genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud)
{
	/* The mask only has to be unpredictable to scripts, not secret. */
	if (getrandom(buf, len, GRND_NONBLOCK) != (ssize_t)len) {
		static uint32_t x = 0x9e3779b9;

		for (size_t i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			buf[i] = x;
		}
	}
	return 0;
}

static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
		   void *ud)
{
	struct lh_ws *ws = ud;

	if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
		ws->close_received = 1;
		ws->close_code = arg->status_code;
		return;
	}
	if (arg->opcode != WSLAY_TEXT_FRAME && arg->opcode != WSLAY_BINARY_FRAME)
		return; /* ping/pong: wslay answers pings itself */
	if (ws->q_head == ws->q_nr)
		ws->q_head = ws->q_nr = 0;
	ALLOC_GROW(ws->queue, ws->q_nr + 1, ws->q_alloc);
	strbuf_init(&ws->queue[ws->q_nr], arg->msg_length + 1);
	strbuf_add(&ws->queue[ws->q_nr], arg->msg, arg->msg_length);
	ws->q_nr++;
}

int lh_ws_parse_url(const char *url, struct strbuf *host, int *port, struct strbuf *path)
{
	const char *p, *hend, *slash;
	long v = 80;

	strbuf_reset(host);
	strbuf_reset(path);
	if (strncmp(url, "ws://", 5))
		return lh_error("cannot use '%s': not a ws:// URL (wss:// is not supported; the "
				"inspector speaks plain ws on loopback)", url);
	p = url + 5;
	slash = strchr(p, '/');
	if (!slash)
		slash = p + strlen(p);
	if (*p == '[') {
		hend = memchr(p, ']', slash - p);
		if (!hend)
			return lh_error("cannot use '%s': unclosed '[' in the host", url);
		strbuf_add(host, p + 1, hend - p - 1);
		hend++;
	} else {
		hend = memchr(p, ':', slash - p);
		if (!hend)
			hend = slash;
		strbuf_add(host, p, hend - p);
	}
	if (!host->len)
		return lh_error("cannot use '%s': no host", url);
	if (hend < slash) {
		char *end;

		if (*hend != ':')
			return lh_error("cannot use '%s': junk after the host", url);
		v = strtol(hend + 1, &end, 10);
		if (end != slash || v <= 0 || v > 65535)
			return lh_error("cannot use '%s': bad port", url);
	}
	*port = (int)v;
	strbuf_addstr(path, *slash ? slash : "/");
	return 0;
}

/* base64(SHA-1(key + GUID)), the answer RFC 6455 section 4.2.2 expects. */
static void expected_accept(const char *key, char out[64])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char cat[128];
	int n = snprintf(cat, sizeof(cat), "%s%s", key, guid);

	EVP_Digest(cat, n, md, &mdlen, EVP_sha1(), NULL);
	EVP_EncodeBlock((unsigned char *)out, md, mdlen);
}

void lh_ws_attach(struct lh_ws *ws)
{
	static const struct wslay_event_callbacks cbs = {
		.recv_callback = recv_cb,
		.send_callback = send_cb,
		.genmask_callback = genmask_cb,
		.on_msg_recv_callback = msg_cb,
	};

	if (!ws->what)
		ws->what = lh_xstrdup("the inspector");
	if (!ws->in.buf)
		strbuf_init(&ws->in, 0);
	if (wslay_event_context_client_init(&ws->ctx, &cbs, ws))
		LH_BUG("wslay_event_context_client_init failed");
	wslay_event_config_set_max_recv_msg_length(ws->ctx, LH_WS_MAX_MSG);
}

int lh_ws_connect(struct lh_ws *ws, const char *host, int port, const char *path,
		  int64_t deadline)
{
	struct strbuf req = STRBUF_INIT, head = STRBUF_INIT, val = STRBUF_INIT, w = STRBUF_INIT;
	unsigned char raw[16];
	char key[32], accept[64];
	int v6 = strchr(host, ':') != NULL, status;

	memset(ws, 0, sizeof(*ws));
	ws->fd = -1;
	strbuf_init(&ws->in, 0);
	strbuf_addf(&w, "'ws://%s%s%s:%d%s'", v6 ? "[" : "", host, v6 ? "]" : "", port, path);
	ws->what = strbuf_detach(&w, NULL);

	ws->fd = lh_net_connect(host, port, deadline);
	if (ws->fd < 0)
		goto out_fail;
	genmask_cb(NULL, raw, sizeof(raw), NULL);
	EVP_EncodeBlock((unsigned char *)key, raw, sizeof(raw));
	strbuf_addf(&req, "GET %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nUpgrade: websocket\r\n"
		    "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		    path, v6 ? "[" : "", host, v6 ? "]" : "", port, key);
	if (lh_net_write_all(ws->fd, req.buf, req.len, deadline, ws->what) < 0)
		goto out_fail;
	if (lh_http_read_head(ws->fd, deadline, ws->what, &head, &ws->in) < 0)
		goto out_fail;
	status = lh_http_status(head.buf);
	if (status != 101) {
		const char *eol = strstr(head.buf, "\r\n");

		lh_error("cannot open %s: the upgrade was answered '%.*s'; the URL may be stale "
			 "(a reopened inspector gets a new id): use the PID or --port instead",
			 ws->what, eol ? (int)(eol - head.buf) : 40, head.buf);
		goto out_fail;
	}
	expected_accept(key, accept);
	if (!lh_http_header(head.buf, "Sec-WebSocket-Accept", &val) || strcmp(val.buf, accept)) {
		lh_error("cannot open %s: wrong Sec-WebSocket-Accept in the answer; is it a "
			 "WebSocket server?", ws->what);
		goto out_fail;
	}
	lh_ws_attach(ws);
	strbuf_release(&req);
	strbuf_release(&head);
	strbuf_release(&val);
	return 0;

out_fail:
	strbuf_release(&req);
	strbuf_release(&head);
	strbuf_release(&val);
	lh_ws_close(ws);
	return -1;
}

/* Push out whatever wslay has queued (our messages, pongs, close). */
static int flush(struct lh_ws *ws, int64_t deadline)
{
	while (wslay_event_want_write(ws->ctx)) {
		int r;

		if (wslay_event_send(ws->ctx) < 0) {
			if (ws->io_errno)
				return lh_error("cannot send to %s: %s; did the target exit?", ws->what,
						strerror(ws->io_errno));
			return lh_error("cannot send to %s: out of memory in wslay", ws->what);
		}
		if (!wslay_event_want_write(ws->ctx))
			break;
		r = lh_net_wait(ws->fd, POLLOUT, deadline);
		if (r < 0)
			return -1;
		if (r == 0)
			return lh_error("%s stopped reading (timed out); is the target stopped?", ws->what);
	}
	return 0;
}

int lh_ws_send_text(struct lh_ws *ws, const char *data, size_t len, int64_t deadline)
{
	struct wslay_event_msg m = { WSLAY_TEXT_FRAME, (const uint8_t *)data, len };

	if (ws->fd < 0 || !ws->ctx)
		return lh_error("cannot send to %s: not connected", ws->what ? ws->what : "the inspector");
	if (wslay_event_queue_msg(ws->ctx, &m))
		return lh_error("cannot send to %s: the connection is closing", ws->what);
	return flush(ws, deadline);
}

/* Let wslay parse what is buffered: 0, or -1 with a message when the stream is bad. */
static int parse(struct lh_ws *ws)
{
	int r = wslay_event_recv(ws->ctx);

	if (ws->in_off == ws->in.len) {
		strbuf_reset(&ws->in);
		ws->in_off = 0;
	}
	if (!wslay_event_get_read_enabled(ws->ctx) && !ws->close_received) {
		/*
		 * A bad frame (wslay may also fail the call for it).  wslay parses
		 * ahead in its own buffer: deliver the messages before it first.
		 */
		if (ws->q_head < ws->q_nr)
			return 0;
		return lh_error("%s sent a malformed WebSocket frame (or a message over %u bytes); "
				"is that an inspector?", ws->what, LH_WS_MAX_MSG);
	}
	if (r < 0)
		return lh_error("cannot read from %s: out of memory in wslay", ws->what);
	return 0;
}

int lh_ws_feed(struct lh_ws *ws, const void *data, size_t len)
{
	strbuf_add(&ws->in, data, len);
	return parse(ws);
}

int lh_ws_take(struct lh_ws *ws, struct strbuf *msg)
{
	if (ws->q_head == ws->q_nr)
		return 0;
	strbuf_release(msg);
	*msg = ws->queue[ws->q_head++];
	return 1;
}

/*
 * Read what the socket has into ws->in (only once wslay has taken all of
 * it): 1 got bytes or the end of the stream (ws->eof), 0 nothing there yet,
 * -1 on a socket error (with a message).
 */
static int fill(struct lh_ws *ws)
{
	ssize_t n;

	strbuf_grow(&ws->in, READ_SIZE);
	do
		n = recv(ws->fd, ws->in.buf + ws->in.len, READ_SIZE, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		strbuf_setlen(&ws->in, ws->in.len + n);
		return 1;
	}
	if (n == 0) {
		ws->eof = 1;
		return 1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	ws->io_errno = errno;
	return lh_error("cannot read from %s: %s; did the target exit?", ws->what,
			strerror(errno));
}

int lh_ws_recv(struct lh_ws *ws, struct strbuf *msg, int64_t deadline)
{
	for (;;) {
		int r;

		if (lh_ws_take(ws, msg))
			return 1;
		if (ws->close_received) {
			flush(ws, lh_net_deadline(100));
			return 0;
		}
		if (parse(ws) < 0)
			return -1;
		if (flush(ws, deadline) < 0)
			return -1;
		if (ws->q_head < ws->q_nr || ws->close_received)
			continue;
		/* wslay took every buffered byte: deliver what came before the end first */
		if (ws->eof)
			return lh_error("%s closed the connection; did the target exit?", ws->what);
		r = fill(ws);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		r = lh_net_wait(ws->fd, POLLIN, deadline);
		if (r < 0)
			return -1;
		if (r == 0 && ws->quiet_timeout)
			return -2;
		if (r == 0)
			return lh_error("%s stopped answering (timed out); is the target stopped, or "
					"busy in native code? try a longer --timeout", ws->what);
	}
}

int lh_ws_await_close(struct lh_ws *ws, int64_t deadline)
{
	struct strbuf msg = STRBUF_INIT, quiet = STRBUF_INIT;
	int r, ret = 1, quiet_was = ws->quiet_timeout;

	if (ws->fd < 0 || !ws->ctx)
		return -1;
	ws->quiet_timeout = 1;
	lh_error_capture(&quiet);
	while ((r = lh_ws_recv(ws, &msg, deadline)) == 1)
		; /* late events and answers: nobody is waiting for them any more */
	if (r == -2)
		ret = 0;
	else if (r < 0 && !ws->eof)
		ret = -1;
	/* lh_ws_recv() flushed our answer; the peer hangs up once it reads it */
	while (ret == 1 && !ws->eof) {
		char buf[512];
		ssize_t n;

		if (lh_net_wait(ws->fd, POLLIN, deadline) <= 0)
			break;
		n = recv(ws->fd, buf, sizeof(buf), 0);
		if (n == 0)
			ws->eof = 1;
		else if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			break;
	}
	lh_error_capture(NULL);
	ws->quiet_timeout = quiet_was;
	strbuf_release(&msg);
	strbuf_release(&quiet);
	return ret;
}

void lh_ws_close(struct lh_ws *ws)
{
	if (ws->ctx && ws->fd >= 0 && !ws->eof && !wslay_event_get_close_sent(ws->ctx)) {
		/* Best effort and short: a connected client keeps node from exiting. */
		if (!wslay_event_queue_close(ws->ctx, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0))
			flush(ws, lh_net_deadline(200));
	}
	if (ws->ctx)
		wslay_event_context_free(ws->ctx);
	ws->ctx = NULL;
	if (ws->fd >= 0)
		close(ws->fd);
	ws->fd = -1;
	for (size_t i = ws->q_head; i < ws->q_nr; i++)
		strbuf_release(&ws->queue[i]);
	FREE_AND_NULL(ws->queue);
	ws->q_head = ws->q_nr = ws->q_alloc = 0;
	strbuf_release(&ws->in);
	ws->in_off = 0;
	FREE_AND_NULL(ws->what);
}
