/*
 * A tiny unit-test framework (redis testhelp.h, libuv's runner idea).
 *
 * TEST(name) { ... } registers a test at load time; CHECK* record failures
 * with file:line and go on.  The runner (main.c) runs each test in a forked
 * child with a timeout, so a crash or a hang is one failed test, and prints
 * "ok NAME" or "FAIL NAME: why" per test; test/run.sh adds them up.
 */
#ifndef LH_TEST_H
#define LH_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void lh_test_register(const char *name, void (*fn)(void));
void lh_test_failed(const char *file, int line, const char *what);
extern int lh_test_failures;

#define TEST(name)                                                      \
	static void name(void);                                         \
	__attribute__((constructor)) static void register_##name(void)  \
	{                                                               \
		lh_test_register(#name, name);                          \
	}                                                               \
	static void name(void)

#define CHECK(cond)                                                    \
	do {                                                           \
		if (!(cond))                                           \
			lh_test_failed(__FILE__, __LINE__, #cond);     \
	} while (0)

#define CHECK_EQ(a, b)                                                                    \
	do {                                                                              \
		long long lh_a_ = (long long)(a), lh_b_ = (long long)(b);                 \
		if (lh_a_ != lh_b_) {                                                     \
			char lh_m_[256];                                                  \
			snprintf(lh_m_, sizeof(lh_m_), "%s == %s (%lld != %lld)", #a, #b, \
				 lh_a_, lh_b_);                                           \
			lh_test_failed(__FILE__, __LINE__, lh_m_);                        \
		}                                                                         \
	} while (0)

#define CHECK_STR(a, b)                                                                  \
	do {                                                                             \
		const char *lh_a_ = (a), *lh_b_ = (b);                                   \
		if (!lh_a_ || !lh_b_ || strcmp(lh_a_, lh_b_)) {                          \
			char lh_m_[512];                                                 \
			snprintf(lh_m_, sizeof(lh_m_), "%s == %s (\"%s\" != \"%s\")", #a, #b, \
				 lh_a_ ? lh_a_ : "(null)", lh_b_ ? lh_b_ : "(null)");    \
			lh_test_failed(__FILE__, __LINE__, lh_m_);                       \
		}                                                                        \
	} while (0)

/* lht_ptr_test.c: a version 3 pointer writer's state (native/lht_ptr.h) as
 * compress.c keeps it, in malloc'ed memory, for the tests that code streams. */
struct lht_ptr_state;
struct lht_ptr_index;
void lh_test_ptr_writer_init(struct lht_ptr_state *s, struct lht_ptr_index **ix);
void lh_test_ptr_writer_release(struct lht_ptr_state *s, struct lht_ptr_index *ix);

#endif
