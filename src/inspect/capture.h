/*
 * Heap snapshot capture over an open CDP session, two ways: streamed
 * (HeapProfiler.takeHeapSnapshot, the chunks decoded straight to disk), or
 * written by the target itself (v8.writeHeapSnapshot into our file), which
 * costs a local target less; lh_capture_take() picks.
 *
 * The file is written under a temporary name in the target directory, made
 * durable (fsync) and only then linked to its final name, which must not
 * exist: a partial file never looks complete and an existing file is never
 * overwritten.  Mode 0600, because a snapshot holds every string in the heap.
 * Memory use is one message plus a 1 MB write buffer, whatever the size.
 */
#ifndef LH_INSPECT_CAPTURE_H
#define LH_INSPECT_CAPTURE_H

#include <stdint.h>
#include <sys/types.h>

struct lh_cdp;
struct strbuf;

enum lh_capture_flags {
	LH_CAPTURE_KEEP_PARTIAL = 1 << 0, /* on failure keep PATH.partial instead of removing it */
};

enum lh_capture_method {
	LH_CAPTURE_AUTO = 0, /* write when the target is local and can, else stream */
	LH_CAPTURE_STREAM,   /* the chunks over the inspector protocol */
	LH_CAPTURE_WRITE,    /* the target's own v8.writeHeapSnapshot() into our file */
};

struct lh_capture_stats {
	uint64_t bytes;    /* snapshot bytes written */
	uint64_t chunks;   /* addHeapSnapshotChunk events (stream) */
	uint64_t nodes;    /* the final progress total (heap objects; stream) */
	enum lh_capture_method method; /* how the file was written (never AUTO) */
	int fell_back;     /* auto tried write, which failed before any data: streamed */
};

/* The method's name as --method spells it. */
const char *lh_capture_method_name(enum lh_capture_method m);

/*
 * Take a heap snapshot through c and write it to path (which must not
 * exist) by method m.  pid is the target's pid as we see it, or 0 when the
 * target is not known to be a local process (reached by --url or --port):
 * then AUTO streams and WRITE is an error.  AUTO writes when
 * lh_capture_local() says the target can reach our file, and streams when
 * not, or when the write fails before producing any data (saying so).
 * st->method says which wrote the file.  0, or -1 with a message; on
 * failure nothing is left at path, and the partial data is removed or,
 * with LH_CAPTURE_KEEP_PARTIAL, kept at PATH.partial.
 */
int lh_capture_take(struct lh_cdp *c, pid_t pid, enum lh_capture_method m, const char *path,
		    unsigned flags, struct lh_capture_stats *st);

/*
 * Did SIGINT or SIGTERM stop the last capture?  The first one makes the
 * capture fail (-1, the file removed) and return, so that the caller can
 * still close its session and report; a second one exits at once.
 */
int lh_capture_interrupted(void);

/*
 * Can pid write a file that we name: a live process with our root
 * directory and our mount namespace (so our path is its path), whose file
 * system uid is ours or one we can give a file to (we are root)?  1 yes;
 * 0 no, with the reason in why (", " joined words for a message).
 */
int lh_capture_local(pid_t pid, struct strbuf *why);

/*
 * The streamed method alone (see lh_capture_take).  With pid (the target
 * as we see it, or 0) its CPU time stands in for progress events, which
 * cost it a pass over its heap.
 */
int lh_capture_snapshot(struct lh_cdp *c, pid_t pid, const char *path, unsigned flags,
			struct lh_capture_stats *st);

/*
 * The written method alone: v8.writeHeapSnapshot() run in pid through
 * Runtime.evaluate, into our temporary file (0600, given to the target's
 * file system uid), then fsync and the same rename.  As fast as the process
 * writing its own snapshot (the protocol's chunks cost the target more
 * CPU), but the target does the writing: it must reach the directory.
 * 0, or -1 with a message.
 */
int lh_capture_snapshot_by_target(struct lh_cdp *c, pid_t pid, const char *path, unsigned flags,
				  struct lh_capture_stats *st);

#endif
