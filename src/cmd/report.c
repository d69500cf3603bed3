/*
 * leakhunt report: analysis of a .lht trace from `leakhunt record`.  This is
 * the first slice of issue 3: the summary numbers only (calls, temporary
 * allocations, peak heap, leaked bytes and blocks, peak RSS, run time), in
 * text or --json.  Definitions live in src/native/analyze.h.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "base/error.h"
#include "cmd.h"
#include "native/analyze.h"
#include "native/lht.h"

static const char usage_text[] =
	"usage: leakhunt report [options] FILE.lht\n"
	"\n"
	"Summarize a trace written by 'leakhunt record': allocation calls, temporary\n"
	"allocations, peak heap, and the bytes and blocks still allocated at exit.\n"
	"\n"
	"  --json             JSON output: {\"format\":1,\"summary\":{...}}\n"
	"  --leaks            each leaking stack: bytes, blocks, frames innermost first\n"
	"  -v                 more detail on stderr\n"
	"  -h, --help         this help\n";

/* Unresolved frames print as their address; the truncation marker as such. */
static void print_leaks(const struct lh_alloc_summary *s)
{
	for (size_t i = 0; i < s->nleaks; i++) {
		uint64_t id = s->leaks[i].stack;
		int guard = 0;

		printf("\n%" PRIu64 " B leaked in %" PRIu64 " blocks from:\n", s->leaks[i].bytes, s->leaks[i].blocks);
		while (id && id < s->nnodes && guard++ < 4096) {
			uint64_t ip = s->node_ip[id];
			const char *fn = lh_alloc_function(s, ip);

			if (ip == LHT_IP_TRUNCATED)
				printf("  [truncated]\n");
			else if (fn)
				printf("  %s\n", fn);
			else
				printf("  0x%" PRIx64 "\n", ip);
			id = s->node_parent[id];
		}
	}
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "leaks", no_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lh_alloc_summary s;
	int c, json = 0, leaks = 0;

	while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'l': leaks = 1; break;
		case 'v': lh_verbosity++; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (lh_alloc_summarize(&s, argv[optind]))
		return 1;
	if (s.damage.len)
		lh_warn("'%s' is cut short: %s; the report covers everything before it", argv[optind], s.damage.buf);
	else if (!s.ended)
		lh_warn("'%s' has no end record: the program did not exit normally; the report covers what reached the file",
			argv[optind]);
	if (s.missing)
		lh_warn("%" PRIu64 " events were lost (buffers not flushed when the program died)", s.missing);
	if (json) {
		printf("{\"format\":1,\"summary\":{\"calls\":%" PRIu64 ",\"temporary\":%" PRIu64
		       ",\"peak_bytes\":%" PRIu64 ",\"peak_ms\":%" PRIu64 ",\"peak_rss\":%" PRIu64
		       ",\"leaked_bytes\":%" PRIu64 ",\"leaked_blocks\":%" PRIu64 ",\"frees\":%" PRIu64
		       ",\"unknown_frees\":%" PRIu64 ",\"runtime_ms\":%" PRIu64 ",\"complete\":%s}}\n",
		       s.calls, s.temporary, s.peak_bytes, s.peak_ms, s.peak_rss, s.leaked_bytes,
		       s.leaked_blocks, s.frees, s.unknown_frees, s.runtime_ms, s.ended && !s.damage.len ? "true" : "false");
	} else {
		printf("total runtime: %.2fs\n", s.runtime_ms / 1000.0);
		printf("calls to allocation functions: %" PRIu64 "\n", s.calls);
		printf("temporary memory allocations: %" PRIu64 "\n", s.temporary);
		printf("peak heap memory consumption: %" PRIu64 " B (at %.2fs)\n", s.peak_bytes, s.peak_ms / 1000.0);
		printf("peak RSS: %" PRIu64 " B\n", s.peak_rss);
		printf("total memory leaked: %" PRIu64 " B in %" PRIu64 " blocks\n", s.leaked_bytes, s.leaked_blocks);
	}
	if (leaks && !json)
		print_leaks(&s);
	lh_alloc_summary_release(&s);
	return 0;
}
