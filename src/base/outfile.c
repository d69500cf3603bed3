/* New output files (outfile.h), created with O_EXCL as `record -o` does. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/outfile.h"

FILE *lh_create_new(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	FILE *f;

	if (fd < 0) {
		if (errno == EEXIST)
			lh_error("cannot write '%s': the file exists; choose another name or remove it", path);
		else
			lh_error("cannot create '%s': %s", path, strerror(errno));
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		lh_error("cannot write '%s': %s", path, strerror(errno));
		close(fd);
		unlink(path);
	}
	return f;
}

int lh_close_new(FILE *f, const char *path, int failed)
{
	int ret = failed ? -1 : 0;

	if (fclose(f) && !ret)
		ret = lh_error("cannot write '%s': %s", path, strerror(errno));
	if (ret)
		unlink(path);
	return ret;
}
