/*
 * Tables and JSON for the heap snapshot views; see heap.h.  Sizes in tables
 * are human-readable with a percentage of the heap total (the root's retained
 * size, as DevTools shows); JSON carries exact byte counts.
 */
#include "heap.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/human.h"
#include "base/jsonw.h"
#include "base/table.h"
#include "snapshot/analyze.h"

void lh_report_node_label(struct strbuf *sb, const struct lh_snapshot *s, uint32_t node)
{
	unsigned t = s->node_type[node];
	const char *name = lh_node_name(s, node);

	if (t == LH_NODE_STRING || t == LH_NODE_SLICED_STRING) {
		size_t len = strlen(name), keep = len > 40 ? 40 : len;

		/* cut at a character's start: half a UTF-8 character was
		 * invalid text, U+FFFD in the JSON */
		while (keep < len && ((unsigned char)name[keep] & 0xc0) == 0x80)
			keep--;
		strbuf_addch(sb, '"');
		strbuf_add(sb, name, keep);
		strbuf_addstr(sb, keep < len ? "...\"" : "\"");
	} else if (s->node_class && s->node_class[node] < s->class_count) {
		strbuf_addstr(sb, s->classes[s->node_class[node]].name);
	} else if (node == s->root) {
		strbuf_addstr(sb, "(root)");
	} else if (*name) {
		strbuf_addstr(sb, name);
	} else {
		/* no class row (a zero shallow size) and no name: say what it is */
		strbuf_addf(sb, "(%s)", s->node_type_names[t] ? s->node_type_names[t] : "?");
	}
	strbuf_addf(sb, " @%u", s->node_id[node]);
}

const char *lh_report_edge_type(const struct lh_snapshot *s, uint32_t edge)
{
	const char *t = s->edge_type_names[s->edge_type[edge]];

	return t ? t : "?";
}

void lh_report_edge_label(struct strbuf *sb, const struct lh_snapshot *s, uint32_t edge)
{
	unsigned t = s->edge_type[edge];

	if (lh_edge_is_indexed(t)) {
		strbuf_addf(sb, "[%u]", s->edge_name[edge]);
		return;
	}
	switch (t) {
	case LH_EDGE_PROPERTY:
		strbuf_addf(sb, ".%s", lh_snapshot_str(s, s->edge_name[edge]));
		break;
	case LH_EDGE_CONTEXT:
		strbuf_addf(sb, "->%s", lh_snapshot_str(s, s->edge_name[edge]));
		break;
	default:
		strbuf_addf(sb, "(%s) %s", lh_report_edge_type(s, edge), lh_snapshot_str(s, s->edge_name[edge]));
		break;
	}
}

void lh_report_distance(struct strbuf *sb, int32_t d)
{
	if (d < 0 || d >= LH_BASE_SYSTEM_DISTANCE)
		strbuf_addch(sb, '-');
	else
		strbuf_addf(sb, "%d", d);
}

static uint64_t heap_total(const struct lh_snapshot *s)
{
	return s->retained_size ? s->retained_size[s->root] : 0;
}

static void size_pct(struct strbuf *sb, uint64_t v, uint64_t total)
{
	lh_human_size(sb, (int64_t)v);
	if (total)
		strbuf_addf(sb, " %3u%%", (unsigned)(v * 100 / total));
}

static void json_file(struct lh_jsonw *w, const char *format, const struct lh_snapshot *s)
{
	lh_jsonw_kstr(w, "format", format);
	lh_jsonw_kstr(w, "file", s->path);
}

static void more_line(FILE *out, uint32_t shown, uint32_t total, const char *what, const char *hint)
{
	if (shown < total)
		fprintf(out, "... %u more %s (%s)\n", total - shown, what, hint);
}

void lh_report_summary(FILE *out, const struct lh_render_opts *o, const struct lh_snapshot *s,
		       const uint32_t *rows, uint32_t nrows, uint32_t total_rows)
{
	uint64_t total = heap_total(s);
	struct strbuf sb = STRBUF_INIT;
	struct lh_table t;

	if (o->json) {
		struct lh_jsonw w;

		lh_jsonw_init(&w, out, 0);
		lh_jsonw_object(&w);
		json_file(&w, "leakhunt.summary/1", s);
		lh_jsonw_kuint(&w, "node_count", s->node_count);
		lh_jsonw_kuint(&w, "edge_count", s->edge_count);
		lh_jsonw_kuint(&w, "total_size", total);
		lh_jsonw_kuint(&w, "class_count", total_rows);
		lh_jsonw_key(&w, "classes");
		lh_jsonw_array(&w);
		for (uint32_t i = 0; i < nrows; i++) {
			const struct lh_class *c = &s->classes[rows[i]];

			lh_jsonw_object(&w);
			lh_jsonw_kstr(&w, "name", c->name);
			lh_jsonw_kstr(&w, "key", c->key);
			lh_jsonw_kuint(&w, "count", c->count);
			lh_jsonw_kuint(&w, "shallow_size", c->shallow_size);
			lh_jsonw_kuint(&w, "retained_size", c->retained_size);
			lh_jsonw_kint(&w, "distance", c->distance);
			lh_jsonw_end(&w);
		}
		lh_jsonw_end(&w);
		lh_jsonw_end(&w);
		lh_jsonw_finish(&w);
		return;
	}
	lh_terminal_printf(out, "%s: ", s->path);
	lh_human_count(&sb, s->node_count, 0);
	strbuf_addstr(&sb, " nodes, ");
	lh_human_count(&sb, s->edge_count, 0);
	strbuf_addstr(&sb, " edges, total ");
	lh_human_size(&sb, (int64_t)total);
	fprintf(out, "%s\n\n", sb.buf);
	strbuf_reset(&sb);
	lh_table_init(&t, "Class:l*,Distance:r,Count:r,Shallow size:r,Retained size:r");
	t.max_width = o->width;
	for (uint32_t i = 0; i < nrows; i++) {
		const struct lh_class *c = &s->classes[rows[i]];

		lh_table_cell(&t, "%s", c->name);
		lh_report_distance(&sb, c->distance);
		lh_table_cell_sb(&t, &sb);
		lh_human_count(&sb, c->count, 0);
		lh_table_cell_sb(&t, &sb);
		size_pct(&sb, c->shallow_size, total);
		lh_table_cell_sb(&t, &sb);
		size_pct(&sb, c->retained_size, total);
		lh_table_cell_sb(&t, &sb);
	}
	lh_table_print(&t, out);
	lh_table_release(&t);
	more_line(out, nrows, total_rows, "classes", "--top N or --all");
	strbuf_release(&sb);
}

void lh_report_instances(FILE *out, const struct lh_render_opts *o, const struct lh_snapshot *s,
			 const char *format, const char *title, const uint32_t *nodes, uint32_t n, uint32_t total)
{
	uint64_t heap = heap_total(s);
	struct strbuf sb = STRBUF_INIT;
	struct lh_table t;

	if (o->json) {
		struct lh_jsonw w;

		lh_jsonw_init(&w, out, 0);
		lh_jsonw_object(&w);
		json_file(&w, format, s);
		lh_jsonw_kstr(&w, "class", title);
		lh_jsonw_kuint(&w, "count", total);
		lh_jsonw_key(&w, "instances");
		lh_jsonw_array(&w);
		for (uint32_t i = 0; i < n; i++) {
			lh_jsonw_object(&w);
			lh_jsonw_kuint(&w, "id", s->node_id[nodes[i]]);
			lh_jsonw_kstr(&w, "name", lh_node_name(s, nodes[i]));
			lh_jsonw_kuint(&w, "shallow_size", s->self_size[nodes[i]]);
			lh_jsonw_kuint(&w, "retained_size", s->retained_size[nodes[i]]);
			lh_jsonw_kint(&w, "distance", s->distance[nodes[i]]);
			lh_jsonw_end(&w);
		}
		lh_jsonw_end(&w);
		lh_jsonw_end(&w);
		lh_jsonw_finish(&w);
		return;
	}
	lh_terminal_printf(out, "%s: %u instances of %s\n\n", s->path, total, title);
	lh_table_init(&t, "Object:l*,Distance:r,Shallow size:r,Retained size:r");
	t.max_width = o->width;
	for (uint32_t i = 0; i < n; i++) {
		lh_report_node_label(&sb, s, nodes[i]);
		lh_table_cell_sb(&t, &sb);
		lh_report_distance(&sb, s->distance[nodes[i]]);
		lh_table_cell_sb(&t, &sb);
		size_pct(&sb, s->self_size[nodes[i]], heap);
		lh_table_cell_sb(&t, &sb);
		size_pct(&sb, s->retained_size[nodes[i]], heap);
		lh_table_cell_sb(&t, &sb);
	}
	lh_table_print(&t, out);
	lh_table_release(&t);
	more_line(out, n, total, "instances", "--top N or --all");
	strbuf_release(&sb);
}

void lh_report_diff(FILE *out, const struct lh_render_opts *o, const struct lh_diff *d,
		    const uint32_t *rows, uint32_t nrows, uint32_t total_rows)
{
	struct strbuf sb = STRBUF_INIT;
	struct lh_table t;

	if (o->json) {
		struct lh_jsonw w;

		lh_jsonw_init(&w, out, 0);
		lh_jsonw_object(&w);
		lh_jsonw_kstr(&w, "format", "leakhunt.diff/1");
		lh_jsonw_kstr(&w, "old", d->old_s->path);
		lh_jsonw_kstr(&w, "new", d->new_s->path);
		lh_jsonw_kuint(&w, "class_count", total_rows);
		lh_jsonw_key(&w, "classes");
		lh_jsonw_array(&w);
		for (uint32_t i = 0; i < nrows; i++) {
			const struct lh_diff_row *r = &d->rows[rows[i]];

			lh_jsonw_object(&w);
			lh_jsonw_kstr(&w, "name", r->name);
			lh_jsonw_kstr(&w, "key", r->key);
			lh_jsonw_kuint(&w, "new_count", r->new_count);
			lh_jsonw_kuint(&w, "deleted_count", r->deleted_count);
			lh_jsonw_kint(&w, "count_delta", lh_diff_count_delta(r));
			lh_jsonw_kuint(&w, "alloc_size", r->alloc_size);
			lh_jsonw_kuint(&w, "freed_size", r->freed_size);
			lh_jsonw_kint(&w, "size_delta", lh_diff_size_delta(r));
			lh_jsonw_end(&w);
		}
		lh_jsonw_end(&w);
		lh_jsonw_end(&w);
		lh_jsonw_finish(&w);
		return;
	}
	lh_terminal_printf(out, "%s -> %s\n\n", d->old_s->path, d->new_s->path);
	lh_table_init(&t, "Class:l*,New:r,Deleted:r,Delta:r,Alloc. size:r,Freed size:r,Size delta:r");
	t.max_width = o->width;
	for (uint32_t i = 0; i < nrows; i++) {
		const struct lh_diff_row *r = &d->rows[rows[i]];
		int64_t sd = lh_diff_size_delta(r);

		lh_table_cell(&t, "%s", r->name);
		lh_human_count(&sb, r->new_count, 0);
		lh_table_cell_sb(&t, &sb);
		lh_human_count(&sb, r->deleted_count, 0);
		lh_table_cell_sb(&t, &sb);
		lh_human_count(&sb, lh_diff_count_delta(r), 1);
		lh_table_cell_sb(&t, &sb);
		lh_human_size(&sb, (int64_t)r->alloc_size);
		lh_table_cell_sb(&t, &sb);
		lh_human_size(&sb, (int64_t)r->freed_size);
		lh_table_cell_sb(&t, &sb);
		if (sd > 0)
			strbuf_addch(&sb, '+');
		lh_human_size(&sb, sd);
		lh_table_cell_sb(&t, &sb);
	}
	lh_table_print(&t, out);
	lh_table_release(&t);
	more_line(out, nrows, total_rows, "classes", "--top N or --all");
	strbuf_release(&sb);
}

void lh_report_paths(FILE *out, const struct lh_render_opts *o, const struct lh_snapshot *s,
		     const struct lh_paths *p)
{
	struct strbuf sb = STRBUF_INIT;

	if (o->json) {
		struct lh_jsonw w;

		lh_jsonw_init(&w, out, 0);
		lh_jsonw_object(&w);
		json_file(&w, "leakhunt.paths/1", s);
		lh_jsonw_kuint(&w, "id", s->node_id[p->target]);
		lh_jsonw_key(&w, "name");
		lh_report_node_label(&sb, s, p->target);
		lh_jsonw_str(&w, sb.buf);
		strbuf_reset(&sb);
		lh_jsonw_kuint(&w, "retained_size", s->retained_size[p->target]);
		lh_jsonw_kint(&w, "distance", s->distance[p->target]);
		lh_jsonw_kbool(&w, "truncated", p->truncated);
		lh_jsonw_key(&w, "paths");
		lh_jsonw_array(&w);
		for (uint32_t i = 0; i < p->nr; i++) {
			lh_jsonw_array(&w);
			for (uint32_t h = p->first[i]; h < p->first[i + 1]; h++) {
				uint32_t e = p->hops[h].edge;

				lh_jsonw_object(&w);
				lh_jsonw_kuint(&w, "from_id", s->node_id[p->hops[h].from]);
				lh_jsonw_key(&w, "from");
				lh_report_node_label(&sb, s, p->hops[h].from);
				lh_jsonw_str(&w, sb.buf);
				strbuf_reset(&sb);
				lh_jsonw_kstr(&w, "edge_type", lh_report_edge_type(s, e));
				lh_jsonw_key(&w, "edge_name");
				if (lh_edge_is_indexed(s->edge_type[e]))
					lh_jsonw_uint(&w, s->edge_name[e]);
				else
					lh_jsonw_str(&w, lh_snapshot_str(s, s->edge_name[e]));
				lh_jsonw_kuint(&w, "to_id", s->node_id[s->edge_to[e]]);
				lh_jsonw_end(&w);
			}
			lh_jsonw_end(&w);
		}
		lh_jsonw_end(&w);
		lh_jsonw_end(&w);
		lh_jsonw_finish(&w);
		strbuf_release(&sb);
		return;
	}
	lh_report_node_label(&sb, s, p->target);
	lh_terminal_printf(out, "%s: retained ", sb.buf);
	strbuf_reset(&sb);
	lh_human_size(&sb, (int64_t)s->retained_size[p->target]);
	fprintf(out, "%s, distance ", sb.buf);
	strbuf_reset(&sb);
	lh_report_distance(&sb, s->distance[p->target]);
	fprintf(out, "%s\n", sb.buf);
	strbuf_reset(&sb);
	if (!p->nr && p->truncated) {
		fprintf(out, "\nno retainer path found before the search stopped; --max-visits raises the limit\n");
		strbuf_release(&sb);
		return;
	}
	if (!p->nr) {
		fprintf(out, "\nno retainer path from the GC roots: the object is unreachable and the next GC frees it\n");
		strbuf_release(&sb);
		return;
	}
	for (uint32_t i = 0; i < p->nr; i++) {
		fprintf(out, "\npath %u (%u steps):\n", i + 1, p->first[i + 1] - p->first[i]);
		for (uint32_t h = p->first[i]; h < p->first[i + 1]; h++) {
			uint32_t e = p->hops[h].edge;

			if (h == p->first[i]) {
				lh_report_node_label(&sb, s, p->hops[h].from);
				lh_terminal_printf(out, "  %s\n", sb.buf);
				strbuf_reset(&sb);
			}
			if (lh_edge_is_indexed(s->edge_type[e]))
				strbuf_addf(&sb, "[%u]", s->edge_name[e]);
			else
				strbuf_addstr(&sb, lh_snapshot_str(s, s->edge_name[e]));
			strbuf_addf(&sb, " (%s)--> ", lh_report_edge_type(s, e));
			lh_report_node_label(&sb, s, s->edge_to[e]);
			lh_terminal_printf(out, "    --%s\n", sb.buf);
			strbuf_reset(&sb);
		}
	}
	if (p->truncated)
		fprintf(out, "\n(search stopped early; --max-visits raises the limit)\n");
	strbuf_release(&sb);
}

void lh_report_census(FILE *out, const struct lh_render_opts *o, const struct lh_snapshot *s,
		      const struct lh_census *c, uint32_t top)
{
	uint32_t n = top < c->nr ? top : c->nr, nprops = 0;
	struct lh_census_row *rows = lh_xcalloc(n ? n : 1, sizeof(*rows));
	const char **names, **next;
	char (*ids)[16] = lh_xcalloc(n ? n : 1, sizeof(*ids));
	struct lh_census_view v = { s->path, "heapsnapshot", c->objects, c->nr, rows, n };

	for (uint32_t i = 0; i < n; i++)
		nprops += c->groups[i].nprops;
	names = next = lh_xcalloc(nprops ? nprops : 1, sizeof(*names));
	for (uint32_t i = 0; i < n; i++) {
		const struct lh_census_group *g = &c->groups[i];

		for (uint32_t k = 0; k < g->nprops; k++)
			next[k] = lh_snapshot_str(s, g->props[k]);
		snprintf(ids[i], sizeof(ids[i]), "@%u", s->node_id[g->representative]);
		rows[i] = (struct lh_census_row){ lh_snapshot_str(s, g->ctor), next, g->nprops, g->count,
						  g->shallow_size, ids[i], s->node_id[g->representative] };
		next += g->nprops;
	}
	lh_report_census_view(out, o, &v);
	free(names);
	free(ids);
	free(rows);
}

void lh_report_census_view(FILE *out, const struct lh_render_opts *o, const struct lh_census_view *v)
{
	struct strbuf sb = STRBUF_INIT;
	struct lh_table t;

	if (o->json) {
		struct lh_jsonw w;

		lh_jsonw_init(&w, out, 0);
		lh_jsonw_object(&w);
		lh_jsonw_kstr(&w, "format", "leakhunt.objects/1");
		lh_jsonw_kstr(&w, "file", v->file);
		lh_jsonw_kstr(&w, "source", v->source);
		lh_jsonw_kuint(&w, "object_count", v->objects);
		lh_jsonw_kuint(&w, "group_count", v->ngroups);
		lh_jsonw_key(&w, "groups");
		lh_jsonw_array(&w);
		for (uint32_t i = 0; i < v->nrows; i++) {
			const struct lh_census_row *g = &v->rows[i];

			lh_jsonw_object(&w);
			lh_jsonw_kstr(&w, "constructor", g->ctor);
			lh_jsonw_kuint(&w, "count", g->count);
			lh_jsonw_kuint(&w, "property_count", g->nprops);
			lh_jsonw_kuint(&w, "shallow_size", g->shallow_size);
			lh_jsonw_kstr(&w, "representative", g->representative);
			if (g->representative_id >= 0) {
				lh_jsonw_kuint(&w, "representative_id", (uint64_t)g->representative_id);
			}
			lh_jsonw_key(&w, "properties");
			lh_jsonw_array(&w);
			for (uint32_t k = 0; k < g->nprops; k++)
				lh_jsonw_str(&w, g->props[k]);
			lh_jsonw_end(&w);
			lh_jsonw_end(&w);
		}
		lh_jsonw_end(&w);
		lh_jsonw_end(&w);
		lh_jsonw_finish(&w);
		return;
	}
	lh_terminal_printf(out, "%s: %llu objects in %u groups by constructor and properties\n\n", v->file,
		(unsigned long long)v->objects, v->ngroups);
	lh_table_init(&t, "Count:r,Props:r,Shallow size:r,Example:l,Constructor and properties:l*");
	t.max_width = o->width;
	for (uint32_t i = 0; i < v->nrows; i++) {
		const struct lh_census_row *g = &v->rows[i];

		lh_human_count(&sb, g->count, 0);
		lh_table_cell_sb(&t, &sb);
		lh_table_cell(&t, "%u", g->nprops);
		lh_human_size(&sb, (int64_t)g->shallow_size);
		lh_table_cell_sb(&t, &sb);
		lh_table_cell(&t, "%s", g->representative);
		strbuf_addstr(&sb, g->ctor);
		if (g->nprops) {
			strbuf_addstr(&sb, ": ");
			for (uint32_t k = 0; k < g->nprops && k < 8; k++)
				strbuf_addf(&sb, "%s%s", k ? ", " : "", g->props[k]);
			if (g->nprops > 8)
				strbuf_addstr(&sb, ", ...");
		}
		lh_table_cell_sb(&t, &sb);
	}
	lh_table_print(&t, out);
	lh_table_release(&t);
	more_line(out, v->nrows, v->ngroups, "groups", "--top N or --all");
	strbuf_release(&sb);
}

void lh_report_refs(FILE *out, const struct lh_render_opts *o, const struct lh_snapshot *s, uint32_t node)
{
	uint32_t lo = s->first_retainer[node], hi = s->first_retainer[node + 1];
	struct strbuf sb = STRBUF_INIT;
	struct lh_table t;

	if (o->json) {
		struct lh_jsonw w;

		lh_jsonw_init(&w, out, 0);
		lh_jsonw_object(&w);
		json_file(&w, "leakhunt.refs/1", s);
		lh_jsonw_kuint(&w, "id", s->node_id[node]);
		lh_jsonw_key(&w, "refs");
		lh_jsonw_array(&w);
		for (uint32_t k = lo; k < hi; k++) {
			uint32_t e = s->retainer_edge[k], from = s->retainer_node[k];

			lh_jsonw_object(&w);
			lh_jsonw_kuint(&w, "from_id", s->node_id[from]);
			lh_jsonw_key(&w, "from");
			lh_report_node_label(&sb, s, from);
			lh_jsonw_str(&w, sb.buf);
			strbuf_reset(&sb);
			lh_jsonw_kstr(&w, "edge_type", lh_report_edge_type(s, e));
			lh_jsonw_key(&w, "edge_name");
			if (lh_edge_is_indexed(s->edge_type[e]))
				lh_jsonw_uint(&w, s->edge_name[e]);
			else
				lh_jsonw_str(&w, lh_snapshot_str(s, s->edge_name[e]));
			lh_jsonw_kint(&w, "distance", s->distance[from]);
			lh_jsonw_end(&w);
		}
		lh_jsonw_end(&w);
		lh_jsonw_end(&w);
		lh_jsonw_finish(&w);
		strbuf_release(&sb);
		return;
	}
	lh_report_node_label(&sb, s, node);
	lh_terminal_printf(out, "%s is referenced by %u edges\n\n", sb.buf, hi - lo);
	strbuf_reset(&sb);
	lh_table_init(&t, "Referrer:l*,Edge:l,Type:l,Distance:r");
	t.max_width = o->width;
	for (uint32_t k = lo; k < hi; k++) {
		uint32_t e = s->retainer_edge[k], from = s->retainer_node[k];

		lh_report_node_label(&sb, s, from);
		lh_table_cell_sb(&t, &sb);
		lh_report_edge_label(&sb, s, e);
		lh_table_cell_sb(&t, &sb);
		lh_table_cell(&t, "%s", lh_report_edge_type(s, e));
		lh_report_distance(&sb, s->distance[from]);
		lh_table_cell_sb(&t, &sb);
	}
	lh_table_print(&t, out);
	lh_table_release(&t);
	strbuf_release(&sb);
}

void lh_report_stats(FILE *out, const struct lh_render_opts *o, const struct lh_snapshot *s)
{
	struct lh_statistics st;
	struct strbuf sb = STRBUF_INIT;
	struct lh_table t;

	lh_snapshot_statistics(s, &st);
	const struct {
		const char *key, *label;
		uint64_t v;
	} rows[] = {
		{ "code", "Code", st.code },
		{ "strings", "Strings", st.strings },
		{ "js_arrays", "JS arrays", st.js_arrays },
		{ "typed_arrays", "Typed arrays", st.typed_arrays },
		{ "system", "System objects", st.system },
		{ "other", "Other", st.other },
		{ "total", "Total", st.total },
	};
	const int nrows = (int)(sizeof(rows) / sizeof(rows[0]));

	if (o->json) {
		struct lh_jsonw w;

		lh_jsonw_init(&w, out, 0);
		lh_jsonw_object(&w);
		json_file(&w, "leakhunt.stats/1", s);
		lh_jsonw_kuint(&w, "file_size", s->file_size);
		lh_jsonw_kuint(&w, "node_count", s->node_count);
		lh_jsonw_kuint(&w, "edge_count", s->edge_count);
		lh_jsonw_kuint(&w, "string_count", s->string_count);
		lh_jsonw_kuint(&w, "location_count", s->location_count);
		lh_jsonw_kuint(&w, "extra_native_bytes", s->extra_native_bytes);
		lh_jsonw_key(&w, "statistics");
		lh_jsonw_object(&w);
		for (int i = 0; i < nrows; i++) {
			lh_jsonw_key(&w, rows[i].key);
			lh_jsonw_uint(&w, rows[i].v);
		}
		lh_jsonw_end(&w);
		lh_jsonw_end(&w);
		lh_jsonw_finish(&w);
		return;
	}
	lh_terminal_printf(out, "%s: ", s->path);
	lh_human_size(&sb, (int64_t)s->file_size);
	strbuf_addstr(&sb, ", ");
	lh_human_count(&sb, s->node_count, 0);
	strbuf_addstr(&sb, " nodes, ");
	lh_human_count(&sb, s->edge_count, 0);
	strbuf_addstr(&sb, " edges, ");
	lh_human_count(&sb, s->string_count, 0);
	strbuf_addstr(&sb, " strings");
	fprintf(out, "%s\n\n", sb.buf);
	strbuf_reset(&sb);
	lh_table_init(&t, "Kind:l,Size:r,Share:r");
	for (int i = 0; i < nrows; i++) {
		lh_table_cell(&t, "%s", rows[i].label);
		lh_human_size(&sb, (int64_t)rows[i].v);
		lh_table_cell_sb(&t, &sb);
		lh_table_cell(&t, "%u%%", st.total ? (unsigned)(rows[i].v * 100 / st.total) : 0);
	}
	lh_table_print(&t, out);
	lh_table_release(&t);
	strbuf_release(&sb);
}
