/*
 * Human-readable sizes and counts; see human.h.
 */
#include "human.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

void lh_human_size(struct strbuf *sb, int64_t bytes)
{
	static const char *const unit[] = { "kB", "MB", "GB", "TB" };
	uint64_t a = bytes < 0 ? (uint64_t)0 - (uint64_t)bytes : (uint64_t)bytes;
	const char *sign = bytes < 0 ? "-" : "";
	double v = (double)a;
	int u = -1;

	if (a < 1000) {
		strbuf_addf(sb, "%s%" PRIu64 " B", sign, a);
		return;
	}
	while (v >= 1000 && u < 3) {
		v /= 1000;
		u++;
	}
	strbuf_addf(sb, "%s%.*f %s", sign, v < 10 ? 2 : v < 100 ? 1 : 0, v, unit[u]);
}

void lh_human_count(struct strbuf *sb, int64_t v, int signed_)
{
	char digits[32];
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	int n = 0, i;

	do {
		digits[n++] = (char)('0' + a % 10);
		a /= 10;
	} while (a);
	if (v < 0)
		strbuf_addch(sb, '-');
	else if (signed_ && v > 0)
		strbuf_addch(sb, '+');
	for (i = n - 1; i >= 0; i--) {
		strbuf_addch(sb, digits[i]);
		if (i && i % 3 == 0)
			strbuf_addch(sb, ',');
	}
}

int lh_parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v = strtod(s, &end);
	double mul = 1;

	if (end == s || v < 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': mul = 1024.0; end++; break;
	case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
	case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
	default: break;
	}
	if (mul > 1 && end[0] == 'i' && (end[1] == 'B' || end[1] == 'b'))
		end += 2; /* 16KiB */
	else if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	/* nan, inf or past 2^62: no size (the cast would be undefined, and
	 * gave 0 or 2^63) */
	if (!(v <= 0x1p62 / mul))
		return -1;
	/* a count of bytes is whole ("1.5" was taken as 1); a fraction of a
	 * unit is rounded to the nearest byte (1.3k is 1331), but not to none */
	if (mul == 1 && v != (double)(uint64_t)v)
		return -1;
	v *= mul;
	if (v > 0 && v < 1)
		return -1;
	*out = (uint64_t)(v + 0.5);
	return 0;
}
