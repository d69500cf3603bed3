/*
 * Human-readable numbers for tables: sizes in B/kB/MB/GB (powers of 1000,
 * as DevTools prints them), and counts with thousands separators.
 */
#ifndef LH_BASE_HUMAN_H
#define LH_BASE_HUMAN_H

#include <stdint.h>

#include "strbuf.h"

/* "512 B", "12.3 kB", "4.56 MB"; negative values get a leading '-'. */
void lh_human_size(struct strbuf *sb, int64_t bytes);
/* "12,345,678", with a sign when signed_ and v != 0. */
void lh_human_count(struct strbuf *sb, int64_t v, int signed_);
/* Parse "10", "10k", "2M", "1.5G", "16KiB" (powers of 1024) into *out; 0 or -1 (also for
 * nan, inf, a byte count with a fraction, less than a byte, or more than
 * 2^62); a fraction of k, M or G is rounded to the nearest byte. */
int lh_parse_size(const char *s, uint64_t *out);

#endif
