/* fuzz_file.c - the memfd-backed file of the config fuzz targets. */
#include "fuzz_file.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_feed.h"

static int file_fd = -1;
static char file_path[64];
static char file_home[64];
static char file_link[128];

static void file_cleanup(void)
{
	char dir[128];

	unlink(file_link);
	snprintf(dir, sizeof(dir), "%s/.hcloud", file_home);
	rmdir(dir);
	rmdir(file_home);
}

const char *fuzz_file_init(void)
{
	static const char *const unset[] = {
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

	if (file_fd >= 0)
		return file_path;
	file_fd = memfd_create("hwcfs-fuzz", MFD_CLOEXEC);
	FUZZ_CHECK(file_fd >= 0);
	snprintf(file_path, sizeof(file_path), "/proc/self/fd/%d", file_fd);
	snprintf(file_home, sizeof(file_home), "/tmp/hwcfs-fuzz-XXXXXX");
	FUZZ_CHECK(mkdtemp(file_home) != NULL);
	atexit(file_cleanup);
	for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
		unsetenv(unset[i]);
	setenv("HOME", file_home, 1);
	return file_path;
}

const char *fuzz_file_home(void)
{
	return file_home;
}

void fuzz_file_koocli_link(void)
{
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/.hcloud", file_home);
	FUZZ_CHECK(mkdir(dir, 0700) == 0);
	snprintf(file_link, sizeof(file_link), "%s/config.json", dir);
	FUZZ_CHECK(symlink(file_path, file_link) == 0);
}

void fuzz_file_set(const uint8_t *data, size_t size, mode_t mode)
{
	FUZZ_CHECK(ftruncate(file_fd, 0) == 0);
	FUZZ_CHECK(pwrite(file_fd, data, size, 0) == (ssize_t)size);
	FUZZ_CHECK(fchmod(file_fd, mode) == 0);
}

void fuzz_file_credentials(const uint8_t *data, size_t size)
{
	struct hwc_config cfg;
	char err[512];
	mode_t mode;
	int rc;

	if (size < 1)
		return;
	mode = (data[0] & 1) ? 0644 : 0600;
	fuzz_file_set(data + 1, size - 1, mode);
	config_init(&cfg);
	err[0] = '\0';
	rc = config_finish(&cfg, err, sizeof(err));
	FUZZ_CHECK(rc <= 0);
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (rc) {
		/* Keys found before a later settings error stay in cfg until
		 * config_free wipes them. */
		FUZZ_CHECK(err[0] != '\0');
	} else {
		/* The only source there is: both keys, from a private file. */
		FUZZ_CHECK(cfg.cred.ak && cfg.cred.sk);
		FUZZ_CHECK(mode == 0600);
	}
	config_free(&cfg);
}
