/*
 * file.c - whole-file reading for settings, credentials and CA bundles.
 */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Moves buf to a larger allocation, wiping the old one. */
static int file_grow(char **buf, size_t used, size_t *cap, size_t max)
{
	size_t ncap = *cap < 65536 ? 65536 : *cap * 2;
	char *nb;

	if (ncap > max + 1)
		ncap = max + 1;
	nb = malloc(ncap + 1);
	if (!nb)
		return -ENOMEM;
	if (*buf) {
		memcpy(nb, *buf, used);
		explicit_bzero(*buf, used);
		free(*buf);
	}
	*buf = nb;
	*cap = ncap;
	return 0;
}

static void file_drop(char *buf, size_t used)
{
	if (buf) {
		explicit_bzero(buf, used);
		free(buf);
	}
}

int file_read(const char *path, size_t max, char **out, size_t *len,
	      struct stat *st)
{
	size_t got = 0, cap = 0;
	struct stat sb;
	char *buf = NULL;
	ssize_t n;
	int fd, ret = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) != 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (st)
		*st = sb;
	/* A regular file is read into one buffer of its size. */
	if (S_ISREG(sb.st_mode) && (size_t)sb.st_size <= max)
		cap = (size_t)sb.st_size + 1;
	buf = cap ? malloc(cap + 1) : NULL;
	if (cap && !buf)
		ret = -ENOMEM;
	while (!ret) {
		if (got == cap && (ret = file_grow(&buf, got, &cap, max)))
			break;
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ret = -errno;
		else if (n == 0)
			break;
		else if ((got += (size_t)n) > max)
			ret = -EFBIG;
	}
	close(fd);
	if (ret) {
		file_drop(buf, got);
		return ret;
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}
