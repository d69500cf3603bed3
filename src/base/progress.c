/*
 * Throttled progress line on stderr; see progress.h.
 */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"

struct lh_progress {
	const char *title; /* not owned: callers pass literals */
	uint64_t total;    /* 0 when unknown */
	uint64_t last_ns;  /* monotonic time of the last draw */
};

static int forced = -1;

void lh_progress_force(int on)
{
	forced = on;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct lh_progress *lh_progress_start(const char *title, uint64_t total)
{
	struct lh_progress *p;

	if (forced == 0 || (forced < 0 && !isatty(2)))
		return NULL;
	p = lh_xcalloc(1, sizeof(*p));
	p->title = title;
	p->total = total;
	return p;
}

static void draw(struct lh_progress *p, uint64_t done)
{
	if (p->total)
		fprintf(stderr, "\r%s: %3u%%\033[K", p->title,
			(unsigned)(done >= p->total ? 100 : done * 100 / p->total));
	else
		fprintf(stderr, "\r%s...\033[K", p->title);
}

void lh_progress_update(struct lh_progress *p, uint64_t done)
{
	uint64_t t;

	if (!p)
		return;
	t = now_ns();
	if (t - p->last_ns < 100000000u)
		return;
	p->last_ns = t;
	draw(p, done);
}

void lh_progress_phase(struct lh_progress *p, const char *title, uint64_t total)
{
	if (!p)
		return;
	p->title = title;
	p->total = total;
	p->last_ns = now_ns();
	draw(p, 0);
}

void lh_progress_stop(struct lh_progress *p)
{
	if (!p)
		return;
	fputs("\r\033[K", stderr);
	free(p);
}
