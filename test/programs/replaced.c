/*
 * Leaks 555 bytes in leak_here(), then replaces its own executable on disk
 * with the file argv[1] (unlink, then a copy at the same path), as a
 * rebuild during a long run would.  The symbols leakhunt reads after the
 * run must not come from the new file.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

void *volatile sink;

__attribute__((noinline)) void leak_here(void)
{
	sink = malloc(555);
}

int main(int argc, char **argv)
{
	char buf[65536];
	ssize_t n;
	int in, out;

	leak_here();
	if (argc < 2)
		return 0;
	in = open(argv[1], O_RDONLY);
	if (in < 0 || unlink(argv[0]))
		return 1;
	out = open(argv[0], O_WRONLY | O_CREAT | O_EXCL, 0755);
	if (out < 0)
		return 1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return 1;
	close(out);
	close(in);
	return 0;
}
