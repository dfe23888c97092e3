/*
 * http_int.h - private to http.c and its parts (http_client.c, the client;
 * http_try.c, one try): the client's state and a call in flight.
 */
#ifndef HWCFS_HTTP_INT_H
#define HWCFS_HTTP_INT_H

#include <pthread.h>
#include <stdbool.h>

#include <curl/curl.h>

#include "breaker.h"
#include "http.h"

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
	struct http_breaker breaker;
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

/* http_client.c */

/* Frees a secret string after overwriting it. */
void http_secret_free(char *s);
/* Overwrites any secret of ours that a server echoed into s. */
void http_redact(struct http_client *h, char *s);
/* Fetches a fresh token unless another thread already did. */
int http_refresh_token(struct http_client *h, unsigned long used_gen);

/* http_try.c */

/* Drops what the last try left (handle, headers, answer so far). */
void http_call_reset_try(struct http_call *c);
/* Starts a new try of c on m, ending within remaining ms. 0 or -errno. */
int http_call_start(struct http_client *h, CURLM *m, struct http_call *c,
		    long long remaining);
/* What a transfer error means to errmap. */
enum errmap_transport http_classify(CURLcode code, bool too_big,
				    long long remaining);

#endif
