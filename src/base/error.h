/*
 * Errors and diagnostics (git's error()/die()/BUG() split).
 *
 * Library code reports with lh_error(), which prints "error: ..." to stderr
 * and returns -1, so `return lh_error(...)` is the idiom.  Only src/cmd/ and
 * main() may exit, through lh_die().  Messages are lowercase, without a final
 * period: what failed, the subject quoted, the reason, then what to do.
 *
 * Verbosity (-v, -vv) is a process-wide level read by lh_info()/lh_debug().
 * Tests and callers that want to keep a message instead of printing it set a
 * capture buffer with lh_error_capture().  lh_error() and lh_warn() leave
 * errno as it was.
 */
#ifndef LH_BASE_ERROR_H
#define LH_BASE_ERROR_H

#include <stdarg.h>

#define LH_PRINTF(a, b) __attribute__((format(printf, a, b)))

extern int lh_verbosity; /* 0 normal, 1 -v, 2 -vv */
extern const char *lh_progname; /* "leakhunt", or the subcommand's full name */

int lh_error(const char *fmt, ...) LH_PRINTF(1, 2);
void lh_warn(const char *fmt, ...) LH_PRINTF(1, 2);
void lh_info(const char *fmt, ...) LH_PRINTF(1, 2);	/* shown with -v */
void lh_debug(const char *fmt, ...) LH_PRINTF(1, 2);	/* shown with -vv */
_Noreturn void lh_die(const char *fmt, ...) LH_PRINTF(1, 2);
/* An option or argument the command cannot take: exit status 2 (usage). */
_Noreturn void lh_die_usage(const char *fmt, ...) LH_PRINTF(1, 2);
_Noreturn void lh_bug(const char *file, int line, const char *fmt, ...) LH_PRINTF(3, 4);
#define LH_BUG(...) lh_bug(__FILE__, __LINE__, __VA_ARGS__)

/*
 * While a capture is set, lh_error() and lh_warn() append their message
 * (without the "error: " prefix, one per line) to *buf instead of printing.
 * Pass NULL to print again.  The buffer is a struct strbuf.
 */
struct strbuf;
void lh_error_capture(struct strbuf *buf);

#endif
