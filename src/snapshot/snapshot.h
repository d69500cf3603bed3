/*
 * The in-memory model of one V8 heap snapshot (.heapsnapshot).
 *
 * One struct owns everything, as flat struct-of-arrays indexed by uint32_t
 * ordinals (yyjson's doc/DataStructure.md idea): node i's fields are
 * node_type[i], node_name[i], ...; its outgoing edges are the edge ordinals
 * first_edge[i] .. first_edge[i+1]-1, exactly as V8 wrote them (CSR); edge
 * targets are node ordinals (V8 writes ordinal * node_field_count, the loader
 * divides).  Strings live in one pool, addressed by string index.
 *
 * Node and edge types are our own enums, mapped by name from snapshot.meta by
 * the loader (never by position): a type name we do not know gets a number at
 * or above LH_NODE__KNOWN and keeps its name in type_names[], so class names
 * like "(foo)" still come out right for snapshots of newer V8 versions.
 *
 * The loader (load.c) fills the "loaded" part.  The analysis passes fill the
 * rest on demand, each documented in its own header; all of it is freed by
 * lh_snapshot_free().
 */
#ifndef LH_SNAPSHOT_SNAPSHOT_H
#define LH_SNAPSHOT_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

enum lh_node_type {
	LH_NODE_HIDDEN,
	LH_NODE_ARRAY,
	LH_NODE_STRING,
	LH_NODE_OBJECT,
	LH_NODE_CODE,
	LH_NODE_CLOSURE,
	LH_NODE_REGEXP,
	LH_NODE_NUMBER,
	LH_NODE_NATIVE,
	LH_NODE_SYNTHETIC,
	LH_NODE_CONCATENATED_STRING,
	LH_NODE_SLICED_STRING,
	LH_NODE_SYMBOL,
	LH_NODE_BIGINT,
	LH_NODE_OBJECT_SHAPE,
	LH_NODE_WASM_OBJECT,
	LH_NODE__KNOWN /* first number given to a type name we do not know */
};

enum lh_edge_type {
	LH_EDGE_CONTEXT,
	LH_EDGE_ELEMENT,
	LH_EDGE_PROPERTY,
	LH_EDGE_INTERNAL,
	LH_EDGE_HIDDEN,
	LH_EDGE_SHORTCUT,
	LH_EDGE_WEAK,
	LH_EDGE__KNOWN
};

#define LH_MAX_TYPES 64 /* node or edge type names a snapshot may declare */

/* One entry of the "locations" section: where a closure or class instance was defined. */
struct lh_location {
	uint32_t node;      /* node ordinal */
	uint32_t script_id; /* V8 script id */
	uint32_t line;      /* 0-based */
	uint32_t column;    /* 0-based */
};

struct lh_snapshot {
	char *path;                /* file it was loaded from (for messages) */
	uint64_t file_size;        /* bytes */

	/* ---- loaded ---- */
	uint32_t node_count;
	uint32_t edge_count;
	uint32_t string_count;
	uint32_t location_count;
	uint32_t root;             /* root node ordinal (snapshot.root_index, else 0) */
	uint64_t extra_native_bytes; /* snapshot.extra_native_bytes, 0 if absent */
	uint32_t trace_function_count;

	uint8_t *node_type;        /* enum lh_node_type, or >= LH_NODE__KNOWN */
	uint32_t *node_name;       /* string index */
	uint32_t *node_id;         /* V8's id: odd for V8 objects, even for embedder nodes */
	uint32_t *node_self_size;  /* shallow size as written; the analysis reassigns it in place (self_size) */
	uint8_t *node_detachedness; /* 0 unknown, 1 attached, 2 detached */
	uint32_t *first_edge;      /* node_count + 1 entries */

	uint8_t *edge_type;        /* enum lh_edge_type, or >= LH_EDGE__KNOWN */
	uint32_t *edge_name;       /* string index, or the index for element/hidden edges */
	uint32_t *edge_to;         /* target node ordinal */

	char *string_pool;         /* all strings, each NUL-terminated, UTF-8 (WTF-8 for lone surrogates) */
	uint64_t *string_off;      /* string_count + 1 offsets into string_pool */

	struct lh_location *locations; /* sorted by node; one per located node */

	char *node_type_names[LH_MAX_TYPES]; /* by enum value; NULL where not declared */
	char *edge_type_names[LH_MAX_TYPES];
	int node_type_count;       /* highest enum value in use + 1 */
	int edge_type_count;

	/* ---- retainers (lh_snapshot_build_retainers) ---- */
	uint32_t *first_retainer;  /* node_count + 1 entries */
	uint32_t *retainer_edge;   /* edge ordinals, grouped by target node */
	uint32_t *retainer_node;   /* source node of retainer_edge[k] */

	/* ---- analysis (analyze.h): NULL until computed ---- */
	uint32_t *self_size;       /* shallow size after DevTools' reassignment: node_self_size itself */
	uint64_t *self_moved;      /* bitmap: nodes whose size the reassignment changed */
	uint32_t *self_v8;         /* their sizes as V8 wrote them, in ordinal order (lh_snapshot_v8_sizes) */
	uint32_t *dominator;       /* immediate dominator ordinal (root: itself) */
	uint64_t *retained_size;   /* retained size */
	int32_t *distance;         /* DevTools distance; see analyze.h */
	uint8_t *node_flags;       /* enum lh_node_flags */
	uint32_t *node_class;      /* class index into classes[] */
	struct lh_class *classes;  /* see analyze.h */
	uint32_t class_count;
	struct lh_analysis *analysis; /* private to the analysis passes (analysis.h) */
};

/* Loader options. */
enum lh_load_flags {
	LH_LOAD_NO_THREADS = 1 << 0, /* parse on one thread (tests, determinism checks) */
	LH_LOAD_PROGRESS = 1 << 1,   /* show progress on stderr if it is a terminal */
};

/*
 * Load path.  Returns a snapshot, or NULL after printing (lh_error) a message
 * that names the file, the byte offset and what was expected.
 */
struct lh_snapshot *lh_snapshot_load(const char *path, unsigned flags);
/* Parse a snapshot from memory (tests, fuzzing); name is used in messages. */
struct lh_snapshot *lh_snapshot_parse(const char *name, const char *data, size_t size, unsigned flags);
void lh_snapshot_free(struct lh_snapshot *s);

/* String i of the pool (NUL-terminated); "" for an out-of-range index. */
static inline const char *lh_snapshot_str(const struct lh_snapshot *s, uint32_t i)
{
	return i < s->string_count ? s->string_pool + s->string_off[i] : "";
}

static inline const char *lh_node_name(const struct lh_snapshot *s, uint32_t node)
{
	return lh_snapshot_str(s, s->node_name[node]);
}

/* Does this edge type name its edge by number (element, hidden) rather than by string? */
static inline int lh_edge_is_indexed(unsigned type)
{
	return type == LH_EDGE_ELEMENT || type == LH_EDGE_HIDDEN;
}

/* Location of node, or NULL. */
const struct lh_location *lh_snapshot_location(const struct lh_snapshot *s, uint32_t node);

/* Build first_retainer / retainer_edge / retainer_node (idempotent). */
void lh_snapshot_build_retainers(struct lh_snapshot *s);

#endif
