/*
 * Leak suppressions (format and rules: suppress.h).  Matching is the greedy
 * wildcard walk of sanitizer_common's TemplateMatch, so a file written for
 * LSAN_OPTIONS=suppressions= means the same thing here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/strbuf.h"
#include "native/suppress.h"

static const char *const builtin[] = {
	/* heaptrack 1.4's built-in list */
	"__nss_module_allocate", "__gconv_read_conf", "__new_exitfn", "tzset_internal",
	"dl_open_worker", "g_main_context_new", "g_thread_self",
	/* glibc's dynamic thread vector, kept with cached thread stacks */
	"_dl_allocate_tls", "allocate_dtv",
};

void lh_suppressions_init(struct lh_suppressions *s)
{
	memset(s, 0, sizeof(*s));
}

void lh_suppressions_release(struct lh_suppressions *s)
{
	for (size_t i = 0; i < s->nr; i++)
		free(s->pattern[i]);
	FREE_AND_NULL(s->pattern);
	FREE_AND_NULL(s->tri);
	FREE_AND_NULL(s->ntri);
	s->nr = s->alloc = s->tri_alloc = s->ntri_alloc = 0;
}

#define TRI_BITS 4096

static inline uint16_t trigram(const char *p)
{
	uint32_t h = ((uint32_t)(unsigned char)p[0] << 16 | (uint32_t)(unsigned char)p[1] << 8 |
		      (unsigned char)p[2]) * 2654435761u;

	return (uint16_t)(h >> 20); /* TRI_BITS = 1 << 12 */
}

void lh_suppressions_add(struct lh_suppressions *s, const char *pattern)
{
	const char *p = pattern;
	size_t i = s->nr;
	unsigned n = 0;

	ALLOC_GROW(s->pattern, s->nr + 1, s->alloc);
	ALLOC_GROW(s->tri, s->nr + 1, s->tri_alloc);
	ALLOC_GROW(s->ntri, s->nr + 1, s->ntri_alloc);
	s->pattern[s->nr++] = lh_xstrdup(pattern);
	/* the literal pieces before any '$' (template_match stops there),
	 * a trigram from the start, middle and end of each */
	if (*p == '^')
		p++;
	while (*p && *p != '$' && n < LH_SUPP_TRIGRAMS) {
		size_t len = strcspn(p, "*$");

		if (len >= 3) {
			size_t at[3] = { 0, (len - 3) / 2, len - 3 };

			for (int k = 0; k < 3 && n < LH_SUPP_TRIGRAMS; k++)
				if (!k || at[k] != at[k - 1])
					s->tri[i][n++] = trigram(p + at[k]);
		}
		p += len;
		while (*p == '*')
			p++;
	}
	s->ntri[i] = (unsigned char)n;
}

void lh_suppressions_builtin(struct lh_suppressions *s)
{
	for (size_t i = 0; i < sizeof(builtin) / sizeof(*builtin); i++)
		lh_suppressions_add(s, builtin[i]);
}

int lh_suppressions_load(struct lh_suppressions *s, const char *path)
{
	struct strbuf line = STRBUF_INIT;
	FILE *f = fopen(path, "r");
	int c, lineno = 0, ret = 0;

	if (!f)
		return lh_error("cannot read suppressions '%s': %s", path, strerror(errno));
	do {
		char *p, *end;

		strbuf_reset(&line);
		while ((c = getc(f)) != EOF && c != '\n')
			strbuf_addch(&line, c);
		lineno++;
		p = line.buf;
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = 0;
		if (!*p || *p == '#')
			continue;
		if (!strchr(p, ':')) {
			ret = lh_error("cannot read suppressions '%s': line %d is not 'kind:pattern' "
				       "(LeakSanitizer format, e.g. 'leak:my_cache_init')", path, lineno);
			break;
		}
		if (strncmp(p, "leak:", 5))
			continue; /* other sanitizers' kinds share the file */
		if (p[5])
			lh_suppressions_add(s, p + 5);
	} while (c != EOF);
	if (ferror(f))
		ret = lh_error("cannot read suppressions '%s': %s", path, strerror(errno));
	fclose(f);
	strbuf_release(&line);
	return ret;
}

int lh_suppress_template_match(const char *templ, const char *str)
{
	int start = 0, asterisk = 0;

	if (!str || !*str)
		return 0;
	if (*templ == '^') {
		start = 1;
		templ++;
	}
	while (*templ) {
		const char *star, *dollar, *stop, *spos;
		size_t n;

		if (*templ == '*') {
			templ++;
			start = 0;
			asterisk = 1;
			continue;
		}
		if (*templ == '$')
			return !*str || asterisk;
		if (!*str)
			return 0;
		/* the literal piece up to the next '*' or '$' */
		star = strchr(templ, '*');
		dollar = strchr(templ, '$');
		stop = !star || (dollar && dollar < star) ? dollar : star;
		n = stop ? (size_t)(stop - templ) : strlen(templ);
		spos = memmem(str, strlen(str), templ, n);
		if (!spos || (start && spos != str))
			return 0;
		str = spos + n;
		templ += n;
		start = 0;
		asterisk = 0;
	}
	return 1;
}

int lh_suppressions_match(const struct lh_suppressions *s, const char *str)
{
	uint64_t have[TRI_BITS / 64];
	size_t len;

	if (!s || !str || !*str)
		return -1;
	len = strlen(str);
	memset(have, 0, sizeof(have));
	for (size_t j = 0; j + 3 <= len; j++) {
		uint16_t t = trigram(str + j);

		have[t / 64] |= 1ull << (t % 64);
	}
	for (size_t i = 0; i < s->nr; i++) {
		unsigned k;

		for (k = 0; k < s->ntri[i]; k++)
			if (!(have[s->tri[i][k] / 64] >> (s->tri[i][k] % 64) & 1))
				break;
		if (k == s->ntri[i] && lh_suppress_template_match(s->pattern[i], str))
			return (int)i;
	}
	return -1;
}
