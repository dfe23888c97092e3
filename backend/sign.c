/* sign.c - AK/SK request signing (SDK-HMAC-SHA256 and V11-HMAC-SHA256). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sign.h"

#define SIGN_SHA256_LEN 32
#define SIGN_HEX_LEN (2 * SIGN_SHA256_LEN)

static const char sign_hexdigits[] = "0123456789abcdef";
static const char sign_hexupper[] = "0123456789ABCDEF";

/* A growing string; every append fails cleanly on ENOMEM. */
struct sign_buf {
	char *s;
	size_t len;
	size_t cap;
	int err;
};

static void sign_buf_add(struct sign_buf *b, const char *p, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *s;

		while (cap < b->len + n + 1)
			cap *= 2;
		s = realloc(b->s, cap);
		if (!s) {
			b->err = -ENOMEM;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sign_buf_str(struct sign_buf *b, const char *s)
{
	sign_buf_add(b, s, strlen(s));
}

static void sign_buf_char(struct sign_buf *b, char c)
{
	sign_buf_add(b, &c, 1);
}

static int sign_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

static void sign_buf_encode(struct sign_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3];

		if (sign_unreserved(c)) {
			sign_buf_char(b, (char)c);
			continue;
		}
		esc[0] = '%';
		esc[1] = sign_hexupper[c >> 4];
		esc[2] = sign_hexupper[c & 15];
		sign_buf_add(b, esc, 3);
	}
}

char *sign_uri_encode(const char *s)
{
	struct sign_buf b = {0};

	sign_buf_encode(&b, s, strlen(s));
	sign_buf_add(&b, "", 0); /* an empty input still yields "" */
	if (b.err) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

static void sign_hex(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = sign_hexdigits[in[i] >> 4];
		out[2 * i + 1] = sign_hexdigits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int sign_sha256_hex(const void *data, size_t len, char *out)
{
	unsigned char md[SIGN_SHA256_LEN];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != SIGN_SHA256_LEN)
		return -EIO;
	sign_hex(md, SIGN_SHA256_LEN, out);
	return 0;
}

static int sign_hmac(const void *key, size_t keylen, const void *msg,
		     size_t msglen, unsigned char out[SIGN_SHA256_LEN])
{
	size_t outlen = 0;

	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, msg,
		       msglen, out, SIGN_SHA256_LEN, &outlen) ||
	    outlen != SIGN_SHA256_LEN)
		return -EIO;
	return 0;
}

static int sign_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The canonical URI: the path is percent-decoded first (as the Python SDK
 * does) so that an already-encoded path and a raw one sign alike, then each
 * segment is encoded again, and a '/' ends it.
 */
static void sign_canonical_uri(struct sign_buf *b, const char *path)
{
	struct sign_buf raw = {0};
	size_t start = 0;

	for (size_t i = 0; path[i]; i++) {
		int hi, lo;

		if (path[i] == '%' && (hi = sign_hexval(path[i + 1])) >= 0 &&
		    (lo = sign_hexval(path[i + 2])) >= 0) {
			sign_buf_char(&raw, (char)(hi << 4 | lo));
			i += 2;
		} else {
			sign_buf_char(&raw, path[i]);
		}
	}
	if (raw.err) {
		b->err = raw.err;
		return;
	}
	for (size_t i = 0; i <= raw.len; i++) {
		if (i < raw.len && raw.s[i] != '/')
			continue;
		sign_buf_encode(b, raw.s + start, i - start);
		if (i < raw.len)
			sign_buf_char(b, '/');
		start = i + 1;
	}
	if (b->err == 0 && (b->len == 0 || b->s[b->len - 1] != '/'))
		sign_buf_char(b, '/');
	free(raw.s);
}

static int sign_param_cmp(const void *a, const void *b)
{
	const struct sign_param *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

int sign_query(const struct sign_param *params, size_t n, char **out)
{
	struct sign_param *sorted = NULL;
	struct sign_buf b = {0};

	*out = NULL;
	if (n) {
		sorted = malloc(n * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			sorted[i].name = params[i].name;
			sorted[i].value =
			    params[i].value ? params[i].value : "";
		}
		qsort(sorted, n, sizeof(*sorted), sign_param_cmp);
	}
	sign_buf_add(&b, "", 0);
	for (size_t i = 0; i < n; i++) {
		if (i)
			sign_buf_char(&b, '&');
		sign_buf_encode(&b, sorted[i].name, strlen(sorted[i].name));
		sign_buf_char(&b, '=');
		sign_buf_encode(&b, sorted[i].value, strlen(sorted[i].value));
	}
	free(sorted);
	if (b.err) {
		free(b.s);
		return b.err;
	}
	*out = b.s;
	return 0;
}

/* A header to sign: its name in lowercase and its trimmed value. */
struct sign_hdr {
	char *name;
	const char *value;
	size_t value_len;
};

static int sign_hdr_cmp(const void *a, const void *b)
{
	const struct sign_hdr *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int sign_is_space(char c)
{
	return c == ' ' || c == '\t';
}

static void sign_hdrs_free(struct sign_hdr *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(h[i].name);
	free(h);
}

/*
 * The headers that take part in the signature, sorted: names with '_' are
 * left out as both SDKs do. A name given twice, or a value with a line
 * break, would make the canonical form ambiguous and is refused.
 */
static int sign_collect_headers(const struct sign_input *in,
				struct sign_hdr **out, size_t *nout)
{
	struct sign_hdr *h;
	size_t n = 0;

	*out = NULL;
	*nout = 0;
	h = calloc(in->nheaders ? in->nheaders : 1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < in->nheaders; i++) {
		const char *name = in->headers[i].name;
		const char *v =
		    in->headers[i].value ? in->headers[i].value : "";
		size_t vlen;

		if (!name || !*name) {
			sign_hdrs_free(h, n);
			return -EINVAL;
		}
		if (strchr(name, '_'))
			continue;
		if (strpbrk(v, "\r\n")) {
			sign_hdrs_free(h, n);
			return -EINVAL;
		}
		h[n].name = strdup(name);
		if (!h[n].name) {
			sign_hdrs_free(h, n);
			return -ENOMEM;
		}
		for (char *p = h[n].name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		while (sign_is_space(*v))
			v++;
		vlen = strlen(v);
		while (vlen && sign_is_space(v[vlen - 1]))
			vlen--;
		h[n].value = v;
		h[n].value_len = vlen;
		n++;
	}
	qsort(h, n, sizeof(*h), sign_hdr_cmp);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(h[i - 1].name, h[i].name) == 0) {
			sign_hdrs_free(h, n);
			return -EINVAL;
		}
	}
	*out = h;
	*nout = n;
	return 0;
}

static void sign_signed_headers(struct sign_buf *b, const struct sign_hdr *h,
				size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sign_buf_char(b, ';');
		sign_buf_str(b, h[i].name);
	}
}

/* The payload hash; the SDKs' empty-body shortcut comes first. */
static int sign_payload_hash(const struct sign_input *in,
			     const struct sign_hdr *h, size_t n,
			     struct sign_buf *b)
{
	char hex[SIGN_HEX_LEN + 1];
	int rc;

	if (in->body_len) {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(h[i].name, "x-sdk-content-sha256") == 0 &&
			    h[i].value_len == 16 &&
			    memcmp(h[i].value, "UNSIGNED-PAYLOAD", 16) == 0) {
				sign_buf_str(b, "UNSIGNED-PAYLOAD");
				return 0;
			}
		}
	}
	rc = sign_sha256_hex(in->body_len ? in->body : "", in->body_len, hex);
	if (rc)
		return rc;
	sign_buf_str(b, hex);
	return 0;
}

/* Builds the canonical request and, when wanted, the signed header list. */
static int sign_build(const struct sign_input *in, char **canonical,
		      char **signed_headers)
{
	struct sign_buf b = {0}, sh = {0};
	struct sign_hdr *h;
	size_t n;
	int rc;

	*canonical = NULL;
	if (signed_headers)
		*signed_headers = NULL;
	if (!in->method || !in->path || (in->body_len && !in->body))
		return -EINVAL;
	rc = sign_collect_headers(in, &h, &n);
	if (rc)
		return rc;

	sign_buf_str(&b, in->method);
	sign_buf_char(&b, '\n');
	sign_canonical_uri(&b, in->path);
	sign_buf_char(&b, '\n');
	sign_buf_str(&b, in->query ? in->query : "");
	sign_buf_char(&b, '\n');
	for (size_t i = 0; i < n; i++) {
		sign_buf_str(&b, h[i].name);
		sign_buf_char(&b, ':');
		sign_buf_add(&b, h[i].value, h[i].value_len);
		sign_buf_char(&b, '\n');
	}
	sign_buf_char(&b, '\n');
	sign_signed_headers(&b, h, n);
	sign_buf_char(&b, '\n');
	rc = sign_payload_hash(in, h, n, &b);
	if (!rc && signed_headers) {
		sign_buf_add(&sh, "", 0);
		sign_signed_headers(&sh, h, n);
	}
	sign_hdrs_free(h, n);
	if (!rc)
		rc = b.err ? b.err : sh.err;
	if (rc) {
		free(b.s);
		free(sh.s);
		return rc;
	}
	*canonical = b.s;
	if (signed_headers)
		*signed_headers = sh.s;
	return 0;
}

int sign_canonical_request(const struct sign_input *in, char **out)
{
	return sign_build(in, out, NULL);
}

/*
 * The V11 signing key: HKDF-SHA256 with salt AK, input SK and info
 * "date/region/service", one block; the key is the hex text of the result.
 */
static int sign_v11_key(const struct sign_input *in, const char *info,
			char key[SIGN_HEX_LEN + 1])
{
	unsigned char prk[SIGN_SHA256_LEN], okm[SIGN_SHA256_LEN];
	size_t infolen = strlen(info);
	unsigned char *msg;
	int rc;

	msg = malloc(infolen + 1);
	if (!msg)
		return -ENOMEM;
	memcpy(msg, info, infolen);
	msg[infolen] = 0x01;
	rc = sign_hmac(in->ak, strlen(in->ak), in->sk, strlen(in->sk), prk);
	if (!rc)
		rc = sign_hmac(prk, sizeof(prk), msg, infolen + 1, okm);
	if (!rc)
		sign_hex(okm, sizeof(okm), key);
	OPENSSL_cleanse(prk, sizeof(prk));
	OPENSSL_cleanse(okm, sizeof(okm));
	free(msg);
	return rc;
}

static int sign_date_ok(const char *d)
{
	if (!d || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
		return 0;
	for (int i = 0; i < 15; i++)
		if (i != 8 && (d[i] < '0' || d[i] > '9'))
			return 0;
	return 1;
}

int sign_request(const struct sign_input *in, char *auth, size_t authlen)
{
	char crhash[SIGN_HEX_LEN + 1], sig[SIGN_HEX_LEN + 1];
	char key[SIGN_HEX_LEN + 1];
	unsigned char mac[SIGN_SHA256_LEN];
	char *canonical = NULL, *sh = NULL, *info = NULL;
	struct sign_buf sts = {0};
	const char *algo;
	int rc, n;

	if (authlen)
		auth[0] = '\0';
	if (!in->ak || !in->sk || !*in->ak || !sign_date_ok(in->sdk_date))
		return -EINVAL;
	if (in->algo == SIGN_V11) {
		if (!in->region || !in->service || !*in->region ||
		    !*in->service)
			return -EINVAL;
		if (asprintf(&info, "%.8s/%s/%s", in->sdk_date, in->region,
			     in->service) < 0)
			return -ENOMEM;
		algo = "V11-HMAC-SHA256";
	} else if (in->algo == SIGN_SDK) {
		algo = "SDK-HMAC-SHA256";
	} else {
		return -EINVAL;
	}

	rc = sign_build(in, &canonical, &sh);
	if (!rc)
		rc = sign_sha256_hex(canonical, strlen(canonical), crhash);
	if (rc)
		goto out;

	sign_buf_str(&sts, algo);
	sign_buf_char(&sts, '\n');
	sign_buf_str(&sts, in->sdk_date);
	sign_buf_char(&sts, '\n');
	if (info) {
		sign_buf_str(&sts, info);
		sign_buf_char(&sts, '\n');
	}
	sign_buf_str(&sts, crhash);
	if (sts.err) {
		rc = sts.err;
		goto out;
	}

	if (info) {
		rc = sign_v11_key(in, info, key);
		if (!rc)
			rc = sign_hmac(key, SIGN_HEX_LEN, sts.s, sts.len, mac);
		OPENSSL_cleanse(key, sizeof(key));
	} else {
		rc = sign_hmac(in->sk, strlen(in->sk), sts.s, sts.len, mac);
	}
	if (rc)
		goto out;
	sign_hex(mac, sizeof(mac), sig);
	OPENSSL_cleanse(mac, sizeof(mac));

	if (info)
		n = snprintf(auth, authlen,
			     "%s Credential=%s/%s, SignedHeaders=%s, "
			     "Signature=%s",
			     algo, in->ak, info, sh, sig);
	else
		n = snprintf(auth, authlen,
			     "%s Access=%s, SignedHeaders=%s, Signature=%s",
			     algo, in->ak, sh, sig);
	if (n < 0 || (size_t)n >= authlen) {
		if (authlen)
			auth[0] = '\0';
		rc = -ENOSPC;
	}
out:
	free(canonical);
	free(sh);
	free(info);
	free(sts.s);
	return rc;
}

/*
 * Matches the SDKs' "regional host" pattern, a prefix match like Python's
 * re.match:
 *   ^[a-z][a-z0-9-]+(\.[a-z]{2,}-[a-z]+-\d{1,2})?\.(my)?(huaweicloud|
 *   myhwclouds).(com|cn)
 * Each part is followed by a character its class cannot hold, so trying the
 * optional region group with and without is all the backtracking needed.
 */
static int sign_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static int sign_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int sign_match_tail(const char *s)
{
	static const char *const bases[] = {"myhuaweicloud", "mymyhwclouds",
					    "huaweicloud", "myhwclouds"};

	if (*s++ != '.')
		return 0;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		size_t n = strlen(bases[i]);
		const char *p = s + n;

		if (strncmp(s, bases[i], n) != 0)
			continue;
		/* the pattern's unescaped '.' takes any one character */
		if (*p == '\0' || *p == '\n')
			continue;
		p++;
		if (strncmp(p, "com", 3) == 0 || strncmp(p, "cn", 2) == 0)
			return 1;
	}
	return 0;
}

/* "\.[a-z]{2,}-[a-z]+-\d{1,2}"; returns the length matched or 0. */
static size_t sign_match_region(const char *s)
{
	size_t i = 0, k;

	if (s[i++] != '.')
		return 0;
	for (k = 0; sign_lower(s[i]); k++)
		i++;
	if (k < 2 || s[i++] != '-')
		return 0;
	for (k = 0; sign_lower(s[i]); k++)
		i++;
	if (k < 1 || s[i++] != '-')
		return 0;
	for (k = 0; k < 2 && sign_digit(s[i]); k++)
		i++;
	return k ? i : 0;
}

static int sign_match_regional(const char *h)
{
	size_t i = 1, r;

	if (!sign_lower(h[0]))
		return 0;
	while (sign_lower(h[i]) || sign_digit(h[i]) || h[i] == '-')
		i++;
	if (i < 2)
		return 0;
	r = sign_match_region(h + i);
	if (r && sign_match_tail(h + i + r))
		return 1;
	return sign_match_tail(h + i);
}

/*
 * Host names are compared in lowercase (DNS ignores case; the SDKs only
 * ever see lowercase hosts from their region tables). A ":port" needs no
 * special care: the pattern is a prefix match and never reaches it.
 */
bool sign_host_wants_derived(const char *host)
{
	char buf[256];
	size_t n;

	if (!host)
		return true;
	n = strlen(host);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	for (size_t i = 0; i < n; i++) {
		char c = host[i];

		buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	buf[n] = '\0';
	return !sign_match_regional(buf);
}

void sign_format_date(long long t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!len)
		return;
	buf[0] = '\0';
	if (len < 17 || !gmtime_r(&tt, &tm))
		return;
	if (strftime(buf, len, "%Y%m%dT%H%M%SZ", &tm) != 16)
		buf[0] = '\0';
}
