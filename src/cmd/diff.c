/*
 * leakhunt diff: DevTools' Comparison view between two snapshots of one
 * process: per class, objects new in the second, deleted since the first,
 * and the shallow sizes allocated and freed, joined on node ids.
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
#include "coredump/coredump.h"
#include "report/heap.h"
#include "snapshot/analyze.h"
#include "snapshot/diff.h"

static const char usage_text[] =
	"usage: leakhunt diff [options] OLD.heapsnapshot NEW.heapsnapshot\n"
	"   or: leakhunt diff [options] OLD-CORE NEW-CORE [--binary NODE]\n"
	"\n"
	"Per class: objects new in NEW, objects deleted since OLD, the count delta,\n"
	"the shallow size allocated and freed, and the size delta, joined on node ids\n"
	"as DevTools' Comparison view does. Both snapshots must come from one process\n"
	"(ids are only stable within a process). Largest growth first.\n"
	"\n"
	"  --top N            show the N biggest rows (default 25)\n"
	"  --all              show every row\n"
	"  --filter REGEX     only classes whose name matches REGEX (POSIX extended)\n"
	"  --new-only CLASS   list the new instances of CLASS with their retained sizes\n"
	"  --binary PATH      (cores) the node binary that wrote them; per constructor:\n"
	"                     the counts and sizes in each core (docs/core.md)\n"
	"  --json             JSON output (docs/diff.md)\n"
	"  -v, --verbose      more detail on stderr\n"
	"  -h, --help         this help\n";

struct collect {
	uint32_t *nodes;
	size_t nr, alloc;
};

static void collect_node(uint32_t node, void *data)
{
	struct collect *c = data;

	ALLOC_GROW(c->nodes, c->nr + 1, c->alloc);
	c->nodes[c->nr++] = node;
}

static const struct lh_snapshot *sort_s;

static int cmp_instances(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (sort_s->retained_size[x] != sort_s->retained_size[y])
		return sort_s->retained_size[x] > sort_s->retained_size[y] ? -1 : 1;
	return sort_s->node_id[x] < sort_s->node_id[y] ? -1 : 1;
}

static void new_only(const struct lh_diff *d, const char *cls, uint32_t top, const struct lh_render_opts *o)
{
	const struct lh_diff_row *row = NULL;
	struct collect c = { 0 };

	for (uint32_t i = 0; i < d->nr && !row; i++)
		if (!strcmp(d->rows[i].key, cls) || !strcmp(d->rows[i].name, cls))
			row = &d->rows[i];
	if (!row)
		lh_die("class '%s' has no new or deleted objects between the snapshots; 'leakhunt diff --all' lists those that do",
		       cls);
	lh_diff_for_each_new(d, row, collect_node, &c);
	sort_s = d->new_s;
	if (c.nr)
		qsort(c.nodes, c.nr, sizeof(*c.nodes), cmp_instances);
	lh_report_instances(stdout, o, d->new_s, "leakhunt.new-instances/1", row->name, c.nodes,
			    c.nr < top ? (uint32_t)c.nr : top, (uint32_t)c.nr);
	free(c.nodes);
}

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "top", required_argument, NULL, 't' },
		{ "all", no_argument, NULL, 'a' },
		{ "filter", required_argument, NULL, 'f' },
		{ "new-only", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "binary", required_argument, NULL, 'b' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lh_render_opts o = { 0 };
	const char *filter = NULL, *newonly = NULL, *binary = NULL;
	uint32_t top = 25, *rows, nrows = 0;
	struct lh_snapshot *a, *b;
	struct lh_diff d;
	regex_t re;
	int c;

	while ((c = getopt_long(argc, argv, "hvt:", longopts, NULL)) != -1) {
		switch (c) {
		case 't': top = lh_cmd_count_arg("--top", optarg); break;
		case 'a': top = UINT32_MAX; break;
		case 'f': filter = optarg; break;
		case 'n': newonly = optarg; break;
		case 'j': o.json = 1; break;
		case 'b': binary = optarg; break;
		case 'v': lh_verbosity++; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind + 2 != argc) {
		fprintf(stderr, "leakhunt diff: give two snapshot files, the older first\n\n%s", usage_text);
		return 2;
	}
	if (filter && regcomp(&re, filter, REG_EXTENDED | REG_NOSUB))
		lh_die_usage("--filter '%s' is not a valid regular expression", filter);
	o.width = lh_terminal_width();
	if (lh_core_is_elf(argv[optind]) || lh_core_is_elf(argv[optind + 1])) {
		if (newonly)
			lh_die_usage("--new-only needs heap snapshots (cores have no object ids); use 'leakhunt objects "
			       "--instances CLASS CORE'");
		c = lh_cmd_core_diff(argv[optind], argv[optind + 1], binary, &o, top, filter ? &re : NULL);
		if (filter)
			regfree(&re);
		return c;
	}
	if (binary)
		lh_die_usage("--binary is for core files; '%s' is not one", argv[optind]);
	/*
	 * As DevTools' Comparison view: the new snapshot keeps its own inferred
	 * "{a, b}" names and the old one is classified with them, so one shape
	 * has one name on both sides.
	 */
	b = lh_cmd_open_snapshot(argv[optind + 1], NULL);
	a = lh_cmd_open_snapshot(argv[optind], b);
	lh_diff_compute(&d, a, b);
	if (newonly) {
		new_only(&d, newonly, top, &o);
	} else {
		rows = lh_xmalloc(lh_st_mult((size_t)d.nr + 1, sizeof(uint32_t)));
		for (uint32_t i = 0; i < d.nr; i++)
			if (!filter || !regexec(&re, d.rows[i].name, 0, NULL, 0))
				rows[nrows++] = i;
		lh_report_diff(stdout, &o, &d, rows, nrows < top ? nrows : top, nrows);
		free(rows);
	}
	if (filter)
		regfree(&re);
	lh_diff_release(&d);
	lh_snapshot_free(a);
	lh_snapshot_free(b);
	return 0;
}
