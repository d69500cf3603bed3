/*
 * argv[2] rounds (default 3000) of: dlopen the library at argv[1] (built
 * from dlopener.c with -DDLOPENER_LIB), malloc and free a block through its
 * lib_leak, dlclose it; then print the process's VmRSS in kB.  Each
 * dlclose makes the preload start new unwind-rule tables: the old ones'
 * pages were kept, 48 KiB a round.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	long rounds = argc > 2 ? atol(argv[2]) : 3000;
	char line[256];
	FILE *f;

	if (argc < 2)
		return 2;
	for (long i = 0; i < rounds; i++) {
		void *h = dlopen(argv[1], RTLD_NOW);
		void *(*leak)(size_t);

		if (!h)
			return 1;
		*(void **)&leak = dlsym(h, "lib_leak");
		if (!leak)
			return 1;
		free(leak(32));
		dlclose(h);
	}
	f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			printf("%ld\n", atol(line + 6));
	if (f)
		fclose(f);
	return 0;
}
