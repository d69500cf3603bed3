/*
 * A library loaded after the program started, for the symbolizer: main
 * leaks 10 blocks of 100 B through a function of its own, waits argv[2]
 * milliseconds (default 0), then dlopens the library at argv[1] (this file
 * built with -DDLOPENER_LIB -shared -fPIC) and leaks 10 blocks of 64 B
 * through its lib_leak.  The library stays loaded.  Every stack goes through
 * main into glibc's start code, so libc's debug information is used too.
 *
 * The wait gives `leakhunt record` time to load the modules listed at start
 * before the library comes; the result must not depend on it either way.
 */
#include <stdlib.h>

#ifdef DLOPENER_LIB

__attribute__((noinline)) void *lib_leak(size_t n)
{
	void *p = malloc(n);

	__asm__ volatile("" : : "r"(p) : "memory"); /* no tail call */
	return p;
}

#else

#include <dlfcn.h>
#include <stdio.h>
#include <time.h>

static void *volatile sink;

__attribute__((noinline)) static void main_leak(size_t n)
{
	sink = malloc(n);
}

int main(int argc, char **argv)
{
	long ms = argc > 2 ? atol(argv[2]) : 0;
	struct timespec wait = { ms / 1000, ms % 1000 * 1000000 };
	void *(*leak)(size_t);
	void *h;

	if (argc < 2) {
		fprintf(stderr, "usage: dlopener LIBRARY.so [MS]\n");
		return 2;
	}
	for (int i = 0; i < 10; i++)
		main_leak(100);
	nanosleep(&wait, NULL);
	h = dlopen(argv[1], RTLD_NOW);
	if (!h || !(leak = (void *(*)(size_t))dlsym(h, "lib_leak"))) {
		fprintf(stderr, "dlopener: %s\n", dlerror());
		return 1;
	}
	for (int i = 0; i < 10; i++)
		sink = leak(64);
	return 0;
}

#endif
