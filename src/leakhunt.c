/*
 * leakhunt: main and the table of subcommands (perf's perf.c, git's git.c).
 *
 * Adding a command takes four things: cmd_<verb>() in src/cmd/<verb>.c, its
 * row in commands[] below, a page docs/<verb>.md, and tests in test/cli/.
 * An unknown command gets a "did you mean" from the table.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "cmd/cmd.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help; /* one line for the command list */
};

static const struct command commands[] = {
	{ "summary", cmd_summary, "per-class counts, shallow and retained sizes of a heap snapshot" },
	{ "diff", cmd_diff, "compare two heap snapshots class by class (DevTools' Comparison)" },
	{ "paths", cmd_paths, "retainer paths from the GC roots to an object" },
	{ "objects", cmd_objects, "findjsobjects census: objects by constructor and properties" },
	{ "record", cmd_record, "run a program and record its heap allocations into a .lht trace" },
	{ "report", cmd_report, "summarize a .lht trace: calls, temporaries, peak, leaks" },
	{ "snapshot", cmd_snapshot, "take a heap snapshot of a running node process (inspector)" },
	{ "watch", cmd_watch, "memory of a running node process over time, and a leak verdict" },
	{ "sample", cmd_sample, "which JS functions allocated the live memory (sampling heap profiler)" },
	{ "core", cmd_core, "write a core file of a running process with a short pause" },
	{ "stats", cmd_stats, "DevTools' Statistics: totals by kind, node and edge counts" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: leakhunt [-v] <command> [<args>]\n\n"
		     "Find memory leaks in Node.js heap snapshots and native processes.\n\n"
		     "Commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\nRun 'leakhunt <command> --help' for a command's options.\n");
}

/* Levenshtein distance, for "did you mean" on short command names. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64];

	if (lb >= 64 || la >= 64)
		return 64;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

int lh_cmd_verbose_opt(const char *arg)
{
	if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
		lh_verbosity++;
		return 1;
	}
	if (!strcmp(arg, "-vv")) {
		lh_verbosity += 2;
		return 1;
	}
	return 0;
}

/*
 * A command's status, made 1 when what it printed did not all reach stdout
 * (a full disk, a closed pipe with SIGPIPE ignored): `leakhunt sample PID
 * >/dev/full` said nothing and exited 0.
 */
static int stdout_written(int status)
{
	int failed_before = ferror(stdout);

	if (fflush(stdout) || failed_before) {
		if (!status)
			fprintf(stderr, "%s: cannot write the output: %s\n", lh_progname,
				failed_before ? "a write failed (disk full?)" : strerror(errno));
		return status ? status : 1;
	}
	return status;
}

int main(int argc, char **argv)
{
	size_t i;
	int argi = 1;

	while (argi < argc && lh_cmd_verbose_opt(argv[argi]))
		argi++;
	if (argi >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[argi], "help") && argi + 1 < argc) {
		/* 'leakhunt help CMD' is 'leakhunt CMD --help', as git's */
		static char help_opt[] = "--help";
		static char *help_args[3];

		help_args[0] = argv[argi + 1];
		help_args[1] = help_opt;
		argc = 2;
		argv = help_args;
		argi = 0;
	} else if (!strcmp(argv[argi], "--help") || !strcmp(argv[argi], "-h") || !strcmp(argv[argi], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[argi], "--version")) {
		printf("leakhunt 0.1\n");
		return 0;
	}
	for (i = 0; i < NCOMMANDS; i++) {
		if (!strcmp(argv[argi], commands[i].name)) {
			static char progname[64];

			snprintf(progname, sizeof(progname), "leakhunt %s", commands[i].name);
			lh_progname = progname;
			/* getopt's messages start with argv[0]: "leakhunt record:
			 * unrecognized option", as our own errors */
			argv[argi] = progname;
			return stdout_written(commands[i].fn(argc - argi, argv + argi));
		}
	}
	fprintf(stderr, "leakhunt: '%s' is not a leakhunt command; see 'leakhunt --help'\n", argv[argi]);
	for (i = 0; i < NCOMMANDS; i++)
		if (edit_distance(argv[argi], commands[i].name) <= 2)
			fprintf(stderr, "did you mean '%s'?\n", commands[i].name);
	return 2;
}
