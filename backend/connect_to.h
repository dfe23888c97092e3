/*
 * connect_to.h - HWCFS_TEST_CONNECT_TO, for tests only: requests for a
 * real host name go to a local server instead, so that a test runs TLS
 * name checks against the real host names (docs/emulator.md). Internal to
 * backend/.
 */
#ifndef HWCFS_CONNECT_TO_H
#define HWCFS_CONNECT_TO_H

#include <stddef.h>

#include <curl/curl.h>

/* The variable's name. */
#define CONNECT_TO_ENV "HWCFS_TEST_CONNECT_TO"

/*
 * Parses "HOST:PORT:ADDR:PORT[,...]" into a list for CURLOPT_CONNECT_TO.
 * Every ADDR must be a loopback address (127.0.0.0/8, or [::1]): this can
 * never send a request somewhere else on the network. 0 with *out set, or
 * -EINVAL (*out NULL) with one line in err.
 */
int connect_to_parse(const char *spec, struct curl_slist **out, char *err,
		     size_t errlen);

/* connect_to_parse of the variable; *out stays NULL when it is unset. */
int connect_to_from_env(struct curl_slist **out, char *err, size_t errlen);

#endif
