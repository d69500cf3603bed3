/*
 * A process with a large private anonymous mapping that is almost all
 * untouched (MAP_NORESERVE: argv[1] GB, one page written, at 1 MB: "sparse
 * marker"), and 4 MB of data that is not zeros, for test/cli/core_native.sh;
 * argv[2], if given: that many MB of the mapping written too (a core that
 * takes a while).  Prints "ready ADDR" with the mapping's address, then
 * waits in pause().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char data[4 << 20];

int main(int argc, char **argv)
{
	size_t size = (size_t)atoi(argc > 1 ? argv[1] : "1") << 30;
	char *big = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (big == MAP_FAILED)
		return 1;
	strcpy(big + (1 << 20), "sparse marker");
	memset(data, 0x5a, sizeof(data));
	if (argc > 2)
		memset(big + (2 << 20), 0x5b, (size_t)atoi(argv[2]) << 20);
	printf("ready %p\n", (void *)big);
	fflush(stdout);
	for (;;)
		pause();
}
