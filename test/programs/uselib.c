/* 10 blocks of 100 bytes from libsite_alloc (test/programs/libsite.c), kept. */
#include <stddef.h>

void *libsite_alloc(size_t n);

int main(void)
{
	for (int i = 0; i < 10; i++)
		libsite_alloc(100);
	return 0;
}
