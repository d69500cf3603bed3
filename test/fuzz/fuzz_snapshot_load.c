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
	lh_snapshot_free(a);
	lh_snapshot_free(b);
	strbuf_release(&msg);
	free(copy);
	return 0;
}
