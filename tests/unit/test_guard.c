/* test_guard.c - the delete guards: durations, counts, patterns, what a
 * pattern protects, min_age's clock, and the max_deletes budget under
 * threads. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "guard.h"
#include "test.h"

static void test_durations(void)
{
	static const struct {
		const char *text;
		int ret, seconds;
	} cases[] = {
	    {"0", 0, 0},
	    {"45s", 0, 45},
	    {"90m", 0, 5400},
	    {"12h", 0, 43200},
	    {"7d", 0, 604800},
	    {"2w", 0, 1209600},
	    {"007d", 0, 604800},
	    {"0d", 0, 0},
	    {"3650d", 0, 3650 * 86400},
	    {"3651d", -ERANGE, 0},
	    {"99999999999999999999s", -ERANGE, 0},
	    {"7", -EINVAL, 0},
	    {"", -EINVAL, 0},
	    {"d", -EINVAL, 0},
	    {"-1d", -EINVAL, 0},
	    {"+1d", -EINVAL, 0},
	    {"1d12h", -EINVAL, 0},
	    {"7y", -EINVAL, 0},
	    {"7D", -EINVAL, 0},
	    {"7 d", -EINVAL, 0},
	    {" 7d", -EINVAL, 0},
	    {"1.5d", -EINVAL, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = -1;
		int ret = guard_parse_duration(cases[i].text, &got);

		if (ret != cases[i].ret)
			fprintf(stderr, "duration \"%s\"\n", cases[i].text);
		CHECK_INT(ret, cases[i].ret);
		if (!cases[i].ret)
			CHECK_INT(got, cases[i].seconds);
	}
}

static void test_duration_format(void)
{
	static const struct {
		int seconds;
		const char *text;
	} cases[] = {
	    {0, "0"},	    {45, "45s"},     {60, "1m"},    {5400, "90m"},
	    {43200, "12h"}, {90000, "25h"},  {86400, "1d"}, {604800, "1w"},
	    {691200, "8d"}, {1209600, "2w"},
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		guard_format_duration(cases[i].seconds, buf, sizeof(buf));
		CHECK_STR(buf, cases[i].text);
	}
}

static void test_counts(void)
{
	static const struct {
		const char *text;
		int ret;
		long long n;
	} cases[] = {
	    {"0", 0, 0},
	    {"10", 0, 10},
	    {"1000000000", 0, 1000000000},
	    {"1000000001", -EINVAL, 0},
	    {"", -EINVAL, 0},
	    {"x", -EINVAL, 0},
	    {"-1", -EINVAL, 0},
	    {"1e3", -EINVAL, 0},
	    {" 5", -EINVAL, 0},
	    {"99999999999", -EINVAL, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long got = -1;

		CHECK_INT(guard_parse_count(cases[i].text, &got), cases[i].ret);
		if (!cases[i].ret)
			CHECK_INT(got, cases[i].n);
	}
}

static void test_patterns_checked(void)
{
	static const struct {
		const char *pattern;
		bool ok;
	} cases[] = {
	    {"rfs/providers/prod", true},
	    {"iotda/packages/*", true},
	    {"rfs", true},
	    {"rfs/providers/[ab]*/1.?.*", true},
	    {"", false},
	    {"/rfs/providers/prod", false},
	    {"rfs/providers/", false},
	    {"rfs/\nproviders", false},
	    {"./rfs", false},
	    {"rfs//providers", false},
	    {"rfs/providers/../x", false},
	    {"rfs/.", false},
	    {"..", false},
	    {"rfs/.../x", true},
	    {"rfs/.x/..y", true},
	};
	const char *why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = guard_check_pattern(cases[i].pattern, &why);

		CHECK_INT(ret, cases[i].ok ? 0 : -EINVAL);
		CHECK(cases[i].ok == (why == NULL));
	}
}

/* A guard of the given patterns (NULL-terminated), min_age and limit. */
static struct guard *make_guard(const char *const *patterns, int min_age,
				int max_deletes)
{
	struct hwc_config cfg;
	struct guard *g;
	char err[200];

	config_init(&cfg);
	for (; patterns && *patterns; patterns++)
		CHECK_INT(
		    config_set(&cfg, "protect", *patterns, err, sizeof(err)),
		    0);
	cfg.min_age = min_age;
	cfg.max_deletes = max_deletes;
	CHECK_INT(guard_new(&cfg, &g), 0);
	config_free(&cfg);
	return g;
}

static void test_what_patterns_protect(void)
{
	static const char *const patterns[] = {"rfs/providers/prod-*",
					       "rfs/providers/*/2.0.0",
					       "iotda/packages/keep-?", NULL};
	static const struct {
		const char *path;
		bool protects, below;
	} cases[] = {
	    {"rfs/providers/prod-eu", true, true},
	    /* a protected provider's versions are protected too */
	    {"rfs/providers/prod-eu/1.0.0", true, false},
	    {"rfs/providers/dev/2.0.0", true, false},
	    {"rfs/providers/dev/2.0.1", false, false},
	    /* '*' stops at '/' (FNM_PATHNAME) */
	    {"rfs/providers/dev", false, true},
	    {"iotda/packages/keep-1", true, false},
	    {"iotda/packages/keep-12", false, false},
	    {"iotda/packages/other", false, false},
	    {"rfs/providers/prod", false, true},
	};
	struct guard *g = make_guard(patterns, 0, -1);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (guard_protects(g, cases[i].path) != cases[i].protects)
			fprintf(stderr, "protects %s\n", cases[i].path);
		CHECK(guard_protects(g, cases[i].path) == cases[i].protects);
		CHECK(guard_protects_below(g, cases[i].path) == cases[i].below);
	}
	guard_free(g);
	/* A '/' escaped or in a bracket parts components as well. */
	static const char *const slashes[] = {
	    "rfs/providers/app\\/2.0.0", "rfs/providers/[a/]pp/2.0.0", NULL};
	for (size_t i = 0; slashes[i]; i++) {
		const char *one[] = {slashes[i], NULL};

		g = make_guard(one, 0, -1);
		CHECK(guard_protects(g, "rfs/providers/app/2.0.0"));
		CHECK(guard_protects_below(g, "rfs/providers/app"));
		guard_free(g);
	}
	/* '?' and brackets are one character of a UTF-8 name. */
	static const char *const cjk[] = {"rfs/modules/\u6a21?",
					  "rfs/hooks/[\u6a21x]", NULL};
	g = make_guard(cjk, 0, -1);
	CHECK(guard_protects(g, "rfs/modules/\u6a21\u5757/1.0.0"));
	CHECK(!guard_protects(g, "rfs/modules/\u6a21\u5757\u5757"));
	CHECK(guard_protects(g, "rfs/hooks/\u6a21"));
	guard_free(g);
	g = make_guard(NULL, 0, -1);
	CHECK(!guard_protects(g, "rfs/providers/prod-eu"));
	CHECK(!guard_protects_below(g, "rfs/providers/prod-eu"));
	guard_free(g);
}

static void test_min_age(void)
{
	const time_t now = 2000000000;
	static const struct {
		time_t age; /* now - created; -1: created unknown (0) */
		bool young;
	} cases[] = {
	    {0, true},	    {3599, true}, {3600, false},
	    {86400, false}, {-1, true}, /* unknown */
	    {-60, true},		/* in the future: a clock is wrong */
	};
	struct guard *g = make_guard(NULL, 3600, -1);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t created = cases[i].age == -1 ? 0 : now - cases[i].age;

		CHECK(guard_too_young(g, created, now) == cases[i].young);
	}
	guard_free(g);
	g = make_guard(NULL, 0, -1);
	CHECK(!guard_too_young(g, 0, now));
	guard_free(g);
}

#define THREADS 16
#define TRIES 50

struct taker {
	struct guard *g;
	int taken;
};

static void *take_many(void *arg)
{
	struct taker *t = arg;
	unsigned long ticket;

	for (int i = 0; i < TRIES; i++)
		if (guard_take(t->g, &ticket) == 0)
			t->taken++;
	return NULL;
}

static void test_budget_under_threads(void)
{
	struct taker t[THREADS];
	pthread_t th[THREADS];
	struct guard *g = make_guard(NULL, 0, 100);
	int total = 0;

	for (int i = 0; i < THREADS; i++) {
		t[i] = (struct taker){g, 0};
		pthread_create(&th[i], NULL, take_many, &t[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		total += t[i].taken;
	}
	CHECK_INT(total, 100);
	CHECK_INT(guard_left(g), 0);
	guard_free(g);
}

static void test_budget_refund_and_reset(void)
{
	struct guard *g = make_guard(NULL, 0, 2);
	unsigned long a, b, c;

	CHECK_INT(guard_take(g, &a), 0);
	CHECK_INT(guard_take(g, &b), 0);
	CHECK_INT(guard_take(g, &c), -EPERM);
	/* a DELETE never sent gives its slot back */
	guard_refund(g, b);
	CHECK_INT(guard_left(g), 1);
	CHECK_INT(guard_take(g, &b), 0);
	guard_reset(g, 3);
	CHECK_INT(guard_left(g), 3);
	/* a slot taken before the reset is not given to the new budget */
	guard_refund(g, a);
	CHECK_INT(guard_left(g), 3);
	guard_reset(g, 0);
	CHECK_INT(guard_take(g, &c), -EPERM);
	guard_free(g);
	/* no limit: every take succeeds; a reset makes one */
	g = make_guard(NULL, 0, -1);
	CHECK_INT(guard_left(g), -1);
	for (int i = 0; i < 5; i++)
		CHECK_INT(guard_take(g, &a), 0);
	guard_reset(g, 1);
	CHECK_INT(guard_take(g, &a), 0);
	CHECK_INT(guard_take(g, &a), -EPERM);
	guard_free(g);
}

static void test_settings(void)
{
	static const struct {
		const char *key, *value;
		int ret;
	} cases[] = {
	    {"min_age", "7d", 0},	   {"min_age", "-1d", -ERANGE},
	    {"min_age", "7", -ERANGE},	   {"max_deletes", "5", 0},
	    {"max_deletes", "x", -ERANGE}, {"protect", "a/*", 0},
	    {"protect", "", -ERANGE},	   {"protect", "/a", -ERANGE},
	};
	struct hwc_config cfg;
	char err[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_init(&cfg);
		err[0] = '\0';
		CHECK_INT(config_set(&cfg, cases[i].key, cases[i].value, err,
				     sizeof(err)),
			  cases[i].ret);
		CHECK(cases[i].ret == 0 || strstr(err, cases[i].key));
		config_free(&cfg);
	}
	/* the command line wins over a profile, patterns add up */
	config_init(&cfg);
	CHECK_INT(guard_config_set(&cfg, "min_age", "1d", false, "command line",
				   err, sizeof(err)),
		  0);
	CHECK_INT(guard_config_set(&cfg, "min_age", "2d", true, "profile", err,
				   sizeof(err)),
		  0);
	CHECK_INT(cfg.min_age, 86400);
	CHECK_INT(guard_config_set(&cfg, "protect", "a", false, "command line",
				   err, sizeof(err)),
		  0);
	CHECK_INT(guard_config_set(&cfg, "protect", "b", true, "profile", err,
				   sizeof(err)),
		  0);
	CHECK_INT(cfg.nprotect, 2);
	config_free(&cfg);
}

int main(void)
{
	test_durations();
	test_duration_format();
	test_counts();
	test_patterns_checked();
	test_what_patterns_protect();
	test_min_age();
	test_budget_under_threads();
	test_budget_refund_and_reset();
	test_settings();
	return test_summary();
}
