/*
 * jsprint (mdb_v8's ::jsprint): one JavaScript object of a core described as
 * its constructor and a list of (key, value) lines, values summarized in one
 * line each: numbers, quoted strings (cut at 200 bytes), true/false/null/
 * undefined, and other objects as "0xADDR <Constructor>" (arrays with their
 * length).  Fast-mode properties come from the map's descriptors (in-object
 * or in the properties array, by field index); dictionary-mode ones from the
 * NameDictionary; elements of arrays follow as [0], [1], ... (the first 100).
 */
#ifndef LH_COREDUMP_JSPRINT_H
#define LH_COREDUMP_JSPRINT_H

#include <stdint.h>

#include "base/strbuf.h"
#include "v8meta.h"

struct lh_jsprint_line {
	char *key;
	char *value;
};

struct lh_jsprint {
	char *ctor;
	uint32_t type;                  /* instance type */
	struct lh_jsprint_line *lines;
	uint32_t nr, alloc;
	uint64_t elements_total;        /* array length, when an array */
};

/* Describe the object at tagged address obj; 0, or -1 after lh_error() when it is not a JS object. */
int lh_jsprint_describe(struct lh_jsprint *p, const struct lh_v8meta *m, uint64_t obj);
void lh_jsprint_release(struct lh_jsprint *p);

/*
 * One value in one line, as jsprint shows property values: "7", "2.5",
 * "\"text\"", "true", "0xADDR <Order>", "0xADDR <Array length 3>",
 * "0xADDR <FixedArray length 8>" (internal objects by their type).
 */
void lh_jsprint_value(const struct lh_v8meta *m, uint64_t v, struct strbuf *sb);

#endif
