/*
 * sign.h - AK/SK request signing: SDK-HMAC-SHA256, and the derived
 * V11-HMAC-SHA256 that IoTDA instance hosts need (docs/cloud-api.md,
 * "AK/SK signing").
 */
#ifndef HWCFS_SIGN_H
#define HWCFS_SIGN_H

#include <stdbool.h>
#include <stddef.h>

enum sign_algo {
	SIGN_SDK, /* SDK-HMAC-SHA256 */
	SIGN_V11, /* V11-HMAC-SHA256, derived key */
};

struct sign_header {
	const char *name; /* any case; signed in lowercase */
	const char *value;
};

struct sign_param {
	const char *name;
	const char *value; /* "" for a parameter without value */
};

struct sign_input {
	const char *method; /* "GET", "DELETE", ... */
	const char *path;   /* as sent, no query: "/v1/private-providers" */
	const char *query;  /* canonical query (sign_query), "" if none */
	const struct sign_header *headers; /* exactly the headers to sign */
	size_t nheaders;
	const void *body;
	size_t body_len;
	const char *sdk_date; /* the X-Sdk-Date value, YYYYMMDDTHHMMSSZ */
	enum sign_algo algo;
	const char *region;  /* V11 only */
	const char *service; /* V11 only: "iotdm" for IoTDA */
	const char *ak;
	const char *sk;
};

/* Writes the Authorization header's value. 0 or -errno (-ENOSPC). */
int sign_request(const struct sign_input *in, char *auth, size_t authlen);

/*
 * The canonical request sign_request() hashes (for tests and debugging;
 * it holds no secret). *out is malloc'ed. 0 or -errno.
 */
int sign_canonical_request(const struct sign_input *in, char **out);

/*
 * The canonical query string: pairs sorted by name then value (bytes),
 * each encoded keeping only A-Z a-z 0-9 - _ . ~. It is also the query
 * sent on the wire. *out is malloc'ed. 0 or -ENOMEM.
 */
int sign_query(const struct sign_param *params, size_t n, char **out);

/* Percent-encodes s as above into a malloc'ed string; NULL on ENOMEM. */
char *sign_uri_encode(const char *s);

/*
 * True when the SDKs would use derived (V11) signing for this host, given
 * as "name[:port]" (no scheme). Case is ignored; the port never matters.
 */
bool sign_host_wants_derived(const char *host);

/* "YYYYMMDDTHHMMSSZ" for t (UTC) into buf of at least 17 bytes. */
void sign_format_date(long long t, char *buf, size_t len);

#endif
