/*
 * Table printer; see table.h.  Widths count the columns a terminal gives each
 * character (two for a CJK character, none for a combining mark), not bytes,
 * so class names with non-ASCII characters stay aligned.
 */
#include "table.h"

#include <stdarg.h>
#include <stdint.h>
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
 * Text escaped as in a C string, so that what the terminal shows can be read
 * back to one name: names come from the files we read (a class name with a
 * newline broke its row, and an escape sequence in one reached the
 * terminal).  The backslash itself is escaped, or a name holding the four
 * characters \x01 read the same as one holding the byte 0x01.  C0 controls,
 * DEL and bytes that are not UTF-8 become \xNN; C1 controls (U+0080-U+009F,
 * which terminals take as escape sequences too) and WTF-8's lone surrogates
 * become \uNNNN, as in --json.  Every escape is plain ASCII, so widths still
 * count what the terminal shows.  A text that holds escapes already
 * (literal: objects' jsprint writes a string "a\nb") keeps its backslashes
 * as they are.
 */
static void escape(struct strbuf *out, const char *s, size_t len, int literal)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		size_t k = c < 0x80 ? 0 : lh_utf8_len(p + i, len - i);

		if (c == '\\') {
			strbuf_addstr(out, literal ? "\\" : "\\\\");
		} else if (c == '\n') {
			strbuf_addstr(out, "\\n");
		} else if (c == '\t') {
			strbuf_addstr(out, "\\t");
		} else if (c == '\r') {
			strbuf_addstr(out, "\\r");
		} else if (c >= 0x20 && c < 0x7f) {
			strbuf_addch(out, (char)c);
		} else if (k == 2 && c == 0xc2 && p[i + 1] <= 0x9f) {
			strbuf_addf(out, "\\u%04x", p[i + 1]);
			i++;
		} else if (k) {
			strbuf_add(out, p + i, k);
			i += k - 1;
		} else if (c == 0xed && i + 2 < len && (p[i + 1] & 0xe0) == 0xa0 && (p[i + 2] & 0xc0) == 0x80) {
			strbuf_addf(out, "\\u%04x", 0xd000 | (p[i + 1] & 0x3fu) << 6 | (p[i + 2] & 0x3fu));
			i += 2;
		} else {
			strbuf_addf(out, "\\x%02x", c);
		}
	}
}

void lh_terminal_escape(struct strbuf *out, const char *s, size_t len)
{
	escape(out, s, len, 0);
}

void lh_terminal_escape_literal(struct strbuf *out, const char *s, size_t len)
{
	escape(out, s, len, 1);
}

void lh_terminal_puts(const char *s, FILE *out)
{
	struct strbuf sb = STRBUF_INIT;

	lh_terminal_escape(&sb, s, strlen(s));
	fwrite(sb.buf, 1, sb.len, out);
	strbuf_release(&sb);
}

void lh_terminal_printf(FILE *out, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	struct strbuf esc = STRBUF_INIT;
	va_list ap;
	size_t from = 0, to;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	/* the line breaks the caller's format starts and ends with stay so */
	while (from < sb.len && sb.buf[from] == '\n')
		from++;
	for (to = sb.len; to > from && sb.buf[to - 1] == '\n'; to--)
		;
	lh_terminal_escape(&esc, sb.buf + from, to - from);
	fwrite(sb.buf, 1, from, out);
	fwrite(esc.buf, 1, esc.len, out);
	fwrite(sb.buf + to, 1, sb.len - to, out);
	strbuf_release(&esc);
	strbuf_release(&sb);
}

/* A cell's text is escaped as lh_terminal_escape does it (literal: see escape). */
static void add_cell(struct lh_table *t, struct strbuf *sb, int literal)
{
	struct strbuf out = STRBUF_INIT;

	escape(&out, sb->buf, sb->len, literal);
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

/*
 * Columns a code point takes on a terminal, as wcwidth(3) counts them for the
 * common ranges: 0 for combining marks and zero-width characters (they join
 * the character before them), 2 for East Asian wide and fullwidth characters
 * and emoji, 1 for the rest.  A table of our own rather than wcwidth(3),
 * which answers only under a UTF-8 LC_CTYPE, one the machine may not have.
 */
static const uint32_t zero_width[][2] = {
	{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd }, { 0x05bf, 0x05bf }, { 0x05c1, 0x05c2 },
	{ 0x05c4, 0x05c5 }, { 0x05c7, 0x05c7 }, { 0x0610, 0x061a }, { 0x064b, 0x065f }, { 0x0670, 0x0670 },
	{ 0x06d6, 0x06dc }, { 0x06df, 0x06e4 }, { 0x06e7, 0x06e8 }, { 0x06ea, 0x06ed }, { 0x0900, 0x0902 },
	{ 0x093a, 0x093a }, { 0x093c, 0x093c }, { 0x0941, 0x0948 }, { 0x094d, 0x094d }, { 0x0951, 0x0957 },
	{ 0x0e31, 0x0e31 }, { 0x0e34, 0x0e3a }, { 0x0e47, 0x0e4e }, { 0x1ab0, 0x1aff }, { 0x1dc0, 0x1dff },
	{ 0x200b, 0x200f }, { 0x202a, 0x202e }, { 0x2060, 0x2064 }, { 0x20d0, 0x20ff }, { 0x302a, 0x302d },
	{ 0x3099, 0x309a }, { 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f }, { 0xfeff, 0xfeff }, { 0xe0001, 0xe007f },
	{ 0xe0100, 0xe01ef },
};
static const uint32_t double_width[][2] = {
	{ 0x1100, 0x115f }, { 0x231a, 0x231b }, { 0x2329, 0x232a }, { 0x23e9, 0x23ec }, { 0x23f0, 0x23f0 },
	{ 0x23f3, 0x23f3 }, { 0x25fd, 0x25fe }, { 0x2614, 0x2615 }, { 0x2648, 0x2653 }, { 0x267f, 0x267f },
	{ 0x2693, 0x2693 }, { 0x26a1, 0x26a1 }, { 0x26aa, 0x26ab }, { 0x26bd, 0x26be }, { 0x26c4, 0x26c5 },
	{ 0x26ce, 0x26ce }, { 0x26d4, 0x26d4 }, { 0x26ea, 0x26ea }, { 0x26f2, 0x26f3 }, { 0x26f5, 0x26f5 },
	{ 0x26fa, 0x26fa }, { 0x26fd, 0x26fd }, { 0x2705, 0x2705 }, { 0x270a, 0x270b }, { 0x2728, 0x2728 },
	{ 0x274c, 0x274c }, { 0x274e, 0x274e }, { 0x2753, 0x2755 }, { 0x2757, 0x2757 }, { 0x2795, 0x2797 },
	{ 0x27b0, 0x27b0 }, { 0x27bf, 0x27bf }, { 0x2b1b, 0x2b1c }, { 0x2b50, 0x2b50 }, { 0x2b55, 0x2b55 },
	{ 0x2e80, 0x3029 }, { 0x302e, 0x303e }, { 0x3041, 0x3098 }, { 0x309b, 0x33ff }, { 0x3400, 0x4dbf },
	{ 0x4e00, 0x9fff }, { 0xa000, 0xa4cf }, { 0xa960, 0xa97f }, { 0xac00, 0xd7a3 }, { 0xf900, 0xfaff },
	{ 0xfe10, 0xfe19 }, { 0xfe30, 0xfe6f }, { 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x16fe0, 0x18cff },
	{ 0x1b000, 0x1b2ff }, { 0x1f004, 0x1f004 }, { 0x1f0cf, 0x1f0cf }, { 0x1f18e, 0x1f18e },
	{ 0x1f191, 0x1f19a }, { 0x1f200, 0x1f2ff }, { 0x1f300, 0x1f320 }, { 0x1f32d, 0x1f335 },
	{ 0x1f337, 0x1f37c }, { 0x1f37e, 0x1f393 }, { 0x1f3a0, 0x1f3ca }, { 0x1f3cf, 0x1f3d3 },
	{ 0x1f3e0, 0x1f3f0 }, { 0x1f3f4, 0x1f3f4 }, { 0x1f3f8, 0x1f43e }, { 0x1f440, 0x1f440 },
	{ 0x1f442, 0x1f4fc }, { 0x1f4ff, 0x1f53d }, { 0x1f54b, 0x1f54e }, { 0x1f550, 0x1f567 },
	{ 0x1f57a, 0x1f57a }, { 0x1f595, 0x1f596 }, { 0x1f5a4, 0x1f5a4 }, { 0x1f5fb, 0x1f64f },
	{ 0x1f680, 0x1f6c5 }, { 0x1f6cc, 0x1f6cc }, { 0x1f6d0, 0x1f6d2 }, { 0x1f6d5, 0x1f6d7 },
	{ 0x1f6eb, 0x1f6ec }, { 0x1f6f4, 0x1f6fc }, { 0x1f7e0, 0x1f7eb }, { 0x1f90c, 0x1f93a },
	{ 0x1f93c, 0x1f945 }, { 0x1f947, 0x1f9ff }, { 0x1fa70, 0x1faff }, { 0x20000, 0x2fffd },
	{ 0x30000, 0x3fffd },
};

static int in_ranges(uint32_t cp, const uint32_t (*r)[2], size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < r[mid][0])
			hi = mid;
		else if (cp > r[mid][1])
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

/*
 * The columns of the character at s and, in *len, its bytes (1 for a byte
 * that is not UTF-8: cells are escaped, so only headers could hold one).
 */
static size_t char_width(const char *s, size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k = p[0] < 0x80 ? 0 : lh_utf8_len(p, strlen(s));
	uint32_t cp;

	*len = k ? k : 1;
	if (!k)
		return 1;
	cp = p[0] & (0xff >> (k + 1));
	for (size_t i = 1; i < k; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	if (in_ranges(cp, zero_width, sizeof(zero_width) / sizeof(zero_width[0])))
		return 0;
	return in_ranges(cp, double_width, sizeof(double_width) / sizeof(double_width[0])) ? 2 : 1;
}

static size_t width(const char *s)
{
	size_t w = 0, len;

	for (; *s; s += len)
		w += char_width(s, &len);
	return w;
}

/* The length of the escape at s (see lh_terminal_escape), or 1. */
static size_t escape_len(const char *s)
{
	if (s[0] != '\\' || !s[1])
		return 1;
	return s[1] == 'x' ? 4 : s[1] == 'u' ? 6 : 2;
}

/*
 * Byte length of the longest start of s at most w columns wide, in *cols its
 * width; it does not cut an escape in two (a cut "\x01" would leave a lone
 * backslash before the "..."), nor part a character from the combining marks
 * after it.
 */
static size_t prefix_bytes(const char *s, size_t w, size_t *cols)
{
	size_t i = 0, seen = 0;

	while (s[i]) {
		size_t len, n = s[i] == '\\' ? escape_len(s + i) : char_width(s + i, &len);

		if (s[i] == '\\')
			len = n;
		if (seen + n > w)
			break;
		seen += n;
		i += len;
		while (s[i] && char_width(s + i, &len) == 0)
			i += len;
	}
	*cols = seen;
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
		len = prefix_bytes(s, colw > 3 ? colw - 3 : 0, &w);
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
