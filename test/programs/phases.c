/*
 * Heap phases at known moments, for `leakhunt report --at`, --timeline,
 * --diff, inline frames and --filter (no stdio: it would allocate).
 * Phase A: 10 x 1,000,000 B from phase_a, held 400 ms, then freed.
 * Phase B: argv[1] (default 5) x 200,000 B from inl_alloc (always inlined
 * into phase_b), held 400 ms and leaked.  Then 100 temporaries of 32 B.
 * Allocation calls: 10 + N + 100; temporary: 100; peak: 10,000,000 B;
 * leaked: N x 200,000 B in N blocks.
 */
#include <stdlib.h>
#include <time.h>

static void *volatile sink;

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts))
		;
}

__attribute__((noinline)) static void phase_a(void)
{
	void *blocks[10];

	for (int i = 0; i < 10; i++)
		blocks[i] = malloc(1000000);
	pause_ms(400);
	for (int i = 0; i < 10; i++)
		free(blocks[i]);
}

static inline __attribute__((always_inline)) void *inl_alloc(size_t n)
{
	return malloc(n);
}

__attribute__((noinline)) static void phase_b(int n)
{
	for (int i = 0; i < n; i++)
		sink = inl_alloc(200000);
	pause_ms(400);
}

__attribute__((noinline)) static void churn_temps(void)
{
	for (int i = 0; i < 100; i++) {
		void *p = malloc(32);

		sink = p;
		free(p);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 5;

	phase_a();
	phase_b(n);
	churn_temps();
	return 0;
}
