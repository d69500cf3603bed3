/* The HTML report's escaping writer: see html.h. */
#include <string.h>

#include "base/jsonw.h"
#include "report/html.h"

void lh_html_escapen(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t run = i, k;

		/* plain characters in one write, as the JSON writer does */
		for (;;) {
			while (run < len && p[run] >= 0x20 && p[run] < 0x7f && !strchr("&<>\"'", p[run]))
				run++;
			if (run < len && (p[run] == '\t' || p[run] == '\n')) {
				run++;
				continue;
			}
			if (run == len || p[run] < 0x80 || !(k = lh_utf8_len(p + run, len - run)))
				break;
			run += k;
		}
		if (run > i) {
			fwrite(p + i, 1, run - i, out);
			i = run;
			continue;
		}
		switch (p[i]) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		/* a control character, DEL, or a byte that is not UTF-8 */
		default: fputs("\xef\xbf\xbd", out); break;
		}
		i++;
	}
}

void lh_html_escape(FILE *out, const char *s)
{
	lh_html_escapen(out, s, strlen(s));
}
