/*
 * leakhunt stats: DevTools' Statistics panel (code, strings, JS arrays,
 * typed arrays, system objects, other, total) and the snapshot's node, edge
 * and string counts.
 */
#include <getopt.h>
#include <stdio.h>

#include "base/error.h"
#include "cmd.h"
#include "common.h"
#include "report/heap.h"

static const char usage_text[] =
	"usage: leakhunt stats [options] FILE.heapsnapshot\n"
	"\n"
	"DevTools' Statistics: the heap total (retained by the root, plus memory\n"
	"outside the JavaScript heap the snapshot reports) split into code, strings,\n"
	"JS arrays, typed arrays, system objects and other; and the snapshot's\n"
	"node, edge and string counts.\n"
	"\n"
	"  --json             JSON output (docs/stats.md)\n"
	"  -v, --verbose      more detail on stderr\n"
	"  -h, --help         this help\n";

int cmd_stats(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lh_render_opts o = { 0 };
	struct lh_snapshot *s;
	int c;

	while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': o.json = 1; break;
		case 'v': lh_verbosity++; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "leakhunt stats: give exactly one snapshot file\n\n%s", usage_text);
		return 2;
	}
	s = lh_cmd_open_snapshot(argv[optind], NULL);
	lh_report_stats(stdout, &o, s);
	lh_snapshot_free(s);
	return 0;
}
