/*
 * table.c - the cache's flights: one inner request in progress that other
 * threads asking the same join (cache.c). Its hash tables are common/htab.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache_priv.h"
#include "cancel.h"

struct cache_flight *flight_new(void)
{
	struct cache_flight *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	if (pthread_cond_init(&f->done_cond, NULL)) {
		free(f);
		return NULL;
	}
	f->refs = 1;
	return f;
}

void flight_put(struct cache_flight *f)
{
	if (--f->refs)
		return;
	listing_put(f->l);
	resource_clear(&f->r);
	pthread_cond_destroy(&f->done_cond);
	free(f);
}

/* What an interrupt of a waiter must wake (flight_wait). */
struct flight_waiter {
	struct cache *c;
	struct cache_flight *f;
};

static void flight_wake(void *arg)
{
	struct flight_waiter *w = arg;

	pthread_mutex_lock(&w->c->lock);
	pthread_cond_broadcast(&w->f->done_cond);
	pthread_mutex_unlock(&w->c->lock);
}

/*
 * Joins f and sleeps until its leader is done (0) or this thread's call is
 * interrupted (-EINTR); the caller then reads f and puts it. The lock is
 * dropped and taken again meanwhile.
 */
int flight_wait(struct cache *c, struct cache_flight *f)
{
	struct flight_waiter w = {c, f};
	struct cancel_watch watch = {.wake = flight_wake, .arg = &w};

	f->refs++;
	cancel_watch(&watch);
	while (!f->done && !cancel_requested())
		pthread_cond_wait(&f->done_cond, &c->lock);
	if (watch.set) {
		/* flight_wake takes the lock: let it end first. */
		pthread_mutex_unlock(&c->lock);
		cancel_unwatch(&watch);
		pthread_mutex_lock(&c->lock);
	}
	return f->done ? 0 : -EINTR;
}

/*
 * A flight whose leader was interrupted ended with -EINTR. That is the
 * leader's answer, not the cloud's: a waiter that was not interrupted asks
 * again (and may lead), and nothing is kept.
 */
bool flight_retry(int err)
{
	return err == -EINTR && !cancel_requested();
}

void flight_finish(struct cache_flight *f, int err)
{
	f->err = err;
	f->done = true;
	pthread_cond_broadcast(&f->done_cond);
}
