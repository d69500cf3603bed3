/*
 * CDP requests and responses (see cdp.h).  The id counter is the only state
 * besides the socket; responses to ids we are not waiting for (a request
 * sent with lh_cdp_send) are dropped.
 */
#include <cjson/cJSON.h>
#include <string.h>

#include "base/error.h"
#include "inspect/cdp.h"
#include "inspect/net.h"

int lh_cdp_open(struct lh_cdp *c, const char *host, int port, const char *path, int timeout_ms)
{
	c->next_id = 1;
	c->timeout_ms = timeout_ms;
	return lh_ws_connect(&c->ws, host, port, path, lh_net_deadline(timeout_ms));
}

void lh_cdp_close(struct lh_cdp *c)
{
	lh_ws_close(&c->ws);
}

static int send_request(struct lh_cdp *c, const char *method, const char *params)
{
	struct strbuf req = STRBUF_INIT;
	int id = c->next_id++, r;

	/* method names are ours, plain identifiers: no escaping needed */
	strbuf_addf(&req, "{\"id\":%d,\"method\":\"%s\"", id, method);
	if (params)
		strbuf_addf(&req, ",\"params\":%s", params);
	strbuf_addch(&req, '}');
	lh_debug("cdp -> %s", req.buf);
	r = lh_ws_send_text(&c->ws, req.buf, req.len, lh_net_deadline(c->timeout_ms));
	strbuf_release(&req);
	return r < 0 ? -1 : id;
}

int lh_cdp_send(struct lh_cdp *c, const char *method, const char *params)
{
	return send_request(c, method, params) < 0 ? -1 : 0;
}

/* The method name of an event, when the message starts {"method":"NAME" (node's order). */
static void event_method(const char *msg, size_t len, char *out, size_t outsz)
{
	static const char pre[] = "{\"method\":\"";
	const char *q;

	out[0] = '\0';
	if (len < sizeof(pre) || memcmp(msg, pre, sizeof(pre) - 1))
		return;
	q = memchr(msg + sizeof(pre) - 1, '"', len - (sizeof(pre) - 1));
	if (q && (size_t)(q - msg) - (sizeof(pre) - 1) < outsz) {
		memcpy(out, msg + sizeof(pre) - 1, q - msg - (sizeof(pre) - 1));
		out[q - msg - (sizeof(pre) - 1)] = '\0';
	}
}

/*
 * The next message, as lh_ws_recv() before *silent_until; each message, and
 * with c->busy set each sign of work from busy(), moves *silent_until
 * timeout_ms ahead (silence is then waited out in short steps).
 */
static int recv_or_busy(struct lh_cdp *c, struct strbuf *msg, int64_t *silent_until)
{
	int r, quiet_was = c->ws.quiet_timeout;

	if (!c->busy) {
		r = lh_ws_recv(&c->ws, msg, *silent_until);
		*silent_until = lh_net_deadline(c->timeout_ms); /* a message ends the silence */
		return r;
	}
	c->ws.quiet_timeout = 1;
	for (;;) {
		int64_t step = lh_net_deadline(250);

		r = lh_ws_recv(&c->ws, msg, step < *silent_until ? step : *silent_until);
		if (r != -2) {
			*silent_until = lh_net_deadline(c->timeout_ms);
			break;
		}
		r = c->busy(c->busy_ud);
		if (r < 0)
			break;
		if (r > 0)
			*silent_until = lh_net_deadline(c->timeout_ms);
		else if (lh_net_now() >= *silent_until) {
			r = lh_error("%s stopped answering (timed out); is the target stopped, or "
				     "busy in native code? try a longer --timeout", c->ws.what);
			break;
		}
	}
	c->ws.quiet_timeout = quiet_was;
	return r;
}

int lh_cdp_call(struct lh_cdp *c, const char *method, const char *params, cJSON **result,
		lh_cdp_event_fn on_event, void *ud)
{
	struct strbuf msg = STRBUF_INIT;
	int64_t silent_until;
	int id, ret = -1;

	if (result)
		*result = NULL;
	id = send_request(c, method, params);
	if (id < 0)
		return -1;
	silent_until = lh_net_deadline(c->timeout_ms);
	for (;;) {
		char name[128];
		cJSON *j, *jid;
		int r = recv_or_busy(c, &msg, &silent_until);

		if (r < 0)
			goto out;
		if (r == 0) {
			lh_error("%s closed the session during %s; did the target exit?", c->ws.what, method);
			goto out;
		}
		event_method(msg.buf, msg.len, name, sizeof(name));
		if (name[0]) {
			if (lh_verbosity >= 2 && strcmp(name, "HeapProfiler.addHeapSnapshotChunk"))
				lh_debug("cdp <- %.*s", (int)(msg.len > 300 ? 300 : msg.len), msg.buf);
			if (on_event && on_event(ud, name, msg.buf, msg.len) < 0)
				goto out;
			continue;
		}
		lh_debug("cdp <- %.*s", (int)(msg.len > 300 ? 300 : msg.len), msg.buf);
		j = cJSON_ParseWithLength(msg.buf, msg.len);
		if (!j || !cJSON_IsObject(j)) {
			cJSON_Delete(j);
			lh_error("%s sent a message that is not a JSON object during %s: '%.60s'; is "
				 "that an inspector?", c->ws.what, method, msg.buf);
			goto out;
		}
		jid = cJSON_GetObjectItemCaseSensitive(j, "id");
		if (!cJSON_IsNumber(jid)) {
			/* an event not in node's key order */
			if (on_event && on_event(ud, "", msg.buf, msg.len) < 0) {
				cJSON_Delete(j);
				goto out;
			}
		} else if (jid->valueint == id) {
			cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");

			if (err) {
				cJSON *m = cJSON_GetObjectItemCaseSensitive(err, "message");

				lh_error("%s failed in the target: %s", method,
					 cJSON_IsString(m) ? m->valuestring : "(no message)");
				cJSON_Delete(j);
				goto out;
			}
			if (result)
				*result = cJSON_DetachItemFromObjectCaseSensitive(j, "result");
			cJSON_Delete(j);
			ret = 0;
			goto out;
		}
		cJSON_Delete(j);
	}
out:
	strbuf_release(&msg);
	return ret;
}

int lh_cdp_evaluate(struct lh_cdp *c, const char *expr, unsigned flags, cJSON **value)
{
	cJSON *params = cJSON_CreateObject(), *res = NULL, *exc, *r;
	char *text;
	int ret;

	*value = NULL;
	cJSON_AddStringToObject(params, "expression", expr);
	cJSON_AddBoolToObject(params, "returnByValue", 1);
	if (flags & LH_CDP_EVAL_COMMAND_LINE_API)
		cJSON_AddBoolToObject(params, "includeCommandLineAPI", 1);
	text = cJSON_PrintUnformatted(params);
	cJSON_Delete(params);
	ret = lh_cdp_call(c, "Runtime.evaluate", text, &res, NULL, NULL);
	cJSON_free(text);
	if (ret < 0)
		return -1;
	exc = cJSON_GetObjectItemCaseSensitive(res, "exceptionDetails");
	if (exc) {
		cJSON *t = cJSON_GetObjectItemCaseSensitive(exc, "text");
		cJSON *e = cJSON_GetObjectItemCaseSensitive(exc, "exception");
		cJSON *d = e ? cJSON_GetObjectItemCaseSensitive(e, "description") : NULL;

		lh_error("evaluating '%s' in the target threw: %s", expr,
			 cJSON_IsString(d) ? d->valuestring : cJSON_IsString(t) ? t->valuestring : "?");
		cJSON_Delete(res);
		return -2;
	}
	r = cJSON_GetObjectItemCaseSensitive(res, "result");
	if (!r) {
		cJSON_Delete(res);
		return lh_error("evaluating '%s': the answer has no result", expr);
	}
	*value = cJSON_DetachItemFromObjectCaseSensitive(r, "value");
	if (!*value)
		*value = cJSON_CreateNull(); /* undefined */
	cJSON_Delete(res);
	return 0;
}

int lh_cdp_wait(struct lh_cdp *c, int64_t deadline, lh_cdp_event_fn on_event, void *ud)
{
	struct strbuf msg = STRBUF_INIT;
	int ret;

	c->ws.quiet_timeout = 1;
	for (;;) {
		char name[128];
		int r = lh_ws_recv(&c->ws, &msg, deadline);

		if (r == -2 || r == 0 || r < 0) {
			ret = r == -2 ? 0 : r == 0 ? 1 : -1;
			break;
		}
		event_method(msg.buf, msg.len, name, sizeof(name));
		lh_debug("cdp <- %.*s", (int)(msg.len > 300 ? 300 : msg.len), msg.buf);
		if (on_event && on_event(ud, name, msg.buf, msg.len) < 0) {
			ret = -1;
			break;
		}
	}
	c->ws.quiet_timeout = 0;
	strbuf_release(&msg);
	return ret;
}
