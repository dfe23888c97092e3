/*
 * fuzz_feed.c - answers the backend's HTTP requests from the fuzz input
 * (see fuzz_feed.h) and silences its log lines, which would otherwise
 * cost more than the parsing under test.
 */
#include "fuzz_feed.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "json.h"
#include "names.h"

static const uint8_t *feed_data;
static size_t feed_size, feed_pos, feed_requests;
static int feed_done;

void fuzz_feed_start(const uint8_t *data, size_t size)
{
	feed_data = data;
	feed_size = size;
	feed_pos = 0;
	feed_requests = 0;
	feed_done = 0;
}

size_t fuzz_feed_requests(void)
{
	return feed_requests;
}

void fuzz_check_resource(const struct resource *r, const struct kind *kind)
{
	FUZZ_CHECK(r->name && name_safe(r->name));
	FUZZ_CHECK(json_str_clean(r->name));
	FUZZ_CHECK(r->json && r->json_len > 0);
	/* No string of a taken entry held a NUL (json.h). */
	FUZZ_CHECK(!memchr(r->json, JSON_TAINT, r->json_len));
	FUZZ_CHECK(strlen(r->json) == r->json_len);
	FUZZ_CHECK(r->json[r->json_len - 1] == '\n');
	FUZZ_CHECK(!r->provider_id || strlen(r->provider_id) == 36);
	FUZZ_CHECK(kind->strong_id || !r->provider_id);
}

void fuzz_check_listing(const struct listing *l, const struct kind *kind)
{
	size_t i;

	for (i = 0; i < l->count; i++) {
		fuzz_check_resource(&l->items[i], kind);
		if (i)
			FUZZ_CHECK(
			    strcmp(l->items[i - 1].name, l->items[i].name) < 0);
	}
}

void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "fuzz check failed at %s:%d: %s\n", file, line, what);
	abort();
}

/* The next answer's bytes, or -1 once they are used up. */
static int feed_next(const uint8_t **p, size_t *n)
{
	const uint8_t *start, *sep;
	size_t left, seplen = sizeof(FUZZ_SEP) - 1;

	if (feed_done)
		return -1;
	start = feed_data + feed_pos;
	left = feed_size - feed_pos;
	sep = left >= seplen ? memmem(start, left, FUZZ_SEP, seplen) : NULL;
	if (sep) {
		*n = (size_t)(sep - start);
		feed_pos += *n + seplen;
	} else {
		*n = left;
		feed_done = 1;
	}
	*p = start;
	return 0;
}

/*
 * One answer in the shape http.c gives: a malloc'ed body exactly as long
 * as the answer plus the NUL http.c always adds, so ASan sees any read
 * past it. IAM logins also get a subject token.
 */
static int feed_answer(const struct http_request *req, struct http_result *res)
{
	const uint8_t *p;
	size_t n;

	memset(res, 0, sizeof(*res));
	feed_requests++;
	res->attempts = 1;
	snprintf(res->client_id, sizeof(res->client_id), "fuzz");
	if (feed_next(&p, &n)) {
		res->err = -EIO;
		return res->err;
	}
	res->status = 200;
	res->body = malloc(n + 1);
	if (!res->body) {
		res->err = -ENOMEM;
		return res->err;
	}
	memcpy(res->body, p, n);
	res->body[n] = '\0';
	res->body_len = n;
	snprintf(res->request_id, sizeof(res->request_id), "fuzz-%zu",
		 feed_requests);
	if (req->flags & HTTP_SUBJECT_TOKEN)
		res->subject_token = strdup("MIIfuzztoken");
	return 0;
}

int __wrap_http_run(struct http_client *h, const struct http_request *reqs,
		    struct http_result *res, size_t n);
int __wrap_http_do(struct http_client *h, const struct http_request *req,
		   struct http_result *res);
void __wrap_hwc_log(int prio, const char *fmt, ...);

int __wrap_http_run(struct http_client *h, const struct http_request *reqs,
		    struct http_result *res, size_t n)
{
	int first = 0;
	size_t i;

	(void)h;
	for (i = 0; i < n; i++) {
		int err = feed_answer(&reqs[i], &res[i]);

		if (err && !first)
			first = err;
	}
	return first;
}

int __wrap_http_do(struct http_client *h, const struct http_request *req,
		   struct http_result *res)
{
	return __wrap_http_run(h, req, res, 1);
}

/* Formats (so bad format arguments still show) and drops the line. */
void __wrap_hwc_log(int prio, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	(void)prio;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
}
