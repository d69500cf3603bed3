/*
 * The subcommands.  Each lives in src/cmd/<verb>.c as cmd_<verb>(argc, argv),
 * with argv[0] "leakhunt <verb>" (what getopt's messages start with), and is
 * listed in the table in src/leakhunt.c.
 * A command returns the process exit status: 0 success, 1 error, 2 usage.
 */
#ifndef LH_CMD_CMD_H
#define LH_CMD_CMD_H

#include <stdint.h>

int cmd_summary(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_paths(int argc, char **argv);
int cmd_objects(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_core(int argc, char **argv);

/*
 * leakhunt diff CORE1 CORE2 (in core.c): growth per constructor between two
 * cores; binary may be NULL, re (a --filter) too.  An exit status.
 */
#include <regex.h>
struct lh_render_opts;
int lh_cmd_core_diff(const char *old_path, const char *new_path, const char *binary,
		     const struct lh_render_opts *o, uint32_t top, const regex_t *re);

/* Shared option handling: returns 1 when argv[i] was -v/-vv/--verbose (and counted). */
int lh_cmd_verbose_opt(const char *arg);

/* "30", "1.5s", "500ms", "2m", "1h" into milliseconds: 0, or -1 when malformed. */
int lh_cmd_duration_ms(const char *s, long *ms);
/* A process id argument: 0, or -1 when not a positive number. */
#include <sys/types.h>
int lh_cmd_pid_arg(const char *s, pid_t *pid);

/*
 * The inspector connection options that snapshot, watch and sample share:
 * put LH_CMD_SESSION_LONGOPTS in the longopts table and pass every option
 * to lh_cmd_session_opt() first.  It returns 1 when it took the option, 0
 * when it is not one of them, and -1 after printing what is wrong.
 */
enum { LH_OPT_PORT = 0x1000, LH_OPT_URL, LH_OPT_REMOTE, LH_OPT_TIMEOUT };
#define LH_CMD_SESSION_LONGOPTS                                           \
	{ "port", required_argument, NULL, LH_OPT_PORT },                 \
	{ "url", required_argument, NULL, LH_OPT_URL },                   \
	{ "allow-remote", no_argument, NULL, LH_OPT_REMOTE },             \
	{ "timeout", required_argument, NULL, LH_OPT_TIMEOUT }
struct lh_session_opts;
int lh_cmd_session_opt(int opt, const char *arg, struct lh_session_opts *so, const char *cmd);

#endif
