/*
 * leakhunt summary: DevTools' Summary view of one heap snapshot, one row per
 * class with count, shallow size, retained size and distance; or, with
 * --objects CLASS, the instances of one class with their own sizes.
 */
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/table.h"
#include "cmd.h"
#include "common.h"
#include "report/heap.h"
#include "snapshot/analyze.h"

static const char usage_text[] =
	"usage: leakhunt summary [options] FILE.heapsnapshot\n"
	"\n"
	"Per class (constructor): object count, shallow size, retained size and\n"
	"distance from the GC roots, as Chrome DevTools' Memory tab computes them.\n"
	"Retained size is DevTools' \"max retained\": instances nested in another\n"
	"instance of the same class are not counted twice.\n"
	"\n"
	"  --top N            show the N biggest rows (default 25)\n"
	"  --all              show every row\n"
	"  --sort KEY         retained (default), shallow, count, distance or name\n"
	"  --filter REGEX     only classes whose name matches REGEX (POSIX extended)\n"
	"  --objects CLASS    list the instances of CLASS (name or key) by retained size\n"
	"  --json             JSON output (docs/summary.md)\n"
	"  -v, --verbose      more detail on stderr\n"
	"  -h, --help         this help\n";

enum sort_key { SORT_RETAINED, SORT_SHALLOW, SORT_COUNT, SORT_DISTANCE, SORT_NAME };

static const struct lh_snapshot *sort_s;
static enum sort_key sort_by;

static int cmp_rows(const void *a, const void *b)
{
	const struct lh_class *x = &sort_s->classes[*(const uint32_t *)a];
	const struct lh_class *y = &sort_s->classes[*(const uint32_t *)b];

	switch (sort_by) {
	case SORT_SHALLOW:
		if (x->shallow_size != y->shallow_size)
			return x->shallow_size > y->shallow_size ? -1 : 1;
		break;
	case SORT_COUNT:
		if (x->count != y->count)
			return x->count > y->count ? -1 : 1;
		break;
	case SORT_DISTANCE:
		if (x->distance != y->distance)
			return x->distance < y->distance ? -1 : 1;
		break;
	case SORT_NAME:
		return strcmp(x->name, y->name);
	case SORT_RETAINED:
		break;
	}
	if (x->retained_size != y->retained_size)
		return x->retained_size > y->retained_size ? -1 : 1;
	return strcmp(x->key, y->key);
}

static int cmp_instances(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (sort_s->retained_size[x] != sort_s->retained_size[y])
		return sort_s->retained_size[x] > sort_s->retained_size[y] ? -1 : 1;
	return sort_s->node_id[x] < sort_s->node_id[y] ? -1 : 1;
}

static int list_objects(const struct lh_snapshot *s, const char *cls, uint32_t top, const struct lh_render_opts *o)
{
	int64_t c = lh_snapshot_find_class(s, cls);
	uint32_t *nodes, n = 0;

	for (uint32_t i = 0; c < 0 && i < s->class_count; i++)
		if (!strcmp(s->classes[i].name, cls))
			c = i;
	if (c < 0)
		lh_die("no class '%s' in '%s'; 'leakhunt summary --all' lists them", cls, s->path);
	nodes = lh_xmalloc(lh_st_mult((size_t)s->classes[c].count + 1, sizeof(uint32_t)));
	for (uint32_t i = 0; i < s->node_count; i++)
		if (s->node_class[i] == (uint32_t)c && s->self_size[i] && n <= s->classes[c].count)
			nodes[n++] = i;
	sort_s = s;
	qsort(nodes, n, sizeof(*nodes), cmp_instances);
	lh_report_instances(stdout, o, s, "leakhunt.instances/1", s->classes[c].name, nodes, n < top ? n : top, n);
	free(nodes);
	return 0;
}

int cmd_summary(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "top", required_argument, NULL, 't' },
		{ "all", no_argument, NULL, 'a' },
		{ "sort", required_argument, NULL, 's' },
		{ "filter", required_argument, NULL, 'f' },
		{ "objects", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lh_render_opts o = { 0 };
	const char *filter = NULL, *objects = NULL;
	uint32_t top = 25, *rows, nrows = 0;
	struct lh_snapshot *s;
	regex_t re;
	int c;

	sort_by = SORT_RETAINED;
	while ((c = getopt_long(argc, argv, "hvt:", longopts, NULL)) != -1) {
		switch (c) {
		case 't': top = lh_cmd_count_arg("--top", optarg); break;
		case 'a': top = UINT32_MAX; break;
		case 'f': filter = optarg; break;
		case 'o': objects = optarg; break;
		case 'j': o.json = 1; break;
		case 'v': lh_verbosity++; break;
		case 's':
			if (!strcmp(optarg, "retained")) sort_by = SORT_RETAINED;
			else if (!strcmp(optarg, "shallow")) sort_by = SORT_SHALLOW;
			else if (!strcmp(optarg, "count")) sort_by = SORT_COUNT;
			else if (!strcmp(optarg, "distance")) sort_by = SORT_DISTANCE;
			else if (!strcmp(optarg, "name")) sort_by = SORT_NAME;
			else lh_die_usage("--sort takes retained, shallow, count, distance or name, not '%s'", optarg);
			break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "leakhunt summary: give exactly one snapshot file\n\n%s", usage_text);
		return 2;
	}
	if (filter && regcomp(&re, filter, REG_EXTENDED | REG_NOSUB))
		lh_die_usage("--filter '%s' is not a valid regular expression", filter);
	o.width = lh_terminal_width();
	s = lh_cmd_open_snapshot(argv[optind], NULL);
	if (objects) {
		list_objects(s, objects, top, &o);
	} else {
		rows = lh_xmalloc(lh_st_mult((size_t)s->class_count + 1, sizeof(uint32_t)));
		for (uint32_t i = 0; i < s->class_count; i++)
			if (!filter || !regexec(&re, s->classes[i].name, 0, NULL, 0))
				rows[nrows++] = i;
		sort_s = s;
		qsort(rows, nrows, sizeof(*rows), cmp_rows);
		lh_report_summary(stdout, &o, s, rows, nrows < top ? nrows : top, nrows);
		free(rows);
	}
	if (filter)
		regfree(&re);
	lh_snapshot_free(s);
	return 0;
}
