/*
 * Streaming JSON writer; see jsonw.h.
 */
#include "jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "error.h"

void lh_jsonw_init(struct lh_jsonw *w, FILE *out, int pretty)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->pretty = pretty;
}

static void newline(struct lh_jsonw *w)
{
	if (!w->pretty)
		return;
	fputc('\n', w->out);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->out);
}

/* Place a comma and indentation before a value or key. */
static void before_value(struct lh_jsonw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth > 0) {
		if (!w->first[w->depth - 1])
			fputc(',', w->out);
		w->first[w->depth - 1] = 0;
		newline(w);
	}
}

static void open_(struct lh_jsonw *w, int c)
{
	before_value(w);
	if (w->depth >= LH_JSONW_MAX_DEPTH) {
		w->error = 1;
		return;
	}
	fputc(c, w->out);
	w->is_array[w->depth] = c == '[';
	w->first[w->depth++] = 1;
}

void lh_jsonw_object(struct lh_jsonw *w)
{
	open_(w, '{');
}

void lh_jsonw_array(struct lh_jsonw *w)
{
	open_(w, '[');
}

void lh_jsonw_end(struct lh_jsonw *w)
{
	int empty;

	if (w->depth <= 0 || w->after_key) {
		w->error = 1;
		return;
	}
	empty = w->first[w->depth - 1];
	w->depth--;
	if (!empty)
		newline(w);
	fputc(w->is_array[w->depth] ? ']' : '}', w->out);
}

size_t lh_utf8_len(const unsigned char *p, size_t avail)
{
	unsigned c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k < n; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	return n;
}

static void escape(FILE *out, const char *s, size_t len, int script)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	fputc('"', out);
	for (i = 0; i < len; i++) {
		unsigned c = p[i];
		size_t run = i;

		/* plain characters in one write: a locked fputc per character
		 * was 61% of a 2.5 GB --json report */
		for (;;) {
			size_t k;

			while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\' &&
			       !(script && (p[run] == '<' || p[run] == '>' || p[run] == '&')))
				run++;
			/* a whole, valid UTF-8 sequence joins the run; WTF-8's
			 * surrogates and bytes that are not UTF-8 go below */
			if (run == len || p[run] < 0x80 || !(k = lh_utf8_len(p + run, len - run)))
				break;
			run += k;
		}
		if (run > i) {
			fwrite(p + i, 1, run - i, out);
			i = run - 1;
			continue;
		}
		switch (c) {
		case '"': fputs("\\\"", out); continue;
		case '\\': fputs("\\\\", out); continue;
		case '\n': fputs("\\n", out); continue;
		case '\r': fputs("\\r", out); continue;
		case '\t': fputs("\\t", out); continue;
		case '\b': fputs("\\b", out); continue;
		case '\f': fputs("\\f", out); continue;
		default: break;
		}
		if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			fprintf(out, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
		} else if (c == 0xed && i + 2 < len && (p[i + 1] & 0xe0) == 0xa0) {
			/* WTF-8 lone surrogate: not valid UTF-8, so write it escaped */
			unsigned u = 0xd000 | ((p[i + 1] & 0x3fu) << 6) | (p[i + 2] & 0x3fu);

			fprintf(out, "\\u%04x", u);
			i += 2;
		} else {
			/* not UTF-8 (a latin-1 file name, a cut character): JSON
			 * text must be, so U+FFFD stands for the byte */
			fputs("\\ufffd", out);
		}
	}
	fputc('"', out);
}

void lh_json_escape(FILE *out, const char *s, size_t len)
{
	escape(out, s, len, 0);
}

void lh_jsonw_key(struct lh_jsonw *w, const char *key)
{
	before_value(w);
	escape(w->out, key, strlen(key), w->script);
	fputs(w->pretty ? ": " : ":", w->out);
	w->after_key = 1;
}

void lh_jsonw_strn(struct lh_jsonw *w, const char *s, size_t len)
{
	before_value(w);
	escape(w->out, s, len, w->script);
}

void lh_jsonw_str(struct lh_jsonw *w, const char *s)
{
	lh_jsonw_strn(w, s, strlen(s));
}

void lh_jsonw_int(struct lh_jsonw *w, int64_t v)
{
	before_value(w);
	fprintf(w->out, "%" PRId64, v);
}

void lh_jsonw_uint(struct lh_jsonw *w, uint64_t v)
{
	before_value(w);
	fprintf(w->out, "%" PRIu64, v);
}

void lh_jsonw_double(struct lh_jsonw *w, double v)
{
	before_value(w);
	if (!isfinite(v))
		fputs("null", w->out);
	else if (v == (double)(int64_t)v && fabs(v) < 9e15)
		fprintf(w->out, "%" PRId64, (int64_t)v);
	else
		fprintf(w->out, "%.17g", v);
}

void lh_jsonw_bool(struct lh_jsonw *w, int v)
{
	before_value(w);
	fputs(v ? "true" : "false", w->out);
}

void lh_jsonw_null(struct lh_jsonw *w)
{
	before_value(w);
	fputs("null", w->out);
}

void lh_jsonw_kstr(struct lh_jsonw *w, const char *key, const char *s)
{
	lh_jsonw_key(w, key);
	lh_jsonw_str(w, s);
}

void lh_jsonw_kint(struct lh_jsonw *w, const char *key, int64_t v)
{
	lh_jsonw_key(w, key);
	lh_jsonw_int(w, v);
}

void lh_jsonw_kuint(struct lh_jsonw *w, const char *key, uint64_t v)
{
	lh_jsonw_key(w, key);
	lh_jsonw_uint(w, v);
}

void lh_jsonw_kbool(struct lh_jsonw *w, const char *key, int v)
{
	lh_jsonw_key(w, key);
	lh_jsonw_bool(w, v);
}

int lh_jsonw_finish(struct lh_jsonw *w)
{
	if (w->depth || w->after_key)
		w->error = 1;
	fputc('\n', w->out);
	if (fflush(w->out) || ferror(w->out))
		return lh_error("cannot write JSON output: write error (disk full or closed pipe?)");
	if (w->error)
		LH_BUG("JSON writer misused (unbalanced containers)");
	return 0;
}
