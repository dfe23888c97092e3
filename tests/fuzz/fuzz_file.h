/*
 * fuzz_file.h - the config fuzz targets' fake files: one memfd whose
 * contents are replaced by each input, reachable by path
 * (/proc/self/fd/N), so the real file readers run without disk writes.
 * HOME is a fresh empty directory and no credential variable is set.
 */
#ifndef HWCFS_FUZZ_FILE_H
#define HWCFS_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Creates the memfd and the empty HOME once; returns the file's path. */
const char *fuzz_file_init(void);
/* The fresh HOME directory made by fuzz_file_init. */
const char *fuzz_file_home(void);
/* Makes ~/.hcloud/config.json (KooCLI's file) a link to the file. */
void fuzz_file_koocli_link(void);
/* Replaces the file's contents and mode. */
void fuzz_file_set(const uint8_t *data, size_t size, mode_t mode);
/*
 * One credentials-file input: byte 0 bit 0 makes the file readable by
 * group, the rest is the file. Runs config_finish and checks that it
 * either fails with a message or found both keys in a private file.
 */
void fuzz_file_credentials(const uint8_t *data, size_t size);

#endif
