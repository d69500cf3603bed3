/*
 * leakhunt report: every analysis of a .lht trace from `leakhunt record`
 * (issue 3): the summary, top sites, bottom-up and top-down trees, callers
 * and callees, the size histogram, the timeline, the live heap at a moment,
 * the diff of two traces, and the exports (JSON, folded, speedscope, HTML).
 *
 * This file only wires: parse options, load the model (src/native/analyze.c,
 * one streaming pass), build the views (callgraph.c), hand them to the
 * renderers (src/report/native*.c).  Documentation: docs/report.md.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/outfile.h"
#include "base/table.h"
#include "cmd.h"
#include "native/analyze.h"
#include "native/callgraph.h"
#include "native/suppress.h"
#include "report/native.h"

static const char usage_text[] =
	"usage: leakhunt report [options] FILE.lht\n"
	"   or: leakhunt report --diff [options] OLD.lht NEW.lht\n"
	"\n"
	"Analyze a trace written by 'leakhunt record'.  Without a view option: the\n"
	"summary and the top sites by calls, peak, leaked bytes and temporaries.\n"
	"\n"
	"views\n"
	"  --sort KEY         one site list ordered by calls|bytes|temporary|peak|leaked\n"
	"                     (default peak; also orders trees, --function and --diff)\n"
	"  --top N            rows per list, roots per tree, timeline rows (default 10)\n"
	"  --bottom-up        tree from the allocating functions to their callers\n"
	"  --top-down         tree from the outermost callers to the allocators\n"
	"  --children N       children per tree node (default 5)\n"
	"  --depth N          levels per tree (default 32)\n"
	"  --function NAME    callers and callees of one function (exact name)\n"
	"  --histogram        allocation sizes\n"
	"  --timeline         heap, RSS, allocations and temporaries over time, with a\n"
	"                     chart\n"
	"  --at TIME|peak     the live heap at TIME (seconds; or 250ms) or at the peak,\n"
	"                     by site\n"
	"  --leaks            every leaking stack, innermost frame first\n"
	"  --diff             per-site change from OLD.lht to NEW.lht (with --json,\n"
	"                     --sort, --top, --filter, --no-inline, suppressions; no\n"
	"                     other view)\n"
	"exports\n"
	"  --json             the model as JSON (docs/report.md)\n"
	"  --folded[=COST]    folded stacks for flamegraph.pl / inferno; COST is\n"
	"                     allocations (default), temporary, peak, leaked or bytes\n"
	"                     (--folded --cost COST is the same)\n"
	"  --speedscope FILE  a speedscope profile (one per cost type) in FILE, a new\n"
	"                     file (an existing one is never overwritten)\n"
	"  --html FILE        a self-contained HTML report in FILE, a new file:\n"
	"                     summary, timeline chart, sortable site tables (--top\n"
	"                     rows, default 50), functions with callers and callees,\n"
	"                     leaks with whole stacks, size histogram, flame graph,\n"
	"                     search over frames and tables\n"
	"  --no-inline        name only the function holding each address, not the\n"
	"                     functions inlined there\n"
	"  --filter REGEX     keep stacks with a function matching REGEX (POSIX\n"
	"                     extended); the summary, --histogram and --timeline stay\n"
	"                     whole-program\n"
	"  --suppressions FILE\n"
	"                     LeakSanitizer 'leak:PATTERN' lines (repeatable)\n"
	"  --no-builtin-suppressions\n"
	"                     also count libc internals (thread DTV, ...) as leaks\n"
	"  -v, --verbose      more detail on stderr (and file:line in --leaks)\n"
	"  -h, --help         this help\n";

enum {
	OPT_JSON = 256, OPT_LEAKS, OPT_SORT, OPT_TOP, OPT_BOTTOM_UP, OPT_TOP_DOWN, OPT_CHILDREN, OPT_DEPTH,
	OPT_FUNCTION, OPT_HISTOGRAM, OPT_TIMELINE, OPT_AT, OPT_DIFF, OPT_FOLDED, OPT_SPEEDSCOPE,
	OPT_NO_INLINE, OPT_FILTER, OPT_SUPP, OPT_NO_BUILTIN, OPT_COST, OPT_HTML,
};

struct report_args {
	int json, leaks, bottom_up, top_down, histogram, timeline, diff, folded, sorted, cost;
	int top_set;             /* --top given: else the HTML report shows 50 rows, not 10 */
	int at;                  /* 0 none, 1 a time, 2 the peak */
	uint64_t at_ms;
	enum lh_cost folded_cost;
	const char *function, *speedscope, *html, *filter;
	unsigned flags;
	struct lh_suppressions supp;
	struct lh_native_opts o;
};

/* Option values the command cannot take are usage errors: these exit (2). */
static void parse_count(const char *opt, const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		lh_die_usage("bad %s '%s': expected a whole number", opt, s);
	*out = (size_t)v;
}

/*
 * A --filter that is not a regular expression is a usage error, exit 2, as
 * in summary and diff: found when the call graph was built, it exited 1.
 * Compiled as lh_callgraph_build compiles it.
 */
static void check_filter(const char *filter)
{
	regex_t re;
	int rc = regcomp(&re, filter, REG_EXTENDED | REG_NOSUB);
	char msg[256];

	if (!rc) {
		regfree(&re);
		return;
	}
	regerror(rc, &re, msg, sizeof(msg));
	lh_die_usage("bad --filter '%s': %s (a POSIX extended regular expression)", filter, msg);
}

/*
 * A --suppressions file that cannot be read or parsed is a usage error, said
 * as the others are ("leakhunt report: cannot read suppressions ..."), not
 * as a library error.
 */
static void load_suppressions(struct lh_suppressions *supp, const char *path)
{
	struct strbuf why = STRBUF_INIT;
	int rc;

	lh_error_capture(&why);
	rc = lh_suppressions_load(supp, path);
	lh_error_capture(NULL);
	if (why.len && why.buf[why.len - 1] == '\n')
		strbuf_setlen(&why, why.len - 1);
	if (rc)
		lh_die_usage("%s", why.buf);
	strbuf_release(&why);
}

/*
 * The latest --at moment, in ms: 10^9 seconds (31 years) is later than any
 * recording ends, and every ms up to it is exact in a double, so the cast
 * below is defined.
 */
#define AT_MAX_S 1000000000.0

/* "peak", or seconds ("1.5", "2s") or milliseconds ("250ms"). */
static void parse_at(const char *s, struct report_args *a)
{
	char *end;
	double v, ms;

	if (!strcmp(s, "peak")) {
		a->at = 2;
		return;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || (strcmp(end, "ms") && strcmp(end, "s") && *end))
		lh_die_usage("bad --at '%s': expected seconds (1.5), milliseconds (250ms) or 'peak'", s);
	ms = strcmp(end, "ms") ? v * 1000 + 0.5 : v;
	/* written so that NaN fails too */
	if (!(v >= 0 && ms <= AT_MAX_S * 1000 + 0.5))
		lh_die_usage("bad --at '%s': not a time from 0 to %.0f seconds (about 31 years) since the start",
				s, AT_MAX_S);
	a->at_ms = (uint64_t)ms;
	a->at = 1;
}

static int load(struct lh_alloc_model *m, const char *path, const struct report_args *a)
{
	lh_alloc_model_init(m, a->at == 1 ? a->at_ms : LH_AT_END);
	if (lh_alloc_model_load(m, path))
		return -1;
	lh_alloc_model_finish(m, a->flags, &a->supp);
	if (m->write_error)
		lh_warn("'%s' is cut short: writing it failed while the program ran (%s), and recording "
			"stopped; the report covers what reached the file", path, strerror(m->write_error));
	/* damage as well: a file can be both cut and damaged after */
	if (m->damage.len)
		lh_warn("'%s' is cut short: %s; the report covers everything before it", path, m->damage.buf);
	else if (!m->ended)
		lh_warn("'%s' has no end record: the program was killed, crashed, or replaced itself with another "
			"program (exec); the report covers what reached the file", path);
	if (m->missing > m->missing_at_end)
		lh_warn("'%s': %" PRIu64 " events were lost (buffers not flushed when the program died)", path,
			m->missing - m->missing_at_end);
	if (m->missing_at_end)
		lh_warn("'%s': the end record counts %" PRIu64 " events, but no event of the trace has a number from %"
			PRIu64 " to %" PRIu64 " (lost, or the end record is damaged)", path, m->end_events,
			m->end_events - m->missing_at_end, m->end_events - 1);
	if (m->duplicates)
		lh_warn("'%s' is damaged: %" PRIu64 " events have the number of an earlier event; only the first of "
			"each counts", path, m->duplicates);
	if (!m->has_symbols && m->nnodes > 1)
		lh_warn("'%s' has no symbol table (%s); frames are shown as module+offset", path,
			m->damage.len ? "reading stopped at the damage, before the table" : "recording did not finish");
	lh_info("'%s': %" PRIu64 " events, %zu stacks, %zu functions, order restored with a lag of at most %" PRIu64
		" events", path, m->events, m->nnodes, (size_t)m->funcs.nr, m->max_lag);
	return 0;
}

/* A sampled trace has no estimate of its temporary allocations: they cannot
 * order a list (nor, in --diff, the changes: one side's would count as 0). */
static int refuse_temporary(const struct report_args *a, const struct lh_alloc_model *m, const char *path)
{
	if (!m->sample_mean || !((a->sorted && a->o.sort == LH_COST_TEMPORARY) ||
				 (a->folded && a->folded_cost == LH_COST_TEMPORARY)))
		return 0;
	lh_error("'%s' is a sampled recording (record --sample): its temporary allocations are not "
		 "estimated; sort by calls, bytes, peak or leaked", path);
	return -1;
}

static int run_diff(struct report_args *a, const char *old_path, const char *new_path)
{
	struct lh_alloc_model ma, mb;
	struct lh_callgraph ga, gb;
	int ret = 1;

	if (load(&ma, old_path, a))
		return 1;
	if (load(&mb, new_path, a))
		goto out_a;
	if (refuse_temporary(a, &ma, old_path) || refuse_temporary(a, &mb, new_path))
		goto out_b;
	if (lh_callgraph_build(&ga, &ma, a->filter))
		goto out_b;
	if (lh_callgraph_build(&gb, &mb, a->filter))
		goto out_ga;
	if (a->json) {
		ret = lh_native_write_diff_json(stdout, &ga, &gb, &a->o, 0) ? 1 : 0;
	} else {
		printf("old: %s\n", old_path);
		lh_native_print_summary(stdout, &ma);
		printf("\nnew: %s\n", new_path);
		lh_native_print_summary(stdout, &mb);
		lh_native_print_diff(stdout, &ga, &gb, &a->o);
		ret = 0;
	}
	lh_callgraph_release(&gb);
out_ga:
	lh_callgraph_release(&ga);
out_b:
	lh_alloc_model_release(&mb);
out_a:
	lh_alloc_model_release(&ma);
	return ret;
}

static int run(struct report_args *a, const char *path)
{
	struct lh_alloc_model m;
	struct lh_callgraph g;
	FILE *speedscope = NULL, *html = NULL;
	int ret = 0, views;

	/* made before the trace is read: a name that cannot be used fails at
	 * once, not after the analysis */
	if (a->speedscope && !(speedscope = lh_create_new(a->speedscope)))
		return 1;
	if (a->html && !(html = lh_create_new(a->html)))
		return 1;
	if (load(&m, path, a))
		goto out_speedscope;
	if (refuse_temporary(a, &m, path)) {
		lh_alloc_model_release(&m);
		goto out_speedscope;
	}
	if (lh_callgraph_build(&g, &m, a->filter)) {
		lh_alloc_model_release(&m);
		goto out_speedscope;
	}
	if (speedscope && lh_close_new(speedscope, a->speedscope, lh_native_write_speedscope(speedscope, &g, path)))
		ret = -1;
	if (html) {
		struct lh_native_opts ho = a->o;

		if (!a->top_set)
			ho.top = 50;
		if (lh_close_new(html, a->html, lh_native_write_html(html, &g, &ho)))
			ret = -1;
	}
	if (a->json) {
		if (lh_native_write_json(stdout, &g, &a->o, a->at, 0))
			ret = -1;
		goto out;
	}
	if (a->folded) {
		lh_native_write_folded(stdout, &g, a->folded_cost);
		goto out;
	}
	if ((a->speedscope || a->html) && !a->leaks && !a->bottom_up && !a->top_down && !a->function &&
	    !a->histogram && !a->timeline && !a->at && !a->sorted)
		goto out;
	lh_native_print_summary(stdout, &m);
	if (a->leaks) {
		lh_native_print_leaks(stdout, &g);
		goto out;
	}
	views = a->bottom_up + a->top_down + !!a->function + a->histogram + a->timeline + !!a->at;
	if (a->sorted || !views) {
		if (a->sorted) {
			lh_native_print_sites(stdout, &g, &a->o);
		} else {
			static const enum lh_cost order[] = { LH_COST_CALLS, LH_COST_PEAK, LH_COST_LEAKED, LH_COST_TEMPORARY };

			for (size_t i = 0; i < (m.sample_mean ? 3 : 4); i++) {
				a->o.sort = order[i];
				lh_native_print_sites(stdout, &g, &a->o);
			}
			a->o.sort = LH_COST_PEAK;
		}
	}
	if (a->bottom_up)
		lh_native_print_tree(stdout, &g, 1, &a->o);
	if (a->top_down)
		lh_native_print_tree(stdout, &g, 0, &a->o);
	if (a->function)
		lh_native_print_function(stdout, &g, a->function, &a->o);
	if (a->histogram)
		lh_native_print_histogram(stdout, &m);
	if (a->timeline)
		lh_native_print_timeline(stdout, &m, &a->o);
	if (a->at)
		lh_native_print_at(stdout, &g, a->at == 2, &a->o);
out:
	if (fflush(stdout))
		ret = lh_error("cannot write the report: %s", strerror(errno));
	lh_callgraph_release(&g);
	lh_alloc_model_release(&m);
	return ret ? 1 : 0;
out_speedscope:
	if (speedscope)
		lh_close_new(speedscope, a->speedscope, 1);
	if (html)
		lh_close_new(html, a->html, 1);
	return 1;
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "leaks", no_argument, NULL, OPT_LEAKS },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "bottom-up", no_argument, NULL, OPT_BOTTOM_UP },
		{ "top-down", no_argument, NULL, OPT_TOP_DOWN },
		{ "children", required_argument, NULL, OPT_CHILDREN },
		{ "depth", required_argument, NULL, OPT_DEPTH },
		{ "function", required_argument, NULL, OPT_FUNCTION },
		{ "histogram", no_argument, NULL, OPT_HISTOGRAM },
		{ "timeline", no_argument, NULL, OPT_TIMELINE },
		{ "at", required_argument, NULL, OPT_AT },
		{ "diff", no_argument, NULL, OPT_DIFF },
		{ "folded", optional_argument, NULL, OPT_FOLDED },
		{ "cost", required_argument, NULL, OPT_COST },
		{ "speedscope", required_argument, NULL, OPT_SPEEDSCOPE },
		{ "html", required_argument, NULL, OPT_HTML },
		{ "no-inline", no_argument, NULL, OPT_NO_INLINE },
		{ "filter", required_argument, NULL, OPT_FILTER },
		{ "suppressions", required_argument, NULL, OPT_SUPP },
		{ "no-builtin-suppressions", no_argument, NULL, OPT_NO_BUILTIN },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_args a;
	int c, ret;

	memset(&a, 0, sizeof(a));
	lh_suppressions_init(&a.supp);
	a.o.sort = LH_COST_PEAK;
	a.o.top = 10;
	a.o.children = 5;
	a.o.depth = 32;
	a.o.width = lh_terminal_width();
	a.folded_cost = LH_COST_CALLS;
	while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: a.json = 1; break;
		case OPT_LEAKS: a.leaks = 1; break;
		case OPT_SORT:
			if (lh_cost_parse(optarg, &a.o.sort) || a.o.sort == LH_COST_AT)
				goto bad_cost;
			a.sorted = 1;
			break;
		case OPT_COST:
		case OPT_FOLDED:
			if (c == OPT_FOLDED)
				a.folded = 1;
			else
				a.cost = 1;
			if (optarg && (lh_cost_parse(optarg, &a.folded_cost) || a.folded_cost == LH_COST_AT))
				goto bad_cost;
			break;
		case OPT_TOP:
			parse_count("--top", optarg, &a.o.top);
			a.top_set = 1;
			break;
		case OPT_CHILDREN:
			parse_count("--children", optarg, &a.o.children);
			break;
		case OPT_DEPTH:
			parse_count("--depth", optarg, &a.o.depth);
			break;
		case OPT_BOTTOM_UP: a.bottom_up = 1; break;
		case OPT_TOP_DOWN: a.top_down = 1; break;
		case OPT_FUNCTION: a.function = optarg; break;
		case OPT_HISTOGRAM: a.histogram = 1; break;
		case OPT_TIMELINE: a.timeline = 1; break;
		case OPT_AT:
			parse_at(optarg, &a);
			break;
		case OPT_DIFF: a.diff = 1; break;
		case OPT_SPEEDSCOPE: a.speedscope = optarg; break;
		case OPT_HTML: a.html = optarg; break;
		case OPT_NO_INLINE: a.flags |= LH_ALLOC_NO_INLINE; break;
		case OPT_FILTER:
			check_filter(optarg);
			a.filter = optarg;
			break;
		case OPT_SUPP:
			load_suppressions(&a.supp, optarg);
			break;
		case OPT_NO_BUILTIN: a.flags |= LH_ALLOC_NO_BUILTIN_SUPP; break;
		case 'v': lh_verbosity++; break;
		case 'h':
			fputs(usage_text, stdout);
			lh_suppressions_release(&a.supp);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind + 1 + a.diff != argc)
		goto usage;
	if (a.cost && !a.folded) {
		lh_die_usage("--cost COST chooses the cost of --folded: give --folded too (or --folded=COST)");
	}
	/* run_diff shows the change per site (text or --json) and nothing else:
	 * these were ignored without a word (--speedscope wrote no file) */
	if (a.diff && (a.leaks || a.bottom_up || a.top_down || a.function || a.histogram || a.timeline || a.at ||
		       a.folded || a.speedscope || a.html)) {
		lh_die_usage("--diff shows the change per site (with --json, --sort, --top, --filter, --no-inline and "
			 "the suppression options): report each trace alone for other views and exports");
	}
	/* --html is the whole report in a file of its own (with --top rows of
	 * its own): one export at a time, as --json and --folded are */
	if (a.html && (a.json || a.folded || a.speedscope)) {
		lh_die_usage("--html writes the whole report into one file: report again for --json, --folded or "
			 "--speedscope");
	}
	/* --json and --folded are the whole of stdout: the other export and the
	 * text views beside them were dropped without a word (--json --folded
	 * printed JSON only); --json holds the leaks, the histogram, the
	 * timeline and --at, not the trees or --function */
	if (a.json && a.folded) {
		lh_die_usage("--json and --folded both print to stdout: pick one");
	}
	if (a.folded && (a.leaks || a.bottom_up || a.top_down || a.function || a.histogram || a.timeline || a.at)) {
		lh_die_usage("--folded prints only folded stacks: report again without it for --leaks, the trees, "
			 "--function, --histogram, --timeline or --at");
	}
	if (a.json && (a.bottom_up || a.top_down || a.function)) {
		lh_die_usage("--json has no trees and no --function view (its \"stacks\" hold their data): report again "
			 "without --json for them");
	}
	a.o.path = argv[optind];
	a.o.filter = a.filter;
	ret = a.diff ? run_diff(&a, argv[optind], argv[optind + 1]) : run(&a, argv[optind]);
	lh_suppressions_release(&a.supp);
	return ret;
bad_cost:
	lh_die_usage("bad cost '%s': expected allocations, bytes, temporary, peak or leaked", optarg);
usage:
	fputs(usage_text, stderr);
	lh_suppressions_release(&a.supp);
	return 2;
}
