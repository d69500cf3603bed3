/*
 * main ends with pthread_exit while two threads allocate, for
 * test/cli/record.sh: the process ends when the last of them does (glibc
 * calls exit(0) there), which runs the atexit handler.  Under the preload
 * its timer thread was one more, and the process never ended.
 * Each thread: 100 malloc/free pairs, then a block for its thread-specific
 * key, whose destructor frees it and makes and frees one more (202 calls,
 * 202 frees); the atexit handler makes one block that is never freed.
 * That handler has a 1 MB frame: glibc runs it on the last thread, whose
 * stack has the default size (8 MB), and so must the preload (its timer
 * thread, 256 KB, ran it and crashed).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *volatile sink;
static pthread_key_t key;

static void destroy(void *p)
{
	free(p);
	sink = malloc(33);
	free(sink);
}

static void at_exit(void)
{
	volatile char frame[1 << 20];

	frame[0] = frame[sizeof(frame) - 1] = 1; /* below our 256 KB */
	sink = malloc(44 + frame[0] - frame[sizeof(frame) - 1]);
	(void)!write(1, "atexit ran\n", 11);
}

static void *thread_main(void *arg)
{
	for (int i = 0; i < 100; i++) {
		sink = malloc(10 + i);
		free(sink);
	}
	pthread_setspecific(key, malloc(20));
	return arg;
}

int main(void)
{
	pthread_t t;

	if (pthread_key_create(&key, destroy) || atexit(at_exit))
		return 1;
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t, NULL, thread_main, NULL))
			return 1;
	pthread_exit(NULL);
}
