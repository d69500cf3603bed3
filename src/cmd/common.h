/*
 * What the heap snapshot commands share: opening and analyzing a snapshot
 * with progress, and reading node arguments ("@123", or a class name for its
 * biggest instance).
 */
#ifndef LH_CMD_COMMON_H
#define LH_CMD_COMMON_H

#include <stdint.h>

#include "base/strbuf.h"
#include "snapshot/snapshot.h"

/* Load and analyze path (with base's interface names when base != NULL); dies on error. */
struct lh_snapshot *lh_cmd_open_snapshot(const char *path, const struct lh_snapshot *base);

/*
 * Resolve "@ID" / "ID" to a node, or a class name (or key) to its instance
 * with the largest retained size.  Dies with a message when nothing matches.
 */
uint32_t lh_cmd_node_arg(const struct lh_snapshot *s, const char *arg);

/* Parse a positive count option value; dies with the option name on error. */
uint32_t lh_cmd_count_arg(const char *opt, const char *val);

#endif
