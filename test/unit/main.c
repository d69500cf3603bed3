/*
 * The unit-test runner: runs every registered test in a forked child with a
 * timeout and prints one line per test.  With arguments, runs only the tests
 * whose names contain one of them.  LH_TEST_NOFORK=1 runs in-process (for gdb).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#define MAX_TESTS 1024
#define TIMEOUT_SECONDS 120

struct test {
	const char *name;
	void (*fn)(void);
};

static struct test tests[MAX_TESTS];
static int ntests;
int lh_test_failures;

void lh_test_register(const char *name, void (*fn)(void))
{
	if (ntests < MAX_TESTS)
		tests[ntests++] = (struct test){ name, fn };
}

void lh_test_failed(const char *file, int line, const char *what)
{
	fprintf(stderr, "  %s:%d: check failed: %s\n", file, line, what);
	lh_test_failures++;
}

static int selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strstr(name, argv[i]))
			return 1;
	return 0;
}

static int run_forked(struct test *t)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		alarm(TIMEOUT_SECONDS);
		t->fn();
		fflush(stdout);
		_exit(lh_test_failures ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "  killed by signal %d%s\n", WTERMSIG(status),
			WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
		return 1;
	}
	return WEXITSTATUS(status) ? 1 : 0;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	int nofork = getenv("LH_TEST_NOFORK") != NULL;

	for (int i = 0; i < ntests; i++) {
		int bad;

		if (!selected(tests[i].name, argc, argv))
			continue;
		if (nofork) {
			lh_test_failures = 0;
			tests[i].fn();
			bad = lh_test_failures != 0;
		} else {
			bad = run_forked(&tests[i]);
		}
		printf("%s unit/%s\n", bad ? "FAIL" : "ok", tests[i].name);
		fflush(stdout);
		if (bad)
			failed++;
		else
			passed++;
	}
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
