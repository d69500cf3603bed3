/*
 * The .lht reader (interface and invariants in trace.h).  A chunk is only
 * trusted once its whole length is in the file; a record that runs past its
 * chunk, or an unknown record type, ends reading at that chunk with a message
 * in t->damage, never a crash: everything before it stays usable.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "native/lht_ptr.h"
#include "native/trace.h"

int lh_trace_open(struct lh_trace *t, const char *path)
{
	const uint8_t *h;

	memset(t, 0, sizeof(*t));
	strbuf_init(&t->damage, 0);
	if (lh_mapfile_open(&t->mf, path))
		return -1;
	h = (const uint8_t *)t->mf.data;
	if (t->mf.size < LHT_HEADER_SIZE || memcmp(h, LHT_MAGIC, 8)) {
		size_t size = t->mf.size;
		int magic = size >= 8 && !memcmp(h, LHT_MAGIC, 8);

		lh_mapfile_release(&t->mf);
		if (!size)
			return lh_error("cannot read '%s': the file is empty (the program never started "
					"recording: a static or setuid executable ignores LD_PRELOAD)", path);
		if (magic)
			return lh_error("cannot read '%s': cut short inside its header (%zu of %d bytes); "
					"was the trace still being written?", path, size, LHT_HEADER_SIZE);
		return lh_error("cannot read '%s': not a leakhunt trace (no LEAKHUNT header)", path);
	}
	t->version = lht_get32(h + 8);
	if (t->version > LHT_READ_VERSION) {
		lh_mapfile_release(&t->mf);
		return lh_error("cannot read '%s': trace format version %u is newer than this "
				"leakhunt reads (%u); use a newer leakhunt", path, t->version, LHT_READ_VERSION);
	}
	if (t->version < LHT_FIRST_VERSION) {
		lh_mapfile_release(&t->mf);
		return lh_error("cannot read '%s': damaged header: trace format version %u does not exist "
				"(versions are %u to %u)", path, t->version, LHT_FIRST_VERSION, LHT_READ_VERSION);
	}
	t->off = lht_get32(h + 12);
	if (t->off < LHT_HEADER_SIZE || t->off > t->mf.size) {
		size_t size = t->mf.size;

		lh_mapfile_release(&t->mf);
		if (t->off < LHT_HEADER_SIZE)
			return lh_error("cannot read '%s': damaged header: its size (bytes 12-15) is %zu, less than "
					"the %d bytes of the header", path, t->off, LHT_HEADER_SIZE);
		return lh_error("cannot read '%s': damaged header: its size (bytes 12-15) is %zu, past the end of "
				"the file (%zu bytes)", path, t->off, size);
	}
	t->start_ns = lht_get64(h + 16);
	t->pid = lht_get32(h + 24);
	t->flags = lht_get32(h + LHT_HEADER_FLAGS);
	t->good_end = t->off;
	lh_mapfile_sequential(&t->mf);
	return 0;
}

static void stream_free(struct lht_ptr_state *s)
{
	if (!s)
		return;
	free(s->alloc);
	free(s->aclass);
	free(s->freed);
	free(s);
}

void lh_trace_release(struct lh_trace *t)
{
	lh_mapfile_release(&t->mf);
	FREE_AND_NULL(t->frames);
	FREE_AND_NULL(t->heap);
	FREE_AND_NULL(t->cols);
	FREE_AND_NULL(t->ev);
	for (size_t i = 0; i < t->nstreams; i++)
		stream_free(t->streams[i]);
	FREE_AND_NULL(t->streams);
	t->nstreams = 0;
	ZSTD_freeDCtx(t->dctx);
	t->dctx = NULL;
	strbuf_release(&t->damage);
}

/* Offset of p, in the current plain chunk, for messages. */
static size_t where(const struct lh_trace *t, const uint8_t *p)
{
	return (size_t)(p - (const uint8_t *)t->mf.data);
}

/*
 * The columns of a compressed chunk, each decoded in one pass of its own
 * into t->ev (a loop over one column is short and predictable; the records
 * in row form would interleave all six).  Each returns 0, or -1 when its
 * column is too short or holds a varint longer than 10 bytes: what
 * lht_columns_to_rows rejects.  Bytes past what the records need are
 * ignored, as there.
 */
struct column {
	const uint8_t *p, *end;
};

static inline int col_varint(struct column *c, uint64_t *v)
{
	if (c->end - c->p >= 8 && !lht_get_varint8(&c->p, v))
		return 0;
	return lht_get_varint(&c->p, c->end, v);
}

/*
 * The next 8 varints of c when each is one byte (most are: small deltas,
 * sizes and stack ids): their bytes in *x, lowest first, and 1; or 0, and
 * the caller decodes one varint with col_varint.
 */
static inline int col_small8(struct column *c, uint64_t *x)
{
	if (c->end - c->p < 8)
		return 0;
	memcpy(x, c->p, 8);
	*x = le64toh(*x);
	if (*x & 0x8080808080808080ull)
		return 0;
	c->p += 8;
	return 1;
}

/* Types: only A, F and R; counts the records that have a size and stack (A,
 * R) and an old pointer (R). */
static int col_types(struct lh_trace_event *ev, size_t n, struct column *c, size_t *nsized, size_t *nold)
{
	size_t sized = 0, old = 0;

	if ((size_t)(c->end - c->p) < n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int type = c->p[i];

		if (type != LHT_REC_ALLOC && type != LHT_REC_FREE && type != LHT_REC_REALLOC)
			return -1;
		ev[i].type = type;
		sized += type != LHT_REC_FREE;
		old += type == LHT_REC_REALLOC;
	}
	*nsized = sized;
	*nold = old;
	return 0;
}

/*
 * n varints of column c into the field at byte offset off of ev[0 .. n)
 * (the other passes move them where they belong).
 */
static int col_values(struct lh_trace_event *ev, size_t n, struct column *c, size_t off)
{
	uint8_t *f;
	uint64_t x;

	/* an empty block before any other: ev is still NULL, and NULL + off
	 * is undefined (clang's -fsanitize=undefined stops there) */
	if (!n)
		return 0;
	f = (uint8_t *)ev + off;
	for (size_t i = 0; i < n;) {
		if (n - i >= 8 && col_small8(c, &x)) {
			for (int k = 0; k < 8; k++, x >>= 8, f += sizeof(*ev))
				*(uint64_t *)f = x & 0xff;
			i += 8;
			continue;
		}
		if (col_varint(c, (uint64_t *)f))
			return -1;
		f += sizeof(*ev);
		i++;
	}
	return 0;
}

#define FIELD(name) offsetof(struct lh_trace_event, name)

/* The pointer column: deltas from 0 at the chunk's start, as
 * lht_col_ptr_delta wrote them.  No event has the address 0 (see
 * lh_trace_next). */
static int col_ptrs(struct lh_trace_event *ev, size_t n, struct column *c)
{
	uint64_t ptr = 0;
	int null = 0;

	if (col_values(ev, n, c, FIELD(ptr)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		ptr += lht_col_ptr_value(ev[i].ptr);
		ev[i].ptr = ptr;
		null |= !ptr;
	}
	return null ? -1 : 0;
}

/*
 * Sequence numbers are deltas from 0 at the chunk's start; sizes and stacks
 * belong to the A and R records only, old pointers to the R records: each
 * column holds just those, and they are spread out from the back (record i
 * never needs a value from a slot after i, so nothing is overwritten before
 * it is read).
 */
static void prefix_seqs(struct lh_trace_event *ev, size_t n)
{
	uint64_t seq = 0;

	for (size_t i = 0; i < n; i++) {
		seq += ev[i].seq;
		ev[i].seq = seq;
	}
}

static void resolve(struct lh_trace_event *ev, size_t n, size_t nsized, size_t nold)
{
	prefix_seqs(ev, n);
	for (size_t i = n, j = nsized, k = nold; i--;) {
		if (ev[i].type == LHT_REC_FREE) {
			ev[i].size = ev[i].stack = 0;
		} else {
			j--;
			ev[i].size = ev[j].size;
			ev[i].stack = ev[j].stack;
		}
		if (ev[i].type == LHT_REC_REALLOC)
			ev[i].old = ev[--k].old;
		else
			ev[i].old = 0;
	}
}

/* nrec events from the columns col[k] (a chunk, decompressed) into t->ev;
 * 0, or -1 on damage.  Nothing of a damaged chunk is returned. */
static int decode_columns(struct lh_trace *t, struct column col[LHT_COLUMNS], size_t nrec)
{
	size_t nsized, nold;

	ALLOC_GROW(t->ev, nrec, t->ev_alloc);
	if (col_types(t->ev, nrec, &col[0], &nsized, &nold) || col_values(t->ev, nrec, &col[1], FIELD(seq)) ||
	    col_values(t->ev, nsized, &col[2], FIELD(size)) || col_values(t->ev, nsized, &col[3], FIELD(stack)) ||
	    col_ptrs(t->ev, nrec, &col[4]) || col_values(t->ev, nold, &col[5], FIELD(old)))
		return -1;
	resolve(t->ev, nrec, nsized, nold);
	t->ev_nr = nrec;
	return 0;
}

/*
 * Version 3 chunks (lht_ptr.h): sizes in split columns, pointers as codes
 * that refer to the state of the chunk's writer stream.  Each stream's state
 * follows its chunks in file order, as the writer's did; its rings start
 * small and grow with the stream, up to LHT_PTR_WINDOW entries (~600 KB a
 * stream at most).
 */
static struct lht_ptr_state *stream_state(struct lh_trace *t, uint64_t id)
{
	if (!id || id >= LHT_REF_MAX_STREAMS)
		return NULL;
	if (id >= t->nstreams) {
		size_t n = t->nstreams;

		ALLOC_GROW(t->streams, id + 1, t->nstreams);
		memset(t->streams + n, 0, (t->nstreams - n) * sizeof(*t->streams));
	}
	if (!t->streams[id])
		t->streams[id] = lh_xcalloc(1, sizeof(struct lht_ptr_state));
	return t->streams[id];
}

/* Room in s's rings for the addresses nrec more events can add. */
static void stream_reserve(struct lht_ptr_state *s, uint64_t nrec)
{
	uint32_t a = lht_ptr_ring_size(s->nalloc + nrec), f = lht_ptr_ring_size(s->nfree + nrec);

	if (a > s->acap) {
		s->alloc = lh_xrealloc(s->alloc, a * sizeof(*s->alloc));
		s->aclass = lh_xrealloc(s->aclass, a);
		s->acap = a;
	}
	if (f > s->fcap) {
		s->freed = lh_xrealloc(s->freed, f * sizeof(*s->freed));
		s->fcap = f;
	}
}

static inline int col_split(struct column *lo, struct column *hi, uint64_t *v)
{
	return lht_get_split(&lo->p, lo->end, &hi->p, hi->end, v);
}

/* Sizes and stacks (split) of the A and R records, 0 for F. */
static int col_split_sizes_stacks(struct lh_trace_event *ev, size_t n, struct column col[LHT_REF_COLUMNS])
{
	for (size_t i = 0; i < n; i++) {
		if (ev[i].type == LHT_REC_FREE) {
			ev[i].size = ev[i].stack = 0;
			continue;
		}
		if (col_split(&col[LHT_RC_SIZE], &col[LHT_RC_SIZE_HI], &ev[i].size) ||
		    col_split(&col[LHT_RC_STACK], &col[LHT_RC_STACK_HI], &ev[i].stack))
			return -1;
	}
	return 0;
}

/* The codes of the events, parked in the fields they decode to: the
 * alloc side's in ptr, the free side's in old (for F too). */
static int col_ref_codes(struct lh_trace_event *ev, size_t n, struct column col[LHT_REF_COLUMNS])
{
	for (size_t i = 0; i < n; i++) {
		ev[i].old = ev[i].ptr = 0;
		if (ev[i].type != LHT_REC_ALLOC &&
		    col_split(&col[LHT_RC_FREE], &col[LHT_RC_FREE_HI], &ev[i].old))
			return -1;
		if (ev[i].type != LHT_REC_FREE &&
		    col_split(&col[LHT_RC_ALLOC], &col[LHT_RC_ALLOC_HI], &ev[i].ptr))
			return -1;
	}
	return 0;
}

/* Pointers from their codes, in event order (R: the old block first).  Only
 * R's old block may be 0 (realloc of NULL); no event has the address 0 (see
 * lh_trace_next). */
static int col_ref_ptrs(struct lht_ptr_state *s, struct lh_trace_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct lh_trace_event *e = &ev[i];

		if (e->type == LHT_REC_FREE) {
			if (lht_ptr_decode_free(s, e->old, &e->ptr) || !e->ptr)
				return -1;
			e->old = 0;
			continue;
		}
		if (e->type == LHT_REC_REALLOC && lht_ptr_decode_free(s, e->old, &e->old))
			return -1;
		if (lht_ptr_decode_alloc(s, e->ptr, e->size, &e->ptr) || !e->ptr)
			return -1;
	}
	return 0;
}

/* A chunk's n column lengths at *pp, then the columns themselves, one
 * after the other: col[0 .. n); 0, or -1 when a length does not fit. */
_Static_assert(LHT_COLUMNS <= LHT_REF_COLUMNS, "get_columns keeps the lengths of either kind of chunk");

static int get_columns(const uint8_t **pp, const uint8_t *end, struct column *col, int n)
{
	uint64_t len[LHT_REF_COLUMNS];
	const uint8_t *p = *pp;

	for (int k = 0; k < n; k++)
		if (lht_get_varint(&p, end, &len[k]))
			return -1;
	for (int k = 0; k < n; k++) {
		if (len[k] > (uint64_t)(end - p))
			return -1;
		col[k].p = p;
		col[k].end = p + len[k];
		p += len[k];
	}
	*pp = p;
	return 0;
}

/* The decompressed block [p, end) of a version 3 chunk, after its leading
 * 0, into t->ev; 0, or -1 (with a message in t->damage when it is more than
 * "damaged"). */
static int decode_refs(struct lh_trace *t, const uint8_t *p, const uint8_t *end)
{
	struct column col[LHT_REF_COLUMNS];
	uint64_t stream, flags, nev, nrec;
	struct lht_ptr_state *s;
	size_t nsized, nold;

	if (lht_get_varint(&p, end, &stream) || lht_get_varint(&p, end, &flags) ||
	    lht_get_varint(&p, end, &nev) || lht_get_varint(&p, end, &nrec) || nrec > LHT_MAX_CHUNK ||
	    flags & ~(uint64_t)LHT_REF_RESET || get_columns(&p, end, col, LHT_REF_COLUMNS))
		return -1;
	if (nrec > (uint64_t)(col[LHT_RC_TYPES].end - col[LHT_RC_TYPES].p) || !(s = stream_state(t, stream)))
		return -1;
	if (flags & LHT_REF_RESET)
		lht_ptr_reset(s);
	if (nev != s->nev) {
		strbuf_addf(&t->damage, "compressed chunk at byte %zu continues stream %" PRIu64 " after %" PRIu64
			    " pointers, but the trace has %" PRIu64 " of them (a chunk is missing)",
			    t->chunk_off, stream, nev, s->nev);
		return -1;
	}
	stream_reserve(s, nrec);
	ALLOC_GROW(t->ev, nrec, t->ev_alloc);
	if (col_types(t->ev, nrec, &col[LHT_RC_TYPES], &nsized, &nold) ||
	    col_values(t->ev, nrec, &col[LHT_RC_SEQ], FIELD(seq)) || col_split_sizes_stacks(t->ev, nrec, col) ||
	    col_ref_codes(t->ev, nrec, col) || col_ref_ptrs(s, t->ev, nrec))
		return -1;
	prefix_seqs(t->ev, nrec);
	t->ev_nr = nrec;
	return 0;
}

/* A v2 compressed chunk [z, z + len): decompressed into its columns, and
 * those decoded into t->ev; 0, or -1 with the reason in t->damage. */
static int unpack_chunk(struct lh_trace *t, const uint8_t *z, uint32_t len)
{
	unsigned long long size = ZSTD_getFrameContentSize(z, len);
	const uint8_t *p, *end;
	struct column col[LHT_COLUMNS];
	size_t got;
	uint64_t nrec;

	if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > LHT_MAX_CHUNK)
		goto bad;
	if (!t->dctx && !(t->dctx = ZSTD_createDCtx())) {
		strbuf_addf(&t->damage, "out of memory for a compressed chunk at byte %zu", t->chunk_off);
		return -1;
	}
	ALLOC_GROW(t->cols, size + 1, t->cols_alloc);
	got = ZSTD_decompressDCtx(t->dctx, t->cols, size, z, len);
	if (ZSTD_isError(got) || got != size)
		goto bad;
	p = t->cols;
	end = t->cols + size;
	if (lht_get_varint(&p, end, &nrec) || nrec > LHT_MAX_CHUNK)
		goto bad;
	/* version 3: pointers by reference; its 0 is followed by a stream id,
	 * never 0 (an empty version 2 block has zero lengths there) */
	if (!nrec && t->version >= 3 && p < end && *p) {
		if (decode_refs(t, p, end))
			goto bad;
		return 0;
	}
	if (get_columns(&p, end, col, LHT_COLUMNS))
		goto bad;
	/* nrec records need nrec type bytes: a bigger nrec is damage, not an allocation */
	if (nrec > (uint64_t)(col[0].end - col[0].p) || decode_columns(t, col, (size_t)nrec))
		goto bad;
	return 0;
bad:
	if (!t->damage.len)
		strbuf_addf(&t->damage, "damaged compressed chunk at byte %zu", t->chunk_off);
	return -1;
}

static int next_chunk(struct lh_trace *t)
{
	const uint8_t *base = (const uint8_t *)t->mf.data;
	uint32_t len;
	int zip;

	if (t->damage.len || t->off == t->mf.size)
		return 0;
	if (t->mf.size - t->off < LHT_CHUNK_HEADER) {
		strbuf_addf(&t->damage, "the trace ends inside a chunk header at byte %zu", t->off);
		return 0;
	}
	len = lht_get32(base + t->off);
	zip = t->version >= 2 && (len & LHT_CHUNK_ZSTD);
	len &= zip ? ~LHT_CHUNK_ZSTD : ~0u;
	if (len > LHT_MAX_CHUNK) {
		strbuf_addf(&t->damage, "damaged chunk length %u at byte %zu", len, t->off);
		return 0;
	}
	if (t->mf.size - t->off - LHT_CHUNK_HEADER < len) {
		strbuf_addf(&t->damage, "the trace ends inside a chunk at byte %zu (%zu of %u bytes present)",
			    t->off, t->mf.size - t->off - LHT_CHUNK_HEADER, len);
		return 0;
	}
	t->tid = lht_get32(base + t->off + 4);
	t->chunk_off = t->off;
	t->zchunk = zip;
	if (zip && t->skip_events) {
		t->off += LHT_CHUNK_HEADER + len;
		t->good_end = t->off;
		t->p = t->chunk_end = NULL;
		return 1;
	}
	t->p = base + t->off + LHT_CHUNK_HEADER;
	t->chunk_end = t->p + len;
	t->ev_nr = t->ev_next = 0;
	if (zip) {
		if (unpack_chunk(t, t->p, len)) {
			t->p = NULL;
			return 0;
		}
		t->p = t->chunk_end; /* no rows: the records are in t->ev */
	}
	t->off += LHT_CHUNK_HEADER + len;
	t->last_seq = 0;
	t->last_ptr = 0;
	return 1;
}

static int get_str(struct lh_trace *t, const char **s, size_t *len)
{
	uint64_t n;

	if (lht_get_varint(&t->p, t->chunk_end, &n) || n > (uint64_t)(t->chunk_end - t->p))
		return -1;
	*s = (const char *)t->p;
	*len = n;
	t->p += n;
	return 0;
}

#define V(x) do { if (lht_get_varint(&t->p, t->chunk_end, &(x))) goto bad; } while (0)

static inline int get_seq(struct lh_trace *t, struct lh_trace_rec *r)
{
	uint64_t d;

	if (lht_get_varint(&t->p, t->chunk_end, &d))
		return -1;
	t->last_seq += d;
	r->seq = t->last_seq;
	return 0;
}

static inline int get_ptr(struct lh_trace *t, uint64_t *out)
{
	uint64_t z;

	if (lht_get_varint(&t->p, t->chunk_end, &z))
		return -1;
	t->last_ptr += (uint64_t)lht_unzigzag(z);
	*out = t->last_ptr;
	return 0;
}

/* Every field but the segment arrays (nseg says how many are valid) to 0:
 * field by field, because a memset of the record's 160 bytes compiled to a
 * string store that was a fifth of the time to read 16 M events. */
static inline void clear_rec(struct lh_trace_rec *r)
{
	r->type = 0;
	r->tid = 0;
	r->seq = r->size = r->stack = r->ptr = r->old = 0;
	r->id = r->parent = r->ip = r->ms = r->rss = r->bias = 0;
	r->unwind = r->depth = r->sample = 0;
	r->str = r->str2 = NULL;
	r->str_len = r->str2_len = 0;
	r->nseg = 0;
	r->nframes = 0;
}

/* The next event of a compressed chunk as a record. */
static void event_rec(struct lh_trace *t, struct lh_trace_rec *r)
{
	const struct lh_trace_event *e = &t->ev[t->ev_next++];

	clear_rec(r);
	t->rec_off = t->chunk_off;
	r->tid = t->tid;
	r->type = e->type;
	r->seq = e->seq;
	r->size = e->size;
	r->stack = e->stack;
	r->ptr = e->ptr;
	r->old = e->old;
}

const struct lh_trace_event *lh_trace_events(struct lh_trace *t, size_t max, size_t *n)
{
	const struct lh_trace_event *e;

	*n = t->ev_nr - t->ev_next;
	if (*n > max)
		*n = max;
	/* before the first compressed chunk t->ev is NULL, and NULL + 0 is
	 * undefined (clang's -fsanitize=undefined stops there) */
	if (!*n)
		return NULL;
	e = t->ev + t->ev_next;
	t->ev_next += *n;
	return e;
}

int lh_trace_next(struct lh_trace *t, struct lh_trace_rec *r)
{
	const uint8_t *start;
	uint64_t n;

	while (!t->p || t->p >= t->chunk_end) {
		if (t->ev_next < t->ev_nr) {
			event_rec(t, r);
			return 1;
		}
		if (t->p)
			t->good_end = t->off;
		t->p = NULL;
		if (!next_chunk(t))
			return 0;
	}
	start = t->p;
	t->rec_off = where(t, start);
	clear_rec(r);
	r->tid = t->tid;
	r->type = *t->p++;
	switch (r->type) {
	/*
	 * No event has the address 0: the writer records only calls that
	 * returned memory and frees of non-NULL pointers.  The analysis keys
	 * its table of live blocks by address with 0 as the empty slot (a
	 * free of 0 once emptied an empty slot, and the table doubled at
	 * every allocation after it), so 0 is damage here.
	 */
	case LHT_REC_ALLOC:
		if (get_seq(t, r))
			goto bad;
		V(r->size);
		V(r->stack);
		if (get_ptr(t, &r->ptr) || !r->ptr)
			goto bad;
		break;
	case LHT_REC_FREE:
		if (get_seq(t, r) || get_ptr(t, &r->ptr) || !r->ptr)
			goto bad;
		break;
	case LHT_REC_REALLOC:
		if (get_seq(t, r))
			goto bad;
		V(r->size);
		V(r->stack);
		if (get_ptr(t, &r->ptr) || !r->ptr)
			goto bad;
		V(r->old);
		break;
	case LHT_REC_NODE:
		V(r->id);
		V(r->parent);
		V(r->ip);
		break;
	case LHT_REC_SAMPLE:
		if (get_seq(t, r))
			goto bad;
		V(r->ms);
		V(r->rss);
		break;
	case LHT_REC_END:
		if (get_seq(t, r))
			goto bad;
		V(r->ms);
		t->ended = 1;
		break;
	case LHT_REC_INFO:
		if (get_str(t, &r->str, &r->str_len) || get_str(t, &r->str2, &r->str2_len))
			goto bad;
		V(r->rss);
		V(r->unwind);
		V(r->depth);
		if (t->version >= 2)
			V(r->sample);
		break;
	case LHT_REC_MODULE:
		V(r->bias);
		if (get_str(t, &r->str, &r->str_len))
			goto bad;
		V(n);
		if (n > LH_TRACE_MAX_SEGS)
			goto bad;
		r->nseg = (int)n;
		for (int i = 0; i < r->nseg; i++) {
			V(r->seg_vaddr[i]);
			V(r->seg_memsz[i]);
		}
		break;
	case LHT_REC_MODULES_RESET:
	case LHT_REC_SYMBOLS_END:
		if (r->type == LHT_REC_SYMBOLS_END)
			t->has_symbols = 1;
		break;
	case LHT_REC_CHILD:
		V(r->id);
		if (get_str(t, &r->str, &r->str_len))
			goto bad;
		break;
	case LHT_REC_STRING:
		V(r->id);
		if (get_str(t, &r->str, &r->str_len))
			goto bad;
		break;
	case LHT_REC_SYMBOL:
		V(r->ip);
		V(n);
		if (n > 4096)
			goto bad;
		ALLOC_GROW(t->frames, n, t->frames_alloc);
		r->nframes = (int)n;
		for (int i = 0; i < r->nframes; i++) {
			V(t->frames[i].function);
			V(t->frames[i].file);
			V(t->frames[i].line);
		}
		break;
	default:
		strbuf_addf(&t->damage, "unknown record type 0x%02x at byte %zu",
			    r->type, where(t, start));
		t->p = NULL;
		return 0;
	}
	return 1;
bad:
	strbuf_addf(&t->damage, "damaged record of type '%c' at byte %zu", r->type, where(t, start));
	t->p = NULL;
	return 0;
}

void lh_trace_damaged(struct lh_trace *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&t->damage, fmt, ap);
	va_end(ap);
	t->p = NULL;
	t->ev_next = t->ev_nr;
}

static int is_event(int type)
{
	return type == LHT_REC_ALLOC || type == LHT_REC_FREE || type == LHT_REC_REALLOC ||
	       type == LHT_REC_SAMPLE;
}

/* A binary min-heap on seq. */
static void heap_push(struct lh_trace *t, const struct lh_trace_rec *r)
{
	size_t i;

	ALLOC_GROW(t->heap, t->heap_nr + 1, t->heap_alloc);
	i = t->heap_nr++;
	while (i) {
		size_t up = (i - 1) / 2;

		if (t->heap[up].seq <= r->seq)
			break;
		t->heap[i] = t->heap[up];
		i = up;
	}
	t->heap[i] = *r;
}

static void heap_pop(struct lh_trace *t, struct lh_trace_rec *out)
{
	struct lh_trace_rec last;
	size_t i = 0;

	*out = t->heap[0];
	last = t->heap[--t->heap_nr];
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= t->heap_nr)
			break;
		if (c + 1 < t->heap_nr && t->heap[c + 1].seq < t->heap[c].seq)
			c++;
		if (last.seq <= t->heap[c].seq)
			break;
		t->heap[i] = t->heap[c];
		i = c;
	}
	if (t->heap_nr)
		t->heap[i] = last;
}

int lh_trace_next_ordered(struct lh_trace *t, struct lh_trace_rec *r)
{
	for (;;) {
		if (t->heap_nr && t->heap[0].seq <= t->next_seq) {
			heap_pop(t, r);
			t->next_seq = r->seq + 1;
			return 1;
		}
		if (t->eof) {
			if (t->heap_nr) {
				t->missing += t->heap[0].seq - t->next_seq;
				t->next_seq = t->heap[0].seq;
				continue;
			}
			if (t->have_end) {
				t->have_end = 0;
				*r = t->end_rec;
				return 1;
			}
			return 0;
		}
		if (!lh_trace_next(t, r)) {
			t->eof = 1;
			continue;
		}
		if (r->type == LHT_REC_END) {
			t->end_rec = *r;
			t->have_end = 1;
			continue;
		}
		if (!is_event(r->type))
			return 1;
		heap_push(t, r);
	}
}

static int write_full(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int lh_trace_copy_meta(struct lh_trace *t, int fd, void (*each)(const struct lh_trace_rec *r, void *arg),
		       void *arg)
{
	const uint8_t *base = (const uint8_t *)t->mf.data;
	size_t *chunks = NULL, nr = 0, alloc = 0, last = SIZE_MAX;
	struct lh_trace_rec r;
	int ret = 0;

	t->skip_events = 1;
	if (write_full(fd, base, lht_get32(base + 12)))
		return -1;
	while (lh_trace_next(t, &r)) {
		if (t->chunk_off != last) {
			last = t->chunk_off;
			ALLOC_GROW(chunks, nr + 1, alloc);
			chunks[nr++] = last;
		}
		if (each)
			each(&r, arg);
	}
	/* the chunk reading stopped in (damage) is not part of the copy */
	for (size_t i = 0; i < nr && !ret; i++) {
		size_t len = LHT_CHUNK_HEADER + (lht_get32(base + chunks[i]) & ~LHT_CHUNK_ZSTD);

		if (chunks[i] + len <= t->good_end)
			ret = write_full(fd, base + chunks[i], len);
	}
	free(chunks);
	return ret;
}
