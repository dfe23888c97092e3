/*
 * errmap.c - the table of docs/backend.md, "Errors": HTTP status + error code +
 * kind of request -> errno and "retry or not", and the error-body parser.
 */
#include "errmap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"

/* Nested error objects deeper than this are not searched. */
#define ERRMAP_MAX_DEPTH 4

bool errmap_is_throttle(long status, const char *error_code)
{
	const char *c = error_code ? error_code : "";

	if (status == 429)
		return true;
	/* The gateway's throttling code, whatever status carries it;
	 * dedicated gateways spell the prefix APIG. */
	if (strcmp(c, "APIGW.0308") == 0 || strcmp(c, "APIG.0308") == 0)
		return true;
	/* IoTDA reports its own rate limits as 403 IOTDA.0211xx. */
	return status == 403 && strncmp(c, "IOTDA.0211", 10) == 0;
}

bool errmap_is_auth_failure(long status, const char *error_code)
{
	static const char *const codes[] = {
	    "APIGW.0301",   /* the gateway: bad signature, unknown key */
	    "APIG.0301",    /* the same from a dedicated gateway */
	    "IOTDA.000002", /* IoTDA: request unauthorized */
	    "IOTDA.000004", /* IoTDA: invalid access token */
	};
	const char *c = error_code ? error_code : "";

	if (status == 401)
		return true;
	if (status != 403)
		return false;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(c, codes[i]) == 0)
			return true;
	return false;
}

int errmap_status(long status, const char *error_code, enum errmap_op op,
		  bool after_lost_answer, bool *retry)
{
	*retry = false;
	if (status >= 200 && status < 300)
		return 0;
	if (errmap_is_throttle(status, error_code)) {
		*retry = true;
		return -EAGAIN;
	}
	if (status >= 500 && status < 600) {
		*retry = true;
		return -EIO;
	}
	switch (status) {
	case 404:
		/* The earlier try of this DELETE was applied; its answer
		 * was what got lost. */
		if (op != ERRMAP_READ && after_lost_answer)
			return 0;
		return -ENOENT;
	case 401:
	case 403:
		return -EACCES;
	case 400:
		return op == ERRMAP_PROVIDER_ID ? -ESTALE : -EINVAL;
	case 409:
		return -EBUSY;
	default:
		/* 1xx/3xx (we follow no redirects) and other 4xx: an
		 * answer we do not understand. */
		return -EIO;
	}
}

int errmap_transport(enum errmap_transport t, bool *retry)
{
	*retry = false;
	switch (t) {
	case ERRMAP_T_TIMEOUT:
		return -ETIMEDOUT;
	case ERRMAP_T_CONNECT_TIMEOUT:
		*retry = true;
		return -ETIMEDOUT;
	case ERRMAP_T_REFUSED:
		*retry = true;
		return -ECONNREFUSED;
	case ERRMAP_T_DROPPED:
		*retry = true;
		return -EIO;
	case ERRMAP_T_RESOLVE:
		return -EHOSTUNREACH;
	case ERRMAP_T_TLS:
	case ERRMAP_T_TOO_BIG:
	case ERRMAP_T_OTHER:
	default:
		return -EIO;
	}
}

int errmap_malformed(void)
{
	return -EIO;
}

/* Copies s into buf, replacing bytes that could forge log lines. */
static void copy_printable(char *buf, size_t len, const char *s, size_t n)
{
	size_t i;

	if (!len)
		return;
	for (i = 0; i < n && i + 1 < len && s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		buf[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	buf[i] = '\0';
}

static bool take_pair(const cJSON *obj, const char *kcode, const char *kmsg,
		      char *code, size_t codelen, char *msg, size_t msglen)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, kcode);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, kmsg);

	/* A code cut at a NUL (json.h) could name another error. */
	if (!cJSON_IsString(c) || !c->valuestring ||
	    !json_str_clean(c->valuestring))
		return false;
	copy_printable(code, codelen, c->valuestring, strlen(c->valuestring));
	if (cJSON_IsString(m) && m->valuestring &&
	    json_str_clean(m->valuestring))
		copy_printable(msg, msglen, m->valuestring,
			       strlen(m->valuestring));
	return true;
}

static bool find_pair(const cJSON *obj, int depth, char *code, size_t codelen,
		      char *msg, size_t msglen)
{
	static const char *const pairs[][2] = {
	    {"error_code", "error_msg"},
	    {"errorCode", "errorMsg"},
	    {"code", "message"},
	};
	const cJSON *child;
	size_t i;

	if (!cJSON_IsObject(obj) || depth > ERRMAP_MAX_DEPTH)
		return false;
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (take_pair(obj, pairs[i][0], pairs[i][1], code, codelen, msg,
			      msglen))
			return true;
	cJSON_ArrayForEach(child, obj)
	{
		if (find_pair(child, depth + 1, code, codelen, msg, msglen))
			return true;
	}
	return false;
}

void errmap_parse_body(const char *body, size_t len, char *code, size_t codelen,
		       char *msg, size_t msglen)
{
	cJSON *root;

	if (codelen)
		code[0] = '\0';
	if (msglen)
		msg[0] = '\0';
	if (!body || !len)
		return;
	json_parse(body, len, &root, NULL);
	if (root && find_pair(root, 0, code, codelen, msg, msglen)) {
		cJSON_Delete(root);
		return;
	}
	cJSON_Delete(root);
	if (codelen)
		code[0] = '\0';
	copy_printable(msg, msglen, body, len);
}
