/*
 * endpoint.h - the one rule for a service endpoint URL, which the settings
 * check at start and the HTTP client parses: scheme://host[:port] and
 * nothing more, https:// anywhere, http:// only to a loopback host
 * (docs/hwcfs.md, "Where the cloud is").
 */
#ifndef HWCFS_ENDPOINT_H
#define HWCFS_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

/* A URL that passed endpoint_parse. */
struct endpoint_url {
	bool https;
	char *host;	/* host[:port] as written: the Host header */
	char *hostname; /* the host alone, IPv6 without its brackets */
};

/*
 * Checks url (one trailing "/" allowed) and splits it into u (free with
 * endpoint_url_clear). what names the setting in err. 0, -EINVAL with one
 * line in err, or -ENOMEM.
 */
int endpoint_parse(const char *url, const char *what, struct endpoint_url *u,
		   char *err, size_t errlen);
void endpoint_url_clear(struct endpoint_url *u);

/* 127.0.0.0/8, ::1 or localhost. */
bool endpoint_is_loopback(const char *hostname);

#endif
