/*
 * Sampling heap profiles over CDP (see sampling.h).
 *
 * Between start and stop we only listen: the target keeps running, and
 * events (none are expected with HeapProfiler alone) are dropped.  The
 * wait is cut into slices so that a Ctrl-C ends it promptly and the
 * profile taken so far is still fetched.  A target that exits destroys its
 * context (Runtime events) and then waits for us to disconnect, still
 * answering: we fetch the profile at once rather than hold up its exit.
 */
#include <cjson/cJSON.h>
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

int lh_sampling_capture(struct lh_cdp *c, const struct lh_sampling_opts *o, struct strbuf *out,
			int *stopped_early)
{
	struct strbuf params = STRBUF_INIT;
	cJSON *res = NULL, *prof;
	char *text;
	int64_t end;
	int r, exiting = 0;

	*stopped_early = 0;
	strbuf_reset(out);
	/* Runtime events tell us when the target starts to exit */
	if (lh_cdp_call(c, "Runtime.enable", NULL, NULL, NULL, NULL) < 0 ||
	    lh_cdp_call(c, "HeapProfiler.enable", NULL, NULL, NULL, NULL) < 0)
		return -1;
	strbuf_addf(&params, "{\"samplingInterval\":%ld}", o->interval_bytes);
	r = lh_cdp_call(c, "HeapProfiler.startSampling", params.buf, NULL, on_event, &exiting);
	strbuf_release(&params);
	if (r < 0)
		return -1;
	lh_info("sampling for %.1f s, one sample per %ld bytes allocated on average",
		o->duration_ms / 1000.0, o->interval_bytes);
	end = lh_net_now() + o->duration_ms;
	while (lh_net_now() < end && !exiting) {
		int64_t slice = lh_net_now() + 200;

		if (o->stop && *o->stop) {
			*stopped_early = LH_SAMPLING_INTERRUPTED;
			break;
		}
		r = lh_cdp_wait(c, slice < end ? slice : end, on_event, &exiting);
		if (r == 1)
			return lh_error("%s closed the session while sampling; did the target exit? "
					"(no profile: V8 keeps it in the target)", c->ws.what);
		if (r < 0)
			return -1;
	}
	/* an exiting node still answers: it waits for us to disconnect */
	if (exiting)
		*stopped_early = LH_SAMPLING_TARGET_EXITED;
	if (lh_cdp_call(c, "HeapProfiler.stopSampling", NULL, &res, NULL, NULL) < 0)
		return -1;
	prof = cJSON_GetObjectItemCaseSensitive(res, "profile");
	if (!cJSON_IsObject(prof)) {
		cJSON_Delete(res);
		return lh_error("HeapProfiler.stopSampling answered without a profile; is the target "
				"an old node?");
	}
	text = cJSON_PrintUnformatted(prof);
	cJSON_Delete(res);
	if (!text)
		return lh_error("out of memory printing the profile");
	strbuf_addstr(out, text);
	cJSON_free(text);
	if (!exiting) {
		/* leave the agents as we found them: off */
		lh_cdp_call(c, "HeapProfiler.disable", NULL, NULL, NULL, NULL);
		lh_cdp_call(c, "Runtime.disable", NULL, NULL, NULL, NULL);
	}
	return 0;
}
