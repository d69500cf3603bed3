/*
 * Progress on stderr for long work, shown only when stderr is a terminal
 * (perf's ui/progress.c idea).  Updates are throttled to about 10 a second,
 * so callers may call lh_progress_update() from hot loops every few thousand
 * items.  A NULL progress is valid and does nothing.
 */
#ifndef LH_BASE_PROGRESS_H
#define LH_BASE_PROGRESS_H

#include <stdint.h>

struct lh_progress;

/* Start a progress line "title: 42% (done/total unit)"; NULL when not a tty. */
struct lh_progress *lh_progress_start(const char *title, uint64_t total);
void lh_progress_update(struct lh_progress *p, uint64_t done);
/* Switch to a new phase title with a new total. */
void lh_progress_phase(struct lh_progress *p, const char *title, uint64_t total);
/* Erase the line and free. */
void lh_progress_stop(struct lh_progress *p);
/* Force progress on (1) or off (0), or follow isatty (-1, the default). */
void lh_progress_force(int on);

#endif
