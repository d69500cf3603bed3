/*
 * Reading .lht traces (format: src/native/lht.h, docs/lht-format.md): the one
 * reader, used by `leakhunt record` (to symbolize) and `leakhunt report`.
 *
 * Two layers.  lh_trace_next() walks the file in file order, one record at a
 * time, and never allocates per record (the file is mmap'ed).
 * lh_trace_next_ordered() returns the same records but with the events
 * (alloc, free, realloc, sample) in their global sequence order, which
 * per-thread buffering scrambles in the file; it holds back only the events
 * that arrived ahead of a missing number, so memory follows the buffering
 * lag, not the trace length.
 *
 * Compressed chunks (format v2) are decompressed and their columns decoded,
 * each column in one pass, into an array of events (struct lh_trace_event)
 * that lh_trace_next hands out one by one and lh_trace_events in batches:
 * a reader of millions of events never re-encodes them as rows.  A chunk is
 * decoded whole before any of its events is returned, so a damaged one gives
 * none of them.  Version 3 chunks code their pointers by reference to the
 * earlier events of the same writer stream (src/native/lht_ptr.h): the
 * reader keeps that state per stream, at most ~600 KB each, updated in file
 * order.
 *
 * A trace cut short (the program was killed, the disk filled) is not an
 * error: reading stops at the last complete chunk and lh_trace.damage says
 * where and why.  A file that is not a trace, or of a newer version, is one.
 */
#ifndef LH_NATIVE_TRACE_H
#define LH_NATIVE_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "base/mapfile.h"
#include "base/strbuf.h"
#include "native/lht.h"

#define LH_TRACE_MAX_SEGS 16

struct lh_trace_frame {
	uint64_t function; /* string id, 0 unknown */
	uint64_t file;     /* string id, 0 unknown */
	uint64_t line;     /* 0 unknown */
};

struct lh_trace_rec {
	int type;         /* enum lht_record */
	uint32_t tid;     /* thread that wrote the chunk (0: `leakhunt record`) */
	uint64_t seq;     /* events: global order; END: number of events */
	uint64_t size;    /* ALLOC, REALLOC: requested bytes */
	uint64_t stack;   /* ALLOC, REALLOC: leaf node id (0 = empty stack) */
	uint64_t ptr;     /* ALLOC, REALLOC: the block; FREE: the freed block */
	uint64_t old;     /* REALLOC: the block given to realloc (0 for NULL) */
	uint64_t id;      /* NODE, STRING: id; CHILD: pid */
	uint64_t parent;  /* NODE */
	uint64_t ip;      /* NODE, SYMBOL: return address - 1, or LHT_IP_* */
	uint64_t ms;      /* SAMPLE, END: milliseconds since start */
	uint64_t rss;     /* SAMPLE: resident bytes; INFO: page size */
	uint64_t bias;    /* MODULE: load bias */
	uint64_t unwind, depth; /* INFO */
	uint64_t sample;  /* INFO (v2): --sample mean in bytes, 0 = every allocation recorded */
	const char *str;  /* INFO: exe; MODULE: path; CHILD: path; STRING: text */
	size_t str_len;
	const char *str2; /* INFO: command line */
	size_t str2_len;
	int nseg;         /* MODULE: PT_LOAD segments below */
	uint64_t seg_vaddr[LH_TRACE_MAX_SEGS], seg_memsz[LH_TRACE_MAX_SEGS];
	int nframes;      /* SYMBOL: frames, innermost first, in lh_trace.frames */
};

/* An event of a compressed chunk, decoded (lh_trace_events). */
struct lh_trace_event {
	uint64_t seq;   /* global order */
	uint64_t ptr;   /* ALLOC, REALLOC: the block; FREE: the freed block */
	uint64_t size;  /* ALLOC, REALLOC: requested bytes; FREE: 0 */
	uint64_t stack; /* ALLOC, REALLOC: leaf node id (0 = empty stack); FREE: 0 */
	uint64_t old;   /* REALLOC: the block given to realloc (0 for NULL); else 0 */
	int type;       /* LHT_REC_ALLOC, LHT_REC_FREE or LHT_REC_REALLOC */
};

struct lht_ptr_state;

struct lh_trace {
	struct lh_mapfile mf;
	uint32_t version, pid, flags;
	uint64_t start_ns;
	size_t off;          /* start of the next chunk */
	const uint8_t *p, *chunk_end; /* records left in the current chunk */
	uint32_t tid;
	uint64_t last_seq, last_ptr;
	struct lh_trace_frame *frames; /* of the last SYMBOL record */
	size_t frames_alloc;
	int ended;           /* saw LHT_REC_END: the program finished normally */
	int has_symbols;     /* saw LHT_REC_SYMBOLS_END */
	struct strbuf damage; /* empty, or why reading stopped early */
	size_t good_end;     /* offset just past the last complete chunk */
	size_t chunk_off;    /* where the current chunk starts in the file */
	size_t rec_off;      /* where the record lh_trace_next returned last starts
			      * (an event of a compressed chunk: the chunk) */
	int zchunk;          /* the current chunk was compressed: its records are in ev */
	uint8_t *cols;       /* v2: a compressed chunk, decompressed (its columns) */
	size_t cols_alloc;
	struct lh_trace_event *ev; /* v2: the events of a compressed chunk */
	size_t ev_nr, ev_next, ev_alloc; /* ev[ev_next .. ev_nr) are not read yet */
	void *dctx;          /* zstd decompression context */
	struct lht_ptr_state **streams; /* v3: the pointer state of each writer
					 * stream, by id (lht_ptr.h); NULL until seen */
	size_t nstreams;
	int skip_events;     /* set after open: compressed chunks (events only) are
			      * skipped undecompressed; for readers that want the
			      * stacks, modules and symbols, not the events */

	/* ordered layer */
	struct lh_trace_rec *heap;
	size_t heap_nr, heap_alloc;
	uint64_t next_seq;
	uint64_t missing;    /* sequence numbers never seen (lost buffers) */
	int eof;
	struct lh_trace_rec end_rec;
	int have_end;
};

/* Map and check the header; 0, or -1 after lh_error() (not a trace, newer
 * version, unreadable). */
int lh_trace_open(struct lh_trace *t, const char *path);
/* Next record in file order: 1, or 0 at the end of the readable part. */
int lh_trace_next(struct lh_trace *t, struct lh_trace_rec *r);
/*
 * Damage its caller found in what t returned (fmt says what and at which
 * byte): appended to t->damage, and reading stops as at the reader's own
 * damage (lh_trace_next returns 0, lh_trace_events nothing).
 */
void lh_trace_damaged(struct lh_trace *t, const char *fmt, ...) LH_PRINTF(2, 3);
/*
 * The events of the current compressed chunk that lh_trace_next has not
 * returned yet, at most max of them: *n events at the returned pointer, which
 * count as read and stay valid until the next call on t.  NULL (*n = 0) when
 * there are none: a plain chunk (its records come from lh_trace_next), or all
 * read.  The same events, in the same order, as lh_trace_next would return.
 */
const struct lh_trace_event *lh_trace_events(struct lh_trace *t, size_t max, size_t *n);
/* Next record with events in sequence order: 1, or 0 at the end. */
int lh_trace_next_ordered(struct lh_trace *t, struct lh_trace_rec *r);
void lh_trace_release(struct lh_trace *t);
/*
 * Copy to fd the header and every chunk of the opened trace t except the
 * compressed ones (which hold nothing but events), up to the last complete
 * chunk, calling each(record, arg) for every record read on the way (each
 * may be NULL).  The copy is what symbolizing needs (stacks, modules) at a
 * small fraction of the size; t->good_end and t->damage then say where the
 * readable part of the original ends.  0, or -1 when fd cannot be written.
 */
int lh_trace_copy_meta(struct lh_trace *t, int fd, void (*each)(const struct lh_trace_rec *r, void *arg),
		       void *arg);

#endif
