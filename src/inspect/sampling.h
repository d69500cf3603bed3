/*
 * The sampling heap profiler over the inspector (HeapProfiler.startSampling
 * / stopSampling): V8 records a stack every samplingInterval bytes
 * allocated, on average, and forgets samples whose objects die, so the
 * profile says which functions allocated what is still alive at the end.
 *
 * Capture only: the result is the profile's JSON text, the same bytes a
 * .heapprofile file holds (Chrome DevTools opens it); heapprofile.h reads it.
 */
#ifndef LH_INSPECT_SAMPLING_H
#define LH_INSPECT_SAMPLING_H

#include <signal.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "inspect/cdp.h"

struct lh_sampling_opts {
	long duration_ms;            /* how long to sample */
	long interval_bytes;         /* V8's samplingInterval (its default is 32768) */
	volatile sig_atomic_t *stop; /* set (e.g. by SIGINT) to end early; may be NULL */
};

enum lh_sampling_end {
	LH_SAMPLING_INTERRUPTED = 1,   /* *o->stop was set */
	LH_SAMPLING_TARGET_EXITED = 2, /* the target began to exit */
	LH_SAMPLING_SESSION_CLOSED = 3, /* our session was closed: the profile is the last copy */
	LH_SAMPLING_PROFILER_STOPPED = 4, /* (shared) its owner stopped it: the last copy */
};

struct lh_sampling_result {
	int stopped_early;   /* 0, or an lh_sampling_end saying why sampling ended early */
	long covered_ms;     /* the time the profile covers, from our start */
	int shared;          /* another client's profiler was running: we read that one
			      * (its interval, from its start) and left it running */
};

/*
 * Sample for o->duration_ms (or until *o->stop), then stop and put the
 * profile's JSON into out, and turn the profiler off again.  0 with *res
 * filled, or -1 with a message (the session closed before any copy was
 * taken, the target stopped answering).  When the session is closed under
 * us (another client closed the inspector, the target died), out is the
 * last copy of the profile taken while sampling.
 */
int lh_sampling_capture(struct lh_cdp *c, const struct lh_sampling_opts *o, struct strbuf *out,
			struct lh_sampling_result *res);

#endif
