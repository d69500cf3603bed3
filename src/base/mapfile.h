/*
 * A whole file mapped read-only (yyjson's "mmap the input once").
 *
 * lh_mapfile_open() refuses directories, FIFOs and devices with a message
 * naming the file, without blocking on them (a FIFO with no writer), so
 * every loader gets those errors for free.  An empty file
 * maps to data == NULL, size == 0.  lh_mapfile_drop() tells the kernel a range
 * will not be read again, so the file's pages leave our resident set as a
 * streaming parser moves past them (keeps peak RSS below the file size).
 */
#ifndef LH_BASE_MAPFILE_H
#define LH_BASE_MAPFILE_H

#include <stddef.h>

struct lh_mapfile {
	const char *data; /* the bytes, or NULL for an empty file */
	size_t size;      /* file size in bytes */
	char *path;       /* as given, owned */
};

/* Map path; 0 on success, or -1 after lh_error() saying why. */
int lh_mapfile_open(struct lh_mapfile *mf, const char *path);
/* Advise sequential access over the whole map. */
void lh_mapfile_sequential(struct lh_mapfile *mf);
/* Drop the pages of [off, off+len) from memory (they stay readable). */
void lh_mapfile_drop(struct lh_mapfile *mf, size_t off, size_t len);
void lh_mapfile_release(struct lh_mapfile *mf);

#endif
