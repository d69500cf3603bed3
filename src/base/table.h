/*
 * Terminal tables: columns with a header and an alignment, rows of cells
 * added as formatted strings, printed with each column as wide as its widest
 * cell.  One column may be marked elastic: it is cut (with "...") so the table
 * fits max_width when max_width > 0.
 *
 * Every name read from a file reaches the terminal escaped, in a table or
 * not: lh_terminal_escape() is the one escaping, and the table's cells go
 * through it.  --json output does not (the JSON writer has its own).
 */
#ifndef LH_BASE_TABLE_H
#define LH_BASE_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "strbuf.h"

enum lh_table_align { LH_ALIGN_LEFT, LH_ALIGN_RIGHT };

struct lh_table {
	size_t ncols;           /* columns, fixed by lh_table_init */
	const char **headers;   /* column titles, not owned */
	enum lh_table_align *align;
	size_t elastic;         /* index of the column that may be cut, or (size_t)-1 */
	size_t max_width;       /* 0: no limit */
	char **cells;           /* row-major, owned */
	size_t nr, alloc;       /* cells used / allocated */
};

/* spec: "Name:l,Count:r,Size:r"; a '*' after the alignment marks the elastic column. */
void lh_table_init(struct lh_table *t, const char *spec);
/* Add one cell; rows fill left to right, then wrap. */
void lh_table_cell(struct lh_table *t, const char *fmt, ...) LH_PRINTF(2, 3);
/* Add the contents of sb as one cell and reset sb. */
void lh_table_cell_sb(struct lh_table *t, struct strbuf *sb);
/*
 * The same for a text escaped already, as a C or JavaScript literal is
 * (objects' jsprint writes a string "a\nb"): its backslashes are taken as
 * the escapes they begin, not doubled; what is still raw in it (controls,
 * bytes that are not UTF-8) is escaped as in any cell.
 */
void lh_table_cell_literal(struct lh_table *t, struct strbuf *sb);
void lh_table_print(struct lh_table *t, FILE *out);
void lh_table_release(struct lh_table *t);

/* Columns of the terminal on stdout, or 0 when stdout is not a terminal. */
size_t lh_terminal_width(void);

/*
 * Append len bytes of s to out with what a terminal would act on, or show
 * as another name, escaped as in a C string: control characters, the
 * backslash, C1 controls and bytes that are not UTF-8 (table.c says how).
 */
void lh_terminal_escape(struct strbuf *out, const char *s, size_t len);
/* The same for a text that is quoted already (a shell word, a JavaScript
 * literal): its backslashes are kept as they are. */
void lh_terminal_escape_literal(struct strbuf *out, const char *s, size_t len);
/* fputs() of s escaped. */
void lh_terminal_puts(const char *s, FILE *out);
/* fprintf() with the whole text escaped but for the newlines it starts and ends with. */
void lh_terminal_printf(FILE *out, const char *fmt, ...) LH_PRINTF(2, 3);

#endif
