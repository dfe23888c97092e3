/*
 * fuzz_sdk_credentials.c - the SDK credentials file
 * (~/.huaweicloud/credentials, INI, [basic] ak/sk/security_token/
 * project_id) through config_finish. Input: one byte (bit 0: readable by
 * group), then the file.
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
	setenv("HUAWEICLOUD_SDK_CREDENTIALS_FILE", fuzz_file_init(), 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_file_credentials(data, size);
	return 0;
}
