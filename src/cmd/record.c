/*
 * leakhunt record: run a program under libleakhunt.so and leave a
 * self-contained .lht trace (docs/record.md, format in docs/lht-format.md).
 *
 * This process only launches, waits and finishes the file: it creates the
 * trace exclusively (never overwriting), hands the preload its configuration
 * in one environment variable, and after the program ended appends the symbol
 * table of the trace and of every followed child's trace.  Ctrl-C goes to the
 * program; we ignore it so that the file still gets its symbols.
 *
 * While it waits, a second thread warms the symbolizer: it loads the modules
 * the trace lists (symbols, DWARF, compressed debug sections uncompressed)
 * so that this is not done after the program ended, while the user waits.
 */
#include <dlfcn.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/human.h"
#include "base/strbuf.h"
#include "cmd.h"
#include "native/inject.h"
#include "native/lht.h"
#include "native/symbolize.h"
#include "native/trace.h"

static const char usage_text[] =
	"usage: leakhunt record [options] -- CMD [ARGS...]\n"
	"   or: leakhunt record [options] -p PID [--duration S]\n"
	"\n"
	"Run CMD with every heap allocation recorded (malloc and friends, with a\n"
	"backtrace each) into FILE.lht, then append the symbols so the file can be\n"
	"analyzed anywhere with 'leakhunt report'.  A '#!/usr/bin/env NAME' script\n"
	"runs as 'NAME SCRIPT ARGS...', so that NAME is what is recorded.\n"
	"\n"
	"  -o, --output FILE   the trace (default leakhunt.<cmd>.<pid>.lht); an\n"
	"                      existing file is never overwritten\n"
	"  --depth N           frames kept per backtrace (default 256, at most 1024);\n"
	"                      deeper stacks keep their innermost N, marked truncated\n"
	"  --unwind MODE       auto (default: DWARF frame rules cached per return\n"
	"                      address, complete and fast), dwarf (libunwind for every\n"
	"                      stack) or fp (frame pointers only: needs\n"
	"                      -fno-omit-frame-pointer everywhere)\n"
	"  --sample BYTES      record one allocation per BYTES allocated on average\n"
	"                      (e.g. 512k; geometric sampling as jemalloc/tcmalloc),\n"
	"                      for production\n"
	"  --compact           a smaller trace (format 3: addresses coded by\n"
	"                      reference, about 60% of the default size) for more CPU\n"
	"                      while recording and reading\n"
	"  --follow-fork       forked children write FILE.<pid>.lht (default: not\n"
	"                      traced)\n"
	"  -p, --pid PID       attach to a running process (ptrace), record until\n"
	"                      Ctrl-C, the duration, or its exit; then detach and\n"
	"                      leave it running\n"
	"  --duration S        with -p: stop after S seconds\n"
	"  -v, --verbose       more detail on stderr\n"
	"  -h, --help          this help\n";

/* A number from the environment variable name (tests only), or 0. */
static int test_knob(const char *name)
{
	const char *v = getenv(name);

	return v ? atoi(v) : 0;
}

/* libleakhunt.so: $LEAKHUNT_PRELOAD, next to this binary, or ../lib/leakhunt/. */
static int find_preload(struct strbuf *out)
{
	const char *env = getenv("LEAKHUNT_PRELOAD");
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		strbuf_addstr(out, env);
		return access(env, R_OK) ? lh_error("cannot use LEAKHUNT_PRELOAD='%s': %s", env, strerror(errno)) : 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return lh_error("cannot find libleakhunt.so: /proc/self/exe: %s", strerror(errno));
	self[n] = 0;
	strbuf_addf(out, "%s/libleakhunt.so", dirname(self));
	if (!access(out->buf, R_OK))
		return 0;
	strbuf_reset(out);
	strbuf_addf(out, "%s/../lib/leakhunt/libleakhunt.so", self);
	if (!access(out->buf, R_OK))
		return 0;
	return lh_error("cannot find libleakhunt.so next to '%s' or in ../lib/leakhunt; "
			"set LEAKHUNT_PRELOAD to its path", self);
}

/* Absolute, so that a program that changes directory still finds it. */
static void absolute(struct strbuf *sb, const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)))
		strbuf_addf(sb, "%s/", cwd);
	strbuf_addstr(sb, path);
}

/* The trace's path must leave room for the symbol table's temporary file
 * beside it (".symbols-XXXXXX") and for a followed child's ".<pid>-N":
 * refused before the program runs, not after. */
#define TRACE_PATH_MAX (PATH_MAX - 40)

/* The trace's absolute path from -o FILE, .lht appended when missing; an
 * empty FILE or a directory is refused (they made DIR/.lht, a hidden file). */
static int output_path(struct strbuf *out, const char *output)
{
	struct stat sb;

	if (!*output)
		return lh_error("-o '': give the trace's file name, such as 'NAME.lht'");
	if (output[strlen(output) - 1] == '/' || (!stat(output, &sb) && S_ISDIR(sb.st_mode)))
		return lh_error("-o '%s' is a directory: give the trace's file name, such as '%s%sNAME.lht'",
				output, output, output[strlen(output) - 1] == '/' ? "" : "/");
	absolute(out, output);
	if (out->len < 4 || strcmp(out->buf + out->len - 4, ".lht"))
		strbuf_addstr(out, ".lht");
	return 0;
}

static int create_trace(const char *path)
{
	int fd;

	if (strlen(path) > TRACE_PATH_MAX)
		return lh_error("the trace's path is too long (%zu characters; at most %d): choose a shorter "
				"one with -o", strlen(path), TRACE_PATH_MAX);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return lh_error("cannot write '%s': the file exists; choose another name with -o "
					"or remove it", path);
		return lh_error("cannot create '%s': %s", path, strerror(errno));
	}
	close(fd);
	return 0;
}

/* What finish_trace learns from a trace's records: the followed children's
 * traces, whether the program's end was recorded, and its executable. */
struct trace_notes {
	struct strbuf children; /* "PID PATH", one a line */
	struct strbuf exe;
	int ended;
};

static void take_note(const struct lh_trace_rec *r, void *arg)
{
	struct trace_notes *tn = arg;

	if (r->type == LHT_REC_CHILD) {
		strbuf_addf(&tn->children, "%llu ", (unsigned long long)r->id);
		strbuf_add(&tn->children, r->str, r->str_len);
		strbuf_addch(&tn->children, '\n');
	} else if (r->type == LHT_REC_END) {
		tn->ended = 1;
	} else if (r->type == LHT_REC_INFO && !tn->exe.len) {
		strbuf_add(&tn->exe, r->str, r->str_len);
	}
}

/* Append the bytes of fd from offset from to the end of path. */
static int append_from(int fd, off_t from, const char *path)
{
	char buf[65536];
	int out = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	ssize_t n;

	if (out < 0 || lseek(fd, from, SEEK_SET) < 0)
		goto fail;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t done = 0, w; done < n; done += w)
			if ((w = write(out, buf + done, (size_t)(n - done))) <= 0)
				goto fail;
	if (n < 0 || close(out))
		return lh_error("cannot append the symbols to '%s': %s", path, strerror(errno));
	return 0;
fail:
	if (out >= 0)
		close(out);
	return lh_error("cannot append the symbols to '%s': %s", path, strerror(errno));
}

/* Where execvp would find name: name itself when it has a '/', else the
 * first executable regular file of that name in PATH.  0, or -1. */
static int find_program(const char *name, struct strbuf *path)
{
	const char *dirs = getenv("PATH"), *p, *end;
	struct stat sb;

	strbuf_reset(path);
	if (strchr(name, '/')) {
		strbuf_addstr(path, name);
		return 0;
	}
	for (p = dirs && *dirs ? dirs : "/usr/local/bin:/bin:/usr/bin"; ; p = end + 1) {
		end = strchrnul(p, ':');
		strbuf_reset(path);
		strbuf_addf(path, "%.*s/%s", end > p ? (int)(end - p) : 1, end > p ? p : ".", name);
		if (!stat(path->buf, &sb) && S_ISREG(sb.st_mode) && !access(path->buf, X_OK))
			return 0;
		if (!*end)
			return -1;
	}
}

/*
 * A '#!/usr/bin/env NAME' script (how Node.js and Python scripts are made
 * runnable) would have env recorded, which then replaces itself with NAME by
 * exec, and the library is not in the new program.  So we run NAME on the
 * script as env would, and NAME is recorded.  Only the plain forms, 'env
 * NAME' and 'env -S NAME ARGS...' (words split at blanks); any other goes
 * through env as it is, and record says afterwards why the trace ended early.
 * Returns the command to run instead (a NULL-terminated array to free, its
 * words in one allocation after it), or NULL.
 */
static char **env_script(char **argv)
{
	struct strbuf path = STRBUF_INIT, words = STRBUF_INIT;
	char line[512], **out = NULL, *w;
	size_t nwords = 0, nargs = 0;
	ssize_t n = 0;
	int fd;

	if (find_program(argv[0], &path) || (fd = open(path.buf, O_RDONLY | O_CLOEXEC)) < 0)
		goto done;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n < 2 || line[0] != '#' || line[1] != '!')
		goto done;
	line[n] = 0;
	line[strcspn(line, "\n")] = 0;
	for (n = (ssize_t)strlen(line); line[n - 1] == ' ' || line[n - 1] == '\t';)
		line[--n] = 0; /* the kernel drops trailing blanks too */
	w = line + 2 + strspn(line + 2, " \t");
	if (strncmp(w, "/usr/bin/env", 12) && strncmp(w, "/bin/env", 8))
		goto done;
	w += w[1] == 'u' ? 12 : 8;
	if (*w != ' ' && *w != '\t')
		goto done;
	w += strspn(w, " \t");
	if (!strncmp(w, "-S", 2) && (w[2] == ' ' || w[2] == '\t'))
		w += 2 + strspn(w + 2, " \t");
	else if (w[strcspn(w, " \t")])
		goto done; /* 'env NAME ARG' looks for a program named "NAME ARG" */
	/* the words, each followed by a NUL; env's own options and variable
	 * assignments are not ours to interpret */
	if (!*w || *w == '-' || strchr(w, '=') || strchr(w, '\\') || strchr(w, '"') || strchr(w, '\''))
		goto done;
	while (*w) {
		size_t len = strcspn(w, " \t");

		strbuf_add(&words, w, len);
		strbuf_addch(&words, 0);
		nwords++;
		w += len;
		w += strspn(w, " \t");
	}
	strbuf_add(&words, path.buf, path.len + 1);
	while (argv[1 + nargs])
		nargs++;
	out = lh_xmalloc((nwords + 2 + nargs) * sizeof(*out) + words.len);
	w = memcpy((char *)(out + nwords + 2 + nargs), words.buf, words.len);
	for (size_t i = 0; i <= nwords; i++, w += strlen(w) + 1)
		out[i] = w;
	for (size_t i = 0; i < nargs; i++)
		out[nwords + 1 + i] = argv[1 + i];
	out[nwords + 1 + nargs] = NULL;
	fprintf(stderr, "leakhunt record: '%s' is a '#!%s' script: recording '%s' on it\n", argv[0], line + 2,
		out[0]);
	/* NAME a script itself: a wrapper (pyenv's shims) that will replace
	 * itself with the real interpreter, which is then not recorded */
	if (!find_program(out[0], &path) && (fd = open(path.buf, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (read(fd, line, 2) == 2 && line[0] == '#' && line[1] == '!')
			lh_warn("'%s' (%s) is itself a script, a wrapper such as pyenv's shims: the interpreter it "
				"runs in the end is not recorded; record that one by its path (with pyenv: "
				"'leakhunt record -- $(pyenv which %s) %s')", out[0], path.buf, out[0], argv[0]);
		close(fd);
	}
done:
	strbuf_release(&path);
	strbuf_release(&words);
	return out;
}

/*
 * The program could not be started: execvp(cmd) failed with err.  Says why
 * in words that name what is wrong (execvp's "No such file or directory"
 * for a script whose '#!' interpreter is missing named the script, which
 * is there) and returns the exit status env, timeout and the shells give:
 * 127 when a file is missing, 126 when the program is there but cannot be
 * run.
 */
static int cannot_run(const char *cmd, int err)
{
	struct strbuf path = STRBUF_INIT;
	char line[256];
	struct stat sb;
	ssize_t n = 0;
	int fd, found, ret = err == ENOENT ? 127 : 126;

	/* execvp's PATH search skips files without x: those are not found here */
	found = !find_program(cmd, &path) && !stat(path.buf, &sb);
	if (found && err == ENOENT && (fd = open(path.buf, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, line, sizeof(line) - 1);
		close(fd);
	}
	if (n > 2 && line[0] == '#' && line[1] == '!') {
		/* the file is there: the kernel did not find its interpreter */
		char *w, *end;

		line[n] = 0;
		line[strcspn(line, "\n")] = 0;
		w = line + 2 + strspn(line + 2, " \t");
		end = w + strcspn(w, " \t");
		if (end > w && end[-1] == '\r')
			lh_error("cannot run '%s': its '#!' line ends in a carriage return, so the interpreter "
				 "'%.*s\\r' does not exist (the script has DOS line ends); convert it with dos2unix "
				 "and record again", cmd, (int)(end - w - 1), w);
		else
			lh_error("cannot run '%s': its interpreter '%.*s' (on its '#!' line) does not exist; fix "
				 "that line, or record an interpreter on the script ('leakhunt record -- "
				 "INTERPRETER %s')", cmd, (int)(end - w), w, cmd);
	} else if (found && err == ENOENT && S_ISREG(sb.st_mode)) {
		lh_error("cannot run '%s': the file is there, but not the loader it names (a program built "
			 "for another system or libc?); check it with 'file %s'", cmd, path.buf);
	} else if (found && err == EACCES && S_ISDIR(sb.st_mode)) {
		lh_error("cannot run '%s': it is a directory; give the program to record", cmd);
	} else if (found && err == EACCES && S_ISREG(sb.st_mode) && !(sb.st_mode & 0111)) {
		lh_error("cannot run '%s': it is not executable; make it so (chmod +x '%s'), or for a script "
			 "record its interpreter on it ('leakhunt record -- sh %s')", cmd, cmd, cmd);
	} else {
		lh_error("cannot run '%s': %s", cmd, strerror(err));
	}
	strbuf_release(&path);
	return ret;
}

/*
 * Whether the program at cmd (found as execvp would) ignores LD_PRELOAD:
 * an ELF executable without an interpreter (static), or one the loader
 * runs in secure mode (set-user-ID or set-group-ID to someone else).  1
 * when it does, 0 when it does not or we cannot tell (a script, no file).
 */
static int ignores_preload(const char *cmd)
{
	struct strbuf path = STRBUF_INIT;
	ElfW(Ehdr) eh;
	struct stat sb;
	int fd, ret = 0;

	if (find_program(cmd, &path) || (fd = open(path.buf, O_RDONLY | O_CLOEXEC)) < 0)
		goto out;
	if (!fstat(fd, &sb) && (((sb.st_mode & S_ISUID) && sb.st_uid != getuid()) ||
				((sb.st_mode & S_ISGID) && sb.st_gid != getgid())))
		ret = 1;
	else if (pread(fd, &eh, sizeof(eh), 0) == sizeof(eh) && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
		 eh.e_phentsize == sizeof(ElfW(Phdr))) {
		ret = 1;
		for (int i = 0; i < eh.e_phnum && ret; i++) {
			ElfW(Phdr) ph;

			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (size_t)i * sizeof(ph))) != sizeof(ph) ||
			    ph.p_type == PT_INTERP)
				ret = 0;
		}
	}
	close(fd);
out:
	strbuf_release(&path);
	return ret;
}

/* The program ran and left the trace at path empty: why, as far as we can tell. */
static void no_trace_error(const char *cmd, const char *path)
{
	char *dir = lh_xstrdup(path);
	struct statvfs vs;
	struct rlimit rl;

	if (!getrlimit(RLIMIT_FSIZE, &rl) && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < LHT_HEADER_SIZE)
		lh_error("'%s' ran but wrote no trace: the file size limit (ulimit -f) is %llu bytes; raise it "
			 "and record again", cmd, (unsigned long long)rl.rlim_cur);
	else if (!statvfs(dirname(dir), &vs) && !vs.f_bavail)
		lh_error("'%s' ran but wrote no trace: no space left on the file system of '%s'; free some "
			 "space and record again", cmd, path);
	else if (ignores_preload(cmd))
		lh_error("'%s' ran but wrote no trace: a static or setuid executable ignores LD_PRELOAD, so "
			 "leakhunt cannot record it", cmd);
	else
		/* the library ran and said why on the program's stderr ("cannot
		 * map memory...": a limit on the address space), or the program
		 * replaced LD_PRELOAD in its own environment before an exec */
		lh_error("'%s' ran but wrote no trace: libleakhunt did not start recording in it (its message "
			 "above, if any, says why), or the program ran another one without LD_PRELOAD", cmd);
	free(dir);
}

/*
 * Symbolize the trace at path: the symbolizer reads every record of the file
 * it is given, and decoding the events is most of that (about a second per
 * 8 M allocations), so it gets a copy without the compressed event chunks
 * next to the trace, and the table it appends there is moved to the trace.
 * A damaged tail is cut off first, as the symbolizer would: the table must
 * follow a complete chunk.  Children named in the trace are listed in
 * children.
 */
static int symbolize(const char *path, struct lh_symbolizer *warm, struct lh_symbolize_stats *st,
		     struct trace_notes *tn, uint32_t *flags)
{
	struct strbuf tmp = STRBUF_INIT;
	struct lh_trace t;
	struct stat sb;
	int fd, ret = -1;

	if (lh_trace_open(&t, path))
		return -1;
	*flags = t.flags;
	strbuf_addf(&tmp, "%s.symbols-XXXXXX", path);
	fd = mkstemp(tmp.buf);
	if (fd < 0) {
		lh_error("cannot create '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	if (lh_trace_copy_meta(&t, fd, take_note, tn) || fstat(fd, &sb)) {
		lh_error("cannot write '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	if (t.damage.len && truncate(path, (off_t)t.good_end)) {
		lh_error("cannot truncate the damaged tail of '%s': %s", path, strerror(errno));
		goto out;
	}
	/* said: once cut, the trace reads as one that merely ends early */
	if (t.damage.len)
		lh_warn("'%s' is damaged (%s): cut there, dropping its last %llu bytes", path, t.damage.buf,
			(unsigned long long)((uint64_t)t.mf.size - (uint64_t)t.good_end));
	if (!lh_symbolize_trace(tmp.buf, warm, st))
		ret = append_from(fd, sb.st_size, path);
out:
	lh_trace_release(&t);
	if (fd >= 0) {
		close(fd);
		unlink(tmp.buf);
	}
	strbuf_release(&tmp);
	return ret;
}

/*
 * The program died of signal sig: so do we, once the trace is finished (as
 * timeout(1), strace and valgrind do), without a core dump of our own.  An
 * exit status of 128+sig is not the same to a shell: bash stops a script or
 * a loop at Ctrl-C only when the command it waited for died of SIGINT, and
 * went on to the next command after 'leakhunt record' exited 130.
 */
static void die_of(int sig)
{
	struct rlimit core = { 0, 0 };
	sigset_t set;

	fflush(NULL);
	setrlimit(RLIMIT_CORE, &core);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

#define MAX_FORK_DEPTH 256 /* a chain of forked children; a damaged trace could name itself */

static volatile sig_atomic_t stop_waiting;

static void on_stop_waiting(int sig)
{
	(void)sig;
	stop_waiting = 1;
}

/* Does process pid hold the file trace (its device and inode) open? */
static int holds_open(pid_t pid, const struct stat *trace)
{
	char dir[64], link[PATH_MAX];
	struct dirent *d;
	struct stat sb;
	DIR *fds;
	int found = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	fds = opendir(dir);
	if (!fds)
		return 0;
	while (!found && (d = readdir(fds))) {
		snprintf(link, sizeof(link), "%s/%s", dir, d->d_name);
		found = d->d_name[0] != '.' && !stat(link, &sb) && sb.st_dev == trace->st_dev &&
			sb.st_ino == trace->st_ino;
	}
	closedir(fds);
	return found;
}

/*
 * A followed child that outlives the program (a daemon's double fork, a
 * background job nobody waits for) still writes its trace when the program
 * ends: symbolizing it then would leave its later stacks unnamed.  So while
 * the process that writes it (pid, from the parent's child record: the
 * header may not be written yet) holds it open, wait, saying so; Ctrl-C
 * stops waiting.  The child holds its file open from before the parent's
 * trace names it.
 */
static void wait_for_writer(const char *path, pid_t pid)
{
	struct sigaction sa = { .sa_handler = on_stop_waiting }, old;
	int said = 0;
	struct stat sb;

	if (pid <= 0 || stat(path, &sb))
		return;
	sigaction(SIGINT, &sa, &old);
	while (!stop_waiting && holds_open(pid, &sb)) {
		if (!said++)
			fprintf(stderr, "leakhunt record: process %d, forked by the program, is still running and "
				"writing '%s'; waiting for it to end (Ctrl-C stops waiting)\n", (int)pid, path);
		usleep(50000);
	}
	sigaction(SIGINT, &old, NULL);
}

/* Symbolize one trace (with warm, the symbolizer warmed for it, or NULL)
 * and the followed children it names, depth first.  exited: the process
 * we started ended by exit (not by a signal; not an attached process, not
 * a child's trace), so the trace must have its end record. */
static int finish_trace(const char *path, pid_t writer, struct lh_symbolizer *warm, int depth, int exited,
			const char *last_exe)
{
	struct lh_symbolize_stats st;
	struct trace_notes tn = { STRBUF_INIT, STRBUF_INIT, 0 };
	uint32_t flags = 0;
	int ret;

	if (depth)
		wait_for_writer(path, writer);
	ret = symbolize(path, warm, &st, &tn, &flags);

	if (flags & LHT_FLAG_WRITE_FAILED)
		ret = lh_error("recording stopped early: writing '%s' failed (%s); free some space (or raise the "
			       "file size limit) and record again; the trace keeps what reached it",
			       path, strerror((int)(flags >> LHT_FLAG_ERRNO_SHIFT & 0xff)));
	else if (!ret && exited && !tn.ended && last_exe && *last_exe && (!tn.exe.len || strcmp(last_exe, tn.exe.buf)))
		lh_warn("the trace '%s' ends before the process did: '%s' replaced itself with '%s' (exec), which is "
			"not recorded (a wrapper script such as pyenv's shims does that); record that program itself: "
			"'leakhunt record -- %s ARGS...'", path, tn.exe.len ? tn.exe.buf : "the program", last_exe,
			last_exe);
	else if (!ret && exited && !tn.ended)
		/* exit runs our destructor, _exit our hook: the image that
		 * exited is not the one we were loaded into */
		lh_warn("the trace '%s' ends before the process did: '%s' most likely replaced itself with another "
			"program (exec), which is not recorded (a wrapper script such as pyenv's shims does that); "
			"record the final program itself, as in 'leakhunt record -- /path/to/program ARGS...'",
			path, tn.exe.len ? tn.exe.buf : "the program");
	if (ret) {
		strbuf_release(&tn.children);
		strbuf_release(&tn.exe);
		return -1;
	}
	lh_info("%s: %llu addresses, %llu with a function, %llu frames, %llu modules (%llu modules and "
		"%llu addresses loaded while the program ran)", path, (unsigned long long)st.ips,
		(unsigned long long)st.resolved, (unsigned long long)st.frames, (unsigned long long)st.modules,
		(unsigned long long)st.warm, (unsigned long long)st.warm_ips);
	for (char *line = tn.children.buf, *nl, *p; *line; line = nl + 1) {
		pid_t pid = (pid_t)strtol(line, &p, 10);

		nl = strchr(line, '\n');
		*nl = 0;
		p++;
		if (depth >= MAX_FORK_DEPTH) {
			lh_warn("the forked child's trace '%s' is not symbolized: it is more than %d forks deep "
				"(its frames show as module+offset)", p, MAX_FORK_DEPTH);
		} else if (!access(p, R_OK)) {
			fprintf(stderr, "leakhunt record: child trace %s\n", p);
			/* the same symbolizer: a child has its parent's modules,
			 * loaded once rather than once a child (about 0.1 s each) */
			if (finish_trace(p, pid, warm, depth + 1, 0, NULL))
				ret = -1;
		} else {
			lh_warn("a forked child's trace '%s' was not written (%s): that child is not recorded", p,
				strerror(errno));
		}
	}
	strbuf_release(&tn.children);
	strbuf_release(&tn.exe);
	return ret;
}

/*
 * The warm-up thread: it waits for the trace to list its modules (the
 * preload writes them when recording starts), loads them into a symbolizer
 * and resolves the addresses of the stacks so far; then, every 100 ms, the
 * addresses of new stacks and modules loaded later.  It only reads the
 * trace.  warmup_finish() stops it between two modules or addresses and
 * waits for it: never two threads in one Dwfl.  What it loaded is kept;
 * whatever it did not get to is loaded as without it.  It runs 10 nice
 * levels below us (Linux keeps a nice value per thread) so that a program
 * with every core busy keeps them; once the program ended, it gets our
 * level back where we may raise it again (CAP_SYS_NICE or RLIMIT_NICE), so
 * that a busy machine does not hold up the end.  For tests,
 * LEAKHUNT_NO_WARMUP=1 turns it off.
 */
struct warmup {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;       /* on stop, to end the wait for the trace */
	int stop;                  /* the program ended: atomic, and under lock */
	pid_t tid;                 /* the thread's, once it lowered its priority */
	int nice;                  /* ours */
	char *path;
	struct lh_symbolizer *sym; /* NULL: no warm-up */
};

static void *warmup_run(void *arg)
{
	struct warmup *w = arg;
	struct timespec t0, until;
	long ns = 5 * 1000 * 1000;
	int passes = 0;

	pthread_mutex_lock(&w->lock);
	if (!w->stop && !setpriority(PRIO_PROCESS, (id_t)gettid(), w->nice + 10))
		w->tid = gettid();
	while (!w->stop) {
		pthread_mutex_unlock(&w->lock);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		/* until the trace lists its modules, look every 5 ms; then
		 * every 100 ms, or 20 times as long as the last pass took (not
		 * counting the first, which loads the modules): each reads the
		 * whole trace again, and the program comes first */
		if (lh_symbolizer_warm(w->sym, w->path, &w->stop) > 0 && passes++) {
			clock_gettime(CLOCK_MONOTONIC, &until);
			ns = 20 * ((until.tv_sec - t0.tv_sec) * 1000 * 1000 * 1000 + until.tv_nsec - t0.tv_nsec);
		}
		if (passes && ns < 100 * 1000 * 1000)
			ns = 100 * 1000 * 1000;
		pthread_mutex_lock(&w->lock);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += ns / (1000 * 1000 * 1000);
		until.tv_nsec += ns % (1000 * 1000 * 1000);
		if (until.tv_nsec >= 1000 * 1000 * 1000) {
			until.tv_sec++;
			until.tv_nsec -= 1000 * 1000 * 1000;
		}
		if (!w->stop)
			pthread_cond_timedwait(&w->wake, &w->lock, &until);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Start warming the symbolizer for the trace at path; on any failure
 * w->sym is NULL and symbolizing goes the usual way. */
static void warmup_start(struct warmup *w, const char *path)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	int err;

	memset(w, 0, sizeof(*w));
	if (getenv("LEAKHUNT_NO_WARMUP") || !(w->sym = lh_symbolizer_new()))
		return;
	w->path = lh_xstrdup(path);
	w->nice = getpriority(PRIO_PROCESS, 0);
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_condattr_destroy(&ca);
	/* signals (Ctrl-C with -p) stay with the main thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&w->thread, NULL, warmup_run, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->wake);
		FREE_AND_NULL(w->path);
		lh_symbolizer_free(w->sym);
		w->sym = NULL;
	}
}

/* Stop the warm-up and wait for it: the symbolizer, or NULL. */
static struct lh_symbolizer *warmup_finish(struct warmup *w)
{
	if (!w->sym)
		return NULL;
	pthread_mutex_lock(&w->lock);
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
	if (w->tid)
		setpriority(PRIO_PROCESS, (id_t)w->tid, w->nice);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	FREE_AND_NULL(w->path);
	return w->sym;
}

/* The executable of pid now, or "". */
static void exe_now(pid_t pid, char *exe, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, size - 1);
	exe[n > 0 ? n : 0] = 0;
}

/*
 * Wait for the program to end; meanwhile, every 10 ms, note its executable
 * in exe (size bytes): a program that replaced itself by exec is named in
 * record's warning with the one that ran last.  A pidfd wakes us the
 * moment it ends; without one (Linux before 5.3), just wait.
 */
static void wait_program(pid_t pid, int *status, char *exe, size_t size)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { pfd, POLLIN, 0 };

	exe[0] = 0;
	while (pfd >= 0) {
		int r = poll(&p, 1, 10);
		char now[PATH_MAX];

		if (r > 0 || (r < 0 && errno != EINTR))
			break;
		exe_now(pid, now, sizeof(now));
		if (*now) /* gone: keep the last */
			snprintf(exe, size, "%s", now);
	}
	if (pfd >= 0)
		close(pfd);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

/* The program `record` runs: SIGTERM and SIGHUP sent to us go on to it,
 * and we wait for it to end and finish its trace (dying at once left it
 * running on, unrecorded, and its trace without symbols). */
static volatile pid_t program_pid;

static void pass_on(int sig)
{
	if (program_pid > 0)
		kill(program_pid, sig);
}

static volatile sig_atomic_t stop_attach;

static void on_stop(int sig)
{
	stop_attach = 1;
}

/* Make the target call the library's function fn, looked up with dlsym in
 * the target, with one string argument or none. */
static int call_in(struct lh_inject *in, uintptr_t dlsym_fn, long handle, const char *fn, const char *arg,
		   long *ret)
{
	struct lh_inject_arg a[2] = { { NULL, (uintptr_t)handle }, { fn, 0 } };
	long addr;

	if (lh_inject_call(in, dlsym_fn, 2, a, &addr))
		return -1;
	if (!addr)
		return lh_error("process %d: no %s in libleakhunt.so (an older library loaded there?)",
				(int)in->pid, fn);
	a[0] = (struct lh_inject_arg){ arg, 0 };
	return lh_inject_call(in, (uintptr_t)addr, arg ? 1 : 0, a, ret);
}

/* Load libleakhunt.so into the process and start (conf) or stop (NULL)
 * recording there; the process is held only for the calls. */
static int inject(pid_t pid, const char *preload, const char *conf)
{
	struct lh_inject in;
	struct lh_inject_arg a[2] = { { preload, 0 }, { NULL, RTLD_NOW } };
	uintptr_t dlopen_fn, dlsym_fn;
	long handle, ret = -1;
	int rc = -1;

	if (lh_inject_open(&in, pid))
		goto out;
	if (lh_inject_libc_symbol(&in, "dlopen", &dlopen_fn) || lh_inject_libc_symbol(&in, "dlsym", &dlsym_fn))
		goto out;
	/* loaded already by an earlier attach: dlopen just returns it */
	if (lh_inject_call(&in, dlopen_fn, 2, a, &handle))
		goto out;
	if (!handle) {
		lh_error("process %d could not load '%s'", (int)pid, preload);
		goto out;
	}
	if (call_in(&in, dlsym_fn, handle, conf ? "lh_preload_attach" : "lh_preload_detach", conf, &ret))
		goto out;
	if ((int)ret) {
		if (conf)
			lh_error("process %d: recording did not start (is it being recorded already?)", (int)pid);
		else
			lh_error("process %d: was not being recorded", (int)pid);
		rc = 1; /* an answer: no use asking again */
		goto out;
	}
	rc = 0;
out:
	lh_inject_close(&in);
	return rc;
}

/* A field of /proc/PID/status ("Tgid", "State"): its value, or "" */
static void proc_status(pid_t pid, const char *key, char *val, size_t size)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	FILE *f;

	val[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			char *v = line + klen + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = 0;
			snprintf(val, size, "%s", v);
			break;
		}
	fclose(f);
}

static int is_zombie(pid_t pid)
{
	char state[64];

	proc_status(pid, "State", state, sizeof(state));
	return state[0] == 'Z' || state[0] == 'X';
}

/* Is pid a kernel thread (kthreadd, a worker): no user space, no heap?
 * The PF_KTHREAD bit of the flags in /proc/PID/stat. */
static int is_kernel_thread(pid_t pid)
{
	char path[64], line[1024], *p;
	unsigned flags = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
	fclose(f);
	return p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %u", &flags) == 1 && (flags & 0x00200000);
}

/* Signals that end a recording; blocked while we are inside the process
 * (a ptrace call interrupted there leaves it to return to nowhere). */
static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
}

/* record -p PID: attach, wait for Ctrl-C, the duration or the process's
 * end, detach, symbolize. */
static int record_pid(pid_t pid, const char *output, double duration, int depth, int unwind,
		      uint64_t sample, int compact, const char *preload)
{
	struct strbuf out = STRBUF_INIT, conf = STRBUF_INIT;
	struct sigaction sa = { .sa_handler = on_stop }, old_int, old_term, old_hup, old_quit;
	struct timespec t0, now;
	struct warmup warm;
	struct lh_symbolizer *sym;
	char comm[64] = "process", tgid[32], state[64], proc_dir[32], exe1[PATH_MAX], exe2[PATH_MAX];
	sigset_t stops, old_mask;
	struct stat owner;
	int rc = 1, tries, handlers = 0, gone = 0;

	if (kill(pid, 0) && errno == ESRCH) {
		lh_error("no process %d", (int)pid);
		return 1;
	}
	proc_status(pid, "Tgid", tgid, sizeof(tgid));
	if (tgid[0] && atoi(tgid) != (int)pid) {
		lh_error("%d is a thread of process %s: record the process, with -p %s", (int)pid, tgid, tgid);
		return 1;
	}
	/* both would be refused by ptrace as "not permitted", which told root
	 * to run as the process's user or as root */
	if (pid == getpid()) {
		lh_error("cannot record process %d: it is this leakhunt itself", (int)pid);
		return 1;
	}
	if (is_kernel_thread(pid)) {
		proc_status(pid, "Name", comm, sizeof(comm));
		lh_error("process %d (%s) is a kernel thread: it has no heap of its own to record", (int)pid, comm);
		return 1;
	}
	signal(SIGXFSZ, SIG_IGN); /* a file size limit: write errors we report, not death */
	if (is_zombie(pid)) {
		lh_error("process %d has exited (a zombie: its parent has not collected it); there is nothing to record",
			 (int)pid);
		return 1;
	}
	proc_status(pid, "State", state, sizeof(state));
	if (state[0] == 'T')
		lh_warn("process %d is stopped (SIGSTOP, or Ctrl-Z): it allocates nothing, so records nothing, "
			"until it is continued ('kill -CONT %d')", (int)pid, (int)pid);
	if (output) {
		if (output_path(&out, output))
			return 1;
	} else {
		struct strbuf name = STRBUF_INIT;
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		f = fopen(path, "re");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n/")] = 0;
			fclose(f);
		}
		strbuf_addf(&name, "leakhunt.%s.%d.lht", comm, (int)pid);
		absolute(&out, name.buf);
		strbuf_release(&name);
	}
	exe_now(pid, exe1, sizeof(exe1));
	if (create_trace(out.buf))
		goto out;
	/* the process opens the trace itself: as root recording another
	 * user's process, the file must be that user's */
	snprintf(proc_dir, sizeof(proc_dir), "/proc/%d", (int)pid);
	if (!geteuid() && !stat(proc_dir, &owner) && owner.st_uid && chown(out.buf, owner.st_uid, owner.st_gid))
		lh_warn("cannot give '%s' to the process's user %u: %s", out.buf, (unsigned)owner.st_uid,
			strerror(errno));
	strbuf_addf(&conf,
		    "depth=%d,unwind=%d,follow_fork=0,keep_preload=1,check_unwind=0,sample=%llu,compact=%d,recorder=%d,"
		    "out=%s",
		    depth, unwind, (unsigned long long)sample, compact, (int)getpid(), out.buf);
	/* Ctrl-C and the like wait until we are out of the process again */
	stop_signals(&stops);
	sigprocmask(SIG_BLOCK, &stops, &old_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	sigaction(SIGQUIT, &sa, &old_quit);
	handlers = 1;
	if (inject(pid, preload, conf.buf)) {
		unlink(out.buf);
		goto out;
	}
	fprintf(stderr, "leakhunt record: recording process %d into %s; Ctrl-C to stop\n", (int)pid, out.buf);
	warmup_start(&warm, out.buf);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop_attach) {
		nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
		if ((kill(pid, 0) && errno == ESRCH) || is_zombie(pid)) {
			gone = 1;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (duration > 0 && (now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9 >= duration)
			break;
	}
	sigprocmask(SIG_BLOCK, &stops, NULL);
	/* a detach can fail for a moment (another tracer, such as gdb, holds
	 * the process): try again for a few seconds; but a process that exec'd
	 * has another program now, without the library, and the recording
	 * ended with the old one (its buffers were written at the exec) */
	exe_now(pid, exe2, sizeof(exe2));
	if (gone) {
		fprintf(stderr, "leakhunt record: process %d exited while recorded; the trace ends with it\n", (int)pid);
		tries = 0;
	} else if (*exe1 && *exe2 && strcmp(exe1, exe2)) {
		lh_warn("process %d replaced itself with '%s' (exec): the recording ended there", (int)pid, exe2);
		tries = 0;
	} else {
		for (tries = 0; tries < 10; tries++) {
			int r;

			if ((kill(pid, 0) && errno == ESRCH) || is_zombie(pid) || !(r = inject(pid, preload, NULL)) ||
			    r > 0)
				break;
			nanosleep(&(struct timespec){ 0, 500 * 1000 * 1000 }, NULL);
		}
	}
	if (tries == 10)
		lh_warn("could not detach from process %d; it stops recording by itself once we are gone", (int)pid);
	/* the stop signals keep their handler until the symbols are written: one
	 * that came while we detached (a second Ctrl-C; timeout(1) signals us
	 * and then our whole group) asked for what is being done, and with the
	 * old handler back it killed us there, leaving a trace without symbols */
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	sym = warmup_finish(&warm);
	rc = finish_trace(out.buf, 0, sym, 0, 0, NULL) ? 1 : 0;
	lh_symbolizer_free(sym);
	if (!rc)
		fprintf(stderr, "leakhunt record: wrote %s\n", out.buf);
	handlers = 0;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
out:
	if (handlers) { /* the attach failed */
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		sigaction(SIGHUP, &old_hup, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
	}
	strbuf_release(&out);
	strbuf_release(&conf);
	return rc;
}

int cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "depth", required_argument, NULL, 'd' },
		{ "unwind", required_argument, NULL, 'u' },
		{ "sample", required_argument, NULL, 's' },
		{ "follow-fork", no_argument, NULL, 'f' },
		{ "compact", no_argument, NULL, 'c' },
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct strbuf preload = STRBUF_INIT, out = STRBUF_INIT, conf = STRBUF_INIT;
	const char *output = NULL;
	int depth = 256, unwind = LHT_UNWIND_AUTO, follow_fork = 0, compact = 0, c, status, pipefd[2];
	uint64_t sample = 0;
	struct warmup warm;
	struct lh_symbolizer *sym;
	pid_t attach_pid = 0;
	double duration = 0;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit, old_term, old_hup;
	struct sigaction pass = { .sa_handler = pass_on };
	char **run; /* the command to run instead of a '#!/usr/bin/env' script, or NULL */
	pid_t pid;
	char errbuf[512], exe[PATH_MAX];
	ssize_t n;

	while ((c = getopt_long(argc, argv, "+ho:p:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 1 || v > INT_MAX) {
				lh_die_usage("-p '%s': expected a process id", optarg);
			}
			attach_pid = (pid_t)v;
			break;
		}
		case 'D': {
			char *end;

			duration = strtod(optarg, &end);
			if (*end || !(duration > 0)) {
				lh_die_usage("--duration '%s': expected seconds, such as 10 or 0.5", optarg);
			}
			break;
		}
		case 'o':
			output = optarg;
			break;
		case 'd': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 1 || v > 1024) {
				lh_die_usage("--depth '%s': expected a number of frames from 1 to 1024", optarg);
			}
			depth = (int)v;
			break;
		}
		case 'u':
			if (!strcmp(optarg, "auto"))
				unwind = LHT_UNWIND_AUTO;
			else if (!strcmp(optarg, "dwarf"))
				unwind = LHT_UNWIND_DWARF;
			else if (!strcmp(optarg, "fp"))
				unwind = LHT_UNWIND_FP;
			else {
				lh_die_usage("--unwind '%s': expected dwarf, fp or auto", optarg);
			}
			break;
		case 's':
			/* 0 would be a full recording, not a sampled one */
			if (lh_parse_size(optarg, &sample) || !sample) {
				lh_die_usage("--sample '%s': expected a size such as 512k (whole bytes, 1 to 4 EiB)", optarg);
			}
			break;
		case 'f':
			follow_fork = 1;
			break;
		case 'c':
			compact = 1;
			break;
		case 'v':
			lh_verbosity++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (attach_pid) {
		if (optind < argc) {
			lh_die_usage("-p PID records a running process: give no command");
		}
		if (follow_fork)
			lh_warn("--follow-fork applies to a program record starts: with -p, children the process "
				"forks are not recorded");
		if (find_preload(&preload)) {
			strbuf_release(&preload);
			return 1;
		}
		c = record_pid(attach_pid, output, duration, depth, unwind, sample, compact, preload.buf);
		strbuf_release(&preload);
		return c;
	}
	if (duration > 0) {
		lh_die_usage("--duration goes with -p PID");
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (find_preload(&preload)) {
		strbuf_release(&preload);
		return 1;
	}
	run = env_script(argv + optind);
	if (output && (output_path(&out, output) || create_trace(out.buf)))
		return 1;
	/* the child tells us why exec failed through a close-on-exec pipe */
	if (pipe2(pipefd, O_CLOEXEC))
		lh_die("cannot create a pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		lh_die("cannot fork: %s", strerror(errno));
	if (!pid) {
		const char *old = getenv("LD_PRELOAD");
		struct strbuf ld = STRBUF_INIT;
		int len, fd;

		close(pipefd[0]);
		if (!output) {
			char *cmd = lh_xstrdup(argv[optind]);
			struct strbuf name = STRBUF_INIT;

			strbuf_addf(&name, "leakhunt.%s.%d.lht", basename(cmd), (int)getpid());
			absolute(&out, name.buf);
			fd = out.len > TRACE_PATH_MAX ? (errno = ENAMETOOLONG, -1)
						      : open(out.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			if (fd < 0) {
				/* '-': the file is not ours (it existed); said once, by the parent */
				len = errno == EEXIST
					      ? snprintf(errbuf, sizeof(errbuf), "-cannot write '%s': the file exists; "
							 "choose another name with -o or remove it", out.buf)
					      : snprintf(errbuf, sizeof(errbuf), "-cannot create the trace '%s': %s; "
							 "choose where it goes with -o", out.buf, strerror(errno));
				(void)!write(pipefd[1], errbuf, (size_t)len);
				_exit(127);
			}
			close(fd);
		}
		/* for tests: LEAKHUNT_UNWIND_CHECK=1, auto also runs libunwind
		 * on every stack and prints how many differed;
		 * LEAKHUNT_TEST_WRITER_DELAY=US, the hand-over of full halves
		 * to the writer is slowed where it once lost one;
		 * LEAKHUNT_TEST_TRIE_BITS=N, the stack trie fills at 2^(N-1)
		 * nodes instead of 2^23 */
		strbuf_addf(&conf,
			    "depth=%d,unwind=%d,follow_fork=%d,keep_preload=0,check_unwind=%d,sample=%llu,compact=%d,"
			    "writer_delay=%d,trie_bits=%d,pid=%d,out=%s",
			    depth, unwind, follow_fork, getenv("LEAKHUNT_UNWIND_CHECK") ? 1 : 0,
			    (unsigned long long)sample, compact, test_knob("LEAKHUNT_TEST_WRITER_DELAY"),
			    test_knob("LEAKHUNT_TEST_TRIE_BITS"), (int)getpid(), out.buf);
		strbuf_addstr(&ld, preload.buf);
		if (old && *old)
			strbuf_addf(&ld, ":%s", old);
		setenv("LD_PRELOAD", ld.buf, 1);
		setenv("LEAKHUNT_RECORD", conf.buf, 1);
		execvp(run ? run[0] : argv[optind], run ? run : argv + optind);
		/* '+' and execvp's errno: the trace we created stays empty */
		len = snprintf(errbuf, sizeof(errbuf), "+%d", errno);
		(void)!write(pipefd[1], errbuf, (size_t)len);
		_exit(127);
	}
	close(pipefd[1]);
	/* past a file size limit our own writes (the symbol table) fail with
	 * EFBIG, which we report, rather than kill us (only here: ignoring
	 * it before the fork would pass on to the program) */
	signal(SIGXFSZ, SIG_IGN);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	program_pid = pid;
	sigaction(SIGTERM, &pass, &old_term);
	sigaction(SIGHUP, &pass, &old_hup);
	n = read(pipefd[0], errbuf, sizeof(errbuf) - 1);
	close(pipefd[0]);
	if (!output) {
		char *cmd = lh_xstrdup(argv[optind]);
		struct strbuf name = STRBUF_INIT;

		strbuf_addf(&name, "leakhunt.%s.%d.lht", basename(cmd), (int)pid);
		absolute(&out, name.buf);
		strbuf_release(&name);
		free(cmd);
	}
	/* nothing came through the pipe: the program runs */
	if (n <= 0)
		warmup_start(&warm, out.buf);
	else
		memset(&warm, 0, sizeof(warm));
	wait_program(pid, &status, exe, sizeof(exe));
	sym = warmup_finish(&warm);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	program_pid = 0;
	if (n > 0) {
		errbuf[n] = 0;
		if (errbuf[0] == '+') {
			unlink(out.buf);
			c = cannot_run(run ? run[0] : argv[optind], atoi(errbuf + 1));
		} else {
			lh_error("%s", errbuf + 1);
			c = 1;
		}
		free(run);
		lh_symbolizer_free(sym);
		strbuf_release(&preload);
		strbuf_release(&out);
		strbuf_release(&conf);
		return c;
	}
	free(run);
	{
		struct stat sb;

		if (stat(out.buf, &sb) == 0 && sb.st_size == 0) {
			lh_symbolizer_free(sym);
			no_trace_error(argv[optind], out.buf);
			unlink(out.buf);
			strbuf_release(&preload);
			strbuf_release(&out);
			strbuf_release(&conf);
			return 1;
		}
	}
	if (WIFSIGNALED(status))
		fprintf(stderr, "leakhunt record: '%s' was killed by signal %d; the trace keeps what "
			"reached the file\n", argv[optind], WTERMSIG(status));
	c = finish_trace(out.buf, 0, sym, 0, WIFEXITED(status), exe);
	lh_symbolizer_free(sym);
	if (!c)
		fprintf(stderr, "leakhunt record: wrote %s\n", out.buf);
	strbuf_release(&preload);
	strbuf_release(&out);
	strbuf_release(&conf);
	if (c)
		return 1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	die_of(WTERMSIG(status));
	return 128 + WTERMSIG(status);
}
