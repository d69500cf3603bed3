/*
 * Unit tests for the heap snapshot loader (src/snapshot/load.c).
 *
 * The fixtures come from test/data/make_load_fixtures.py: tiny snapshots laid
 * out the way Node writes them, each bent one way.  The pass_* ones are
 * checked value by value here; every fail_* one must fail with a message that
 * names the file and a byte offset.  A real snapshot, written by the node on
 * this machine into $LH_TMP at test time, is cut at a thousand places and
 * parsed with and without threads.  Cut copies live in buffers of exactly
 * their size, so the sanitizer build sees any read past the end.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "snapshot/snapshot.h"
#include "test.h"

static const char *data_dir(void)
{
	static char dir[4096];
	const char *top = getenv("LH_TOP");

	snprintf(dir, sizeof(dir), "%s/test/data", top ? top : ".");
	return dir;
}

static struct lh_snapshot *load_fixture(const char *name, unsigned flags)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/%s.heapsnapshot", data_dir(), name) >= (int)sizeof(path))
		return NULL;
	return lh_snapshot_load(path, flags);
}

static char *read_all(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n)
{
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = (size_t)n;
	return buf;
}

/* Parse data[0, size) from a buffer of exactly that size; msg gets the error. */
static struct lh_snapshot *parse_exact(const char *data, size_t size, unsigned flags, struct strbuf *msg)
{
	char *copy = malloc(size ? size : 1);
	struct lh_snapshot *s;

	memcpy(copy, data, size);
	strbuf_reset(msg);
	lh_error_capture(msg);
	s = lh_snapshot_parse("cut.heapsnapshot", copy, size, flags);
	lh_error_capture(NULL);
	free(copy);
	return s;
}

static int arrays_equal(const struct lh_snapshot *a, const struct lh_snapshot *b)
{
	size_t n = a->node_count, m = a->edge_count;

	return a->node_count == b->node_count && a->edge_count == b->edge_count &&
	       a->string_count == b->string_count && a->location_count == b->location_count &&
	       a->root == b->root && a->extra_native_bytes == b->extra_native_bytes &&
	       !memcmp(a->node_type, b->node_type, n) && !memcmp(a->node_name, b->node_name, n * 4) &&
	       !memcmp(a->node_id, b->node_id, n * 4) && !memcmp(a->node_self_size, b->node_self_size, n * 4) &&
	       !memcmp(a->first_edge, b->first_edge, (n + 1) * 4) && !memcmp(a->edge_type, b->edge_type, m) &&
	       !memcmp(a->edge_name, b->edge_name, m * 4) && !memcmp(a->edge_to, b->edge_to, m * 4) &&
	       !memcmp(a->string_off, b->string_off, ((size_t)a->string_count + 1) * 8) &&
	       !memcmp(a->string_pool, b->string_pool, a->string_off[a->string_count]) &&
	       (!a->location_count ||
		!memcmp(a->locations, b->locations, a->location_count * sizeof(*a->locations)));
}

/* The graph every pass_load_* fixture holds (see make_load_fixtures.py). */
static void check_minimal(const struct lh_snapshot *s, int has_detachedness)
{
	static const uint8_t type[] = { LH_NODE_SYNTHETIC, LH_NODE_OBJECT, LH_NODE_OBJECT, LH_NODE_STRING };
	static const uint32_t id[] = { 1, 3, 5, 7 }, size[] = { 0, 16, 32, 24 }, first[] = { 0, 3, 5, 6, 6 };
	static const uint8_t det[] = { 0, 1, 2, 0 };
	static const uint8_t etype[] = { LH_EDGE_ELEMENT, LH_EDGE_PROPERTY, LH_EDGE_SHORTCUT,
					 LH_EDGE_PROPERTY, LH_EDGE_WEAK, LH_EDGE_INTERNAL };
	static const uint32_t ename[] = { 1, 5, 6, 5, 6, 6 }, eto[] = { 1, 2, 3, 2, 3, 3 };

	if (!s) {
		CHECK(s);
		return;
	}
	CHECK_EQ(s->node_count, 4);
	CHECK_EQ(s->edge_count, 6);
	CHECK_EQ(s->string_count, 13);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(s->node_type[i], type[i]);
		CHECK_EQ(s->node_id[i], id[i]);
		CHECK_EQ(s->node_self_size[i], size[i]);
		CHECK_EQ(s->node_detachedness[i], has_detachedness ? det[i] : 0);
	}
	CHECK_STR(lh_node_name(s, 1), "Object");
	CHECK_STR(lh_node_name(s, 2), "Foo");
	for (int i = 0; i < 5; i++)
		CHECK_EQ(s->first_edge[i], first[i]);
	for (int i = 0; i < 6; i++) {
		CHECK_EQ(s->edge_type[i], etype[i]);
		CHECK_EQ(s->edge_name[i], ename[i]);
		CHECK_EQ(s->edge_to[i], eto[i]);
	}
	CHECK_STR(s->node_type_names[LH_NODE_SYNTHETIC], "synthetic");
	CHECK_STR(s->edge_type_names[LH_EDGE_WEAK], "weak");
}

TEST(load_minimal_snapshot)
{
	struct lh_snapshot *s = load_fixture("pass_load_minimal", 0);

	check_minimal(s, 1);
	if (s) {
		CHECK_EQ(s->root, 0);
		CHECK_EQ(s->location_count, 2);
		/* sorted by node, though V8 writes them in any order */
		CHECK_EQ(s->locations[0].node, 1);
		CHECK_EQ(s->locations[0].script_id, 3);
		CHECK_EQ(s->locations[1].node, 2);
		CHECK_EQ(s->locations[1].script_id, 12);
		CHECK_EQ(s->locations[1].line, 27);
		CHECK_EQ(s->locations[1].column, 4);
		CHECK(lh_snapshot_location(s, 2) == &s->locations[1]);
		CHECK(lh_snapshot_location(s, 0) == NULL);
	}
	lh_snapshot_free(s);
}

TEST(load_field_layout_comes_from_meta)
{
	struct lh_snapshot *s;

	s = load_fixture("pass_load_reordered_fields", 0);
	check_minimal(s, 1);
	lh_snapshot_free(s);
	s = load_fixture("pass_load_extra_field", 0);
	check_minimal(s, 1);
	lh_snapshot_free(s);
	/* six fields, no detachedness, as Node before 20 writes them */
	s = load_fixture("pass_load_no_detachedness", 0);
	check_minimal(s, 0);
	lh_snapshot_free(s);
}

TEST(load_optional_sections)
{
	struct lh_snapshot *s = load_fixture("pass_load_optional_sections", 0);

	check_minimal(s, 1);
	if (s) {
		CHECK_EQ(s->extra_native_bytes, 123456);
		CHECK_EQ(s->root, 0);
		CHECK_EQ(s->location_count, 2);
	}
	lh_snapshot_free(s);
	s = load_fixture("pass_load_no_locations", 0);
	check_minimal(s, 1);
	if (s)
		CHECK_EQ(s->location_count, 0);
	lh_snapshot_free(s);
	s = load_fixture("pass_load_whitespace", 0);
	check_minimal(s, 1);
	lh_snapshot_free(s);
	s = load_fixture("pass_load_bom", 0);
	check_minimal(s, 1);
	lh_snapshot_free(s);
	/* optional numbers that make no sense are ignored, not cast (1e300) */
	s = load_fixture("pass_load_bad_optional_numbers", 0);
	check_minimal(s, 1);
	if (s) {
		CHECK_EQ(s->extra_native_bytes, 0);
		CHECK_EQ(s->trace_function_count, 0);
	}
	lh_snapshot_free(s);
}

TEST(load_string_escapes)
{
	struct lh_snapshot *s = load_fixture("pass_load_minimal", 0);

	if (!s) {
		CHECK(s);
		return;
	}
	CHECK_STR(lh_snapshot_str(s, 0), "<dummy>");
	CHECK_STR(lh_snapshot_str(s, 1), "");
	CHECK_STR(lh_snapshot_str(s, 7), "tab\there\nnl \"q\" back\\slash / \b\f\r");
	CHECK_STR(lh_snapshot_str(s, 8), "caf\xc3\xa9 \xe2\x82\xac \x1f");
	/* a surrogate pair is one code point, U+1F600, in four bytes */
	CHECK_STR(lh_snapshot_str(s, 9), "smile \xf0\x9f\x98\x80 end");
	/* lone surrogates are kept as WTF-8, three bytes each */
	CHECK_STR(lh_snapshot_str(s, 10), "lone \xed\xa0\x80 and \xed\xb0\x80!");
	CHECK_STR(lh_snapshot_str(s, 11), "raw DEL \x7f");
	CHECK_STR(lh_snapshot_str(s, 12), "lower \xc3\xa9\xf0\x9f\x98\x80");
	CHECK_STR(lh_snapshot_str(s, 13), ""); /* out of range */
	/* string_off gives lengths, NULs excluded */
	CHECK_EQ(s->string_off[10] - s->string_off[9] - 1, strlen("smile \xf0\x9f\x98\x80 end"));
	lh_snapshot_free(s);
}

/* One string far longer than any buffer a loader might size by guess. */
TEST(load_long_string)
{
	const char *head = "{\"snapshot\":{\"meta\":{\"node_fields\":[\"type\",\"name\",\"id\",\"self_size\",\"edge_count\"],"
			   "\"node_types\":[[\"hidden\"]],\"edge_fields\":[\"type\",\"name_or_index\",\"to_node\"],"
			   "\"edge_types\":[[\"weak\"]]},\"node_count\":1,\"edge_count\":0},"
			   "\"nodes\":[0,1,1,0,0],\"edges\":[],\"strings\":[\"\",\"";
	size_t body = 8u << 20, hl = strlen(head), k;
	struct strbuf sb = STRBUF_INIT, msg = STRBUF_INIT;
	struct lh_snapshot *s;

	strbuf_add(&sb, head, hl);
	for (k = 0; k < body / 8; k++)
		strbuf_add(&sb, "ab\\u00e9\\\"", 10);
	strbuf_add(&sb, "\"]}", 3);
	s = parse_exact(sb.buf, sb.len, 0, &msg);
	CHECK(s);
	if (s) {
		const char *str = lh_snapshot_str(s, 1);

		CHECK_EQ(strlen(str), body / 8 * 5);
		CHECK(!memcmp(str, "ab\xc3\xa9\"ab", 7));
	}
	lh_snapshot_free(s);
	strbuf_release(&sb);
	strbuf_release(&msg);
}

/* Every fail_* fixture fails, naming the file and a byte offset. */
TEST(load_fail_fixtures)
{
	DIR *dir = opendir(data_dir());
	struct strbuf msg = STRBUF_INIT;
	struct dirent *de;
	int seen = 0;

	CHECK(dir);
	while (dir && (de = readdir(dir))) {
		char path[4096];
		struct lh_snapshot *s;

		if (strncmp(de->d_name, "fail_", 5) || !strstr(de->d_name, ".heapsnapshot"))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", data_dir(), de->d_name) >= (int)sizeof(path))
			continue;
		strbuf_reset(&msg);
		lh_error_capture(&msg);
		s = lh_snapshot_load(path, 0);
		lh_error_capture(NULL);
		seen++;
		if (s || !strstr(msg.buf, path) || !strstr(msg.buf, "(at byte ")) {
			fprintf(stderr, "  %s: %s\n", de->d_name, s ? "loaded" : msg.buf);
			CHECK(!"a fail_* fixture fails with file and offset");
		}
		lh_snapshot_free(s);
	}
	if (dir)
		closedir(dir);
	CHECK(seen >= 30);
	strbuf_release(&msg);
}

TEST(load_not_a_file)
{
	struct strbuf msg = STRBUF_INIT;

	lh_error_capture(&msg);
	CHECK(!lh_snapshot_load(data_dir(), 0));
	CHECK(strstr(msg.buf, "is a directory"));
	strbuf_reset(&msg);
	CHECK(!lh_snapshot_load("/nonexistent/x.heapsnapshot", 0));
	CHECK(strstr(msg.buf, "/nonexistent/x.heapsnapshot"));
	lh_error_capture(NULL);
	strbuf_release(&msg);
}

/*
 * A real snapshot of a tiny node program, written once into $LH_TMP.
 * Without node the many-edges fixture stands in (it still takes the
 * two-thread path), so the tests below never pass vacuously.
 */
/*
 * Write a snapshot of the node program js (run with node's options opts) to
 * $LH_TMP/file once; 0 when it is there.
 */
static int node_snapshot(const char *opts, const char *js, const char *file, char *path, size_t pathsz)
{
	const char *tmp = getenv("LH_TMP");
	struct stat st;

	if (snprintf(path, pathsz, "%s/%s", tmp ? tmp : "/tmp", file) >= (int)pathsz)
		return -1;
	if (stat(path, &st) && !system("command -v node >/dev/null 2>&1")) {
		char cmd[8192];

		if (snprintf(cmd, sizeof(cmd),
			     "node %s -e '%s; require(\"v8\").writeHeapSnapshot(process.argv[1] + \".part\")' '%s' &&"
			     " mv '%s.part' '%s'",
			     opts, js, path, path, path) >= (int)sizeof(cmd) ||
		    system(cmd))
			fprintf(stderr, "  could not write a snapshot with node\n");
	}
	return stat(path, &st);
}

static char *real_snapshot(size_t *size, char *path, size_t pathsz)
{
	if (node_snapshot("", "const m = new Map(); for (let i = 0; i < 200; i++)"
			  " m.set(\"k\" + i, {i, s: \"\\u00e9\\ud83d\\ude00\" + i}); globalThis.keep = m",
			  "load_test_real.heapsnapshot", path, pathsz)) {
		fprintf(stderr, "  no node: using the many-edges fixture instead of a real snapshot\n");
		if (snprintf(path, pathsz, "%s/pass_load_many_edges.heapsnapshot", data_dir()) >= (int)pathsz)
			return NULL;
	}
	return read_all(path, size);
}

TEST(load_threads_give_identical_arrays)
{
	char path[4096];
	size_t size;
	char *data = real_snapshot(&size, path, sizeof(path));
	struct lh_snapshot *a, *b, *c;

	CHECK(data);
	if (!data)
		return;
	a = lh_snapshot_load(path, 0);
	b = lh_snapshot_load(path, LH_LOAD_NO_THREADS);
	c = lh_snapshot_parse(path, data, size, 0);
	CHECK(a && b && c);
	if (a && b && c) {
		CHECK(a->node_count > 0 && a->edge_count > 0);
		CHECK(arrays_equal(a, b));
		CHECK(arrays_equal(a, c));
	}
	lh_snapshot_free(a);
	lh_snapshot_free(b);
	lh_snapshot_free(c);
	free(data);
}

static size_t find_after(const char *data, size_t size, const char *key)
{
	const char *p = memmem(data, size, key, strlen(key));

	return p ? (size_t)(p - data) : 0;
}

/*
 * Cut the real snapshot at 1000 places: evenly spread, plus every byte of the
 * header and the bytes around each section's start, where the loader changes
 * from one scanner to another.  Every cut must fail cleanly.  A few hundred of
 * them also get "]}" appended, which closes the object and so takes the cut
 * past pass 1 into the number and string parsers.
 */
TEST(load_truncated_everywhere)
{
	static const char *const keys[] = { "\"nodes\"", "\"edges\"", "\"trace_function_infos\"",
					    "\"locations\"", "\"strings\"" };
	char path[4096];
	size_t size, cuts[1000], ncut = 0, k;
	char *data = real_snapshot(&size, path, sizeof(path));
	struct strbuf msg = STRBUF_INIT, closed = STRBUF_INIT;
	int bad = 0;

	CHECK(data);
	if (!data)
		return;
	for (k = 0; k < 300 && k < size; k++)
		cuts[ncut++] = k;
	for (size_t j = 0; j < sizeof(keys) / sizeof(*keys); j++) {
		size_t at = find_after(data, size, keys[j]);

		for (k = at > 20 ? at - 20 : 0; k < at + 40 && k < size && ncut < 500; k++)
			cuts[ncut++] = k;
	}
	for (size_t left = 1000 - ncut, j = 1; j <= left; j++)
		cuts[ncut++] = (size_t)((unsigned long long)size * j / (left + 1));
	for (k = 0; k < ncut; k++) {
		size_t cut = cuts[k] < size ? cuts[k] : size - 1;
		struct lh_snapshot *s = parse_exact(data, cut, k & 1 ? 0 : LH_LOAD_NO_THREADS, &msg);

		if (s || !strstr(msg.buf, "cannot read 'cut.heapsnapshot': ") || !strstr(msg.buf, "(at byte ")) {
			if (bad++ < 5)
				fprintf(stderr, "  cut at %zu: %s\n", cut, s ? "loaded" : msg.buf);
		}
		lh_snapshot_free(s);
		if (k % 3 || cut + 2 >= size)
			continue;
		strbuf_reset(&closed);
		strbuf_add(&closed, data, cut);
		strbuf_add(&closed, "]}", 2);
		s = parse_exact(closed.buf, closed.len, k & 2 ? 0 : LH_LOAD_NO_THREADS, &msg);
		if (s || !strstr(msg.buf, "(at byte ")) {
			if (bad++ < 5)
				fprintf(stderr, "  cut at %zu + \"]}\": %s\n", cut, s ? "loaded" : msg.buf);
		}
		lh_snapshot_free(s);
	}
	CHECK_EQ(ncut, 1000);
	CHECK_EQ(bad, 0);
	/* and uncut it loads */
	{
		struct lh_snapshot *s = parse_exact(data, size, 0, &msg);

		CHECK(s);
		lh_snapshot_free(s);
	}
	strbuf_release(&msg);
	strbuf_release(&closed);
	free(data);
}

/*
 * Out of memory at every step: load the real snapshot in children whose
 * address space is capped a little above what they already use, the cap
 * growing 64 KiB at a time until the load succeeds.  Each child must either
 * load, or fail with the loader's "out of memory" message (the big arrays),
 * or exit through lh_die()'s message (small allocations): never a signal.
 * A tight cap also makes pthread_create fail, which must fall back to one
 * thread.  Not under ASan, which needs its huge shadow address space.
 */
#if defined(__SANITIZE_ADDRESS__)
#define LH_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LH_UNDER_ASAN 1
#endif
#endif

#ifndef LH_UNDER_ASAN
static size_t address_space_now(void)
{
	unsigned long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}
#endif

TEST(load_out_of_memory)
{
#ifdef LH_UNDER_ASAN
	fprintf(stderr, "  skipped under ASan\n");
#else
	char path[4096];
	size_t size, margin;
	char *data = real_snapshot(&size, path, sizeof(path));
	int loaded = 0, oom = 0, died = 0, bad = 0;

	CHECK(data);
	if (!data)
		return;
	for (margin = 0; margin <= (256u << 20) && !loaded; margin += 64u << 10) {
		int status;
		pid_t pid;

		fflush(stderr);
		pid = fork();
		if (!pid) {
			struct strbuf msg = STRBUF_INIT;
			struct rlimit r;
			struct lh_snapshot *s;

			if (!freopen("/dev/null", "w", stderr))
				_exit(5);
			strbuf_grow(&msg, 4096); /* so the message itself fits under the cap */
			r.rlim_cur = r.rlim_max = address_space_now() + margin;
			setrlimit(RLIMIT_AS, &r);
			lh_error_capture(&msg);
			s = lh_snapshot_parse(path, data, size, 0);
			_exit(s ? 0 : strstr(msg.buf, "out of memory") ? 3 : 4);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid) {
			CHECK(!"fork");
			break;
		}
		if (WIFSIGNALED(status) || WEXITSTATUS(status) >= 4) {
			if (bad++ < 3)
				fprintf(stderr, "  margin %zu: %s %d\n", margin,
					WIFSIGNALED(status) ? "signal" : "exit", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		} else if (WEXITSTATUS(status) == 0) {
			loaded = 1;
		} else if (WEXITSTATUS(status) == 3) {
			oom++;
		} else {
			died++;
		}
	}
	fprintf(stderr, "  %d out-of-memory errors, %d exits through lh_die, loaded at %zu KiB over\n", oom, died,
		margin >> 10);
	CHECK(loaded);
	CHECK(oom > 0);
	CHECK_EQ(bad, 0);
	free(data);
#endif
}

/* data with bytes [at, at + cut) replaced by ins */
static void splice(struct strbuf *out, const char *data, size_t size, size_t at, size_t cut, const char *ins)
{
	strbuf_reset(out);
	strbuf_add(out, data, at);
	strbuf_add(out, ins, strlen(ins));
	strbuf_add(out, data + at + cut, size - at - cut);
}

/*
 * Damage near the end of "edges", which the second thread reads backwards:
 * both ways of parsing must find the same kind of fault.  A missing number
 * shifts every field the backward parser sees, so it first trips over a
 * value; the loader must still call it a count mismatch.
 */
TEST(load_edges_damage_seen_by_both_threads)
{
	char path[4096];
	size_t size, end, last;
	char *data = real_snapshot(&size, path, sizeof(path));
	struct strbuf msg = STRBUF_INIT, bad = STRBUF_INIT, first = STRBUF_INIT;
	struct lh_snapshot *s;

	CHECK(data);
	if (!data)
		return;
	end = find_after(data, size, "\"trace_function_infos\"");
	if (!end)
		end = find_after(data, size, "\"strings\"");
	while (end > 0 && data[end] != ']')
		end--;
	last = end;
	while (last > 0 && data[last - 1] != ',')
		last--;
	CHECK(last > 0 && end > last);
	for (int threads = 0; threads < 2; threads++) {
		unsigned flags = threads ? 0 : LH_LOAD_NO_THREADS;

		/* the last to_node far past the nodes (a multiple of 7 and of 6) */
		splice(&bad, data, size, last, end - last, "4200000000");
		s = parse_exact(bad.buf, bad.len, flags, &msg);
		CHECK(!s && strstr(msg.buf, "points past the nodes"));
		lh_snapshot_free(s);
		/* the same message, byte offset included, from either direction */
		if (!threads)
			strbuf_addstr(&first, msg.buf);
		else
			CHECK_STR(msg.buf, first.buf);
		/* one number fewer */
		splice(&bad, data, size, last - 1, end - last + 1, "");
		s = parse_exact(bad.buf, bad.len, flags, &msg);
		CHECK(!s && strstr(msg.buf, "the counts disagree"));
		lh_snapshot_free(s);
		/* one number more */
		splice(&bad, data, size, end, 0, ",0");
		s = parse_exact(bad.buf, bad.len, flags, &msg);
		CHECK(!s && strstr(msg.buf, "the counts disagree"));
		lh_snapshot_free(s);
		/* one edge fewer: no field shifts, only the count is off */
		{
			size_t prev = last - 1;
			int commas = 0;

			while (prev > 0 && commas < 3)
				if (data[--prev] == ',')
					commas++;
			splice(&bad, data, size, prev, end - prev, "");
			s = parse_exact(bad.buf, bad.len, flags, &msg);
			CHECK(!s && strstr(msg.buf, "the counts disagree"));
			lh_snapshot_free(s);
		}
		if (lh_test_failures) {
			fprintf(stderr, "  with%s threads: %s\n", threads ? "" : "out", msg.buf);
			break;
		}
	}
	strbuf_release(&msg);
	strbuf_release(&bad);
	strbuf_release(&first);
	free(data);
}

/*
 * A 20 MB snapshot, big enough that both threads give pages back while they
 * parse (every 8 MiB): load it through the mapping with and without threads,
 * then load copies cut at a few places, so the error paths run with pages
 * already dropped.
 */
TEST(load_big_snapshot_through_the_mapping)
{
	char path[4096], cut_path[4200];
	size_t size;
	char *data;
	struct lh_snapshot *a, *b;
	struct strbuf msg = STRBUF_INIT;

	if (node_snapshot("", "const a = []; for (let i = 0; i < 100000; i++) a.push({i, s: \"x\" + i});"
			  " globalThis.keep = a",
			  "load_test_big.heapsnapshot", path, sizeof(path))) {
		fprintf(stderr, "  skipped: no node to write a snapshot\n");
		return;
	}
	a = lh_snapshot_load(path, 0);
	b = lh_snapshot_load(path, LH_LOAD_NO_THREADS);
	CHECK(a && b);
	if (a && b) {
		CHECK(a->node_count > 100000);
		CHECK(arrays_equal(a, b));
	}
	lh_snapshot_free(a);
	lh_snapshot_free(b);
	data = read_all(path, &size);
	CHECK(data);
	for (int k = 1; data && k < 8; k++) {
		size_t cut = size / 8 * (size_t)k;
		FILE *f;

		snprintf(cut_path, sizeof(cut_path), "%s.cut", path);
		f = fopen(cut_path, "wb");
		CHECK(f && fwrite(data, 1, cut, f) == cut);
		if (f)
			fclose(f);
		/* and a zero-filled tail, as a preallocating writer leaves it */
		if (k == 7 && truncate(cut_path, (off_t)size))
			CHECK(!"truncate");
		lh_error_capture(&msg);
		strbuf_reset(&msg);
		a = lh_snapshot_load(cut_path, k & 1 ? 0 : LH_LOAD_NO_THREADS);
		lh_error_capture(NULL);
		CHECK(!a && strstr(msg.buf, cut_path) && strstr(msg.buf, "(at byte "));
		if (k == 7)
			CHECK(strstr(msg.buf, "zero bytes"));
		lh_snapshot_free(a);
	}
	unlink(cut_path);
	free(data);
	strbuf_release(&msg);
}

/*
 * With allocation tracking node fills trace_function_infos and trace_tree
 * (nested as deep as the allocation stacks, up to V8's 64 frames), which the
 * loader must skip over, and says so in trace_function_count.
 */
TEST(load_snapshot_with_allocation_traces)
{
	char path[4096];
	struct lh_snapshot *a, *b;

	if (node_snapshot("--track-heap-objects",
			  "globalThis.keep = []; function rec(n) { if (!n) { for (let i = 0; i < 10; i++)"
			  " keep.push({i}); return; } rec(n - 1); } rec(200)",
			  "load_test_traced.heapsnapshot", path, sizeof(path))) {
		fprintf(stderr, "  skipped: no node to write a snapshot\n");
		return;
	}
	a = lh_snapshot_load(path, 0);
	b = lh_snapshot_load(path, LH_LOAD_NO_THREADS);
	CHECK(a && b);
	if (a && b) {
		CHECK(a->trace_function_count > 0);
		CHECK(arrays_equal(a, b));
	}
	lh_snapshot_free(a);
	lh_snapshot_free(b);
}

/* Offset of number k (from 0) of the numeric array that starts after key's '[' (0 if none). */
static size_t nth_number_at(const char *data, size_t size, const char *key, uint64_t k)
{
	size_t i = find_after(data, size, key);

	if (!i)
		return 0;
	while (i < size && data[i] != '[')
		i++;
	for (i++; i < size && k; i++)
		if (data[i] == ',')
			k--;
	while (i < size && (data[i] == '\n' || data[i] == ' '))
		i++;
	return i < size ? i : 0;
}

/* Replace the number at off with ins; returns the message of the failed parse, or "" if it loaded. */
static const char *damaged(struct strbuf *bad, struct strbuf *msg, const char *data, size_t size, size_t off,
			   const char *ins, unsigned flags, struct lh_snapshot **loaded)
{
	size_t len = 0;
	struct lh_snapshot *s;

	while (off + len < size && data[off + len] >= '0' && data[off + len] <= '9')
		len++;
	splice(bad, data, size, off, len, ins);
	s = parse_exact(bad->buf, bad->len, flags, msg);
	if (loaded)
		*loaded = s;
	else
		lh_snapshot_free(s);
	return s ? "" : msg->buf;
}

/*
 * The loader reads the big arrays in batches of a few thousand numbers and
 * parses a batch again number by number when anything in it is unusual.  A bad
 * value in the middle of a batch, in each array and from both directions,
 * must be reported with its own byte offset; unusual but valid numbers there
 * (10 digits, white space around them) must load as they are.
 */
TEST(load_unusual_numbers_inside_a_batch)
{
	char path[4096], want[128];
	size_t size, off;
	char *data = real_snapshot(&size, path, sizeof(path));
	struct strbuf msg = STRBUF_INIT, bad = STRBUF_INIT;
	struct lh_snapshot *orig, *s;

	CHECK(data);
	if (!data)
		return;
	orig = lh_snapshot_parse(path, data, size, 0);
	CHECK(orig && orig->node_count > 6000 && orig->edge_count > 12000 && orig->location_count > 20);
	if (!orig)
		goto out;
	for (int threads = 0; threads < 2; threads++) {
		unsigned flags = threads ? 0 : LH_LOAD_NO_THREADS;
		uint32_t back = orig->edge_count - 3000; /* in the part read backwards */

		/* node 3000's type (the layout is Node's: type first, 7 fields) */
		off = nth_number_at(data, size, "\"nodes\"", 3000 * 7);
		snprintf(want, sizeof(want), "node 3000 has type 99, but snapshot.meta declares 16 node types (at byte %zu)", off);
		CHECK(strstr(damaged(&bad, &msg, data, size, off, "99", flags, NULL), want));
		/* to_node of edge 4000, and of one near the end */
		off = nth_number_at(data, size, "\"edges\"", 4000 * 3 + 2);
		snprintf(want, sizeof(want), "edge 4000's to_node 8 is not a multiple of the node field count 7 (at byte %zu)", off);
		CHECK(strstr(damaged(&bad, &msg, data, size, off, "8", flags, NULL), want));
		off = nth_number_at(data, size, "\"edges\"", (uint64_t)back * 3 + 2);
		snprintf(want, sizeof(want), "edge %u's to_node 8 is not a multiple of the node field count 7 (at byte %zu)", back, off);
		CHECK(strstr(damaged(&bad, &msg, data, size, off, "8", flags, NULL), want));
		/* object_index of location 20 (the offset is the entry's last number's: it is checked whole) */
		off = nth_number_at(data, size, "\"locations\"", 20 * 4);
		{
			size_t last = nth_number_at(data, size, "\"locations\"", 20 * 4 + 3), cut = 1;

			while (data[off + cut] >= '0' && data[off + cut] <= '9')
				cut++;
			/* "5" replaces the number: what follows moves by its length less one */
			snprintf(want, sizeof(want), "location 20 names object_index 5, which is not a node (at byte %zu)",
				 last - (cut - 1));
			CHECK(strstr(damaged(&bad, &msg, data, size, off, "5", flags, NULL), want));
		}

		/* a 10-digit id (as embedder nodes have) and padded numbers load as written */
		off = nth_number_at(data, size, "\"nodes\"", 2000 * 7 + 2);
		CHECK_STR(damaged(&bad, &msg, data, size, off, "4000000001", flags, &s), "");
		CHECK(s && s->node_id[2000] == 4000000001u && s->node_id[2001] == orig->node_id[2001]);
		lh_snapshot_free(s);
		off = nth_number_at(data, size, "\"edges\"", 5000 * 3 + 1);
		snprintf(want, sizeof(want), " \r\n%u \n", orig->edge_name[5000]);
		CHECK_STR(damaged(&bad, &msg, data, size, off, want, flags, &s), "");
		CHECK(s && arrays_equal(s, orig));
		lh_snapshot_free(s);
		off = nth_number_at(data, size, "\"edges\"", (uint64_t)back * 3 + 1);
		snprintf(want, sizeof(want), "%u\t", orig->edge_name[back]);
		CHECK_STR(damaged(&bad, &msg, data, size, off, want, flags, &s), "");
		CHECK(s && arrays_equal(s, orig));
		lh_snapshot_free(s);
		if (lh_test_failures) {
			fprintf(stderr, "  with%s threads: %s\n", threads ? "" : "out", msg.buf);
			break;
		}
	}
out:
	lh_snapshot_free(orig);
	strbuf_release(&msg);
	strbuf_release(&bad);
	free(data);
}
