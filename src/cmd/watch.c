/*
 * leakhunt watch: memory of a live node process over time.  Every interval
 * it reads RSS from /proc and process.memoryUsage() over the inspector
 * (one session, kept open), shows a live line on stderr, appends JSON lines
 * to -o, and at the end prints each series' growth and a verdict.
 *
 * The verdict separates a leak from a sawtooth: garbage makes heapUsed rise
 * and fall with every GC, so the raw slope says little.  What a leak cannot
 * hide is that the lows rise: we split the run into windows, take each
 * window's minimum (the heap right after a GC, near enough) and fit a line
 * through those.  Leak-like = the minimums grow steadily (most windows
 * above the one before, and a real rate, not noise).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/human.h"
#include "base/jsonw.h"
#include "base/strbuf.h"
#include "base/table.h"
#include "cmd/cmd.h"
#include "inspect/capture.h"
#include "inspect/cdp.h"
#include "inspect/net.h"
#include "inspect/session.h"
#include "inspect/target.h"

static const char usage_text[] =
	"usage: leakhunt watch [options] PID\n"
	"   or: leakhunt watch [options] --port N | --url ws://...\n\n"
	"Sample the memory of a running node process (RSS, heapUsed, heapTotal,\n"
	"external, arrayBuffers) until --duration ends, Ctrl-C or the target exits,\n"
	"then print each series' growth per minute and whether it looks like a leak.\n\n"
	"  --interval D        time between samples (default 2s; e.g. 500ms, 10s)\n"
	"  --duration D        stop after D (e.g. 30s, 10m); default: until Ctrl-C\n"
	"  -o, --output FILE   append JSON lines: a header, one per sample, a summary\n"
	"  --snapshot-on-growth PCT  take a heap snapshot at the start and whenever\n"
	"                      heapUsed has grown by PCT% since the last one\n"
	"  --keep K            keep at most K of them (default 3): the first and the\n"
	"                      newest, for 'leakhunt diff'\n"
	"  --snapshot-dir DIR  where they go (default: the current directory)\n"
	"  --port N, --url ws://..., --allow-remote, --timeout S   as for snapshot\n"
	"  -v, --verbose       print every sample as a line, even on a terminal\n"
	"  -h, --help          this help\n";

enum { S_RSS, S_HEAP_USED, S_HEAP_TOTAL, S_EXTERNAL, S_ARRAY_BUFFERS, NSERIES };
static const char *const series_key[NSERIES] = { "rss", "heapUsed", "heapTotal", "external", "arrayBuffers" };
static const char *const series_json[NSERIES] = { "rss", "heap_used", "heap_total", "external", "array_buffers" };

struct sample {
	double t;              /* seconds since the first sample */
	double v[NSERIES];     /* bytes */
};

struct series_verdict {
	double first, last, min, max;
	double slope;          /* bytes per minute over all samples */
	double low_slope;      /* bytes per minute over the window minimums */
	int rising_lows;       /* windows whose minimum beat the previous one */
	int halves_apart;      /* every low of the later half is above every low of the earlier */
	int windows;
	int leak_like;
};

/* --snapshot-on-growth: snapshots taken so far and the files kept */
struct growth {
	double pct;        /* 0: off */
	int keep;          /* at most this many files on disk */
	const char *dir;
	pid_t local;       /* the target's pid when it may write its own snapshots, else 0 */
	char stamp[32];    /* the watch's start time, in every file name */
	int seq;           /* snapshots taken */
	double base;       /* heapUsed when the last one was taken */
	char **files;      /* kept, oldest first */
	int nfiles, files_alloc;
};

/*
 * -o, the JSON lines.  A write that fails (a full disk, /dev/full) is said
 * once, naming the file and the reason, and ends the lines there: the watch
 * goes on to its report, and exits with status 1.  (It used to say "cannot
 * write JSON output" at every sample, naming no file, and exit 0.)
 */
struct jsonl {
	FILE *f;           /* NULL: no -o, or a write to it failed */
	const char *path;
	int failed;        /* a write failed: the run's status is 1 */
};

/* After a record: flush it, and give the file up if that failed. */
static void jsonl_done(struct jsonl *j, struct lh_jsonw *w)
{
	struct strbuf quiet = STRBUF_INIT;
	int r;

	/* the writer's own message names no file: ours does (errno survives it) */
	lh_error_capture(&quiet);
	if (w)
		r = lh_jsonw_finish(w);
	else
		r = fflush(j->f) || ferror(j->f) ? -1 : 0;
	lh_error_capture(NULL);
	strbuf_release(&quiet);
	if (r == 0)
		return;
	lh_error("cannot write '%s': %s; no more JSON lines go there", j->path, strerror(errno));
	fclose(j->f);
	j->f = NULL;
	j->failed = 1;
}

static volatile sig_atomic_t stop_requested;

static void on_sigint(int sig)
{
	stop_requested = 1;
}

/* Least-squares slope of y over x, per minute (x in seconds). */
static double slope_per_min(const double *x, const double *y, int n)
{
	double mx = 0, my = 0, sxx = 0, sxy = 0;

	if (n < 2)
		return 0;
	for (int i = 0; i < n; i++)
		mx += x[i], my += y[i];
	mx /= n, my /= n;
	for (int i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		sxy += (x[i] - mx) * (y[i] - my);
	}
	return sxx > 0 ? sxy / sxx * 60 : 0;
}

static void judge(const struct sample *s, int n, int k, struct series_verdict *v)
{
	double *x = lh_xcalloc(n, sizeof(double)), *y = lh_xcalloc(n, sizeof(double));
	int per, w = 0;

	memset(v, 0, sizeof(*v));
	v->first = s[0].v[k];
	v->last = s[n - 1].v[k];
	v->min = v->max = s[0].v[k];
	for (int i = 0; i < n; i++) {
		x[i] = s[i].t;
		y[i] = s[i].v[k];
		if (y[i] < v->min)
			v->min = y[i];
		if (y[i] > v->max)
			v->max = y[i];
	}
	v->slope = slope_per_min(x, y, n);
	/* about 6 windows, at least 2 samples each, so each holds a GC low or two */
	per = n / 6 < 2 ? 2 : n / 6;
	for (int i = 0; i + per <= n; i += per) {
		int best = i;

		for (int j = i; j < i + per; j++)
			if (s[j].v[k] < s[best].v[k])
				best = j;
		x[w] = s[best].t;
		y[w] = s[best].v[k];
		if (w > 0 && y[w] > y[w - 1])
			v->rising_lows++;
		w++;
	}
	v->windows = w;
	v->low_slope = slope_per_min(x, y, w);
	if (w >= 4) {
		double early_max = y[0], late_min = y[w - w / 2];

		for (int i = 1; i < w / 2; i++)
			if (y[i] > early_max)
				early_max = y[i];
		for (int i = w - w / 2; i < w; i++)
			if (y[i] < late_min)
				late_min = y[i];
		v->halves_apart = late_min > early_max;
	}
	/*
	 * Steady: all but at most one window's low beats the one before, or,
	 * since a major GC may land inside any window and pull its low below
	 * the previous one, every low of the later half is above every low of
	 * the earlier half (random lows on a flat heap do that 1 time in 20
	 * with 6 windows).  Real: the lows grow by more than 1% of the level
	 * per minute and 64 kB/min, so allocator noise on a flat heap does not
	 * count.
	 */
	v->leak_like = w >= 4 && (v->rising_lows >= w - 2 || v->halves_apart) &&
		       v->low_slope > 0.01 * (v->min > 0 ? v->min : 1) && v->low_slope > 65536;
	free(x);
	free(y);
}

/* process.memoryUsage() plus /proc RSS into *out; 0 or -1. */
static int take_sample(struct lh_session *ss, pid_t pid, int use_proc_rss, struct sample *out)
{
	cJSON *v = NULL;

	if (lh_cdp_evaluate(&ss->cdp, "process.memoryUsage()", 0, &v) < 0)
		return -1;
	for (int k = 0; k < NSERIES; k++) {
		cJSON *f = cJSON_GetObjectItemCaseSensitive(v, series_key[k]);

		out->v[k] = cJSON_IsNumber(f) ? f->valuedouble : 0;
	}
	cJSON_Delete(v);
	if (use_proc_rss) {
		/* /proc is the kernel's word; memoryUsage().rss is the same number, read later */
		long long rss = lh_target_rss(pid);

		if (rss >= 0)
			out->v[S_RSS] = (double)rss;
	}
	return 0;
}

static void human(struct strbuf *sb, double bytes)
{
	lh_human_size(sb, (int64_t)bytes);
}

static void live_line(const struct sample *s, int n, int to_tty)
{
	struct strbuf sb = STRBUF_INIT;
	const struct sample *cur = &s[n - 1];

	strbuf_addf(&sb, "%6.1fs  rss ", cur->t);
	human(&sb, cur->v[S_RSS]);
	strbuf_addstr(&sb, "  heapUsed ");
	human(&sb, cur->v[S_HEAP_USED]);
	strbuf_addstr(&sb, "  heapTotal ");
	human(&sb, cur->v[S_HEAP_TOTAL]);
	strbuf_addstr(&sb, "  external ");
	human(&sb, cur->v[S_EXTERNAL]);
	if (n > 1 && cur->t > 0) {
		strbuf_addstr(&sb, "  (heapUsed ");
		if (cur->v[S_HEAP_USED] >= s[0].v[S_HEAP_USED])
			strbuf_addch(&sb, '+');
		human(&sb, (cur->v[S_HEAP_USED] - s[0].v[S_HEAP_USED]) / cur->t * 60);
		strbuf_addstr(&sb, "/min)");
	}
	if (to_tty)
		fprintf(stderr, "\r%s\033[K", sb.buf);
	else
		fprintf(stderr, "%s\n", sb.buf);
	strbuf_release(&sb);
}

static void write_sample(struct jsonl *j, const struct sample *s, double wall_ms)
{
	struct lh_jsonw w;

	if (!j->f)
		return;
	lh_jsonw_init(&w, j->f, 0);
	lh_jsonw_object(&w);
	lh_jsonw_kstr(&w, "type", "sample");
	lh_jsonw_kint(&w, "t_ms", llround(s->t * 1000));
	lh_jsonw_kint(&w, "time_ms", llround(wall_ms));
	for (int k = 0; k < NSERIES; k++) {
		lh_jsonw_key(&w, series_json[k]);
		lh_jsonw_int(&w, llround(s->v[k]));
	}
	lh_jsonw_end(&w);
	jsonl_done(j, &w);
}

/*
 * The last JSON line.  It is written however few samples there were, so that
 * the file always says why the watch ended; with fewer than two, "series" is
 * empty (there is no slope to give) and v may be NULL.
 */
static void write_summary(struct jsonl *json, const struct series_verdict *v, int n, const char *end_reason,
			  int any, int enough)
{
	struct lh_jsonw w;

	if (!json->f)
		return;
	lh_jsonw_init(&w, json->f, 0);
	lh_jsonw_object(&w);
	lh_jsonw_kstr(&w, "type", "summary");
	lh_jsonw_kint(&w, "samples", n);
	lh_jsonw_kstr(&w, "end", end_reason);
	lh_jsonw_kbool(&w, "leak_like", any);
	lh_jsonw_key(&w, "series");
	lh_jsonw_object(&w);
	for (int k = 0; n >= 2 && k < NSERIES; k++) {
		lh_jsonw_key(&w, series_json[k]);
		lh_jsonw_object(&w);
		lh_jsonw_kint(&w, "first", llround(v[k].first));
		lh_jsonw_kint(&w, "last", llround(v[k].last));
		lh_jsonw_kint(&w, "growth_per_min", llround(v[k].slope));
		lh_jsonw_kint(&w, "lows_growth_per_min", llround(v[k].low_slope));
		lh_jsonw_kbool(&w, "leak_like", enough && v[k].leak_like);
		lh_jsonw_end(&w);
	}
	lh_jsonw_end(&w);
	lh_jsonw_end(&w);
	jsonl_done(json, &w);
}

static void report(struct jsonl *json, const struct sample *s, int n, const char *end_reason)
{
	struct series_verdict v[NSERIES];
	struct lh_table t;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, c = STRBUF_INIT, d = STRBUF_INIT;
	int any = 0, enough = n >= 8;

	printf("%d samples over %.1f s (%s)\n\n", n, n ? s[n - 1].t : 0.0, end_reason);
	if (n < 2) {
		printf("too few samples for a verdict; watch longer\n");
		write_summary(json, NULL, n, end_reason, 0, 0);
		return;
	}
	lh_table_init(&t, "Series:l,First:r,Last:r,Growth/min:r,Lows growth/min:r,Verdict:l");
	for (int k = 0; k < NSERIES; k++) {
		judge(s, n, k, &v[k]);
		human(&a, v[k].first);
		human(&b, v[k].last);
		if (v[k].slope > 0)
			strbuf_addch(&c, '+');
		human(&c, v[k].slope);
		if (v[k].low_slope > 0)
			strbuf_addch(&d, '+');
		human(&d, v[k].low_slope);
		lh_table_cell(&t, "%s", series_key[k]);
		lh_table_cell_sb(&t, &a);
		lh_table_cell_sb(&t, &b);
		lh_table_cell_sb(&t, &c);
		lh_table_cell_sb(&t, &d);
		lh_table_cell(&t, "%s", !enough ? "-" : v[k].leak_like ? "LEAK-LIKE" :
			      v[k].slope > 65536 && v[k].low_slope <= 65536 ? "sawtooth" : "steady");
		any |= enough && v[k].leak_like && k != S_HEAP_TOTAL;
	}
	lh_table_print(&t, stdout);
	lh_table_release(&t);
	putchar('\n');
	if (!enough)
		printf("verdict: too few samples (%d) to tell a leak from a GC sawtooth; watch longer "
		       "or with a shorter --interval (8 at least)\n", n);
	else if (any)
		printf("verdict: looks like a leak: %s%s%s grows even at its lows after GC; take two "
		       "snapshots some time apart and run 'leakhunt diff A B'\n",
		       v[S_HEAP_USED].leak_like ? "heapUsed" : "",
		       v[S_HEAP_USED].leak_like && (v[S_RSS].leak_like || v[S_EXTERNAL].leak_like) ? ", " : "",
		       v[S_EXTERNAL].leak_like ? "external" : v[S_RSS].leak_like ? "rss" : "");
	else
		printf("verdict: no sustained growth: the lows after GC do not rise\n");
	write_summary(json, v, n, end_reason, any, enough);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&c);
	strbuf_release(&d);
}

static void json_snapshot(struct jsonl *json, const char *type, const char *file,
			  const struct sample *sm, const char *method)
{
	struct lh_jsonw w;

	if (!json->f)
		return;
	lh_jsonw_init(&w, json->f, 0);
	lh_jsonw_object(&w);
	lh_jsonw_kstr(&w, "type", type);
	lh_jsonw_kstr(&w, "file", file);
	if (sm) {
		lh_jsonw_kint(&w, "t_ms", llround(sm->t * 1000));
		lh_jsonw_kint(&w, "heap_used", llround(sm->v[S_HEAP_USED]));
	}
	if (method)
		lh_jsonw_kstr(&w, "method", method);
	lh_jsonw_end(&w);
	jsonl_done(json, &w);
}

/*
 * Take a snapshot if heapUsed grew enough (always for the first), and drop
 * the oldest but the baseline beyond g->keep.  0, or -1 with a message.
 */
static int maybe_snapshot(struct lh_session *ss, struct growth *g, const struct sample *sm,
			  struct jsonl *json, int to_tty)
{
	struct strbuf path = STRBUF_INIT, size = STRBUF_INIT;
	struct lh_capture_stats st;
	double used = sm->v[S_HEAP_USED];
	int64_t t0;

	if (g->seq && used < g->base * (1 + g->pct / 100))
		return 0;
	strbuf_addf(&path, "%s/%d-%s-%02d.heapsnapshot", g->dir, (int)ss->pid, g->stamp, g->seq + 1);
	if (to_tty)
		fputs("\r\033[K", stderr);
	t0 = lh_net_now();
	if (lh_capture_take(&ss->cdp, g->local, LH_CAPTURE_AUTO, path.buf, 0, &st) < 0) {
		strbuf_release(&path);
		return -1;
	}
	lh_human_size(&size, (int64_t)used);
	if (g->seq)
		fprintf(stderr, "heapUsed %s, +%.0f%% since the last snapshot: ", size.buf,
			g->base > 0 ? (used / g->base - 1) * 100 : 0.0);
	else
		fprintf(stderr, "heapUsed %s, the baseline: ", size.buf);
	fprintf(stderr, "wrote '%s' (method %s) in %.1f s\n", path.buf,
		lh_capture_method_name(st.method), (lh_net_now() - t0) / 1000.0);
	json_snapshot(json, "snapshot", path.buf, sm, lh_capture_method_name(st.method));
	g->seq++;
	g->base = used;
	ALLOC_GROW(g->files, g->nfiles + 1, g->files_alloc);
	g->files[g->nfiles++] = strbuf_detach(&path, NULL);
	if (g->nfiles > g->keep) {
		/* the baseline stays: diffs against the start say the most */
		if (unlink(g->files[1]) < 0)
			lh_warn("cannot remove '%s': %m", g->files[1]);
		json_snapshot(json, "snapshot_removed", g->files[1], NULL, NULL);
		free(g->files[1]);
		memmove(&g->files[1], &g->files[2], (g->nfiles - 2) * sizeof(*g->files));
		g->nfiles--;
	}
	strbuf_release(&size);
	return 0;
}

/* Events while waiting: the main context going away means node is exiting. */
static int on_event(void *ud, const char *method, const char *msg, size_t len)
{
	if (!strcmp(method, "Runtime.executionContextDestroyed") ||
	    !strcmp(method, "Runtime.executionContextsCleared"))
		*(int *)ud = 1;
	return 0;
}

/*
 * --snapshot-on-growth: can the snapshots be written in dir?  Asked before
 * we connect: a directory that is missing, not one, or not ours to write
 * in was found at the baseline snapshot, after the inspector had been
 * opened in the target, and named only a temporary file in it.  Writing is
 * tried (access() says yes to root on a read-only file system's
 * directory, and nothing of ACLs); the probe file is removed at once.
 */
static int check_snapshot_dir(const char *dir)
{
	struct strbuf probe = STRBUF_INIT;
	struct stat st;
	int fd;

	if (stat(dir, &st) < 0)
		return lh_error("--snapshot-dir '%s': %m; the snapshots need an existing directory", dir);
	if (!S_ISDIR(st.st_mode))
		return lh_error("--snapshot-dir '%s' is not a directory", dir);
	strbuf_addf(&probe, "%s/.leakhunt-probe-XXXXXX", dir);
	fd = mkstemp(probe.buf);
	if (fd < 0) {
		lh_error("--snapshot-dir '%s': cannot write in it: %m", dir);
		strbuf_release(&probe);
		return -1;
	}
	close(fd);
	unlink(probe.buf);
	strbuf_release(&probe);
	return 0;
}

static const char inspector_closed[] = "the inspector was closed";

/* The end of a watch whose session was closed under it: 1 the target exited, else 0. */
static int closed_under_us(pid_t pid)
{
	/* a target still running is no exit: the verdict covers only part of the run */
	if (!pid || lh_target_gone(pid, 1000))
		return 1;
	lh_error("pid %d is still running, but its inspector closed our session: another "
		 "client closed the inspector (or the program did); "
		 "the report covers the samples until then", (int)pid);
	return 0;
}

int cmd_watch(int argc, char **argv)
{
	enum { OPT_INTERVAL = 256, OPT_DURATION,
	       OPT_GROWTH, OPT_KEEP, OPT_SNAPDIR };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "snapshot-on-growth", required_argument, NULL, OPT_GROWTH },
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ "snapshot-dir", required_argument, NULL, OPT_SNAPDIR },
		LH_CMD_SESSION_LONGOPTS,
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lh_session_opts so = { .timeout_ms = 30000 };
	struct lh_session ss;
	struct growth g = { .keep = 3, .dir = "." };
	const char *snap_opt = NULL; /* --snapshot-dir or --keep, which need --snapshot-on-growth */
	struct sample *s = NULL;
	size_t n = 0, alloc = 0;
	long interval = 2000, duration = -1, ms;
	const char *out_path = NULL, *end = "--duration reached";
	struct sigaction sa, old;
	struct jsonl json = { NULL };
	int c, tty = isatty(2), exiting = 0, closed = 0, ret = 0;
	int64_t t0, next;

	while ((c = getopt_long(argc, argv, "ho:v", longopts, NULL)) != -1) {
		int taken = lh_cmd_session_opt(c, optarg, &so, "watch");

		if (taken < 0)
			return 2;
		if (taken)
			continue;
		switch (c) {
		case 'o': out_path = optarg; break;
		case OPT_INTERVAL:
			if (lh_cmd_duration_ms(optarg, &ms) < 0 || ms < 50 || ms > 86400000) {
				fprintf(stderr, "leakhunt watch: --interval needs a duration of 50ms or more, like 2s, not '%s'\n", optarg);
				return 2;
			}
			interval = ms;
			break;
		case OPT_DURATION:
			if (lh_cmd_duration_ms(optarg, &ms) < 0 || ms <= 0) {
				fprintf(stderr, "leakhunt watch: --duration needs a duration like 30s or 10m, not '%s'\n", optarg);
				return 2;
			}
			duration = ms;
			break;
		case OPT_GROWTH: {
			char *e;

			g.pct = strtod(optarg, &e);
			if (*e == '%')
				e++;
			if (e == optarg || *e || !(g.pct > 0) || g.pct > 1e6) {
				fprintf(stderr, "leakhunt watch: --snapshot-on-growth needs a percentage like 50, not '%s'\n", optarg);
				return 2;
			}
			break;
		}
		case OPT_KEEP: {
			char *e;
			long v = strtol(optarg, &e, 10);

			if (e == optarg || *e || v < 2 || v > 1000) {
				fprintf(stderr, "leakhunt watch: --keep needs a count of 2 or more (a diff needs two), not '%s'\n", optarg);
				return 2;
			}
			g.keep = (int)v;
			snap_opt = "--keep";
			break;
		}
		case OPT_SNAPDIR: g.dir = optarg; snap_opt = "--snapshot-dir"; break;
		case 'v': lh_verbosity++; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (duration > 0 && duration < 2 * interval)
		lh_warn("--duration %ldms is shorter than two --interval (%ldms): one sample, and no verdict; "
			"give a shorter --interval", duration, interval);
	if (optind < argc && lh_cmd_pid_arg(argv[optind++], &so.pid) < 0) {
		fprintf(stderr, "leakhunt watch: '%s' is not a process id\n\n%s", argv[optind - 1], usage_text);
		return 2;
	}
	if (optind < argc || (!so.pid && !so.port && !so.url)) {
		fprintf(stderr, "leakhunt watch: give one PID (or --port / --url)\n\n%s", usage_text);
		return 2;
	}
	if (snap_opt && !(g.pct > 0)) {
		/* it was ignored: a user who meant to take snapshots got none */
		fprintf(stderr, "leakhunt watch: %s is for the snapshots of --snapshot-on-growth PCT; give that too\n",
			snap_opt);
		return 2;
	}
	if (g.pct > 0 && check_snapshot_dir(g.dir) < 0)
		return 1;
	if (out_path) {
		json.path = out_path;
		json.f = fopen(out_path, "a");
		if (!json.f)
			lh_die("cannot open '%s' for appending: %m", out_path);
	}
	if (lh_session_open(&ss, &so) < 0) {
		if (json.f)
			fclose(json.f);
		return 1;
	}
	/* Runtime.enable: so that we hear about the target's context going away at exit */
	if (lh_cdp_call(&ss.cdp, "Runtime.enable", NULL, NULL, NULL, NULL) < 0) {
		lh_session_close(&ss);
		return 1;
	}
	if (json.f) {
		fprintf(json.f, "{\"type\":\"header\",\"format\":\"leakhunt.watch/1\",\"pid\":%d,"
				"\"interval_ms\":%ld,\"start_ms\":%.0f}\n", (int)ss.pid, interval,
			(double)time(NULL) * 1000);
		jsonl_done(&json, NULL);
	}
	if (g.pct > 0) {
		time_t now = time(NULL);

		strftime(g.stamp, sizeof(g.stamp), "%Y%m%d-%H%M%S", localtime(&now));
		/* as in leakhunt snapshot: only a pid we found through /proc is local */
		g.local = so.pid && !so.url && !so.port ? ss.pid : 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, &old);
	t0 = lh_net_now();
	next = t0;
	for (;;) {
		struct strbuf err = STRBUF_INIT;
		struct timespec wall;
		int r;

		ALLOC_GROW(s, n + 1, alloc);
		lh_error_capture(&err);
		r = take_sample(&ss, ss.pid, so.pid != 0 && !so.url, &s[n]);
		lh_error_capture(NULL);
		if (r < 0) {
			/* node drops its context first, then the process goes */
			if ((so.pid && !lh_target_alive(so.pid)) || exiting ||
			    strstr(err.buf, "Cannot find context with specified id")) {
				end = "the target exited";
			} else if (ss.cdp.ws.close_received || ss.cdp.ws.eof) {
				if (closed_under_us(so.pid)) {
					end = "the target exited";
				} else {
					end = inspector_closed;
					ret = 1;
				}
			} else {
				fputs(err.buf, stderr);
				end = "an error stopped sampling";
				ret = 1;
			}
			strbuf_release(&err);
			break;
		}
		strbuf_release(&err);
		clock_gettime(CLOCK_REALTIME, &wall);
		s[n].t = (lh_net_now() - t0) / 1000.0;
		n++;
		write_sample(&json, &s[n - 1], wall.tv_sec * 1000.0 + wall.tv_nsec / 1e6);
		if (tty || lh_verbosity)
			live_line(s, n, tty && !lh_verbosity);
		if (g.pct > 0 && maybe_snapshot(&ss, &g, &s[n - 1], &json, tty && !lh_verbosity) < 0) {
			if ((so.pid && !lh_target_alive(so.pid)) || exiting) {
				end = "the target exited";
			} else if (lh_capture_interrupted()) {
				/* Ctrl-C during a snapshot: the end of the watch, as between samples */
				end = "interrupted";
			} else {
				end = "a snapshot failed";
				ret = 1;
			}
			break;
		}
		next += interval;
		if (duration >= 0 && next - t0 > duration)
			break;
		if (lh_net_now() > next)
			next = lh_net_now(); /* a slow sample: don't try to catch up in a burst */
		while (!stop_requested && !exiting && lh_net_now() < next) {
			lh_error_capture(&err);
			r = lh_cdp_wait(&ss.cdp, next, on_event, &exiting);
			lh_error_capture(NULL);
			strbuf_release(&err);
			if (r != 0) {
				closed = 1;
				break;
			}
		}
		if (stop_requested) {
			end = "interrupted";
			break;
		}
		if (exiting || (closed && closed_under_us(so.pid))) {
			end = "the target exited";
			break;
		}
		if (closed) {
			end = inspector_closed;
			ret = 1;
			break;
		}
	}
	sigaction(SIGINT, &old, NULL);
	if (tty && !lh_verbosity)
		fputs("\r\033[K", stderr);
	lh_session_close(&ss);
	report(&json, s, (int)n, end);
	if (g.nfiles) {
		printf("\nsnapshots (%d taken, %d kept):\n", g.seq, g.nfiles);
		for (int i = 0; i < g.nfiles; i++)
			printf("  %s\n", g.files[i]);
		if (g.nfiles >= 2)
			printf("compare the first and the last: leakhunt diff %s %s\n", g.files[0],
			       g.files[g.nfiles - 1]);
		for (int i = 0; i < g.nfiles; i++)
			free(g.files[i]);
		free(g.files);
	}
	if (json.f && fclose(json.f)) {
		lh_error("cannot write '%s': %m", out_path);
		ret = 1;
	}
	if (json.failed)
		ret = 1;
	free(s);
	return ret;
}
