/*
 * fuzz_koocli.c - KooCLI's JSON profile file (~/.hcloud/config.json:
 * current, profiles[], authEncrypt, mode, accessKeyId, ...) through
 * config_finish. Input: one byte (bit 0: readable by group), then the
 * file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_feed.h"
#include "fuzz_file.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_file_init();
	fuzz_file_koocli_link();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hwc_config cfg;
	char err[512];
	mode_t mode;
	int rc;

	if (size < 1)
		return 0;
	mode = (data[0] & 1) ? 0644 : 0600;
	fuzz_file_set(data + 1, size - 1, mode);
	config_init(&cfg);
	err[0] = '\0';
	rc = config_finish(&cfg, err, sizeof(err));
	FUZZ_CHECK(rc <= 0);
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (rc) {
		FUZZ_CHECK(err[0] != '\0');
	} else {
		FUZZ_CHECK(cfg.cred.ak && cfg.cred.sk);
		FUZZ_CHECK(mode == 0600);
	}
	config_free(&cfg);
	return 0;
}
