/*
 * endpoint.c - endpoint URLs: one parser, so that what the settings accept
 * is exactly what the HTTP client sends to.
 */
#include "endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool endpoint_is_loopback(const char *hostname)
{
	struct in_addr a4;

	if (strcasecmp(hostname, "localhost") == 0 ||
	    strcmp(hostname, "::1") == 0)
		return true;
	if (inet_pton(AF_INET, hostname, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return false;
}

void endpoint_url_clear(struct endpoint_url *u)
{
	free(u->host);
	free(u->hostname);
	memset(u, 0, sizeof(*u));
}

/* A host name's bytes: letters, digits, '-', '.', '_'. */
static bool endpoint_name_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("-._", s[i])))
			return false;
	return n > 0;
}

/* An optional ":port" of 1-65535 in decimal digits. */
static bool endpoint_port_ok(const char *s, size_t n)
{
	long v = 0;

	if (n == 0)
		return true;
	if (s[0] != ':' || n < 2 || n > 6)
		return false;
	for (size_t i = 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* Splits "host[:port]" (IPv6 in brackets) into u; false when malformed. */
static bool endpoint_split(const char *a, size_t n, struct endpoint_url *u)
{
	const char *end;
	size_t hn;
	char v6[64];
	struct in6_addr a6;

	if (a[0] == '[') {
		end = memchr(a, ']', n);
		hn = end ? (size_t)(end - a - 1) : 0;
		if (!end || hn == 0 || hn >= sizeof(v6))
			return false;
		memcpy(v6, a + 1, hn);
		v6[hn] = '\0';
		if (inet_pton(AF_INET6, v6, &a6) != 1 ||
		    !endpoint_port_ok(end + 1, n - hn - 2))
			return false;
		u->hostname = strdup(v6);
	} else {
		end = memchr(a, ':', n);
		hn = end ? (size_t)(end - a) : n;
		if (!endpoint_name_ok(a, hn) ||
		    !endpoint_port_ok(a + hn, n - hn))
			return false;
		u->hostname = strndup(a, hn);
	}
	u->host = strndup(a, n);
	return true;
}

int endpoint_parse(const char *url, const char *what, struct endpoint_url *u,
		   char *err, size_t errlen)
{
	const char *a, *rest;
	size_t n;

	memset(u, 0, sizeof(*u));
	for (const char *p = url; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			snprintf(err, errlen,
				 "%s holds a space or control character", what);
			return -EINVAL;
		}
	}
	if (strncmp(url, "https://", 8) == 0) {
		u->https = true;
		a = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		a = url + 7;
	} else {
		snprintf(err, errlen, "%s must start with https:// or http://",
			 what);
		return -EINVAL;
	}
	n = strcspn(a, "/?#");
	rest = a + n;
	if (n == 0) {
		snprintf(err, errlen, "%s has no host name", what);
		return -EINVAL;
	}
	if ((*rest && strcmp(rest, "/") != 0) || memchr(a, '@', n) ||
	    !endpoint_split(a, n, u)) {
		endpoint_url_clear(u);
		snprintf(err, errlen,
			 "%s \"%s\" must be scheme://host[:port] only", what,
			 url);
		return -EINVAL;
	}
	if (!u->host || !u->hostname) {
		endpoint_url_clear(u);
		snprintf(err, errlen, "%s: out of memory", what);
		return -ENOMEM;
	}
	if (!u->https && !endpoint_is_loopback(u->hostname)) {
		snprintf(err, errlen,
			 "%s \"%s\": http:// is allowed only for loopback "
			 "hosts (127.0.0.0/8, ::1, localhost); use https://",
			 what, url);
		endpoint_url_clear(u);
		return -EINVAL;
	}
	return 0;
}
