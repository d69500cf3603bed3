/*
 * lh_mapfile: see mapfile.h.
 */
#include "mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"

int lh_mapfile_open(struct lh_mapfile *mf, const char *path)
{
	struct stat st;
	int fd;
	void *p;

	memset(mf, 0, sizeof(*mf));
	/* O_NONBLOCK: opening a FIFO waits for a writer otherwise, before fstat
	 * can refuse it; on a regular file it changes nothing (and mmap reads) */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return lh_error("cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return lh_error("cannot stat '%s': %s", path, strerror(e));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return lh_error("cannot read '%s': it is a directory; give a file", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return lh_error("cannot read '%s': not a regular file (pipe or device); save it to a file first",
				path);
	}
	mf->path = lh_xstrdup(path);
	mf->size = (size_t)st.st_size;
	if (!mf->size) {
		close(fd);
		return 0;
	}
	p = mmap(NULL, mf->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		int e = errno;

		FREE_AND_NULL(mf->path);
		return lh_error("cannot map '%s' (%zu bytes): %s", path, (size_t)st.st_size, strerror(e));
	}
	mf->data = p;
	return 0;
}

void lh_mapfile_sequential(struct lh_mapfile *mf)
{
	if (mf->data)
		madvise((void *)mf->data, mf->size, MADV_SEQUENTIAL);
}

void lh_mapfile_drop(struct lh_mapfile *mf, size_t off, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t start, end;

	if (!mf->data || off >= mf->size)
		return;
	if (len > mf->size - off)
		len = mf->size - off;
	/* whole pages inside the range only: a neighbour may still be read */
	start = (off + (size_t)page - 1) / (size_t)page * (size_t)page;
	end = (off + len) / (size_t)page * (size_t)page;
	if (end > start)
		madvise((void *)(mf->data + start), end - start, MADV_DONTNEED);
}

void lh_mapfile_release(struct lh_mapfile *mf)
{
	if (mf->data)
		munmap((void *)mf->data, mf->size);
	free(mf->path);
	memset(mf, 0, sizeof(*mf));
}
