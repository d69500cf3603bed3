/*
 * leakhunt objects: the findjsobjects census of a heap snapshot (objects by
 * constructor and property names), and --refs: who references an object.
 * Given a core file instead (an ELF core: told apart by its header), the
 * same census comes from the core's heap pages (src/coredump/) and prints
 * through the same renderer; --print, --refs and --instances on a core
 * print here (their models are the core's own: addresses, not node ids).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/human.h"
#include "base/jsonw.h"
#include "base/table.h"
#include "cmd.h"
#include "common.h"
#include "coredump/census.h"
#include "coredump/coredump.h"
#include "coredump/jsprint.h"
#include "coredump/refs.h"
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
	"                     (core: --refs ADDR, every word holding ADDR)\n"
	"  --instances NAME   (core) list the objects whose constructor is NAME\n"
	"  --binary PATH      the node binary that wrote CORE (default: the program\n"
	"                     the core names)\n"
	"  --print ADDR       (core) print the object at ADDR: properties, elements\n"
	"  --json             JSON output (docs/objects.md)\n"
	"  -v, --verbose      more detail on stderr\n"
	"  -h, --help         this help\n";

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ADDR in hex, as the census prints it: strtoull alone took "-1" and
 * anything past 64 bits as 0xffffffffffffffff, and " 0x10" as 0x10. */
static int parse_addr(const char *arg, uint64_t *addr)
{
	char *end;

	errno = 0;
	*addr = strtoull(arg, &end, 16);
	if (isxdigit((unsigned char)*arg) && !*end && !errno)
		return 0;
	fprintf(stderr, "leakhunt objects: '%s' is not an address (give it in hex, as 'leakhunt objects' prints it)\n",
		arg);
	return 2;
}

/* --print: one object, as mdb_v8's ::jsprint shows it. */
static int core_print(const struct lh_v8meta *meta, const char *arg)
{
	struct lh_jsprint p;
	uint64_t addr;
	int rc = parse_addr(arg, &addr);

	if (rc)
		return rc;
	if (lh_jsprint_describe(&p, meta, addr))
		return 1;
	if (!lh_v8_heap_area(meta, addr - meta->heap_tag))
		lh_warn("0x%llx is outside V8's pages (native memory): what follows may be a stale copy of an "
			"object's first words, not an object", (unsigned long long)addr);
	lh_terminal_printf(stdout, "0x%llx <%s", (unsigned long long)addr, p.ctor);
	if (p.type == meta->t_js_array)
		printf(" length %llu", (unsigned long long)p.elements_total);
	printf(">\n");
	for (uint32_t i = 0; i < p.nr; i++) {
		/* a value is escaped already (strings are quoted by jsprint) */
		lh_terminal_printf(stdout, "  %s%s", p.lines[i].key[0] == '[' ? "" : ".", p.lines[i].key);
		printf(" = %s\n", p.lines[i].value);
	}
	lh_jsprint_release(&p);
	return 0;
}

static void json_hex(struct lh_jsonw *w, const char *key, uint64_t v)
{
	char buf[24];

	lh_jsonw_key(w, key);
	if (!v) {
		lh_jsonw_null(w);
		return;
	}
	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	lh_jsonw_str(w, buf);
}

/* --refs on a core: every word holding the address, its holder and slot, and the holder's owner. */
static int core_refs(const struct lh_v8meta *meta, const struct lh_render_opts *o, const char *arg, uint32_t top)
{
	struct lh_core_refs r;
	struct strbuf sb = STRBUF_INIT;
	struct lh_table t;
	uint64_t addr;
	int rc = parse_addr(arg, &addr);

	if (rc)
		return rc;
	if (lh_core_refs_find(&r, meta, addr, top == UINT32_MAX ? 1000000 : top))
		return 1;
	if (o->json) {
		struct lh_jsonw w;

		lh_jsonw_init(&w, stdout, 0);
		lh_jsonw_object(&w);
		lh_jsonw_kstr(&w, "format", "leakhunt.refs/1");
		lh_jsonw_kstr(&w, "file", meta->core->path);
		lh_jsonw_kstr(&w, "source", "core");
		json_hex(&w, "address", addr);
		lh_jsonw_kuint(&w, "ref_count", r.total);
		lh_jsonw_key(&w, "refs");
		lh_jsonw_array(&w);
		for (uint32_t i = 0; i < r.nr; i++) {
			const struct lh_core_ref *x = &r.refs[i];

			lh_jsonw_object(&w);
			json_hex(&w, "slot", x->slot);
			json_hex(&w, "from_address", x->from);
			lh_jsonw_kstr(&w, "from", x->from_label);
			lh_jsonw_kstr(&w, "edge_name", x->edge);
			json_hex(&w, "owner_address", x->owner);
			lh_jsonw_key(&w, "owner");
			if (x->owner)
				lh_jsonw_str(&w, x->owner_label);
			else
				lh_jsonw_null(&w);
			lh_jsonw_key(&w, "owner_edge_name");
			if (x->owner)
				lh_jsonw_str(&w, x->owner_edge);
			else
				lh_jsonw_null(&w);
			lh_jsonw_end(&w);
		}
		lh_jsonw_end(&w);
		lh_jsonw_end(&w);
		lh_jsonw_finish(&w);
		lh_core_refs_release(&r);
		return 0;
	}
	lh_jsprint_value(meta, addr, &sb);
	printf("%s is referenced from %llu slot%s\n\n", sb.buf, (unsigned long long)r.total, r.total == 1 ? "" : "s");
	strbuf_reset(&sb);
	lh_table_init(&t, "Referrer:l*,Slot:l,Used by:l");
	t.max_width = o->width;
	for (uint32_t i = 0; i < r.nr; i++) {
		const struct lh_core_ref *x = &r.refs[i];

		/* a string referrer is jsprint's literal, escaped already:
		 * escaped again it read "a\\nb" under the title's "a\nb" */
		strbuf_addstr(&sb, x->from_label);
		lh_table_cell_literal(&t, &sb);
		lh_table_cell(&t, "%s", x->edge);
		if (x->owner)
			lh_table_cell(&t, "%s %s", x->owner_label, x->owner_edge);
		else
			lh_table_cell(&t, "%s", "");
	}
	lh_table_print(&t, stdout);
	lh_table_release(&t);
	if (r.nr < r.total)
		printf("... %llu more (--top N or --all)\n", (unsigned long long)(r.total - r.nr));
	strbuf_release(&sb);
	lh_core_refs_release(&r);
	return 0;
}

struct instances {
	const char *name;
	signed char *match;       /* per signature id: -1 not yet known, 0, 1 */
	size_t nmatch;
	struct instance {
		uint64_t addr;
		uint32_t key, size;
	} *v;
	size_t nr, alloc;
};

static void collect_instance(const struct lh_core_census *c, uint64_t obj, uint32_t key, uint32_t size, void *data)
{
	struct instances *in = data;

	if (key >= in->nmatch) {
		size_t n = in->nmatch ? in->nmatch : 64;

		while (n <= key)
			n *= 2;
		in->match = lh_xrealloc(in->match, n);
		memset(in->match + in->nmatch, -1, n - in->nmatch);
		in->nmatch = n;
	}
	if (in->match[key] < 0)
		in->match[key] = !strcmp(lh_core_census_key_ctor(c, key), in->name);
	if (!in->match[key])
		return;
	ALLOC_GROW(in->v, in->nr + 1, in->alloc);
	in->v[in->nr++] = (struct instance){ obj, key, size };
}

/* The group of signature key, after the census (groups are few: a linear search per instance shown). */
static const struct lh_core_census_group *group_of(const struct lh_core_census *c, uint32_t key)
{
	for (uint32_t i = 0; i < c->nr; i++)
		if (c->groups[i].key == key)
			return &c->groups[i];
	return NULL;
}

/* --instances NAME on a core: the objects whose constructor is NAME, in address order. */
static int core_instances(const struct lh_v8meta *meta, const struct lh_render_opts *o, const char *name,
			  uint32_t top)
{
	struct instances in = { name, NULL, 0, NULL, 0, 0 };
	struct lh_core_census c;
	struct strbuf sb = STRBUF_INIT;
	uint32_t n;

	lh_core_census_visit(&c, meta, collect_instance, &in);
	if (!in.nr) {
		lh_error("no objects with constructor '%s' in core '%s'; 'leakhunt objects --all' lists the "
			 "constructors", name, meta->core->path);
		free(in.match);
		lh_core_census_release(&c);
		return 1;
	}
	n = top < in.nr ? top : (uint32_t)in.nr;
	if (o->json) {
		struct lh_jsonw w;

		lh_jsonw_init(&w, stdout, 0);
		lh_jsonw_object(&w);
		lh_jsonw_kstr(&w, "format", "leakhunt.instances/1");
		lh_jsonw_kstr(&w, "file", meta->core->path);
		lh_jsonw_kstr(&w, "source", "core");
		lh_jsonw_kstr(&w, "class", name);
		lh_jsonw_kuint(&w, "count", in.nr);
		lh_jsonw_key(&w, "instances");
		lh_jsonw_array(&w);
		for (uint32_t i = 0; i < n; i++) {
			const struct lh_core_census_group *g = group_of(&c, in.v[i].key);

			lh_jsonw_object(&w);
			json_hex(&w, "address", in.v[i].addr);
			lh_jsonw_kuint(&w, "shallow_size", in.v[i].size);
			lh_jsonw_key(&w, "properties");
			lh_jsonw_array(&w);
			for (uint32_t k = 0; g && k < g->nprops; k++)
				lh_jsonw_str(&w, g->props[k]);
			lh_jsonw_end(&w);
			lh_jsonw_end(&w);
		}
		lh_jsonw_end(&w);
		lh_jsonw_end(&w);
		lh_jsonw_finish(&w);
	} else {
		struct lh_table t;

		lh_terminal_printf(stdout, "%s: %zu instances of %s\n\n", meta->core->path, in.nr, name);
		lh_table_init(&t, "Address:l,Shallow size:r,Properties:l*");
		t.max_width = o->width;
		for (uint32_t i = 0; i < n; i++) {
			const struct lh_core_census_group *g = group_of(&c, in.v[i].key);

			lh_table_cell(&t, "0x%llx", (unsigned long long)in.v[i].addr);
			lh_human_size(&sb, in.v[i].size);
			lh_table_cell_sb(&t, &sb);
			for (uint32_t k = 0; g && k < g->nprops; k++)
				strbuf_addf(&sb, "%s%s", k ? ", " : "", g->props[k]);
			lh_table_cell_sb(&t, &sb);
		}
		lh_table_print(&t, stdout);
		lh_table_release(&t);
		if (n < in.nr)
			printf("... %zu more instances (--top N or --all)\n", in.nr - n);
	}
	strbuf_release(&sb);
	free(in.match);
	free(in.v);
	lh_core_census_release(&c);
	return 0;
}

static int core_census(const char *path, const char *binary, const struct lh_render_opts *o, uint32_t top,
		       const char *print, const char *refs, const char *instances)
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
	if (print || refs || instances) {
		int rc = print ? core_print(&meta, print) : refs ? core_refs(&meta, o, refs, top) :
			 core_instances(&meta, o, instances, top);

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
		{ "instances", required_argument, NULL, 'i' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lh_render_opts o = { 0 };
	const char *refs = NULL, *binary = NULL, *print = NULL, *instances = NULL;
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
		case 'i': instances = optarg; break;
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
	if (!!print + !!refs + !!instances > 1) {
		fprintf(stderr, "leakhunt objects: give one of --print, --refs and --instances\n");
		return 2;
	}
	if (lh_core_is_elf(argv[optind]))
		return core_census(argv[optind], binary, &o, top, print, refs, instances);
	if (binary || print || instances) {
		fprintf(stderr, "leakhunt objects: --binary, --print and --instances are for core files; '%s' is not one\n",
			argv[optind]);
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
