/*
 * fuzz_config.c - the INI reader (config_ini_load) and the whole settings
 * path of the hwcfs config file (config_finish: keys, numbers, booleans,
 * endpoints, profile credentials, the private-file rule). Input: one byte
 * (bit 0: file readable by group; bit 1: profile "prod" instead of
 * "default"), then the file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_ini.h"
#include "fuzz_feed.h"
#include "fuzz_file.h"
#include "guard.h"

static const char *path;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	path = fuzz_file_init();
	setenv("HWCFS_CONFIG", path, 1);
	return 0;
}

static void check_ini(const struct config_ini *ini)
{
	for (size_t i = 0; i < ini->count; i++) {
		const struct config_ini_entry *e = &ini->entries[i], *g;
		size_t kn = strlen(e->key), vn = strlen(e->value);

		FUZZ_CHECK(config_ini_has_section(ini, e->section));
		FUZZ_CHECK(kn > 0 && e->key[0] != ' ' && e->key[kn - 1] != ' ');
		FUZZ_CHECK(!strchr(e->key, '=') && !strchr(e->key, '\n'));
		FUZZ_CHECK(!vn ||
			   (e->value[0] != ' ' && e->value[vn - 1] != ' '));
		/* A repeatable key (protect) is found at its first line. */
		g = config_ini_get(ini, e->section, e->key);
		FUZZ_CHECK(g == e ||
			   (g && guard_config_repeats(e->key) && g < e));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hwc_config cfg;
	struct config_ini ini;
	char err[512];
	mode_t mode;
	int rc;

	if (size < 1)
		return 0;
	mode = (data[0] & 1) ? 0640 : 0600;
	fuzz_file_set(data + 1, size - 1, mode);

	err[0] = '\0';
	rc = config_ini_load(path, &ini, err, sizeof(err));
	FUZZ_CHECK(rc <= 0);
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (!rc) {
		check_ini(&ini);
		config_ini_free(&ini);
	} else {
		FUZZ_CHECK(err[0] != '\0');
	}

	config_init(&cfg);
	if (data[0] & 2) {
		cfg.profile = strdup("prod");
		FUZZ_CHECK(cfg.profile != NULL);
	}
	rc = config_finish(&cfg, err, sizeof(err));
	FUZZ_CHECK(rc <= 0);
	if (rc) {
		FUZZ_CHECK(err[0] != '\0');
	} else {
		FUZZ_CHECK(cfg.timeout >= 1 && cfg.timeout <= 3600);
		FUZZ_CHECK(cfg.retries >= 0 && cfg.retries <= 20);
		FUZZ_CHECK(cfg.cache_ttl >= 0 && cfg.cache_ttl <= 86400);
		FUZZ_CHECK(cfg.cred.ak || cfg.cred.auth_token ||
			   cfg.cred.iam_user);
		FUZZ_CHECK(!cfg.cred.ak == !cfg.cred.sk);
		/* secrets came from this file: it must have been private */
		FUZZ_CHECK(mode == 0600);
	}
	config_free(&cfg);
	return 0;
}
