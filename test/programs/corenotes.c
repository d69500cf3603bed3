/*
 * A process whose core must carry what a debugger reads beside memory, for
 * test/cli/core_native.sh: the main thread spins with known values in ymm0
 * and ymm1 (AVX: only NT_X86_XSTATE holds their upper halves); a second
 * thread waits in pause() (NT_SIGINFO is per thread); argv[1] is a file it
 * writes "corenotes mapped file", maps shared and then unlinks (/proc/PID/maps
 * says "(deleted)": NT_FILE must still list it).  Prints "ready ADDR", the
 * mapping's address, then spins without a system call, so that nothing
 * between the loads and the stop can change the registers.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ymm0 = 0x1111111111111111 0x2222222222222222 0x3333333333333333 0x4444444444444444 (lane 0 first) */
static const unsigned long long ymm0_val[4] __attribute__((aligned(32))) = {
	0x1111111111111111ull, 0x2222222222222222ull, 0x3333333333333333ull, 0x4444444444444444ull
};
static const unsigned long long ymm1_val[4] __attribute__((aligned(32))) = {
	0xdeadbeefcafef00dull, 0x0123456789abcdefull, 0xfedcba9876543210ull, 0x5555aaaa5555aaaaull
};

static void *waiter(void *arg)
{
	for (;;)
		pause();
	return arg;
}

int main(int argc, char **argv)
{
	static const char text[] = "corenotes mapped file";
	pthread_t t;
	char *p;
	int fd;

	if (argc < 2)
		return 2;
	fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 4096))
		return 1;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	memcpy(p, text, sizeof(text));
	close(fd);
	unlink(argv[1]);
	if (pthread_create(&t, NULL, waiter, NULL))
		return 1;
	printf("ready %p\n", (void *)p);
	fflush(stdout);
	__asm__ volatile("vmovdqa %0, %%ymm0\n\t"
			 "vmovdqa %1, %%ymm1\n\t"
			 "1: pause\n\t"
			 "jmp 1b"
			 :
			 : "m"(ymm0_val), "m"(ymm1_val)
			 : "xmm0", "xmm1");
	return 0;
}
