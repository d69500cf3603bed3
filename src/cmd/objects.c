/*
 * leakhunt objects: the findjsobjects census of a heap snapshot (objects by
 * constructor and property names), and --refs: who references an object.
 * The core dump census (issue 5) prints the same table and JSON.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "base/table.h"
#include "cmd.h"
#include "common.h"
#include "report/heap.h"
#include "snapshot/census.h"

static const char usage_text[] =
	"usage: leakhunt objects [options] FILE.heapsnapshot\n"
	"\n"
	"The ::findjsobjects census: JavaScript objects grouped by constructor and\n"
	"property names (one group per object shape), with counts, property counts,\n"
	"an example object (@id) and the property names; biggest groups first.\n"
	"\n"
	"  --top N            show the N biggest groups (default 25)\n"
	"  --all              show every group\n"
	"  --refs @ID         list who references the object @ID, by which edge\n"
	"  --json             JSON output (docs/objects.md)\n"
	"  -v                 more detail on stderr\n"
	"  -h, --help         this help\n";

int cmd_objects(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "top", required_argument, NULL, 't' },
		{ "all", no_argument, NULL, 'a' },
		{ "refs", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lh_render_opts o = { 0 };
	const char *refs = NULL;
	uint32_t top = 25;
	struct lh_snapshot *s;
	int c;

	while ((c = getopt_long(argc, argv, "hvt:", longopts, NULL)) != -1) {
		switch (c) {
		case 't': top = lh_cmd_count_arg("--top", optarg); break;
		case 'a': top = UINT32_MAX; break;
		case 'r': refs = optarg; break;
		case 'j': o.json = 1; break;
		case 'v': lh_verbosity++; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "leakhunt objects: give exactly one snapshot file\n\n%s", usage_text);
		return 2;
	}
	o.width = lh_terminal_width();
	s = lh_cmd_open_snapshot(argv[optind], NULL);
	if (refs) {
		uint32_t node = lh_cmd_node_arg(s, refs);

		lh_snapshot_build_retainers(s);
		lh_report_refs(stdout, &o, s, node);
	} else {
		struct lh_census census;

		lh_census_compute(&census, s);
		lh_report_census(stdout, &o, s, &census, top);
		lh_census_release(&census);
	}
	lh_snapshot_free(s);
	return 0;
}
