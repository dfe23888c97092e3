/*
 * test.h - the few macros our C unit tests need. Each test program prints
 * one line per failure and a closing "N passed, N failed" line, and exits
 * non-zero when anything failed.
 */
#ifndef HWCFS_TEST_H
#define HWCFS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_passed, test_failed;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (cond) {                                                    \
			test_passed++;                                         \
		} else {                                                       \
			test_failed++;                                         \
			fprintf(stderr, "%s:%d: %s: check failed: %s\n",       \
				__FILE__, __LINE__, __func__, #cond);          \
		}                                                              \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (a_ && b_ && strcmp(a_, b_) == 0) {                         \
			test_passed++;                                         \
		} else {                                                       \
			test_failed++;                                         \
			fprintf(stderr, "%s:%d: %s: \"%s\" != \"%s\"\n",       \
				__FILE__, __LINE__, __func__,                  \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)");       \
		}                                                              \
	} while (0)

#define CHECK_INT(a, b)                                                        \
	do {                                                                   \
		long long a_ = (a), b_ = (b);                                  \
		if (a_ == b_) {                                                \
			test_passed++;                                         \
		} else {                                                       \
			test_failed++;                                         \
			fprintf(stderr, "%s:%d: %s: %s == %lld, want %lld\n",  \
				__FILE__, __LINE__, __func__, #a, a_, b_);     \
		}                                                              \
	} while (0)

static inline int test_summary(void)
{
	printf("%d passed, %d failed\n", test_passed, test_failed);
	return test_failed ? 1 : 0;
}

/*
 * A fresh HOME from the mkdtemp template home, no config file variables
 * and a key pair in the environment: what config_finish needs to run.
 */
static inline void test_home_with_keys(char *home, const char *ak,
				       const char *sk)
{
	if (!mkdtemp(home)) {
		perror("mkdtemp");
		exit(2);
	}
	setenv("HOME", home, 1);
	unsetenv("HWCFS_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
	setenv("HUAWEICLOUD_SDK_AK", ak, 1);
	setenv("HUAWEICLOUD_SDK_SK", sk, 1);
}

/*
 * The rows of today's kind table (backend/kinds.c), for tests that name
 * one; test_resource checks them against kind_find(). Include kind.h.
 */
#define KIND_PACKAGES (&kind_table[0])
#define KIND_PROVIDERS (&kind_table[1])
#define KIND_VERSIONS (&kind_table[2])

#endif
