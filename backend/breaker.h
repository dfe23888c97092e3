/*
 * breaker.h - the key breaker: after the gateway refuses the credentials,
 * no authenticated request goes out for auth_hold, then one probe does
 * (docs/backend.md, "The key breaker"). Internal to backend/.
 */
#ifndef HWCFS_BREAKER_H
#define HWCFS_BREAKER_H

#include <pthread.h>
#include <stdbool.h>

struct http_breaker {
	pthread_mutex_t lock; /* until, probing */
	long long hold_ms;    /* auth_hold */
	long long until;      /* monotonic ms; 0: credentials not refused */
	bool probing;	      /* the one request after the hold is out */
};

/* 0, or -errno when its lock cannot be made. */
int breaker_init(struct http_breaker *k, long long hold_ms);
void breaker_destroy(struct http_breaker *k);
int breaker_admit(struct http_breaker *k, long long now, bool *probe);
void breaker_answer(struct http_breaker *k, const char *service, long status,
		    const char *code, bool *probe);
void breaker_release(struct http_breaker *k, bool *probe);

#endif
