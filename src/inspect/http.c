/*
 * The discovery HTTP client (see http.h).  Bodies are read by Content-Length
 * because the inspector leaves the connection open after answering; heads
 * and bodies are capped so a wrong peer cannot make us allocate without end.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/error.h"
#include "inspect/http.h"
#include "inspect/net.h"

int lh_http_read_head(int fd, int64_t deadline, const char *what, struct strbuf *head,
		      struct strbuf *rest)
{
	char buf[4096];

	strbuf_reset(head);
	strbuf_reset(rest);
	for (;;) {
		ssize_t n = lh_net_read_some(fd, buf, sizeof(buf), deadline, what);
		char *end;

		if (n < 0)
			return -1;
		if (n == 0)
			return lh_error("%s closed the connection before answering; is it an "
					"inspector port?", what);
		strbuf_add(head, buf, n);
		end = memmem(head->buf, head->len, "\r\n\r\n", 4);
		if (end) {
			size_t hl = end + 4 - head->buf;

			strbuf_add(rest, head->buf + hl, head->len - hl);
			strbuf_setlen(head, hl);
			return 0;
		}
		if (head->len > LH_HTTP_MAX_HEAD)
			return lh_error("%s sent an HTTP head longer than %d bytes; is it an "
					"inspector port?", what, LH_HTTP_MAX_HEAD);
	}
}

int lh_http_status(const char *head)
{
	int code = 0, i;

	if (strncmp(head, "HTTP/1.", 7) || !head[7] || head[8] != ' ')
		return -1;
	for (i = 9; i < 12; i++) {
		if (!isdigit((unsigned char)head[i]))
			return -1;
		code = code * 10 + head[i] - '0';
	}
	return code;
}

int lh_http_header(const char *head, const char *name, struct strbuf *val)
{
	size_t nl = strlen(name);
	const char *p = strstr(head, "\r\n");

	while (p && p[2] != '\r') {
		const char *line = p + 2, *eol = strstr(line, "\r\n");

		if (!eol)
			break;
		if ((size_t)(eol - line) > nl && !strncasecmp(line, name, nl) && line[nl] == ':') {
			const char *v = line + nl + 1;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			while (eol > v && (eol[-1] == ' ' || eol[-1] == '\t'))
				eol--;
			strbuf_reset(val);
			strbuf_add(val, v, eol - v);
			return 1;
		}
		p = strstr(line, "\r\n");
	}
	return 0;
}

int lh_http_get(const char *host, int port, const char *path, int timeout_ms,
		struct strbuf *body)
{
	int64_t deadline = lh_net_deadline(timeout_ms);
	struct strbuf req = STRBUF_INIT, head = STRBUF_INIT, what = STRBUF_INIT, val = STRBUF_INIT;
	char buf[16384];
	long long clen = -1;
	int fd, status, ret = -1;

	strbuf_reset(body);
	strbuf_addf(&what, "'%s:%d%s'", host, port, path);
	fd = lh_net_connect(host, port, deadline);
	if (fd < 0)
		goto out;
	/* An IP literal as Host: the inspector refuses other names (DNS rebinding guard). */
	strbuf_addf(&req, "GET %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nAccept: application/json\r\n"
		    "Connection: close\r\n\r\n", path, strchr(host, ':') ? "[" : "", host,
		    strchr(host, ':') ? "]" : "", port);
	if (lh_net_write_all(fd, req.buf, req.len, deadline, what.buf) < 0)
		goto out_close;
	if (lh_http_read_head(fd, deadline, what.buf, &head, body) < 0)
		goto out_close;
	status = lh_http_status(head.buf);
	if (status != 200) {
		const char *eol = strstr(head.buf, "\r\n");

		lh_error("GET %s answered '%.*s'; is that port an inspector of a node process?",
			 what.buf, eol ? (int)(eol - head.buf) : 40, head.buf);
		goto out_close;
	}
	if (lh_http_header(head.buf, "Content-Length", &val)) {
		char *end;

		errno = 0;
		clen = strtoll(val.buf, &end, 10);
		if (errno || *end || clen < 0 || clen > LH_HTTP_MAX_BODY) {
			lh_error("GET %s: bad Content-Length '%s'", what.buf, val.buf);
			goto out_close;
		}
	}
	while (clen < 0 || (long long)body->len < clen) {
		ssize_t n = lh_net_read_some(fd, buf, sizeof(buf), deadline, what.buf);

		if (n < 0)
			goto out_close;
		if (n == 0) {
			if (clen < 0)
				break;
			lh_error("GET %s: the body ended after %zu of %lld bytes", what.buf, body->len, clen);
			goto out_close;
		}
		strbuf_add(body, buf, n);
		if (body->len > LH_HTTP_MAX_BODY) {
			lh_error("GET %s: the body is larger than %d bytes", what.buf, LH_HTTP_MAX_BODY);
			goto out_close;
		}
	}
	if (clen >= 0)
		strbuf_setlen(body, clen);
	ret = 0;
out_close:
	close(fd);
out:
	strbuf_release(&req);
	strbuf_release(&head);
	strbuf_release(&what);
	strbuf_release(&val);
	return ret;
}
