/*
 * libFuzzer target for the heap snapshot loader (src/snapshot/load.c).
 *
 * Each input is parsed twice, with two threads and with one, and the two must
 * agree: both fail, or both succeed with the same arrays.  That turns a
 * difference between the forward and the backward "edges" parsers into a
 * crash the fuzzer can find, besides the memory errors ASan finds.  A failure
 * must leave a message with the file name and "(at byte N)", since that is
 * what the loader promises its callers.
 *
 * The input is copied into a buffer of exactly its size, so ASan sees any
 * read past the end, as it would past the end of a mapped file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "snapshot/snapshot.h"

#define SAME(field, n) (!(n) || !memcmp(a->field, b->field, (size_t)(n) * sizeof(*a->field)))

static int same_snapshot(const struct lh_snapshot *a, const struct lh_snapshot *b)
{
	uint32_t nn = a->node_count, ne = a->edge_count;

	if (nn != b->node_count || ne != b->edge_count || a->string_count != b->string_count ||
	    a->location_count != b->location_count || a->root != b->root)
		return 0;
	return SAME(node_type, nn) && SAME(node_name, nn) && SAME(node_id, nn) && SAME(node_self_size, nn) &&
	       SAME(node_detachedness, nn) && SAME(first_edge, nn + 1) && SAME(edge_type, ne) &&
	       SAME(edge_name, ne) && SAME(edge_to, ne) && SAME(string_off, a->string_count + 1) &&
	       !memcmp(a->string_pool, b->string_pool, a->string_off[a->string_count]) &&
	       SAME(locations, a->location_count);
}

/*
 * What every caller relies on without checking: indexes in range, offsets in
 * order, type names present.  A loader that let one of these through would
 * crash the analyses later, far from the cause.
 */
static void check_invariants(const struct lh_snapshot *s)
{
	uint32_t i;

	if (!s->node_count || s->root >= s->node_count || s->first_edge[0] ||
	    s->first_edge[s->node_count] != s->edge_count || s->string_off[0])
		abort();
	for (i = 0; i < s->node_count; i++) {
		if (s->first_edge[i] > s->first_edge[i + 1] || s->node_name[i] >= s->string_count ||
		    s->node_type[i] >= s->node_type_count || !s->node_type_names[s->node_type[i]])
			abort();
	}
	for (i = 0; i < s->edge_count; i++) {
		if (s->edge_to[i] >= s->node_count || s->edge_type[i] >= s->edge_type_count ||
		    !s->edge_type_names[s->edge_type[i]] ||
		    (!lh_edge_is_indexed(s->edge_type[i]) && s->edge_name[i] >= s->string_count))
			abort();
	}
	for (i = 0; i < s->string_count; i++) {
		if (s->string_off[i] >= s->string_off[i + 1] || s->string_pool[s->string_off[i + 1] - 1])
			abort();
	}
	for (i = 0; i < s->location_count; i++) {
		if (s->locations[i].node >= s->node_count || (i && s->locations[i - 1].node > s->locations[i].node))
			abort();
	}
}

/* The message must name the file and a byte offset; it is one line per error. */
static void check_message(const struct strbuf *msg)
{
	if (!strstr(msg->buf, "cannot read 'fuzz': ") || !strstr(msg->buf, "(at byte ")) {
		fprintf(stderr, "bad error message: %s\n", msg->buf);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf msg = STRBUF_INIT;
	struct lh_snapshot *a, *b;
	char *copy = malloc(size ? size : 1);

	memcpy(copy, data, size);
	lh_error_capture(&msg);
	a = lh_snapshot_parse("fuzz", copy, size, 0);
	if (!a)
		check_message(&msg);
	strbuf_reset(&msg);
	b = lh_snapshot_parse("fuzz", copy, size, LH_LOAD_NO_THREADS);
	if (!b)
		check_message(&msg);
	lh_error_capture(NULL);
	if (!a != !b || (a && !same_snapshot(a, b))) {
		fprintf(stderr, "threaded and single-threaded parses disagree (%s / %s)\n", a ? "ok" : "failed",
			b ? "ok" : "failed");
		abort();
	}
	if (a) {
		check_invariants(a);
		lh_snapshot_build_retainers(a);
	}
	lh_snapshot_free(a);
	lh_snapshot_free(b);
	strbuf_release(&msg);
	free(copy);
	return 0;
}
