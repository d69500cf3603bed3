/*
 * The .lht trace format, shared by its one writer (the preload library in
 * src/native/preload/, plus `leakhunt record` appending the symbol table) and
 * its one reader (src/native/trace.c).  docs/lht-format.md is the prose
 * version of this file; change both together and bump LHT_VERSION.
 *
 * The idea: a fixed header, then self-delimiting chunks {u32 length, u32 tid,
 * payload}.  Each chunk is written with one write() to an O_APPEND file, so
 * chunks from different threads never interleave, and a process killed at any
 * point leaves a file whose last chunk is the only one that can be short.
 * Inside a chunk, records are a type byte followed by LEB128 varints.  Events
 * carry a dense global sequence number (delta-coded within the chunk), which
 * gives the reader one exact order across the per-thread buffers.
 *
 * Version 2 adds compressed chunks (LHT_CHUNK_ZSTD in the length word): the
 * event records of a thread buffer, regrouped into one column per field (the
 * fields of one kind compress far better together: measured 7.2 MB against
 * 9.7 MB for row order on 2 M events), as one zstd frame.  They hold the
 * same events the rows above would (lht_columns_to_rows turns them back into
 * rows; the reader, src/native/trace.c, decodes each column straight into
 * events), so everything after the chunk layer is the same for both
 * versions.  Version 1 files never set the flag and stay readable.
 *
 * Version 3 codes the pointers of those chunks by reference to the same
 * writer's recent allocations and frees (src/native/lht_ptr.h: about a fifth
 * of version 2's pointer bytes); its blocks start with a 0, so version 2
 * blocks stay readable in a version 3 file.
 *
 * Everything here is header-only and allocation-free so that the preload can
 * use it inside malloc hooks.
 */
#ifndef LH_NATIVE_LHT_H
#define LH_NATIVE_LHT_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LHT_MAGIC "LEAKHUNT"
#define LHT_VERSION 2      /* what the preload writes by default */
#define LHT_VERSION_COMPACT 3 /* with `record --compact`: pointers coded by reference */
#define LHT_READ_VERSION 3 /* the newest version readers take */
#define LHT_FIRST_VERSION 1 /* the oldest: readers take every one from it on */
#define LHT_HEADER_SIZE 32
#define LHT_HEADER_FLAGS 28 /* offset of the header's u32 flags (enum lht_flags) */
#define LHT_CHUNK_HEADER 8
#define LHT_MAX_CHUNK (1u << 24) /* a reader refuses longer chunks as damage */
#define LHT_CHUNK_ZSTD (1u << 31) /* v2: the payload is a zstd frame of columns */
#define LHT_COLUMNS 6             /* types, seq deltas, sizes, stacks, ptrs, old ptrs */

/* Special frame addresses stored in stack nodes instead of an ip. */
#define LHT_IP_TRUNCATED 1 /* the stack had more frames than --depth */

enum lht_record {
	LHT_REC_INFO = 'X',     /* str exe, str cmdline, pagesize, unwind mode, depth */
	LHT_REC_MODULE = 'M',   /* bias, str path, nseg, (vaddr, memsz)* */
	LHT_REC_MODULES_RESET = 'm', /* modules changed (dlopen/dlclose); the ones not listed yet follow */
	LHT_REC_NODE = 'N',     /* id, parent id, ip (return address - 1) */
	LHT_REC_ALLOC = 'A',    /* seq delta, size, stack id, ptr delta (zigzag) */
	LHT_REC_FREE = 'F',     /* seq delta, ptr delta (zigzag) */
	LHT_REC_REALLOC = 'R',  /* seq delta, size, stack id, ptr delta, old ptr */
	LHT_REC_SAMPLE = 'S',   /* seq delta, ms since start, rss bytes */
	LHT_REC_CHILD = 'C',    /* child pid, str path of the child's own trace */
	LHT_REC_END = 'Z',      /* seq delta (= events so far), ms since start: clean end */
	LHT_REC_STRING = 'W',   /* id, str: symbol-table strings */
	LHT_REC_SYMBOL = 'Y',   /* ip, nframes, (function id, file id, line)* innermost first */
	LHT_REC_SYMBOLS_END = 'z', /* the symbol table is complete */
};

enum lht_flags {
	LHT_FLAG_FOLLOW_FORK = 1 << 0,
	LHT_FLAG_WRITE_FAILED = 1 << 1, /* a write failed: recording stopped early; errno in bits 8-15 */
	LHT_FLAG_ATTACHED = 1 << 2,     /* record -p: the process ran before and may run after */
};
#define LHT_FLAG_ERRNO_SHIFT 8

enum lht_unwind {
	LHT_UNWIND_AUTO = 0,
	LHT_UNWIND_DWARF = 1,
	LHT_UNWIND_FP = 2,
};

/* Header (little-endian): magic[8], u32 version, u32 header size, u64 start
 * time (ns, CLOCK_REALTIME), u32 pid, u32 flags. */
static inline void lht_put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline void lht_put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static inline uint32_t lht_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t lht_get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Append v as LEB128; returns the new end.  At most 10 bytes. */
static inline uint8_t *lht_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* Read a LEB128 varint from [*pp, end); 0 on success, -1 when it runs past
 * end or is longer than 10 bytes. */
static inline int lht_get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	unsigned shift = 0;

	while (p < end && shift < 70) {
		uint8_t b = *p++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*pp = p;
			*out = v;
			return 0;
		}
		shift += 7;
	}
	return -1;
}

/*
 * lht_get_varint for a varint of at most 8 bytes, without a branch per byte,
 * when 8 bytes from *pp are readable: the first byte whose top bit is clear
 * ends it; mask up to there, then squeeze out the continuation bits in three
 * steps (7 -> 14 -> 28 -> 56 bits).  0, or -1 for a longer varint (decode
 * that one with lht_get_varint).
 */
static inline int lht_get_varint8(const uint8_t **pp, uint64_t *out)
{
	uint64_t x, stop;

	memcpy(&x, *pp, 8);
	x = le64toh(x);
	stop = ~x & 0x8080808080808080ull;
	if (!stop)
		return -1;
	x &= stop ^ (stop - 1);
	x = ((x & 0x7f007f007f007f00ull) >> 1) | (x & 0x007f007f007f007full);
	x = ((x & 0x3fff00003fff0000ull) >> 2) | (x & 0x00003fff00003fffull);
	x = ((x & 0x0fffffff00000000ull) >> 4) | (x & 0x000000000fffffffull);
	*pp += (__builtin_ctzll(stop) >> 3) + 1;
	*out = x;
	return 0;
}

/* Signed deltas between nearby heap pointers stay short under zigzag. */
static inline uint64_t lht_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t lht_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Copy the varint at *pp (inside [*pp, end)) to *out; 0, or -1 if cut. */
static inline int lht_copy_varint(const uint8_t **pp, const uint8_t *end, uint8_t **out)
{
	const uint8_t *p = *pp;
	int n = 0;

	do {
		if (p >= end || n == 10)
			return -1;
		*(*out)++ = *p;
		n++;
	} while (*p++ & 0x80);
	*pp = p;
	return 0;
}

/*
 * Pointer deltas in columns: heap blocks are 16-byte aligned, so a delta that
 * is a multiple of 16 is stored as zigzag(delta / 16) << 1, any other as
 * zigzag(delta) << 1 | 1: four bits fewer for nearly every pointer.
 */
static inline uint64_t lht_col_ptr_delta(int64_t d)
{
	if (!(d & 15))
		return lht_zigzag(d / 16) << 1;
	return lht_zigzag(d) << 1 | 1;
}

static inline uint64_t lht_col_ptr(uint64_t zz_delta)
{
	return lht_col_ptr_delta(lht_unzigzag(zz_delta));
}

/* The pointer delta (mod 2^64) a column value stands for: the inverse of
 * lht_col_ptr_delta. */
static inline uint64_t lht_col_ptr_value(uint64_t col)
{
	uint64_t d = (uint64_t)lht_unzigzag(col >> 1);

	return col & 1 ? d : d << 4;
}

/* The inverse of lht_col_ptr.  The times 16 is a shift of the unsigned
 * value: a damaged column's delta may not fit in 64 bits signed, and a
 * signed overflow would be undefined. */
static inline uint64_t lht_row_ptr(uint64_t col)
{
	if (col & 1)
		return col >> 1;
	return lht_zigzag((int64_t)((uint64_t)lht_unzigzag(col >> 1) << 4));
}

/*
 * Regroup the event records of a chunk payload [p, end) into columns:
 * col[k] must each have room for end - p + 16 bytes (a column never holds
 * more than the rows it came from, plus one byte a pointer).  Fills len[k]
 * and *nrec; 0, or -1 if the payload holds anything but A, F and R records.
 * (The preload appends its events to columns directly; this is for writers
 * that have rows, such as the tests.)
 */
static inline int lht_rows_to_columns(const uint8_t *p, const uint8_t *end, uint8_t *col[LHT_COLUMNS],
				      size_t len[LHT_COLUMNS], uint64_t *nrec)
{
	uint8_t *w[LHT_COLUMNS];
	uint64_t n = 0, z;

	for (int k = 0; k < LHT_COLUMNS; k++)
		w[k] = col[k];
	while (p < end) {
		uint8_t type = *p++;

		*w[0]++ = type;
		if (lht_copy_varint(&p, end, &w[1]))
			return -1;
		if (type == LHT_REC_ALLOC || type == LHT_REC_REALLOC) {
			if (lht_copy_varint(&p, end, &w[2]) || lht_copy_varint(&p, end, &w[3]))
				return -1;
		} else if (type != LHT_REC_FREE) {
			return -1;
		}
		if (lht_get_varint(&p, end, &z))
			return -1;
		w[4] = lht_put_varint(w[4], lht_col_ptr(z));
		if (type == LHT_REC_REALLOC && lht_copy_varint(&p, end, &w[5]))
			return -1;
		n++;
	}
	for (int k = 0; k < LHT_COLUMNS; k++)
		len[k] = (size_t)(w[k] - col[k]);
	*nrec = n;
	return 0;
}

/*
 * The inverse: nrec records from the columns col[k] (len[k] bytes each) as
 * rows into out, which has room for cap bytes.  Returns the bytes written,
 * or -1 on damage (a column too short, an unknown type, no room).
 */
static inline long lht_columns_to_rows(const uint8_t *const col[LHT_COLUMNS], const size_t len[LHT_COLUMNS],
				       uint64_t nrec, uint8_t *out, size_t cap)
{
	const uint8_t *r[LHT_COLUMNS], *e[LHT_COLUMNS];
	uint8_t *w = out;
	uint64_t z;

	for (int k = 0; k < LHT_COLUMNS; k++) {
		r[k] = col[k];
		e[k] = col[k] + len[k];
	}
	for (uint64_t i = 0; i < nrec; i++) {
		uint8_t type;

		if ((size_t)(w - out) + 1 + 5 * 10 > cap || r[0] >= e[0])
			return -1;
		type = *r[0]++;
		*w++ = type;
		if (lht_copy_varint(&r[1], e[1], &w))
			return -1;
		if (type == LHT_REC_ALLOC || type == LHT_REC_REALLOC) {
			if (lht_copy_varint(&r[2], e[2], &w) || lht_copy_varint(&r[3], e[3], &w))
				return -1;
		} else if (type != LHT_REC_FREE) {
			return -1;
		}
		if (lht_get_varint(&r[4], e[4], &z))
			return -1;
		w = lht_put_varint(w, lht_row_ptr(z));
		if (type == LHT_REC_REALLOC && lht_copy_varint(&r[5], e[5], &w))
			return -1;
	}
	return (long)(w - out);
}

#endif
