/* New output files (outfile.h), created with O_EXCL as `record -o` does. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/outfile.h"

/*
 * A file being written when Ctrl-C (or SIGTERM, SIGHUP) ends the command
 * was left behind empty or half written, looking like a result.  The files
 * open here are removed by the signal's handler (unlink is
 * async-signal-safe), which then ends the command as the signal would have.
 * Only where the signal had its default action: a command with a handler
 * of its own (a capture's) keeps it.
 */
#define MAX_OPEN 4
static char open_paths[MAX_OPEN][PATH_MAX];
static const int cleanup_signals[] = { SIGINT, SIGTERM, SIGHUP };

static void on_signal(int sig)
{
	for (int i = 0; i < MAX_OPEN; i++)
		if (open_paths[i][0])
			unlink(open_paths[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

void lh_outfile_guard(const char *path)
{
	static int installed;
	sigset_t all, old;
	int i;

	if (strlen(path) >= PATH_MAX)
		return;
	if (!installed) {
		installed = 1;
		for (size_t k = 0; k < sizeof(cleanup_signals) / sizeof(*cleanup_signals); k++) {
			struct sigaction sa, was;

			if (sigaction(cleanup_signals[k], NULL, &was) || was.sa_handler != SIG_DFL)
				continue;
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = on_signal;
			sigaction(cleanup_signals[k], &sa, NULL);
		}
	}
	/* the handler must never see a half-copied name */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < MAX_OPEN && open_paths[i][0]; i++)
		;
	if (i < MAX_OPEN)
		memcpy(open_paths[i], path, strlen(path) + 1);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

void lh_outfile_unguard(const char *path)
{
	sigset_t all, old;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < MAX_OPEN; i++)
		if (!strcmp(open_paths[i], path)) {
			open_paths[i][0] = 0;
			break;
		}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int lh_open_guarded(const char *path, int flags, int mode)
{
	sigset_t cleanup, old;
	int fd, err;

	/* the signals wait until the guard is up, then remove the file */
	sigemptyset(&cleanup);
	for (size_t k = 0; k < sizeof(cleanup_signals) / sizeof(*cleanup_signals); k++)
		sigaddset(&cleanup, cleanup_signals[k]);
	sigprocmask(SIG_BLOCK, &cleanup, &old);
	fd = open(path, flags | O_CREAT | O_EXCL, mode);
	err = errno;
	if (fd >= 0)
		lh_outfile_guard(path);
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return fd;
}

FILE *lh_create_new(const char *path)
{
	int fd = lh_open_guarded(path, O_WRONLY | O_CLOEXEC, 0666);
	FILE *f;

	if (fd < 0) {
		if (errno == EEXIST)
			lh_error("cannot write '%s': the file exists; choose another name or remove it", path);
		else
			lh_error("cannot create '%s': %s", path, strerror(errno));
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		lh_error("cannot write '%s': %s", path, strerror(errno));
		close(fd);
		unlink(path);
		lh_outfile_unguard(path);
		return NULL;
	}
	return f;
}

int lh_close_new(FILE *f, const char *path, int failed)
{
	int ret = failed ? -1 : 0, earlier = ferror(f);

	/* a write that failed before the last one (its buffer is gone) does
	 * not fail fclose: the error flag says so */
	if (fclose(f) && !ret)
		ret = lh_error("cannot write '%s': %s", path, strerror(errno));
	else if (earlier && !ret)
		ret = lh_error("cannot write '%s': a write failed (disk full?)", path);
	if (ret)
		unlink(path);
	lh_outfile_unguard(path);
	return ret;
}
