/*
 * findrefs on a core (mdb_v8's ::findjsobjects -r, llnode's findrefs): every
 * word of the core's memory that holds a given tagged address, with the
 * object holding that word and the slot's name.
 *
 * The holder is found by walking back from the word to the nearest map
 * word (a word whose target's map is the meta map) and checking that the
 * object it starts reaches the word; a word in no recognized object (a
 * native handle, a stack slot) is reported as native memory.  A hit in a
 * backing store (an array's elements, an object's property array or
 * dictionary, a FixedArray) is also traced one step up to the JavaScript
 * object using that store, so `arr[2]` reads as the array's slot, not as a
 * FixedArray's.  Slots are named as DevTools names edges: ".name", "[3]",
 * "context name", or "+0x18" when no name is known.
 */
#ifndef LH_COREDUMP_REFS_H
#define LH_COREDUMP_REFS_H

#include <stdint.h>

#include "v8meta.h"

struct lh_core_ref {
	uint64_t slot;          /* address of the word */
	uint64_t from;          /* tagged address of the object holding it; 0: not in a V8 object */
	char *from_label;       /* "0x3f...1 <Order>", "0x... <FixedArray length 8>", "(native memory)" */
	char *edge;             /* the slot's name within from */
	uint64_t owner;         /* the JS object whose backing store from is; 0 when none */
	char *owner_label;
	char *owner_edge;       /* the slot's name as seen from owner */
};

struct lh_core_refs {
	uint64_t target;
	struct lh_core_ref *refs;  /* in address order */
	uint32_t nr, alloc;
	uint64_t total;            /* words found, also past max */
};

/*
 * Find the words holding target (a tagged address), at most max of them
 * described.  0, or -1 after lh_error() when target is not a heap object
 * the core holds.
 */
int lh_core_refs_find(struct lh_core_refs *r, const struct lh_v8meta *m, uint64_t target, uint32_t max);
void lh_core_refs_release(struct lh_core_refs *r);

#endif
