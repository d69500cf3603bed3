/*
 * Stacks that mix every kind of frame the auto unwinder must get right, for
 * the test that proves its stacks equal to libunwind's: built as two objects
 * from this one file, -DPART_FP with -fno-omit-frame-pointer and -DPART_NOFP
 * with -fomit-frame-pointer, linked into one program.  Allocations happen
 * under frames with and without frame pointers, under glibc's own frames
 * (qsort calling back into the program: Debian's glibc keeps no frame
 * pointers), in a frame using alloca, in a frame realigned for an over-aligned
 * local next to alloca (CFA = *(rbp-8)), in a signal handler (a signal frame), and on a
 * second thread.  Every path runs argv[1] times (default 1000).
 */
#include <alloca.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

void *nofp_leaf(size_t n);
void *nofp_alloca(size_t n);
void *nofp_aligned(size_t n);
void *fp_sorting(size_t n);
void *fp_chain(size_t n, int depth);

extern void *volatile keep[64];
extern volatile int side;

#ifdef PART_NOFP
__attribute__((noinline)) void *nofp_leaf(size_t n)
{
	void *p = malloc(n);

	side++;
	return p;
}

/* alloca makes the CFA rbp-based even without -fno-omit-frame-pointer */
__attribute__((noinline)) void *nofp_alloca(size_t n)
{
	char *tmp = alloca(n + 16);
	void *p;

	memset(tmp, 1, n + 16);
	p = fp_chain(n + tmp[n], 3);
	side += tmp[3];
	return p;
}

/* an over-aligned local and alloca together: gcc realigns the stack through
 * a DRAP register, and the CFI says CFA = *(rbp-8), rbp saved at *(rbp) */
__attribute__((noinline)) void *nofp_aligned(size_t n)
{
	_Alignas(64) volatile char buf[64];
	char *tmp = alloca(n);
	void *p;

	memset(tmp, 0, n);
	buf[0] = tmp[1];
	p = fp_sorting(n + buf[0]);
	side += buf[1];
	return p;
}
#endif

#ifdef PART_FP
void *volatile keep[64];
volatile int side;
static __thread size_t sort_size; /* per thread: both threads sort */

static int by_value(const void *a, const void *b)
{
	/* called from inside glibc's qsort: these allocations sit on its frames */
	void *p = nofp_leaf(sort_size);

	if (sort_size % 8) /* one in eight sorts leaks, so that its stack is reported */
		free(p);
	return *(const int *)a - *(const int *)b;
}

__attribute__((noinline)) void *fp_sorting(size_t n)
{
	int v[6] = { 5, 3, 9, 1, 7, 2 };

	sort_size = n;
	qsort(v, 6, sizeof(v[0]), by_value);
	side += v[0];
	return nofp_leaf(n);
}

__attribute__((noinline)) void *fp_chain(size_t n, int depth)
{
	void *p = depth ? fp_chain(n, depth - 1) : nofp_leaf(n);

	side++;
	return p;
}

static void on_signal(int sig)
{
	free(malloc(24));
	keep[63] = nofp_leaf(25);
}

/* arg: 2 * iterations, + 1 on the second thread (whose leaks are 1 B larger,
 * so that the two leak sites never tie in a report) */
static void *work(void *arg)
{
	long n = (long)arg / 2, extra = (long)arg & 1;

	for (long i = 0; i < n; i++) {
		/* each path leaks every 50th block, so that reports show all stacks */
		void *a = nofp_alloca(16 + i % 32), *b = nofp_aligned(40 + i % 8),
		     *c = fp_chain(32, (int)(i % 7));

		if (i % 50) {
			free(a);
			free(b);
			free(c);
		}
		keep[i % 60] = nofp_leaf(100 + extra); /* overwritten: leaks on purpose */
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	pthread_t th;

	signal(SIGUSR1, on_signal);
	for (int i = 0; i < 5; i++)
		raise(SIGUSR1);
	pthread_create(&th, NULL, work, (void *)(2 * n + 1));
	work((void *)(2 * n));
	pthread_join(th, NULL);
	return 0;
}
#endif
