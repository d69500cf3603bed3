/*
 * Function names a terminal must not get as they are, for the text views of
 * `leakhunt report` (test/cli/report.sh): an escape sequence ("\x1b[31m"),
 * a C1 control (U+0085), CJK characters (two columns each) and a combining
 * mark (none).  Symbols set with asm labels: no C identifier holds these.
 * Each function leaks 16 B; main calls them in that order.
 */
#include <stdlib.h>

#define LEAKER(fn, sym)                                                \
	void *fn(void) __asm__("\"" sym "\"");                           \
	__attribute__((noinline)) void *fn(void)                         \
	{                                                                \
		void *p = malloc(16);                                    \
		__asm__ volatile("" : : "r"(p) : "memory");              \
		return p;                                                \
	}

LEAKER(esc, "Esc\x1b[31mred")
LEAKER(nel, "Nel\xc2\x85")
LEAKER(cjk, "\xe6\xbc\xa2\xe5\xad\x97")
LEAKER(mark, "e\xcc\x81x")

int main(void)
{
	void *volatile a = esc(), *volatile b = nel(), *volatile c = cjk(), *volatile d = mark();

	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return 0;
}
