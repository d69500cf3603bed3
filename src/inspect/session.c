/*
 * Inspector sessions (see session.h).
 *
 * The pid check matters: after SIGUSR1, port 9229 may already belong to
 * another node process, and /json/list names no pid, so we ask the other
 * end for process.pid before doing anything.
 *
 * Closing an inspector we opened, measured on node 20.20: closing it
 * synchronously from inside Runtime.evaluate (require('inspector').close()
 * or process._debugEnd()) tears down the session that is serving the call,
 * and crashed targets with SIGSEGV, now and then.  So the close is deferred
 * to the event loop with setImmediate, and we disconnect at once.  A target
 * spinning in synchronous code runs it only when it yields; until then the
 * port stays open, and we say so.
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

void lh_session_close(struct lh_session *s)
{
	if (s->connected && s->opened) {
		/* fire and forget: the answer would only delay our disconnect */
		cJSON *params = cJSON_CreateObject();
		char *text;

		cJSON_AddStringToObject(params, "expression",
					"(r => { setImmediate(() => r('inspector').close()); })(require)");
		cJSON_AddBoolToObject(params, "includeCommandLineAPI", 1);
		text = cJSON_PrintUnformatted(params);
		lh_cdp_send(&s->cdp, "Runtime.evaluate", text);
		cJSON_free(text);
		cJSON_Delete(params);
	}
	if (s->connected)
		lh_cdp_close(&s->cdp);
	s->connected = 0;
	if (s->opened && s->pid > 0) {
		/* give the target a moment, then tell the user if the port is still open */
		int64_t deadline = lh_net_deadline(2000);
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
