/*
 * http.h - the HTTP client every service module uses: one shared pool of
 * kept-alive connections, signing, deadlines, retries, and a runner that
 * sends several requests at once. Internal to backend/.
 */
#ifndef HWCFS_HTTP_H
#define HWCFS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "errmap.h"
#include "sign.h"

/* Answers larger than this are refused (-EIO): no listing page is near. */
#define HTTP_MAX_BODY (32u << 20)

struct http_client;

/* One service: where its requests go and how they are signed. */
struct http_endpoint {
	char *base;	     /* "scheme://host[:port]", no trailing slash */
	char *host;	     /* the Host header: host[:port] as configured */
	char *hostname;	     /* host alone, no brackets: to pick signing */
	const char *service; /* "iotda", "rfs", "iam": for logs */
	enum sign_algo algo;
	const char *region;	 /* V11 signing */
	const char *v11_service; /* V11 signing: "iotdm" */
	bool client_request_id;	 /* RFS: Client-Request-Id on every call */
	const char *instance_id; /* IoTDA Instance-Id header, or NULL */
};

/*
 * Parses url ("https://host[:port]", optionally with a trailing "/").
 * http:// is accepted only for loopback hosts. 0 or -EINVAL with err.
 */
int http_endpoint_init(struct http_endpoint *ep, const char *url,
		       const char *service, char *err, size_t errlen);
void http_endpoint_clear(struct http_endpoint *ep);

/* Request flags. */
#define HTTP_NO_AUTH 0x1u	/* neither signature nor token (IAM login) */
#define HTTP_SUBJECT_TOKEN 0x2u /* keep the X-Subject-Token answer header */

struct http_request {
	const struct http_endpoint *ep;
	const char *method; /* "GET", "DELETE", "POST" */
	const char *path;   /* as sent, every segment already URL-safe */
	const struct sign_param *params; /* query; sent as sign_query */
	size_t nparams;
	const char *body; /* JSON, or NULL */
	size_t body_len;
	const char *content_type; /* NULL: "application/json" */
	enum errmap_op op;
	unsigned flags;
};

/* What a request came to, after its retries. Owns body and token. */
struct http_result {
	int err;     /* 0, or -errno per errmap */
	long status; /* last HTTP status; 0 when none arrived */
	char *body;  /* last answer's body, NUL-terminated, or NULL */
	size_t body_len;
	int attempts;
	char request_id[96]; /* X-Request-Id of the last answer */
	char client_id[40];  /* our UUID of the last try */
	char error_code[64]; /* cloud error code of the last answer */
	char error_msg[256]; /* and its message, printable */
	char *subject_token; /* with HTTP_SUBJECT_TOKEN */
};
void http_result_clear(struct http_result *r);

/*
 * A fresh token for password logins, called when an answer is 401: the
 * client retries the request once with it. Returns 0 or -errno and writes
 * a malloc'ed token to *token.
 */
typedef int (*http_token_fn)(void *arg, char **token);

/* Copies what it needs from cfg (credentials, timeout, retries, cafile). */
int http_client_new(const struct hwc_config *cfg, struct http_client **out,
		    char *err, size_t errlen);
void http_client_free(struct http_client *h);

/* X-Project-Id for signed requests, once known. 0 or -ENOMEM. */
int http_client_set_project(struct http_client *h, const char *project_id);
/* Use this token (X-Auth-Token) instead of keys; refresh may be NULL. */
int http_client_set_token(struct http_client *h, const char *token,
			  http_token_fn refresh, void *arg);
/* Whether requests are signed with AK/SK (else a token is used). */
bool http_client_has_keys(const struct http_client *h);

/*
 * Sends n requests at once, each with its own retries, all within one
 * deadline of cfg->timeout seconds from now. Every res[i] is filled (and
 * must be cleared by the caller). Returns the first res[i].err that is not
 * 0, in index order, or 0. When the calling thread's call is interrupted
 * (cancel.h) it gives up at once with -EINTR, except for a DELETE already
 * sent, which runs to its end.
 */
int http_run(struct http_client *h, const struct http_request *reqs,
	     struct http_result *res, size_t n);

/*
 * A whole listing may take HTTP_LIST_LIMIT times `timeout` (docs/backend.md,
 * "Deadlines"): between http_limit_begin and http_limit_end every request
 * this thread sends ends by then, with -ETIMEDOUT. http_limit_end says
 * whether the limit cut a request. Limits nest; the earlier one wins.
 */
#define HTTP_LIST_LIMIT 30
struct http_limit {
	long long at; /* monotonic ms */
	long long outer_at;
	bool outer_hit;
};
void http_limit_begin(struct http_client *h, struct http_limit *l);
bool http_limit_end(struct http_limit *l);

/* One request: http_run with n = 1. */
int http_do(struct http_client *h, const struct http_request *req,
	    struct http_result *res);

/* Room for one name as a path segment: every byte may become %XX. */
#define HTTP_SEGMENT_MAX (3 * 255 + 1)
/*
 * s as one path segment: every byte but A-Z a-z 0-9 - _ . ~ percent-encoded,
 * as the SDKs encode a path parameter, so the canonical URI sign.c builds
 * from the path is the path sent (docs/backend.md). 0, -ENAMETOOLONG or
 * -ENOMEM.
 */
int http_path_segment(const char *s, char *buf, size_t len);

/* A random version 4 UUID, 36 chars + NUL, from RAND_bytes. 0 or -EIO. */
int http_uuid(char out[37]);

#endif
