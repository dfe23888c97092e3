/*
 * connect_to.c - HWCFS_TEST_CONNECT_TO: a test points real host names at
 * a loopback server, so that certificates are checked by those names. A
 * target off the loopback is refused, never followed.
 */
#include "connect_to.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Longest entry accepted: a host name, an address and two ports. */
#define CONNECT_TO_ENTRY_MAX 600

/*
 * Cuts one field off *p: a bracketed IPv6 literal or up to the next ':'.
 * Returns its length, or -1 when the field is malformed.
 */
static long connect_to_field(const char **p, const char *end,
			     const char **field)
{
	const char *s = *p, *e;

	*field = s;
	if (s < end && *s == '[') {
		e = memchr(s, ']', (size_t)(end - s));
		if (!e)
			return -1;
		e++;
	} else {
		e = memchr(s, ':', (size_t)(end - s));
		if (!e)
			e = end;
	}
	if (e < end && *e != ':')
		return -1;
	*p = e < end ? e + 1 : e;
	return (long)(e - s);
}

static bool connect_to_port_ok(const char *s, long n)
{
	long v = 0;

	if (n < 1 || n > 5)
		return false;
	for (long i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* Only numeric loopback addresses: a name could resolve anywhere. */
static bool connect_to_loopback(const char *s, long n)
{
	char buf[64];
	struct in_addr a4;
	struct in6_addr a6;

	if (n < 1 || (size_t)n >= sizeof(buf))
		return false;
	memcpy(buf, s, (size_t)n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n > 2 && buf[0] == '[' && buf[n - 1] == ']') {
		buf[n - 1] = '\0';
		return inet_pton(AF_INET6, buf + 1, &a6) == 1 &&
		       IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return false;
}

/* Checks one "HOST:PORT:ADDR:PORT" entry of length n. */
static int connect_to_entry(const char *s, size_t n, char *err, size_t errlen)
{
	const char *p = s, *end = s + n, *f[4];
	long len[4];
	bool ok = n <= CONNECT_TO_ENTRY_MAX;

	for (int i = 0; i < 4 && ok; i++) {
		len[i] = connect_to_field(&p, end, &f[i]);
		ok = len[i] >= 0;
	}
	/* the last field must end the entry, with no ':' after it */
	if (!ok || len[0] < 1 || f[3] + len[3] != end ||
	    !connect_to_port_ok(f[1], len[1]) ||
	    !connect_to_port_ok(f[3], len[3])) {
		snprintf(err, errlen,
			 "%s: \"%.*s\" is not HOST:PORT:ADDRESS:PORT",
			 CONNECT_TO_ENV, (int)(n > 100 ? 100 : n), s);
		return -EINVAL;
	}
	if (!connect_to_loopback(f[2], len[2])) {
		snprintf(err, errlen,
			 "%s: %.*s is not a loopback address (127.0.0.0/8 or "
			 "[::1]); refused",
			 CONNECT_TO_ENV, (int)(len[2] > 100 ? 100 : len[2]),
			 f[2]);
		return -EINVAL;
	}
	return 0;
}

int connect_to_parse(const char *spec, struct curl_slist **out, char *err,
		     size_t errlen)
{
	struct curl_slist *list = NULL, *grown;
	const char *s = spec;
	char entry[CONNECT_TO_ENTRY_MAX + 1];
	int ret = 0;

	*out = NULL;
	while (!ret) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);

		ret = connect_to_entry(s, n, err, errlen);
		if (ret)
			break;
		memcpy(entry, s, n);
		entry[n] = '\0';
		grown = curl_slist_append(list, entry);
		if (!grown) {
			snprintf(err, errlen, "out of memory");
			ret = -ENOMEM;
			break;
		}
		list = grown;
		if (!comma)
			break;
		s = comma + 1;
	}
	if (ret) {
		curl_slist_free_all(list);
		return ret;
	}
	*out = list;
	return 0;
}

int connect_to_from_env(struct curl_slist **out, char *err, size_t errlen)
{
	const char *v = getenv(CONNECT_TO_ENV);
	int ret;

	*out = NULL;
	if (!v || !*v)
		return 0;
	ret = connect_to_parse(v, out, err, errlen);
	if (!ret)
		log_warn("%s is set: host names go to loopback servers "
			 "(for tests only): %s",
			 CONNECT_TO_ENV, v);
	return ret;
}
