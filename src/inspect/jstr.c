/*
 * Incremental JSON string decoder (see jstr.h).  A small state machine whose
 * whole state fits in struct lh_jstr, so input may be cut at any byte.
 *
 * Speed matters here (every byte of a snapshot passes through it): the
 * output never grows more than the input plus what the carried-in state
 * completes, so one strbuf_grow() per feed reserves it all and the loop stores through a
 * plain pointer; runs of plain bytes are found with a table and copied with
 * one memcpy.
 */
#include <string.h>

#include "inspect/jstr.h"

enum { PLAIN, ESCAPE, HEX, WANT_LOW_BACKSLASH, WANT_LOW_U };

/* Bytes that end a plain run: the quote, the backslash, control characters. */
static const unsigned char stop[256] = {
	[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

void lh_jstr_init(struct lh_jstr *d)
{
	memset(d, 0, sizeof(*d));
}

static char *put_utf8(char *o, unsigned c)
{
	if (c < 0x80) {
		*o++ = c;
	} else if (c < 0x800) {
		*o++ = 0xc0 | c >> 6, *o++ = 0x80 | (c & 0x3f);
	} else if (c < 0x10000) {
		*o++ = 0xe0 | c >> 12, *o++ = 0x80 | (c >> 6 & 0x3f), *o++ = 0x80 | (c & 0x3f);
	} else {
		*o++ = 0xf0 | c >> 18, *o++ = 0x80 | (c >> 12 & 0x3f);
		*o++ = 0x80 | (c >> 6 & 0x3f), *o++ = 0x80 | (c & 0x3f);
	}
	return o;
}

/* A \uXXXX value is complete: pair surrogates, emit the rest. */
static char *code_unit(struct lh_jstr *d, char *o)
{
	unsigned c = d->code;

	if (d->high) {
		if (c >= 0xdc00 && c <= 0xdfff) {
			o = put_utf8(o, 0x10000 + ((d->high - 0xd800) << 10) + (c - 0xdc00));
			d->high = 0;
			return o;
		}
		o = put_utf8(o, d->high); /* lone high surrogate, then c on its own */
		d->high = 0;
	}
	if (c >= 0xd800 && c <= 0xdbff) {
		d->high = c;
		return o;
	}
	return put_utf8(o, c);
}

/* A pending high surrogate turned out to be lone: emit it as WTF-8. */
static char *flush_high(struct lh_jstr *d, char *o)
{
	if (d->high)
		o = put_utf8(o, d->high);
	d->high = 0;
	return o;
}

/* The character an escape letter stands for, or -1. */
static int unescape(unsigned char ch)
{
	switch (ch) {
	case '"': return '"';
	case '\\': return '\\';
	case '/': return '/';
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	default: return -1;
	}
}

ssize_t lh_jstr_feed(struct lh_jstr *d, const char *in, size_t len, struct strbuf *out)
{
	size_t i = 0;
	ssize_t ret;
	char *o;

	if (d->done)
		return 0;
	/*
	 * Each byte yields at most one byte (\uXXXX: 3 bytes from 6), except
	 * what state carried in from the last feed completes: a pending high
	 * surrogate (3) and a \u whose last digit is here (3).
	 */
	strbuf_grow(out, len + 8);
	o = out->buf + out->len;
	while (i < len) {
		unsigned char ch = in[i];

		switch (d->state) {
		case PLAIN: {
			size_t j = i;

			while (j < len && !stop[(unsigned char)in[j]])
				j++;
			if (j > i) {
				o = flush_high(d, o);
				memcpy(o, in + i, j - i);
				o += j - i;
				d->offset += j - i;
				i = j;
				continue;
			}
			if (ch == '"') {
				o = flush_high(d, o);
				d->done = 1;
				d->offset++;
				ret = i + 1;
				goto out;
			}
			if (ch == '\\') {
				d->state = d->high ? WANT_LOW_BACKSLASH : ESCAPE;
				break;
			}
			d->error = "raw control character in a string";
			ret = -1;
			goto out;
		}
		case WANT_LOW_BACKSLASH:
			if (ch == 'u') {
				d->state = HEX, d->code = 0, d->ndigits = 0;
				break;
			}
			o = flush_high(d, o);
			d->state = ESCAPE;
			continue; /* handle ch as an ordinary escape letter */
		case ESCAPE: {
			int c = unescape(ch);

			if (ch == 'u') {
				d->state = HEX, d->code = 0, d->ndigits = 0;
				break;
			}
			if (c < 0) {
				d->error = "bad escape in a string";
				ret = -1;
				goto out;
			}
			*o++ = c;
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
				ret = -1;
				goto out;
			}
			d->code = d->code << 4 | v;
			if (++d->ndigits == 4) {
				o = code_unit(d, o);
				d->state = PLAIN;
			}
			break;
		}
		}
		i++;
		d->offset++;
	}
	ret = i;
out:
	strbuf_setlen(out, o - out->buf);
	return ret;
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
