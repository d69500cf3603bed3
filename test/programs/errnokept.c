/*
 * errno across the malloc family, for test/cli/record.sh.  Every call is
 * made with errno set to 77 and prints its result and errno, so the output
 * natively and under `leakhunt record` must be the same: a successful call
 * leaves errno alone (free too, as POSIX 2024 requires), a failing one sets
 * what glibc sets.  The calls run below a frame without unwind information
 * (as JIT code is): libunwind checks such a frame's addresses through a pipe
 * that it first reads empty, which left EAGAIN in the program's errno.
 * The main thread, then a second thread, each: 8 allocations that succeed,
 * all freed (8 calls, 8 frees), and 5 that fail.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* nocfi_call(fn): calls fn() from a frame no FDE covers */
void nocfi_call(void (*fn)(void));
__asm__(".text\n"
	".globl nocfi_call\n"
	"nocfi_call:\n"
	"\tpush %rbp\n"
	"\tmov %rsp, %rbp\n"
	"\tcall *%rdi\n"
	"\tpop %rbp\n"
	"\tret\n");

static void *volatile huge = (void *)SIZE_MAX; /* sizes the compiler cannot see */

static void show(const char *what, int ok)
{
	int err = errno;

	printf("%s: %s, errno %d\n", what, ok ? "ok" : "failed", err);
}

#define CALL(what, expr)              \
	do {                          \
		errno = 77;           \
		show(what, !!(expr)); \
	} while (0)

static void calls(void)
{
	size_t big = (size_t)huge;
	void *p, *a = NULL, *m = (void *)1;
	void *volatile q; /* kept after the failed reallocs (no use-after-free warning) */
	int rc;

	CALL("malloc", p = malloc(100));
	CALL("calloc", q = calloc(10, 10));
	CALL("realloc", q = realloc(q, 1000));
	CALL("realloc too large", realloc(q, big));
	CALL("reallocarray overflow", reallocarray(q, big / 2, 3));
	CALL("malloc too large", malloc(big));
	CALL("calloc overflow", calloc(big / 2, 3));
	errno = 77;
	rc = posix_memalign(&a, 64, 200);
	printf("posix_memalign: %d, errno %d\n", rc, errno);
	errno = 77;
	rc = posix_memalign(&m, 3, 200);
	printf("posix_memalign bad alignment: %d, untouched %d, errno %d\n", rc, m == (void *)1, errno);
	CALL("free", (free(p), 1));
	CALL("realloc to 0", !realloc(q, 0));
	CALL("free posix_memalign", (free(a), 1));
	CALL("aligned_alloc", p = aligned_alloc(64, 128));
	CALL("free aligned_alloc", (free(p), 1));
	CALL("memalign", p = memalign(32, 50));
	CALL("free memalign", (free(p), 1));
	CALL("valloc", p = valloc(10));
	CALL("free valloc", (free(p), 1));
	CALL("pvalloc", p = pvalloc(10));
	CALL("free pvalloc", (free(p), 1));
	CALL("free NULL", (free(NULL), 1));
}

static void *thread_main(void *arg)
{
	nocfi_call(calls);
	return arg;
}

int main(void)
{
	pthread_t t;

	setvbuf(stdout, NULL, _IONBF, 0); /* stdio allocates nothing */
	nocfi_call(calls);
	if (pthread_create(&t, NULL, thread_main, NULL) || pthread_join(t, NULL))
		return 1;
	return 0;
}
