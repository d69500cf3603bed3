/*
 * leakhunt objects: the findjsobjects census of a heap snapshot (objects by
 * constructor and property names), and --refs: who references an object.
 * Given a core file instead (an ELF core: told apart by its header), the
 * same census comes from the core's heap pages (src/coredump/) and prints
 * through the same renderer.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/table.h"
#include "cmd.h"
#include "common.h"
#include "coredump/census.h"
#include "coredump/coredump.h"
#include "coredump/jsprint.h"
#include "coredump/v8meta.h"
#include "report/heap.h"
#include "snapshot/census.h"

static const char usage_text[] =
	"usage: leakhunt objects [options] FILE.heapsnapshot\n"
	"   or: leakhunt objects [options] CORE [--binary NODE]\n"
	"\n"
	"The ::findjsobjects census: JavaScript objects grouped by constructor and\n"
	"property names (one group per object shape), with counts, property counts,\n"
	"an example object (@id) and the property names; biggest groups first.\n"
	"\n"
	"  --top N            show the N biggest groups (default 25)\n"
	"  --all              show every group\n"
	"  --refs @ID         list who references the object @ID, by which edge\n"
	"  --binary PATH      the node binary that wrote CORE (default: the program\n"
	"                     the core names)\n"
	"  --print ADDR       (core) print the object at ADDR: properties, elements\n"
	"  --json             JSON output (docs/objects.md)\n"
	"  -v                 more detail on stderr\n"
	"  -h, --help         this help\n";

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* --print: one object, as mdb_v8's ::jsprint shows it. */
static int core_print(const struct lh_v8meta *meta, const char *arg)
{
	struct lh_jsprint p;
	char *end;
	unsigned long long addr = strtoull(arg, &end, 16);

	if (!*arg || *end) {
		fprintf(stderr, "leakhunt objects: '%s' is not an address (give it in hex, as 'leakhunt objects' "
			"prints it)\n", arg);
		return 2;
	}
	if (lh_jsprint_describe(&p, meta, addr))
		return 1;
	printf("0x%llx <%s", addr, p.ctor);
	if (p.type == meta->t_js_array)
		printf(" length %llu", (unsigned long long)p.elements_total);
	printf(">\n");
	for (uint32_t i = 0; i < p.nr; i++)
		printf("  %s%s = %s\n", p.lines[i].key[0] == '[' ? "" : ".", p.lines[i].key, p.lines[i].value);
	lh_jsprint_release(&p);
	return 0;
}

static int core_census(const char *path, const char *binary, const struct lh_render_opts *o, uint32_t top,
		       const char *print)
{
	struct lh_core core;
	struct lh_v8meta meta;
	struct lh_core_census c;
	struct lh_census_row *rows;
	char (*addrs)[24];
	struct timespec t0;
	uint32_t n;

	if (lh_core_open(&core, path))
		return 1;
	if (lh_v8meta_load(&meta, &core, binary)) {
		lh_core_release(&core);
		return 1;
	}
	if (print) {
		int rc = core_print(&meta, print);

		lh_v8meta_release(&meta);
		lh_core_release(&core);
		return rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	lh_core_census_compute(&c, &meta);
	lh_info("scanned %.1f MB of heap in %.3f s: %llu objects in %u groups", c.scanned_bytes / 1e6,
		seconds_since(&t0), (unsigned long long)c.objects, c.nr);
	n = top < c.nr ? top : c.nr;
	rows = lh_xcalloc(n ? n : 1, sizeof(*rows));
	addrs = lh_xcalloc(n ? n : 1, sizeof(*addrs));
	for (uint32_t i = 0; i < n; i++) {
		const struct lh_core_census_group *g = &c.groups[i];

		snprintf(addrs[i], sizeof(addrs[i]), "0x%llx", (unsigned long long)g->representative);
		rows[i] = (struct lh_census_row){ g->ctor, g->props, g->nprops, g->count, g->shallow_size,
						  addrs[i], -1 };
	}
	{
		struct lh_census_view v = { path, "core", c.objects, c.nr, rows, n };

		lh_report_census_view(stdout, o, &v);
	}
	free(rows);
	free(addrs);
	lh_core_census_release(&c);
	lh_v8meta_release(&meta);
	lh_core_release(&core);
	return 0;
}

int cmd_objects(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "top", required_argument, NULL, 't' },
		{ "all", no_argument, NULL, 'a' },
		{ "refs", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "binary", required_argument, NULL, 'b' },
		{ "print", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lh_render_opts o = { 0 };
	const char *refs = NULL, *binary = NULL, *print = NULL;
	uint32_t top = 25;
	struct lh_snapshot *s;
	int c;

	while ((c = getopt_long(argc, argv, "hvt:", longopts, NULL)) != -1) {
		switch (c) {
		case 't': top = lh_cmd_count_arg("--top", optarg); break;
		case 'a': top = UINT32_MAX; break;
		case 'r': refs = optarg; break;
		case 'j': o.json = 1; break;
		case 'b': binary = optarg; break;
		case 'p': print = optarg; break;
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
	if (lh_core_is_elf(argv[optind])) {
		if (refs) {
			fprintf(stderr, "leakhunt objects: --refs on a core is not implemented yet\n");
			return 2;
		}
		return core_census(argv[optind], binary, &o, top, print);
	}
	if (binary || print) {
		fprintf(stderr, "leakhunt objects: --binary and --print are for core files; '%s' is not one\n", argv[optind]);
		return 2;
	}
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
