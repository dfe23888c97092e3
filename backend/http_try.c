/*
 * http_try.c - one try of a request: its headers, signed fresh each time,
 * the easy handle that sends it, what the answer's headers and body say,
 * and what a transfer error means to errmap.
 */
#include "http_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "clock.h"
#include "log.h"

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
		http_secret_free(c->subject_token);
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
			http_secret_free(c->subject_token);
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

void http_call_reset_try(struct http_call *c)
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
	http_secret_free(c->subject_token);
	c->subject_token = NULL;
}

int http_call_start(struct http_client *h, CURLM *m, struct http_call *c,
		    long long remaining)
{
	const struct http_request *r = c->req;
	CURL *e;
	int ret;

	http_call_reset_try(c);
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
	c->started_ms = clock_now_ms();
	c->res->attempts++;
	if (curl_multi_add_handle(m, e) != CURLM_OK)
		return -ENOMEM;
	return 0;
}

enum errmap_transport http_classify(CURLcode code, bool too_big,
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
