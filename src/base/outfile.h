/*
 * Files the commands write for the user (exports), always new: an existing
 * file, the input itself say, is never overwritten or truncated.
 */
#ifndef LH_BASE_OUTFILE_H
#define LH_BASE_OUTFILE_H

#include <stdio.h>

/* path created new (O_EXCL), open for writing; NULL after a message
 * ("the file exists; choose another name or remove it").  Until
 * lh_close_new, SIGINT, SIGTERM and SIGHUP remove it before they end the
 * command (where they had their default action). */
FILE *lh_create_new(const char *path);

/* Close f, made by lh_create_new(path) and written with failed (nonzero:
 * the writing went wrong, already said); a write error (any write, not only
 * fclose's) is said with the path.  A file not written whole is removed.
 * 0, or -1. */
int lh_close_new(FILE *f, const char *path, int failed);

/* The same removal for a file made otherwise (core's FILE.partial): from
 * lh_outfile_guard(path) until lh_outfile_unguard(path), SIGINT, SIGTERM
 * and SIGHUP remove path before they end the command. */
void lh_outfile_guard(const char *path);
void lh_outfile_unguard(const char *path);
/* open(path, flags | O_CREAT | O_EXCL, mode), guarded from the moment it
 * exists: a signal between the create and lh_outfile_guard left the file
 * (core's FILE.partial, under load); the fd, or -1 with errno */
int lh_open_guarded(const char *path, int flags, int mode);

#endif
