/*
 * A program under a data size limit (RLIMIT_DATA, `ulimit -d`), for
 * test/cli/record.sh.  argv[1]: MiB to allocate, one 1 MiB block at a time
 * (malloc maps each: the limit counts it, touched or not), then all freed;
 * argv[2], if given: the limit in MiB, set by the program itself before its
 * first allocation, as sandboxes set it.  Exit status 1 when a block could
 * not be had.  No stdio: the calls are exactly argv[1].
 * The kernel counts every private writable mapping in the data size, the
 * preload's too: its stack cache's gigabyte, writable from the start, left
 * such a program 71 MB under a 600 MB limit, and none under its own limit.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1, got;
	static void *blocks[4096];

	if (argc > 2) {
		struct rlimit rl = { (rlim_t)atol(argv[2]) << 20, (rlim_t)atol(argv[2]) << 20 };

		if (setrlimit(RLIMIT_DATA, &rl))
			return 2;
	}
	if (n < 0 || n > 4096)
		return 2;
	for (got = 0; got < n; got++) {
		blocks[got] = malloc(1 << 20);
		if (!blocks[got])
			break;
		memset(blocks[got], 1, 4096);
	}
	for (long i = 0; i < got; i++)
		free(blocks[i]);
	if (got < n) {
		static const char msg[] = "datalimit: out of memory\n";

		(void)!write(2, msg, sizeof(msg) - 1);
		return 1;
	}
	return 0;
}
