/*
 * Sampling heap profiles (see heapprofile.h).
 *
 * The JSON tree is walked with an explicit stack (profiles of deep
 * recursion are deep; cJSON's own parser stops at 1000 levels and says so).
 * The walk counts, per function, how many times it is on the current
 * stack, so a node whose function is not already on the stack above it
 * starts a run whose subtree size goes to that function's total once:
 * recursion does not count the same bytes twice.
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/strbuf.h"
#include "inspect/heapprofile.h"

static uint32_t func_id(struct lh_heapprofile *p, const cJSON *cf)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(cf, "functionName");
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(cf, "url");
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(cf, "lineNumber");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(cf, "columnNumber");
	const char *name = cJSON_IsString(n) && n->valuestring[0] ? n->valuestring : "(anonymous)";
	const char *url = cJSON_IsString(u) ? u->valuestring : "";
	/* CDP counts lines and columns from 0, and -1 when unknown */
	int line = cJSON_IsNumber(l) && l->valueint >= 0 && l->valueint < INT_MAX ? l->valueint + 1 : 0;
	int col = cJSON_IsNumber(c) && c->valueint >= 0 && c->valueint < INT_MAX ? c->valueint + 1 : 0;
	struct strbuf key = STRBUF_INIT;
	struct lh_hashmap_entry *e;
	int added;

	strbuf_addstr(&key, name);
	strbuf_addch(&key, '\0');
	strbuf_addstr(&key, url);
	strbuf_addf(&key, "%c%d%c%d", '\0', line, '\0', col);
	e = lh_hashmap_put(&p->func_ids, key.buf, key.len, &added);
	strbuf_release(&key);
	if (added) {
		struct lh_heapprofile_func *f;

		e->value = p->nfuncs;
		ALLOC_GROW(p->funcs, p->nfuncs + 1, p->funcs_alloc);
		f = &p->funcs[p->nfuncs++];
		memset(f, 0, sizeof(*f));
		f->name = lh_xstrdup(name);
		f->url = lh_xstrdup(url);
		f->line = line;
		f->column = col;
	}
	return e->value;
}

/* V8's own sizes fit easily; these bounds only keep hostile input defined */
#define MAX_SIZE ((double)(1ull << 48))
#define MAX_TOTAL (1ull << 62)

static int is_u32(const cJSON *n)
{
	return cJSON_IsNumber(n) && n->valuedouble >= 0 && n->valuedouble <= UINT32_MAX;
}

struct walk {
	const cJSON *child;  /* the next child to visit */
	uint32_t node;
};

/* Flatten the tree under head; node ids go into ids (id -> node index). */
static int walk_tree(struct lh_heapprofile *p, const cJSON *head, struct lh_hashmap *ids,
		     uint32_t *counted_alloc, uint8_t **counted, const char *what)
{
	struct walk *stack = NULL;
	size_t depth = 0, stack_alloc = 0;
	uint32_t *onstack = NULL;
	size_t onstack_alloc = 0;
	const cJSON *cur = head;
	uint32_t parent = LH_HEAPPROFILE_NO_PARENT;
	int ret = -1;

	for (;;) {
		if (cur) {
			const cJSON *cf = cJSON_GetObjectItemCaseSensitive(cur, "callFrame");
			const cJSON *sz = cJSON_GetObjectItemCaseSensitive(cur, "selfSize");
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(cur, "id");
			const cJSON *kids = cJSON_GetObjectItemCaseSensitive(cur, "children");
			uint32_t i = p->nnodes, f;

			if (!cJSON_IsObject(cur) || !cJSON_IsObject(cf) || !cJSON_IsNumber(sz)) {
				lh_error("cannot read %s: node %u has no callFrame or selfSize; is it a "
					 "sampling heap profile?", what, i);
				goto out;
			}
			/* 2^48 bytes is beyond any heap, and keeps every sum below 2^64 */
			if (!(sz->valuedouble >= 0 && sz->valuedouble <= MAX_SIZE) ||
			    p->total + (uint64_t)sz->valuedouble > MAX_TOTAL) {
				lh_error("cannot read %s: node %u has selfSize %g; sizes must be between 0 "
					 "and 2^48 bytes", what, i, sz->valuedouble);
				goto out;
			}
			if (p->nnodes == UINT32_MAX - 1) {
				lh_error("cannot read %s: too many nodes", what);
				goto out;
			}
			f = func_id(p, cf);
			ALLOC_GROW(p->parent, p->nnodes + 1, p->parent_alloc);
			ALLOC_GROW(p->func, p->nnodes + 1, p->nodes_alloc);
			ALLOC_GROW(p->self, p->nnodes + 1, p->self_alloc);
			ALLOC_GROW(*counted, p->nnodes + 1, *counted_alloc);
			p->parent[i] = parent;
			p->func[i] = f;
			p->self[i] = (uint64_t)sz->valuedouble;
			p->total += p->self[i];
			p->nnodes++;
			if (is_u32(id)) {
				uint32_t key = (uint32_t)id->valuedouble;
				int added;

				lh_hashmap_put(ids, &key, sizeof(key), &added)->value = i;
			}
			if (f >= onstack_alloc) {
				size_t old = onstack_alloc;

				ALLOC_GROW(onstack, f + 1, onstack_alloc);
				memset(onstack + old, 0, (onstack_alloc - old) * sizeof(*onstack));
			}
			(*counted)[i] = onstack[f]++ == 0;
			ALLOC_GROW(stack, depth + 1, stack_alloc);
			stack[depth].child = cJSON_IsArray(kids) ? kids->child : NULL;
			stack[depth].node = i;
			depth++;
		}
		/* next: the next child of the innermost node that has one left */
		cur = NULL;
		while (depth) {
			struct walk *w = &stack[depth - 1];

			if (w->child) {
				cur = w->child;
				w->child = w->child->next;
				parent = w->node;
				break;
			}
			onstack[p->func[w->node]]--;
			depth--;
		}
		if (!cur)
			break;
	}
	ret = 0;
out:
	free(stack);
	free(onstack);
	return ret;
}

int lh_heapprofile_load(struct lh_heapprofile *p, const char *json, size_t len, const char *what)
{
	cJSON *root = cJSON_ParseWithLength(json, len), *prof, *head, *samples, *s;
	struct lh_hashmap ids;
	uint64_t *sub = NULL;
	uint8_t *counted = NULL;
	uint32_t counted_alloc = 0;
	int ret = -1;

	memset(p, 0, sizeof(*p));
	lh_hashmap_init(&p->func_ids);
	lh_hashmap_init(&ids);
	if (!root) {
		const char *at = cJSON_GetErrorPtr();

		lh_error("cannot read %s: not JSON (at byte %zu; nested over %d levels?)",
			 what, at && at >= json && at <= json + len ? (size_t)(at - json) : (size_t)0,
			 CJSON_NESTING_LIMIT);
		goto out;
	}
	prof = cJSON_GetObjectItemCaseSensitive(root, "profile");
	if (!cJSON_IsObject(prof))
		prof = root;
	head = cJSON_GetObjectItemCaseSensitive(prof, "head");
	samples = cJSON_GetObjectItemCaseSensitive(prof, "samples");
	if (!cJSON_IsObject(head)) {
		lh_error("cannot read %s: no \"head\" object; is it a sampling heap profile "
			 "(.heapprofile)?", what);
		goto out;
	}
	if (walk_tree(p, head, &ids, &counted_alloc, &counted, what) < 0)
		goto out;

	/* subtree sizes: children come after their parent, so walk backwards */
	sub = lh_xcalloc(p->nnodes, sizeof(*sub));
	for (uint32_t i = p->nnodes; i-- > 0;) {
		sub[i] += p->self[i];
		if (p->parent[i] != LH_HEAPPROFILE_NO_PARENT)
			sub[p->parent[i]] += sub[i];
		p->funcs[p->func[i]].self += p->self[i];
		if (counted[i])
			p->funcs[p->func[i]].total += sub[i];
	}
	cJSON_ArrayForEach(s, samples) {
		const cJSON *nid = cJSON_GetObjectItemCaseSensitive(s, "nodeId");
		struct lh_hashmap_entry *e;
		uint32_t key;

		p->nsamples++;
		if (!is_u32(nid))
			continue;
		key = (uint32_t)nid->valuedouble;
		e = lh_hashmap_get(&ids, &key, sizeof(key));
		if (e)
			p->funcs[p->func[e->value]].samples++;
	}
	ret = 0;
out:
	free(sub);
	free(counted);
	lh_hashmap_release(&ids);
	cJSON_Delete(root);
	return ret;
}

void lh_heapprofile_release(struct lh_heapprofile *p)
{
	for (uint32_t f = 0; f < p->nfuncs; f++) {
		free(p->funcs[f].name);
		free(p->funcs[f].url);
	}
	free(p->funcs);
	free(p->parent);
	free(p->func);
	free(p->self);
	lh_hashmap_release(&p->func_ids);
	memset(p, 0, sizeof(*p));
}

static const struct lh_heapprofile *sort_profile;

static int cmp_self(const void *a, const void *b)
{
	const struct lh_heapprofile_func *x = &sort_profile->funcs[*(const uint32_t *)a];
	const struct lh_heapprofile_func *y = &sort_profile->funcs[*(const uint32_t *)b];

	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return strcmp(x->name, y->name);
}

uint32_t *lh_heapprofile_by_self(const struct lh_heapprofile *p, uint32_t *n)
{
	uint32_t *order = lh_xcalloc(p->nfuncs ? p->nfuncs : 1, sizeof(*order));

	*n = 0;
	for (uint32_t f = 0; f < p->nfuncs; f++)
		if (!p->nnodes || f != p->func[0])
			order[(*n)++] = f;
	sort_profile = p;
	if (*n)
		qsort(order, *n, sizeof(*order), cmp_self);
	sort_profile = NULL;
	return order;
}
