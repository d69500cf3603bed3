/*
 * The scope index behind `leakhunt record`'s inlined frames
 * (src/native/symbolize.c) against libdw's own dwarf_getscopes and
 * dwarf_getscopes_die, on this test binary: built -O2 -g, its inlines are
 * many (static helpers, ALLOC_GROW, strbuf).  By hand, when the index was
 * written: libc's and ld.so's debug files, libpython 3.11 and node, 0
 * differences.
 */
#include <limits.h>
#include <stdint.h>
#include <unistd.h>

#include "native/symbolize.h"
#include "test.h"

TEST(symbolize_scopes_match_libdw)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	uint64_t checked = 0, differed = 0;

	CHECK(n > 0);
	if (n <= 0)
		return;
	self[n] = 0;
	CHECK_EQ(lh_symbolize_check(self, 7, &checked, &differed), 0);
	CHECK(checked > 1000);
	CHECK_EQ(differed, 0);
}

TEST(symbolize_check_unreadable)
{
	uint64_t checked = 1, differed = 1;

	CHECK_EQ(lh_symbolize_check("/nonexistent/leakhunt-test", 1, &checked, &differed), -1);
	CHECK_EQ(checked, 0);
	CHECK_EQ(differed, 0);
}
