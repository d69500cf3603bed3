/*
 * Class names, class keys and the Summary rows, as DevTools computes them
 * (calculateObjectNames, inferInterfaceDefinitions, applyInterfaceDefinitions,
 * buildAggregates, calculateClassesRetainedSize, classKeyFromClassKeyInternal).
 *
 * Every node gets a class id ("cid"): below string_count it is a string of
 * the pool (object and native nodes are named by their own name string);
 * above, it is a name DevTools adds to its string table: "(system)",
 * "(type)", "<div>" cut from '<div id=..>', "Detached X" for DOM nodes the
 * DOM-state pass detached, and inferred interface names "{a, b}".  DevTools
 * keeps these added names apart from the pool even when the text is the same,
 * and groups nodes by that index (plus the location for located objects), so
 * we do too; only the final keys (",Name" or "script,line,col,Name") are
 * text, and when two groups end up with one key the later one wins, as with
 * DevTools' `aggregates[newKey] = aggregate`.
 *
 * Plain objects ("Object") get interface names: inference groups them by the
 * property names (edge order, no __proto__, up to 120 UTF-16 units) and keeps
 * names shared by at least max(2, objects / 1000) of them; application gives
 * each plain object the definition with the most properties all present on
 * it (ties: the more popular one), through DevTools' property trie.  Property
 * name order is JS's default sort, i.e. UTF-16 code units.  Grouping works on
 * sequences of string indices, so no string is built or hashed per node.
 *
 * maxRet (a row's retained size) sums the retained sizes of instances that
 * have no dominator-tree ancestor of the same group: a walk of the dominator
 * tree with an explicit stack, as DevTools does.
 */
#include "analysis.h"
#include "analyze.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/strbuf.h"

#define NONE UINT32_MAX
#define MAX_INTERFACE_NAME_LENGTH 120
#define MIN_OBJECT_COUNT_PER_INTERFACE 2
#define MIN_OBJECT_PROPORTION_PER_INTERFACE 1000

/* ---- UTF-16 view of our UTF-8 (WTF-8) strings ---- */

/* Next code point of p (at most len bytes); *n gets its byte length. */
static uint32_t next_cp(const unsigned char *p, size_t len, size_t *n)
{
	if (p[0] < 0x80 || len < 2) {
		*n = 1;
		return p[0];
	}
	if (p[0] < 0xe0) {
		*n = 2;
		return ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
	}
	if (p[0] < 0xf0 || len < 4) {
		*n = len < 3 ? len : 3;
		return ((uint32_t)(p[0] & 0x0f) << 12) | ((uint32_t)(p[1] & 0x3f) << 6) |
		       (len > 2 ? (p[2] & 0x3f) : 0);
	}
	*n = 4;
	return ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3f) << 12) |
	       ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
}

static size_t utf16_len(const char *s)
{
	size_t len = strlen(s), units = 0, n;

	for (size_t i = 0; i < len; i += n) {
		uint32_t cp = next_cp((const unsigned char *)s + i, len - i, &n);

		units += cp >= 0x10000 ? 2 : 1;
	}
	return units;
}

/* JS string comparison: by UTF-16 code units. */
static int utf16_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i = 0, j = 0, na, nb;
	uint32_t pa = 0, pb = 0; /* pending low surrogates */

	for (;;) {
		uint32_t ua, ub;

		if (pa) {
			ua = pa;
			pa = 0;
		} else if (i < la) {
			uint32_t cp = next_cp((const unsigned char *)a + i, la - i, &na);

			i += na;
			if (cp >= 0x10000) {
				ua = 0xd800 + ((cp - 0x10000) >> 10);
				pa = 0xdc00 + ((cp - 0x10000) & 0x3ff);
			} else {
				ua = cp;
			}
		} else {
			ua = NONE;
		}
		if (pb) {
			ub = pb;
			pb = 0;
		} else if (j < lb) {
			uint32_t cp = next_cp((const unsigned char *)b + j, lb - j, &nb);

			j += nb;
			if (cp >= 0x10000) {
				ub = 0xd800 + ((cp - 0x10000) >> 10);
				pb = 0xdc00 + ((cp - 0x10000) & 0x3ff);
			} else {
				ub = cp;
			}
		} else {
			ub = NONE;
		}
		if (ua == NONE || ub == NONE)
			return ua == ub ? 0 : ua == NONE ? -1 : 1;
		if (ua != ub)
			return ua < ub ? -1 : 1;
	}
}

/* JSHeapSnapshotNode.formatPropertyName: JSON-quote names with , ' " { or }. */
static void format_property(struct strbuf *out, const char *name)
{
	size_t len = strlen(name), n;

	if (!strpbrk(name, ",'\"{}")) {
		strbuf_add(out, name, len);
		return;
	}
	strbuf_addch(out, '"');
	for (size_t i = 0; i < len; i += n) {
		const unsigned char *p = (const unsigned char *)name + i;
		uint32_t cp = next_cp(p, len - i, &n);

		if (cp == '"' || cp == '\\') {
			strbuf_addch(out, '\\');
			strbuf_addch(out, (char)cp);
		} else if (cp == '\b') {
			strbuf_addstr(out, "\\b");
		} else if (cp == '\f') {
			strbuf_addstr(out, "\\f");
		} else if (cp == '\n') {
			strbuf_addstr(out, "\\n");
		} else if (cp == '\r') {
			strbuf_addstr(out, "\\r");
		} else if (cp == '\t') {
			strbuf_addstr(out, "\\t");
		} else if (cp < 0x20 || (cp >= 0xd800 && cp <= 0xdfff)) {
			strbuf_addf(out, "\\u%04x", cp);
		} else {
			strbuf_add(out, (const char *)p, n);
		}
	}
	strbuf_addch(out, '"');
}

/* ---- a small string -> id table for the added names ---- */

struct names {
	char **text;          /* by id */
	uint32_t count, alloc;
	uint32_t *hash;       /* id + 1, 0 empty */
	uint32_t hash_size;
};

static uint32_t hash_str(const char *p)
{
	uint32_t h = 2166136261u;

	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

/* The id of text, added (copied) when new. */
static uint32_t names_intern(struct names *t, const char *text)
{
	uint32_t h;

	if ((t->count + 1) * 2 > t->hash_size) {
		uint32_t size = t->hash_size ? t->hash_size * 2 : 256;

		free(t->hash);
		t->hash = lh_xcalloc(size, sizeof(uint32_t));
		t->hash_size = size;
		for (uint32_t i = 0; i < t->count; i++) {
			h = hash_str(t->text[i]) & (size - 1);
			while (t->hash[h])
				h = (h + 1) & (size - 1);
			t->hash[h] = i + 1;
		}
	}
	h = hash_str(text) & (t->hash_size - 1);
	while (t->hash[h]) {
		if (!strcmp(t->text[t->hash[h] - 1], text))
			return t->hash[h] - 1;
		h = (h + 1) & (t->hash_size - 1);
	}
	ALLOC_GROW(t->text, t->count + 1, t->alloc);
	t->text[t->count] = lh_xstrdup(text);
	t->hash[h] = t->count + 1;
	return t->count++;
}

/* Lookup only: id or NONE. */
static uint32_t names_find(const struct names *t, const char *text)
{
	uint32_t h;

	if (!t->hash_size)
		return NONE;
	h = hash_str(text) & (t->hash_size - 1);
	while (t->hash[h]) {
		if (!strcmp(t->text[t->hash[h] - 1], text))
			return t->hash[h] - 1;
		h = (h + 1) & (t->hash_size - 1);
	}
	return NONE;
}

static void names_release(struct names *t)
{
	for (uint32_t i = 0; i < t->count; i++)
		free(t->text[i]);
	free(t->text);
	free(t->hash);
	memset(t, 0, sizeof(*t));
}

/*
 * Added names.  DevTools has two tables that never share an index even for
 * equal text: getIndexForString's and the interface names'; "Detached X"
 * strings come from a third, keyed by the original string.  One names table
 * per namespace; a cid is string_count + offset, offsets laid out per table
 * once the tables are complete (see finish_cids).
 */
struct ctx {
	struct lh_snapshot *s;
	struct names added;     /* getIndexForString */
	struct names ifaces;    /* interface names */
	struct names detached;  /* "Detached " + raw name */
	uint32_t *cid;          /* per node; tagged while building, see TAG() below */
	uint32_t type_cid[LH_MAX_TYPES]; /* cid of the types named by type alone, NONE until met */
};

/* Tags in the top two bits of a provisional cid. */
#define TAG_RAW 0u
#define TAG_ADDED 1u
#define TAG_IFACE 2u
#define TAG_DETACHED 3u
#define TAG(t, v) (((uint32_t)(t) << 30) | (v))

/* The cid of a name that depends on the node type only, cached per type. */
static uint32_t type_cid(struct ctx *c, unsigned type, const char *name)
{
	uint32_t cid = TAG(TAG_ADDED, names_intern(&c->added, name));

	if (type < LH_MAX_TYPES)
		c->type_cid[type] = cid;
	return cid;
}

static int is_plain_object(const struct lh_snapshot *s, uint32_t i)
{
	return s->node_type[i] == LH_NODE_OBJECT && lh_analysis_is(s, s->node_name[i], LH_STR_OBJECT);
}

/* The class of a node before interfaces (calculateObjectNames). */
static uint32_t object_name_cid(struct ctx *c, uint32_t i, struct strbuf *sb)
{
	struct lh_snapshot *s = c->s;
	unsigned type = s->node_type[i];

	if (type != LH_NODE_OBJECT && type != LH_NODE_NATIVE && type < LH_MAX_TYPES &&
	    c->type_cid[type] != NONE)
		return c->type_cid[type];
	switch (type) {
	case LH_NODE_HIDDEN:
		return type_cid(c, type, "(system)");
	case LH_NODE_OBJECT:
	case LH_NODE_NATIVE: {
		const char *raw = lh_node_name(s, i);

		/* the common case: the class is the node's own name string */
		if (raw[0] != '<' && raw[0] != 'D' && !lh_analysis_renamed(s, i))
			return TAG(TAG_RAW, s->node_name[i]);

		strbuf_setlen(sb, 0);
		if (lh_analysis_renamed(s, i)) {
			strbuf_addstr(sb, "Detached ");
			strbuf_addstr(sb, raw);
		} else {
			strbuf_addstr(sb, raw);
		}
		if (sb->buf[0] == '<') {
			char *sp = strchr(sb->buf, ' ');

			if (sp) {
				strbuf_setlen(sb, (size_t)(sp - sb->buf));
				strbuf_addch(sb, '>');
			}
			return TAG(TAG_ADDED, names_intern(&c->added, sb->buf));
		}
		if (!strncmp(sb->buf, "Detached <", 10)) {
			char *sp = strchr(sb->buf + 10, ' ');

			if (sp) {
				strbuf_setlen(sb, (size_t)(sp - sb->buf));
				strbuf_addch(sb, '>');
			}
			return TAG(TAG_ADDED, names_intern(&c->added, sb->buf));
		}
		if (lh_analysis_renamed(s, i))
			return TAG(TAG_DETACHED, names_intern(&c->detached, sb->buf));
		return TAG(TAG_RAW, s->node_name[i]);
	}
	case LH_NODE_CODE:
		return type_cid(c, type, "(compiled code)");
	case LH_NODE_CLOSURE:
		return type_cid(c, type, "Function");
	case LH_NODE_REGEXP:
		return type_cid(c, type, "RegExp");
	default:
		strbuf_setlen(sb, 0);
		strbuf_addf(sb, "(%s)", type < LH_MAX_TYPES && s->node_type_names[type] ?
						 s->node_type_names[type] : "");
		return type_cid(c, type, sb->buf);
	}
}

/* ---- interface inference ---- */

struct cand {
	uint32_t first, len;  /* property string indices at seq[first .. first+len) */
	uint32_t count;
	uint32_t order;       /* first-seen order, for a stable sort */
};

struct infer {
	uint32_t *seq;        /* property string indices of all candidates */
	size_t seq_n, seq_alloc;
	struct cand *cands;
	size_t cand_n, cand_alloc;
	uint32_t *hash;       /* cand + 1 */
	size_t hash_size;
	uint32_t *fmt_len;    /* per string: UTF-16 length of the formatted name, NONE unknown */
};

static uint32_t hash_seq(const uint32_t *p, uint32_t n)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h ^ n;
}

static void infer_add(struct infer *in, const uint32_t *props, uint32_t n)
{
	uint32_t h;

	if ((in->cand_n + 1) * 2 > in->hash_size) {
		size_t size = in->hash_size ? in->hash_size * 2 : 1024;

		free(in->hash);
		in->hash = lh_xcalloc(size, sizeof(uint32_t));
		in->hash_size = size;
		for (size_t k = 0; k < in->cand_n; k++) {
			h = hash_seq(in->seq + in->cands[k].first, in->cands[k].len) & (size - 1);
			while (in->hash[h])
				h = (h + 1) & (size - 1);
			in->hash[h] = (uint32_t)k + 1;
		}
	}
	h = hash_seq(props, n) & (in->hash_size - 1);
	while (in->hash[h]) {
		struct cand *cd = &in->cands[in->hash[h] - 1];

		if (cd->len == n && !memcmp(in->seq + cd->first, props, n * sizeof(uint32_t))) {
			cd->count++;
			return;
		}
		h = (h + 1) & (in->hash_size - 1);
	}
	ALLOC_GROW(in->seq, in->seq_n + n, in->seq_alloc);
	memcpy(in->seq + in->seq_n, props, n * sizeof(uint32_t));
	ALLOC_GROW(in->cands, in->cand_n + 1, in->cand_alloc);
	in->cands[in->cand_n] = (struct cand){ (uint32_t)in->seq_n, n, 1, (uint32_t)in->cand_n };
	in->seq_n += n;
	in->hash[h] = (uint32_t)++in->cand_n;
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->order < y->order ? -1 : 1;
}

static uint32_t formatted_len(struct infer *in, const struct lh_snapshot *s, uint32_t str, struct strbuf *sb)
{
	if (in->fmt_len[str] == NONE) {
		strbuf_setlen(sb, 0);
		format_property(sb, lh_snapshot_str(s, str));
		in->fmt_len[str] = (uint32_t)utf16_len(sb->buf);
	}
	return in->fmt_len[str];
}

/* inferInterfaceDefinitions: fills a->interfaces. */
static void infer_interfaces(struct lh_snapshot *s, struct lh_analysis *a)
{
	struct infer in = { 0 };
	struct strbuf sb = STRBUF_INIT;
	uint32_t *props = NULL, total = 0;
	size_t props_alloc = 0;
	double min_count;

	in.fmt_len = lh_xmalloc(lh_st_mult(s->string_count ? s->string_count : 1, sizeof(uint32_t)));
	memset(in.fmt_len, 0xff, (size_t)s->string_count * sizeof(uint32_t));
	for (uint32_t i = 0; i < s->node_count; i++) {
		uint32_t n = 0;
		size_t len = 1; /* "{" */

		if (!is_plain_object(s, i))
			continue;
		total++;
		for (uint32_t e = s->first_edge[i]; e < s->first_edge[i + 1]; e++) {
			uint32_t name = s->edge_name[e], flen;

			if (s->edge_type[e] != LH_EDGE_PROPERTY ||
			    lh_analysis_is(s, name, LH_STR_PROTO))
				continue;
			flen = formatted_len(&in, s, name, &sb);
			if (len > 1 && len + flen > MAX_INTERFACE_NAME_LENGTH)
				break;
			if (len != 1)
				len += 2;
			len += flen;
			ALLOC_GROW(props, n + 1, props_alloc);
			props[n++] = name;
		}
		if (n)
			infer_add(&in, props, n);
	}
	free(props);
	free(in.fmt_len);
	free(in.hash);
	if (in.cand_n)
		qsort(in.cands, in.cand_n, sizeof(*in.cands), cand_cmp);
	min_count = (double)total / MIN_OBJECT_PROPORTION_PER_INTERFACE;
	if (min_count < MIN_OBJECT_COUNT_PER_INTERFACE)
		min_count = MIN_OBJECT_COUNT_PER_INTERFACE;
	for (size_t k = 0; k < in.cand_n && in.cands[k].count >= min_count; k++) {
		struct cand *cd = &in.cands[k];
		struct lh_interface *d;

		a->interfaces = lh_xrealloc(a->interfaces, lh_st_mult(a->interface_count + 1, sizeof(*d)));
		d = &a->interfaces[a->interface_count++];
		d->prop_count = cd->len;
		d->props = lh_xmalloc(lh_st_mult(cd->len, sizeof(char *)));
		strbuf_setlen(&sb, 0);
		strbuf_addch(&sb, '{');
		for (uint32_t p = 0; p < cd->len; p++) {
			const char *name = lh_snapshot_str(s, in.seq[cd->first + p]);

			d->props[p] = lh_xstrdup(name);
			if (p)
				strbuf_addstr(&sb, ", ");
			format_property(&sb, name);
		}
		strbuf_addch(&sb, '}');
		d->name = lh_xstrdup(sb.buf);
	}
	free(in.seq);
	free(in.cands);
	strbuf_release(&sb);
}

/* ---- interface application: DevTools' property trie ---- */

struct tnode {
	uint32_t first_child, next_sibling; /* NONE-terminated */
	uint32_t prop;         /* rank of the property on the edge into this node */
	uint32_t greatest;     /* greatest rank among children, NONE if none */
	uint32_t match;        /* definition index, NONE if none */
	uint32_t match_props;  /* its property count */
};

struct trie {
	struct tnode *nodes;
	size_t n, alloc;
	struct names props;    /* definition property names; id -> rank */
	uint32_t *rank;        /* by props id */
};

static const char **sort_names;

static int rank_cmp(const void *a, const void *b)
{
	return utf16_cmp(sort_names[*(const uint32_t *)a], sort_names[*(const uint32_t *)b]);
}

static uint32_t trie_new(struct trie *t, uint32_t prop)
{
	ALLOC_GROW(t->nodes, t->n + 1, t->alloc);
	t->nodes[t->n] = (struct tnode){ NONE, NONE, prop, NONE, NONE, 0 };
	return (uint32_t)t->n++;
}

static uint32_t trie_child(const struct trie *t, uint32_t node, uint32_t prop)
{
	for (uint32_t c = t->nodes[node].first_child; c != NONE; c = t->nodes[c].next_sibling)
		if (t->nodes[c].prop == prop)
			return c;
	return NONE;
}

static void trie_build(struct trie *t, const struct lh_interface *defs, uint32_t count)
{
	uint32_t *order, *ranked = NULL;
	size_t ranked_alloc = 0;

	for (uint32_t d = 0; d < count; d++)
		for (uint32_t p = 0; p < defs[d].prop_count; p++)
			names_intern(&t->props, defs[d].props[p]);
	order = lh_xmalloc(lh_st_mult(t->props.count + 1, sizeof(uint32_t)));
	t->rank = lh_xmalloc(lh_st_mult(t->props.count + 1, sizeof(uint32_t)));
	for (uint32_t i = 0; i < t->props.count; i++)
		order[i] = i;
	sort_names = (const char **)t->props.text;
	qsort(order, t->props.count, sizeof(uint32_t), rank_cmp);
	for (uint32_t i = 0; i < t->props.count; i++)
		t->rank[order[i]] = i;
	free(order);

	trie_new(t, NONE);
	for (uint32_t d = 0; d < count; d++) {
		uint32_t node = 0, n = defs[d].prop_count;

		ALLOC_GROW(ranked, n, ranked_alloc);
		for (uint32_t p = 0; p < n; p++)
			ranked[p] = t->rank[names_find(&t->props, defs[d].props[p])];
		/* toSorted(): JS's default sort, by UTF-16 units; ranks sort the same way */
		for (uint32_t p = 1; p < n; p++)
			for (uint32_t q = p; q > 0 && ranked[q - 1] > ranked[q]; q--) {
				uint32_t x = ranked[q];

				ranked[q] = ranked[q - 1];
				ranked[q - 1] = x;
			}
		for (uint32_t p = 0; p < n; p++) {
			uint32_t next = trie_child(t, node, ranked[p]);

			if (next == NONE) {
				next = trie_new(t, ranked[p]);
				t->nodes[next].next_sibling = t->nodes[node].first_child;
				t->nodes[node].first_child = next;
				if (t->nodes[node].greatest == NONE || t->nodes[node].greatest < ranked[p])
					t->nodes[node].greatest = ranked[p];
			}
			node = next;
		}
		if (t->nodes[node].match == NONE) {
			t->nodes[node].match = d;
			t->nodes[node].match_props = n;
		}
	}
	free(ranked);
}

static void trie_release(struct trie *t)
{
	free(t->nodes);
	free(t->rank);
	names_release(&t->props);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* applyInterfaceDefinitions: the cid of every plain object. */
static void apply_interfaces(struct ctx *c, const struct lh_interface *defs, uint32_t count)
{
	struct lh_snapshot *s = c->s;
	struct trie t = { 0 };
	uint32_t *str_rank, *props = NULL, *states = NULL, nstates, *iface_cid;
	size_t props_alloc = 0, states_alloc = 0;

	if (!count)
		return;
	trie_build(&t, defs, count);
	iface_cid = lh_xmalloc(lh_st_mult(count, sizeof(uint32_t)));
	for (uint32_t d = 0; d < count; d++)
		iface_cid[d] = NONE;
	/* per string: rank of the property, NONE - 1 unknown, NONE not a definition property */
	str_rank = lh_xmalloc(lh_st_mult(s->string_count ? s->string_count : 1, sizeof(uint32_t)));
	memset(str_rank, 0xff, (size_t)s->string_count * sizeof(uint32_t));
	for (uint32_t i = 0; i < s->string_count; i++)
		str_rank[i] = NONE - 1;
	for (uint32_t i = 0; i < s->node_count; i++) {
		uint32_t n = 0, best = NONE, best_props = 0;

		if (!is_plain_object(s, i))
			continue;
		for (uint32_t e = s->first_edge[i]; e < s->first_edge[i + 1]; e++) {
			uint32_t name = s->edge_name[e];

			if (s->edge_type[e] != LH_EDGE_PROPERTY || name >= s->string_count)
				continue;
			if (str_rank[name] == NONE - 1) {
				uint32_t id = names_find(&t.props, lh_snapshot_str(s, name));

				str_rank[name] = id == NONE ? NONE : t.rank[id];
			}
			if (str_rank[name] == NONE)
				continue;
			ALLOC_GROW(props, n + 1, props_alloc);
			props[n++] = str_rank[name];
		}
		if (!n)
			continue;
		qsort(props, n, sizeof(uint32_t), u32_cmp);
		ALLOC_GROW(states, 1, states_alloc);
		states[0] = 0;
		nstates = 1;
		for (uint32_t p = 0; p < n; p++) {
			uint32_t snap = nstates;

			for (uint32_t k = 0; k < snap; k++) {
				uint32_t st = states[k], next;

				if (st == NONE)
					continue;
				if (t.nodes[st].greatest == NONE || props[p] >= t.nodes[st].greatest)
					states[k] = NONE;
				next = trie_child(&t, st, props[p]);
				if (next == NONE)
					continue;
				uint32_t have = 0;

				for (uint32_t q = 0; q < nstates; q++)
					if (states[q] == next)
						have = 1;
				if (!have) {
					ALLOC_GROW(states, nstates + 1, states_alloc);
					states[nstates++] = next;
				}
				if (t.nodes[next].match != NONE) {
					const struct tnode *m = &t.nodes[next];

					if (best == NONE || m->match_props > best_props ||
					    (m->match_props == best_props && m->match < best)) {
						best = m->match;
						best_props = m->match_props;
					}
				}
			}
			/* drop removed states */
			uint32_t w = 0;

			for (uint32_t k = 0; k < nstates; k++)
				if (states[k] != NONE)
					states[w++] = states[k];
			nstates = w;
		}
		if (best == NONE)
			continue;
		if (iface_cid[best] == NONE)
			iface_cid[best] = TAG(TAG_IFACE, names_intern(&c->ifaces, defs[best].name));
		c->cid[i] = iface_cid[best];
	}
	free(props);
	free(states);
	free(str_rank);
	free(iface_cid);
	trie_release(&t);
}

/* ---- aggregation ---- */


struct agg {
	uint32_t cid;          /* final cid */
	uint32_t first;        /* first instance (node order) */
	uint32_t count;
	uint64_t self;
	uint64_t max_ret;
	int32_t distance;
	const struct lh_location *loc; /* NULL for ",Name" keys */
	char *key;
	int dropped;           /* another group took its key */
};

struct aggs {
	struct agg *v;
	size_t n, alloc;
	uint32_t *by_cid;      /* non-located groups: cid -> agg */
	uint32_t *loc_hash;    /* located groups: agg + 1 */
	size_t loc_hash_size;
};

/* What lh_classes_prepare() hands to lh_classes_finish(). */
struct lh_classes_job {
	struct ctx c;
	struct aggs g;
	struct strbuf sb;
};

static uint32_t loc_hash(const struct lh_location *l, uint32_t cid)
{
	uint32_t h = 2166136261u;

	h = (h ^ l->script_id) * 16777619u;
	h = (h ^ l->line) * 16777619u;
	h = (h ^ l->column) * 16777619u;
	return (h ^ cid) * 16777619u;
}

static uint32_t agg_new(struct aggs *a, uint32_t cid, uint32_t node, const struct lh_location *loc)
{
	ALLOC_GROW(a->v, a->n + 1, a->alloc);
	a->v[a->n] = (struct agg){ .cid = cid, .first = node, .loc = loc };
	return (uint32_t)a->n++;
}

/* The group of node i: DevTools' classKeyInternal.  l: i's location or NULL. */
static uint32_t agg_of(struct aggs *a, const struct lh_location *l, uint32_t i, uint32_t cid)
{
	uint32_t h;

	if (!l) {
		if (a->by_cid[cid] == NONE)
			a->by_cid[cid] = agg_new(a, cid, i, NULL);
		return a->by_cid[cid];
	}
	h = loc_hash(l, cid) & (a->loc_hash_size - 1);
	while (a->loc_hash[h]) {
		struct agg *g = &a->v[a->loc_hash[h] - 1];

		if (g->cid == cid && g->loc->script_id == l->script_id && g->loc->line == l->line &&
		    g->loc->column == l->column)
			return a->loc_hash[h] - 1;
		h = (h + 1) & (a->loc_hash_size - 1);
	}
	a->loc_hash[h] = agg_new(a, cid, i, l) + 1;
	return a->loc_hash[h] - 1;
}

/*
 * calculateClassesRetainedSize: maxRet adds up the retained sizes of the
 * instances that no other instance of their class dominates.  DevTools walks
 * the dominator tree marking classes on the way down; that needs each node's
 * children (8 bytes a node).  Instead, top[v] is v if v is such a topmost
 * instance, else top[] of its dominator: the chain v, top[dom], top[dom of
 * that], ... then visits one topmost instance of every class on v's path
 * (the topmost one of each is on it), so v is topmost iff its class is not
 * on the chain above it.  The chains are as long as classes nest, which is
 * short; top[] is filled from the root down by walking up to a known entry.
 */
#define TOP_UNKNOWN 0xffffffffu
#define TOP_NONE 0xfffffffeu

static void max_retained(struct lh_snapshot *s, struct aggs *a)
{
	uint32_t n = s->node_count, root = s->root, *top, *stack = NULL;
	size_t sp = 0, alloc = 0;

	top = lh_xmalloc(lh_st_mult(n ? n : 1, sizeof(uint32_t)));
	memset(top, 0xff, (size_t)n * sizeof(uint32_t));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v = i;

		/* up to the first node whose top[] is known (or past the root) */
		while (top[v] == TOP_UNKNOWN) {
			ALLOC_GROW(stack, sp + 1, alloc);
			stack[sp++] = v;
			if (v == root)
				break;
			v = s->dominator[v];
		}
		while (sp) {
			uint32_t w = stack[--sp], g = s->node_class[w];
			uint32_t above = w == root ? TOP_NONE : top[s->dominator[w]], x = above;

			if (g == NONE) {
				top[w] = above;
				continue;
			}
			while (x != TOP_NONE && s->node_class[x] != g)
				x = x == root ? TOP_NONE : top[s->dominator[x]];
			if (x != TOP_NONE) {
				top[w] = above;
				continue;
			}
			a->v[g].max_ret += s->retained_size[w];
			top[w] = w;
		}
	}
	free(stack);
	free(top);
}

static int row_cmp(const void *x, const void *y)
{
	const struct lh_class *a = x, *b = y;

	if (a->retained_size != b->retained_size)
		return a->retained_size > b->retained_size ? -1 : 1;
	return strcmp(a->key, b->key);
}

int lh_classes_prepare(struct lh_snapshot *s, const struct lh_snapshot *base,
			struct lh_classes_job **out)
{
	struct lh_classes_job *j;
	struct lh_analysis *a = s->analysis;
	uint32_t n = s->node_count, ncid;
	const struct lh_analysis *defs_from;

	*out = NULL;
	if (s->string_count >= (1u << 30))
		return lh_error("cannot analyze '%s': too many strings (%u)", s->path ? s->path : "",
				s->string_count);
	*out = j = lh_xcalloc(1, sizeof(*j));
	j->c.s = s;
	strbuf_init(&j->sb, 0);
	memset(j->c.type_cid, 0xff, sizeof(j->c.type_cid));
	j->c.cid = lh_xmalloc(lh_st_mult(n, sizeof(uint32_t)));
	for (uint32_t i = 0; i < n; i++)
		j->c.cid[i] = object_name_cid(&j->c, i, &j->sb);
	infer_interfaces(s, a);
	defs_from = base && base->analysis ? base->analysis : a;
	apply_interfaces(&j->c, defs_from->interfaces, defs_from->interface_count);

	/* dense cids: raw strings, then each added table */
	ncid = s->string_count + j->c.added.count + j->c.ifaces.count + j->c.detached.count;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t cid = j->c.cid[i], v = cid & 0x3fffffffu;

		switch (cid >> 30) {
		case TAG_ADDED: v += s->string_count; break;
		case TAG_IFACE: v += s->string_count + j->c.added.count; break;
		case TAG_DETACHED: v += s->string_count + j->c.added.count + j->c.ifaces.count; break;
		}
		j->c.cid[i] = v;
	}

	/* buildAggregates */
	j->g.by_cid = lh_xmalloc(lh_st_mult(ncid + 1, sizeof(uint32_t)));
	memset(j->g.by_cid, 0xff, (size_t)(ncid + 1) * sizeof(uint32_t));
	j->g.loc_hash_size = 16;
	while (j->g.loc_hash_size < (size_t)s->location_count * 2)
		j->g.loc_hash_size *= 2;
	j->g.loc_hash = lh_xcalloc(j->g.loc_hash_size, sizeof(uint32_t));
	/*
	 * node_class takes over the cid array: node i's cid is read just
	 * before its group is written over it, and finish needs a group's cid
	 * only, which its agg holds.
	 */
	free(s->node_class);
	s->node_class = j->c.cid;
	j->c.cid = NULL;
	for (uint32_t i = 0, li = 0; i < n; i++) {
		const struct lh_location *l = NULL;
		uint32_t k;
		struct agg *ag;

		/* locations are sorted by node: walk them alongside */
		while (li < s->location_count && s->locations[li].node < i)
			li++;
		if (li < s->location_count && s->locations[li].node == i &&
		    s->node_type[i] == LH_NODE_OBJECT)
			l = &s->locations[li];
		if (!s->self_size[i]) {
			s->node_class[i] = NONE;
			continue;
		}
		k = agg_of(&j->g, l, i, s->node_class[i]);
		ag = &j->g.v[k];
		s->node_class[i] = k;
		if (!ag->count || s->distance[i] < ag->distance)
			ag->distance = s->distance[i];
		ag->count++;
		ag->self += s->self_size[i];
	}
	free(j->g.by_cid);
	free(j->g.loc_hash);
	return 0;
}

int lh_classes_finish(struct lh_snapshot *s, struct lh_classes_job *j)
{
	struct names keys = { 0 };
	uint32_t n = s->node_count, rows = 0, *group_row;

	max_retained(s, &j->g);

	/* final keys; a later group replaces an earlier one with the same key */
	{
		uint32_t *owner = NULL;
		size_t owner_alloc = 0;

		for (size_t k = 0; k < j->g.n; k++) {
			struct agg *ag = &j->g.v[k];
			uint32_t cid = ag->cid, id;
			const char *name;

			/* dense cid back to text */
			if (cid < s->string_count)
				name = lh_snapshot_str(s, cid);
			else if (cid - s->string_count < j->c.added.count)
				name = j->c.added.text[cid - s->string_count];
			else if (cid - s->string_count - j->c.added.count < j->c.ifaces.count)
				name = j->c.ifaces.text[cid - s->string_count - j->c.added.count];
			else
				name = j->c.detached.text[cid - s->string_count - j->c.added.count - j->c.ifaces.count];
			strbuf_setlen(&j->sb, 0);
			if (ag->loc)
				strbuf_addf(&j->sb, "%u,%u,%u,%s", ag->loc->script_id, ag->loc->line,
					    ag->loc->column, name);
			else
				strbuf_addf(&j->sb, ",%s", name);
			ag->key = lh_xstrdup(j->sb.buf);
			id = names_intern(&keys, ag->key);
			ALLOC_GROW(owner, id + 1, owner_alloc);
			if (id + 1 == keys.count) {
				owner[id] = (uint32_t)k;
			} else {
				j->g.v[owner[id]].dropped = 1;
				owner[id] = (uint32_t)k;
			}
		}
		free(owner);
	}

	for (uint32_t r = 0; r < s->class_count; r++) {
		free(s->classes[r].name);
		free(s->classes[r].key);
	}
	free(s->classes);
	s->classes = lh_xcalloc(j->g.n + 1, sizeof(struct lh_class));
	for (size_t k = 0; k < j->g.n; k++) {
		struct agg *ag = &j->g.v[k];
		struct lh_class *cl;
		const char *key = ag->key;

		if (ag->dropped) {
			free(ag->key);
			continue;
		}
		cl = &s->classes[rows++];
		cl->key = ag->key;
		if (ag->loc) {
			/* "script,line,col,Name": the name follows the third comma */
			for (int commas = 0; commas < 3; key++)
				if (*key == ',')
					commas++;
			cl->name = lh_xstrdup(key);
		} else {
			cl->name = lh_xstrdup(key + 1);
		}
		cl->count = ag->count;
		cl->shallow_size = ag->self;
		cl->retained_size = ag->max_ret;
		cl->distance = ag->distance;
		cl->first_node = ag->first;
	}
	s->class_count = rows;
	qsort(s->classes, rows, sizeof(struct lh_class), row_cmp);
	/* node_class: group -> row, through each row's first instance (one group per row) */
	group_row = lh_xmalloc(lh_st_mult(j->g.n + 1, sizeof(uint32_t)));
	memset(group_row, 0xff, (j->g.n + 1) * sizeof(uint32_t));
	for (uint32_t r = 0; r < rows; r++)
		group_row[s->node_class[s->classes[r].first_node]] = r;
	for (uint32_t i = 0; i < n; i++)
		if (s->node_class[i] != NONE)
			s->node_class[i] = group_row[s->node_class[i]];
	free(group_row);
	free(j->g.v);
	names_release(&keys);
	names_release(&j->c.added);
	names_release(&j->c.ifaces);
	names_release(&j->c.detached);
	strbuf_release(&j->sb);
	free(j);
	return 0;
}
