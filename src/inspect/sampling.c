/*
 * Sampling heap profiles over CDP (see sampling.h).
 *
 * Between start and stop we only listen: the target keeps running, and
 * events (none are expected with HeapProfiler alone) are dropped.  The
 * wait is cut into slices so that a Ctrl-C ends it promptly and the
 * profile taken so far is still fetched.  A target that exits destroys its
 * context (Runtime events) and then waits for us to disconnect, still
 * answering: we fetch the profile at once rather than hold up its exit.
 *
 * The profile lives in the target, in our session: when another client
 * closes the inspector (or the target dies) it is gone with the session.
 * So while we wait we keep a copy (HeapProfiler.getSamplingProfile), taken
 * a second after the start and then so seldom that fetching it takes at
 * most 1% of the time (a copy that took 20 ms waits 2 s for the next):
 * what the profile held at the last copy survives the session.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "inspect/net.h"
#include "inspect/sampling.h"

/* The target's context going away means node is exiting (and waits for us to go). */
static int on_event(void *ud, const char *method, const char *msg, size_t len)
{
	if (!strcmp(method, "Runtime.executionContextDestroyed") ||
	    !strcmp(method, "Runtime.executionContextsCleared"))
		*(int *)ud = 1;
	return 0;
}

/* The profile's JSON text from an answer of stopSampling or getSamplingProfile into out. */
static int profile_text(cJSON *res, const char *method, struct strbuf *out)
{
	cJSON *prof = cJSON_GetObjectItemCaseSensitive(res, "profile");
	char *text;

	if (!cJSON_IsObject(prof))
		return lh_error("%s answered without a profile; is the target an old node?", method);
	text = cJSON_PrintUnformatted(prof);
	if (!text)
		return lh_error("out of memory printing the profile");
	strbuf_reset(out);
	strbuf_addstr(out, text);
	cJSON_free(text);
	return 0;
}

/*
 * getSamplingProfile into out, quietly: 0, or -1 with the reason in why
 * (the session closed, or no profiler runs: "not started"), out as it was.
 */
static int copy_profile(struct lh_cdp *c, struct strbuf *out, int *exiting, struct strbuf *why)
{
	cJSON *res = NULL;
	int r;

	lh_error_capture(why);
	r = lh_cdp_call(c, "HeapProfiler.getSamplingProfile", NULL, &res, on_event, exiting);
	if (r == 0)
		r = profile_text(res, "HeapProfiler.getSamplingProfile", out);
	lh_error_capture(NULL);
	cJSON_Delete(res);
	return r < 0 ? -1 : 0;
}

static int session_closed(const struct lh_cdp *c)
{
	return c->ws.close_received || c->ws.eof;
}

int lh_sampling_capture(struct lh_cdp *c, const struct lh_sampling_opts *o, struct strbuf *out,
			struct lh_sampling_result *res)
{
	struct strbuf params = STRBUF_INIT, why = STRBUF_INIT;
	cJSON *stopped = NULL;
	int64_t start, end, next_copy;
	int r, exiting = 0, copied = 0;

	memset(res, 0, sizeof(*res));
	strbuf_reset(out);
	/* Runtime events tell us when the target starts to exit */
	if (lh_cdp_call(c, "Runtime.enable", NULL, NULL, NULL, NULL) < 0 ||
	    lh_cdp_call(c, "HeapProfiler.enable", NULL, NULL, NULL, NULL) < 0)
		return -1;
	/*
	 * V8 has one sampling heap profiler per process.  A startSampling
	 * while another client's runs is ignored, yet marks our session as
	 * its owner: our stop, or our session's end, would stop it under the
	 * other client.  So when one already runs we only read it.
	 */
	if (copy_profile(c, out, &exiting, &why) == 0) {
		res->shared = 1;
		strbuf_reset(out);
	} else if (session_closed(c)) {
		strbuf_release(&why);
		return lh_error("%s closed the session before sampling began", c->ws.what);
	}
	strbuf_release(&why);
	if (!res->shared) {
		strbuf_addf(&params, "{\"samplingInterval\":%ld}", o->interval_bytes);
		r = lh_cdp_call(c, "HeapProfiler.startSampling", params.buf, NULL, on_event, &exiting);
		strbuf_release(&params);
		if (r < 0)
			return -1;
		lh_info("sampling for %.1f s, one sample per %ld bytes allocated on average",
			o->duration_ms / 1000.0, o->interval_bytes);
	}
	start = lh_net_now();
	end = start + o->duration_ms;
	next_copy = start + 1000;
	while (lh_net_now() < end && !exiting) {
		int64_t slice = lh_net_now() + 200;

		if (o->stop && *o->stop) {
			res->stopped_early = LH_SAMPLING_INTERRUPTED;
			break;
		}
		if (lh_net_now() >= next_copy) {
			int64_t t0 = lh_net_now();

			r = copy_profile(c, out, &exiting, &why);
			if (session_closed(c))
				break;
			if (r == 0) {
				copied = 1;
				res->covered_ms = (long)(t0 - start);
				lh_info("kept a copy of the profile at %.1f s", res->covered_ms / 1000.0);
				next_copy = lh_net_now() + (lh_net_now() - t0) * 100;
				if (next_copy < lh_net_now() + 1000)
					next_copy = lh_net_now() + 1000;
			} else if (res->shared) {
				/* the client whose profiler it was stopped it */
				break;
			} else {
				/* an older node without the method: sample on, without copies */
				lh_info("no copies of the profile while sampling: %s", why.buf);
				next_copy = INT64_MAX;
			}
			strbuf_reset(&why);
			continue;
		}
		if (slice > next_copy)
			slice = next_copy;
		r = lh_cdp_wait(c, slice < end ? slice : end, on_event, &exiting);
		if (r == 1)
			break;
		if (r < 0) {
			strbuf_release(&why);
			return -1;
		}
	}
	if (!session_closed(c) && res->shared) {
		/* the end: the shared profile as it is now, left running */
		int64_t t0 = lh_net_now();

		strbuf_reset(&why);
		if (copy_profile(c, out, &exiting, &why) == 0) {
			strbuf_release(&why);
			res->covered_ms = (long)(t0 - start);
			if (exiting && !res->stopped_early)
				res->stopped_early = LH_SAMPLING_TARGET_EXITED;
			return 0;
		}
	}
	if (session_closed(c) || res->shared) {
		const char *what = session_closed(c) ? "closed the session" : "stopped the profiler";

		strbuf_release(&why);
		if (!copied)
			return lh_error("%s %s after %.1f s of sampling, before a copy of the profile "
					"was taken (V8 keeps it in the target)", session_closed(c) ?
					c->ws.what : "another client", what, (lh_net_now() - start) / 1000.0);
		res->stopped_early = session_closed(c) ? LH_SAMPLING_SESSION_CLOSED : LH_SAMPLING_PROFILER_STOPPED;
		return 0;
	}
	strbuf_release(&why);
	/* an exiting node still answers: it waits for us to disconnect */
	if (exiting)
		res->stopped_early = LH_SAMPLING_TARGET_EXITED;
	res->covered_ms = (long)(lh_net_now() - start);
	if (lh_cdp_call(c, "HeapProfiler.stopSampling", NULL, &stopped, NULL, NULL) < 0)
		return -1;
	r = profile_text(stopped, "HeapProfiler.stopSampling", out);
	cJSON_Delete(stopped);
	if (r < 0)
		return -1;
	if (!exiting) {
		/* leave the agents as we found them: off */
		lh_cdp_call(c, "HeapProfiler.disable", NULL, NULL, NULL, NULL);
		lh_cdp_call(c, "Runtime.disable", NULL, NULL, NULL, NULL);
	}
	return 0;
}
