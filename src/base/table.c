/*
 * Table printer; see table.h.  Widths count UTF-8 code points, not bytes, so
 * class names with non-ASCII characters stay aligned.
 */
#include "table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "alloc.h"
#include "jsonw.h"

void lh_table_init(struct lh_table *t, const char *spec)
{
	const char *p = spec;
	size_t n = 1, i = 0;

	memset(t, 0, sizeof(*t));
	for (const char *q = spec; *q; q++)
		n += *q == ',';
	t->ncols = n;
	t->headers = lh_xcalloc(n, sizeof(*t->headers));
	t->align = lh_xcalloc(n, sizeof(*t->align));
	t->elastic = (size_t)-1;
	while (*p) {
		const char *end = strchr(p, ',');
		const char *colon;
		size_t len = end ? (size_t)(end - p) : strlen(p);

		colon = memchr(p, ':', len);
		t->headers[i] = lh_xstrndup(p, colon ? (size_t)(colon - p) : len);
		if (colon && colon[1] == 'r')
			t->align[i] = LH_ALIGN_RIGHT;
		if (colon && memchr(colon, '*', len - (size_t)(colon - p)))
			t->elastic = i;
		i++;
		p += len + (end ? 1 : 0);
	}
}

/*
 * A cell's text escaped as in a C string, so that what the terminal shows
 * can be read back to one name: names come from the files we read (a class
 * name with a newline broke its row, and an escape sequence in one reached
 * the terminal).  The backslash itself is escaped, or a name holding the
 * four characters \x01 read the same as one holding the byte 0x01.  C0
 * controls, DEL and bytes that are not UTF-8 become \xNN; C1 controls
 * (U+0080-U+009F, which terminals take as escape sequences too) and WTF-8's
 * lone surrogates become \uNNNN, as in --json.  Every escape is plain ASCII,
 * so widths still count what the terminal shows.  A text that holds escapes
 * already (literal) keeps its backslashes as they are.
 */
static void add_cell(struct lh_table *t, struct strbuf *sb, int literal)
{
	const unsigned char *p = (const unsigned char *)sb->buf;
	struct strbuf out = STRBUF_INIT;

	for (size_t i = 0; i < sb->len; i++) {
		unsigned char c = p[i];
		size_t k = c < 0x80 ? 0 : lh_utf8_len(p + i, sb->len - i);

		if (c == '\\') {
			strbuf_addstr(&out, literal ? "\\" : "\\\\");
		} else if (c == '\n') {
			strbuf_addstr(&out, "\\n");
		} else if (c == '\t') {
			strbuf_addstr(&out, "\\t");
		} else if (c == '\r') {
			strbuf_addstr(&out, "\\r");
		} else if (c >= 0x20 && c < 0x7f) {
			strbuf_addch(&out, (char)c);
		} else if (k == 2 && c == 0xc2 && p[i + 1] <= 0x9f) {
			strbuf_addf(&out, "\\u%04x", p[i + 1]);
			i++;
		} else if (k) {
			strbuf_add(&out, p + i, k);
			i += k - 1;
		} else if (c == 0xed && i + 2 < sb->len && (p[i + 1] & 0xe0) == 0xa0 && (p[i + 2] & 0xc0) == 0x80) {
			strbuf_addf(&out, "\\u%04x", 0xd000 | (p[i + 1] & 0x3fu) << 6 | (p[i + 2] & 0x3fu));
			i += 2;
		} else {
			strbuf_addf(&out, "\\x%02x", c);
		}
	}
	ALLOC_GROW(t->cells, t->nr + 1, t->alloc);
	t->cells[t->nr++] = strbuf_detach(&out, NULL);
	strbuf_reset(sb);
}

void lh_table_cell_sb(struct lh_table *t, struct strbuf *sb)
{
	add_cell(t, sb, 0);
}

void lh_table_cell_literal(struct lh_table *t, struct strbuf *sb)
{
	add_cell(t, sb, 1);
}

void lh_table_cell(struct lh_table *t, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	lh_table_cell_sb(t, &sb);
	strbuf_release(&sb);
}

static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* The length of the escape at s (see lh_table_cell_sb), or 1. */
static size_t escape_len(const char *s)
{
	if (s[0] != '\\' || !s[1])
		return 1;
	return s[1] == 'x' ? 4 : s[1] == 'u' ? 6 : 2;
}

/*
 * Byte length of the first w code points of s, not cutting an escape in two
 * (a cut "\x01" would leave a lone backslash before the "...").
 */
static size_t prefix_bytes(const char *s, size_t w)
{
	size_t i = 0, seen = 0;

	while (s[i]) {
		size_t n = escape_len(s + i);

		if (((unsigned char)s[i] & 0xc0) == 0x80) {
			i++;
			continue;
		}
		if (seen + n > w)
			break;
		seen += n;
		i += n;
	}
	return i;
}

size_t lh_terminal_width(void)
{
	struct winsize ws;

	if (!isatty(1) || ioctl(1, TIOCGWINSZ, &ws) < 0 || !ws.ws_col)
		return 0;
	return ws.ws_col;
}

static void put_cell(FILE *out, const char *s, size_t w, size_t colw, enum lh_table_align a, int last)
{
	size_t len = strlen(s);

	if (w > colw) {
		/* cut, with "..." in the last three columns; the cut may
		 * stop short of them to keep an escape whole */
		len = prefix_bytes(s, colw > 3 ? colw - 3 : 0);
		w = 0;
		for (size_t i = 0; i < len; i++)
			w += ((unsigned char)s[i] & 0xc0) != 0x80;
		w += 3;
	}
	if (a == LH_ALIGN_RIGHT && colw > w)
		fprintf(out, "%*s", (int)(colw - w), "");
	fwrite(s, 1, len, out);
	if (len < strlen(s))
		fputs("...", out);
	if (a == LH_ALIGN_LEFT && !last && colw > w)
		fprintf(out, "%*s", (int)(colw - w), "");
}

void lh_table_print(struct lh_table *t, FILE *out)
{
	size_t *colw = lh_xcalloc(t->ncols, sizeof(*colw));
	size_t total = 0, c, i;

	for (c = 0; c < t->ncols; c++)
		colw[c] = width(t->headers[c]);
	for (i = 0; i < t->nr; i++) {
		size_t w = width(t->cells[i]);

		if (w > colw[i % t->ncols])
			colw[i % t->ncols] = w;
	}
	for (c = 0; c < t->ncols; c++)
		total += colw[c] + (c ? 2 : 0);
	if (t->max_width && t->elastic < t->ncols && total > t->max_width) {
		size_t over = total - t->max_width;
		size_t minw = 20;

		colw[t->elastic] = colw[t->elastic] > over + minw ? colw[t->elastic] - over : minw;
	}
	for (c = 0; c < t->ncols; c++) {
		if (c)
			fputs("  ", out);
		put_cell(out, t->headers[c], width(t->headers[c]), colw[c], t->align[c], c + 1 == t->ncols);
	}
	fputc('\n', out);
	for (i = 0; i < t->nr; i++) {
		c = i % t->ncols;
		if (c)
			fputs("  ", out);
		put_cell(out, t->cells[i], width(t->cells[i]), colw[c], t->align[c], c + 1 == t->ncols);
		if (c + 1 == t->ncols)
			fputc('\n', out);
	}
	if (t->nr % t->ncols)
		fputc('\n', out);
	free(colw);
}

void lh_table_release(struct lh_table *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		free(t->cells[i]);
	for (i = 0; i < t->ncols; i++)
		free((char *)t->headers[i]);
	free(t->cells);
	free(t->headers);
	free(t->align);
	memset(t, 0, sizeof(*t));
}
