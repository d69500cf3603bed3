/*
 * An inspector session with a node process, from a pid, a port or a ws://
 * URL: find or open the inspector, connect, make sure the process on the
 * other end is the one asked for, and on close leave the process as it was
 * (disconnect at once; close the inspector again if we opened it).
 *
 * Only loopback is allowed unless the caller says otherwise: whoever
 * reaches an inspector can run any code in the target.
 */
#ifndef LH_INSPECT_SESSION_H
#define LH_INSPECT_SESSION_H

#include <sys/types.h>

#include "base/strbuf.h"
#include "inspect/cdp.h"

struct lh_session_opts {
	pid_t pid;          /* 0: unknown (then port or url is needed) */
	int port;           /* 0: find it from the pid */
	const char *url;    /* ws://..., or NULL */
	int allow_remote;   /* permit non-loopback hosts */
	int timeout_ms;     /* longest silence, and the activation wait */
};

struct lh_session {
	struct lh_cdp cdp;
	pid_t pid;          /* the verified pid of the other end */
	int opened;         /* we sent SIGUSR1: close the inspector when done */
	int connected;      /* cdp is open */
	struct strbuf host; /* where the inspector listens */
	int port;
	int close_wait_ms;  /* how long close waits for the target to end the session (0: 2 s) */
};

/* 0, or -1 with a message saying what to do. */
int lh_session_open(struct lh_session *s, const struct lh_session_opts *o);

/*
 * Disconnect, and close the inspector again if lh_session_open() opened it.
 * Exactly one side ends the WebSocket session (see session.c for the node
 * crash this avoids): the target when it closes its inspector, else us.
 */
void lh_session_close(struct lh_session *s);

#endif
