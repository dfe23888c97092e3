/*
 * fuzz_feed.h - the fake network of the fuzz targets: the backend's calls
 * to http_run/http_do are redirected here (ld --wrap) and answered with
 * the bodies cut from the fuzz input, so the real page walks, show and
 * IAM parsers run on hostile answers without a socket.
 */
#ifndef HWCFS_FUZZ_FEED_H
#define HWCFS_FUZZ_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

/* Separates the answers inside one fuzz input. */
#define FUZZ_SEP "\n--\n"

/*
 * Starts a new run: the answers are the FUZZ_SEP-separated pieces of data.
 * Once they are used up every request fails with -EIO, so any walk ends.
 */
void fuzz_feed_start(const uint8_t *data, size_t size);
/* Requests answered since fuzz_feed_start, including failed ones. */
size_t fuzz_feed_requests(void);

/*
 * What every parsed resource must be, whatever the server sent: a safe
 * file name, no string that held a NUL, JSON text ending in one newline and
 * exactly json_len long, a provider_id of 36 bytes when there is one.
 */
void fuzz_check_resource(const struct resource *r, const struct kind *kind);
/* And a finished listing: every entry so, sorted, names unique. */
void fuzz_check_listing(const struct listing *l, const struct kind *kind);

/* Aborts (a finding) with a message when cond is false. */
#define FUZZ_CHECK(cond)                                      \
	do {                                                  \
		if (!(cond))                                  \
			fuzz_fail(__FILE__, __LINE__, #cond); \
	} while (0)
void fuzz_fail(const char *file, int line, const char *what)
    __attribute__((noreturn));

#endif
