/*
 * file.h - reading a whole small file (a CA bundle, a credentials file)
 * into memory, once for every layer.
 */
#ifndef HWCFS_FILE_H
#define HWCFS_FILE_H

#include <stddef.h>
#include <sys/stat.h>

/*
 * Reads all of path into *out (malloc'ed, NUL-terminated, *len bytes) with
 * read(2), not stdio, and wipes every buffer it drops, so that no copy but
 * the caller's holds the file's secrets. st, if not NULL, gets the open
 * file's fstat. 0, -EFBIG past max bytes, or another -errno.
 */
int file_read(const char *path, size_t max, char **out, size_t *len,
	      struct stat *st);

#endif
