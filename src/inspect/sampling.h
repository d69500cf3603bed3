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
};

/*
 * Sample for o->duration_ms (or until *o->stop), then stop and put the
 * profile's JSON into out, and turn the profiler off again.  0, with
 * *stopped_early 0 or an lh_sampling_end saying why sampling ended early,
 * or -1 with a message (the session closed, the target stopped answering).
 */
int lh_sampling_capture(struct lh_cdp *c, const struct lh_sampling_opts *o, struct strbuf *out,
			int *stopped_early);

#endif
