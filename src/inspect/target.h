/*
 * Finding the inspector of a given process, from /proc alone.
 *
 * /proc/PID/net/tcp{,6} list every listening socket of the network
 * namespace, not of the process, so a LISTEN row counts only when its inode
 * is one of the process's own socket fds.  That is how `--inspect=0` (a
 * random port) is found, and how we avoid trusting port 9229 when another
 * process holds it.
 */
#ifndef LH_INSPECT_TARGET_H
#define LH_INSPECT_TARGET_H

#include <sys/types.h>

#include "base/strbuf.h"

#define LH_INSPECT_DEFAULT_PORT 9229

/*
 * Check that pid exists, that we may inspect it and that it looks like
 * node (SIGUSR1 kills most other programs).  0, or -1 with a message that
 * says what to do.
 */
int lh_target_check(pid_t pid);

/*
 * Find the inspector port of pid: a listening TCP socket owned by pid that
 * answers /json/version as node.js.  1 found (host gets the address to
 * connect to, *port the port), 0 none, -1 error with a message.
 */
int lh_target_find_inspector(pid_t pid, struct strbuf *host, int *port);

/*
 * Send SIGUSR1 and wait up to timeout_ms for the inspector to open.
 * 1 opened (host/port set), -1 with a message saying why it did not
 * (port 9229 held by another process, or the inspector disabled).
 */
int lh_target_activate(pid_t pid, int timeout_ms, struct strbuf *host, int *port);

/*
 * How many connections pid has accepted on its inspector's port (its end of
 * each is an established socket with that local port): every client,
 * ourselves included, and any /json request under way.  The protocol has
 * no way to ask (/json/list is the same with or without a session).  -1
 * (with a message) when pid's fds cannot be read.
 */
int lh_target_inspector_clients(pid_t pid, int port);

/* Is pid still alive (and not a zombie)? */
int lh_target_alive(pid_t pid);

/*
 * After a session ended without the target saying it exits: 1 when pid is
 * gone within wait_ms, 0 when it still runs (its inspector was closed by
 * another client, or by the program).
 */
int lh_target_gone(pid_t pid, int wait_ms);

/* RSS of pid in bytes from /proc/PID/statm, or -1. */
long long lh_target_rss(pid_t pid);

#endif
