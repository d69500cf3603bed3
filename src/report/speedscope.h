/*
 * The frame of a speedscope file (https://www.speedscope.app/file-format-schema.json),
 * shared by `leakhunt report --speedscope` and `leakhunt sample --speedscope`:
 * each writes its own frames and samples between these calls.
 *
 *   lh_speedscope_begin();  frames: one {"name", ...} object each
 *   lh_speedscope_profiles();
 *   for each profile: lh_speedscope_profile();  samples: one array of frame
 *                     indices each, outermost first
 *                     lh_speedscope_weights();  one number per sample
 *                     lh_speedscope_profile_end();
 *   lh_speedscope_finish();
 */
#ifndef LH_REPORT_SPEEDSCOPE_H
#define LH_REPORT_SPEEDSCOPE_H

#include <stdint.h>
#include <stdio.h>

#include "base/jsonw.h"

void lh_speedscope_begin(struct lh_jsonw *w, FILE *out, const char *exporter, const char *name);
void lh_speedscope_profiles(struct lh_jsonw *w);
void lh_speedscope_profile(struct lh_jsonw *w, const char *name, const char *unit, uint64_t total);
void lh_speedscope_weights(struct lh_jsonw *w);
void lh_speedscope_profile_end(struct lh_jsonw *w);
int lh_speedscope_finish(struct lh_jsonw *w);

#endif
