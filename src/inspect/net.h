/*
 * Sockets with deadlines: every wait in src/inspect/ goes through poll() with
 * a deadline taken from one monotonic clock, so nothing here can block
 * forever, whatever the other end does.  Sockets are non-blocking from the
 * moment they are created; a deadline is an absolute time in milliseconds
 * (lh_net_deadline()), so a loop of short reads cannot stretch it.
 */
#ifndef LH_INSPECT_NET_H
#define LH_INSPECT_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Monotonic milliseconds now, and now + ms. */
int64_t lh_net_now(void);
int64_t lh_net_deadline(int ms);

/*
 * Wait until fd is readable (events POLLIN) or writable (POLLOUT) or the
 * deadline passes: 1 ready, 0 timed out, -1 error (message printed).
 */
int lh_net_wait(int fd, short events, int64_t deadline);

/* Is host a loopback address ("127.x.y.z", "::1", "localhost")? */
int lh_net_is_loopback(const char *host);

/*
 * Connect to host:port (an IP literal or "localhost") before the deadline.
 * Returns a non-blocking fd, or -1 with a message naming host:port.
 */
int lh_net_connect(const char *host, int port, int64_t deadline);

/* Write all of buf before the deadline: 0, or -1 with a message. */
int lh_net_write_all(int fd, const void *buf, size_t len, int64_t deadline, const char *what);

/*
 * Read what is there (at least one byte) before the deadline: bytes read,
 * 0 on end of stream, -1 with a message on error or timeout.
 */
ssize_t lh_net_read_some(int fd, void *buf, size_t len, int64_t deadline, const char *what);

#endif
