/*
 * Sockets with deadlines (see net.h).  The one idea: a socket is never used
 * in blocking mode, and each wait is a poll() bounded by what is left of the
 * caller's deadline, so a peer that stops answering costs at most that long.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "base/error.h"
#include "inspect/net.h"

int64_t lh_net_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lh_net_deadline(int ms)
{
	return lh_net_now() + ms;
}

int lh_net_wait(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - lh_net_now();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (r > 0)
			return 1;
		if (r == 0)
			continue; /* re-check the clock: poll may wake early */
		if (errno != EINTR)
			return lh_error("cannot wait on a socket: %s", strerror(errno));
	}
}

int lh_net_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!strcasecmp(host, "localhost"))
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

int lh_net_connect(const char *host, int port, int64_t deadline)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, err = 0, one = 1;
	socklen_t errlen = sizeof(err);
	const char *h = strcasecmp(host, "localhost") ? host : "127.0.0.1";

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, h, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, h, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		/* No DNS: the inspector refuses Host names other than IP literals anyway. */
		return lh_error("cannot connect to '%s:%d': not an IP address; give the inspector's IP "
				"address (e.g. 127.0.0.1)", host, port);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return lh_error("cannot create a socket: %s", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		int r;

		if (errno != EINPROGRESS) {
			err = errno;
			goto out_fail;
		}
		r = lh_net_wait(fd, POLLOUT, deadline);
		if (r <= 0) {
			close(fd);
			if (r == 0)
				return lh_error("cannot connect to '%s:%d': no answer in time; is the "
						"target stopped or the port firewalled?", host, port);
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
			err = errno;
		if (err)
			goto out_fail;
	}
	return fd;

out_fail:
	close(fd);
	if (err == ECONNREFUSED)
		return lh_error("cannot connect to '%s:%d': connection refused; nothing listens there "
				"(is the inspector open?)", host, port);
	return lh_error("cannot connect to '%s:%d': %s", host, port, strerror(err));
}

int lh_net_write_all(int fd, const void *buf, size_t len, int64_t deadline, const char *what)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		int r;

		if (n > 0) {
			p += n;
			len -= n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return lh_error("cannot send to %s: %s", what, strerror(errno));
		r = lh_net_wait(fd, POLLOUT, deadline);
		if (r < 0)
			return -1;
		if (r == 0)
			return lh_error("cannot send to %s: it stopped reading (timed out); is the "
					"target stopped?", what);
	}
	return 0;
}

ssize_t lh_net_read_some(int fd, void *buf, size_t len, int64_t deadline, const char *what)
{
	for (;;) {
		ssize_t n = recv(fd, buf, len, 0);
		int r;

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			if (errno == ECONNRESET)
				return lh_error("%s closed the connection (reset); did the target exit?", what);
			return lh_error("cannot read from %s: %s", what, strerror(errno));
		}
		r = lh_net_wait(fd, POLLIN, deadline);
		if (r < 0)
			return -1;
		if (r == 0)
			return lh_error("%s stopped answering (timed out); is the target stopped, "
					"or busy in native code? try a longer --timeout", what);
	}
}
