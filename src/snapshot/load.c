/*
 * The .heapsnapshot loader.
 *
 * A heap snapshot is one JSON object whose big members are flat arrays of
 * numbers ("nodes", "edges", "locations") and one array of strings.  A JSON
 * DOM would need several times the file in memory, so the big arrays get this
 * hand-written scanner; only the small "snapshot" header goes through cJSON.
 *
 * The file is mapped once and read in two passes:
 *   1. locate: walk the top level and note where each member's value starts
 *      and ends (numeric arrays end at the first ']', other values are
 *      skipped with a string-aware bracket counter: no recursion).
 *   2. parse: nodes, edges, strings and locations straight into the
 *      struct-of-arrays in struct lh_snapshot, with the field layout taken
 *      from snapshot.meta by name.
 * Pass 2 uses two threads: the main thread parses "nodes" and the front of
 * "edges"; the second parses the back of "edges" *backwards* from its last
 * number (whose absolute index the header's edge_count gives) and then the
 * strings and locations.  Both write numbers by absolute index, so no count
 * of what lies before the split is needed, and a count that disagrees with the
 * header shows up as the two halves not meeting.  (When "edges" holds too many
 * numbers the halves overlap and both may store into the same slots; the load
 * fails then, so nothing reads them.)  Both read numbers in batches (see
 * "The batch path" below), falling back to a careful cursor for anything odd.
 *
 * Before anything is allocated, the header's counts are checked against the
 * sizes of the arrays that must hold them, so a lying header costs nothing.
 * Ranges of the mapping are dropped from memory (MADV_DONTNEED) once read, in
 * pass 1 as in pass 2, so the file's pages do not add to the peak resident set.
 *
 * Every error names the file, the byte offset of the offending byte or number
 * (the same from either parse direction) and what was expected.  The input is
 * never trusted to be NUL-terminated: tests and the fuzzer hand over buffers
 * of exactly the file's size.
 */
#include "snapshot.h"

#include <cjson/cJSON.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/mapfile.h"
#include "base/progress.h"
#include "base/strbuf.h"

/*
 * Give back file pages every 8 MiB parsed: with two threads at most about
 * twice that is resident at once, small next to the arrays being filled.
 * (64 MiB left the peak above the file size on a 127 MB snapshot.)
 */
#define DROP_CHUNK (8u << 20)

/* Where one top-level member's value lies: [start, end) holds its inside. */
struct section {
	size_t start; /* first byte after '[' (or the value's first byte) */
	size_t end;   /* offset of the closing ']' (or one past the value) */
	int found;
};

/* A parse error: the first one found (lowest offset) wins. */
struct perr {
	int set;
	size_t off;
	char msg[256];
};

struct loader {
	const char *name;          /* file name for messages */
	const char *d;             /* the bytes */
	size_t n;                  /* their count */
	struct lh_mapfile *mf;     /* NULL when parsing from memory */
	struct lh_snapshot *s;
	struct lh_progress *progress;

	struct section header, nodes, edges, strings, locations;

	/* layout from snapshot.meta */
	int node_fields;           /* numbers per node */
	int edge_fields;           /* numbers per edge */
	int location_fields;
	int nf_type, nf_name, nf_id, nf_self, nf_ec, nf_det; /* field positions, -1 if absent */
	int ef_type, ef_name, ef_to;
	int lf_node, lf_script, lf_line, lf_col;
	uint8_t node_type_map[LH_MAX_TYPES]; /* raw type index -> enum */
	uint8_t edge_type_map[LH_MAX_TYPES];
	int node_type_raw_count, edge_type_raw_count;

	uint32_t *ec;              /* per-node edge counts (first_edge + 1) */
	struct perr err;           /* main thread's error */
};

static const char *const known_node_types[LH_NODE__KNOWN] = {
	"hidden", "array", "string", "object", "code", "closure", "regexp", "number",
	"native", "synthetic", "concatenated string", "sliced string", "symbol", "bigint",
	"object shape", "wasm object",
};

static const char *const known_edge_types[LH_EDGE__KNOWN] = {
	"context", "element", "property", "internal", "hidden", "shortcut", "weak",
};

static void perr_set(struct perr *e, size_t off, const char *fmt, ...) LH_PRINTF(3, 4);
static void perr_set(struct perr *e, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (e->set && e->off <= off)
		return;
	e->set = 1;
	e->off = off;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

static int is_ws(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static int is_digit(char c)
{
	return (unsigned char)(c - '0') < 10;
}

static char d_at(const struct loader *l, size_t i)
{
	return i < l->n ? l->d[i] : '\0';
}

static void drop(struct loader *l, size_t off, size_t len)
{
	if (l->mf)
		lh_mapfile_drop(l->mf, off, len);
}

/* A byte as a message shows it: 'x' when printable, else its value. */
struct shown {
	char s[12];
};

static struct shown show(char c)
{
	struct shown r;

	if (c >= 0x20 && c < 0x7f)
		snprintf(r.s, sizeof(r.s), "'%c'", c);
	else
		snprintf(r.s, sizeof(r.s), "byte 0x%02x", (unsigned char)c);
	return r;
}

/* ------------------------------------------------------------------ */
/* pass 1: locate the top-level members                                */

static size_t skip_ws(const char *d, size_t i, size_t n)
{
	while (i < n && is_ws(d[i]))
		i++;
	return i;
}

/*
 * Skip a JSON string starting at d[i] == '"'; returns the offset after the
 * closing quote, or 0 if the input ends first (0 cannot be that offset, and
 * n could: a closing quote may be the file's last byte).
 */
static size_t skip_string(const char *d, size_t i, size_t n)
{
	for (i++; i < n; i++) {
		if (d[i] == '"')
			return i + 1;
		if (d[i] == '\\')
			i++;
	}
	return 0;
}

/*
 * Skip one JSON value of any kind starting at d[i] (not whitespace).  Only
 * brackets and strings are checked; scalars are taken as runs of their
 * characters.  Returns the offset after the value, or sets *err.
 */
static size_t skip_value(struct loader *l, size_t i, const char *what, struct perr *err)
{
	const char *d = l->d;
	size_t n = l->n;
	char stack[256];
	size_t depth = 0;

	do {
		i = skip_ws(d, i, n);
		if (i >= n) {
			perr_set(err, n, "truncated (file ends inside \"%s\"); was the snapshot still being written?", what);
			return n;
		}
		switch (d[i]) {
		case '"':
			i = skip_string(d, i, n);
			if (!i) {
				perr_set(err, n, "truncated (file ends inside a string in \"%s\"); was the snapshot still being written?",
					 what);
				return n;
			}
			break;
		case '[':
		case '{':
			if (depth == sizeof(stack)) {
				perr_set(err, i, "\"%s\" is nested more than %zu deep", what, sizeof(stack));
				return n;
			}
			stack[depth++] = d[i] == '[' ? ']' : '}';
			i++;
			break;
		case ']':
		case '}':
			if (!depth || stack[depth - 1] != d[i]) {
				perr_set(err, i, "unexpected %s in \"%s\"", show(d[i]).s, what);
				return n;
			}
			depth--;
			i++;
			break;
		case ',':
		case ':':
			if (!depth) {
				perr_set(err, i, "expected a value in \"%s\", found %s", what, show(d[i]).s);
				return n;
			}
			i++;
			break;
		default:
			if (!(is_digit(d[i]) || d[i] == '-' || d[i] == 't' || d[i] == 'f' || d[i] == 'n')) {
				perr_set(err, i, "expected a JSON value in \"%s\", found %s", what, show(d[i]).s);
				return n;
			}
			while (i < n && !is_ws(d[i]) && d[i] != ',' && d[i] != ']' && d[i] != '}' && d[i] != ':')
				i++;
			break;
		}
	} while (depth);
	return i;
}

/*
 * The first ']' at or after d[from], or NULL.  Scanning touches every page of
 * the array; dropping them again as the scan goes keeps pass 1 from making the
 * whole file resident before pass 2 has allocated anything (pass 2 maps them
 * back from the page cache, which costs little next to the peak it saves).
 */
static const char *find_close(struct loader *l, size_t from)
{
	while (from < l->n) {
		size_t len = l->n - from < DROP_CHUNK ? l->n - from : DROP_CHUNK;
		const char *close = memchr(l->d + from, ']', len);

		if (close)
			return close;
		drop(l, from, len);
		from += len;
	}
	return NULL;
}

/* The inside of a numeric array "[...]" whose '[' is at d[i]. */
static size_t locate_numbers(struct loader *l, size_t i, const char *what, struct section *sec)
{
	const char *close;

	if (d_at(l, i) != '[') {
		perr_set(&l->err, i, "expected '[' to open \"%s\"", what);
		return l->n;
	}
	close = find_close(l, i + 1);
	if (!close) {
		perr_set(&l->err, l->n, "truncated (file ends inside \"%s\"); was the snapshot still being written?",
			 what);
		return l->n;
	}
	sec->start = i + 1;
	sec->end = (size_t)(close - l->d);
	sec->found = 1;
	return sec->end + 1;
}

/* Read the key at d[i] == '"' into key (cut to keysz-1 bytes); returns the offset after it. */
static size_t read_key(struct loader *l, size_t i, char *key, size_t keysz)
{
	size_t end = skip_string(l->d, i, l->n), len;

	if (!end || end >= l->n) {
		perr_set(&l->err, l->n, "truncated (file ends inside a key); was the snapshot still being written?");
		return l->n;
	}
	len = end - i - 2;
	if (len >= keysz)
		len = keysz - 1;
	memcpy(key, l->d + i + 1, len);
	key[len] = '\0';
	return end;
}

static int locate(struct loader *l)
{
	const char *d = l->d;
	size_t n = l->n, i;

	/* a UTF-8 byte order mark, as an editor may add when the file is saved again */
	i = skip_ws(d, n >= 3 && !memcmp(d, "\xef\xbb\xbf", 3) ? 3 : 0, n);
	if (i >= n) {
		perr_set(&l->err, 0, "the file is empty or holds only white space; is it the right file?");
		return -1;
	}
	/* compressed, as snapshots are often kept and sent: say so */
	if (n >= 2 && ((d[0] == '\x1f' && d[1] == '\x8b') || (n >= 4 && !memcmp(d, "\x28\xb5\x2f\xfd", 4)))) {
		perr_set(&l->err, 0, "not a heap snapshot but a %s-compressed file: decompress it first (%s)",
			 d[0] == '\x1f' ? "gzip" : "zstd", d[0] == '\x1f' ? "gunzip -k FILE" : "zstd -d FILE");
		return -1;
	}
	if (d[i] != '{') {
		perr_set(&l->err, i, "not a heap snapshot: expected '{' at the start, found %s", show(d[i]).s);
		return -1;
	}
	i++;
	for (;;) {
		char key[64];
		struct section *sec = NULL;

		i = skip_ws(d, i, n);
		if (i >= n)
			break;
		if (d[i] != '"') {
			perr_set(&l->err, i, "expected a member name (\"...\") in the top-level object, found %s", show(d[i]).s);
			return -1;
		}
		i = read_key(l, i, key, sizeof(key));
		i = skip_ws(d, i, n);
		if (d_at(l, i) != ':') {
			perr_set(&l->err, i, i >= n ? "truncated after the name \"%s\"; was the snapshot still being written?"
					  : "expected ':' after \"%s\"", key);
			return -1;
		}
		i = skip_ws(d, i + 1, n);
		if (!strcmp(key, "nodes"))
			sec = &l->nodes;
		else if (!strcmp(key, "edges"))
			sec = &l->edges;
		else if (!strcmp(key, "locations"))
			sec = &l->locations;
		if (sec) {
			if (sec->found) {
				perr_set(&l->err, i, "\"%s\" appears twice", key);
				return -1;
			}
			i = locate_numbers(l, i, key, sec);
		} else {
			size_t start = i;

			i = skip_value(l, i, key, &l->err);
			if (i - start > DROP_CHUNK)
				drop(l, start, i - start); /* see find_close */
			if ((!strcmp(key, "snapshot") && l->header.found) || (!strcmp(key, "strings") && l->strings.found)) {
				perr_set(&l->err, start, "\"%s\" appears twice", key);
				return -1;
			}
			if (!strcmp(key, "snapshot")) {
				l->header = (struct section){ start, i, 1 };
			} else if (!strcmp(key, "strings")) {
				if (d_at(l, start) != '[') {
					perr_set(&l->err, start, "expected '[' to open \"strings\"");
					return -1;
				}
				l->strings = (struct section){ start + 1, i - 1, 1 };
			}
		}
		if (l->err.set)
			return -1;
		i = skip_ws(d, i, n);
		if (i >= n)
			break;
		if (d[i] == ',') {
			i++;
			continue;
		}
		if (d[i] == '}') {
			i = skip_ws(d, i + 1, n);
			if (i < n) {
				perr_set(&l->err, i, "unexpected %s after the end of the snapshot object", show(d[i]).s);
				return -1;
			}
			return 0;
		}
		perr_set(&l->err, i, "expected ',' or '}' after \"%s\", found %s", key, show(d[i]).s);
		return -1;
	}
	perr_set(&l->err, n, "truncated (the top-level object is not closed); was the snapshot still being written?");
	return -1;
}

/* ------------------------------------------------------------------ */
/* the header                                                          */

/*
 * Offsets for header messages: where "key" first appears in the header (the
 * header is small and parsed by cJSON, which keeps no positions), and where
 * cJSON stopped on bad JSON.  Both fall back to the header's start.
 */
static size_t key_off(const struct loader *l, const char *key)
{
	char quoted[80];
	const char *p;
	int len = snprintf(quoted, sizeof(quoted), "\"%s\"", key);

	if (len <= 0 || (size_t)len >= sizeof(quoted))
		return l->header.start;
	p = memmem(l->d + l->header.start, l->header.end - l->header.start, quoted, (size_t)len);
	return p ? (size_t)(p - l->d) : l->header.start;
}

static size_t json_error_off(const struct loader *l)
{
	const char *p = cJSON_GetErrorPtr();

	if (p && p >= l->d + l->header.start && p <= l->d + l->header.end)
		return (size_t)(p - l->d);
	return l->header.start;
}

static int index_of(cJSON *arr, const char *name)
{
	int i = 0;
	cJSON *it;

	cJSON_ArrayForEach(it, arr) {
		if (cJSON_IsString(it) && !strcmp(it->valuestring, name))
			return i;
		i++;
	}
	return -1;
}

/* Map the type names in arr to our enums; unknown names get new numbers. */
static int map_types(struct loader *l, cJSON *arr, const char *const *known, int nknown, uint8_t *map,
		     char **names, int *raw_count, int *type_count, const char *what)
{
	int next = nknown, i = 0;
	cJSON *it;

	*type_count = nknown;
	cJSON_ArrayForEach(it, arr) {
		int t = -1;

		if (!cJSON_IsString(it) || i >= LH_MAX_TYPES) {
			perr_set(&l->err, key_off(l, what), "snapshot.meta.%s must be a list of at most %d names", what,
				 LH_MAX_TYPES);
			return -1;
		}
		for (int k = 0; k < nknown; k++)
			if (!strcmp(known[k], it->valuestring))
				t = k;
		if (t < 0) {
			if (next >= LH_MAX_TYPES) {
				perr_set(&l->err, key_off(l, what), "too many type names in snapshot.meta.%s", what);
				return -1;
			}
			t = next++;
		}
		map[i++] = (uint8_t)t;
		if (!names[t])
			names[t] = lh_xstrdup(it->valuestring);
	}
	for (int k = 0; k < nknown; k++)
		if (!names[k])
			names[k] = lh_xstrdup(known[k]);
	*raw_count = i;
	*type_count = next;
	return 0;
}

/*
 * A whole number from the header: 0 with *out set, 1 if the member is absent,
 * -1 if it is there but not a whole number in [0, max].  The range check comes
 * before any cast, since casting 1e300 to an integer is undefined behaviour.
 */
static int num_field(cJSON *obj, const char *name, double max, uint64_t *out)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	double d;

	if (!v)
		return 1;
	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!(d >= 0 && d <= max) || d != (double)(uint64_t)d)
		return -1;
	*out = (uint64_t)d;
	return 0;
}

static int parse_header(struct loader *l)
{
	struct lh_snapshot *s = l->s;
	size_t off = l->header.start;
	cJSON *h, *meta, *nf, *ef, *lf, *nt, *et;
	uint64_t v;
	int rc = -1;

	if (!l->header.found) {
		perr_set(&l->err, 0, "no \"snapshot\" header; is this a V8 heap snapshot?");
		return -1;
	}
	h = cJSON_ParseWithLength(l->d + off, l->header.end - off);
	if (!h) {
		perr_set(&l->err, json_error_off(l), "the \"snapshot\" header is not valid JSON");
		return -1;
	}
	meta = cJSON_GetObjectItemCaseSensitive(h, "meta");
	nf = cJSON_GetObjectItemCaseSensitive(meta, "node_fields");
	ef = cJSON_GetObjectItemCaseSensitive(meta, "edge_fields");
	nt = cJSON_GetObjectItemCaseSensitive(meta, "node_types");
	et = cJSON_GetObjectItemCaseSensitive(meta, "edge_types");
	if (!cJSON_IsArray(nf) || !cJSON_IsArray(ef) || !cJSON_IsArray(nt) || !cJSON_IsArray(et)) {
		perr_set(&l->err, key_off(l, "meta"), "snapshot.meta lacks node_fields, edge_fields, node_types or edge_types");
		goto out;
	}
	l->node_fields = cJSON_GetArraySize(nf);
	l->edge_fields = cJSON_GetArraySize(ef);
	l->nf_type = index_of(nf, "type");
	l->nf_name = index_of(nf, "name");
	l->nf_id = index_of(nf, "id");
	l->nf_self = index_of(nf, "self_size");
	l->nf_ec = index_of(nf, "edge_count");
	l->nf_det = index_of(nf, "detachedness");
	l->ef_type = index_of(ef, "type");
	l->ef_name = index_of(ef, "name_or_index");
	l->ef_to = index_of(ef, "to_node");
	if (l->nf_type < 0 || l->nf_name < 0 || l->nf_id < 0 || l->nf_self < 0 || l->nf_ec < 0) {
		perr_set(&l->err, key_off(l, "node_fields"), "unknown node layout: snapshot.meta.node_fields must name type, name, id, self_size and edge_count");
		goto out;
	}
	if (l->ef_type < 0 || l->ef_name < 0 || l->ef_to < 0) {
		perr_set(&l->err, key_off(l, "edge_fields"), "unknown edge layout: snapshot.meta.edge_fields must name type, name_or_index and to_node");
		goto out;
	}
	nt = cJSON_GetArrayItem(nt, l->nf_type);
	et = cJSON_GetArrayItem(et, l->ef_type);
	if (!cJSON_IsArray(nt) || !cJSON_IsArray(et)) {
		perr_set(&l->err, key_off(l, "node_types"), "snapshot.meta.node_types / edge_types must list the type names for the \"type\" field");
		goto out;
	}
	if (map_types(l, nt, known_node_types, LH_NODE__KNOWN, l->node_type_map, s->node_type_names,
		      &l->node_type_raw_count, &s->node_type_count, "node_types") ||
	    map_types(l, et, known_edge_types, LH_EDGE__KNOWN, l->edge_type_map, s->edge_type_names,
		      &l->edge_type_raw_count, &s->edge_type_count, "edge_types"))
		goto out;

	lf = cJSON_GetObjectItemCaseSensitive(meta, "location_fields");
	l->location_fields = cJSON_IsArray(lf) ? cJSON_GetArraySize(lf) : 0;
	l->lf_node = index_of(lf, "object_index");
	l->lf_script = index_of(lf, "script_id");
	l->lf_line = index_of(lf, "line");
	l->lf_col = index_of(lf, "column");

	if (num_field(h, "node_count", UINT32_MAX - 1, &v)) {
		perr_set(&l->err, key_off(l, "node_count"), "snapshot.node_count is missing or not a whole number below 2^32");
		goto out;
	}
	s->node_count = (uint32_t)v;
	if (num_field(h, "edge_count", UINT32_MAX - 1, &v)) {
		perr_set(&l->err, key_off(l, "edge_count"), "snapshot.edge_count is missing or not a whole number below 2^32");
		goto out;
	}
	s->edge_count = (uint32_t)v;
	/* the optional ones: ignored when malformed, since nothing depends on them */
	if (!num_field(h, "trace_function_count", UINT32_MAX, &v))
		s->trace_function_count = (uint32_t)v;
	if (!num_field(h, "extra_native_bytes", 0x1p63, &v))
		s->extra_native_bytes = v;
	switch (num_field(h, "root_index", UINT32_MAX, &v)) {
	case 0:
		if (v % (unsigned)l->node_fields || v / (unsigned)l->node_fields >= s->node_count) {
			perr_set(&l->err, key_off(l, "root_index"), "snapshot.root_index %llu is not a node (not a multiple of %d below %llu)",
				 (unsigned long long)v, l->node_fields,
				 (unsigned long long)s->node_count * (unsigned)l->node_fields);
			goto out;
		}
		s->root = (uint32_t)(v / (unsigned)l->node_fields);
		break;
	case -1:
		perr_set(&l->err, key_off(l, "root_index"), "snapshot.root_index is not a whole number below 2^32");
		goto out;
	}
	if (!s->node_count) {
		perr_set(&l->err, key_off(l, "node_count"), "the snapshot has no nodes (node_count is 0)");
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(h);
	return rc;
}

/* ------------------------------------------------------------------ */
/* numbers                                                             */

/* A cursor over the inside of a numeric array, forwards or backwards. */
struct cursor {
	const char *d;
	size_t lo, hi;   /* the range [lo, hi) */
	size_t i;        /* forwards: next byte; backwards: one past the next byte */
	int after_comma; /* a ',' was consumed, so a number must follow */
	const char *what;
	struct perr *err;
};

static void cursor_init(struct cursor *c, const struct loader *l, size_t lo, size_t hi, int backwards,
			const char *what, struct perr *err)
{
	c->d = l->d;
	c->lo = lo;
	c->hi = hi;
	c->i = backwards ? hi : lo;
	c->after_comma = 0;
	c->what = what;
	c->err = err;
}

/*
 * The fast path for the common case, a number of 1 to 7 digits followed by
 * ',' (maybe after whitespace), reads 8 bytes at once (SWAR, as simdjson
 * does): ASCII digits are the bytes 0x30..0x39, found and converted without
 * a branch per byte.  Anything else takes the byte-by-byte path, which also
 * writes every error message.
 */
#define ONES 0x0101010101010101ull

/* Bit 7 of each byte of x that is not an ASCII digit ('+6' cannot carry out of a byte below 0xfa). */
static inline uint64_t non_digits(uint64_t x)
{
	return ((x & (0xf0 * ONES)) ^ (0x30 * ONES)) | (((x + 0x06 * ONES) & (0xf0 * ONES)) ^ (0x30 * ONES));
}

/* Eight digit values (byte 0 the most significant) to their number. */
static inline uint32_t eight_digits(uint64_t t)
{
	t = t * 10 + (t >> 8);
	t = (((t & 0x000000ff000000ffull) * (100 + (1000000ull << 32))) +
	     (((t >> 16) & 0x000000ff000000ffull) * (1 + (10000ull << 32)))) >> 32;
	return (uint32_t)t;
}

static inline uint64_t load8(const char *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return x;
}

/* Next number forwards: 1 with *out set, 0 at the end of the range, -1 on error. */
static inline int fwd_next(struct cursor *c, uint32_t *out)
{
	const char *d = c->d;
	size_t i = c->i, hi = c->hi, start;
	uint64_t v = 0;

	if (hi - i >= 8) {
		uint64_t x = load8(d + i), nd = non_digits(x);
		unsigned len = nd ? (unsigned)__builtin_ctzll(nd) >> 3 : 0;

		if (len) {
			size_t j = i + len;

			while (j < hi && is_ws(d[j]))
				j++;
			if (j < hi && d[j] == ',') {
				/* the digits to the top bytes, zeros (leading '0's) below */
				*out = eight_digits((x - 0x30 * ONES) << (8 * (8 - len)));
				c->i = j + 1;
				c->after_comma = 1;
				return 1;
			}
		}
	}

	while (i < hi && is_ws(d[i]))
		i++;
	if (i >= hi) {
		if (c->after_comma)
			perr_set(c->err, i, "expected a number after ',' in \"%s\"", c->what);
		c->i = i;
		return c->after_comma ? -1 : 0;
	}
	start = i;
	while (i < hi && is_digit(d[i]) && i - start < 11)
		v = v * 10 + (uint64_t)(d[i++] - '0');
	if (i == start || v > UINT32_MAX) {
		perr_set(c->err, start, i == start ? "expected a whole number in \"%s\", found %s"
						  : "number too large in \"%s\" (starts with %s)",
			 c->what, show(d[start]).s);
		return -1;
	}
	while (i < hi && is_ws(d[i]))
		i++;
	c->after_comma = 0;
	if (i < hi) {
		if (d[i] != ',') {
			perr_set(c->err, i, "expected ',' between numbers in \"%s\", found %s", c->what, show(d[i]).s);
			return -1;
		}
		i++;
		c->after_comma = 1;
	}
	c->i = i;
	*out = (uint32_t)v;
	return 1;
}

/* Next number backwards; same results as fwd_next. */
static inline int bwd_next(struct cursor *c, uint32_t *out)
{
	const char *d = c->d;
	size_t i = c->i, lo = c->lo, end;
	uint64_t v = 0, mul = 1;

	if (i - lo >= 8) {
		uint64_t x = load8(d + i - 8), nd = non_digits(x);
		unsigned len = nd ? (unsigned)__builtin_clzll(nd) >> 3 : 0;

		if (len) {
			size_t j = i - len;

			while (j > lo && is_ws(d[j - 1]))
				j--;
			if (j > lo && d[j - 1] == ',') {
				/* the digits are the top len bytes; the bytes below become '0's first */
				uint64_t top = ~0ull << (8 * (8 - len));

				*out = eight_digits(((x & top) | (0x30 * ONES & ~top)) - 0x30 * ONES);
				c->i = j - 1;
				c->after_comma = 1;
				return 1;
			}
		}
	}

	while (i > lo && is_ws(d[i - 1]))
		i--;
	if (i <= lo) {
		if (c->after_comma)
			perr_set(c->err, i, "expected a number before ',' in \"%s\"", c->what);
		c->i = i;
		return c->after_comma ? -1 : 0;
	}
	end = i;
	while (i > lo && is_digit(d[i - 1]) && end - i < 11) {
		v += (uint64_t)(d[i - 1] - '0') * mul;
		mul *= 10;
		i--;
	}
	if (i == end || v > UINT32_MAX || (i > lo && is_digit(d[i - 1]))) {
		perr_set(c->err, i == end ? end - 1 : i, i == end ? "expected a whole number in \"%s\", found %s"
							  : "number too large in \"%s\" (ends with %s)",
			 c->what, show(d[end - 1]).s);
		return -1;
	}
	while (i > lo && is_ws(d[i - 1]))
		i--;
	c->after_comma = 0;
	if (i > lo) {
		if (d[i - 1] != ',') {
			perr_set(c->err, i - 1, "expected ',' between numbers in \"%s\", found %s", c->what, show(d[i - 1]).s);
			return -1;
		}
		i--;
		c->after_comma = 1;
	}
	c->i = i;
	*out = (uint32_t)v;
	return 1;
}

/*
 * Where the number lies whose parse left a cursor at off: forwards the cursor
 * is past the number and its ','; backwards it is on the ',' before it.  For
 * messages only, so that both directions point at the number's first digit.
 */
static size_t number_start(const struct loader *l, size_t off, int backwards)
{
	const char *d = l->d;

	if (backwards) {
		while (off < l->n && (d[off] == ',' || is_ws(d[off])))
			off++;
		return off;
	}
	while (off > 0 && is_ws(d[off - 1]))
		off--;
	if (off > 0 && d[off - 1] == ',')
		off--;
	while (off > 0 && is_ws(d[off - 1]))
		off--;
	while (off > 0 && is_digit(d[off - 1]))
		off--;
	return off;
}

/*
 * The batch path.  Nearly every number in the big arrays is 1 to 8 digits
 * followed by ',' (or "\n," at a line's end).  fwd_fast and bwd_fast find the
 * commas 64 bytes at a time and convert each number with SWAR arithmetic from
 * where the commas say it lies, so numbers do not wait for each other (a
 * byte-by-byte scan makes each number's start depend on the previous one's
 * length), in fewer instructions than the cursor's own SWAR step.  They
 * stop before anything else: the ends of the range, other white space, a
 * number too long for 32 bits, bad syntax; the cursor functions above then
 * take over for one number.  The batch loops below store whole records from
 * the batch and check every value; a batch with any problem is parsed again
 * number by number by the code that writes the error messages, so messages
 * and offsets are the same as without the batch path.
 */
#define BATCH 8192 /* numbers per batch */

/* Bit j set when p[j] is ',', for j < 64. */
static inline uint64_t comma_mask(const char *p)
{
#ifdef __SSE2__
	const __m128i comma = _mm_set1_epi8(',');
	uint64_t m = 0;

	for (int k = 0; k < 4; k++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));

		m |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma)) << (16 * k);
	}
	return m;
#else
	uint64_t m = 0;

	for (int j = 0; j < 64; j++)
		m |= (uint64_t)(p[j] == ',') << j;
	return m;
#endif
}

/*
 * The number in d[start, end), where end is the ',' (or ']') after it and a
 * '\n' may come just before that: 0 with *out set if it is 1 to 8 digits,
 * else -1 (longer numbers are rare: embedder node ids).  Reads 8 bytes from
 * start, up to 7 past end.  As in fwd_next, the bytes after the digits are
 * shifted out; what they borrow or carry in the arithmetic only moves their way.
 */
static inline int number_before(const char *d, size_t start, size_t end, uint32_t *out)
{
	size_t len = end - (d[end - 1] == '\n') - start;
	uint64_t x;
	unsigned shift;

	if (len - 1 >= 8) /* 0 digits (wraps) or more than 8 */
		return -1;
	x = load8(d + start);
	shift = 8 * (8 - (unsigned)len);
	if (non_digits(x) << shift)
		return -1;
	*out = eight_digits((x - 0x30 * ONES) << shift);
	return 0;
}

/* Up to max numbers forwards into out; returns how many were read. */
static size_t fwd_fast(struct cursor *c, uint32_t *out, size_t max)
{
	const char *d = c->d;
	size_t start = c->i, k = 0;

	/* the 64 bytes scanned, and 8 more that the last number's read may reach */
	while (k < max && start + 64 + 8 <= c->hi) {
		size_t base = start;
		uint64_t m = comma_mask(d + base);

		if (!m)
			break;
		do {
			size_t end = base + (unsigned)__builtin_ctzll(m);

			if (number_before(d, start, end, out + k))
				goto out;
			k++;
			start = end + 1;
			m &= m - 1;
		} while (m && k < max);
	}
out:
	if (k) {
		c->i = start;
		c->after_comma = 1;
	}
	return k;
}

/* Up to max numbers backwards into out (the last number first); returns how many were read. */
static size_t bwd_fast(struct cursor *c, uint32_t *out, size_t max)
{
	const char *d = c->d;
	size_t end = c->i, k = 0;

	/* not the array's last number, whose read may reach 7 bytes past its ']' */
	while (k < max && end >= c->lo + 64 && end + 8 <= c->hi) {
		size_t base = end - 64;
		uint64_t m = comma_mask(d + base);

		if (!m)
			break;
		do {
			unsigned j = 63 - (unsigned)__builtin_clzll(m);

			if (number_before(d, base + j + 1, end, out + k))
				goto out;
			k++;
			end = base + j;
			m &= ~(1ull << j);
		} while (m && k < max);
	}
out:
	if (k) {
		c->i = end;
		c->after_comma = 1;
	}
	return k;
}

/*
 * Fill out with max numbers (fewer at the end of the range or on an error):
 * the fast path, and the cursor for whatever stops it.  *r is what the last
 * cursor call returned (1 if none was needed).
 */
static size_t fill(struct cursor *c, int backwards, uint32_t *out, size_t max, int *r)
{
	size_t k = 0;

	*r = 1;
	for (;;) {
		k += backwards ? bwd_fast(c, out + k, max - k) : fwd_fast(c, out + k, max - k);
		if (k == max)
			return k;
		*r = backwards ? bwd_next(c, out + k) : fwd_next(c, out + k);
		if (*r <= 0)
			return k;
		k++;
	}
}

/* Store per whole nodes from buf (node_fields numbers each) from node first on; -1 on a bad type. */
static int store_nodes(struct loader *l, const uint32_t *buf, uint32_t first, uint32_t per)
{
	struct lh_snapshot *s = l->s;
	const unsigned nf = (unsigned)l->node_fields, raw = (unsigned)l->node_type_raw_count;
	const int ft = l->nf_type, fn = l->nf_name, fi = l->nf_id, fs = l->nf_self, fe = l->nf_ec, fd = l->nf_det;

	for (uint32_t j = 0; j < per; j++, buf += nf) {
		uint32_t node = first + j;

		if (buf[ft] >= raw)
			return -1;
		s->node_type[node] = l->node_type_map[buf[ft]];
		s->node_name[node] = buf[fn];
		s->node_id[node] = buf[fi];
		s->node_self_size[node] = buf[fs];
		l->ec[node] = buf[fe];
		if (fd >= 0)
			s->node_detachedness[node] = (uint8_t)(buf[fd] > 255 ? 255 : buf[fd]);
	}
	return 0;
}

static int parse_nodes(struct loader *l)
{
	struct lh_snapshot *s = l->s;
	struct cursor c;
	uint32_t count = s->node_count, node = 0, v = 0, buf[BATCH];
	const int nf = l->node_fields;
	const uint32_t per = BATCH / (unsigned)nf; /* nodes per batch */
	size_t last_drop = l->nodes.start;

	cursor_init(&c, l, l->nodes.start, l->nodes.end, 0, "nodes", &l->err);
	while (per && count - node >= per) {
		struct cursor save = c;
		int r;

		if (fill(&c, 0, buf, (size_t)per * (unsigned)nf, &r) < (size_t)per * (unsigned)nf ||
		    store_nodes(l, buf, node, per)) {
			c = save; /* the loop below finds and reports the problem */
			break;
		}
		node += per;
		lh_progress_update(l->progress, c.i - l->nodes.start);
		if (c.i - last_drop > DROP_CHUNK) {
			drop(l, last_drop, c.i - last_drop);
			last_drop = c.i;
		}
	}
	for (; node < count; node++) {
		for (int f = 0; f < nf; f++) {
			int r = fwd_next(&c, &v);

			if (r <= 0) {
				if (!r)
					perr_set(&l->err, c.i,
						 "\"nodes\" ends after %u of %u nodes (snapshot.node_count); the counts disagree with the arrays",
						 node, count);
				return -1;
			}
			if (f == l->nf_type) {
				if (v >= (uint32_t)l->node_type_raw_count) {
					perr_set(&l->err, number_start(l, c.i, 0), "node %u has type %u, but snapshot.meta declares %d node types",
						 node, v, l->node_type_raw_count);
					return -1;
				}
				s->node_type[node] = l->node_type_map[v];
			} else if (f == l->nf_name) {
				s->node_name[node] = v;
			} else if (f == l->nf_id) {
				s->node_id[node] = v;
			} else if (f == l->nf_self) {
				s->node_self_size[node] = v;
			} else if (f == l->nf_ec) {
				l->ec[node] = v;
			} else if (f == l->nf_det) {
				s->node_detachedness[node] = (uint8_t)(v > 255 ? 255 : v);
			}
		}
		if (!(node & 0xffff)) {
			lh_progress_update(l->progress, c.i - l->nodes.start);
			if (c.i - last_drop > DROP_CHUNK) {
				drop(l, last_drop, c.i - last_drop);
				last_drop = c.i;
			}
		}
	}
	if (fwd_next(&c, &v) != 0) {
		if (!l->err.set)
			perr_set(&l->err, c.i, "\"nodes\" holds more than snapshot.node_count (%u) nodes; the counts disagree with the arrays",
				 count);
		return -1;
	}
	drop(l, last_drop, l->nodes.end - last_drop);
	return 0;
}

/* Store field f of an edge (the loop counts numbers; this places one). */
static inline int store_edge_field(struct loader *l, struct perr *err, size_t off, int backwards,
				    uint32_t edge, int f, uint32_t v)
{
	struct lh_snapshot *s = l->s;

	if (f == l->ef_type) {
		if (v >= (uint32_t)l->edge_type_raw_count) {
			perr_set(err, number_start(l, off, backwards), "edge %u has type %u, but snapshot.meta declares %d edge types", edge, v,
				 l->edge_type_raw_count);
			return -1;
		}
		s->edge_type[edge] = l->edge_type_map[v];
	} else if (f == l->ef_name) {
		s->edge_name[edge] = v;
	} else if (f == l->ef_to) {
		uint32_t nf = (uint32_t)l->node_fields;
		uint32_t q = nf == 7 ? v / 7 : v / nf; /* 7: let the compiler divide by a constant */

		if (q * nf != v) {
			perr_set(err, number_start(l, off, backwards), "edge %u's to_node %u is not a multiple of the node field count %u", edge, v, nf);
			return -1;
		}
		if (q >= s->node_count) {
			perr_set(err, number_start(l, off, backwards), "edge %u points past the nodes (to_node %u, but there are only %u nodes)", edge,
				 v, s->node_count);
			return -1;
		}
		s->edge_to[edge] = q;
	}
	return 0;
}

/*
 * Store per whole edges from buf (edge_fields numbers each): forwards from
 * edge first on, or, when backwards, numbers in reverse from edge first down.
 * -1 on a value wrong for its field.
 */
static int store_edges(struct loader *l, const uint32_t *buf, uint32_t first, uint32_t per, int backwards)
{
	struct lh_snapshot *s = l->s;
	const unsigned ef = (unsigned)l->edge_fields, nf = (unsigned)l->node_fields;
	const unsigned raw = (unsigned)l->edge_type_raw_count, nodes = s->node_count;
	/* a record's fields lie in reverse order in a backwards batch */
	const unsigned ft = backwards ? ef - 1 - (unsigned)l->ef_type : (unsigned)l->ef_type;
	const unsigned fn = backwards ? ef - 1 - (unsigned)l->ef_name : (unsigned)l->ef_name;
	const unsigned fo = backwards ? ef - 1 - (unsigned)l->ef_to : (unsigned)l->ef_to;

	for (uint32_t j = 0; j < per; j++, buf += ef) {
		uint32_t e = backwards ? first - j : first + j, v = buf[fo];
		uint32_t q = nf == 7 ? v / 7 : v / nf; /* 7: let the compiler divide by a constant */

		if (buf[ft] >= raw || q * nf != v || q >= nodes)
			return -1;
		s->edge_type[e] = l->edge_type_map[buf[ft]];
		s->edge_name[e] = buf[fn];
		s->edge_to[e] = q;
	}
	return 0;
}

/* Parse numbers [lo, hi) of "edges" forwards, the first being number 0. Returns numbers read. */
static uint64_t parse_edges_fwd(struct loader *l, size_t lo, size_t hi, struct perr *err)
{
	struct cursor c;
	uint64_t total = (uint64_t)l->s->edge_count * (uint64_t)l->edge_fields, k = 0;
	uint32_t edge = 0, v, buf[BATCH];
	const uint32_t per = BATCH / (unsigned)l->edge_fields; /* edges per batch */
	const size_t batch = (size_t)per * (unsigned)l->edge_fields;
	int f = 0, r;
	size_t last_drop = lo;

	cursor_init(&c, l, lo, hi, 0, "edges", err);
	while (per && total - k >= batch) {
		struct cursor save = c;

		if (fill(&c, 0, buf, batch, &r) < batch || store_edges(l, buf, edge, per, 0)) {
			c = save; /* the loop below parses it again and finds the end or the problem */
			break;
		}
		k += batch;
		edge += per;
		lh_progress_update(l->progress, (l->nodes.end - l->nodes.start) + (c.i - lo));
		if (c.i - last_drop > DROP_CHUNK) {
			drop(l, last_drop, c.i - last_drop);
			last_drop = c.i;
		}
	}
	while ((r = fwd_next(&c, &v)) > 0) {
		if (k >= total) {
			perr_set(err, c.i, "\"edges\" holds more than snapshot.edge_count (%u) edges; the counts disagree with the arrays",
				 l->s->edge_count);
			return k;
		}
		if (store_edge_field(l, err, c.i, 0, edge, f, v))
			return k;
		k++;
		if (++f == l->edge_fields) {
			f = 0;
			edge++;
			if (!(edge & 0xffff)) {
				lh_progress_update(l->progress, (l->nodes.end - l->nodes.start) + (c.i - lo));
				if (c.i - last_drop > DROP_CHUNK) {
					drop(l, last_drop, c.i - last_drop);
					last_drop = c.i;
				}
			}
		}
	}
	drop(l, last_drop, hi - last_drop);
	return k;
}

/*
 * Parse numbers [lo, hi) of "edges" backwards, the last being number total-1.
 * Returns numbers read; *bad_value is set when it stopped on a number that
 * is well formed but wrong for its field (see recount_edges).
 */
static uint64_t parse_edges_bwd(struct loader *l, size_t lo, size_t hi, struct perr *err, int *bad_value)
{
	struct cursor c;
	uint64_t total = (uint64_t)l->s->edge_count * (uint64_t)l->edge_fields, k = 0;
	uint32_t v, buf[BATCH];
	const uint32_t per = BATCH / (unsigned)l->edge_fields; /* edges per batch */
	const size_t batch = (size_t)per * (unsigned)l->edge_fields;
	int r;
	size_t last_drop = hi;

	cursor_init(&c, l, lo, hi, 1, "edges", err);
	/* batches start at a record's last field: the back half ends where "edges" does */
	while (per && total - k >= batch) {
		struct cursor save = c;

		if (fill(&c, 1, buf, batch, &r) < batch ||
		    store_edges(l, buf, (uint32_t)((total - 1 - k) / (unsigned)l->edge_fields), per, 1)) {
			c = save;
			break;
		}
		k += batch;
		if (last_drop - c.i > DROP_CHUNK) {
			drop(l, c.i, last_drop - c.i);
			last_drop = c.i;
		}
	}
	while ((r = bwd_next(&c, &v)) > 0) {
		uint64_t idx;

		if (k >= total) {
			perr_set(err, c.i, "\"edges\" holds more than snapshot.edge_count (%u) edges; the counts disagree with the arrays",
				 l->s->edge_count);
			return k;
		}
		idx = total - 1 - k;
		if (store_edge_field(l, err, c.i, 1, (uint32_t)(idx / (unsigned)l->edge_fields),
				     (int)(idx % (unsigned)l->edge_fields), v)) {
			*bad_value = 1;
			return k;
		}
		k++;
		if (!(k & 0x3ffff) && last_drop - c.i > DROP_CHUNK) {
			drop(l, c.i, last_drop - c.i);
			last_drop = c.i;
		}
	}
	drop(l, lo, last_drop - lo);
	return k;
}

static int cmp_location(const void *a, const void *b)
{
	const struct lh_location *x = a, *y = b;

	return x->node < y->node ? -1 : x->node > y->node;
}

/*
 * Sort the locations by node, keeping the file's order among equal nodes
 * (as glibc's merge-sorting qsort did): a least-significant-digit radix sort
 * on 16 bits at a time, ~10x faster than qsort on the 2.7 M locations of a
 * 1 GB snapshot, which Node 20 does not write in node order.
 */
static void sort_locations(struct lh_snapshot *s)
{
	uint32_t n = s->location_count, *count;
	struct lh_location *a = s->locations, *tmp = lh_try_malloc((size_t)n * sizeof(*tmp));

	count = lh_try_malloc(65536 * sizeof(*count));
	if (!tmp || !count) {
		qsort(a, n, sizeof(*a), cmp_location);
		goto out;
	}
	for (unsigned shift = 0; shift < 32 && (shift == 0 || (s->node_count - 1) >> shift); shift += 16) {
		uint32_t sum = 0;
		struct lh_location *t;

		memset(count, 0, 65536 * sizeof(*count));
		for (uint32_t k = 0; k < n; k++)
			count[a[k].node >> shift & 0xffff]++;
		for (uint32_t b = 0; b < 65536; b++) {
			uint32_t c = count[b];

			count[b] = sum;
			sum += c;
		}
		for (uint32_t k = 0; k < n; k++)
			tmp[count[a[k].node >> shift & 0xffff]++] = a[k];
		t = a, a = tmp, tmp = t;
	}
	if (a != s->locations) {
		memcpy(s->locations, a, (size_t)n * sizeof(*a));
		tmp = a;
	}
out:
	free(tmp);
	free(count);
}

/* Append recs whole locations from buf; -1 if one names no node (the slow loop then reports it). */
static int append_locations(struct loader *l, const uint32_t *buf, size_t recs, size_t *alloc)
{
	struct lh_snapshot *s = l->s;
	const unsigned lf = (unsigned)l->location_fields, nf = (unsigned)l->node_fields;

	for (size_t j = 0; j < recs; j++) {
		uint32_t node = buf[j * lf + (unsigned)l->lf_node];

		if (node % nf || node / nf >= s->node_count)
			return -1;
	}
	ALLOC_GROW(s->locations, s->location_count + recs, *alloc);
	for (size_t j = 0; j < recs; j++, buf += lf)
		s->locations[s->location_count++] = (struct lh_location){
			buf[l->lf_node] / nf, buf[l->lf_script], buf[l->lf_line], buf[l->lf_col]
		};
	return 0;
}

static int parse_locations(struct loader *l, struct perr *err)
{
	struct lh_snapshot *s = l->s;
	struct cursor c;
	size_t alloc = 0;
	uint32_t v, rec[8], buf[BATCH], per;
	int f = 0, r, lf = l->location_fields;

	if (!l->locations.found)
		return 0;
	if (lf <= 0 || lf > 8 || l->lf_node < 0 || l->lf_script < 0 || l->lf_line < 0 || l->lf_col < 0) {
		/* a layout we cannot read: locations only refine class keys, so go on without them */
		lh_warn("'%s': ignoring \"locations\": snapshot.meta.location_fields does not name object_index, script_id, line and column",
			l->name);
		return 0;
	}
	per = BATCH / (unsigned)lf;
	cursor_init(&c, l, l->locations.start, l->locations.end, 0, "locations", err);
	for (;;) {
		struct cursor save = c;
		size_t got = fill(&c, 0, buf, (size_t)per * (unsigned)lf, &r), recs = got / (unsigned)lf;

		if (r < 0 || got % (unsigned)lf || append_locations(l, buf, recs, &alloc)) {
			c = save; /* the loop below parses it again and reports the problem */
			break;
		}
		if (got < (size_t)per * (unsigned)lf)
			goto sort; /* the end */
	}
	while ((r = fwd_next(&c, &v)) > 0) {
		rec[f++] = v;
		if (f < lf)
			continue;
		f = 0;
		if (rec[l->lf_node] % (unsigned)l->node_fields || rec[l->lf_node] / (unsigned)l->node_fields >= s->node_count) {
			perr_set(err, number_start(l, c.i, 0), "location %u names object_index %u, which is not a node", s->location_count,
				 rec[l->lf_node]);
			return -1;
		}
		ALLOC_GROW(s->locations, s->location_count + 1, alloc);
		s->locations[s->location_count++] = (struct lh_location){
			rec[l->lf_node] / (unsigned)l->node_fields, rec[l->lf_script], rec[l->lf_line], rec[l->lf_col]
		};
	}
	if (r < 0)
		return -1;
	if (f) {
		perr_set(err, c.i, "\"locations\" holds a partial entry (%d of %d numbers)", f, lf);
		return -1;
	}
sort:
	/* sort only if V8 did not write them in node order */
	for (uint32_t k = 1; k < s->location_count; k++) {
		if (s->locations[k - 1].node > s->locations[k].node) {
			sort_locations(s);
			break;
		}
	}
	drop(l, l->locations.start, l->locations.end - l->locations.start);
	return 0;
}

/* ------------------------------------------------------------------ */
/* strings                                                             */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex4(const char *p, size_t avail, uint32_t *out)
{
	uint32_t v = 0;

	if (avail < 4)
		return -1;
	for (int k = 0; k < 4; k++) {
		int h = hexval(p[k]);

		if (h < 0)
			return -1;
		v = v << 4 | (uint32_t)h;
	}
	*out = v;
	return 0;
}

/* UTF-8 for cp; lone surrogates come out as WTF-8 (3 bytes), like any BMP code point. */
static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Parse the "strings" array into one pool.  Unescaping never makes a string
 * longer (\uXXXX is 6 bytes for at most 3 of UTF-8, a surrogate pair 12 for 4,
 * and each string's two quotes pay for its NUL), so the pool is allocated once
 * at the section's size and its untouched tail never becomes resident.
 */
static int parse_strings(struct loader *l, struct perr *err)
{
	struct lh_snapshot *s = l->s;
	const char *d = l->d;
	size_t i = l->strings.start, hi = l->strings.end, len = 0, alloc = 0;
	size_t last_drop = i;
	int after_comma = 0;
	char *pool;

	if (!l->strings.found) {
		perr_set(err, l->n, "no \"strings\" array; is this a complete V8 heap snapshot?");
		return -1;
	}
	pool = lh_try_malloc(hi - i + 1);
	if (!pool) {
		perr_set(err, i, "out of memory for the strings (%zu bytes)", hi - i + 1);
		return -1;
	}
	s->string_pool = pool;
	for (;;) {
		while (i < hi && is_ws(d[i]))
			i++;
		if (i >= hi) {
			if (after_comma) {
				perr_set(err, i, "expected a string after ',' in \"strings\"");
				return -1;
			}
			break;
		}
		if (d[i] != '"') {
			perr_set(err, i, "expected a string (\"...\") in \"strings\", found %s", show(d[i]).s);
			return -1;
		}
		ALLOC_GROW(s->string_off, (size_t)s->string_count + 2, alloc);
		if (s->string_count == UINT32_MAX - 1) {
			perr_set(err, i, "more than %u strings", UINT32_MAX - 1);
			return -1;
		}
		s->string_off[s->string_count++] = len;
		i++;
		for (;;) {
			size_t run = i;

			while (i < hi && d[i] != '"' && d[i] != '\\')
				i++;
			memcpy(pool + len, d + run, i - run);
			len += i - run;
			if (i >= hi) {
				perr_set(err, run, "a string in \"strings\" is not closed");
				return -1;
			}
			if (d[i] == '"') {
				i++;
				break;
			}
			/* an escape */
			if (i + 1 >= hi) {
				perr_set(err, i, "a string in \"strings\" ends inside an escape");
				return -1;
			}
			switch (d[i + 1]) {
			case '"': pool[len++] = '"'; break;
			case '\\': pool[len++] = '\\'; break;
			case '/': pool[len++] = '/'; break;
			case 'b': pool[len++] = '\b'; break;
			case 'f': pool[len++] = '\f'; break;
			case 'n': pool[len++] = '\n'; break;
			case 'r': pool[len++] = '\r'; break;
			case 't': pool[len++] = '\t'; break;
			case 'u': {
				uint32_t cp, lo;

				if (hex4(d + i + 2, hi - i - 2, &cp)) {
					perr_set(err, i, "bad \\u escape in \"strings\": expected 4 hex digits");
					return -1;
				}
				if (cp >= 0xd800 && cp < 0xdc00 && i + 11 < hi && d[i + 6] == '\\' && d[i + 7] == 'u' &&
				    !hex4(d + i + 8, hi - i - 8, &lo) && lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					i += 6;
				}
				len += put_utf8(pool + len, cp);
				i += 4;
				break;
			}
			default:
				perr_set(err, i, "unknown escape \\ followed by %s in \"strings\"", show(d[i + 1]).s);
				return -1;
			}
			i += 2;
		}
		pool[len++] = '\0';
		while (i < hi && is_ws(d[i]))
			i++;
		after_comma = 0;
		if (i < hi) {
			if (d[i] != ',') {
				perr_set(err, i, "expected ',' between strings, found %s", show(d[i]).s);
				return -1;
			}
			i++;
			after_comma = 1;
		}
		if (i - last_drop > DROP_CHUNK) {
			drop(l, last_drop, i - last_drop);
			last_drop = i;
		}
	}
	ALLOC_GROW(s->string_off, (size_t)s->string_count + 1, alloc);
	s->string_off[s->string_count] = len;
	drop(l, last_drop, hi - last_drop);
	return 0;
}

/* ------------------------------------------------------------------ */
/* the two threads                                                     */

struct worker {
	struct loader *l;
	size_t edges_lo;     /* parse "edges" backwards from its end down to here */
	uint64_t edge_numbers; /* numbers it read */
	int bad_value;       /* it stopped on a number wrong for its field */
	struct perr err;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct loader *l = w->l;

	if (w->edges_lo < l->edges.end)
		w->edge_numbers = parse_edges_bwd(l, w->edges_lo, l->edges.end, &w->err, &w->bad_value);
	if (!w->err.set)
		parse_strings(l, &w->err);
	if (!w->err.set)
		parse_locations(l, &w->err);
	return NULL;
}

/*
 * Choose where the back half of "edges" starts: just after a ',' near the
 * point that gives both threads about the same number of bytes.
 */
static size_t choose_split(const struct loader *l)
{
	size_t nodes = l->nodes.end - l->nodes.start;
	size_t edges = l->edges.end - l->edges.start;
	size_t other = (l->strings.end - l->strings.start) + (l->locations.end - l->locations.start);
	size_t half = (nodes + edges + other) / 2;
	size_t back = half > other ? half - other : 0;
	const char *comma;

	if (back > edges)
		back = edges;
	if (back < 4096)
		return l->edges.end; /* too small to be worth a split */
	comma = memchr(l->d + l->edges.end - back, ',', back);
	return comma ? (size_t)(comma - l->d) + 1 : l->edges.end;
}

/*
 * A count the array cannot hold is found before anything is allocated: each
 * number takes a digit and all but the last a ',', so a section of len bytes
 * holds at most (len + 1) / 2 numbers.  Without this a 100-byte file claiming
 * 4e9 nodes would ask for 70 GB before its arrays are looked at.
 */
static int check_room(struct loader *l, const struct section *sec, const char *what, const char *count_name,
		      uint32_t count, int fields)
{
	uint64_t want = (uint64_t)count * (uint64_t)fields;
	uint64_t room = ((uint64_t)(sec->end - sec->start) + 1) / 2;

	if (want <= room)
		return 0;
	perr_set(&l->err, sec->end,
		 "\"%s\" has room for at most %llu numbers in its %zu bytes, but snapshot.%s %u x %d fields needs %llu; the counts disagree with the arrays",
		 what, (unsigned long long)room, sec->end - sec->start, count_name, count, fields,
		 (unsigned long long)want);
	return -1;
}

/*
 * Ask for transparent huge pages for an array that will be written whole:
 * one fault per 2 MiB instead of one per 4 KiB page (the arrays of a 1 GB
 * snapshot take ~150k faults otherwise).  Only the 2 MiB-aligned middle
 * qualifies; a no-op where THP is off or not available.
 */
static void huge_pages(void *p, size_t size)
{
	uintptr_t lo = ((uintptr_t)p + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1);
	uintptr_t hi = ((uintptr_t)p + size) & ~(uintptr_t)((2u << 20) - 1);

	if (p && hi > lo)
		madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

static int alloc_arrays(struct loader *l)
{
	struct lh_snapshot *s = l->s;
	size_t n = s->node_count, m = s->edge_count;

	s->node_type = lh_try_malloc(n);
	s->node_name = lh_try_malloc(n * 4);
	s->node_id = lh_try_malloc(n * 4);
	s->node_self_size = lh_try_malloc(n * 4);
	s->node_detachedness = lh_try_calloc(n, 1);
	s->first_edge = lh_try_malloc((n + 1) * 4);
	s->edge_type = lh_try_malloc(m);
	s->edge_name = lh_try_malloc(m * 4);
	s->edge_to = lh_try_malloc(m * 4);
	if (!s->node_type || !s->node_name || !s->node_id || !s->node_self_size || !s->node_detachedness ||
	    !s->first_edge || !s->edge_type || !s->edge_name || !s->edge_to) {
		perr_set(&l->err, 0, "out of memory for %u nodes and %u edges", s->node_count, s->edge_count);
		return -1;
	}
	huge_pages(s->node_name, n * 4);
	huge_pages(s->node_id, n * 4);
	huge_pages(s->node_self_size, n * 4);
	huge_pages(s->first_edge, (n + 1) * 4);
	huge_pages(s->edge_type, m);
	huge_pages(s->edge_name, m * 4);
	huge_pages(s->edge_to, m * 4);
	l->ec = s->first_edge + 1;
	return 0;
}

/*
 * The offset of number k (from 0) of a section that parsed cleanly.  The
 * parse keeps no offsets, so errors found after it (in finish) count again:
 * slow, but only on the way to an error message.
 */
static size_t nth_number(struct loader *l, const struct section *sec, uint64_t k)
{
	struct perr none = { 0 };
	struct cursor c;
	uint32_t v;

	cursor_init(&c, l, sec->start, sec->end, 0, "", &none);
	for (;;) {
		size_t at = c.i;

		while (at < sec->end && is_ws(l->d[at]))
			at++;
		if (fwd_next(&c, &v) <= 0)
			return sec->start;
		if (!k--)
			return at;
	}
}

/* Prefix sums of edge counts, and string indexes checked against the pool. */
static int finish(struct loader *l)
{
	struct lh_snapshot *s = l->s;
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < s->node_count; i++) {
		uint32_t c = l->ec[i];

		s->first_edge[i] = (uint32_t)sum;
		sum += c;
		if (sum > s->edge_count) {
			perr_set(&l->err, nth_number(l, &l->nodes, (uint64_t)i * (unsigned)l->node_fields + (unsigned)l->nf_ec),
				 "the nodes' edge counts add up to more than snapshot.edge_count (%u) by node %u; the counts disagree with the arrays",
				 s->edge_count, i);
			return -1;
		}
		if (s->node_name[i] >= s->string_count) {
			perr_set(&l->err, nth_number(l, &l->nodes, (uint64_t)i * (unsigned)l->node_fields + (unsigned)l->nf_name),
				 "node %u's name is string %u, but there are only %u strings", i,
				 s->node_name[i], s->string_count);
			return -1;
		}
	}
	if (sum != s->edge_count) {
		perr_set(&l->err, l->nodes.start,
			 "the nodes' edge counts add up to %llu, but snapshot.edge_count is %u; the counts disagree with the arrays",
			 (unsigned long long)sum, s->edge_count);
		return -1;
	}
	s->first_edge[s->node_count] = (uint32_t)sum;
	for (i = 0; i < s->edge_count; i++) {
		if (!lh_edge_is_indexed(s->edge_type[i]) && s->edge_name[i] >= s->string_count) {
			perr_set(&l->err, nth_number(l, &l->edges, (uint64_t)i * (unsigned)l->edge_fields + (unsigned)l->ef_name),
				 "edge %u's name is string %u, but there are only %u strings", i,
				 s->edge_name[i], s->string_count);
			return -1;
		}
	}
	return 0;
}

/*
 * The back half is read from the end, so when "edges" holds more or fewer
 * numbers than the header says, every field there is shifted and the first
 * complaint is about a value ("to_node is not a multiple ...") rather than the
 * count.  On that error path only, count the numbers of the back half without
 * storing them, and if the total is off, say so instead: that is the real
 * problem, and what a one-thread parse (reading forwards) would report.
 */
static void recount_edges(struct loader *l, struct worker *w, uint64_t front)
{
	struct cursor c;
	struct perr syntax = { 0 };
	uint64_t back = 0, total = (uint64_t)l->s->edge_count * (uint64_t)l->edge_fields;
	uint32_t v;
	int r;

	cursor_init(&c, l, w->edges_lo, l->edges.end, 0, "edges", &syntax);
	while ((r = fwd_next(&c, &v)) > 0)
		back++;
	if (r < 0 || front + back == total)
		return; /* the value error stands */
	w->err = (struct perr){ 0 };
	perr_set(&w->err, l->edges.start,
		 "\"edges\" holds %llu numbers, but snapshot.edge_count %u x %d fields is %llu; the counts disagree with the arrays",
		 (unsigned long long)(front + back), l->s->edge_count, l->edge_fields, (unsigned long long)total);
}

static int load(struct loader *l, unsigned flags)
{
	struct worker w = { .l = l };
	pthread_t th;
	int threaded = !(flags & LH_LOAD_NO_THREADS);
	size_t split;
	uint64_t front, total;

	if (locate(l) || parse_header(l))
		return -1;
	if (!l->nodes.found || !l->edges.found) {
		perr_set(&l->err, l->n, "no \"%s\" array; is this a complete V8 heap snapshot?",
			 l->nodes.found ? "edges" : "nodes");
		return -1;
	}
	if (check_room(l, &l->nodes, "nodes", "node_count", l->s->node_count, l->node_fields) ||
	    check_room(l, &l->edges, "edges", "edge_count", l->s->edge_count, l->edge_fields) ||
	    alloc_arrays(l))
		return -1;
	if (l->progress)
		lh_progress_phase(l->progress, "parsing",
				  (l->nodes.end - l->nodes.start) + (l->edges.end - l->edges.start));

	split = choose_split(l);
	w.edges_lo = split;
	if (threaded && pthread_create(&th, NULL, worker_main, &w))
		threaded = 0;
	if (!threaded && split != l->edges.end) {
		/* one thread: parse every edge forwards */
		split = l->edges.end;
		w.edges_lo = split;
	}
	if (!parse_nodes(l)) {
		/* split points just after a ',', which is not part of the front half */
		front = parse_edges_fwd(l, l->edges.start, split == l->edges.end ? split : split - 1, &l->err);
	} else {
		front = 0;
	}
	if (threaded)
		pthread_join(th, NULL);
	else
		worker_main(&w);
	if (w.bad_value && !l->err.set)
		recount_edges(l, &w, front);
	if (w.err.set)
		perr_set(&l->err, w.err.off, "%s", w.err.msg);
	if (l->err.set)
		return -1;
	total = (uint64_t)l->s->edge_count * (uint64_t)l->edge_fields;
	if (front + w.edge_numbers != total) {
		perr_set(&l->err, l->edges.start,
			 "\"edges\" holds %llu numbers, but snapshot.edge_count %u x %d fields is %llu; the counts disagree with the arrays",
			 (unsigned long long)(front + w.edge_numbers), l->s->edge_count, l->edge_fields,
			 (unsigned long long)total);
		return -1;
	}
	return finish(l);
}

/*
 * A file that ends in zero bytes was cut off by a crash or a full disk, or is
 * being written by a tool that sizes the file first; whatever error the
 * zeros caused, that is the thing to say.  (V8 writes pure ASCII, never a NUL.)
 */
static void explain_zero_tail(struct loader *l)
{
	size_t z = l->n;

	while (z > 0 && !l->d[z - 1])
		z--;
	if (z == l->n || z > l->err.off)
		return;
	l->err = (struct perr){ 0 };
	perr_set(&l->err, z, "the file ends in %zu zero bytes, not JSON; was the snapshot still being written, or the disk full?",
		 l->n - z);
}

static struct lh_snapshot *run(const char *name, const char *data, size_t size, struct lh_mapfile *mf,
			       unsigned flags)
{
	struct loader l = { .name = name, .d = data, .n = size, .mf = mf };
	struct lh_snapshot *s = lh_xcalloc(1, sizeof(*s));

	s->path = lh_xstrdup(name);
	s->file_size = size;
	l.s = s;
	if (flags & LH_LOAD_PROGRESS)
		l.progress = lh_progress_start("reading", size);
	if (!size) {
		perr_set(&l.err, 0, "the file is empty; was the snapshot still being written?");
	} else {
		if (load(&l, flags))
			explain_zero_tail(&l);
	}
	lh_progress_stop(l.progress);
	if (l.err.set) {
		lh_error("cannot read '%s': %s (at byte %zu)", name, l.err.msg, l.err.off);
		lh_snapshot_free(s);
		return NULL;
	}
	return s;
}

struct lh_snapshot *lh_snapshot_parse(const char *name, const char *data, size_t size, unsigned flags)
{
	return run(name, data, size, NULL, flags);
}

struct lh_snapshot *lh_snapshot_load(const char *path, unsigned flags)
{
	struct lh_mapfile mf;
	struct lh_snapshot *s;

	if (lh_mapfile_open(&mf, path))
		return NULL;
	s = run(path, mf.data, mf.size, &mf, flags);
	lh_mapfile_release(&mf);
	return s;
}
