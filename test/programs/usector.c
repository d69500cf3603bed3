/*
 * Links test/programs/libctor.c, whose constructor allocates before main
 * (and before libleakhunt.so's constructor); main allocates once more.
 */
#include <stdlib.h>
#include <unistd.h>

int libctor_ready(void);

void *volatile usector_sink;

int main(void)
{
	usector_sink = malloc(123);
	/* write(), not stdio: stdout's buffer would be one more block */
	if (write(1, libctor_ready() ? "usector 1\n" : "usector 0\n", 10) != 10)
		return 1;
	return 0;
}
