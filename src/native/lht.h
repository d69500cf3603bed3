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
 * Everything here is header-only and allocation-free so that the preload can
 * use it inside malloc hooks.
 */
#ifndef LH_NATIVE_LHT_H
#define LH_NATIVE_LHT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LHT_MAGIC "LEAKHUNT"
#define LHT_VERSION 1
#define LHT_HEADER_SIZE 32
#define LHT_CHUNK_HEADER 8
#define LHT_MAX_CHUNK (1u << 24) /* a reader refuses longer chunks as damage */

/* Special frame addresses stored in stack nodes instead of an ip. */
#define LHT_IP_TRUNCATED 1 /* the stack had more frames than --depth */

enum lht_record {
	LHT_REC_INFO = 'X',     /* str exe, str cmdline, pagesize, unwind mode, depth */
	LHT_REC_MODULE = 'M',   /* bias, str path, nseg, (vaddr, memsz)* */
	LHT_REC_MODULES_RESET = 'm', /* modules changed (dlopen/dlclose); a full list follows */
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
};

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

/* Signed deltas between nearby heap pointers stay short under zigzag. */
static inline uint64_t lht_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t lht_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

#endif
