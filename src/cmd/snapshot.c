/*
 * leakhunt snapshot: take a heap snapshot of a running node process over
 * the inspector protocol (src/inspect/capture.h: written by the target into
 * our file when it is local, else streamed), leaving the process as it was.
 * Prints the file name on stdout.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "base/human.h"
#include "base/strbuf.h"
#include "cmd/cmd.h"
#include "inspect/capture.h"
#include "inspect/net.h"
#include "inspect/session.h"
#include "inspect/target.h"

static const char usage_text[] =
	"usage: leakhunt snapshot [options] PID\n"
	"   or: leakhunt snapshot [options] --port N | --url ws://...\n\n"
	"Take a heap snapshot of a running node process through its inspector.\n"
	"The inspector is opened with SIGUSR1 if needed, and closed again after.\n\n"
	"  -o, --output FILE   write here (default PID-YYYYMMDD-HHMMSS.heapsnapshot);\n"
	"                      an existing file is never overwritten\n"
	"  --port N            the inspector listens on 127.0.0.1:N\n"
	"  --url ws://...      connect to this inspector WebSocket URL\n"
	"  --allow-remote      allow a non-loopback --url (the inspector allows code\n"
	"                      execution and is not encrypted: prefer an ssh tunnel)\n"
	"  --timeout SECONDS   give up when the target shows no sign of work this\n"
	"                      long (default 60)\n"
	"  --keep-partial      if the capture fails, keep FILE.partial\n"
	"  --method auto       the default: write when the target is a local process\n"
	"                      that can write FILE (same root directory and mount\n"
	"                      namespace, given by PID), else stream; a write that\n"
	"                      fails before any data falls back to stream\n"
	"  --method stream     stream the snapshot through the inspector protocol\n"
	"  --method write      have the target write the file itself with\n"
	"                      v8.writeHeapSnapshot() (faster: the protocol's chunks\n"
	"                      cost the target ~1.1-1.4x the time; needs a PID)\n"
	"  -v, --verbose       say what is happening; -vv shows the protocol\n"
	"  -h, --help          this help\n";

/* Parse a positive number of seconds ("30", "1.5", "2s", "500ms", "1m") into ms. */
int lh_cmd_duration_ms(const char *s, long *ms)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -1;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		v *= 1000;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		v *= 60000;
	else if (!strcmp(end, "h"))
		v *= 3600000;
	else if (strcmp(end, "ms"))
		return -1;
	if (v > 1e12)
		return -1;
	*ms = (long)v;
	return 0;
}

int lh_cmd_session_opt(int opt, const char *arg, struct lh_session_opts *so, const char *cmd)
{
	char *end;
	long v;

	switch (opt) {
	case LH_OPT_PORT:
		v = strtol(arg, &end, 10);
		if (end == arg || *end || v <= 0 || v > 65535) {
			fprintf(stderr, "leakhunt %s: --port needs a port number, not '%s'\n", cmd, arg);
			return -1;
		}
		so->port = (int)v;
		return 1;
	case LH_OPT_URL:
		so->url = arg;
		return 1;
	case LH_OPT_REMOTE:
		so->allow_remote = 1;
		return 1;
	case LH_OPT_TIMEOUT:
		if (lh_cmd_duration_ms(arg, &v) < 0 || v <= 0 || v > 0x7fffffff) {
			fprintf(stderr, "leakhunt %s: --timeout needs a duration like 60 or 2m, not '%s'\n", cmd, arg);
			return -1;
		}
		so->timeout_ms = (int)v;
		return 1;
	default:
		return 0;
	}
}

int lh_cmd_pid_arg(const char *s, pid_t *pid)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v <= 0 || v > 0x7fffffff)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

int cmd_snapshot(int argc, char **argv)
{
	enum { OPT_KEEP = 256, OPT_METHOD };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		LH_CMD_SESSION_LONGOPTS,
		{ "keep-partial", no_argument, NULL, OPT_KEEP },
		{ "method", required_argument, NULL, OPT_METHOD },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lh_session_opts so = { .timeout_ms = 60000 };
	struct lh_session s;
	struct lh_capture_stats st;
	struct strbuf out = STRBUF_INIT, size = STRBUF_INIT;
	unsigned flags = 0;
	enum lh_capture_method method = LH_CAPTURE_AUTO;
	int64_t t0;
	pid_t local;
	int c, ret;

	while ((c = getopt_long(argc, argv, "ho:v", longopts, NULL)) != -1) {
		int taken = lh_cmd_session_opt(c, optarg, &so, "snapshot");

		if (taken < 0)
			return 2;
		if (taken)
			continue;
		switch (c) {
		case 'o': strbuf_reset(&out); strbuf_addstr(&out, optarg); break;
		case OPT_KEEP: flags |= LH_CAPTURE_KEEP_PARTIAL; break;
		case OPT_METHOD:
			if (!strcmp(optarg, "auto"))
				method = LH_CAPTURE_AUTO;
			else if (!strcmp(optarg, "stream"))
				method = LH_CAPTURE_STREAM;
			else if (!strcmp(optarg, "write"))
				method = LH_CAPTURE_WRITE;
			else {
				fprintf(stderr, "leakhunt snapshot: --method is 'auto', 'stream' or "
					"'write', not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'v': lh_verbosity++; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind < argc && lh_cmd_pid_arg(argv[optind++], &so.pid) < 0) {
		fprintf(stderr, "leakhunt snapshot: '%s' is not a process id\n\n%s", argv[optind - 1], usage_text);
		return 2;
	}
	if (optind < argc || (!so.pid && !so.port && !so.url)) {
		fprintf(stderr, "leakhunt snapshot: give one PID (or --port / --url)\n\n%s", usage_text);
		return 2;
	}
	if (method == LH_CAPTURE_WRITE && (!so.pid || so.url)) {
		/* the target writes to our file system: it must be a local process we can name */
		fprintf(stderr, "leakhunt snapshot: --method write needs the target's PID (not --url)\n");
		return 2;
	}
	if (!out.len) {
		char stamp[32];
		time_t now = time(NULL);

		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
		if (so.pid)
			strbuf_addf(&out, "%d-%s.heapsnapshot", (int)so.pid, stamp);
		else
			strbuf_addf(&out, "inspector-%s.heapsnapshot", stamp);
	}
	if (lh_session_open(&s, &so) < 0) {
		strbuf_release(&out);
		return 1;
	}
	/*
	 * The pid the target may write for: the one the user named, found
	 * through /proc.  With --port the pid is only what the other end says
	 * of itself (a forwarded port may lead into a container, where pids
	 * mean something else), so auto streams there; a forced write keeps
	 * the pid check of the session.
	 */
	local = so.pid && !so.url && (!so.port || method == LH_CAPTURE_WRITE) ? s.pid : 0;
	t0 = lh_net_now();
	ret = lh_capture_take(&s.cdp, local, method, out.buf, flags, &st);
	if (ret < 0 && so.pid && !lh_target_alive(so.pid))
		lh_error("pid %d exited during the capture", (int)so.pid);
	else if (ret < 0 && lh_capture_interrupted() && s.opened)
		/* V8 cannot stop a snapshot: the close we ask for runs after it */
		lh_warn("waiting for pid %d to finish the snapshot it is building, to close its "
			"inspector again (Ctrl-C again leaves it open)", (int)s.pid);
	lh_session_close(&s);
	if (ret == 0) {
		lh_human_size(&size, (int64_t)st.bytes);
		if (st.method == LH_CAPTURE_WRITE)
			fprintf(stderr, "wrote '%s': %s, written by pid %d (method write), in %.1f s\n",
				out.buf, size.buf, (int)so.pid, (lh_net_now() - t0) / 1000.0);
		else if (st.nodes) /* progress events came: they count the objects */
			fprintf(stderr, "wrote '%s': %s, %llu objects, %llu chunks (method stream%s), "
				"in %.1f s\n", out.buf, size.buf, (unsigned long long)st.nodes,
				(unsigned long long)st.chunks, st.fell_back ? ", after write failed" : "",
				(lh_net_now() - t0) / 1000.0);
		else
			fprintf(stderr, "wrote '%s': %s, %llu chunks (method stream%s), in %.1f s\n",
				out.buf, size.buf, (unsigned long long)st.chunks,
				st.fell_back ? ", after write failed" : "", (lh_net_now() - t0) / 1000.0);
		printf("%s\n", out.buf);
	}
	strbuf_release(&out);
	strbuf_release(&size);
	return ret < 0 ? 1 : 0;
}
