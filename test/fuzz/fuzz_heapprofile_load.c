/*
 * libFuzzer target for the sampling heap profile loader
 * (src/inspect/heapprofile.c): any input either fails with a message that
 * names it, or loads into a model whose invariants hold: parents come
 * before their children, function indices are in range, and each
 * function's total is at least its self size and at most the profile's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "inspect/heapprofile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct lh_heapprofile p;
	char *copy = malloc(size ? size : 1);
	int r;

	memcpy(copy, data, size);
	lh_error_capture(&err);
	r = lh_heapprofile_load(&p, copy, size, "'fuzz'");
	lh_error_capture(NULL);
	if (r < 0) {
		if (!strstr(err.buf, "'fuzz'"))
			abort();
	} else {
		for (uint32_t i = 0; i < p.nnodes; i++) {
			if (p.func[i] >= p.nfuncs)
				abort();
			if (i && p.parent[i] >= i)
				abort();
		}
		for (uint32_t f = 0; f < p.nfuncs; f++)
			if (p.funcs[f].total < p.funcs[f].self || p.funcs[f].total > p.total)
				abort();
	}
	lh_heapprofile_release(&p);
	strbuf_release(&err);
	free(copy);
	return 0;
}
