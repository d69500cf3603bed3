/*
 * Shared pieces of the heap snapshot commands; see common.h.
 */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "snapshot/analyze.h"
#include "snapshot/paths.h"

struct lh_snapshot *lh_cmd_open_snapshot(const char *path, const struct lh_snapshot *base)
{
	struct lh_snapshot *s = lh_snapshot_load(path, LH_LOAD_PROGRESS);

	if (!s)
		exit(1);
	if (lh_snapshot_analyze(s, base, LH_ANALYZE_PROGRESS)) {
		lh_snapshot_free(s);
		exit(1);
	}
	return s;
}

uint32_t lh_cmd_count_arg(const char *opt, const char *val)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || end == val || *end || v > UINT32_MAX || val[0] == '-')
		lh_die_usage("%s needs a whole number, not '%s'", opt, val);
	return (uint32_t)v;
}

uint32_t lh_cmd_node_arg(const struct lh_snapshot *s, const char *arg)
{
	const char *p = arg[0] == '@' ? arg + 1 : arg;
	char *end;
	unsigned long id;
	uint32_t best = UINT32_MAX;
	int64_t cls = -1;

	errno = 0;
	id = strtoul(p, &end, 10);
	if (*p && !*end && !errno && id <= UINT32_MAX) {
		uint32_t node = lh_snapshot_node_by_id(s, (uint32_t)id);

		if (node == UINT32_MAX)
			lh_die("no object with id @%lu in '%s'; ids are shown by 'leakhunt summary --objects CLASS'",
			       id, s->path);
		return node;
	}
	cls = lh_snapshot_find_class(s, arg);
	if (cls < 0) {
		for (uint32_t c = 0; c < s->class_count; c++) {
			if (!strcmp(s->classes[c].name, arg)) {
				cls = c;
				break;
			}
		}
	}
	if (cls < 0)
		lh_die("'%s' is neither an object id (@123) nor a class in '%s'; see 'leakhunt summary'", arg, s->path);
	for (uint32_t i = 0; i < s->node_count; i++)
		if (s->node_class[i] == (uint32_t)cls && s->self_size[i] &&
		    (best == UINT32_MAX || s->retained_size[i] > s->retained_size[best]))
			best = i;
	if (best == UINT32_MAX)
		lh_die("class '%s' has no instances in '%s'", arg, s->path);
	return best;
}
