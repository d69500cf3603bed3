/*
 * A shared library whose constructor allocates, for test/cli/record.sh:
 * ld.so runs it before libleakhunt.so's own constructor (neither depends
 * on the other), so its calls reach the hooks before recording would have
 * started there.  It keeps one 5000-byte block (freed by its destructor,
 * which runs after recording ended) and leaks one of 700 bytes.  Built
 * with test/programs/usector.c.
 */
#include <stdlib.h>

static void *kept;
void *volatile libctor_sink;

__attribute__((noinline)) static void *libctor_alloc(size_t n)
{
	void *p = malloc(n);

	libctor_sink = p; /* work after the call: no tail call */
	return p;
}

__attribute__((constructor)) static void libctor_init(void)
{
	kept = libctor_alloc(5000);
	libctor_alloc(700);
}

__attribute__((destructor)) static void libctor_fini(void)
{
	free(kept);
}

int libctor_ready(void)
{
	return kept != NULL;
}
