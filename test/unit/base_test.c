/*
 * Unit tests for src/base/: strbuf, human sizes, the JSON writer, tables,
 * new output files.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/human.h"
#include "base/jsonw.h"
#include "base/outfile.h"
#include "base/strbuf.h"
#include "base/table.h"
#include "test.h"

TEST(strbuf_grows_and_keeps_nul)
{
	struct strbuf sb = STRBUF_INIT;

	CHECK_STR(sb.buf, "");
	for (int i = 0; i < 1000; i++)
		strbuf_addch(&sb, 'a' + i % 26);
	CHECK_EQ(sb.len, 1000);
	CHECK_EQ(sb.buf[1000], 0);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s-%d", "x", 42);
	CHECK_STR(sb.buf, "x-42");
	strbuf_release(&sb);
	CHECK_STR(sb.buf, "");
}

TEST(human_sizes_and_counts)
{
	struct strbuf sb = STRBUF_INIT;

	lh_human_size(&sb, 999);
	CHECK_STR(sb.buf, "999 B");
	strbuf_reset(&sb);
	lh_human_size(&sb, 1234567);
	CHECK_STR(sb.buf, "1.23 MB");
	strbuf_reset(&sb);
	lh_human_size(&sb, -45600);
	CHECK_STR(sb.buf, "-45.6 kB");
	strbuf_reset(&sb);
	lh_human_count(&sb, 1234567, 1);
	CHECK_STR(sb.buf, "+1,234,567");
	strbuf_reset(&sb);
	lh_human_count(&sb, -1000, 0);
	CHECK_STR(sb.buf, "-1,000");
	strbuf_release(&sb);
}

/* sizes as record --sample takes them; nothing that is not a whole byte count */
TEST(parse_size)
{
	uint64_t v = 7;

	CHECK(!lh_parse_size("512k", &v) && v == 524288);
	CHECK(!lh_parse_size("1.5K", &v) && v == 1536);
	CHECK(!lh_parse_size("4GB", &v) && v == 4ull << 30);
	CHECK(!lh_parse_size("0", &v) && v == 0);
	CHECK(!lh_parse_size("4611686018427387904", &v) && v == 1ull << 62);
	CHECK(!lh_parse_size("1.3k", &v) && v == 1331); /* 1331.2 bytes, rounded */
	CHECK(!lh_parse_size("0.5m", &v) && v == 524288);
	CHECK(!lh_parse_size("16KiB", &v) && v == 16384);
	v = 7;
	/* a byte count with a fraction was once taken as its whole part */
	CHECK(lh_parse_size("1.5", &v) && lh_parse_size("511.9", &v) && lh_parse_size("0.0001k", &v) &&
	      lh_parse_size("4503599627370497k", &v) && v == 7);
	CHECK(lh_parse_size("inf", &v) && lh_parse_size("nan", &v) && lh_parse_size("0.5", &v) &&
	      lh_parse_size("-1", &v) && lh_parse_size("1e30", &v) && lh_parse_size("18446744073709551615", &v) &&
	      lh_parse_size("12q", &v) && lh_parse_size("", &v) && lh_parse_size("16Ki", &v) &&
	      lh_parse_size("16iB", &v) && v == 7);
}

TEST(json_writer_nests_and_escapes)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct lh_jsonw w;

	lh_jsonw_init(&w, f, 0);
	lh_jsonw_object(&w);
	lh_jsonw_key(&w, "a");
	lh_jsonw_array(&w);
	lh_jsonw_int(&w, -1);
	lh_jsonw_str(&w, "q\"\n\x01");
	lh_jsonw_end(&w);
	lh_jsonw_key(&w, "b");
	lh_jsonw_object(&w);
	lh_jsonw_end(&w);
	lh_jsonw_end(&w);
	CHECK_EQ(lh_jsonw_finish(&w), 0);
	fclose(f);
	CHECK_STR(buf, "{\"a\":[-1,\"q\\\"\\n\\u0001\"],\"b\":{}}\n");
	free(buf);
}

/* JSON text is UTF-8 (RFC 8259): a command line or a file name of other bytes
 * (latin-1, cut in the middle of a character) must not reach the output raw;
 * valid sequences, and WTF-8's lone surrogates (escaped), stay as they were. */
TEST(json_escape_keeps_utf8_valid)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },                 /* U+00E9 */
		{ "\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xe2\x82\xac\xf0\x9f\x98\x80\"" }, /* U+20AC, U+1F600 */
		{ "\xed\xa0\x80", "\"\\ud800\"" },                   /* WTF-8 lone surrogate */
		{ "a\xff" "b", "\"a\\ufffdb\"" },                         /* never in UTF-8 */
		{ "\xfe", "\"\\ufffd\"" },
		{ "\xc3", "\"\\ufffd\"" },                             /* cut short at the end */
		{ "\xc3(", "\"\\ufffd(\"" },                           /* no continuation byte */
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },                /* overlong */
		{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" }, /* past U+10FFFF */
		{ "\x80x", "\"\\ufffdx\"" },                           /* a lone continuation byte */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		lh_json_escape(f, cases[i].in, strlen(cases[i].in));
		fclose(f);
		CHECK_STR(buf, cases[i].out);
		free(buf);
	}
}

TEST(table_aligns_columns)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct lh_table t;

	lh_table_init(&t, "Name:l,Count:r");
	lh_table_cell(&t, "Order");
	lh_table_cell(&t, "%d", 12);
	lh_table_cell(&t, "(string)");
	lh_table_cell(&t, "%d", 3456);
	lh_table_print(&t, f);
	lh_table_release(&t);
	fclose(f);
	CHECK_STR(buf, "Name      Count\nOrder        12\n(string)   3456\n");
	free(buf);
}

/* Names come from the files read: a newline broke a row, an escape
 * sequence reached the terminal.  Control characters are escaped. */
TEST(table_escapes_control_characters)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct lh_table t;

	lh_table_init(&t, "Name:l,Count:r");
	lh_table_cell(&t, "a\nb\x1b[31mc\t\x7f");
	lh_table_cell(&t, "%d", 1);
	lh_table_print(&t, f);
	lh_table_release(&t);
	fclose(f);
	CHECK_STR(buf, "Name                 Count\na\\nb\\x1b[31mc\\t\\x7f      1\n");
	free(buf);
}

/*
 * A backslash is escaped too (a name holding the four characters \x01 read
 * the same as one holding the byte 0x01), C1 controls (U+0085, U+009B: CSI
 * to some terminals) are escaped as code points, a byte that is not UTF-8
 * as a byte, and other UTF-8 passes through, one column per code point.
 */
TEST(table_escapes_unambiguously)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct lh_table t;

	lh_table_init(&t, "Name:l,N:r");
	lh_table_cell(&t, "a\\x01");
	lh_table_cell(&t, "1");
	lh_table_cell(&t, "a\x01");
	lh_table_cell(&t, "2");
	lh_table_cell(&t, "\xc2\x85\xc2\x9b[1m\xc2\xa0\xc3\x9c\xff\x80");
	lh_table_cell(&t, "3");
	lh_table_print(&t, f);
	lh_table_release(&t);
	fclose(f);
	CHECK_STR(buf, "Name                       N\n"
		       "a\\\\x01                     1\n"
		       "a\\x01                      2\n"
		       "\\u0085\\u009b[1m\xc2\xa0\xc3\x9c\\xff\\x80  3\n");
	free(buf);
}

/* A cell cut to fit the width keeps its escapes whole, and its row lines up. */
TEST(table_cut_keeps_escapes_whole)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct lh_table t;

	lh_table_init(&t, "Name:l*,N:r");
	t.max_width = 24;
	lh_table_cell(&t, "abcdefghijklmnop\x01xyz");
	lh_table_cell(&t, "1");
	lh_table_cell(&t, "short");
	lh_table_cell(&t, "2");
	lh_table_print(&t, f);
	lh_table_release(&t);
	fclose(f);
	CHECK_STR(buf, "Name                   N\n"
		       "abcdefghijklmnop...    1\n"
		       "short                  2\n");
	free(buf);
}

/*
 * A literal cell (jsprint's "a\nb") keeps the escapes it holds, and those
 * still raw in it are escaped: the backslash is not doubled.
 */
TEST(table_literal_cell_keeps_its_escapes)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct strbuf sb = STRBUF_INIT;
	struct lh_table t;

	lh_table_init(&t, "Name:l,N:r");
	strbuf_addstr(&sb, "\"a\\nb \\\\ \\\"\"\x01");
	lh_table_cell_literal(&t, &sb);
	lh_table_cell(&t, "1");
	lh_table_print(&t, f);
	lh_table_release(&t);
	strbuf_release(&sb);
	fclose(f);
	CHECK_STR(buf, "Name              N\n"
		       "\"a\\nb \\\\ \\\"\"\\x01  1\n");
	free(buf);
}

/*
 * Widths are terminal columns: a CJK character or an emoji takes two, a
 * combining mark none (counting code points put the next column two places
 * off after "漢字", one after "e" with its accent).
 */
TEST(table_counts_columns_not_code_points)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct lh_table t;

	lh_table_init(&t, "Name:l,N:r");
	lh_table_cell(&t, "\xe6\xbc\xa2\xe5\xad\x97");	/* 漢字 */
	lh_table_cell(&t, "1");
	lh_table_cell(&t, "e\xcc\x81x");		/* e, U+0301 COMBINING ACUTE, x */
	lh_table_cell(&t, "2");
	lh_table_cell(&t, "\xf0\x9f\x90\xb1");	/* U+1F431 CAT FACE */
	lh_table_cell(&t, "3");
	lh_table_print(&t, f);
	lh_table_release(&t);
	fclose(f);
	CHECK_STR(buf, "Name  N\n"
		       "\xe6\xbc\xa2\xe5\xad\x97  1\n"
		       "e\xcc\x81x    2\n"
		       "\xf0\x9f\x90\xb1    3\n");
	free(buf);
}

/*
 * A cut counts columns too, and does not part a wide character (it would
 * leave a row one column short) nor a character from its combining mark.
 */
TEST(table_cut_counts_columns)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct lh_table t;

	lh_table_init(&t, "Name:l*,N:r");
	t.max_width = 24;
	/* 17 ASCII, then 漢 (two columns) across the cut, then more */
	lh_table_cell(&t, "abcdefghijklmnopq\xe6\xbc\xa2xyzxy");
	lh_table_cell(&t, "1");
	/* 17 ASCII, then e with its combining mark at the cut */
	lh_table_cell(&t, "abcdefghijklmnopqe\xcc\x81xyzxyz");
	lh_table_cell(&t, "2");
	lh_table_cell(&t, "short");
	lh_table_cell(&t, "3");
	lh_table_print(&t, f);
	lh_table_release(&t);
	fclose(f);
	CHECK_STR(buf, "Name                   N\n"
		       "abcdefghijklmnopq...   1\n"
		       "abcdefghijklmnopqe\xcc\x81...  2\n"
		       "short                  3\n");
	free(buf);
}

/* An export file still being written when SIGTERM ends the command is
 * removed (an empty page was left, looking like a result); one closed
 * before is kept.  In forked children, which the signal ends. */
TEST(outfile_removed_by_signal)
{
	const char *dir = getenv("LH_TMP");
	char open_path[512], done_path[512];
	int status = 0;
	pid_t pid;

	snprintf(open_path, sizeof(open_path), "%s/outfile-open-%d", dir ? dir : "/tmp", (int)getpid());
	snprintf(done_path, sizeof(done_path), "%s/outfile-done-%d", dir ? dir : "/tmp", (int)getpid());
	unlink(open_path);
	unlink(done_path);
	pid = fork();
	if (pid == 0) {
		FILE *done = lh_create_new(done_path), *f;

		if (!done || lh_close_new(done, done_path, 0) || !(f = lh_create_new(open_path)))
			_exit(2);
		fputs("half", f);
		fflush(f);
		raise(SIGTERM);
		_exit(3);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	CHECK(access(open_path, F_OK) != 0);
	CHECK(access(done_path, F_OK) == 0);
	unlink(open_path);
	unlink(done_path);
}
