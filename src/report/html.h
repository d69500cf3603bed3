/*
 * The escaping writer of the HTML report: every string that comes from a
 * trace (function names such as "Box<Map<int, char> >::put(Map<int, char>&)",
 * file paths, the recorded command line) goes through here on its way into
 * the page, as text or as an attribute value.  Strings bound for the page's
 * embedded JSON go through lh_jsonw with script set instead (jsonw.h).
 *
 * The page is UTF-8 whatever the trace holds: a byte that is not part of
 * valid UTF-8, and a control character (other than tab and newline), is
 * written as U+FFFD, as the JSON writer does.
 */
#ifndef LH_REPORT_HTML_H
#define LH_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

/* s as HTML text or a quoted attribute value: & < > " ' become references. */
void lh_html_escape(FILE *out, const char *s);
void lh_html_escapen(FILE *out, const char *s, size_t len);

#endif
