/*
 * A process to attach to: argv[1] threads (default 4) allocate, fill,
 * check and free blocks all the time, until SIGTERM; then each thread checks
 * its live blocks once more and the program prints "busy: ok" and the number
 * of rounds, or "busy: CORRUPT" and exits 1 if any block lost its pattern.
 * The attach stress test records it 20 times in a row and checks that it
 * survives every attach and detach with its memory intact.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIVE 256

static volatile sig_atomic_t stop;
static volatile int corrupt;

static void on_term(int sig)
{
	stop = 1;
}

static int check(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

__attribute__((noinline)) static unsigned char *make(size_t n, unsigned char v)
{
	unsigned char *p = (n & 3) == 1 ? calloc(1, n) : malloc(n);

	if (p)
		memset(p, v, n);
	return p;
}

static void *work(void *arg)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL * ((uintptr_t)arg + 1), rounds = 0;
	unsigned char *blk[LIVE] = { 0 };
	size_t len[LIVE] = { 0 };

	while (!stop) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		unsigned i = (unsigned)(s % LIVE);
		size_t n = 1 + (s >> 20) % 2000;

		if (blk[i]) {
			if (!check(blk[i], len[i], (unsigned char)(i + len[i])))
				corrupt = 1;
			if (s & (1 << 9)) {
				/* realloc keeps the old contents (half of them by
				 * reallocarray, which an attached library once missed) */
				unsigned char *q = s & (1 << 10) ? reallocarray(blk[i], n, 1) : realloc(blk[i], n);

				if (q && !check(q, len[i] < n ? len[i] : n, (unsigned char)(i + len[i])))
					corrupt = 1;
				if (q)
					memset(q, (unsigned char)(i + n), n);
				blk[i] = q;
				len[i] = q ? n : 0;
				rounds++;
				continue;
			}
			free(blk[i]);
		}
		blk[i] = make(n, (unsigned char)(i + n));
		len[i] = blk[i] ? n : 0;
		rounds++;
	}
	for (int i = 0; i < LIVE; i++) {
		if (blk[i] && !check(blk[i], len[i], (unsigned char)(i + len[i])))
			corrupt = 1;
		free(blk[i]);
	}
	return (void *)(uintptr_t)rounds;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	pthread_t th[64];
	uint64_t total = 0;

	if (n < 1 || n > 64)
		n = 4;
	signal(SIGTERM, on_term);
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, work, (void *)(uintptr_t)i);
	for (int i = 0; i < n; i++) {
		void *r;

		pthread_join(th[i], &r);
		total += (uint64_t)(uintptr_t)r;
	}
	if (corrupt) {
		printf("busy: CORRUPT\n");
		return 1;
	}
	printf("busy: ok %llu rounds\n", (unsigned long long)total);
	return 0;
}
