/*
 * Unit tests for src/inspect/: the incremental JSON string decoder that
 * writes snapshot chunks (split at every byte), URL and HTTP head parsing,
 * the WebSocket client against hand-made server frames on a socketpair
 * (fragmentation, 16- and 64-bit lengths, ping/pong, close, bad frames),
 * and which targets may write their own snapshot.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "inspect/capture.h"
#include "inspect/cdp.h"
#include "inspect/http.h"
#include "inspect/jstr.h"
#include "inspect/net.h"
#include "inspect/ws.h"
#include "test.h"

/* Decode in (the inside of a string, with its closing quote) cut at the given points. */
static int decode_split(const char *in, size_t len, const size_t *cuts, int ncuts,
			struct strbuf *out)
{
	struct lh_jstr d;
	size_t at = 0;

	lh_jstr_init(&d);
	strbuf_reset(out);
	for (int i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		ssize_t n = lh_jstr_feed(&d, in + at, end - at, out);

		if (n < 0)
			return -1;
		at += n;
		if (d.done)
			break;
	}
	return lh_jstr_finish(&d, out);
}

TEST(inspect_jstr_every_split)
{
	static const char in[] = "a\\\"b\\\\c\\/\\n,\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\\ud800x\\uDBFF\\n\"}}";
	static const char want[] = "a\"b\\c/\n,\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\xa0\x80x\xed\xaf\xbf\n";
	struct strbuf out = STRBUF_INIT;
	size_t len = sizeof(in) - 1;

	/* the lone \uDBFF before \n is a high surrogate followed by an ordinary escape */
	CHECK_EQ(decode_split(in, len, NULL, 0, &out), 0);
	CHECK_EQ(out.len, sizeof(want) - 1);
	CHECK(!memcmp(out.buf, want, sizeof(want) - 1));
	for (size_t i = 0; i <= len; i++) {
		for (size_t j = i; j <= len; j += 3) {
			size_t cuts[2] = { i, j };

			if (decode_split(in, len, cuts, 2, &out) || out.len != sizeof(want) - 1 ||
			    memcmp(out.buf, want, out.len)) {
				CHECK(!"decoding differs when split");
				strbuf_release(&out);
				return;
			}
		}
	}
	strbuf_release(&out);
}

TEST(inspect_jstr_stops_at_quote_and_rejects_junk)
{
	struct strbuf out = STRBUF_INIT;
	struct lh_jstr d;

	lh_jstr_init(&d);
	CHECK_EQ(lh_jstr_feed(&d, "ab\"cd", 5, &out), 3);
	CHECK(d.done);
	CHECK_STR(out.buf, "ab");
	CHECK_EQ(lh_jstr_feed(&d, "cd", 2, &out), 0);

	lh_jstr_init(&d);
	CHECK_EQ(lh_jstr_feed(&d, "a\\x", 3, &out), -1);
	CHECK(d.error != NULL);
	lh_jstr_init(&d);
	CHECK_EQ(lh_jstr_feed(&d, "\\u12g4", 6, &out), -1);
	lh_jstr_init(&d);
	CHECK_EQ(lh_jstr_feed(&d, "a\nb", 3, &out), -1);
	lh_jstr_init(&d);
	CHECK_EQ(lh_jstr_feed(&d, "abc\\u00", 7, &out), 7);
	CHECK_EQ(lh_jstr_finish(&d, &out), -1);
	strbuf_release(&out);
}

TEST(inspect_ws_parse_url)
{
	struct strbuf host = STRBUF_INIT, path = STRBUF_INIT, err = STRBUF_INIT;
	int port = 0;

	CHECK_EQ(lh_ws_parse_url("ws://127.0.0.1:9229/abc-def", &host, &port, &path), 0);
	CHECK_STR(host.buf, "127.0.0.1");
	CHECK_EQ(port, 9229);
	CHECK_STR(path.buf, "/abc-def");
	CHECK_EQ(lh_ws_parse_url("ws://[::1]:1234", &host, &port, &path), 0);
	CHECK_STR(host.buf, "::1");
	CHECK_EQ(port, 1234);
	CHECK_STR(path.buf, "/");
	lh_error_capture(&err);
	CHECK_EQ(lh_ws_parse_url("wss://x:1/", &host, &port, &path), -1);
	CHECK_EQ(lh_ws_parse_url("ws://x:99999/", &host, &port, &path), -1);
	CHECK_EQ(lh_ws_parse_url("ws://:1/", &host, &port, &path), -1);
	lh_error_capture(NULL);
	CHECK(strstr(err.buf, "not a ws:// URL") != NULL);
	CHECK(lh_net_is_loopback("127.0.0.1") && lh_net_is_loopback("127.1.2.3"));
	CHECK(lh_net_is_loopback("::1") && lh_net_is_loopback("localhost"));
	CHECK(!lh_net_is_loopback("10.0.0.1") && !lh_net_is_loopback("example.com"));
	strbuf_release(&host);
	strbuf_release(&path);
	strbuf_release(&err);
}

TEST(inspect_http_head)
{
	const char *head = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
			   "content-length:  654 \r\n\r\n";
	struct strbuf v = STRBUF_INIT;

	CHECK_EQ(lh_http_status(head), 200);
	CHECK_EQ(lh_http_status("HTTP/1.1 101 Switching\r\n\r\n"), 101);
	CHECK_EQ(lh_http_status("SSH-2.0-OpenSSH\r\n\r\n"), -1);
	CHECK_EQ(lh_http_header(head, "Content-Length", &v), 1);
	CHECK_STR(v.buf, "654");
	CHECK_EQ(lh_http_header(head, "Upgrade", &v), 0);
	strbuf_release(&v);
}

/* A server frame: FIN/opcode byte, unmasked payload with the right length form. */
static void frame(struct strbuf *sb, int fin, int opcode, const char *p, size_t n)
{
	strbuf_addch(sb, (fin ? 0x80 : 0) | opcode);
	if (n < 126) {
		strbuf_addch(sb, n);
	} else if (n < 65536) {
		strbuf_addch(sb, 126);
		strbuf_addch(sb, n >> 8);
		strbuf_addch(sb, n & 255);
	} else {
		strbuf_addch(sb, 127);
		for (int i = 7; i >= 0; i--)
			strbuf_addch(sb, (n >> (8 * i)) & 255);
	}
	strbuf_add(sb, p, n);
}

static void ws_pair(struct lh_ws *ws, int *peer)
{
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	memset(ws, 0, sizeof(*ws));
	ws->fd = sv[0];
	lh_ws_attach(ws);
	*peer = sv[1];
}

TEST(inspect_ws_frames)
{
	struct strbuf in = STRBUF_INIT, msg = STRBUF_INIT, big = STRBUF_INIT;
	struct lh_ws ws;
	unsigned char got[64];
	int peer;

	ws_pair(&ws, &peer);
	strbuf_addchars(&big, 'x', 136602); /* the biggest frame seen from node */
	frame(&in, 0, 1, "{\"id\":", 6);     /* fragmented text message */
	frame(&in, 1, 9, "hi", 2);          /* a ping in the middle */
	frame(&in, 1, 0, "1}", 2);
	frame(&in, 1, 1, big.buf, 300);     /* 16-bit length */
	frame(&in, 1, 1, big.buf, big.len); /* 64-bit length */
	if (fork() == 0) {
		/* a child writes, so a full socket buffer cannot stall the test */
		size_t off = 0;

		while (off < in.len) {
			ssize_t n = write(peer, in.buf + off, in.len - off);

			if (n <= 0)
				_exit(1);
			off += n;
		}
		_exit(0);
	}
	CHECK_EQ(lh_ws_recv(&ws, &msg, lh_net_deadline(5000)), 1);
	CHECK_STR(msg.buf, "{\"id\":1}");
	CHECK_EQ(lh_ws_recv(&ws, &msg, lh_net_deadline(5000)), 1);
	CHECK_EQ(msg.len, 300);
	CHECK_EQ(lh_ws_recv(&ws, &msg, lh_net_deadline(5000)), 1);
	CHECK_EQ(msg.len, big.len);
	/* the pong: FIN|10, masked, length 2 */
	CHECK_EQ(read(peer, got, 8), 8);
	CHECK_EQ(got[0], 0x8a);
	CHECK_EQ(got[1], 0x82);
	CHECK_EQ(got[6] ^ got[2], 'h');
	CHECK_EQ(got[7] ^ got[3], 'i');
	/* a clean close, then nothing more */
	strbuf_reset(&in);
	frame(&in, 1, 8, "\x03\xe8", 2);
	CHECK_EQ(write(peer, in.buf, in.len), (ssize_t)in.len);
	CHECK_EQ(lh_ws_recv(&ws, &msg, lh_net_deadline(5000)), 0);
	CHECK_EQ(ws.close_code, 1000);
	lh_ws_close(&ws);
	close(peer);
	strbuf_release(&in);
	strbuf_release(&msg);
	strbuf_release(&big);
}

TEST(inspect_ws_errors)
{
	struct strbuf in = STRBUF_INIT, msg = STRBUF_INIT, err = STRBUF_INIT;
	struct lh_ws ws;
	int peer;

	/* silence: a timeout, not a hang */
	ws_pair(&ws, &peer);
	lh_error_capture(&err);
	CHECK_EQ(lh_ws_recv(&ws, &msg, lh_net_deadline(50)), -1);
	CHECK(strstr(err.buf, "stopped answering") != NULL);
	/* a masked server frame is a protocol error */
	strbuf_addch(&in, 0x81);
	strbuf_addch(&in, 0x81);
	strbuf_add(&in, "abcdx", 5);
	CHECK_EQ(write(peer, in.buf, in.len), (ssize_t)in.len);
	CHECK_EQ(lh_ws_recv(&ws, &msg, lh_net_deadline(2000)), -1);
	CHECK(strstr(err.buf, "malformed WebSocket frame") != NULL);
	lh_ws_close(&ws);
	close(peer);
	/* the peer goes away */
	ws_pair(&ws, &peer);
	close(peer);
	CHECK_EQ(lh_ws_recv(&ws, &msg, lh_net_deadline(2000)), -1);
	CHECK(strstr(err.buf, "closed the connection") != NULL);
	lh_error_capture(NULL);
	lh_ws_close(&ws);
	strbuf_release(&in);
	strbuf_release(&msg);
	strbuf_release(&err);
}

/*
 * The parser without a socket (lh_ws_feed): a frame cut anywhere comes out
 * whole, and a message that arrived in the same read as a malformed frame
 * is still delivered before the error (wslay parses ahead in its buffer).
 */
TEST(inspect_ws_feed)
{
	struct strbuf in = STRBUF_INIT, msg = STRBUF_INIT, err = STRBUF_INIT;
	struct lh_ws ws;

	memset(&ws, 0, sizeof(ws));
	ws.fd = -1;
	lh_ws_attach(&ws);
	frame(&in, 1, 1, "{\"id\":1}", 8);
	for (size_t i = 0; i < in.len; i++)
		CHECK_EQ(lh_ws_feed(&ws, in.buf + i, 1), 0);
	CHECK_EQ(lh_ws_take(&ws, &msg), 1);
	CHECK_STR(msg.buf, "{\"id\":1}");
	CHECK_EQ(lh_ws_take(&ws, &msg), 0);
	strbuf_reset(&in);
	frame(&in, 1, 1, "{\"id\":2}", 8);
	strbuf_add(&in, "\x81\x81" "abcdx", 7); /* masked: not from a server */
	lh_error_capture(&err);
	CHECK_EQ(lh_ws_feed(&ws, in.buf, in.len), 0);
	CHECK_EQ(lh_ws_take(&ws, &msg), 1);
	CHECK_STR(msg.buf, "{\"id\":2}");
	CHECK_EQ(lh_ws_feed(&ws, NULL, 0), -1);
	CHECK(strstr(err.buf, "malformed WebSocket frame") != NULL);
	lh_error_capture(NULL);
	lh_ws_close(&ws);
	strbuf_release(&in);
	strbuf_release(&msg);
	strbuf_release(&err);
}

/*
 * lh_ws_await_close: late messages are dropped, node's close frame (empty,
 * as node sends it) is answered with a masked close of our own, and the
 * end of the stream ends the wait.  No close frame of ours may go out
 * before node's: that is the race that crashes node (session.c).
 */
TEST(inspect_ws_await_close)
{
	struct strbuf in = STRBUF_INIT;
	struct lh_ws ws;
	unsigned char got[16];
	int peer;

	ws_pair(&ws, &peer);
	frame(&in, 1, 1, "{\"id\":7,\"result\":{}}", 20);
	frame(&in, 1, 8, "", 0);
	CHECK_EQ(write(peer, in.buf, in.len), (ssize_t)in.len);
	shutdown(peer, SHUT_WR); /* node hangs up once it has our answer */
	CHECK_EQ(lh_ws_await_close(&ws, lh_net_deadline(5000)), 1);
	/* our answer: FIN|close, masked, no payload */
	CHECK_EQ(read(peer, got, sizeof(got)), 6);
	CHECK_EQ(got[0], 0x88);
	CHECK_EQ(got[1], 0x80);
	lh_ws_close(&ws); /* sends nothing more */
	CHECK_EQ(read(peer, got, sizeof(got)), 0);
	close(peer);

	/* a peer that never closes: 0 at the deadline, and nothing sent */
	ws_pair(&ws, &peer);
	fcntl(peer, F_SETFL, O_NONBLOCK);
	CHECK_EQ(lh_ws_await_close(&ws, lh_net_deadline(50)), 0);
	CHECK_EQ(read(peer, got, sizeof(got)), -1);
	lh_ws_close(&ws);
	close(peer);
	strbuf_release(&in);
}

/*
 * --timeout bounds silence, not the length of a call: a call answered after
 * 2.5 s of events 100 ms apart succeeds with a 1 s timeout (a capture of a
 * 1 GB snapshot takes minutes of chunks).  The margin is 10x: only a
 * scheduler stall of most of a second could fail it.
 */
TEST(inspect_cdp_timeout_is_silence)
{
	struct strbuf ev = STRBUF_INIT;
	struct lh_cdp c;
	pid_t child;
	int peer;

	memset(&c, 0, sizeof(c));
	ws_pair(&c.ws, &peer);
	c.next_id = 1;
	c.timeout_ms = 1000;
	frame(&ev, 1, 1, "{\"method\":\"HeapProfiler.reportHeapSnapshotProgress\",\"params\":{}}", 64);
	child = fork();
	if (child == 0) {
		struct strbuf ans = STRBUF_INIT;
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		for (int i = 0; i < 25; i++) {
			if (write(peer, ev.buf, ev.len) != (ssize_t)ev.len)
				_exit(1);
			nanosleep(&ts, NULL);
		}
		frame(&ans, 1, 1, "{\"id\":1,\"result\":{}}", 20);
		_exit(write(peer, ans.buf, ans.len) == (ssize_t)ans.len ? 0 : 1);
	}
	CHECK_EQ(lh_cdp_call(&c, "HeapProfiler.takeHeapSnapshot", NULL, NULL, NULL, NULL), 0);
	waitpid(child, NULL, 0);
	lh_ws_close(&c.ws);
	close(peer);
	strbuf_release(&ev);
}

/*
 * Which processes --method auto lets write their own snapshot: ourselves
 * (same root, same mount namespace, our uid) yes; a child that moved to a
 * mount namespace of its own no (our path could name another file there),
 * and one that is gone no; each "no" says why.  The namespace case needs
 * root (unshare CLONE_NEWNS) and is skipped without it.
 */
TEST(inspect_capture_local)
{
	struct strbuf why = STRBUF_INIT;
	int go[2], ready[2];
	pid_t child;
	char c = 0;

	CHECK_EQ(lh_capture_local(getpid(), &why), 1);
	CHECK_EQ(why.len, 0);
	CHECK_EQ(lh_capture_local(0x7ffffff0, &why), 0);
	CHECK(strstr(why.buf, "cannot see its root directory") != NULL);
	strbuf_reset(&why);

	if (geteuid() != 0)
		goto out;
	CHECK_EQ(pipe(go), 0);
	CHECK_EQ(pipe(ready), 0);
	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		c = unshare(CLONE_NEWNS) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	CHECK_EQ(read(ready[0], &c, 1), 1);
	if (c == 'y') {
		CHECK_EQ(lh_capture_local(child, &why), 0);
		CHECK(strstr(why.buf, "another mount namespace") != NULL);
	}
	CHECK_EQ(write(go[1], &c, 1), 1);
	waitpid(child, NULL, 0);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
out:
	strbuf_release(&why);
}
