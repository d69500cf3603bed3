/*
 * Incremental JSON string decoder (see jstr.h).  A small state machine whose
 * whole state fits in struct lh_jstr, so input may be cut at any byte.  The
 * hot path copies runs of plain bytes with one strbuf_add.
 */
#include <string.h>

#include "inspect/jstr.h"

enum { PLAIN, ESCAPE, HEX, WANT_LOW_BACKSLASH, WANT_LOW_U };

void lh_jstr_init(struct lh_jstr *d)
{
	memset(d, 0, sizeof(*d));
}

static void put_utf8(struct strbuf *out, unsigned c)
{
	char b[4];
	size_t n;

	if (c < 0x80) {
		b[0] = c, n = 1;
	} else if (c < 0x800) {
		b[0] = 0xc0 | c >> 6, b[1] = 0x80 | (c & 0x3f), n = 2;
	} else if (c < 0x10000) {
		b[0] = 0xe0 | c >> 12, b[1] = 0x80 | (c >> 6 & 0x3f), b[2] = 0x80 | (c & 0x3f), n = 3;
	} else {
		b[0] = 0xf0 | c >> 18, b[1] = 0x80 | (c >> 12 & 0x3f);
		b[2] = 0x80 | (c >> 6 & 0x3f), b[3] = 0x80 | (c & 0x3f), n = 4;
	}
	strbuf_add(out, b, n);
}

/* A \uXXXX value is complete: pair surrogates, emit the rest. */
static void code_unit(struct lh_jstr *d, struct strbuf *out)
{
	unsigned c = d->code;

	if (d->high) {
		if (c >= 0xdc00 && c <= 0xdfff) {
			put_utf8(out, 0x10000 + ((d->high - 0xd800) << 10) + (c - 0xdc00));
			d->high = 0;
			return;
		}
		put_utf8(out, d->high); /* lone high surrogate, then c on its own */
		d->high = 0;
	}
	if (c >= 0xd800 && c <= 0xdbff) {
		d->high = c;
		return;
	}
	put_utf8(out, c);
}

/* A pending high surrogate turned out to be lone: emit it as WTF-8. */
static void flush_high(struct lh_jstr *d, struct strbuf *out)
{
	if (d->high)
		put_utf8(out, d->high);
	d->high = 0;
}

ssize_t lh_jstr_feed(struct lh_jstr *d, const char *in, size_t len, struct strbuf *out)
{
	size_t i = 0;

	if (d->done)
		return 0;
	while (i < len) {
		unsigned char ch = in[i];

		switch (d->state) {
		case PLAIN: {
			size_t j = i;

			while (j < len && in[j] != '"' && in[j] != '\\' && (unsigned char)in[j] >= 0x20)
				j++;
			if (j > i) {
				flush_high(d, out);
				strbuf_add(out, in + i, j - i);
				d->offset += j - i;
				i = j;
				continue;
			}
			if (ch == '"') {
				flush_high(d, out);
				d->done = 1;
				d->offset++;
				return i + 1;
			}
			if (ch == '\\') {
				d->state = d->high ? WANT_LOW_BACKSLASH : ESCAPE;
				break;
			}
			d->error = "raw control character in a string";
			return -1;
		}
		case WANT_LOW_BACKSLASH:
			if (ch == 'u') {
				d->state = HEX, d->code = 0, d->ndigits = 0;
				break;
			}
			flush_high(d, out);
			d->state = ESCAPE;
			continue; /* handle ch as an ordinary escape letter */
		case ESCAPE: {
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			const char *p = ch ? strchr(from, ch) : NULL;

			if (ch == 'u') {
				d->state = HEX, d->code = 0, d->ndigits = 0;
				break;
			}
			if (!p) {
				d->error = "bad escape in a string";
				return -1;
			}
			strbuf_addch(out, to[p - from]);
			d->state = PLAIN;
			break;
		}
		case HEX: {
			unsigned v;

			if (ch >= '0' && ch <= '9')
				v = ch - '0';
			else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
				v = (ch | 0x20) - 'a' + 10;
			else {
				d->error = "bad \\u escape in a string";
				return -1;
			}
			d->code = d->code << 4 | v;
			if (++d->ndigits == 4) {
				code_unit(d, out);
				d->state = PLAIN;
			}
			break;
		}
		}
		i++;
		d->offset++;
	}
	return i;
}

int lh_jstr_finish(struct lh_jstr *d, struct strbuf *out)
{
	if (!d->done) {
		d->error = d->state == PLAIN ? "the string has no closing quote" :
					      "the string ends inside an escape";
		return -1;
	}
	return 0;
}
