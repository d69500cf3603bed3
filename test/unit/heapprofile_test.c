/*
 * Unit tests for inspect/heapprofile.c on hand-built profiles: self and
 * total sizes (a recursive function's bytes counted once per stack), the
 * order by self size, 1-based lines, the {"profile":...} wrapper, sample
 * counts per function, and inputs that are not profiles.
 */
#include <stdlib.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "inspect/heapprofile.h"
#include "test.h"

#define CF(name, line) "\"callFrame\":{\"functionName\":\"" name "\",\"scriptId\":\"1\"," \
	"\"url\":\"file:///app.js\",\"lineNumber\":" #line ",\"columnNumber\":4}"

/* root -> a(100) -> b(50) -> a(30);  root -> c(0) -> b(20) */
static const char profile[] =
	"{\"head\":{\"callFrame\":{\"functionName\":\"(root)\",\"scriptId\":\"0\",\"url\":\"\","
	"\"lineNumber\":-1,\"columnNumber\":-1},\"selfSize\":0,\"id\":1,\"children\":["
	"{" CF("a", 9) ",\"selfSize\":100,\"id\":2,\"children\":["
	"{" CF("b", 19) ",\"selfSize\":50,\"id\":3,\"children\":["
	"{" CF("a", 9) ",\"selfSize\":30,\"id\":4,\"children\":[]}]}]},"
	"{" CF("c", 29) ",\"selfSize\":0,\"id\":5,\"children\":["
	"{" CF("b", 19) ",\"selfSize\":20,\"id\":6,\"children\":[]}]}]},"
	"\"samples\":[{\"size\":100,\"nodeId\":2,\"ordinal\":1},{\"size\":50,\"nodeId\":3,\"ordinal\":2},"
	"{\"size\":30,\"nodeId\":4,\"ordinal\":3},{\"size\":20,\"nodeId\":6,\"ordinal\":4}]}";

static const struct lh_heapprofile_func *find(const struct lh_heapprofile *p, const char *name)
{
	for (uint32_t f = 0; f < p->nfuncs; f++)
		if (!strcmp(p->funcs[f].name, name))
			return &p->funcs[f];
	return NULL;
}

TEST(heapprofile_self_total_recursion)
{
	struct lh_heapprofile p;
	const struct lh_heapprofile_func *a, *b, *c;
	uint32_t n, *order;

	CHECK_EQ(lh_heapprofile_load(&p, profile, sizeof(profile) - 1, "test"), 0);
	CHECK_EQ(p.nnodes, 6);
	CHECK_EQ(p.nfuncs, 4);
	CHECK_EQ(p.total, 200);
	CHECK_EQ(p.nsamples, 4);
	a = find(&p, "a");
	b = find(&p, "b");
	c = find(&p, "c");
	CHECK(a && b && c);
	if (a && b && c) {
		CHECK_EQ(a->self, 130);
		CHECK_EQ(a->total, 180); /* not 210: the inner a is inside the outer one */
		CHECK_EQ(b->self, 70);
		CHECK_EQ(b->total, 100);
		CHECK_EQ(c->self, 0);
		CHECK_EQ(c->total, 20);
		CHECK_EQ(a->samples, 2);
		CHECK_EQ(b->samples, 2);
		CHECK_EQ(a->line, 10);
		CHECK_EQ(a->column, 5);
		CHECK(!strcmp(a->url, "file:///app.js"));
	}
	order = lh_heapprofile_by_self(&p, &n);
	CHECK_EQ(n, 3); /* (root) left out */
	if (n == 3) {
		CHECK(!strcmp(p.funcs[order[0]].name, "a"));
		CHECK(!strcmp(p.funcs[order[1]].name, "b"));
		CHECK(!strcmp(p.funcs[order[2]].name, "c"));
	}
	free(order);
	/* pre-order: every parent before its children */
	for (uint32_t i = 1; i < p.nnodes; i++)
		CHECK(p.parent[i] < i);
	lh_heapprofile_release(&p);
}

TEST(heapprofile_wrapped_and_errors)
{
	struct lh_heapprofile p;
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;

	strbuf_addf(&sb, "{\"profile\":%s}", profile);
	CHECK_EQ(lh_heapprofile_load(&p, sb.buf, sb.len, "test"), 0);
	CHECK_EQ(p.total, 200);
	lh_heapprofile_release(&p);

	lh_error_capture(&err);
	CHECK_EQ(lh_heapprofile_load(&p, "{\"nodes\":[]}", 12, "'x.cpuprofile'"), -1);
	lh_heapprofile_release(&p);
	CHECK(strstr(err.buf, "'x.cpuprofile'") && strstr(err.buf, "no \"head\""));
	strbuf_reset(&err);
	CHECK_EQ(lh_heapprofile_load(&p, "{\"head\":", 8, "'cut'"), -1);
	lh_heapprofile_release(&p);
	CHECK(strstr(err.buf, "not JSON"));
	strbuf_reset(&err);
	CHECK_EQ(lh_heapprofile_load(&p, "{\"head\":{\"selfSize\":1}}", 23, "'odd'"), -1);
	lh_heapprofile_release(&p);
	CHECK(strstr(err.buf, "no callFrame"));
	lh_error_capture(NULL);
	strbuf_release(&err);
	strbuf_release(&sb);
}
