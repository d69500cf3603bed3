/*
 * dlopen the libraries argv[2] .. argv[argc-1] (copies of one built from
 * dlopener.c with -DDLOPENER_LIB), in turn, keeping each loaded, and leak a
 * block of argv[1] bytes through each one's lib_leak.  Every dlopen changes
 * the module list: a trace that listed every module again at each change
 * grew with the square of their number.
 */
#include <dlfcn.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	size_t size;

	if (argc < 3)
		return 2;
	size = (size_t)atol(argv[1]);
	for (int i = 2; i < argc; i++) {
		void *h = dlopen(argv[i], RTLD_NOW);
		void *(*leak)(size_t);

		if (!h)
			return 1;
		*(void **)&leak = dlsym(h, "lib_leak");
		if (!leak || !leak(size))
			return 1;
	}
	return 0;
}
