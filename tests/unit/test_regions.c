/* test_regions.c - endpoints derived from the region, as the SDKs do. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "regions.h"
#include "test.h"

#define ERRLEN 512

/* Every variable a case may set; each case starts with none of them. */
static const char *const env_vars[] = {
    "HUAWEICLOUD_SDK_IAM_ENDPOINT",
    "HUAWEICLOUD_SDK_REGION_IOTDA_CN_NORTH_4",
    "HUAWEICLOUD_SDK_REGION_AOS_CN_NORTH_4",
    "HUAWEICLOUD_SDK_REGION_AOS_CN_SOUTH_4",
    "HUAWEICLOUD_SDK_REGION_IAM_CN_NORTH_4",
    "HUAWEICLOUD_SDK_REGION_IAM_XX_NOWHERE_1",
};

#define NENV (sizeof(env_vars) / sizeof(env_vars[0]))

#define INSTANCE "https://1a2b3c4d5e.st1.iotda-app.cn-north-4.myhuaweicloud.com"

struct derive_case {
	const char *what;
	const char *region;
	const char *iotda, *rfs, *iam; /* given by the user, or NULL */
	const char *env[2][2];	       /* variables set: name, value */
	int ret;
	const char *want_iotda, *want_rfs, *want_iam;
	int want_derived;
	const char *err_has; /* with ret != 0 */
};

static const struct derive_case derive_cases[] = {
    {.what = "known region: every service from its table",
     .region = "cn-north-4",
     .want_iotda = "https://iotda.cn-north-4.myhuaweicloud.com",
     .want_rfs = "https://rfs.cn-north-4.myhuaweicloud.com",
     .want_iam = "https://iam.cn-north-4.myhuaweicloud.com",
     .want_derived = 1},
    {.what = "IoTDA but no RFS; IAM falls back to the global host",
     .region = "cn-south-4",
     .want_iotda = "https://iotda.cn-south-4.myhuaweicloud.com",
     .want_iam = "https://iam.myhuaweicloud.com",
     .want_derived = 1},
    {.what = "RFS but no IoTDA",
     .region = "cn-north-9",
     .want_rfs = "https://rfs.cn-north-9.myhuaweicloud.com",
     .want_iam = "https://iam.cn-north-9.myhuaweicloud.com",
     .want_derived = 1},
    {.what = "the European site's own hosts",
     .region = "eu-west-101",
     .want_rfs = "https://aos.myhuaweicloud.eu",
     .want_iam = "https://iam.eu-west-101.myhuaweicloud.eu",
     .want_derived = 1},
    {.what = "unknown region: no service, IAM global",
     .region = "xx-nowhere-1",
     .want_iam = "https://iam.myhuaweicloud.com",
     .want_derived = 1},
    {.what = "no region: nothing is guessed", .region = NULL},
    {.what = "a region id config.c refuses derives nothing",
     .region = "CN_North_4"},
    {.what = "the user's IoTDA endpoint wins and chooses the services",
     .region = "cn-north-4",
     .iotda = INSTANCE,
     .want_iotda = INSTANCE,
     .want_iam = "https://iam.cn-north-4.myhuaweicloud.com"},
    {.what = "the user's RFS endpoint wins and chooses the services",
     .region = "cn-north-4",
     .rfs = "https://rfs.example:8443",
     .want_rfs = "https://rfs.example:8443",
     .want_iam = "https://iam.cn-north-4.myhuaweicloud.com"},
    {.what = "the user's IAM endpoint wins; the services are derived",
     .region = "cn-north-4",
     .iam = "https://iam.mine",
     .env = {{"HUAWEICLOUD_SDK_IAM_ENDPOINT", "https://iam.env"}},
     .want_iotda = "https://iotda.cn-north-4.myhuaweicloud.com",
     .want_rfs = "https://rfs.cn-north-4.myhuaweicloud.com",
     .want_iam = "https://iam.mine",
     .want_derived = 1},
    {.what = "HUAWEICLOUD_SDK_IAM_ENDPOINT beats the table and its variable",
     .region = "cn-north-4",
     .env = {{"HUAWEICLOUD_SDK_IAM_ENDPOINT", "https://iam.env"},
	     {"HUAWEICLOUD_SDK_REGION_IAM_CN_NORTH_4", "https://iam.var"}},
     .want_iotda = "https://iotda.cn-north-4.myhuaweicloud.com",
     .want_rfs = "https://rfs.cn-north-4.myhuaweicloud.com",
     .want_iam = "https://iam.env",
     .want_derived = 1},
    {.what = "HUAWEICLOUD_SDK_IAM_ENDPOINT without a region",
     .env = {{"HUAWEICLOUD_SDK_IAM_ENDPOINT", "iam.bare.example"}},
     .want_iam = "https://iam.bare.example"},
    {.what = "a region variable beats the table; first of a list",
     .region = "cn-north-4",
     .env = {{"HUAWEICLOUD_SDK_REGION_IOTDA_CN_NORTH_4",
	      " https://iotda.mirror:8443 ,https://second"}},
     .want_iotda = "https://iotda.mirror:8443",
     .want_rfs = "https://rfs.cn-north-4.myhuaweicloud.com",
     .want_iam = "https://iam.cn-north-4.myhuaweicloud.com",
     .want_derived = 1},
    {.what = "a region variable offers a service the table lacks",
     .region = "cn-south-4",
     .env = {{"HUAWEICLOUD_SDK_REGION_AOS_CN_SOUTH_4", "rfs.example"}},
     .want_iotda = "https://iotda.cn-south-4.myhuaweicloud.com",
     .want_rfs = "https://rfs.example",
     .want_iam = "https://iam.myhuaweicloud.com",
     .want_derived = 1},
    {.what = "IAM's region variable beats the global fallback",
     .region = "xx-nowhere-1",
     .env = {{"HUAWEICLOUD_SDK_REGION_IAM_XX_NOWHERE_1", "http://127.0.0.1:9"}},
     .want_iam = "http://127.0.0.1:9",
     .want_derived = 1},
    {.what = "a region variable does not add a service to given ones",
     .region = "cn-north-4",
     .iotda = INSTANCE,
     .env = {{"HUAWEICLOUD_SDK_REGION_AOS_CN_NORTH_4", "https://rfs.var"}},
     .want_iotda = INSTANCE,
     .want_iam = "https://iam.cn-north-4.myhuaweicloud.com"},
    {.what = "an empty region variable is unset",
     .region = "cn-north-4",
     .env = {{"HUAWEICLOUD_SDK_REGION_AOS_CN_NORTH_4", ""}},
     .want_iotda = "https://iotda.cn-north-4.myhuaweicloud.com",
     .want_rfs = "https://rfs.cn-north-4.myhuaweicloud.com",
     .want_iam = "https://iam.cn-north-4.myhuaweicloud.com",
     .want_derived = 1},
    {.what = "a variable with a space is refused by name",
     .region = "cn-north-4",
     .env = {{"HUAWEICLOUD_SDK_REGION_AOS_CN_NORTH_4", "https://a b"}},
     .ret = -EINVAL,
     .err_has = "HUAWEICLOUD_SDK_REGION_AOS_CN_NORTH_4"},
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void check_derive(const struct derive_case *c)
{
	struct hwc_config cfg;
	char err[ERRLEN] = "";
	int ret;

	for (size_t i = 0; i < NENV; i++)
		unsetenv(env_vars[i]);
	for (size_t i = 0; i < 2; i++)
		if (c->env[i][0])
			setenv(c->env[i][0], c->env[i][1], 1);
	config_init(&cfg);
	cfg.region = dup_or_null(c->region);
	cfg.iotda_endpoint = dup_or_null(c->iotda);
	cfg.rfs_endpoint = dup_or_null(c->rfs);
	cfg.iam_endpoint = dup_or_null(c->iam);
	ret = region_derive(&cfg, err, sizeof(err));
	if (ret != c->ret || (c->err_has && !strstr(err, c->err_has)))
		fprintf(stderr, "case: %s (err: %s)\n", c->what, err);
	CHECK_INT(ret, c->ret);
	if (c->ret) {
		CHECK(c->err_has && strstr(err, c->err_has));
		config_free(&cfg);
		return;
	}
	if ((c->want_iotda ? !cfg.iotda_endpoint : !!cfg.iotda_endpoint) ||
	    (c->want_rfs ? !cfg.rfs_endpoint : !!cfg.rfs_endpoint) ||
	    (c->want_iam ? !cfg.iam_endpoint : !!cfg.iam_endpoint) ||
	    cfg.derived_endpoints != c->want_derived)
		fprintf(stderr, "case: %s\n", c->what);
#define CHECK_FIELD(got, want)                \
	do {                                  \
		if (want)                     \
			CHECK_STR(got, want); \
		else                          \
			CHECK((got) == NULL); \
	} while (0)
	CHECK_FIELD(cfg.iotda_endpoint, c->want_iotda);
	CHECK_FIELD(cfg.rfs_endpoint, c->want_rfs);
	CHECK_FIELD(cfg.iam_endpoint, c->want_iam);
#undef CHECK_FIELD
	CHECK_INT(cfg.derived_endpoints, c->want_derived);
	config_free(&cfg);
}

static void test_region_derive_cases(void)
{
	for (size_t i = 0; i < sizeof(derive_cases) / sizeof(derive_cases[0]);
	     i++)
		check_derive(&derive_cases[i]);
	for (size_t i = 0; i < NENV; i++)
		unsetenv(env_vars[i]);
}

struct table_case {
	enum region_service svc;
	const char *region;
	const char *host; /* NULL: not offered */
};

static const struct table_case table_cases[] = {
    {REGION_IOTDA, "cn-north-4", "iotda.cn-north-4.myhuaweicloud.com"},
    {REGION_IOTDA, "sa-brazil-1", "iotda.sa-brazil-1.myhuaweicloud.com"},
    {REGION_IOTDA, "cn-north-9", NULL},
    {REGION_IOTDA, "cn-north-4x", NULL}, /* whole ids only */
    {REGION_IOTDA, "", NULL},
    {REGION_IOTDA, NULL, NULL},
    {REGION_RFS, "cn-north-4", "rfs.cn-north-4.myhuaweicloud.com"},
    {REGION_RFS, "my-kualalumpur-1", "rfs.my-kualalumpur-1.myhuaweicloud.com"},
    {REGION_RFS, "eu-west-101", "aos.myhuaweicloud.eu"},
    {REGION_RFS, "cn-south-4", NULL},
    {REGION_IAM, "tr-west-1", "iam.tr-west-1.myhuaweicloud.com"},
    {REGION_IAM, "cn-south-4", "iam.myhuaweicloud.com"},
    {REGION_IAM, NULL, "iam.myhuaweicloud.com"},
};

static void test_region_table_host(void)
{
	for (size_t i = 0; i < sizeof(table_cases) / sizeof(table_cases[0]);
	     i++) {
		const struct table_case *c = &table_cases[i];
		const char *got = region_table_host(c->svc, c->region);

		if (c->host)
			CHECK_STR(got, c->host);
		else
			CHECK(got == NULL);
	}
	CHECK_STR(region_service_name(REGION_RFS), "RFS");
}

/* Through config_finish: the derived URLs are checked like given ones. */
static void test_config_finish_derives_from_region(void)
{
	char home[] = "/tmp/hwcfs-test-regions-XXXXXX";
	struct hwc_config cfg;
	char err[ERRLEN] = "";

	test_home_with_keys(home, "REGIONTESTAK00000001",
			    "region-test-secret/0000000000000001");
	setenv("HUAWEICLOUD_SDK_REGION_IOTDA_CN_NORTH_4", "https://io.mirror/",
	       1);
	config_init(&cfg);
	cfg.region = strdup("cn-north-4");
	CHECK_INT(config_finish(&cfg, err, sizeof(err)), 0);
	CHECK_STR(cfg.iotda_endpoint, "https://io.mirror");
	CHECK_STR(cfg.rfs_endpoint, "https://rfs.cn-north-4.myhuaweicloud.com");
	CHECK_STR(cfg.iam_endpoint, "https://iam.cn-north-4.myhuaweicloud.com");
	CHECK_INT(cfg.derived_endpoints, 1);
	config_free(&cfg);

	setenv("HUAWEICLOUD_SDK_REGION_IOTDA_CN_NORTH_4", "ftp://io.mirror", 1);
	config_init(&cfg);
	cfg.region = strdup("cn-north-4");
	CHECK_INT(config_finish(&cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "https://") != NULL);
	config_free(&cfg);
	unsetenv("HUAWEICLOUD_SDK_REGION_IOTDA_CN_NORTH_4");
	rmdir(home);
}

int main(void)
{
	test_region_derive_cases();
	test_region_table_host();
	test_config_finish_derives_from_region();
	return test_summary();
}
