/*
 * Heap snapshot capture over an open CDP session: HeapProfiler.takeHeapSnapshot
 * streamed straight to disk.
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

enum lh_capture_flags {
	LH_CAPTURE_KEEP_PARTIAL = 1 << 0, /* on failure keep PATH.partial instead of removing it */
};

struct lh_capture_stats {
	uint64_t bytes;    /* snapshot bytes written */
	uint64_t chunks;   /* addHeapSnapshotChunk events */
	uint64_t nodes;    /* the final progress total (heap objects) */
};

/*
 * Take a heap snapshot through c and write it to path (which must not
 * exist).  0, or -1 with a message; on failure nothing is left at path, and
 * the partial data is removed or, with LH_CAPTURE_KEEP_PARTIAL, kept at
 * PATH.partial.
 */
int lh_capture_snapshot(struct lh_cdp *c, const char *path, unsigned flags,
			struct lh_capture_stats *st);

/*
 * The same file, written by the target itself: v8.writeHeapSnapshot() run in
 * pid (a local process: same root directory) through Runtime.evaluate, into
 * our temporary file, then fsync and the same rename.  As fast as the
 * process writing its own snapshot (the protocol's chunks cost the target
 * more CPU), but the target does the writing: it needs the target to reach
 * the directory.  st->chunks and st->nodes stay 0.  0, or -1 with a message.
 */
int lh_capture_snapshot_by_target(struct lh_cdp *c, pid_t pid, const char *path, unsigned flags,
				  struct lh_capture_stats *st);

#endif
