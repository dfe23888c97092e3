/*
 * fuzz_koocli.c - KooCLI's JSON profile file (~/.hcloud/config.json:
 * current, profiles[], authEncrypt, mode, accessKeyId, ...) through
 * config_finish. Input: one byte (bit 0: readable by group), then the
 * file.
 */
#include <stdint.h>
#include <stdlib.h>

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
	fuzz_file_credentials(data, size);
	return 0;
}
