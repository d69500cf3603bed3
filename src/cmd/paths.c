/*
 * leakhunt paths: why is this object alive?  The retainer paths from the
 * GC roots to one object, shortest first, as DevTools' Retainers panel and
 * memlab's leak traces show them.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "cmd.h"
#include "common.h"
#include "report/heap.h"
#include "snapshot/paths.h"

static const char usage_text[] =
	"usage: leakhunt paths [options] FILE.heapsnapshot (@ID | CLASS)\n"
	"\n"
	"The retainer paths from the GC roots to an object, shortest first, with\n"
	"each edge's name and type. @ID names an object by its snapshot id (as shown\n"
	"by 'summary --objects'); CLASS takes that class's instance with the largest\n"
	"retained size. Weak edges are not followed: they do not keep objects alive.\n"
	"\n"
	"  -n, --max N        show at most N paths (default 5)\n"
	"  --max-visits N     stop the search after N steps (default 100000)\n"
	"  --json             JSON output (docs/paths.md)\n"
	"  -v, --verbose      more detail on stderr\n"
	"  -h, --help         this help\n";

int cmd_paths(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "max", required_argument, NULL, 'n' },
		{ "max-visits", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lh_render_opts o = { 0 };
	uint32_t max = 5, visits = 100000, node;
	struct lh_snapshot *s;
	struct lh_paths p;
	int c;

	while ((c = getopt_long(argc, argv, "hvn:", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			max = lh_cmd_count_arg("--max", optarg);
			if (!max)
				lh_die_usage("--max needs at least 1 path");
			break;
		case 'm': visits = lh_cmd_count_arg("--max-visits", optarg); break;
		case 'j': o.json = 1; break;
		case 'v': lh_verbosity++; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind + 2 != argc) {
		fprintf(stderr, "leakhunt paths: give a snapshot file and an object (@ID or CLASS)\n\n%s", usage_text);
		return 2;
	}
	s = lh_cmd_open_snapshot(argv[optind], NULL);
	node = lh_cmd_node_arg(s, argv[optind + 1]);
	lh_paths_find(s, node, max, visits, &p);
	lh_report_paths(stdout, &o, s, &p);
	lh_paths_release(&p);
	lh_snapshot_free(s);
	return 0;
}
