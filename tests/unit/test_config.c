/* test_config.c - settings, profiles and the credential search, in a fake HOME.
 */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "test.h"

#define ERRLEN 1024

/* Distinct secrets per source, so a test can tell which one was taken. */
#define ENV_AK "ENVAK0000000000000001"
#define ENV_SK "env-secret-key/0000000000000000000001"
#define SDK_AK "SDKFILEAK00000000002"
#define SDK_SK "sdk-file-secret/0000000000000000000002"
#define CFG_AK "CONFIGAK000000000003"
#define CFG_SK "config-secret/000000000000000000000003"
#define KOO_AK "KOOCLIAK000000000004"
#define KOO_SK "koocli-secret/000000000000000000000004"
#define TOKEN "MIItokenSECRET0000000000000000000005"
#define PASSWORD "pass#word;SECRET6"

static char home[256];

static const char *const env_vars[] = {
    "HUAWEICLOUD_SDK_AK",
    "HUAWEICLOUD_SDK_SK",
    "HUAWEICLOUD_SDK_SECURITY_TOKEN",
    "HUAWEICLOUD_SDK_PROJECT_ID",
    "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
    "HUAWEICLOUD_SDK_IAM_ENDPOINT",
    "HWCFS_AUTH_TOKEN",
    "HWCFS_CONFIG",
    "XDG_CONFIG_HOME",
};

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void home_remove(void)
{
	if (home[0])
		nftw(home, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	home[0] = '\0';
}

/* A fresh, empty HOME and an environment with none of our variables. */
static void home_new(void)
{
	home_remove();
	snprintf(home, sizeof(home), "/tmp/hwcfs-test-config-XXXXXX");
	if (!mkdtemp(home)) {
		perror("mkdtemp");
		exit(2);
	}
	setenv("HOME", home, 1);
	for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
}

/* Writes HOME/rel (creating directories) with the given mode. */
static void put(const char *rel, mode_t mode, const char *fmt, ...)
{
	char path[512];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", home, rel);
	for (char *p = path + strlen(home) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0700);
		*p = '/';
	}
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	chmod(path, mode);
}

static void drop(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", home, rel);
	unlink(path);
}

static char *home_path(const char *rel)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", home, rel);
	return path;
}

#define CONFIG_REL ".config/hwcfs/config"
#define SDK_REL ".huaweicloud/credentials"
#define KOO_REL ".hcloud/config.json"

static void put_sdk_file(mode_t mode)
{
	put(SDK_REL, mode,
	    "[basic]\nak = " SDK_AK "\nsk = " SDK_SK
	    "\nproject_id = sdkproject\n\n[global]\ndomain_id = x\n");
}

static void put_koocli(const char *encrypt, const char *mode_name, mode_t mode)
{
	put(KOO_REL, mode,
	    "{\"current\":\"work\",\"authEncrypt\":\"%s\",\"language\":\"en\","
	    "\"profiles\":[{\"name\":\"default\",\"mode\":\"AKSK\","
	    "\"accessKeyId\":\"WRONGPROFILE\",\"secretAccessKey\":\"x\"},"
	    "{\"name\":\"work\",\"mode\":\"%s\",\"accessKeyId\":\"" KOO_AK
	    "\",\"secretAccessKey\":\"" KOO_SK "\",\"securityToken\":\"\","
	    "\"region\":\"ap-southeast-1\",\"projectId\":\"kooproject\"}]}",
	    encrypt, mode_name);
}

/* Runs config_finish on a fresh config, with preset fields if wanted. */
static int finish(struct hwc_config *cfg, char *err)
{
	err[0] = '\0';
	return config_finish(cfg, err, ERRLEN);
}

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

static bool err_has_no_secret(const char *err)
{
	static const char *const secrets[] = {ENV_AK, ENV_SK,	SDK_AK,	 SDK_SK,
					      CFG_AK, CFG_SK,	KOO_AK,	 KOO_SK,
					      TOKEN,  PASSWORD, "SECRET"};

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		if (strstr(err, secrets[i])) {
			fprintf(stderr, "secret in message: %s\n", err);
			return false;
		}
	}
	return true;
}

/* The number or flag setting named key. */
static int *int_field(struct hwc_config *cfg, const char *key)
{
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
	    {"timeout", offsetof(struct hwc_config, timeout)},
	    {"retries", offsetof(struct hwc_config, retries)},
	    {"cache_ttl", offsetof(struct hwc_config, cache_ttl)},
	    {"negative_ttl", offsetof(struct hwc_config, negative_ttl)},
	    {"ro", offsetof(struct hwc_config, ro)},
	    {"dry_run", offsetof(struct hwc_config, dry_run)},
	    {"parallel_list", offsetof(struct hwc_config, parallel_list)},
	    {"rmdir_cascade", offsetof(struct hwc_config, rmdir_cascade)},
	    {"auth_hold", offsetof(struct hwc_config, auth_hold)},
	    {"readahead", offsetof(struct hwc_config, readahead)},
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(fields[i].key, key) == 0)
			return (int *)((char *)cfg + fields[i].off);
	return NULL;
}

/* The string setting named key, as the command line would set it. */
static char **str_field(struct hwc_config *cfg, const char *key)
{
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
	    {"region", offsetof(struct hwc_config, region)},
	    {"signing", offsetof(struct hwc_config, signing)},
	    {"iotda_endpoint", offsetof(struct hwc_config, iotda_endpoint)},
	    {"rfs_endpoint", offsetof(struct hwc_config, rfs_endpoint)},
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(fields[i].key, key) == 0)
			return (char **)((char *)cfg + fields[i].off);
	return NULL;
}

/* ---- precedence ---- */

/*
 * With every source present, the environment wins; each step takes away
 * the source that won the one before, and the next in the order wins.
 */
static void test_precedence_env_sdk_file_config_koocli(void)
{
	static const struct {
		const char *ak, *sk, *source;
		const char *project_id; /* the source's, or NULL: not checked */
	} order[] = {
	    {ENV_AK, ENV_SK, "environment", NULL},
	    {SDK_AK, SDK_SK, "~/.huaweicloud/credentials", "sdkproject"},
	    {CFG_AK, CFG_SK, "hwcfs config file", NULL},
	    {KOO_AK, KOO_SK, "~/.hcloud/config.json", "kooproject"},
	};
	const size_t last = sizeof(order) / sizeof(order[0]) - 1;
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	setenv("HUAWEICLOUD_SDK_AK", ENV_AK, 1);
	setenv("HUAWEICLOUD_SDK_SK", ENV_SK, 1);
	put_sdk_file(0600);
	put(CONFIG_REL, 0600, "[default]\nak = " CFG_AK "\nsk = " CFG_SK "\n");
	put_koocli("false", "AKSK", 0600);

	for (size_t i = 0; i <= last; i++) {
		if (i == 1) {
			unsetenv("HUAWEICLOUD_SDK_AK");
			unsetenv("HUAWEICLOUD_SDK_SK");
		} else if (i == 2) {
			drop(SDK_REL);
		} else if (i == 3) {
			put(CONFIG_REL, 0600,
			    "[default]\nregion = cn-north-4\n");
		}
		config_init(&cfg);
		CHECK_INT(finish(&cfg, err), 0);
		if (!has(cfg.cred.source, order[i].source))
			fprintf(stderr, "step %zu: %s\n", i, err);
		CHECK_STR(cfg.cred.ak, order[i].ak);
		CHECK_STR(cfg.cred.sk, order[i].sk);
		CHECK_STR(cfg.cred.source, order[i].source);
		if (order[i].project_id)
			CHECK_STR(cfg.project_id, order[i].project_id);
		if (i == last) {
			CHECK(cfg.cred.security_token == NULL); /* "" */
			/* the profile's region, not KooCLI's */
			CHECK_STR(cfg.region, "cn-north-4");
		}
		config_free(&cfg);
	}
}

static void test_env_security_token_and_project_id(void)
{
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	setenv("HUAWEICLOUD_SDK_AK", ENV_AK, 1);
	setenv("HUAWEICLOUD_SDK_SK", ENV_SK, 1);
	setenv("HUAWEICLOUD_SDK_SECURITY_TOKEN", TOKEN, 1);
	setenv("HUAWEICLOUD_SDK_PROJECT_ID", "envproject", 1);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.cred.security_token, TOKEN);
	CHECK_STR(cfg.project_id, "envproject");
	config_free(&cfg);

	/* a project id given on the command line is kept */
	config_init(&cfg);
	cfg.project_id = strdup("cmdproject");
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.project_id, "cmdproject");
	config_free(&cfg);
}

static void test_env_auth_token_alone(void)
{
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	setenv("HWCFS_AUTH_TOKEN", TOKEN, 1);
	put_sdk_file(0600);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.cred.auth_token, TOKEN);
	CHECK(cfg.cred.ak == NULL);
	CHECK_STR(cfg.cred.source, "environment");
	config_free(&cfg);
}

static void test_sdk_credentials_file_named_by_env(void)
{
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	put("elsewhere/creds", 0600,
	    "[basic]\nak=" SDK_AK "\nsk=" SDK_SK
	    "\niam_endpoint=https://iam.example\n");
	setenv("HUAWEICLOUD_SDK_CREDENTIALS_FILE", home_path("elsewhere/creds"),
	       1);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.cred.ak, SDK_AK);
	CHECK_STR(cfg.iam_endpoint, "https://iam.example");
	config_free(&cfg);

	setenv("HUAWEICLOUD_SDK_CREDENTIALS_FILE", home_path("missing"), 1);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), -ENOENT);
	CHECK(has(err, home_path("missing")));
	config_free(&cfg);
}

/* ---- the config file ---- */

static void test_command_line_beats_profile(void)
{
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	setenv("HUAWEICLOUD_SDK_AK", ENV_AK, 1);
	setenv("HUAWEICLOUD_SDK_SK", ENV_SK, 1);
	put(CONFIG_REL, 0644,
	    "# settings\n[default]\nregion = cn-south-1\ncache_ttl = 60\n"
	    "timeout = 20\nro = yes\nrfs_endpoint = https://rfs.example/\n");
	config_init(&cfg);
	cfg.region = strdup("cn-north-4");
	cfg.cache_ttl = 7;
	cfg.ro = 0;
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.region, "cn-north-4");
	CHECK_INT(cfg.cache_ttl, 7);
	CHECK_INT(cfg.timeout, 20);
	CHECK_INT(cfg.ro, 0);
	CHECK_STR(cfg.rfs_endpoint, "https://rfs.example");
	config_free(&cfg);
}

static void test_profile_selects_section(void)
{
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	setenv("HUAWEICLOUD_SDK_AK", ENV_AK, 1);
	setenv("HUAWEICLOUD_SDK_SK", ENV_SK, 1);
	put(CONFIG_REL, 0600,
	    "[default]\nregion = cn-north-4\n\n; production\n[prod]\n"
	    "  region   =   ap-southeast-1  \nproject_id = prodproject\n"
	    "[test]\nregion = cn-east-3\n");
	config_init(&cfg);
	cfg.profile = strdup("prod");
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.region, "ap-southeast-1");
	CHECK_STR(cfg.project_id, "prodproject");
	config_free(&cfg);

	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.region, "cn-north-4");
	CHECK(cfg.project_id == NULL);
	config_free(&cfg);

	config_init(&cfg);
	cfg.profile = strdup("staging");
	CHECK_INT(finish(&cfg, err), -ENOENT);
	CHECK(has(err, "[staging]") && has(err, home_path(CONFIG_REL)));
	config_free(&cfg);
}

static void test_default_profile_may_be_absent(void)
{
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	setenv("HUAWEICLOUD_SDK_AK", ENV_AK, 1);
	setenv("HUAWEICLOUD_SDK_SK", ENV_SK, 1);
	put(CONFIG_REL, 0600, "[prod]\nregion = cn-north-4\n");
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), 0);
	CHECK(cfg.region == NULL);
	config_free(&cfg);

	/* no file at all: fine for "default", not for a named profile */
	drop(CONFIG_REL);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), 0);
	config_free(&cfg);
	config_init(&cfg);
	cfg.profile = strdup("prod");
	CHECK_INT(finish(&cfg, err), -ENOENT);
	CHECK(has(err, "[prod]"));
	config_free(&cfg);
}

static void check_config_error_rc(const char *text, const char *want, int rc)
{
	struct hwc_config cfg;
	char err[ERRLEN], expect[600];

	home_new();
	setenv("HUAWEICLOUD_SDK_AK", ENV_AK, 1);
	setenv("HUAWEICLOUD_SDK_SK", ENV_SK, 1);
	put(CONFIG_REL, 0600, "%s", text);
	snprintf(expect, sizeof(expect), "%s:%s", home_path(CONFIG_REL), want);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), rc);
	if (!has(err, expect))
		fprintf(stderr, "got \"%s\", want \"%s\"\n", err, expect);
	CHECK(has(err, expect));
	CHECK(err_has_no_secret(err));
	config_free(&cfg);
}

/*
 * Profiles a config file refuses. The error names the file and the line
 * ("PATH:LINE: ..."); a number or flag out of range is a usage error
 * (-ERANGE, as with -o), anything else -EINVAL.
 */
static const struct {
	const char *text;
	int rc;
	const char *want; /* after "PATH:" */
} bad_profiles[] = {
    /* syntax */
    {"[default]\nregion = x\nSECRET junk line\n", -EINVAL,
     "3: expected \"key = value\""},
    {"\n\n[default\n", -EINVAL, "3: malformed section header"},
    {"[default] x\n", -EINVAL, "1: malformed section header"},
    {"[]\n", -EINVAL, "1: empty section name"},
    {"region = cn-north-4\n", -EINVAL, "1: region is outside"},
    {"[default]\n = SECRET\n", -EINVAL, "2: missing key"},
    {"[a]\n[b]\n[a]\n", -EINVAL, "3: section [a] given twice"},
    {"[default]\nsk = SECRET1\nsk = SECRET2\n", -EINVAL, "3: sk given twice"},
    /* unknown keys, also in a profile not in use: a typo is caught early */
    {"[default]\nregoin = cn-north-4\n", -EINVAL, "2: unknown key regoin"},
    {"[default]\n[other]\nsecret_key = SECRET\n", -EINVAL,
     "3: unknown key secret_key"},
    /* numbers and flags, named by their key */
    {"[default]\ncache_ttl = -1\n", -ERANGE,
     "2: cache_ttl must be a whole number from 0 to 86400"},
    {"[default]\ntimeout = 0\n", -ERANGE, "2: timeout must be"},
    {"[default]\nretries = SECRETabc\n", -ERANGE, "2: retries must be"},
    {"[default]\nparallel_list = 12\n", -ERANGE,
     "2: parallel_list must be 0 or 1"},
    {"[default]\nnegative_ttl = 99999999999\n", -ERANGE,
     "2: negative_ttl must be"},
    {"[default]\ndry_run = maybe\n", -ERANGE, "2: dry_run must"},
    /* 0 would let a revoked key be locked (docs/backend.md) */
    {"[default]\nauth_hold = 0\n", -ERANGE,
     "2: auth_hold must be a whole number from 1 to 86400"},
    {"[default]\nreadahead = 65\n", -ERANGE,
     "2: readahead must be a whole number from 0 to 64"},
    {"[default]\nregion =\n", -EINVAL, "2: region has an empty"},
};

static void test_bad_profiles_name_file_and_line(void)
{
	for (size_t i = 0; i < sizeof(bad_profiles) / sizeof(bad_profiles[0]);
	     i++)
		check_config_error_rc(bad_profiles[i].text,
				      bad_profiles[i].want, bad_profiles[i].rc);
}

/* Settings given on the command line, checked as a profile's are. */
static void test_values_from_command_line_validated(void)
{
	static const struct {
		const char *key, *value;
		int rc;
		const char *want; /* in the error */
	} cases[] = {
	    {"retries", "100", -ERANGE, "retries"},
	    {"signing", "hmac", -EINVAL, "signing must be auto, sdk or v11"},
	    {"iotda_endpoint", "iotda.cn-north-4.myhuaweicloud.com", -EINVAL,
	     "iotda_endpoint must start with https:// or http://"},
	    {"rfs_endpoint", "https://", -EINVAL, "rfs_endpoint has no host"},
	    {"region", "cn-north-4/../x", -EINVAL, "region"},
	};
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	setenv("HUAWEICLOUD_SDK_AK", ENV_AK, 1);
	setenv("HUAWEICLOUD_SDK_SK", ENV_SK, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int *number;

		config_init(&cfg);
		number = int_field(&cfg, cases[i].key);
		if (number)
			*number = atoi(cases[i].value);
		else
			*str_field(&cfg, cases[i].key) = strdup(cases[i].value);
		CHECK_INT(finish(&cfg, err), cases[i].rc);
		if (!has(err, cases[i].want))
			fprintf(stderr, "%s = %s: \"%s\"\n", cases[i].key,
				cases[i].value, err);
		CHECK(has(err, cases[i].want));
		config_free(&cfg);
	}

	config_init(&cfg);
	cfg.signing = strdup("v11");
	cfg.iotda_endpoint = strdup("http://127.0.0.1:8080");
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.iotda_endpoint, "http://127.0.0.1:8080");
	config_free(&cfg);
}

static void test_defaults_applied(void)
{
	static const struct {
		const char *key;
		int value;
	} numbers[] = {
	    {"cache_ttl", 30},	  {"negative_ttl", 5}, {"timeout", 10},
	    {"retries", 4},	  {"auth_hold", 300},  {"parallel_list", 1},
	    {"rmdir_cascade", 0}, {"dry_run", 0},      {"ro", 0},
	    {"readahead", 16},
	};
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	setenv("HUAWEICLOUD_SDK_AK", ENV_AK, 1);
	setenv("HUAWEICLOUD_SDK_SK", ENV_SK, 1);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.profile, "default");
	CHECK_STR(cfg.config_file, home_path(CONFIG_REL));
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		int got = *int_field(&cfg, numbers[i].key);

		if (got != numbers[i].value)
			fprintf(stderr, "default %s\n", numbers[i].key);
		CHECK_INT(got, numbers[i].value);
	}
	CHECK_STR(cfg.signing, "auto");
	CHECK(cfg.iam_endpoint == NULL); /* no region, no guess */
	CHECK(cfg.iotda_endpoint == NULL && cfg.rfs_endpoint == NULL);
	config_free(&cfg);
}

static void test_iam_endpoint_default_and_env_override(void)
{
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	setenv("HUAWEICLOUD_SDK_AK", ENV_AK, 1);
	setenv("HUAWEICLOUD_SDK_SK", ENV_SK, 1);
	config_init(&cfg);
	cfg.region = strdup("cn-north-4");
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.iam_endpoint, "https://iam.cn-north-4.myhuaweicloud.com");
	config_free(&cfg);

	setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", "http://127.0.0.1:9/", 1);
	config_init(&cfg);
	cfg.region = strdup("cn-north-4");
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.iam_endpoint, "http://127.0.0.1:9");
	config_free(&cfg);

	/* the profile still beats the environment's default */
	put(CONFIG_REL, 0600, "[default]\niam_endpoint = https://iam.mine\n");
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.iam_endpoint, "https://iam.mine");
	config_free(&cfg);
}

static void test_named_config_file_must_exist(void)
{
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	setenv("HUAWEICLOUD_SDK_AK", ENV_AK, 1);
	setenv("HUAWEICLOUD_SDK_SK", ENV_SK, 1);
	config_init(&cfg);
	cfg.config_file = strdup(home_path("nope.ini"));
	CHECK_INT(finish(&cfg, err), -ENOENT);
	CHECK(has(err, home_path("nope.ini")));
	config_free(&cfg);

	setenv("HWCFS_CONFIG", home_path("nope2.ini"), 1);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), -ENOENT);
	CHECK(has(err, home_path("nope2.ini")));
	config_free(&cfg);

	/* a path through a regular file cannot be read (root reads 000) */
	put("plain", 0600, "x");
	config_init(&cfg);
	cfg.config_file = strdup(home_path("plain/config"));
	CHECK_INT(finish(&cfg, err), -ENOTDIR);
	CHECK(has(err, "cannot read") && has(err, home_path("plain/config")));
	config_free(&cfg);

	config_init(&cfg);
	cfg.config_file = strdup(home);
	CHECK_INT(finish(&cfg, err), -EINVAL);
	CHECK(has(err, "not a regular file"));
	config_free(&cfg);
}

static void test_config_default_path(void)
{
	char buf[512], want[512];

	home_new();
	CHECK_INT(config_default_path(buf, sizeof(buf)), 0);
	CHECK_STR(buf, home_path(CONFIG_REL));
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	CHECK_INT(config_default_path(buf, sizeof(buf)), 0);
	CHECK_STR(buf, "/xdg/hwcfs/config");
	setenv("XDG_CONFIG_HOME", "relative", 1); /* not absolute: ignored */
	CHECK_INT(config_default_path(buf, sizeof(buf)), 0);
	CHECK_STR(buf, home_path(CONFIG_REL));
	setenv("HWCFS_CONFIG", "/etc/hwcfs.conf", 1);
	CHECK_INT(config_default_path(buf, sizeof(buf)), 0);
	CHECK_STR(buf, "/etc/hwcfs.conf");
	CHECK_INT(config_default_path(buf, 5), -ENAMETOOLONG);
	unsetenv("HWCFS_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
	snprintf(want, sizeof(want), "%s", home);
	/* mount(8) unsets HOME: the password database's home is used. */
	unsetenv("HOME");
	CHECK_INT(config_default_path(buf, sizeof(buf)), 0);
	CHECK(strstr(buf, "/.config/hwcfs/config") != NULL);
	CHECK(strncmp(buf, want, strlen(want)) != 0);
	setenv("HOME", want, 1);
}

static void test_profile_password_login(void)
{
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	put(CONFIG_REL, 0600,
	    "[default]\niam_user = demo\niam_password = " PASSWORD
	    "\niam_domain = demo\n");
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.cred.iam_user, "demo");
	CHECK_STR(cfg.cred.iam_password, PASSWORD); /* '#' and ';' kept */
	CHECK_STR(cfg.cred.iam_domain, "demo");
	CHECK(cfg.cred.ak == NULL);
	config_free(&cfg);

	put(CONFIG_REL, 0600,
	    "[default]\niam_user = demo\niam_password = " PASSWORD "\n");
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), -EINVAL);
	CHECK(has(err, "iam_domain") && err_has_no_secret(err));
	config_free(&cfg);
}

/* ---- permissions ---- */

static void test_readable_credentials_file_refused(void)
{
	struct hwc_config cfg;
	char err[ERRLEN], want[1200];
	const char *path = NULL;

	home_new();
	put_sdk_file(0644);
	path = home_path(SDK_REL);
	snprintf(want, sizeof(want),
		 "%s is readable by group or others (mode 0644); chmod 600 %s",
		 path, path);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), -EACCES);
	CHECK_STR(err, want);
	CHECK(err_has_no_secret(err));
	CHECK(cfg.cred.ak == NULL && cfg.cred.sk == NULL);
	config_free(&cfg);

	chmod(home_path(SDK_REL), 0600);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.cred.ak, SDK_AK);
	config_free(&cfg);

	chmod(home_path(SDK_REL), 0620);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), -EACCES);
	CHECK(has(err, "writable by group or others (mode 0620)"));
	config_free(&cfg);
}

static void test_config_file_with_secret_must_be_private(void)
{
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	setenv("HUAWEICLOUD_SDK_AK", ENV_AK, 1);
	setenv("HUAWEICLOUD_SDK_SK", ENV_SK, 1);
	/* a secret in any profile makes the file secret */
	put(CONFIG_REL, 0640,
	    "[default]\nregion = cn-north-4\n[other]\nsk = " CFG_SK "\n");
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), -EACCES);
	CHECK(has(err, home_path(CONFIG_REL)) && has(err, "(mode 0640)"));
	CHECK(err_has_no_secret(err));
	config_free(&cfg);

	/* no secret: 0644 is fine */
	put(CONFIG_REL, 0644, "[default]\nregion = cn-north-4\n");
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.region, "cn-north-4");
	config_free(&cfg);
}

static void test_config_check_private_direct(void)
{
	char err[ERRLEN];

	home_new();
	put("f", 0600, "x");
	CHECK_INT(config_check_private(home_path("f"), err, sizeof(err)), 0);
	chmod(home_path("f"), 0604);
	CHECK_INT(config_check_private(home_path("f"), err, sizeof(err)),
		  -EACCES);
	CHECK(has(err, "(mode 0604)") && has(err, "chmod 600"));
	CHECK_INT(config_check_private(home_path("g"), err, sizeof(err)),
		  -ENOENT);
}

/* ---- KooCLI ---- */

static void test_koocli_encrypted_skipped(void)
{
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	put_koocli("true", "AKSK", 0600);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), -ENOKEY);
	CHECK(has(err, "encrypted"));
	CHECK(has(err, "HUAWEICLOUD_SDK_AK"));
	CHECK(cfg.cred.ak == NULL);
	CHECK(err_has_no_secret(err));
	config_free(&cfg);

	put_koocli("false", "SSO", 0600);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), -ENOKEY);
	CHECK(has(err, "not in AKSK mode"));
	config_free(&cfg);
}

static void test_koocli_plaintext_used_and_must_be_private(void)
{
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	put_koocli("false", "AKSK", 0600);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.cred.ak, KOO_AK); /* the "current" profile's */
	CHECK_STR(cfg.region, "ap-southeast-1");
	CHECK_STR(cfg.project_id, "kooproject");
	CHECK_STR(cfg.iam_endpoint,
		  "https://iam.ap-southeast-1.myhuaweicloud.com");
	config_free(&cfg);

	chmod(home_path(KOO_REL), 0644);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), -EACCES);
	CHECK(has(err, home_path(KOO_REL)) && has(err, "(mode 0644)"));
	CHECK(err_has_no_secret(err));
	config_free(&cfg);
}

/* ---- owner of a secret-holding file ---- */

/*
 * Each file that may hold keys, chowned to another user (65534, "nobody")
 * while its mode stays 600: refused, naming the file and the owner; root's
 * own files are fine. Needs root to chown; skipped otherwise.
 */
static void test_file_of_another_owner_refused(void)
{
	static const struct {
		const char *rel;
		const char *env; /* HUAWEICLOUD_SDK_CREDENTIALS_FILE, or NULL */
	} files[] = {
	    {CONFIG_REL, NULL},
	    {SDK_REL, NULL},
	    {"named-credentials", "HUAWEICLOUD_SDK_CREDENTIALS_FILE"},
	    {KOO_REL, NULL},
	};
	struct hwc_config cfg;
	char err[ERRLEN];

	if (geteuid() != 0) {
		printf("skipped: chown needs root\n");
		return;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		home_new();
		if (strcmp(files[i].rel, KOO_REL) == 0)
			put_koocli("false", "AKSK", 0600);
		else if (strcmp(files[i].rel, CONFIG_REL) == 0)
			put(CONFIG_REL, 0600,
			    "[default]\nak = " CFG_AK "\nsk = " CFG_SK "\n");
		else
			put(files[i].rel, 0600,
			    "[basic]\nak = " SDK_AK "\nsk = " SDK_SK "\n");
		if (files[i].env)
			setenv(files[i].env, home_path(files[i].rel), 1);
		CHECK_INT(chown(home_path(files[i].rel), 65534, 65534), 0);
		config_init(&cfg);
		CHECK_INT(finish(&cfg, err), -EACCES);
		CHECK(has(err, home_path(files[i].rel)));
		CHECK(has(err, "owned by uid 65534"));
		CHECK(has(err, "not by uid 0"));
		CHECK(err_has_no_secret(err));
		CHECK(cfg.cred.ak == NULL && cfg.cred.sk == NULL);
		config_free(&cfg);

		CHECK_INT(chown(home_path(files[i].rel), 0, 0), 0);
		config_init(&cfg);
		CHECK_INT(finish(&cfg, err), 0);
		CHECK(cfg.cred.sk != NULL);
		config_free(&cfg);
		if (files[i].env)
			unsetenv(files[i].env);
	}
}

/* ---- numbers and flags: the command line as the profile ---- */

/*
 * Each value through config_set (what -o does) and through a profile:
 * both accept it as the same number, or both refuse it with -ERANGE.
 */
static void test_numbers_same_on_command_line_and_in_profile(void)
{
	static const struct {
		const char *key, *value;
		int want; /* the value, or -1: refused */
	} cases[] = {
	    {"timeout", "-1", -1},
	    {"retries", "-1", -1},
	    {"cache_ttl", "-1", -1},
	    {"negative_ttl", "-1", -1},
	    {"cache_ttl", "4294967296", -1},
	    {"timeout", "4294967297", -1},
	    {"negative_ttl", "2147483648", -1},
	    {"retries", "18446744073709551617", -1},
	    {"timeout", "0", -1},
	    {"timeout", "3601", -1},
	    {"retries", "21", -1},
	    {"cache_ttl", "86401", -1},
	    {"timeout", "", -1},
	    {"timeout", "+5", -1},
	    {"timeout", "5s", -1},
	    {"timeout", "0x10", -1},
	    {"timeout", "1e3", -1},
	    {"timeout", "5.0", -1},
	    {"ro", "2", -1},
	    {"ro", "maybe", -1},
	    {"dry_run", "-1", -1},
	    {"timeout", "1", 1},
	    {"timeout", "3600", 3600},
	    {"timeout", "007", 7},
	    {"retries", "0", 0},
	    {"retries", "20", 20},
	    {"cache_ttl", "0", 0},
	    {"cache_ttl", "86400", 86400},
	    {"negative_ttl", "0", 0},
	    {"ro", "yes", 1},
	    {"ro", "0", 0},
	    {"parallel_list", "off", 0},
	    {"rmdir_cascade", "TRUE", 1},
	};
	struct hwc_config cfg;
	char err[ERRLEN], text[200];
	int *field;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = cases[i].want >= 0;

		home_new();
		setenv("HUAWEICLOUD_SDK_AK", ENV_AK, 1);
		setenv("HUAWEICLOUD_SDK_SK", ENV_SK, 1);
		config_init(&cfg);
		err[0] = '\0';
		CHECK_INT(
		    config_set(&cfg, cases[i].key, cases[i].value, err, ERRLEN),
		    ok ? 0 : -ERANGE);
		if (!ok)
			CHECK(has(err, cases[i].key) && has(err, "must be"));
		CHECK_INT(finish(&cfg, err), 0);
		field = int_field(&cfg, cases[i].key);
		if (ok) {
			CHECK_INT(*field, cases[i].want);
			CHECK_STR(config_origin(&cfg, cases[i].key),
				  "command line");
		}
		config_free(&cfg);

		snprintf(text, sizeof(text), "[default]\n%s = %s\n",
			 cases[i].key, cases[i].value);
		put(CONFIG_REL, 0600, "%s", text);
		config_init(&cfg);
		if (!cases[i].value[0]) {
			/* an empty value is refused in a profile anyway */
			CHECK_INT(finish(&cfg, err), -EINVAL);
		} else if (ok) {
			CHECK_INT(finish(&cfg, err), 0);
			CHECK_INT(*field, cases[i].want);
		} else {
			CHECK_INT(finish(&cfg, err), -ERANGE);
			CHECK(has(err, home_path(CONFIG_REL)) &&
			      has(err, ":2: ") && has(err, cases[i].key));
		}
		config_free(&cfg);
	}
	home_new();
	config_init(&cfg);
	CHECK_INT(config_set(&cfg, "region", "x", err, ERRLEN), -EINVAL);
	CHECK_INT(config_set(&cfg, "sk", "x", err, ERRLEN), -EINVAL);
	config_free(&cfg);
}

/* ---- where each value came from ---- */

/* Marks an origin that is "profile prod of" the config file's path. */
static const char PROFILE[] = "profile";

static void test_origins_name_each_source(void)
{
	static const struct {
		const char *key, *origin;
	} origins[] = {
	    {"region", PROFILE},
	    {"cache_ttl", PROFILE},
	    {"ro", PROFILE},
	    {"timeout", "command line"},
	    {"rfs_endpoint", "command line"},
	    {"profile", "command line"},
	    {"config", "default"},
	    {"retries", "default"},
	    {"iam_endpoint",
	     "derived from region cn-north-4 (the SDKs' table)"},
	    {"ak", "environment HUAWEICLOUD_SDK_AK"},
	    {"sk", "environment HUAWEICLOUD_SDK_SK"},
	    {"project_id", "environment HUAWEICLOUD_SDK_PROJECT_ID"},
	};
	/* Lines config_print (--check) writes. */
	static const char *const printed[] = {
	    "ak: from environment HUAWEICLOUD_SDK_AK\n",
	    "sk: from environment HUAWEICLOUD_SDK_SK\n",
	    "timeout: 20 (command line)\n",
	    "retries: 4 (default)\n",
	    "ro: yes (profile prod",
	    "instance_id: none\n",
	};
	struct hwc_config cfg;
	char err[ERRLEN], want[700], profile[700], *text = NULL;
	size_t len = 0;
	FILE *out;

	home_new();
	setenv("HUAWEICLOUD_SDK_AK", ENV_AK, 1);
	setenv("HUAWEICLOUD_SDK_SK", ENV_SK, 1);
	setenv("HUAWEICLOUD_SDK_PROJECT_ID", "envproject", 1);
	put(CONFIG_REL, 0600,
	    "[prod]\nregion = cn-north-4\ncache_ttl = 60\nro = 1\n"
	    "ak = " CFG_AK "\nsk = " CFG_SK "\n");
	config_init(&cfg);
	cfg.profile = strdup("prod");
	CHECK_INT(config_set(&cfg, "timeout", "20", err, ERRLEN), 0);
	cfg.rfs_endpoint = strdup("https://rfs.example");
	CHECK_INT(finish(&cfg, err), 0);
	snprintf(profile, sizeof(profile), "profile prod of %s",
		 home_path(CONFIG_REL));
	for (size_t i = 0; i < sizeof(origins) / sizeof(origins[0]); i++) {
		const char *want =
		    origins[i].origin == PROFILE ? profile : origins[i].origin;
		const char *got = config_origin(&cfg, origins[i].key);

		if (!got || strcmp(got, want) != 0)
			fprintf(stderr, "origin of %s\n", origins[i].key);
		CHECK_STR(got, want);
	}
	CHECK(config_origin(&cfg, "instance_id") == NULL);

	out = open_memstream(&text, &len);
	config_print(&cfg, out);
	fclose(out);
	for (size_t i = 0; i < sizeof(printed) / sizeof(printed[0]); i++) {
		if (!has(text, printed[i]))
			fprintf(stderr, "not printed: %s", printed[i]);
		CHECK(has(text, printed[i]));
	}
	snprintf(want, sizeof(want),
		 "region: cn-north-4 (profile prod of %s)\n",
		 home_path(CONFIG_REL));
	CHECK(has(text, want));
	CHECK(err_has_no_secret(text));
	free(text);
	config_free(&cfg);
	unsetenv("HUAWEICLOUD_SDK_PROJECT_ID");

	/* keys from the profile, and a default config file that is missing */
	unsetenv("HUAWEICLOUD_SDK_AK");
	unsetenv("HUAWEICLOUD_SDK_SK");
	config_init(&cfg);
	cfg.profile = strdup("prod");
	CHECK_INT(finish(&cfg, err), 0);
	snprintf(want, sizeof(want), "profile prod of %s",
		 home_path(CONFIG_REL));
	CHECK_STR(config_origin(&cfg, "sk"), want);
	config_free(&cfg);

	drop(CONFIG_REL);
	put_sdk_file(0600);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), 0);
	snprintf(want, sizeof(want), "[basic] of %s", home_path(SDK_REL));
	CHECK_STR(config_origin(&cfg, "ak"), want);
	CHECK_STR(config_origin(&cfg, "project_id"), want);
	CHECK_STR(config_origin(&cfg, "config"), "default; no such file");
	config_free(&cfg);
}

/* ---- secrets leave memory once the HTTP client has them ---- */

static void test_forget_secrets_wipes_config_and_environment(void)
{
	struct hwc_config cfg;
	char err[ERRLEN], *env_sk;

	home_new();
	setenv("HUAWEICLOUD_SDK_AK", ENV_AK, 1);
	setenv("HUAWEICLOUD_SDK_SK", ENV_SK, 1);
	env_sk = getenv("HUAWEICLOUD_SDK_SK");
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), 0);
	CHECK_STR(cfg.cred.sk, ENV_SK);
	config_forget_secrets(&cfg);
	CHECK(cfg.cred.ak == NULL && cfg.cred.sk == NULL);
	CHECK_STR(cfg.cred.source, "environment");
	CHECK_STR(config_origin(&cfg, "sk"), "environment HUAWEICLOUD_SDK_SK");
	CHECK(getenv("HUAWEICLOUD_SDK_SK") == NULL);
	CHECK(getenv("HUAWEICLOUD_SDK_AK") == NULL);
	/* the string the environment held is overwritten, not only unset */
	CHECK(env_sk[0] == '\0' && memchr(env_sk, 'e', strlen(ENV_SK)) == NULL);
	config_free(&cfg);
}

/* ---- no or half credentials ---- */

static void test_missing_credentials_names_the_four_places(void)
{
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), -ENOKEY);
	CHECK(has(err, "HUAWEICLOUD_SDK_AK"));
	CHECK(has(err, "~/.huaweicloud/credentials"));
	CHECK(has(err, home_path(CONFIG_REL)));
	CHECK(has(err, "~/.hcloud/config.json"));
	CHECK(strchr(err, '\n') == NULL);
	config_free(&cfg);
}

static void test_half_pairs_name_their_source(void)
{
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	setenv("HUAWEICLOUD_SDK_AK", ENV_AK, 1);
	put_sdk_file(0600); /* never reached: the environment is first */
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), -EINVAL);
	CHECK(has(err, "environment") && has(err, "without its SK"));
	CHECK(err_has_no_secret(err));
	CHECK(cfg.cred.ak == NULL);
	config_free(&cfg);

	unsetenv("HUAWEICLOUD_SDK_AK");
	setenv("HUAWEICLOUD_SDK_SECURITY_TOKEN", TOKEN, 1);
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), -EINVAL);
	CHECK(has(err, "security token without AK/SK"));
	CHECK(err_has_no_secret(err));
	config_free(&cfg);

	unsetenv("HUAWEICLOUD_SDK_SECURITY_TOKEN");
	put(SDK_REL, 0600, "[basic]\nsk = " SDK_SK "\n");
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), -EINVAL);
	CHECK(has(err, home_path(SDK_REL)) && has(err, "without its AK"));
	CHECK(err_has_no_secret(err));
	config_free(&cfg);

	drop(SDK_REL);
	put(CONFIG_REL, 0600, "[default]\nak = " CFG_AK "\n");
	config_init(&cfg);
	CHECK_INT(finish(&cfg, err), -EINVAL);
	CHECK(has(err, "profile [default]") && has(err, "without its SK"));
	CHECK(err_has_no_secret(err));
	config_free(&cfg);
}

/* A secret-looking value in a bad number, a bad line, a bad key. */
static void test_errors_never_hold_secrets(void)
{
	static const struct {
		const char *text;
		int rc;
		const char *want; /* in the error, or NULL */
	} cases[] = {
	    {"[default]\nsk = " CFG_SK "\nak = " CFG_AK "\ntimeout = " CFG_SK
	     "\n",
	     -ERANGE, "timeout"},
	    {"[default]\n" CFG_SK "\n", -EINVAL, NULL},
	    {"[default]\nsigning = " PASSWORD "\n", -EINVAL, NULL},
	    {"[default]\niotda_endpoint = https://user:" PASSWORD "@h x\n",
	     -EINVAL, NULL},
	};
	struct hwc_config cfg;
	char err[ERRLEN];

	home_new();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put(CONFIG_REL, 0600, "%s", cases[i].text);
		config_init(&cfg);
		CHECK_INT(finish(&cfg, err), cases[i].rc);
		if (cases[i].want)
			CHECK(has(err, cases[i].want));
		CHECK(err_has_no_secret(err));
		config_free(&cfg);
	}
}

int main(void)
{
	test_precedence_env_sdk_file_config_koocli();
	test_env_security_token_and_project_id();
	test_env_auth_token_alone();
	test_sdk_credentials_file_named_by_env();
	test_command_line_beats_profile();
	test_profile_selects_section();
	test_default_profile_may_be_absent();
	test_bad_profiles_name_file_and_line();
	test_values_from_command_line_validated();
	test_defaults_applied();
	test_iam_endpoint_default_and_env_override();
	test_named_config_file_must_exist();
	test_config_default_path();
	test_profile_password_login();
	test_readable_credentials_file_refused();
	test_config_file_with_secret_must_be_private();
	test_config_check_private_direct();
	test_koocli_encrypted_skipped();
	test_koocli_plaintext_used_and_must_be_private();
	test_missing_credentials_names_the_four_places();
	test_half_pairs_name_their_source();
	test_errors_never_hold_secrets();
	test_file_of_another_owner_refused();
	test_numbers_same_on_command_line_and_in_profile();
	test_origins_name_each_source();
	test_forget_secrets_wipes_config_and_environment();
	home_remove();
	return test_summary();
}
