/*
 * Inspector sessions (see session.h).
 *
 * The pid check matters: after SIGUSR1, port 9229 may already belong to
 * another node process, and /json/list names no pid, so we ask the other
 * end for process.pid before doing anything.
 *
 * Closing an inspector we opened, and why the order matters (node 20.20.2,
 * src/inspector_socket.cc): when a session ends from both sides at once --
 * our close frame arrives while the target's inspector.close() (or
 * process._debugEnd(), or a synchronous close from inside
 * Runtime.evaluate) shuts the session down -- node's WsHandler writes two
 * close frames; the first write's callback deletes the handler and the
 * second one's then calls into freed memory: SIGSEGV in
 * WsHandler::OnCloseFrameWritten on the inspector thread.  A stdlib Python
 * client doing the same crashed node too (docs/watch.md has the numbers).
 * So exactly one side closes.  When we opened the inspector, the target
 * does: we schedule inspector.close() on its event loop (setImmediate, so
 * the call that schedules it is answered first), send no close frame, and
 * wait for node's; wslay answers it and we hang up after node does.
 * Otherwise we close and node only answers.  A target spinning in
 * synchronous code never runs the setImmediate: after a short wait we
 * postpone its close by a second (close_expr), close from our side and say
 * the port stays open until it yields.
 *
 * An inspector we opened may have other clients by the time we are done:
 * another leakhunt sampling or watching, DevTools.  Closing it ends their
 * sessions (a leakhunt sample lost its profile so), so we leave it open
 * and a mark in the target (HANDOFF); the last leakhunt to leave sees the
 * mark and closes the inspector as if it had opened it.  The protocol
 * cannot tell us of other sessions (/json/list is the same with or without
 * them), so we count the target's connections to its inspector's port in
 * /proc: that needs a local target, which one we opened is.  Two leakhunts
 * leaving at the same moment may each see the other and both leave the
 * inspector open: they say so.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "inspect/http.h"
#include "inspect/net.h"
#include "inspect/session.h"
#include "inspect/target.h"
#include "inspect/ws.h"

/* The websocket path of the first node target listed at host:port. */
static int ws_path(const char *host, int port, int timeout_ms, struct strbuf *path)
{
	struct strbuf body = STRBUF_INIT, h = STRBUF_INIT;
	cJSON *list, *t;
	int ret = -1, p;

	if (lh_http_get(host, port, "/json/list", timeout_ms, &body) < 0)
		goto out;
	list = cJSON_ParseWithLength(body.buf, body.len);
	if (!cJSON_IsArray(list)) {
		lh_error("'%s:%d/json/list' is not a JSON array; is that port a node inspector?", host, port);
		cJSON_Delete(list);
		goto out;
	}
	cJSON_ArrayForEach(t, list) {
		cJSON *u = cJSON_GetObjectItemCaseSensitive(t, "webSocketDebuggerUrl");

		/* keep our own host and port: only the path (the session id) is taken */
		if (cJSON_IsString(u) && !lh_ws_parse_url(u->valuestring, &h, &p, path)) {
			ret = 0;
			break;
		}
	}
	cJSON_Delete(list);
	if (ret < 0)
		lh_error("the inspector at '%s:%d' lists no target with a webSocketDebuggerUrl; "
			 "is another debugger attached?", host, port);
out:
	strbuf_release(&body);
	strbuf_release(&h);
	return ret;
}

static int verify_pid(struct lh_session *s, pid_t want)
{
	cJSON *v = NULL;
	pid_t got;

	if (lh_cdp_evaluate(&s->cdp, "process.pid", 0, &v) < 0)
		return -1;
	got = cJSON_IsNumber(v) ? (pid_t)v->valuedouble : -1;
	cJSON_Delete(v);
	s->pid = got;
	if (got <= 0)
		return lh_error("the inspector at '%s:%d' did not tell its process id; is it node?",
				s->host.buf, s->port);
	if (want && got != want)
		return lh_error("the inspector at '%s:%d' belongs to pid %d, not pid %d; another "
				"process holds that port: give the right --port or just the pid",
				s->host.buf, s->port, (int)got, (int)want);
	return 0;
}

int lh_session_open(struct lh_session *s, const struct lh_session_opts *o)
{
	struct strbuf path = STRBUF_INIT;
	int r;

	memset(s, 0, sizeof(*s));
	strbuf_init(&s->host, 0);
	if (o->url) {
		if (lh_ws_parse_url(o->url, &s->host, &s->port, &path) < 0)
			goto out_fail;
	} else if (o->port) {
		strbuf_addstr(&s->host, "127.0.0.1");
		s->port = o->port;
	} else {
		if (lh_target_check(o->pid) < 0)
			goto out_fail;
		r = lh_target_find_inspector(o->pid, &s->host, &s->port);
		if (r < 0)
			goto out_fail;
		if (!r) {
			if (lh_target_activate(o->pid, o->timeout_ms < 10000 ? o->timeout_ms : 10000,
					       &s->host, &s->port) < 0)
				goto out_fail;
			s->opened = 1;
		}
	}
	if (!o->allow_remote && !lh_net_is_loopback(s->host.buf)) {
		lh_error("refusing to connect to '%s:%d': not a loopback address, and an inspector "
			 "gives full code execution to whoever reaches it (the traffic is not "
			 "encrypted either); tunnel it (ssh -L) or pass --allow-remote", s->host.buf,
			 s->port);
		goto out_fail;
	}
	if (!o->url && ws_path(s->host.buf, s->port, o->timeout_ms, &path) < 0)
		goto out_fail;
	lh_info("connecting to ws://%s:%d%s", s->host.buf, s->port, path.buf);
	if (lh_cdp_open(&s->cdp, s->host.buf, s->port, path.buf, o->timeout_ms) < 0)
		goto out_fail;
	s->connected = 1;
	if (verify_pid(s, o->url && !lh_net_is_loopback(s->host.buf) ? 0 : o->pid) < 0)
		goto out_fail;
	strbuf_release(&path);
	return 0;

out_fail:
	strbuf_release(&path);
	lh_session_close(s);
	return -1;
}

/*
 * The close we schedule in the target.  It runs when the event loop does,
 * but never before the time in the closeAfter slot: when we give up waiting
 * and close from our side, we first push that time a second ahead, so the
 * target cannot shut the session down while our close handshake is still
 * in flight (the both-sides race above).  A Symbol.for key cannot clash
 * with the application's globals, and is deleted again.
 */
#define CLOSE_AFTER "globalThis[Symbol.for('leakhunt.closeAfter')]"
/* set by a leakhunt that opened the inspector and left it to other clients */
#define HANDOFF "globalThis[Symbol.for('leakhunt.closeInspector')]"
static const char close_expr[] =
	"(r => { " CLOSE_AFTER " = 0; setImmediate(function close() { "
	"const wait = " CLOSE_AFTER " - Date.now(); "
	"if (wait > 0) return setTimeout(close, wait); "
	"delete " CLOSE_AFTER "; delete " HANDOFF "; r('inspector').close(); }); })(require)";
static const char postpone_expr[] = CLOSE_AFTER " = Date.now() + 1000, 0";
static const char handoff_set[] = HANDOFF " = 1, 0";
static const char handoff_get[] = HANDOFF " === 1";

static int evaluate_quietly(struct lh_session *s, const char *expr)
{
	struct strbuf quiet = STRBUF_INIT;
	cJSON *v = NULL;
	int r;

	lh_error_capture(&quiet);
	r = lh_cdp_evaluate(&s->cdp, expr, LH_CDP_EVAL_COMMAND_LINE_API, &v);
	lh_error_capture(NULL);
	cJSON_Delete(v);
	strbuf_release(&quiet);
	return r;
}

/*
 * Ask the target to close its inspector and wait until it has closed our
 * session: 1 it did, 0 it did not in time (busy in synchronous code; the
 * close is then postponed past our own), -1 the call failed (the target
 * is exiting or gone).
 */
static int close_from_target(struct lh_session *s, int wait_ms)
{
	int r = evaluate_quietly(s, close_expr);

	if (s->cdp.ws.close_received || s->cdp.ws.eof)
		r = 0; /* closed before the answer came: still wait for the end */
	if (r < 0)
		return -1;
	r = lh_ws_await_close(&s->cdp.ws, lh_net_deadline(wait_ms));
	if (r == 0) {
		/* evaluate still runs in a busy target: V8 takes it at an interrupt */
		evaluate_quietly(s, postpone_expr);
		if (s->cdp.ws.close_received || s->cdp.ws.eof)
			return lh_ws_await_close(&s->cdp.ws, lh_net_deadline(wait_ms)) == 1;
	}
	return r;
}

/*
 * Before we leave: whether the inspector is ours to close (see the top of
 * the file).  Clears s->opened when other clients use it, sets it when an
 * earlier leakhunt left the closing to the last one and that is us.
 */
static void settle_closing(struct lh_session *s)
{
	struct strbuf quiet = STRBUF_INIT;
	cJSON *v = NULL;
	int clients, handed = 0;

	if (!s->connected || s->pid <= 0 || !lh_net_is_loopback(s->host.buf) ||
	    s->cdp.ws.close_received || s->cdp.ws.eof)
		return;
	lh_error_capture(&quiet);
	clients = lh_target_inspector_clients(s->pid, s->port);
	lh_error_capture(NULL);
	strbuf_release(&quiet);
	/* we do not see even ourselves: not the process whose /proc we read */
	if (clients < 1)
		return;
	if (s->opened && clients > 1) {
		evaluate_quietly(s, handoff_set);
		s->opened = 0;
		lh_warn("the inspector of pid %d stays open on port %d: %d other client%s use%s it; "
			"the last leakhunt to leave closes it", (int)s->pid, s->port, clients - 1,
			clients > 2 ? "s" : "", clients > 2 ? "" : "s");
		return;
	}
	if (s->opened || clients > 1)
		return;
	lh_error_capture(&quiet);
	if (!lh_cdp_evaluate(&s->cdp, handoff_get, 0, &v))
		handed = cJSON_IsTrue(v);
	lh_error_capture(NULL);
	strbuf_release(&quiet);
	cJSON_Delete(v);
	if (handed) {
		lh_info("the leakhunt that opened the inspector of pid %d left it to the last client: "
			"closing it", (int)s->pid);
		s->opened = 1;
	}
}

void lh_session_close(struct lh_session *s)
{
	int closed_by_target = 0;

	settle_closing(s);
	if (s->connected && s->opened)
		closed_by_target = close_from_target(s, s->close_wait_ms > 0 ? s->close_wait_ms : 2000) == 1;
	if (s->connected)
		lh_cdp_close(&s->cdp);
	s->connected = 0;
	if (s->opened && s->pid > 0) {
		/* the target closes its listening socket right after our session, or soon */
		int64_t deadline = lh_net_deadline(closed_by_target ? 2000 : 500);
		struct strbuf h = STRBUF_INIT;
		int port, r = 1;

		while (lh_net_now() < deadline) {
			struct strbuf quiet = STRBUF_INIT;
			struct timespec ts = { 0, 50 * 1000 * 1000 };

			lh_error_capture(&quiet);
			r = lh_target_find_inspector(s->pid, &h, &port);
			lh_error_capture(NULL);
			strbuf_release(&quiet);
			if (r <= 0)
				break;
			nanosleep(&ts, NULL);
		}
		if (r > 0)
			lh_warn("the inspector of pid %d is still open on port %d (the target may be "
				"busy in synchronous code); it closes when node runs its event loop, "
				"or at exit", (int)s->pid, port);
		strbuf_release(&h);
	}
	s->opened = 0;
	strbuf_release(&s->host);
}
