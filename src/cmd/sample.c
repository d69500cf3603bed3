/*
 * leakhunt sample: which JavaScript functions allocated what is still
 * alive, from V8's sampling heap profiler in a running node process
 * (inspect/sampling.h), or from a saved .heapprofile (--input).  Wires
 * capture -> model (inspect/heapprofile.h) -> renderer (report/sample.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/human.h"
#include "base/mapfile.h"
#include "base/outfile.h"
#include "base/strbuf.h"
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "inspect/heapprofile.h"
#include "inspect/net.h"
#include "inspect/sampling.h"
#include "inspect/session.h"
#include "inspect/target.h"
#include "report/sample.h"

static const char usage_text[] =
	"usage: leakhunt sample [options] --duration D PID\n"
	"   or: leakhunt sample [options] --duration D --port N | --url ws://...\n"
	"   or: leakhunt sample [options] --input FILE.heapprofile\n\n"
	"Run V8's sampling heap profiler in a running node process for D, then show\n"
	"which functions allocated the memory that is still alive (self: in the\n"
	"function itself; total: with its callees).  Sizes are V8's estimates from\n"
	"its samples.  The inspector is opened with SIGUSR1 if needed, closed after.\n\n"
	"  --duration D        how long to sample (e.g. 30s, 5m); Ctrl-C ends it early\n"
	"  --interval BYTES    one sample per BYTES allocated on average (default\n"
	"                      32768, V8's; smaller is finer and costs the target more)\n"
	"  -o, --output FILE   also save the raw profile (.heapprofile: Chrome DevTools\n"
	"                      opens it); an existing file is never overwritten\n"
	"  --input FILE        analyze a saved .heapprofile instead of a process\n"
	"  --top N             functions in the table (default 25; 0: all)\n"
	"  --folded            print folded stacks (flamegraph.pl, inferno) instead\n"
	"  --speedscope FILE   also write speedscope's format to FILE, a new file\n"
	"                      ('-': stdout)\n"
	"  --json              print the model as JSON instead (docs/sample.md)\n"
	"  --port N, --url ws://..., --allow-remote, --timeout S   as for snapshot\n"
	"  -v, --verbose       say what is happening; -vv shows the protocol\n"
	"  -h, --help          this help\n";

static volatile sig_atomic_t stop_requested;

static void on_sigint(int sig)
{
	stop_requested = 1;
}

/* A positive byte count, "16384" or "16k" / "16K" / "16KiB"; 0 or -1. */
/* --interval: a byte count node takes (an int), "16384" or "16k"; the
 * shared parser (strtol's own overflowed "9223372036854775807k" first). */
static int parse_bytes(const char *s, long *out)
{
	uint64_t v;

	if (lh_parse_size(s, &v) || !v || v > 0x7fffffff)
		return -1;
	*out = (long)v;
	return 0;
}
/*
 * The files we write, created before the capture: a name that exists or
 * cannot be created must be said at once, not after --duration has been
 * spent (the profile, held only in our memory, was lost then).  Mode 0600
 * for the raw profile, like node's own: chmod'ed while it is still empty.
 */
static FILE *create_output(const char *path, int private)
{
	FILE *f = lh_create_new(path);

	if (f && private && fchmod(fileno(f), 0600) < 0) {
		lh_error("cannot make '%s' private (mode 0600): %s", path, strerror(errno));
		lh_close_new(f, path, 1);
		return NULL;
	}
	return f;
}

/*
 * Take a profile from the process: 0 with its JSON in out; 1 with the last
 * copy of it when the session was closed or the profiler stopped under us
 * (shown and saved, but the run failed); or -1.
 */
static int capture(struct lh_session_opts *so, struct lh_sampling_opts *o, int *pid,
		   struct lh_sample_info *info, struct strbuf *out)
{
	struct lh_sampling_result res;
	struct sigaction sa, old;
	struct lh_session s;
	int r;
	int64_t t0, ended;

	if (lh_session_open(&s, so) < 0)
		return -1;
	*pid = (int)s.pid;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, &old);
	o->stop = &stop_requested;
	t0 = lh_net_now();
	r = lh_sampling_capture(&s.cdp, o, out, &res);
	ended = lh_net_now();
	sigaction(SIGINT, &old, NULL);
	/* what the profile covers: shorter than asked when cut short */
	info->duration_ms = res.stopped_early ? res.covered_ms : o->duration_ms;
	/* a profile another client started: its interval, unknown to us */
	info->interval_bytes = res.shared ? 0 : o->interval_bytes;
	if (r == 0 && res.stopped_early == LH_SAMPLING_SESSION_CLOSED && !so->url &&
	    lh_target_gone(*pid, 1000)) {
		lh_warn("pid %d is gone: its inspector closed our session; the profile is the last "
			"copy taken, of the first %.1f s", *pid, res.covered_ms / 1000.0);
	} else if (r == 0 && res.stopped_early == LH_SAMPLING_SESSION_CLOSED) {
		lh_error("%s closed our session after %.1f s%s: another client closed the inspector "
			 "(or the program did); the profile is the last copy taken, of the first %.1f s",
			 s.cdp.ws.what, (ended - t0) / 1000.0,
			 so->url ? "" : ", though the target still runs", res.covered_ms / 1000.0);
		r = 1;
	} else if (r == 0 && res.stopped_early == LH_SAMPLING_PROFILER_STOPPED) {
		lh_error("V8's sampling heap profiler (one per process) was running in pid %d, started "
			 "by another client, and we read that one; the client stopped it after %.1f s: "
			 "the profile is the last copy taken, %.1f s after our start (from the other "
			 "client's start, with its interval)", *pid, (ended - t0) / 1000.0,
			 res.covered_ms / 1000.0);
		r = 1;
	} else if (r >= 0 && res.shared) {
		lh_warn("V8's sampling heap profiler (one per process) was already running in pid %d, "
			"started by another client: the profile is that one, from its start and with "
			"its interval, and it was left running", *pid);
	}
	lh_session_close(&s);
	if (r == 0 && res.stopped_early == LH_SAMPLING_INTERRUPTED)
		lh_warn("interrupted: the profile covers what was sampled until then");
	if (r == 0 && res.stopped_early == LH_SAMPLING_TARGET_EXITED)
		lh_warn("pid %d is exiting: the profile covers what was sampled until then", *pid);
	return r;
}

int cmd_sample(int argc, char **argv)
{
	enum { OPT_DURATION = 256, OPT_INTERVAL,
	       OPT_INPUT, OPT_TOP, OPT_FOLDED, OPT_SPEEDSCOPE, OPT_JSON };
	static const struct option longopts[] = {
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "output", required_argument, NULL, 'o' },
		{ "input", required_argument, NULL, OPT_INPUT },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "folded", no_argument, NULL, OPT_FOLDED },
		{ "speedscope", required_argument, NULL, OPT_SPEEDSCOPE },
		{ "json", no_argument, NULL, OPT_JSON },
		LH_CMD_SESSION_LONGOPTS,
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lh_session_opts so = { .timeout_ms = 60000 };
	struct lh_sampling_opts o = { .duration_ms = -1, .interval_bytes = 32768 };
	struct lh_sample_info info = { 0 };
	struct lh_heapprofile prof;
	struct strbuf json = STRBUF_INIT, what = STRBUF_INIT;
	const char *save = NULL, *input = NULL, *speedscope = NULL;
	FILE *save_f = NULL, *speedscope_f = NULL;
	int c, folded = 0, as_json = 0, ret = 1, pid = 0, partial = 0;
	long ms;
	uint32_t top = 25;

	while ((c = getopt_long(argc, argv, "ho:v", longopts, NULL)) != -1) {
		int taken = lh_cmd_session_opt(c, optarg, &so, "sample");

		if (taken < 0)
			return 2;
		if (taken)
			continue;
		switch (c) {
		case OPT_DURATION:
			if (lh_cmd_duration_ms(optarg, &ms) < 0 || ms <= 0) {
				fprintf(stderr, "leakhunt sample: --duration needs a duration like 30s or 5m, not '%s'\n", optarg);
				return 2;
			}
			o.duration_ms = ms;
			break;
		case OPT_INTERVAL:
			if (parse_bytes(optarg, &o.interval_bytes) < 0) {
				fprintf(stderr, "leakhunt sample: --interval needs a byte count like 16384 or 16k, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'o': save = optarg; break;
		case OPT_INPUT: input = optarg; break;
		case OPT_TOP: top = lh_cmd_count_arg("--top", optarg); break; /* 2^32 wrapped to 0, all */
		case OPT_FOLDED: folded = 1; break;
		case OPT_SPEEDSCOPE: speedscope = optarg; break;
		case OPT_JSON: as_json = 1; break;
		case 'v': lh_verbosity++; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (folded + as_json + (speedscope && !strcmp(speedscope, "-")) > 1) {
		fprintf(stderr, "leakhunt sample: --folded, --json and --speedscope - all print to stdout; pick one\n");
		return 2;
	}
	if (input) {
		if (optind < argc || so.port || so.url || o.duration_ms >= 0 || save) {
			fprintf(stderr, "leakhunt sample: --input reads a saved profile: no PID, --port, --url, --duration or -o with it\n");
			return 2;
		}
	} else {
		if (optind < argc && lh_cmd_pid_arg(argv[optind++], &so.pid) < 0) {
			fprintf(stderr, "leakhunt sample: '%s' is not a process id\n\n%s", argv[optind - 1], usage_text);
			return 2;
		}
		if (optind < argc || (!so.pid && !so.port && !so.url)) {
			fprintf(stderr, "leakhunt sample: give one PID (or --port / --url, or --input FILE)\n\n%s", usage_text);
			return 2;
		}
		if (o.duration_ms < 0) {
			fprintf(stderr, "leakhunt sample: give --duration (e.g. 30s): the profile covers what is allocated in that time\n");
			return 2;
		}
	}

	if (save && !(save_f = create_output(save, 1)))
		goto out;
	/* '-' is stdout; a file given with --input is checked here too, never truncated */
	if (speedscope && strcmp(speedscope, "-") && !(speedscope_f = create_output(speedscope, 0)))
		goto out;
	if (input) {
		struct lh_mapfile mf;

		if (lh_mapfile_open(&mf, input) < 0)
			goto out;
		strbuf_add(&json, mf.data ? mf.data : "", mf.size);
		lh_mapfile_release(&mf);
		info.source = input;
		strbuf_addf(&what, "'%s'", input);
	} else {
		partial = capture(&so, &o, &pid, &info, &json);
		if (partial < 0)
			goto out;
		info.pid = pid;
		strbuf_addf(&what, "the profile of pid %d", pid);
		if (save) {
			FILE *f = save_f;

			save_f = NULL; /* closed here, and removed when not written whole */
			if (lh_close_new(f, save, fwrite(json.buf, 1, json.len, f) != json.len) < 0)
				goto out;
			fprintf(stderr, "wrote '%s'\n", save);
		}
	}
	if (lh_heapprofile_load(&prof, json.buf, json.len, what.buf) < 0) {
		lh_heapprofile_release(&prof);
		goto out;
	}
	ret = partial ? 1 : 0;
	if (speedscope && !strcmp(speedscope, "-")) {
		if (lh_sample_write_speedscope(stdout, &prof, input ? input : "leakhunt sample") < 0) {
			lh_error("cannot write speedscope's format to stdout");
			ret = 1;
		}
	} else if (speedscope) {
		FILE *f = speedscope_f;

		speedscope_f = NULL;
		if (lh_close_new(f, speedscope,
				 lh_sample_write_speedscope(f, &prof, input ? input : "leakhunt sample") < 0))
			ret = 1;
	}
	if (as_json) {
		if (lh_sample_write_json(stdout, &prof, &info, 0) < 0) {
			lh_error("cannot write the JSON to stdout");
			ret = 1;
		}
	} else if (folded) {
		lh_sample_write_folded(stdout, &prof);
	} else if (!speedscope || strcmp(speedscope, "-")) {
		lh_sample_print_table(stdout, &prof, &info, top);
	}
	lh_heapprofile_release(&prof);
out:
	/* still open: the capture or the load failed, nothing complete to keep */
	if (save_f)
		lh_close_new(save_f, save, 1);
	if (speedscope_f)
		lh_close_new(speedscope_f, speedscope, 1);
	strbuf_release(&json);
	strbuf_release(&what);
	return ret;
}
