/*
 * http.c - libcurl for the whole mount: one share handle (connections, DNS,
 * TLS sessions) used by every thread, requests signed per try, sent alone
 * or several at once through a multi handle, each retried per errmap
 * within one deadline so that no filesystem call can hang.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "cancel.h"
#include "connect_to.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "services.h"

/* Connect must finish well before the deadline so a dead address can be
 * retried; the rest of a try may use all the time left. [derived] */
#define HTTP_CONNECT_TIMEOUT_MS 5000L
/* Backoff: equal jitter over base * 2^n, capped. Throttling starts
 * higher: the gateway's guidance is to wait seconds. [derived] */
#define HTTP_BACKOFF_BASE_MS 500L
#define HTTP_THROTTLE_BASE_MS 1000L
#define HTTP_BACKOFF_CAP_MS 8000L
/* An IAM token is ~10 KB; anything far larger is not one. */
#define HTTP_MAX_TOKEN (64u << 10)
#define HTTP_MAX_CONNECTS 64L
#define HTTP_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"
#define HTTP_MAX_CAFILE (16u << 20)
/* How often a request asks again while another one probes the key. */
#define HTTP_PROBE_WAIT_MS 50L

struct http_client {
	CURLSH *share;
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
	char *ca_blob; /* system CAs + cafile, or NULL: curl's defaults */
	size_t ca_blob_len;
	long timeout_ms;
	int retries;
	char *ak, *sk, *security_token;
	char *project_id;
	pthread_mutex_t token_lock;   /* token, token_gen, refresh */
	pthread_mutex_t refresh_lock; /* one login at a time */
	char *token;		      /* X-Auth-Token, when not signing */
	unsigned long token_gen;      /* bumped by each refresh */
	http_token_fn refresh;
	void *refresh_arg;
	struct curl_slist *connect_to; /* HWCFS_TEST_CONNECT_TO, tests only */
	/* The key breaker (hold_admit): */
	pthread_mutex_t hold_lock; /* hold_until, probing */
	long long hold_ms;	   /* auth_hold */
	long long hold_until;	   /* 0: credentials not refused */
	bool probing;		   /* the one request after the hold is out */
};

/* One request in flight: its tries, timers and the answer so far. */
struct http_call {
	const struct http_request *req;
	struct http_result *res;
	char *url;
	const char *query; /* points into url, "" if none */
	CURL *easy;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];
	char *body;
	size_t body_len, body_cap;
	bool too_big;
	char request_id[96];
	long retry_after_ms; /* -1: no Retry-After */
	char *subject_token;
	unsigned long token_gen;
	long long started_ms, wake_ms;
	int retries_done;
	int sends; /* how often libcurl sent this try (see on_send) */
	bool refreshed, lost_answer, waiting, done;
	bool probe; /* the one request that tests refused credentials */
};

static pthread_mutex_t http_global_lock = PTHREAD_MUTEX_INITIALIZER;
static int http_global_users;

/* The time limit of this thread's listing, if any (http_limit_begin). */
static _Thread_local long long http_limit_at;
static _Thread_local bool http_limit_hit;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int http_uuid(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

void http_result_clear(struct http_result *r)
{
	free(r->body);
	free(r->subject_token);
	memset(r, 0, sizeof(*r));
}

/* ---- endpoints ---- */

static bool host_is_loopback(const char *host)
{
	struct in_addr a4;

	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return false;
}

void http_endpoint_clear(struct http_endpoint *ep)
{
	free(ep->base);
	free(ep->host);
	free(ep->hostname);
	memset(ep, 0, sizeof(*ep));
}

int http_endpoint_init(struct http_endpoint *ep, const char *url,
		       const char *service, char *err, size_t errlen)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char *query = NULL, *user = NULL;
	CURLU *u;
	int ret = -EINVAL;
	size_t n;

	memset(ep, 0, sizeof(*ep));
	ep->service = service;
	u = curl_url();
	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		snprintf(err, errlen, "%s: endpoint \"%s\" is not a URL",
			 service, url);
		goto out;
	}
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	curl_url_get(u, CURLUPART_USER, &user, 0);
	if (!scheme || !host) {
		snprintf(err, errlen, "%s: endpoint \"%s\" has no host",
			 service, url);
		goto out;
	}
	if ((path && strcmp(path, "/") != 0) || query || user) {
		snprintf(err, errlen,
			 "%s: endpoint \"%s\" must be scheme://host[:port] "
			 "only",
			 service, url);
		goto out;
	}
	ep->hostname = strdup(host);
	if (!ep->hostname)
		goto nomem;
	/* curl keeps IPv6 literals bracketed; names and checks need them
	 * bare. */
	n = strlen(ep->hostname);
	if (n >= 2 && ep->hostname[0] == '[' && ep->hostname[n - 1] == ']') {
		memmove(ep->hostname, ep->hostname + 1, n - 2);
		ep->hostname[n - 2] = '\0';
	}
	if (strcasecmp(scheme, "https") != 0) {
		if (strcasecmp(scheme, "http") != 0) {
			snprintf(err, errlen,
				 "%s: endpoint \"%s\": only https:// is "
				 "supported",
				 service, url);
			goto out;
		}
		if (!host_is_loopback(ep->hostname)) {
			snprintf(err, errlen,
				 "%s: endpoint \"%s\": http:// is allowed only "
				 "for loopback hosts (127.0.0.0/8, ::1, "
				 "localhost); use https://",
				 service, url);
			goto out;
		}
	}
	if (asprintf(&ep->host, "%s%s%s", host, port ? ":" : "",
		     port ? port : "") < 0) {
		ep->host = NULL;
		goto nomem;
	}
	if (asprintf(&ep->base, "%s://%s", scheme, ep->host) < 0) {
		ep->base = NULL;
		goto nomem;
	}
	ret = 0;
	goto out;
nomem:
	snprintf(err, errlen, "%s: out of memory", service);
	ret = -ENOMEM;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_free(user);
	curl_url_cleanup(u);
	if (ret)
		http_endpoint_clear(ep);
	return ret;
}

/* ---- the client ---- */

static void share_lock(CURL *e, curl_lock_data d, curl_lock_access a, void *arg)
{
	struct http_client *h = arg;

	(void)e;
	(void)a;
	if ((unsigned)d < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&h->locks[d]);
}

static void share_unlock(CURL *e, curl_lock_data d, void *arg)
{
	struct http_client *h = arg;

	(void)e;
	if ((unsigned)d < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&h->locks[d]);
}

static int read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *b = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t got;

		if (n == cap) {
			char *nb;

			if (cap >= HTTP_MAX_CAFILE) {
				ret = -EFBIG;
				break;
			}
			cap = cap ? cap * 2 : 65536;
			nb = realloc(b, cap + 1);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			b = nb;
		}
		got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				ret = -EIO;
			break;
		}
	}
	fclose(f);
	if (ret) {
		free(b);
		return ret;
	}
	if (!b && !(b = malloc(1)))
		return -ENOMEM;
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

/*
 * curl's CAINFO names one bundle and replaces the default, so "cafile adds
 * a CA" is done by handing curl one in-memory bundle: the system's CAs
 * followed by the file's.
 */
static int build_ca_blob(struct http_client *h, const char *cafile, char *err,
			 size_t errlen)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	const char *sys = v->cainfo ? v->cainfo : HTTP_SYSTEM_CA;
	char *extra = NULL, *base = NULL;
	size_t elen = 0, blen = 0;
	int ret;

	ret = read_file(cafile, &extra, &elen);
	if (ret) {
		snprintf(err, errlen, "cafile %s: %s", cafile, strerror(-ret));
		return ret;
	}
	if (!strstr(extra, "-----BEGIN CERTIFICATE-----")) {
		snprintf(err, errlen, "cafile %s: no PEM certificate in it",
			 cafile);
		free(extra);
		return -EINVAL;
	}
	if (read_file(sys, &base, &blen) != 0) {
		/* No system bundle: the added CA alone is still right. */
		log_warn("cannot read the system CA bundle %s; trusting only "
			 "%s",
			 sys, cafile);
		blen = 0;
	}
	h->ca_blob = malloc(blen + 1 + elen + 1);
	if (!h->ca_blob) {
		free(base);
		free(extra);
		return -ENOMEM;
	}
	if (blen)
		memcpy(h->ca_blob, base, blen);
	h->ca_blob[blen] = '\n';
	memcpy(h->ca_blob + blen + 1, extra, elen);
	h->ca_blob_len = blen + 1 + elen;
	h->ca_blob[h->ca_blob_len] = '\0';
	free(base);
	free(extra);
	return 0;
}

static char *dup_opt(const char *s, int *failed)
{
	char *d;

	if (!s || !*s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = 1;
	return d;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Every lock of the client, or none: a failure destroys those made. */
static int http_client_init_locks(struct http_client *h)
{
	pthread_mutex_t *all[CURL_LOCK_DATA_LAST + 3];
	size_t n = 0, made;
	int ret = 0;

	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		all[n++] = &h->locks[i];
	all[n++] = &h->token_lock;
	all[n++] = &h->refresh_lock;
	all[n++] = &h->hold_lock;
	for (made = 0; made < n; made++) {
		ret = pthread_mutex_init(all[made], NULL);
		if (ret)
			break;
	}
	if (!ret)
		return 0;
	while (made > 0)
		pthread_mutex_destroy(all[--made]);
	return -ret;
}

int http_client_new(const struct hwc_config *cfg, struct http_client **out,
		    char *err, size_t errlen)
{
	struct http_client *h;
	int failed = 0, ret;

	pthread_mutex_lock(&http_global_lock);
	if (http_global_users == 0 &&
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		pthread_mutex_unlock(&http_global_lock);
		snprintf(err, errlen, "libcurl failed to initialise");
		return -EIO;
	}
	http_global_users++;
	pthread_mutex_unlock(&http_global_lock);

	h = calloc(1, sizeof(*h));
	if (!h) {
		ret = -ENOMEM;
		goto fail_global;
	}
	ret = http_client_init_locks(h);
	if (ret) {
		free(h);
		goto fail_global;
	}
	h->hold_ms = (cfg->auth_hold > 0 ? cfg->auth_hold : 300) * 1000LL;
	h->timeout_ms = (cfg->timeout > 0 ? cfg->timeout : 10) * 1000L;
	h->retries = cfg->retries >= 0 ? cfg->retries : 4;
	h->ak = dup_opt(cfg->cred.ak, &failed);
	h->sk = dup_opt(cfg->cred.sk, &failed);
	h->security_token = dup_opt(cfg->cred.security_token, &failed);
	if (failed) {
		ret = -ENOMEM;
		goto fail;
	}
	h->share = curl_share_init();
	if (!h->share) {
		ret = -ENOMEM;
		goto fail;
	}
	curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(h->share, CURLSHOPT_USERDATA, h);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(h->share, CURLSHOPT_SHARE,
			  CURL_LOCK_DATA_SSL_SESSION);
	if (cfg->cafile && *cfg->cafile) {
		ret = build_ca_blob(h, cfg->cafile, err, errlen);
		if (ret)
			goto fail_quiet;
	}
	ret = connect_to_from_env(&h->connect_to, err, errlen);
	if (ret)
		goto fail_quiet;
	*out = h;
	return 0;
fail:
	snprintf(err, errlen, "http client: %s", strerror(-ret));
fail_quiet:
	http_client_free(h);
	return ret;
fail_global:
	snprintf(err, errlen, "http client: %s", strerror(-ret));
	pthread_mutex_lock(&http_global_lock);
	if (--http_global_users == 0)
		curl_global_cleanup();
	pthread_mutex_unlock(&http_global_lock);
	return ret;
}

void http_client_free(struct http_client *h)
{
	int i;

	if (!h)
		return;
	if (h->share)
		curl_share_cleanup(h->share);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&h->locks[i]);
	pthread_mutex_destroy(&h->token_lock);
	pthread_mutex_destroy(&h->refresh_lock);
	pthread_mutex_destroy(&h->hold_lock);
	free(h->ca_blob);
	curl_slist_free_all(h->connect_to);
	free_secret(h->ak);
	free_secret(h->sk);
	free_secret(h->security_token);
	free_secret(h->token);
	free(h->project_id);
	free(h);
	pthread_mutex_lock(&http_global_lock);
	if (--http_global_users == 0)
		curl_global_cleanup();
	pthread_mutex_unlock(&http_global_lock);
}

int http_client_set_project(struct http_client *h, const char *project_id)
{
	char *p = strdup(project_id);

	if (!p)
		return -ENOMEM;
	free(h->project_id);
	h->project_id = p;
	return 0;
}

int http_client_set_token(struct http_client *h, const char *token,
			  http_token_fn refresh, void *arg)
{
	char *t = strdup(token);

	if (!t)
		return -ENOMEM;
	pthread_mutex_lock(&h->token_lock);
	free_secret(h->token);
	h->token = t;
	h->token_gen++;
	h->refresh = refresh;
	h->refresh_arg = arg;
	pthread_mutex_unlock(&h->token_lock);
	return 0;
}

bool http_client_has_keys(const struct http_client *h)
{
	return h->ak && h->sk;
}

/* ---- one try ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_call *c = arg;
	size_t n = size * nmemb;

	if (n > HTTP_MAX_BODY || c->body_len + n > HTTP_MAX_BODY) {
		c->too_big = true;
		return 0;
	}
	if (c->body_len + n + 1 > c->body_cap) {
		size_t cap = c->body_cap ? c->body_cap : 16384;
		char *b;

		while (cap < c->body_len + n + 1)
			cap *= 2;
		b = realloc(c->body, cap);
		if (!b)
			return 0;
		c->body = b;
		c->body_cap = cap;
	}
	memcpy(c->body + c->body_len, data, n);
	c->body_len += n;
	c->body[c->body_len] = '\0';
	return n;
}

/*
 * Called by libcurl each time it is about to send the request. libcurl
 * re-sends a request by itself when a reused kept-alive connection dies
 * before any answer, and the server may have applied the first send: a
 * DELETE re-sent that way and answered 404 was done by the first send.
 */
static int on_send(void *arg, char *remote_ip, char *local_ip, int remote_port,
		   int local_port)
{
	struct http_call *c = arg;

	(void)remote_ip;
	(void)local_ip;
	(void)remote_port;
	(void)local_port;
	c->sends++;
	return CURL_PREREQFUNC_OK;
}

/* Copies a header's value (trimmed) if line is "name: value". */
static bool header_value(const char *line, size_t len, const char *name,
			 const char **val, size_t *vlen)
{
	size_t nl = strlen(name);

	if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
		return false;
	line += nl + 1;
	len -= nl + 1;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
		       line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	*val = line;
	*vlen = len;
	return true;
}

static long parse_retry_after(const char *v, size_t len)
{
	char buf[64];
	char *end;
	long long secs;
	time_t when;

	if (!len || len >= sizeof(buf))
		return -1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	secs = strtoll(buf, &end, 10);
	if (end != buf && !*end)
		return secs < 0 ? 0 : (secs > 86400 ? 86400000L : secs * 1000);
	when = curl_getdate(buf, NULL);
	if (when < 0)
		return -1;
	when -= time(NULL);
	return when <= 0 ? 0 : (when > 86400 ? 86400000L : when * 1000L);
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct http_call *c = arg;
	size_t n = size * nmemb;
	const char *v;
	size_t vlen;

	/* A status line starts a new answer: forget the previous one's. */
	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		c->request_id[0] = '\0';
		c->retry_after_ms = -1;
		free_secret(c->subject_token);
		c->subject_token = NULL;
		return n;
	}
	if (header_value(line, n, "X-Request-Id", &v, &vlen)) {
		size_t i;

		if (vlen >= sizeof(c->request_id))
			vlen = sizeof(c->request_id) - 1;
		for (i = 0; i < vlen; i++)
			c->request_id[i] =
			    (v[i] > 0x20 && v[i] < 0x7f) ? v[i] : '?';
		c->request_id[vlen] = '\0';
	} else if (header_value(line, n, "Retry-After", &v, &vlen)) {
		c->retry_after_ms = parse_retry_after(v, vlen);
	} else if ((c->req->flags & HTTP_SUBJECT_TOKEN) &&
		   header_value(line, n, "X-Subject-Token", &v, &vlen)) {
		if (vlen && vlen <= HTTP_MAX_TOKEN) {
			free_secret(c->subject_token);
			c->subject_token = strndup(v, vlen);
		}
	}
	return n;
}

static int add_header(struct curl_slist **l, const char *name,
		      const char *value)
{
	struct curl_slist *n;
	char *line;

	if (asprintf(&line, "%s: %s", name, value) < 0)
		return -ENOMEM;
	n = curl_slist_append(*l, line);
	explicit_bzero(line, strlen(line));
	free(line);
	if (!n)
		return -ENOMEM;
	*l = n;
	return 0;
}

/* The headers of one try: signed fresh each time (X-Sdk-Date moves). */
static int build_headers(struct http_client *h, struct http_call *c)
{
	const struct http_request *r = c->req;
	const struct http_endpoint *ep = r->ep;
	struct sign_header sh[8];
	struct sign_input in;
	char date[24], auth[1024];
	size_t n = 0, i;
	bool keys = !(r->flags & HTTP_NO_AUTH) && http_client_has_keys(h);
	bool token = !(r->flags & HTTP_NO_AUTH) && !keys;
	int ret;

	sh[n++] = (struct sign_header){"Host", ep->host};
	sh[n++] = (struct sign_header){"Content-Type",
				       r->content_type ? r->content_type
						       : "application/json"};
	/* Signed like every header we send, as the SDKs do. */
	if (ep->instance_id)
		sh[n++] = (struct sign_header){"Instance-Id", ep->instance_id};
	if (ep->client_request_id)
		sh[n++] = (struct sign_header){"Client-Request-Id",
					       c->res->client_id};
	if (keys) {
		sign_format_date((long long)time(NULL), date, sizeof(date));
		sh[n++] = (struct sign_header){"X-Sdk-Date", date};
		if (h->project_id)
			sh[n++] =
			    (struct sign_header){"X-Project-Id", h->project_id};
		if (h->security_token)
			sh[n++] = (struct sign_header){"X-Security-Token",
						       h->security_token};
	}
	for (i = 0; i < n; i++) {
		ret = add_header(&c->hdrs, sh[i].name, sh[i].value);
		if (ret)
			return ret;
	}
	if (keys) {
		memset(&in, 0, sizeof(in));
		in.method = r->method;
		in.path = r->path;
		in.query = c->query;
		in.headers = sh;
		in.nheaders = n;
		in.body = r->body;
		in.body_len = r->body ? r->body_len : 0;
		in.sdk_date = date;
		in.algo = ep->algo;
		in.region = ep->region;
		in.service = ep->v11_service;
		in.ak = h->ak;
		in.sk = h->sk;
		ret = sign_request(&in, auth, sizeof(auth));
		if (ret)
			return ret;
		ret = add_header(&c->hdrs, "Authorization", auth);
		explicit_bzero(auth, sizeof(auth));
		if (ret)
			return ret;
	} else if (token) {
		pthread_mutex_lock(&h->token_lock);
		c->token_gen = h->token_gen;
		ret = h->token ? add_header(&c->hdrs, "X-Auth-Token", h->token)
			       : -EACCES;
		pthread_mutex_unlock(&h->token_lock);
		if (ret)
			return ret;
	}
	ret = add_header(&c->hdrs, "Accept", "application/json");
	if (!ret && r->body) {
		/* No 100-continue round trip for small JSON bodies. */
		struct curl_slist *l = curl_slist_append(c->hdrs, "Expect:");

		if (!l)
			return -ENOMEM;
		c->hdrs = l;
	}
	return ret;
}

static void call_reset_try(struct http_call *c)
{
	struct curl_slist *l;

	if (c->easy)
		curl_easy_cleanup(c->easy);
	c->easy = NULL;
	/* The list holds the Authorization or X-Auth-Token line. */
	for (l = c->hdrs; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(c->hdrs);
	c->hdrs = NULL;
	c->body_len = 0;
	if (c->body)
		c->body[0] = '\0';
	c->too_big = false;
	c->sends = 0;
	c->request_id[0] = '\0';
	c->retry_after_ms = -1;
	free_secret(c->subject_token);
	c->subject_token = NULL;
}

static int call_start(struct http_client *h, CURLM *m, struct http_call *c,
		      long long remaining)
{
	const struct http_request *r = c->req;
	CURL *e;
	int ret;

	call_reset_try(c);
	ret = http_uuid(c->res->client_id);
	if (ret)
		return ret;
	ret = build_headers(h, c);
	if (ret)
		return ret;
	e = curl_easy_init();
	if (!e)
		return -ENOMEM;
	c->easy = e;
	curl_easy_setopt(e, CURLOPT_URL, c->url);
	curl_easy_setopt(e, CURLOPT_SHARE, h->share);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_blob) {
		struct curl_blob blob = {.data = h->ca_blob,
					 .len = h->ca_blob_len,
					 .flags = CURL_BLOB_NOCOPY};

		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (h->connect_to)
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, h->connect_to);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_MAXCONNECTS, HTTP_MAX_CONNECTS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)remaining);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 remaining < HTTP_CONNECT_TIMEOUT_MS
			     ? (long)remaining
			     : HTTP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "hwcfs/" HWCFS_VERSION);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_send);
	curl_easy_setopt(e, CURLOPT_PREREQDATA, c);
	curl_easy_setopt(e, CURLOPT_PRIVATE, c);
	if (strcmp(r->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
				 (long)(r->body ? r->body_len : 0));
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	}
	c->errbuf[0] = '\0';
	c->started_ms = now_ms();
	c->res->attempts++;
	if (curl_multi_add_handle(m, e) != CURLM_OK)
		return -ENOMEM;
	return 0;
}

static enum errmap_transport classify(CURLcode code, bool too_big,
				      long long remaining)
{
	switch (code) {
	case CURLE_OPERATION_TIMEDOUT:
		/* Only the connect timeout ends a try with time to spare. */
		return remaining > 50 ? ERRMAP_T_CONNECT_TIMEOUT
				      : ERRMAP_T_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
		return ERRMAP_T_REFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return ERRMAP_T_RESOLVE;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		return ERRMAP_T_TLS;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return ERRMAP_T_DROPPED;
	case CURLE_WRITE_ERROR:
		return too_big ? ERRMAP_T_TOO_BIG : ERRMAP_T_OTHER;
	default:
		return ERRMAP_T_OTHER;
	}
}

/* Overwrites any secret of ours that a server echoed into a message. */
static void redact(struct http_client *h, char *s)
{
	const char *secrets[4] = {h->ak, h->sk, h->security_token, NULL};
	size_t i;
	char *p;

	pthread_mutex_lock(&h->token_lock);
	secrets[3] = h->token;
	for (i = 0; i < 4; i++) {
		size_t n = secrets[i] ? strlen(secrets[i]) : 0;

		if (n < 4)
			continue;
		while ((p = strstr(s, secrets[i])))
			memset(p, '*', n);
	}
	pthread_mutex_unlock(&h->token_lock);
}

static long backoff_ms(const struct http_call *c, bool throttled)
{
	long base = throttled ? HTTP_THROTTLE_BASE_MS : HTTP_BACKOFF_BASE_MS;
	long d = base;
	unsigned int r = 0;
	int i;

	for (i = 0; i < c->retries_done && d < HTTP_BACKOFF_CAP_MS; i++)
		d *= 2;
	if (d > HTTP_BACKOFF_CAP_MS)
		d = HTTP_BACKOFF_CAP_MS;
	/* Equal jitter: never less than half, so retries stay spaced. */
	RAND_bytes((unsigned char *)&r, sizeof(r));
	return d / 2 + (long)(r % (unsigned)(d / 2 + 1));
}

/* Fetches a fresh token unless another thread already did. */
static int refresh_token(struct http_client *h, unsigned long used_gen)
{
	http_token_fn fn;
	char *fresh = NULL;
	void *arg;
	int ret = 0;

	/* One login at a time, so that a 401 storm makes one request; the
	 * login itself logs and redacts, which takes token_lock. */
	pthread_mutex_lock(&h->refresh_lock);
	pthread_mutex_lock(&h->token_lock);
	fn = h->refresh;
	arg = h->refresh_arg;
	if (!fn)
		ret = -EACCES;
	else if (h->token_gen != used_gen)
		fn = NULL;
	pthread_mutex_unlock(&h->token_lock);
	if (fn) {
		ret = fn(arg, &fresh);
		if (!ret) {
			pthread_mutex_lock(&h->token_lock);
			free_secret(h->token);
			h->token = fresh;
			h->token_gen++;
			pthread_mutex_unlock(&h->token_lock);
		}
	}
	pthread_mutex_unlock(&h->refresh_lock);
	return ret;
}

static void log_try(const struct http_call *c, long status, int err,
		    long long ms, const char *what)
{
	const struct http_request *r = c->req;
	const struct http_result *res = c->res;
	const char *q = c->query;

	if (!err) {
		log_debug("%s: %s %s%s%s -> %ld request_id=%s "
			  "client_request_id=%s %lld ms",
			  r->ep->service, r->method, r->path, *q ? "?" : "", q,
			  status, c->request_id[0] ? c->request_id : "-",
			  res->client_id, ms);
		return;
	}
	hwc_log(status == 404 && r->op == ERRMAP_READ ? LOG_INFO : LOG_ERR,
		"%s: %s %s%s%s -> %s%.0ld %s \"%s\" request_id=%s "
		"client_request_id=%s %lld ms: %s%s",
		r->ep->service, r->method, r->path, *q ? "?" : "", q,
		status ? "" : "no answer", status,
		res->error_code[0] ? res->error_code : "-", res->error_msg,
		c->request_id[0] ? c->request_id : "-", res->client_id, ms,
		strerror(-err), what);
}

/* ---- the key breaker ---- */

/*
 * Whether an authenticated request may go out. The gateway locks a key
 * after five refused requests, so after a 401 nothing authenticated is
 * sent for auth_hold; then one request, the probe, goes out, and the
 * others wait for its answer (docs/backend.md, "The key breaker").
 * Returns 0 (*probe says whether this is the probe), -EAGAIN (the probe
 * is out: ask again soon) or -EACCES (held).
 */
static int hold_admit(struct http_client *h, long long now, bool *probe)
{
	int ret = 0;

	pthread_mutex_lock(&h->hold_lock);
	if (h->hold_until && now < h->hold_until) {
		ret = -EACCES;
	} else if (h->hold_until && h->probing) {
		ret = -EAGAIN;
	} else if (h->hold_until) {
		h->probing = true;
		*probe = true;
	}
	pthread_mutex_unlock(&h->hold_lock);
	return ret;
}

/*
 * An answer to an authenticated request: a 401 starts (or renews) the
 * hold; an answer that got past the gateway's authentication ends the
 * hold the probe was testing. One log line per change of state.
 */
static void hold_answer(struct http_client *h, struct http_call *c, long status,
			const char *code)
{
	const char *service = c->req->ep->service;
	long long now = now_ms();
	bool accepted =
	    status < 500 && status != 401 && !errmap_is_throttle(status, code);

	if (status != 401 && !(c->probe && accepted))
		return;
	pthread_mutex_lock(&h->hold_lock);
	if (status == 401 && (!h->hold_until || c->probe))
		hwc_log(LOG_ERR,
			"%s: the credentials were refused%s (401 %s): no "
			"authenticated request is sent for %lld s (auth_hold), "
			"so that hwcfs cannot get the key locked; operations "
			"fail EACCES until then",
			service, c->probe ? " again" : "", *code ? code : "-",
			h->hold_ms / 1000);
	else if (status != 401)
		log_info("%s: credentials accepted again (%ld); requests "
			 "resume",
			 service, status);
	h->hold_until = status == 401 ? now + h->hold_ms : 0;
	if (c->probe)
		h->probing = false;
	c->probe = false;
	pthread_mutex_unlock(&h->hold_lock);
}

/* A probe that ends without a verdict: the next request probes. */
static void hold_release(struct http_client *h, struct http_call *c)
{
	if (!c->probe)
		return;
	pthread_mutex_lock(&h->hold_lock);
	h->probing = false;
	pthread_mutex_unlock(&h->hold_lock);
	c->probe = false;
}

/* Ends the call for good with err, handing the last answer over. */
static void call_finish(struct http_client *h, struct http_call *c, int err,
			long status)
{
	struct http_result *res = c->res;

	hold_release(h, c);

	res->err = err;
	res->status = status;
	snprintf(res->request_id, sizeof(res->request_id), "%s", c->request_id);
	free(res->body);
	res->body = NULL;
	res->body_len = 0;
	if (c->body && c->body_len) {
		res->body = c->body;
		res->body_len = c->body_len;
		c->body = NULL;
		c->body_cap = 0;
	}
	c->body_len = 0;
	free_secret(res->subject_token);
	res->subject_token = c->subject_token;
	c->subject_token = NULL;
	c->done = true;
	c->waiting = false;
}

/*
 * A 401 to a request with a password token: the token may have expired,
 * so one new login and one more try (keys are never retried). 0 when the
 * call is to be tried again now, -EINTR when the caller was interrupted
 * during the login (not the cloud's verdict), else -EACCES: the 401
 * stands.
 */
static int call_refresh(struct http_client *h, struct http_call *c, int err,
			long long ms)
{
	if (c->refreshed || (c->req->flags & HTTP_NO_AUTH) ||
	    http_client_has_keys(h) || !h->refresh)
		return -EACCES;
	log_try(c, 401, err, ms, ", fetching a new token");
	c->refreshed = true;
	if (refresh_token(h, c->token_gen) != 0)
		return cancel_requested() ? -EINTR : -EACCES;
	call_reset_try(c);
	c->waiting = true;
	c->wake_ms = now_ms();
	return 0;
}

/* A try ended: decide between done, retry after a pause, or failure. */
static void call_ended(struct http_client *h, struct http_call *c,
		       CURLcode code, long long deadline)
{
	struct http_result *res = c->res;
	long long now = now_ms(), ms = now - c->started_ms;
	long status = 0, wait;
	bool retry = false, throttled = false;
	int err;

	res->error_code[0] = '\0';
	res->error_msg[0] = '\0';
	if (c->sends > 1) {
		log_debug("%s: %s %s: libcurl sent it %d times (a reused "
			  "connection died before answering)",
			  c->req->ep->service, c->req->method, c->req->path,
			  c->sends);
		c->lost_answer = true;
	}
	if (code == CURLE_OK) {
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 300)
			errmap_parse_body(c->body, c->body_len, res->error_code,
					  sizeof(res->error_code),
					  res->error_msg,
					  sizeof(res->error_msg));
		redact(h, res->error_msg);
		err = errmap_status(status, res->error_code, c->req->op,
				    c->lost_answer, &retry);
		throttled = errmap_is_throttle(status, res->error_code);
		if (status == 401) {
			int again = call_refresh(h, c, err, ms);

			if (again != -EACCES) {
				if (again)
					call_finish(h, c, again, 0);
				return;
			}
		}
		if (!(c->req->flags & HTTP_NO_AUTH))
			hold_answer(h, c, status, res->error_code);
		if (status >= 500)
			c->lost_answer = true;
	} else {
		enum errmap_transport t =
		    classify(code, c->too_big, deadline - now);
		size_t off;

		err = errmap_transport(t, &retry);
		if (t == ERRMAP_T_DROPPED || t == ERRMAP_T_TIMEOUT)
			c->lost_answer = true;
		/* Say what to do about an unknown CA, not only curl's words. */
		off = t == ERRMAP_T_TLS
			  ? strlen(strcpy(res->error_msg,
					  "TLS certificate verification or "
					  "handshake failed (-o cafile=FILE "
					  "adds a CA): "))
			  : 0;
		snprintf(res->error_msg + off, sizeof(res->error_msg) - off,
			 "%s",
			 c->too_big	? "answer too large"
			 : c->errbuf[0] ? c->errbuf
					: curl_easy_strerror(code));
	}
	if (!err) {
		log_try(c, status, 0, ms, "");
		call_finish(h, c, 0, status);
		return;
	}
	if (retry && c->retries_done < h->retries) {
		wait = backoff_ms(c, throttled);
		if (c->retry_after_ms >= 0 && c->retry_after_ms > wait)
			wait = c->retry_after_ms;
		if (now + wait < deadline) {
			char what[64];

			snprintf(what, sizeof(what), ", retry %d in %ld ms",
				 c->retries_done + 1, wait);
			log_try(c, status, err, ms, what);
			c->retries_done++;
			c->waiting = true;
			c->wake_ms = now + wait;
			curl_easy_cleanup(c->easy);
			c->easy = NULL;
			return;
		}
		log_try(c, status, err, ms, ", no time left to retry");
	} else {
		log_try(c, status, err, ms, retry ? ", retries spent" : "");
	}
	call_finish(h, c, err, status);
}

/* Whether c may be sent now; see hold_admit. 0, -EAGAIN or -EACCES. */
static int call_admit(struct http_client *h, struct http_call *c, long long now)
{
	int ret;

	if ((c->req->flags & HTTP_NO_AUTH) || c->probe)
		return 0;
	ret = hold_admit(h, now, &c->probe);
	if (ret == -EACCES) {
		snprintf(c->res->error_msg, sizeof(c->res->error_msg),
			 "not sent: the credentials were refused less than "
			 "auth_hold ago");
		log_debug("%s: %s %s: not sent, the credentials are held",
			  c->req->ep->service, c->req->method, c->req->path);
	}
	return ret;
}

static int call_init(struct http_call *c, const struct http_request *r,
		     struct http_result *res)
{
	char *q = NULL;
	int ret;

	memset(c, 0, sizeof(*c));
	memset(res, 0, sizeof(*res));
	c->req = r;
	c->res = res;
	c->retry_after_ms = -1;
	c->waiting = true;
	ret = sign_query(r->params, r->nparams, &q);
	if (ret)
		return ret;
	if (asprintf(&c->url, "%s%s%s%s", r->ep->base, r->path, *q ? "?" : "",
		     q) < 0) {
		c->url = NULL;
		free(q);
		return -ENOMEM;
	}
	c->query =
	    c->url + strlen(r->ep->base) + strlen(r->path) + (*q ? 1 : 0);
	free(q);
	return 0;
}

static void call_free(struct http_call *c)
{
	call_reset_try(c);
	free(c->body);
	free(c->url);
}

/* Starts every call whose pause is over, or ends it when it cannot go. */
static void run_start_due(struct http_client *h, CURLM *m,
			  struct http_call *calls, size_t n, long long deadline)
{
	long long now = now_ms();
	size_t i;

	for (i = 0; i < n; i++) {
		struct http_call *c = &calls[i];
		int err;

		if (c->done || !c->waiting || c->wake_ms > now)
			continue;
		c->waiting = false;
		if (deadline - now <= 0) {
			call_finish(h, c, -ETIMEDOUT, 0);
			continue;
		}
		err = call_admit(h, c, now);
		if (err == -EAGAIN) {
			c->waiting = true;
			c->wake_ms = now + HTTP_PROBE_WAIT_MS;
			continue;
		}
		if (err) {
			call_finish(h, c, err, 0);
			continue;
		}
		err = call_start(h, m, c, deadline - now);
		if (err) {
			log_err("%s: %s %s: cannot send: %s",
				c->req->ep->service, c->req->method,
				c->req->path, strerror(-err));
			call_finish(h, c, err, 0);
		}
	}
}

/* Hands every transfer that ended to call_ended. */
static void run_collect(struct http_client *h, CURLM *m, long long deadline)
{
	struct http_call *c;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		c = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
				  (char **)&c);
		curl_multi_remove_handle(m, msg->easy_handle);
		call_ended(h, c, msg->data.result, deadline);
	}
}

/*
 * The caller was interrupted: every call ends with -EINTR at once, its
 * transfer abandoned, except a DELETE already sent. Its outcome would be
 * unknown, to the audit log and to the cache, so it runs to its end
 * (within its deadline); a DELETE not sent yet is not sent.
 */
static void run_abandon(struct http_client *h, CURLM *m,
			struct http_call *calls, size_t n)
{
	size_t i, dropped = 0;
	const struct http_call *first = NULL;

	for (i = 0; i < n; i++) {
		struct http_call *c = &calls[i];

		if (c->done || (c->res->attempts > 0 &&
				strcmp(c->req->method, "DELETE") == 0))
			continue;
		if (!c->waiting && c->easy)
			curl_multi_remove_handle(m, c->easy);
		snprintf(c->res->error_msg, sizeof(c->res->error_msg),
			 "interrupted");
		call_finish(h, c, -EINTR, 0);
		if (!first)
			first = c;
		dropped++;
	}
	if (first)
		log_info("%s: %s %s: interrupted, %zu request%s abandoned",
			 first->req->ep->service, first->req->method,
			 first->req->path, dropped, dropped == 1 ? "" : "s");
}

/*
 * Whether a call is still running or pausing; *next is when the first
 * pause ends (-1: none).
 */
static bool run_pending(const struct http_call *calls, size_t n,
			long long *next)
{
	bool pending = false;
	size_t i;

	*next = -1;
	for (i = 0; i < n; i++) {
		const struct http_call *c = &calls[i];

		if (c->done)
			continue;
		pending = true;
		if (c->waiting && (*next < 0 || c->wake_ms < *next))
			*next = c->wake_ms;
	}
	return pending;
}

/* cancel_fire's watcher: ends curl_multi_poll at once. */
static void run_wake(void *arg)
{
	curl_multi_wakeup(arg);
}

/* Runs the calls of one http_run until every one is done. */
static void run_calls(struct http_client *h, CURLM *m, struct http_call *calls,
		      size_t n, long long deadline)
{
	struct cancel_watch watch = {.wake = run_wake, .arg = m};
	bool abandoned = false;
	long long next, now;
	int running;

	cancel_watch(&watch);

	for (;;) {
		if (!abandoned && cancel_requested()) {
			run_abandon(h, m, calls, n);
			abandoned = true;
		}
		run_start_due(h, m, calls, n, deadline);
		curl_multi_perform(m, &running);
		run_collect(h, m, deadline);
		if (!run_pending(calls, n, &next))
			break;
		now = now_ms();
		if (next >= 0 && next <= now)
			continue;
		/* Interrupts and ended pauses wake it earlier. */
		curl_multi_poll(
		    m, NULL, 0,
		    next < 0 || next - now > 1000 ? 1000 : (int)(next - now),
		    NULL);
	}
	cancel_unwatch(&watch);
}

int http_run(struct http_client *h, const struct http_request *reqs,
	     struct http_result *res, size_t n)
{
	long long deadline = now_ms() + h->timeout_ms;
	bool limited = http_limit_at && http_limit_at < deadline;
	struct http_call *calls;
	CURLM *m;
	size_t i;
	int ret = 0;

	calls = calloc(n ? n : 1, sizeof(*calls));
	m = curl_multi_init();
	if (!calls || !m) {
		free(calls);
		if (m)
			curl_multi_cleanup(m);
		for (i = 0; i < n; i++) {
			memset(&res[i], 0, sizeof(res[i]));
			res[i].err = -ENOMEM;
		}
		return n ? -ENOMEM : 0;
	}
	if (limited)
		deadline = http_limit_at;
	/*
	 * Without this the multi caps the shared pool at 4x its transfers
	 * still running, and closes warm connections as a round drains: 12-44
	 * new connections a cold listing of 10,000 instead of 0 (and on HTTPS
	 * a TLS handshake each on the next round's critical path).
	 */
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, HTTP_MAX_CONNECTS);
	for (i = 0; i < n; i++) {
		int err = call_init(&calls[i], &reqs[i], &res[i]);

		if (err)
			call_finish(h, &calls[i], err, 0);
	}
	run_calls(h, m, calls, n, deadline);
	for (i = 0; i < n; i++) {
		if (!ret && res[i].err)
			ret = res[i].err;
		if (limited && res[i].err == -ETIMEDOUT)
			http_limit_hit = true;
		call_free(&calls[i]);
	}
	curl_multi_cleanup(m);
	free(calls);
	return ret;
}

void http_limit_begin(struct http_client *h, struct http_limit *l)
{
	l->outer_at = http_limit_at;
	l->outer_hit = http_limit_hit;
	l->at = now_ms() + HTTP_LIST_LIMIT * h->timeout_ms;
	if (l->outer_at && l->outer_at < l->at)
		l->at = l->outer_at;
	http_limit_at = l->at;
	http_limit_hit = false;
}

bool http_limit_end(struct http_limit *l)
{
	bool hit = http_limit_hit;

	http_limit_at = l->outer_at;
	http_limit_hit = l->outer_hit || hit;
	return hit;
}

int http_do(struct http_client *h, const struct http_request *req,
	    struct http_result *res)
{
	return http_run(h, req, res, 1);
}

/* ---- JSON answers ---- */

int http_json_body(const struct http_request *req,
		   const struct http_result *res, cJSON **out)
{
	cJSON *root = NULL;
	int ret;

	ret = json_parse(res->body, res->body_len, &root, NULL);
	if (ret == -ENOMEM)
		return ret;
	if (!cJSON_IsObject(root)) {
		log_err("%s: %s %s -> %ld: answer is not a JSON object (%zu "
			"bytes) request_id=%s client_request_id=%s",
			req->ep->service, req->method, req->path, res->status,
			res->body_len,
			res->request_id[0] ? res->request_id : "-",
			res->client_id);
		cJSON_Delete(root);
		return errmap_malformed();
	}
	*out = root;
	return 0;
}

static int json_key_order(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a,
		    *y = *(const cJSON *const *)b;

	return strcmp(x->string ? x->string : "", y->string ? y->string : "");
}

/*
 * Puts obj's members in key order. List and show answers may order their
 * members differently; sorted, the same fields always give the same bytes.
 */
static int json_sort_members(cJSON *obj)
{
	size_t n = 0, i;
	cJSON **items, *it;

	for (it = obj->child; it; it = it->next)
		n++;
	if (n < 2)
		return 0;
	items = malloc(n * sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (i = 0, it = obj->child; it; it = it->next)
		items[i++] = it;
	qsort(items, n, sizeof(*items), json_key_order);
	for (i = 0; i < n; i++) {
		items[i]->prev = i ? items[i - 1] : items[n - 1];
		items[i]->next = i + 1 < n ? items[i + 1] : NULL;
	}
	obj->child = items[0];
	free(items);
	return 0;
}

int http_json_resource(const cJSON *obj, const char *const *show_only,
		       struct resource *r)
{
	cJSON *copy = cJSON_Duplicate(obj, 1);
	char *text = NULL, *json;
	size_t n;

	if (!copy)
		return -ENOMEM;
	for (; show_only && *show_only; show_only++)
		cJSON_DeleteItemFromObjectCaseSensitive(copy, *show_only);
	if (json_sort_members(copy) == 0)
		text = cJSON_Print(copy);
	cJSON_Delete(copy);
	if (!text)
		return -ENOMEM;
	n = strlen(text);
	json = realloc(text, n + 2);
	if (!json) {
		free(text);
		return -ENOMEM;
	}
	json[n] = '\n';
	json[n + 1] = '\0';
	free(r->json);
	r->json = json;
	r->json_len = n + 1;
	return 0;
}

const char *http_json_str(const cJSON *obj, const char *key, size_t max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsString(v) || !v->valuestring ||
	    strlen(v->valuestring) > max || !json_str_clean(v->valuestring))
		return NULL;
	return v->valuestring;
}

/* Counts a dropped entry and says why at debug level, name escaped. */
static void http_json_drop(size_t *count, const char *service, const char *key,
			   const char *name, const char *why)
{
	char shown[NAME_MAX_BYTES + 1];

	if (count)
		(*count)++;
	name_escape(name, shown, sizeof(shown));
	log_debug("%s: dropped a listed entry whose %s \"%s\" %s", service, key,
		  shown, why);
}

int http_json_entry_name(const cJSON *obj, const char *service, const char *key,
			 const char *want, struct listing *l, const char **name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	enum name_unsafe why;

	*name = cJSON_IsString(v) ? v->valuestring : NULL;
	if (!json_clean(obj, NULL)) {
		http_json_drop(l ? &l->dropped_tainted : NULL, service, key,
			       *name,
			       "or another of its strings holds a NUL or "
			       "bytes that are not UTF-8");
		return -ENOENT;
	}
	if (!*name && !v)
		*name = want;
	why = name_check_safe(*name);
	if (why != NAME_SAFE) {
		http_json_drop(l ? &l->dropped_unsafe : NULL, service, key,
			       *name, name_unsafe_reason(why));
		return -ENOENT;
	}
	/* A show answer about another resource is not this one. */
	if (want && strcmp(*name, want) != 0) {
		char asked[NAME_MAX_BYTES + 1], got[NAME_MAX_BYTES + 1];

		name_escape(want, asked, sizeof(asked));
		name_escape(*name, got, sizeof(got));
		log_err("%s: asked for %s, the answer is about %s", service,
			asked, got);
		return errmap_malformed();
	}
	return 0;
}

int http_path_segment(const char *s, char *buf, size_t len)
{
	char *enc = sign_uri_encode(s);
	size_t n;

	if (!enc)
		return -ENOMEM;
	n = strlen(enc);
	if (n >= len) {
		free(enc);
		return -ENAMETOOLONG;
	}
	memcpy(buf, enc, n + 1);
	free(enc);
	return 0;
}
