/*
 * Chrome DevTools Protocol calls over a WebSocket (ws.h): numbered requests,
 * their responses matched by id, and the events in between handed to a
 * callback.  Responses and small events are parsed with cJSON; a callback
 * gets each event's raw text first, so the big ones (heap snapshot chunks)
 * can be decoded without a tree.
 *
 * Silence is bounded: every wait for the next message uses timeout_ms, so a
 * long call (a snapshot) may take any time as long as the target keeps
 * talking, and a target that goes quiet is an error.
 */
#ifndef LH_INSPECT_CDP_H
#define LH_INSPECT_CDP_H

#include <stddef.h>
#include <stdint.h>

#include "inspect/ws.h"

struct cJSON;

struct lh_cdp {
	struct lh_ws ws;
	int next_id;     /* the id of the next request */
	int timeout_ms;  /* longest silence allowed while waiting */
	/*
	 * Optional, for calls that are silent while they work (the target
	 * writing a file): asked every ~250 ms of silence; 1 = work goes on
	 * (the silence clock restarts), 0 = no sign of work, -1 = give up
	 * (after printing why).
	 */
	int (*busy)(void *ud);
	void *busy_ud;
};

/*
 * Called for each event while waiting: method is its name ("" when the
 * message is not {"method":...} first), msg the whole raw message.
 * Return 0 to go on, -1 to abort the call (after printing why).
 */
typedef int (*lh_cdp_event_fn)(void *ud, const char *method, const char *msg, size_t len);

/* Connect to ws://host:port/path.  0 or -1 with a message. */
int lh_cdp_open(struct lh_cdp *c, const char *host, int port, const char *path, int timeout_ms);
void lh_cdp_close(struct lh_cdp *c);

/*
 * Call method with params (JSON object text, or NULL) and wait for the
 * answer.  On success *result (if result != NULL) gets the "result" object,
 * which the caller frees with cJSON_Delete.  A protocol error, a closed
 * connection, silence or a malformed message: -1 with a message.
 */
int lh_cdp_call(struct lh_cdp *c, const char *method, const char *params, struct cJSON **result,
		lh_cdp_event_fn on_event, void *ud);

/* Send a request without waiting for its answer (for calls that end the session). */
int lh_cdp_send(struct lh_cdp *c, const char *method, const char *params);

/*
 * Wait until the deadline, handing each event that arrives to on_event:
 * 0 at the deadline, 1 when the peer closed the session, -1 on error.
 */
int lh_cdp_wait(struct lh_cdp *c, int64_t deadline, lh_cdp_event_fn on_event, void *ud);

enum lh_cdp_eval_flags {
	LH_CDP_EVAL_COMMAND_LINE_API = 1 << 0, /* makes require() visible */
};

/*
 * Runtime.evaluate expr with returnByValue; *value gets the value (free with
 * cJSON_Delete).  0; -2 when the expression threw (an error naming it: the
 * target ran it and the session is still usable); -1 on any other failure.
 */
int lh_cdp_evaluate(struct lh_cdp *c, const char *expr, unsigned flags, struct cJSON **value);

#endif
