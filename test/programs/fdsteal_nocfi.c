/* fdsteal.c's allocation, built without unwind tables: libunwind validates addresses there */
#include <stdlib.h>
void *nocfi_alloc(int n){ volatile char pad[64]; pad[0]=n; void *p = malloc((size_t)n + pad[0]); __asm__ volatile("" ::: "memory"); return p; }
