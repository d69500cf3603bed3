#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
/* usage: seccomp_deny NR [THREADS [TSYNC [NR2]]]: after some allocations,
 * make system calls NR and NR2 fail with EPERM, then allocate on THREADS
 * more threads and main; exits 3 after printing "ok" */
static void *work(void *a)
{
	void *k[32] = { 0 };
	for (int i = 0; i < 200000; i++) {
		int j = i & 31;
		free(k[j]);
		k[j] = malloc(i % 300);
	}
	return a;
}
int main(int c, char **v)
{
	int nr = atoi(v[1]), nt = c > 2 ? atoi(v[2]) : 0, tsync = c > 3 ? atoi(v[3]) : 0;
	int nr2 = c > 4 ? atoi(v[4]) : nr;
	pthread_t t[8];
	work(NULL);
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog p = { 5, f };
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, tsync ? SECCOMP_FILTER_FLAG_TSYNC : 0, &p)) {
		perror("seccomp");
		return 2;
	}
	for (int i = 0; i < nt && i < 8; i++)
		pthread_create(&t[i], 0, work, 0);
	work(NULL);
	for (int i = 0; i < nt && i < 8; i++)
		pthread_join(t[i], 0);
	printf("ok\n");
	return 3;
}
