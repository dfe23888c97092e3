/*
 * http.c - sending requests: alone or several at once through one multi
 * handle, each retried per errmap within one deadline so that no
 * filesystem call can hang. The client they share is http_client.c; one
 * try of a request is http_try.c.
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

#include "breaker.h"
#include "cancel.h"
#include "clock.h"
#include "log.h"

/* The time limit of this thread's listing, if any (http_limit_begin). */
static _Thread_local long long http_limit_at;
static _Thread_local bool http_limit_hit;

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

/* Ends the call for good with err, handing the last answer over. */
static void call_finish(struct http_client *h, struct http_call *c, int err,
			long status)
{
	struct http_result *res = c->res;

	breaker_release(&h->breaker, &c->probe);

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
	http_secret_free(res->subject_token);
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
	if (http_refresh_token(h, c->token_gen) != 0)
		return cancel_requested() ? -EINTR : -EACCES;
	http_call_reset_try(c);
	c->waiting = true;
	c->wake_ms = clock_now_ms();
	return 0;
}

/*
 * A try that got an answer: its errno per errmap (and whether to retry),
 * the breaker told, a 401 to a password token re-logged. Returns false
 * when that re-login already settled the call.
 */
static bool call_answered(struct http_client *h, struct http_call *c,
			  long long ms, long *status, int *err, bool *retry,
			  bool *throttled)
{
	struct http_result *res = c->res;

	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, status);
	if (*status >= 300)
		errmap_parse_body(c->body, c->body_len, res->error_code,
				  sizeof(res->error_code), res->error_msg,
				  sizeof(res->error_msg));
	http_redact(h, res->error_msg);
	*err = errmap_status(*status, res->error_code, c->req->op,
			     c->lost_answer, retry);
	*throttled = errmap_is_throttle(*status, res->error_code);
	if (*status == 401) {
		int again = call_refresh(h, c, *err, ms);

		if (again != -EACCES) {
			if (again)
				call_finish(h, c, again, 0);
			return false;
		}
	}
	if (!(c->req->flags & HTTP_NO_AUTH))
		breaker_answer(&h->breaker, c->req->ep->service, *status,
			       res->error_code, &c->probe);
	if (*status >= 500)
		c->lost_answer = true;
	return true;
}

/* A try that got no answer: its errno, and curl's words for the log. */
static int call_failed(struct http_call *c, CURLcode code, long long remaining,
		       bool *retry)
{
	struct http_result *res = c->res;
	enum errmap_transport t = http_classify(code, c->too_big, remaining);
	size_t off;
	int err;

	err = errmap_transport(t, retry);
	if (t == ERRMAP_T_DROPPED || t == ERRMAP_T_TIMEOUT)
		c->lost_answer = true;
	/* Say what to do about an unknown CA, not only curl's words. */
	off = t == ERRMAP_T_TLS
		  ? strlen(strcpy(res->error_msg,
				  "TLS certificate verification or "
				  "handshake failed (-o cafile=FILE "
				  "adds a CA): "))
		  : 0;
	snprintf(res->error_msg + off, sizeof(res->error_msg) - off, "%s",
		 c->too_big	? "answer too large"
		 : c->errbuf[0] ? c->errbuf
				: curl_easy_strerror(code));
	return err;
}

/*
 * A failed try that may be retried: pauses it for the backoff (or the
 * server's Retry-After) when that ends before the deadline. false when
 * there is no time left.
 */
static bool call_retry_later(struct http_call *c, long status, int err,
			     long long now, long long ms, long long deadline,
			     bool throttled)
{
	long wait = backoff_ms(c, throttled);
	char what[64];

	if (c->retry_after_ms >= 0 && c->retry_after_ms > wait)
		wait = c->retry_after_ms;
	if (now + wait >= deadline)
		return false;
	snprintf(what, sizeof(what), ", retry %d in %ld ms",
		 c->retries_done + 1, wait);
	log_try(c, status, err, ms, what);
	c->retries_done++;
	c->waiting = true;
	c->wake_ms = now + wait;
	curl_easy_cleanup(c->easy);
	c->easy = NULL;
	return true;
}

/* A try ended: decide between done, retry after a pause, or failure. */
static void call_ended(struct http_client *h, struct http_call *c,
		       CURLcode code, long long deadline)
{
	struct http_result *res = c->res;
	long long now = clock_now_ms(), ms = now - c->started_ms;
	long status = 0;
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
	if (code != CURLE_OK)
		err = call_failed(c, code, deadline - now, &retry);
	else if (!call_answered(h, c, ms, &status, &err, &retry, &throttled))
		return;
	if (!err) {
		log_try(c, status, 0, ms, "");
		call_finish(h, c, 0, status);
		return;
	}
	if (retry && c->retries_done < h->retries) {
		if (call_retry_later(c, status, err, now, ms, deadline,
				     throttled))
			return;
		log_try(c, status, err, ms, ", no time left to retry");
	} else {
		log_try(c, status, err, ms, retry ? ", retries spent" : "");
	}
	call_finish(h, c, err, status);
}

/* Whether c may be sent now; see breaker_admit. 0, -EAGAIN or -EACCES. */
static int call_admit(struct http_client *h, struct http_call *c, long long now)
{
	int ret;

	if ((c->req->flags & HTTP_NO_AUTH) || c->probe)
		return 0;
	ret = breaker_admit(&h->breaker, now, &c->probe);
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
	http_call_reset_try(c);
	free(c->body);
	free(c->url);
}

/* Starts every call whose pause is over, or ends it when it cannot go. */
static void run_start_due(struct http_client *h, CURLM *m,
			  struct http_call *calls, size_t n, long long deadline)
{
	long long now = clock_now_ms();
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
		err = http_call_start(h, m, c, deadline - now);
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
		now = clock_now_ms();
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
	long long deadline = clock_now_ms() + h->timeout_ms;
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
	l->at = clock_now_ms() + HTTP_LIST_LIMIT * h->timeout_ms;
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
