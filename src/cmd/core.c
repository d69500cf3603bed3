/*
 * leakhunt core: write a core file of a running process (src/coredump/
 * write.c) that `leakhunt objects` and gdb read, and say how long the
 * process was stopped.  The file name goes to stdout, the numbers to stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "base/human.h"
#include "base/strbuf.h"
#include "cmd/cmd.h"
#include "coredump/coredump.h"

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
