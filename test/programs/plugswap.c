/*
 * Two plugins loaded at the same addresses one after the other: the host
 * (built plain) dlopens each library named in argv[1..], leaks a block
 * through its plugin_run, prints the library, where plugin_run was and the
 * block's size, and dlcloses it, so the next one usually lands where the
 * last one was.  The libraries are this file built with -DPLUGSWAP_LIB and
 * -DPLUG_SIZE=N -DHELPER=NAME: plugin_run calls NAME (kept out of line, the
 * malloc's result used after it returns, so neither call is a tail call).
 */
#ifdef PLUGSWAP_LIB
#include <stdlib.h>

void *plug_keep[2];

__attribute__((noinline)) void *HELPER(size_t n)
{
	void *p = malloc(n);

	plug_keep[0] = p;
	return p;
}

void *plugin_run(void)
{
	void *p = HELPER(PLUG_SIZE);

	plug_keep[1] = p;
	return p;
}
#else
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		void *h = dlopen(argv[i], RTLD_NOW);
		void *(*run)(void);

		if (!h)
			return 1;
		*(void **)&run = dlsym(h, "plugin_run");
		if (!run || !run())
			return 1;
		printf("%s %p\n", argv[i], *(void **)&run);
		fflush(stdout);
		dlclose(h);
	}
	return 0;
}
#endif
