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
#include <unistd.h>

#include "base/error.h"
#include "base/progress.h"
#include "base/strbuf.h"
#include "inspect/capture.h"
#include "inspect/cdp.h"
#include "inspect/jstr.h"

#define FLUSH_AT (1024 * 1024)

struct sink {
	int fd;
	const char *tmp;            /* for messages */
	struct strbuf buf;          /* decoded bytes not yet written */
	struct lh_progress *progress;
	struct lh_capture_stats *st;
	int writing;                /* chunks have started: progress shows bytes */
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
	if (!s->writing && s->progress) {
		lh_progress_phase(s->progress, "writing snapshot", 0);
		s->writing = 1;
	}
	lh_progress_update(s->progress, s->st->bytes);
	if (s->buf.len >= FLUSH_AT)
		return sink_flush(s);
	return 0;
}

static int on_event(void *ud, const char *method, const char *msg, size_t len)
{
	struct sink *s = ud;

	if (!strcmp(method, "HeapProfiler.addHeapSnapshotChunk"))
		return on_chunk(s, msg, len);
	if (!strcmp(method, "HeapProfiler.reportHeapSnapshotProgress")) {
		cJSON *j = cJSON_ParseWithLength(msg, len);
		cJSON *p = j ? cJSON_GetObjectItemCaseSensitive(j, "params") : NULL;
		cJSON *done = p ? cJSON_GetObjectItemCaseSensitive(p, "done") : NULL;
		cJSON *total = p ? cJSON_GetObjectItemCaseSensitive(p, "total") : NULL;

		if (cJSON_IsNumber(done) && cJSON_IsNumber(total)) {
			if (!s->progress)
				s->progress = lh_progress_start("building snapshot (objects)",
								(uint64_t)total->valuedouble);
			lh_progress_update(s->progress, (uint64_t)done->valuedouble);
			s->st->nodes = (uint64_t)total->valuedouble;
		}
		cJSON_Delete(j);
	}
	return 0;
}

/*
 * Ctrl-C during a capture must not leave a temporary file behind: the
 * handler removes it (unlink is async-signal-safe) and exits.
 */
static char signal_tmp[PATH_MAX];

static void on_signal(int sig)
{
	if (signal_tmp[0])
		unlink(signal_tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void guard_tmp(const char *tmp, struct sigaction *old_int, struct sigaction *old_term)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	snprintf(signal_tmp, sizeof(signal_tmp), "%s", tmp);
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

int lh_capture_snapshot(struct lh_cdp *c, const char *path, unsigned flags,
			struct lh_capture_stats *st)
{
	struct strbuf tmp = STRBUF_INIT;
	struct sink s = { .fd = -1, .st = st };
	struct sigaction old_int, old_term;
	struct stat sb;
	int ret = -1, guarded = 0;

	memset(st, 0, sizeof(*st));
	strbuf_init(&s.buf, FLUSH_AT + 256 * 1024);
	if (!lstat(path, &sb)) {
		lh_error("cannot write '%s': it already exists; leakhunt never overwrites a file, "
			 "give another -o", path);
		goto out;
	}
	strbuf_addf(&tmp, "%s.XXXXXX.partial", path);
	s.fd = mkostemps(tmp.buf, 8, O_CLOEXEC); /* mode 0600 */
	if (s.fd < 0) {
		lh_error("cannot create '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	s.tmp = tmp.buf;
	guard_tmp(tmp.buf, &old_int, &old_term);
	guarded = 1;
	if (lh_cdp_call(c, "HeapProfiler.enable", NULL, NULL, NULL, NULL) < 0)
		goto out_fail;
	if (lh_cdp_call(c, "HeapProfiler.takeHeapSnapshot", "{\"reportProgress\":true}", NULL,
			on_event, &s) < 0)
		goto out_fail;
	if (!st->chunks) {
		lh_error("the target finished the snapshot without sending any data");
		goto out_fail;
	}
	if (sink_flush(&s) < 0)
		goto out_fail;
	if (fsync(s.fd) < 0) {
		lh_error("cannot write '%s': fsync: %s", tmp.buf, strerror(errno));
		goto out_fail;
	}
	close(s.fd);
	s.fd = -1;
	if (publish(tmp.buf, path) < 0)
		goto out;
	fsync_dir_of(path);
	ret = 0;
	goto out;

out_fail:
	if (s.fd >= 0)
		sink_flush(&s);
	if (flags & LH_CAPTURE_KEEP_PARTIAL) {
		struct strbuf kept = STRBUF_INIT;

		strbuf_addf(&kept, "%s.partial", path);
		if (!renameat2(AT_FDCWD, tmp.buf, AT_FDCWD, kept.buf, RENAME_NOREPLACE))
			lh_warn("kept the incomplete snapshot (%llu bytes) as '%s'",
				(unsigned long long)st->bytes, kept.buf);
		else
			lh_warn("kept the incomplete snapshot as '%s'", tmp.buf);
		strbuf_release(&kept);
	} else {
		unlink(tmp.buf);
		if (st->bytes)
			lh_warn("removed the incomplete snapshot (%llu bytes); --keep-partial keeps it",
				(unsigned long long)st->bytes);
	}
out:
	if (guarded)
		unguard_tmp(&old_int, &old_term);
	if (s.fd >= 0)
		close(s.fd);
	lh_progress_stop(s.progress);
	strbuf_release(&s.buf);
	strbuf_release(&tmp);
	return ret;
}
