/*
 * Diagnostics to stderr with a level, or into a capture buffer.  See error.h.
 */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "strbuf.h"

int lh_verbosity;
const char *lh_progname = "leakhunt";
static struct strbuf *capture;

/* errno survives: a caller may still name the cause of a failure a helper reported */
static void report(const char *prefix, const char *fmt, va_list ap)
{
	int saved = errno;

	if (capture) {
		strbuf_vaddf(capture, fmt, ap);
		strbuf_addch(capture, '\n');
	} else {
		fflush(stdout);
		fputs(prefix, stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	errno = saved;
}

void lh_error_capture(struct strbuf *buf)
{
	capture = buf;
}

int lh_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("error: ", fmt, ap);
	va_end(ap);
	return -1;
}

void lh_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("warning: ", fmt, ap);
	va_end(ap);
}

void lh_info(const char *fmt, ...)
{
	va_list ap;

	if (lh_verbosity < 1)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void lh_debug(const char *fmt, ...)
{
	va_list ap;

	if (lh_verbosity < 2)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static _Noreturn void vdie(int status, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: ", lh_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	exit(status);
}

void lh_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(1, fmt, ap);
}

void lh_die_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(2, fmt, ap);
}

void lh_bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	fprintf(stderr, "BUG: %s:%d: ", file, line);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
