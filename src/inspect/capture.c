/*
 * Streaming a heap snapshot to disk (see capture.h).
 *
 * Each addHeapSnapshotChunk message is {"method":"...","params":{"chunk":"S"}}
 * where S is ~100 kB of snapshot text escaped as a JSON string.  The fast path
 * recognizes node's fixed prefix and runs the incremental string decoder
 * (jstr.h) over S straight into the write buffer; anything else goes through
 * cJSON.  Chunks split the snapshot mid-token: we never parse the snapshot
 * here, only concatenate, so the file is byte for byte what the chunks carry.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/error.h"
#include "base/human.h"
#include "base/progress.h"
#include "base/strbuf.h"
#include "inspect/capture.h"
#include "inspect/cdp.h"
#include "inspect/jstr.h"
#include "inspect/net.h"
#include "inspect/target.h"

#define FLUSH_AT (1024 * 1024)

/*
 * What the user sees, and what keeps --timeout from firing, while the
 * target works without telling us: V8 first builds the whole graph (a
 * third to a half of the time, nothing written yet), then writes; a 1 GB
 * heap must not look hung for a minute.  Signs of work are the target's
 * CPU time and the bytes so far.  lh_progress prints the title of a bar
 * without a total, so the title carries the numbers.
 */
struct activity {
	pid_t pid;                   /* the target (0: not local, no CPU time to read) */
	uint64_t cpu;                /* its utime + stime (ticks) at the last look */
	uint64_t bytes;              /* snapshot bytes so far */
	int64_t start_ms;            /* when the capture call was sent */
	int64_t first_ms;            /* when the first bytes were seen (0: not yet) */
	int64_t said_ms;             /* the last -v line (when there is no progress bar) */
	char line[128];              /* the progress title, rewritten in place */
	struct lh_progress *progress;
};

static uint64_t target_cpu(pid_t pid)
{
	char p[64], buf[1024], *rp;
	unsigned long long ut = 0, stime = 0;
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	rp = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
	if (!rp || sscanf(rp + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			  &ut, &stime) != 2)
		return 0;
	return ut + stime;
}

static void activity_start(struct activity *a, pid_t pid)
{
	a->pid = pid;
	a->cpu = pid ? target_cpu(pid) : 0;
	a->start_ms = lh_net_now();
}

/* Draw the line (throttled by lh_progress; every 5 s with -v and no terminal). */
static void activity_show(struct activity *a)
{
	struct strbuf size = STRBUF_INIT, who = STRBUF_INIT;
	int64_t now = lh_net_now();

	if (a->pid)
		strbuf_addf(&who, "pid %d ", (int)a->pid);
	if (!a->bytes) {
		snprintf(a->line, sizeof(a->line), "%sbuilding the snapshot (%.0f s)", who.buf,
			 (now - a->start_ms) / 1000.0);
	} else {
		double s = (now - a->first_ms) / 1000.0;

		lh_human_size(&size, (int64_t)a->bytes);
		snprintf(a->line, sizeof(a->line), "%swriting the snapshot: %s at %.0f MB/s", who.buf,
			 size.buf, s > 0.2 ? a->bytes / 1e6 / s : 0.0);
	}
	strbuf_release(&size);
	strbuf_release(&who);
	if (!a->progress)
		a->progress = lh_progress_start(a->line, 0);
	if (a->progress) {
		lh_progress_update(a->progress, a->bytes);
	} else if (now - a->said_ms >= 5000) {
		lh_info("%s", a->line);
		a->said_ms = now;
	}
}

/* New bytes: the first ones start the rate's clock. */
static void activity_bytes(struct activity *a, uint64_t bytes)
{
	if (!a->bytes && bytes)
		a->first_ms = lh_net_now();
	a->bytes = bytes;
}

/* For the cdp busy hook: -1 the target is gone, 1 its CPU time grew, else 0. */
static int activity_cpu(struct activity *a)
{
	uint64_t cpu = target_cpu(a->pid);

	if (!lh_target_alive(a->pid))
		return lh_error("pid %d exited while writing the snapshot", (int)a->pid);
	if (cpu > a->cpu) {
		a->cpu = cpu;
		return 1;
	}
	return 0;
}

/*
 * Ctrl-C during a capture must not leave a temporary file behind, nor the
 * target's inspector open when we opened it.  The first signal only sets
 * a flag: the capture notices it between messages or within ~250 ms of
 * silence (the busy hooks), fails as any capture does (the file is
 * removed) and returns, so that the caller closes its session as usual.
 * A second signal removes the file (unlink is async-signal-safe) and
 * exits at once.
 */
static char signal_tmp[PATH_MAX];
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	if (!interrupted) {
		interrupted = sig;
		return;
	}
	if (signal_tmp[0])
		unlink(signal_tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

int lh_capture_interrupted(void)
{
	return interrupted != 0;
}

/* -1 with a message once a signal asked us to stop, else 0. */
static int check_interrupted(void)
{
	if (interrupted)
		return lh_error("interrupted (%s) during the capture", interrupted == SIGINT ?
				"Ctrl-C" : "SIGTERM");
	return 0;
}

struct sink {
	int fd;
	const char *tmp;            /* for messages */
	struct strbuf buf;          /* decoded bytes not yet written */
	struct activity act;        /* progress (and, for a local pid, signs of life) */
	struct lh_capture_stats *st;
};

static int sink_flush(struct sink *s)
{
	size_t off = 0;

	while (off < s->buf.len) {
		ssize_t n = write(s->fd, s->buf.buf + off, s->buf.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return lh_error("cannot write '%s': %s%s", s->tmp, strerror(errno),
					errno == ENOSPC ? "; free some space or give -o on another disk" : "");
		off += n;
	}
	strbuf_reset(&s->buf);
	return 0;
}

static int chunk_slow(struct sink *s, const char *msg, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(msg, len);
	cJSON *p = j ? cJSON_GetObjectItemCaseSensitive(j, "params") : NULL;
	cJSON *c = p ? cJSON_GetObjectItemCaseSensitive(p, "chunk") : NULL;

	if (!cJSON_IsString(c)) {
		cJSON_Delete(j);
		return lh_error("the target sent a malformed addHeapSnapshotChunk message: '%.80s'", msg);
	}
	strbuf_addstr(&s->buf, c->valuestring);
	cJSON_Delete(j);
	return 0;
}

static int on_chunk(struct sink *s, const char *msg, size_t len)
{
	static const char pre[] =
		"{\"method\":\"HeapProfiler.addHeapSnapshotChunk\",\"params\":{\"chunk\":\"";
	size_t before = s->buf.len;
	struct lh_jstr d;
	ssize_t used;

	if (len < sizeof(pre) || memcmp(msg, pre, sizeof(pre) - 1)) {
		if (chunk_slow(s, msg, len) < 0)
			return -1;
	} else {
		lh_jstr_init(&d);
		used = lh_jstr_feed(&d, msg + sizeof(pre) - 1, len - (sizeof(pre) - 1), &s->buf);
		if (used < 0 || lh_jstr_finish(&d, &s->buf) < 0 ||
		    (size_t)used + sizeof(pre) - 1 + 2 != len ||
		    memcmp(msg + sizeof(pre) - 1 + used, "}}", 2)) {
			/* not node's exact shape: let a real JSON parser judge it */
			strbuf_setlen(&s->buf, before);
			if (chunk_slow(s, msg, len) < 0)
				return -1;
		}
	}
	s->st->chunks++;
	s->st->bytes += s->buf.len - before;
	if (!s->act.bytes && s->act.progress)
		lh_progress_phase(s->act.progress, s->act.line, 0); /* from the objects bar */
	activity_bytes(&s->act, s->st->bytes);
	activity_show(&s->act);
	if (s->buf.len >= FLUSH_AT)
		return sink_flush(s);
	return 0;
}

static int on_event(void *ud, const char *method, const char *msg, size_t len)
{
	struct sink *s = ud;

	if (check_interrupted() < 0)
		return -1;
	if (!strcmp(method, "HeapProfiler.addHeapSnapshotChunk"))
		return on_chunk(s, msg, len);
	if (!strcmp(method, "HeapProfiler.reportHeapSnapshotProgress")) {
		cJSON *j = cJSON_ParseWithLength(msg, len);
		cJSON *p = j ? cJSON_GetObjectItemCaseSensitive(j, "params") : NULL;
		cJSON *done = p ? cJSON_GetObjectItemCaseSensitive(p, "done") : NULL;
		cJSON *total = p ? cJSON_GetObjectItemCaseSensitive(p, "total") : NULL;

		if (cJSON_IsNumber(done) && cJSON_IsNumber(total)) {
			if (!s->act.progress)
				s->act.progress = lh_progress_start("building snapshot (objects)",
								    (uint64_t)total->valuedouble);
			lh_progress_update(s->act.progress, (uint64_t)done->valuedouble);
			s->st->nodes = (uint64_t)total->valuedouble;
		}
		cJSON_Delete(j);
	}
	return 0;
}

static void guard_tmp(const char *tmp, struct sigaction *old_int, struct sigaction *old_term)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	snprintf(signal_tmp, sizeof(signal_tmp), "%s", tmp);
	interrupted = 0;
	sigaction(SIGINT, &sa, old_int);
	sigaction(SIGTERM, &sa, old_term);
}

static void unguard_tmp(struct sigaction *old_int, struct sigaction *old_term)
{
	sigaction(SIGINT, old_int, NULL);
	sigaction(SIGTERM, old_term, NULL);
	signal_tmp[0] = '\0';
}

/* Link tmp to path without ever replacing path. */
static int publish(const char *tmp, const char *path)
{
	if (!renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE))
		return 0;
	if (errno == EINVAL || errno == ENOSYS) {
		/* file systems without RENAME_NOREPLACE: link() refuses existing names too */
		if (!link(tmp, path)) {
			unlink(tmp);
			return 0;
		}
	}
	if (errno == EEXIST)
		return lh_error("cannot write '%s': it appeared while capturing; not overwriting it "
				"(the snapshot stays in '%s')", path, tmp);
	return lh_error("cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
}

static void fsync_dir_of(const char *path)
{
	struct strbuf dir = STRBUF_INIT;
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash)
		strbuf_add(&dir, path, slash == path ? 1 : (size_t)(slash - path));
	else
		strbuf_addch(&dir, '.');
	fd = open(dir.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	strbuf_release(&dir);
}

/*
 * Make the finished temporary file the snapshot: fsync, close, link it to
 * path without replacing anything, fsync the directory.  -1 if the data may
 * not be on disk (the caller discards tmp), -2 if it could not be linked
 * (tmp is kept and the error names it), 0 when path is complete.
 */
static int commit_tmp(int *fd, const char *tmp, const char *path)
{
	if (fsync(*fd) < 0) {
		lh_error("cannot write '%s': fsync: %s", tmp, strerror(errno));
		return -1;
	}
	close(*fd);
	*fd = -1;
	if (publish(tmp, path) < 0)
		return -2;
	fsync_dir_of(path);
	return 0;
}

/* After a failure: remove the temporary file, or keep it as PATH.partial. */
static void discard(const char *tmp, const char *path, unsigned flags, uint64_t bytes)
{
	if (flags & LH_CAPTURE_KEEP_PARTIAL) {
		struct strbuf kept = STRBUF_INIT;

		strbuf_addf(&kept, "%s.partial", path);
		if (!renameat2(AT_FDCWD, tmp, AT_FDCWD, kept.buf, RENAME_NOREPLACE))
			lh_warn("kept the incomplete snapshot (%llu bytes) as '%s'",
				(unsigned long long)bytes, kept.buf);
		else
			lh_warn("kept the incomplete snapshot as '%s'", tmp);
		strbuf_release(&kept);
	} else {
		unlink(tmp);
		if (bytes)
			lh_warn("removed the incomplete snapshot (%llu bytes); --keep-partial keeps it",
				(unsigned long long)bytes);
	}
}

/* The temporary file next to path: created (mode 0600), its fd, or -1 with a message. */
static int create_tmp(const char *path, struct strbuf *tmp)
{
	struct stat sb;
	int fd;

	if (!lstat(path, &sb))
		return lh_error("cannot write '%s': it already exists; leakhunt never overwrites a "
				"file, give another -o", path);
	strbuf_addf(tmp, "%s.XXXXXX.partial", path);
	fd = mkostemps(tmp->buf, 8, O_CLOEXEC); /* mode 0600 */
	if (fd < 0)
		return lh_error("cannot create '%s': %s", tmp->buf, strerror(errno));
	return fd;
}

/*
 * Between chunks: a signal stops the capture; for a local target its CPU
 * time is the sign of work, as in write mode.
 */
static int stream_busy(void *ud)
{
	struct sink *s = ud;
	int r;

	if (check_interrupted() < 0)
		return -1;
	if (!s->act.pid)
		return 0; /* a target we cannot see: only its messages are signs of work */
	r = activity_cpu(&s->act);

	if (r >= 0)
		activity_show(&s->act);
	return r;
}

/*
 * Progress events cost the target a pass over its heap to count the
 * objects and an event per 10,000 of them: with a 91 MB snapshot, 7.1 s
 * of the target's CPU with them against 6.4 s without (medians of 8,
 * docs/snapshot.md).  A local target's CPU time says as well that it is
 * working, so only a target we cannot see gets them (for --timeout and the
 * objects bar).
 */
int lh_capture_snapshot(struct lh_cdp *c, pid_t pid, const char *path, unsigned flags,
			struct lh_capture_stats *st)
{
	struct strbuf tmp = STRBUF_INIT;
	struct sink s = { .fd = -1, .st = st };
	struct sigaction old_int, old_term;
	int ret = -1, guarded = 0, r;

	memset(st, 0, sizeof(*st));
	st->method = LH_CAPTURE_STREAM;
	strbuf_init(&s.buf, FLUSH_AT + 256 * 1024);
	s.fd = create_tmp(path, &tmp);
	if (s.fd < 0)
		goto out;
	s.tmp = tmp.buf;
	guard_tmp(tmp.buf, &old_int, &old_term);
	guarded = 1;
	if (lh_cdp_call(c, "HeapProfiler.enable", NULL, NULL, NULL, NULL) < 0)
		goto out_fail;
	activity_start(&s.act, pid);
	c->busy = stream_busy;
	c->busy_ud = &s;
	r = lh_cdp_call(c, "HeapProfiler.takeHeapSnapshot",
			pid ? "{\"reportProgress\":false}" : "{\"reportProgress\":true}", NULL,
			on_event, &s);
	c->busy = NULL;
	c->busy_ud = NULL;
	if (r < 0)
		goto out_fail;
	if (!st->chunks) {
		lh_error("the target finished the snapshot without sending any data");
		goto out_fail;
	}
	if (sink_flush(&s) < 0)
		goto out_fail;
	ret = commit_tmp(&s.fd, tmp.buf, path);
	if (ret == -1)
		goto out_fail;
	ret = ret ? -1 : 0;
	goto out;

out_fail:
	if (s.fd >= 0)
		sink_flush(&s);
	discard(tmp.buf, path, flags, st->bytes);
out:
	if (guarded)
		unguard_tmp(&old_int, &old_term);
	if (s.fd >= 0)
		close(s.fd);
	lh_progress_stop(s.act.progress);
	strbuf_release(&s.buf);
	strbuf_release(&tmp);
	return ret;
}

/*
 * The other method: the target writes the file itself.  We create the
 * temporary file (0600, given to the target's owner), have the target run
 * v8.writeHeapSnapshot() on its absolute name through Runtime.evaluate, and
 * keep our own descriptor on it: its size shows the writing, and it proves
 * the bytes landed in our file and not in some other file system's.  The
 * call is silent until it ends, so the growth of the file and of the
 * target's CPU time stand in for progress events.
 */
struct by_target {
	int fd;                      /* our descriptor on the temporary file */
	struct activity act;         /* the target's CPU time, the file's size, progress */
};

static int by_target_busy(void *ud)
{
	struct by_target *b = ud;
	struct stat sb;
	uint64_t before = b->act.bytes;
	int busy;

	if (check_interrupted() < 0)
		return -1;
	busy = activity_cpu(&b->act);
	if (busy < 0)
		return -1;
	if (!fstat(b->fd, &sb))
		activity_bytes(&b->act, sb.st_size);
	activity_show(&b->act);
	return busy || b->act.bytes > before;
}

/* The file system uid and gid of pid (what its opens are checked against). */
static int fs_ids(pid_t pid, uid_t *uid, gid_t *gid)
{
	char p[64], line[256];
	unsigned long u[4], g[4];
	int found = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Uid: %lu %lu %lu %lu", &u[0], &u[1], &u[2], &u[3]) == 4)
			found |= 1;
		else if (sscanf(line, "Gid: %lu %lu %lu %lu", &g[0], &g[1], &g[2], &g[3]) == 4)
			found |= 2;
	}
	fclose(f);
	if (found != 3)
		return -1;
	*uid = (uid_t)u[3];
	*gid = (gid_t)g[3];
	return 0;
}

/* Do the two paths name the same file (same device and inode)? 1, 0, or -1 (errno). */
static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
		return -1;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int lh_capture_local(pid_t pid, struct strbuf *why)
{
	char p[64];
	uid_t uid;
	gid_t gid;
	int r;

	/*
	 * The same root and the same mount namespace make our absolute path
	 * name the same file for the target; otherwise its writeHeapSnapshot
	 * would create a stray file in its own file system (or fail).
	 */
	snprintf(p, sizeof(p), "/proc/%d/root", (int)pid);
	r = same_file("/", p);
	if (r <= 0) {
		strbuf_addf(why, r < 0 ? "cannot see its root directory: %s" :
			    "it sees another root directory (a container or chroot?)",
			    strerror(errno));
		return 0;
	}
	snprintf(p, sizeof(p), "/proc/%d/ns/mnt", (int)pid);
	r = same_file("/proc/self/ns/mnt", p);
	if (r <= 0) {
		strbuf_addf(why, r < 0 ? "cannot see its mount namespace: %s" :
			    "it is in another mount namespace (a container?)", strerror(errno));
		return 0;
	}
	if (fs_ids(pid, &uid, &gid) < 0) {
		strbuf_addf(why, "cannot read its user id from /proc/%d/status", (int)pid);
		return 0;
	}
	if (uid != geteuid() && geteuid() != 0) {
		strbuf_addf(why, "it runs as uid %d and we cannot give it our file", (int)uid);
		return 0;
	}
	return 1;
}

/* Make tmp writable by pid alone (besides us): give it to its file system uid. */
static int hand_to_target(pid_t pid, int fd, const char *tmp)
{
	struct strbuf why = STRBUF_INIT;
	uid_t uid;
	gid_t gid;

	if (!lh_capture_local(pid, &why)) {
		lh_error("pid %d cannot write '%s': %s; use --method stream", (int)pid, tmp, why.buf);
		strbuf_release(&why);
		return -1;
	}
	strbuf_release(&why);
	if (fs_ids(pid, &uid, &gid) < 0)
		return lh_error("no process with pid %d", (int)pid);
	if (uid != geteuid() && fchown(fd, uid, gid) < 0)
		return lh_error("cannot give '%s' to the owner of pid %d (uid %d): %s; use "
				"--method stream", tmp, (int)pid, (int)uid, strerror(errno));
	return 0;
}

/* "require('v8').writeHeapSnapshot(<tmp as an absolute path, JSON-quoted>)" */
static void write_expr(const char *tmp, struct strbuf *expr)
{
	struct strbuf abs = STRBUF_INIT;
	cJSON *str;
	char *lit;

	if (tmp[0] != '/') {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)))
			strbuf_addf(&abs, "%s/", cwd);
	}
	strbuf_addstr(&abs, tmp);
	str = cJSON_CreateString(abs.buf);
	lit = cJSON_PrintUnformatted(str);
	strbuf_addf(expr, "require('v8').writeHeapSnapshot(%s)", lit);
	cJSON_free(lit);
	cJSON_Delete(str);
	strbuf_release(&abs);
}

/*
 * Have pid write the snapshot into our temporary file and run the call.
 * -2 when nothing was written and the session is still good: our checks
 * refused, the call threw (no permission on the directory, a read-only
 * file system, writeHeapSnapshot replaced) or it returned with the file
 * still empty; -1 on other failures (the target died, went silent, broke
 * the connection).
 */
static int run_write(struct lh_cdp *c, struct by_target *b, const char *tmp)
{
	struct strbuf expr = STRBUF_INIT;
	struct stat sb;
	cJSON *v = NULL;
	int r;

	if (hand_to_target(b->act.pid, b->fd, tmp) < 0)
		return -2;
	write_expr(tmp, &expr);
	lh_info("asking pid %d to run %s", (int)b->act.pid, expr.buf);
	activity_start(&b->act, b->act.pid);
	c->busy = by_target_busy;
	c->busy_ud = b;
	r = lh_cdp_evaluate(c, expr.buf, LH_CDP_EVAL_COMMAND_LINE_API, &v);
	c->busy = NULL;
	c->busy_ud = NULL;
	cJSON_Delete(v);
	strbuf_release(&expr);
	if (fstat(b->fd, &sb) < 0)
		return lh_error("cannot stat '%s': %s", tmp, strerror(errno));
	b->act.bytes = sb.st_size;
	if (r == 0 && !sb.st_size) {
		lh_error("pid %d wrote nothing to '%s'", (int)b->act.pid, tmp);
		r = -2;
	}
	if (r == -2 && (sb.st_size || !lh_target_alive(b->act.pid)))
		r = -1; /* it started, or it is gone: nothing to fall back on */
	return r;
}

/*
 * The written method.  With soft set, a failure before any data (run_write's
 * -2) is not printed but appended to soft, the temporary file is removed
 * whatever the flags, and -2 is returned: the caller streams instead.
 */
static int by_target(struct lh_cdp *c, pid_t pid, const char *path, unsigned flags,
		     struct lh_capture_stats *st, struct strbuf *soft)
{
	struct strbuf tmp = STRBUF_INIT, held = STRBUF_INIT;
	struct by_target b = { .fd = -1, .act = { .pid = pid } };
	struct sigaction old_int, old_term;
	struct stat sb;
	int ret = -1, r;

	memset(st, 0, sizeof(*st));
	st->method = LH_CAPTURE_WRITE;
	b.fd = create_tmp(path, &tmp);
	if (b.fd < 0)
		goto out;
	guard_tmp(tmp.buf, &old_int, &old_term);
	if (soft)
		lh_error_capture(&held);
	r = run_write(c, &b, tmp.buf);
	if (soft)
		lh_error_capture(NULL);
	lh_progress_stop(b.act.progress);
	b.act.progress = NULL;
	if (r == -2) {
		/* nothing written: nothing to keep, even with LH_CAPTURE_KEEP_PARTIAL */
		unlink(tmp.buf);
		if (soft) {
			strbuf_add(soft, held.buf, held.len);
			ret = -2;
		}
		goto out_guarded;
	}
	if (held.len) {
		/* not a case for falling back: the messages are errors after all */
		strbuf_setlen(&held, held.len - 1);
		lh_error("%s", held.buf);
	}
	if (r < 0)
		goto out_fail;
	st->bytes = b.act.bytes;
	if (fstat(b.fd, &sb) < 0) {
		lh_error("cannot stat '%s': %s", tmp.buf, strerror(errno));
		goto out_fail;
	}
	if ((sb.st_mode & 077) && fchmod(b.fd, 0600) < 0) {
		lh_error("cannot make '%s' private (mode 0600): %s", tmp.buf, strerror(errno));
		goto out_fail;
	}
	/* lent to the target's uid for the write (hand_to_target): the file is
	 * the user's who asked for it, like a streamed one */
	if (sb.st_uid != geteuid() && fchown(b.fd, geteuid(), getegid()) < 0) {
		lh_error("cannot take '%s' back from uid %d: %s", tmp.buf, (int)sb.st_uid, strerror(errno));
		goto out_fail;
	}
	ret = commit_tmp(&b.fd, tmp.buf, path);
	if (ret == -1)
		goto out_fail;
	ret = ret ? -1 : 0;
	goto out_guarded;

out_fail:
	if (!fstat(b.fd, &sb))
		st->bytes = sb.st_size;
	discard(tmp.buf, path, flags, st->bytes);
out_guarded:
	unguard_tmp(&old_int, &old_term);
out:
	if (b.fd >= 0)
		close(b.fd);
	strbuf_release(&tmp);
	strbuf_release(&held);
	return ret;
}

int lh_capture_snapshot_by_target(struct lh_cdp *c, pid_t pid, const char *path, unsigned flags,
				  struct lh_capture_stats *st)
{
	return by_target(c, pid, path, flags, st, NULL);
}

const char *lh_capture_method_name(enum lh_capture_method m)
{
	switch (m) {
	case LH_CAPTURE_STREAM: return "stream";
	case LH_CAPTURE_WRITE: return "write";
	default: return "auto";
	}
}

int lh_capture_take(struct lh_cdp *c, pid_t pid, enum lh_capture_method m, const char *path,
		    unsigned flags, struct lh_capture_stats *st)
{
	struct strbuf why = STRBUF_INIT;
	int r;

	if (m == LH_CAPTURE_STREAM)
		return lh_capture_snapshot(c, pid, path, flags, st);
	if (m == LH_CAPTURE_WRITE) {
		if (pid <= 0)
			return lh_error("--method write needs the target's pid: the target writes "
					"to our file system");
		return lh_capture_snapshot_by_target(c, pid, path, flags, st);
	}
	if (pid <= 0 || !lh_capture_local(pid, &why)) {
		lh_info("method: stream (%s)", pid > 0 ? why.buf :
			"the target was named by --url or --port, not by a local pid");
		strbuf_release(&why);
		return lh_capture_snapshot(c, pid, path, flags, st);
	}
	lh_info("method: write (pid %d shares our root directory and mount namespace)", (int)pid);
	r = by_target(c, pid, path, flags, st, &why);
	if (r == -2) {
		/* the first line says it; a thrown error's stack follows */
		char *nl = strchr(why.buf, '\n');

		if (nl)
			strbuf_setlen(&why, nl - why.buf);
		lh_warn("pid %d could not write the snapshot itself (%s); streaming it through "
			"the inspector instead", (int)pid, why.buf);
		r = lh_capture_snapshot(c, pid, path, flags, st);
		st->fell_back = 1;
	}
	strbuf_release(&why);
	return r;
}
