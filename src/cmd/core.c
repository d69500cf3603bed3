/*
 * leakhunt core: write a core file of a running process (src/coredump/
 * write.c) that `leakhunt objects` and gdb read, and say how long the
 * process was stopped.  The file name goes to stdout, the numbers to stderr.
 *
 * Also the core half of `leakhunt diff` (cmd/diff.c hands two cores here):
 * the census of each core, summed per constructor (src/coredump/growth.c).
 */
#include <getopt.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/human.h"
#include "base/strbuf.h"
#include "cmd/cmd.h"
#include "base/jsonw.h"
#include "base/table.h"
#include "coredump/coredump.h"
#include "coredump/growth.h"
#include "coredump/v8meta.h"
#include "report/heap.h"

static const char usage_text[] =
	"usage: leakhunt core [<options>] PID\n\n"
	"Write a core file of a running process, which keeps running: it is stopped\n"
	"only while its memory is copied.  PROT_NONE reservations and the read-only\n"
	"pages of mapped files are left out (the files hold them).  Analyze it with\n"
	"'leakhunt objects CORE' or open it with 'gdb BINARY CORE'.\n\n"
	"  -o, --output FILE   write here (default core.PID); an existing file is\n"
	"                      never overwritten\n"
	"  -v, --verbose       more detail on stderr\n"
	"  -h, --help          this help\n";

int cmd_core(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lh_coredump_write_stats st;
	struct strbuf path = STRBUF_INIT, sz = STRBUF_INIT, cp = STRBUF_INIT;
	const char *out = NULL;
	pid_t pid;
	int c;

	while ((c = getopt_long(argc, argv, "ho:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'v': lh_verbosity++; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "leakhunt core: give one PID\n\n%s", usage_text);
		return 2;
	}
	if (lh_cmd_pid_arg(argv[optind], &pid) < 0) {
		fprintf(stderr, "leakhunt core: '%s' is not a process id\n\n%s", argv[optind], usage_text);
		return 2;
	}
	signal(SIGXFSZ, SIG_IGN); /* a file size limit: a write error we report, not death */
	if (out)
		strbuf_addstr(&path, out);
	else
		strbuf_addf(&path, "core.%d", (int)pid);
	if (lh_coredump_write(pid, path.buf, &st)) {
		strbuf_release(&path);
		return 1;
	}
	lh_human_size(&sz, (int64_t)st.file_size);
	lh_human_size(&cp, (int64_t)st.copied);
	fprintf(stderr, "leakhunt core: process %d paused %.1f ms: %u threads, %s copied, file %s (%u segments)\n",
		(int)pid, st.pause_ns / 1e6, st.threads, cp.buf, sz.buf, st.segments);
	printf("%s\n", path.buf);
	strbuf_release(&path);
	strbuf_release(&sz);
	strbuf_release(&cp);
	return 0;
}

/* One core of a diff, loaded and counted. */
struct diff_side {
	struct lh_core core;
	struct lh_v8meta meta;
	struct lh_core_census census;
};

static int load_side(struct diff_side *d, const char *path, const char *binary)
{
	if (lh_core_open(&d->core, path))
		return -1;
	if (lh_v8meta_load(&d->meta, &d->core, binary)) {
		lh_core_release(&d->core);
		return -1;
	}
	lh_core_census_compute(&d->census, &d->meta);
	lh_info("core '%s': %llu objects in %u groups", path, (unsigned long long)d->census.objects, d->census.nr);
	return 0;
}

static void release_side(struct diff_side *d)
{
	lh_core_census_release(&d->census);
	lh_v8meta_release(&d->meta);
	lh_core_release(&d->core);
}

static void growth_json(const struct lh_core_growth *g, const char *old_path, const char *new_path,
			const uint32_t *rows, uint32_t nrows, uint32_t total)
{
	struct lh_jsonw w;

	lh_jsonw_init(&w, stdout, 0);
	lh_jsonw_object(&w);
	lh_jsonw_kstr(&w, "format", "leakhunt.core-diff/1");
	lh_jsonw_kstr(&w, "old", old_path);
	lh_jsonw_kstr(&w, "new", new_path);
	lh_jsonw_kstr(&w, "source", "core");
	lh_jsonw_kuint(&w, "class_count", total);
	lh_jsonw_key(&w, "classes");
	lh_jsonw_array(&w);
	for (uint32_t i = 0; i < nrows; i++) {
		const struct lh_core_growth_row *r = &g->rows[rows[i]];

		lh_jsonw_object(&w);
		lh_jsonw_kstr(&w, "name", r->name);
		lh_jsonw_kuint(&w, "old_count", r->old_count);
		lh_jsonw_kuint(&w, "new_count", r->new_count);
		lh_jsonw_kint(&w, "count_delta", lh_core_growth_count_delta(r));
		lh_jsonw_kuint(&w, "old_size", r->old_size);
		lh_jsonw_kuint(&w, "new_size", r->new_size);
		lh_jsonw_kint(&w, "size_delta", lh_core_growth_size_delta(r));
		lh_jsonw_end(&w);
	}
	lh_jsonw_end(&w);
	lh_jsonw_end(&w);
	lh_jsonw_finish(&w);
}

static void growth_table(const struct lh_core_growth *g, const char *old_path, const char *new_path,
			 const struct lh_render_opts *o, const uint32_t *rows, uint32_t nrows, uint32_t total)
{
	struct strbuf sb = STRBUF_INIT;
	struct lh_table t;

	lh_terminal_printf(stdout, "%s -> %s\n\n", old_path, new_path);
	lh_table_init(&t, "Constructor:l*,Old:r,New:r,Delta:r,Old size:r,New size:r,Size delta:r");
	t.max_width = o->width;
	for (uint32_t i = 0; i < nrows; i++) {
		const struct lh_core_growth_row *r = &g->rows[rows[i]];
		int64_t sd = lh_core_growth_size_delta(r);

		lh_table_cell(&t, "%s", r->name);
		lh_human_count(&sb, (int64_t)r->old_count, 0);
		lh_table_cell_sb(&t, &sb);
		lh_human_count(&sb, (int64_t)r->new_count, 0);
		lh_table_cell_sb(&t, &sb);
		lh_human_count(&sb, lh_core_growth_count_delta(r), 1);
		lh_table_cell_sb(&t, &sb);
		lh_human_size(&sb, (int64_t)r->old_size);
		lh_table_cell_sb(&t, &sb);
		lh_human_size(&sb, (int64_t)r->new_size);
		lh_table_cell_sb(&t, &sb);
		if (sd > 0)
			strbuf_addch(&sb, '+');
		lh_human_size(&sb, sd);
		lh_table_cell_sb(&t, &sb);
	}
	lh_table_print(&t, stdout);
	lh_table_release(&t);
	if (nrows < total)
		printf("... %u more constructors (--top N or --all)\n", total - nrows);
	strbuf_release(&sb);
}

int lh_cmd_core_diff(const char *old_path, const char *new_path, const char *binary,
		     const struct lh_render_opts *o, uint32_t top, const regex_t *re)
{
	struct diff_side a, b;
	struct lh_core_growth g;
	uint32_t *rows, nrows = 0;

	if (load_side(&a, old_path, binary))
		return 1;
	if (load_side(&b, new_path, binary)) {
		release_side(&a);
		return 1;
	}
	/* counts of two programs say nothing about growth; a restart between the cores changes the pid too */
	if (a.core.pid != b.core.pid)
		lh_warn("cores '%s' (pid %d) and '%s' (pid %d) are of different processes: the counts are "
			"compared, but growth means something only within one process", old_path, a.core.pid,
			new_path, b.core.pid);
	lh_core_growth_compute(&g, &a.census, &b.census);
	rows = malloc(((size_t)g.nr + 1) * sizeof(*rows));
	if (!rows)
		lh_die("out of memory");
	for (uint32_t i = 0; i < g.nr; i++)
		if (!re || !regexec(re, g.rows[i].name, 0, NULL, 0))
			rows[nrows++] = i;
	if (o->json)
		growth_json(&g, old_path, new_path, rows, nrows < top ? nrows : top, nrows);
	else
		growth_table(&g, old_path, new_path, o, rows, nrows < top ? nrows : top, nrows);
	free(rows);
	lh_core_growth_release(&g);
	release_side(&b);
	release_side(&a);
	return 0;
}
