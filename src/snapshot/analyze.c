/*
 * Placeholder until the DevTools analyses land: frees the class table.
 */
#include "analyze.h"

#include <stdlib.h>

void lh_snapshot_free_classes(struct lh_snapshot *s)
{
	for (uint32_t i = 0; i < s->class_count; i++) {
		free(s->classes[i].name);
		free(s->classes[i].key);
	}
	free(s->classes);
	s->classes = NULL;
	s->class_count = 0;
}
