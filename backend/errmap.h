/*
 * errmap.h - the one table that turns what the cloud (or the network) said
 * into an errno, and whether another try is worth it. Nothing else in the
 * code guesses errnos from HTTP answers.
 */
#ifndef HWCFS_ERRMAP_H
#define HWCFS_ERRMAP_H

#include <stdbool.h>
#include <stddef.h>

/* What kind of request got the answer: the same status means different
 * things for a read and for a delete. */
enum errmap_op {
	ERRMAP_READ,	    /* list, show, check, IAM */
	ERRMAP_DELETE,	    /* a DELETE without provider_id (packages) */
	ERRMAP_PROVIDER_ID, /* a request that sends provider_id: 400 = stale */
};

/* How a request failed before an HTTP status arrived. */
enum errmap_transport {
	ERRMAP_T_TIMEOUT,	  /* the deadline ran out */
	ERRMAP_T_CONNECT_TIMEOUT, /* connect took too long; time is left */
	ERRMAP_T_REFUSED,	  /* connect() refused or no route */
	ERRMAP_T_DROPPED,	  /* reset, closed early, truncated body */
	ERRMAP_T_TLS,		  /* handshake or certificate failure */
	ERRMAP_T_RESOLVE,	  /* host name does not resolve */
	ERRMAP_T_TOO_BIG,	  /* answer larger than we accept */
	ERRMAP_T_OTHER,
};

/*
 * The errno of an HTTP answer once retries are spent (0 for 2xx), and in
 * *retry whether trying again may help. after_lost_answer: an earlier try
 * of this same request may have been applied (its answer was lost), so a
 * DELETE that now gets 404 is done.
 */
int errmap_status(long status, const char *error_code, enum errmap_op op,
		  bool after_lost_answer, bool *retry);

/* True for the throttling answers: 429, APIGW.0308, 403 IOTDA.0211xx. */
bool errmap_is_throttle(long status, const char *error_code);

/*
 * True when the answer refused the credentials themselves (a 401, or a 403
 * whose code says authentication failed), as opposed to a permission the
 * user lacks. Sending the same key again only brings the gateway's
 * lockout nearer, so hwcfs stops at once (exit status 77, docs/hwcfs.md).
 */
bool errmap_is_auth_failure(long status, const char *error_code);

/* The errno of a transport failure, and whether to retry it. */
int errmap_transport(enum errmap_transport t, bool *retry);

/* A 2xx body that is not the JSON we expect: always -EIO. */
int errmap_malformed(void);

/*
 * The cloud's error body (docs/cloud-api.md, "Error bodies and codes"):
 * the first pair present of error_code/error_msg, errorCode/errorMsg,
 * code/message, at the top level or else in nested objects. Without one,
 * code is "" and msg is the start of the raw body. Both are made printable
 * (control bytes become '?').
 */
void errmap_parse_body(const char *body, size_t len, char *code, size_t codelen,
		       char *msg, size_t msglen);

#endif
