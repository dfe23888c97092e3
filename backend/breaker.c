/*
 * breaker.c - the key breaker: the gateway locks a key after five refused
 * requests, so a refusal holds every authenticated request back.
 */
#include "breaker.h"

#include <errno.h>

#include "clock.h"
#include "errmap.h"
#include "log.h"

int breaker_init(struct http_breaker *k, long long hold_ms)
{
	k->hold_ms = hold_ms;
	k->until = 0;
	k->probing = false;
	return -pthread_mutex_init(&k->lock, NULL);
}

void breaker_destroy(struct http_breaker *k)
{
	pthread_mutex_destroy(&k->lock);
}

/*
 * Whether an authenticated request may go out. The gateway locks a key
 * after five refused requests, so after a 401 nothing authenticated is
 * sent for auth_hold; then one request, the probe, goes out, and the
 * others wait for its answer (docs/backend.md, "The key breaker").
 * Returns 0 (*probe says whether this is the probe), -EAGAIN (the probe
 * is out: ask again soon) or -EACCES (held).
 */
int breaker_admit(struct http_breaker *k, long long now, bool *probe)
{
	int ret = 0;

	pthread_mutex_lock(&k->lock);
	if (k->until && now < k->until) {
		ret = -EACCES;
	} else if (k->until && k->probing) {
		ret = -EAGAIN;
	} else if (k->until) {
		k->probing = true;
		*probe = true;
	}
	pthread_mutex_unlock(&k->lock);
	return ret;
}

/*
 * An answer to an authenticated request: a 401 starts (or renews) the
 * hold; an answer that got past the gateway's authentication ends the
 * hold the probe was testing. One log line per change of state.
 */
void breaker_answer(struct http_breaker *k, const char *service, long status,
		    const char *code, bool *probe)
{
	long long now = clock_now_ms();
	bool accepted =
	    status < 500 && status != 401 && !errmap_is_throttle(status, code);

	if (status != 401 && !(*probe && accepted))
		return;
	pthread_mutex_lock(&k->lock);
	if (status == 401 && (!k->until || *probe))
		hwc_log(LOG_ERR,
			"%s: the credentials were refused%s (401 %s): no "
			"authenticated request is sent for %lld s (auth_hold), "
			"so that hwcfs cannot get the key locked; operations "
			"fail EACCES until then",
			service, *probe ? " again" : "", *code ? code : "-",
			k->hold_ms / 1000);
	else if (status != 401)
		log_info("%s: credentials accepted again (%ld); requests "
			 "resume",
			 service, status);
	k->until = status == 401 ? now + k->hold_ms : 0;
	if (*probe)
		k->probing = false;
	*probe = false;
	pthread_mutex_unlock(&k->lock);
}

/* A probe that ends without a verdict: the next request probes. */
void breaker_release(struct http_breaker *k, bool *probe)
{
	if (!*probe)
		return;
	pthread_mutex_lock(&k->lock);
	k->probing = false;
	pthread_mutex_unlock(&k->lock);
	*probe = false;
}
