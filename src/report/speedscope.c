/* The frame of a speedscope file: see speedscope.h. */
#include "report/speedscope.h"

void lh_speedscope_begin(struct lh_jsonw *w, FILE *out, const char *exporter, const char *name)
{
	lh_jsonw_init(w, out, 0);
	lh_jsonw_object(w);
	lh_jsonw_kstr(w, "$schema", "https://www.speedscope.app/file-format-schema.json");
	lh_jsonw_kstr(w, "exporter", exporter);
	lh_jsonw_kstr(w, "name", name);
	lh_jsonw_kuint(w, "activeProfileIndex", 0);
	lh_jsonw_key(w, "shared");
	lh_jsonw_object(w);
	lh_jsonw_key(w, "frames");
	lh_jsonw_array(w);
}

void lh_speedscope_profiles(struct lh_jsonw *w)
{
	lh_jsonw_end(w); /* frames */
	lh_jsonw_end(w); /* shared */
	lh_jsonw_key(w, "profiles");
	lh_jsonw_array(w);
}

void lh_speedscope_profile(struct lh_jsonw *w, const char *name, const char *unit, uint64_t total)
{
	lh_jsonw_object(w);
	lh_jsonw_kstr(w, "type", "sampled");
	lh_jsonw_kstr(w, "name", name);
	lh_jsonw_kstr(w, "unit", unit);
	lh_jsonw_kuint(w, "startValue", 0);
	lh_jsonw_kuint(w, "endValue", total);
	lh_jsonw_key(w, "samples");
	lh_jsonw_array(w);
}

void lh_speedscope_weights(struct lh_jsonw *w)
{
	lh_jsonw_end(w); /* samples */
	lh_jsonw_key(w, "weights");
	lh_jsonw_array(w);
}

void lh_speedscope_profile_end(struct lh_jsonw *w)
{
	lh_jsonw_end(w); /* weights */
	lh_jsonw_end(w); /* the profile */
}

int lh_speedscope_finish(struct lh_jsonw *w)
{
	lh_jsonw_end(w); /* profiles */
	lh_jsonw_end(w); /* the document */
	return lh_jsonw_finish(w);
}
