/*
 * cache.c - a backend in front of another backend: listings and looked-up
 * entries kept for a TTL, names confirmed missing kept for a negative TTL,
 * deletes reflected at once, and one inner request per key however many
 * threads ask for it.
 *
 * Everything lives under one mutex, which is never held while the inner
 * backend works. A request in progress is a "flight"; threads asking for the
 * same key join it and sleep on its condition variable. Invalidating a key
 * (a delete, a forget) detaches its flight: the threads already in it still
 * get its answer, but the answer is not kept and later callers start anew,
 * so nobody who asks after a delete has returned sees the deleted name.
 *
 * Two answers are given without asking the cloud although nothing fresh is
 * held (docs/hwcfs.md, "How fresh each view is"): a lookup that just failed
 * to reach the cloud (a timeout, a refused connection) gives its error again
 * for CACHE_ERROR_SECONDS, so that `rm -f NAME`, which looks NAME up twice,
 * waits for one timeout and not two; and lookup_stale answers a name once
 * from an expired answer, so that `rm` of a listed package after cache_ttl
 * costs only its DELETE.
 */
#include "cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache_priv.h"
#include "cancel.h"
#include "clock.h"

/* --- the operations ------------------------------------------------ */

double cache_now(struct cache *c)
{
	return c->now ? c->now(c->now_ctx) : clock_now_s();
}

bool coll_fresh(struct cache *c, const struct cache_coll *cs, double now)
{
	return cs->l && now < cs->fetched + c->ttl;
}

/*
 * The inner list of cs, by the leader of its flight: called and returns
 * with the lock held, dropped meanwhile. The answer is kept only if the
 * flight is still attached (no delete or forget came in); *old gets the
 * listing it replaced, to be put outside the lock. A readahead's flight
 * (prefetch) that fails makes its waiters ask again (cache_list).
 */
int list_lead(struct cache *c, struct cache_coll *cs, const struct coll *coll,
	      double now, bool prefetch, struct listing **out,
	      struct listing **old)
{
	struct cache_flight *f = flight_new();
	struct listing *l = NULL;
	int err;

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->prefetch = prefetch;
	cs->flight = f;
	pthread_mutex_unlock(&c->lock);

	err = c->inner->ops->list(c->inner, coll, &l);

	pthread_mutex_lock(&c->lock);
	if (cs->flight == f) {
		cs->flight = NULL;
		if (!err) {
			*old = cs->l;
			cs->l = listing_get(l);
			cs->fetched = now; /* the TTL counts from the start */
		}
	}
	if (!err && f->refs > 1)
		f->l = listing_get(l);
	flight_finish(f, err);
	flight_put(f);
	*out = l;
	return err;
}

static int cache_list(struct backend *b, const struct coll *coll,
		      struct listing **out)
{
	struct cache *c = (struct cache *)b;
	struct listing *old = NULL;
	struct cache_coll *cs;
	struct cache_flight *f;
	bool first = true, retry;
	double now;
	int err;

	*out = NULL;
	/* ttl 0: no cache, and no sharing of answers either (see cache_wrap) */
	if (c->ttl <= 0)
		return c->inner->ops->list(c->inner, coll, out);

	pthread_mutex_lock(&c->lock);
	cs = coll_hold(c, coll);
	if (!cs) {
		pthread_mutex_unlock(&c->lock);
		return -ENOMEM;
	}
again:
	/* One clock reading per call; the unit tests rely on it. */
	now = cache_now(c);
	/* A walk's next lists go out before this one waits on its own. */
	if (first)
		readahead_note(c, cs, now);
	first = false;
	if (coll_fresh(c, cs, now)) {
		*out = listing_get(cs->l);
		err = 0;
		goto out;
	}
	if (cs->flight) {
		f = cs->flight;
		err = flight_wait(c, f);
		if (!err)
			err = f->err;
		if (!err)
			*out = listing_get(f->l);
		/* A failed readahead is nobody's answer: ask again. */
		retry = flight_retry(err) || (err && f->done && f->prefetch);
		flight_put(f);
		if (retry)
			goto again;
		goto out;
	}
	err = list_lead(c, cs, coll, now, false, out, &old);
out:
	coll_release(c, cs);
	pthread_mutex_unlock(&c->lock);
	/* The last reference may free a large listing: not under the lock. */
	listing_put(old);
	return err;
}

/* Errors that say the cloud was not reached, not what it holds. */
static bool unreachable(int err)
{
	return err == -ETIMEDOUT || err == -ECONNREFUSED ||
	       err == -EHOSTUNREACH;
}

/*
 * The lookup's inner request, made by the leader of e's flight. The answer
 * is kept only if the flight is still attached, i.e. no delete or forget of
 * the name came in meanwhile.
 */
static int lookup_lead(struct cache *c, struct cache_coll *cs,
		       struct cache_entry *e, const struct coll *coll,
		       const char *name, double now, struct resource *out)
{
	struct cache_flight *f = flight_new();
	int err, shared;

	if (!f) {
		entry_maybe_free(c, e);
		return -ENOMEM;
	}
	e->flight = f;
	e->pins++;
	pthread_mutex_unlock(&c->lock);

	err = c->inner->ops->lookup(c->inner, coll, name, out);

	pthread_mutex_lock(&c->lock);
	e->pins--;
	if (e->flight == f) {
		e->flight = NULL;
		if (!err) {
			resource_clear(&e->r);
			/* Without memory for the copy, just keep nothing. */
			e->state = resource_copy(&e->r, out) ? ENTRY_NONE
							     : ENTRY_FOUND;
			e->expires = now + c->ttl;
			e->stale_from = 0;
		} else if (unreachable(err)) {
			/* Counted from the failure: it took the timeout. */
			resource_clear(&e->r);
			e->state = ENTRY_FAILED;
			e->err = err;
			e->expires = cache_now(c) + CACHE_ERROR_SECONDS;
		} else if (err == -ENOENT) {
			entry_set_missing(c, e, now);
			/*
			 * A listing fetched before we asked is wrong about
			 * the name; one fetched since may have it re-created.
			 */
			if (cs->l && cs->fetched <= now)
				listing_mark_gone(cs->l, name);
		}
	}
	shared = err;
	if (!err && f->refs > 1 && resource_copy(&f->r, out))
		shared = -ENOMEM; /* only the waiters lack a copy */
	flight_finish(f, shared);
	flight_put(f);
	entry_maybe_free(c, e);
	return err;
}

/*
 * What an expired listing or entry last said of e's name, for lookup_stale:
 * true, with the listing index in *index (or -1 for e's own answer), when the
 * newest of them said the name exists and that answer was not given this way
 * before. Missing or failed answers are never reused.
 */
static bool stale_answer(struct cache *c, struct cache_coll *cs,
			 struct cache_entry *e, long *index)
{
	long i = cs->l ? listing_index(cs->l, e->name) : -1;
	bool found = false;
	double at = 0;

	if (i >= 0) {
		at = cs->fetched;
		/* Gone: deleted or found missing since that fetch. */
		found = !listing_is_gone(cs->l, (size_t)i);
	}
	if (e->state == ENTRY_FOUND && e->expires - c->ttl > at) {
		at = e->expires - c->ttl;
		found = true;
		i = -1;
	} else if (e->state == ENTRY_MISSING &&
		   e->expires - c->negative_ttl > at) {
		found = false;
	}
	if (!found || at <= e->stale_from)
		return false;
	e->stale_from = at;
	*index = i;
	return true;
}

/*
 * The name is answered, in this order, from: a fresh listing that has it
 * (live or gone); a fresh entry (found, missing, or failed to reach the
 * cloud); with stale, an expired answer given once (see stale_answer); one
 * inner lookup shared by every thread asking for it.
 *
 * The design says a name missing from a fresh listing "is confirmed with one
 * show request, then kept as a negative entry". We read it literally: the
 * listing may predate the name's creation, so its absence there is only a
 * hint; one inner lookup decides, and a -ENOENT answer is kept for
 * negative_ttl, so asking again in that time makes no request. A name the
 * listing marks gone was deleted (or found missing) since it was fetched,
 * and is ENOENT with no request.
 */
static int lookup_cached(struct cache *c, const struct coll *coll,
			 const char *name, struct resource *out, bool *stale)
{
	struct listing *l = NULL;
	struct cache_coll *cs;
	struct cache_entry *e;
	struct cache_flight *f;
	double now;
	long i = -1;
	int err;

	pthread_mutex_lock(&c->lock);
	cs = coll_hold(c, coll);
	if (!cs) {
		pthread_mutex_unlock(&c->lock);
		return -ENOMEM;
	}
again:
	now = cache_now(c);
	if (coll_fresh(c, cs, now)) {
		i = listing_index(cs->l, name);
		if (i >= 0) {
			if (listing_is_gone(cs->l, (size_t)i)) {
				err = -ENOENT;
			} else {
				/* Copied below, outside the lock. */
				l = listing_get(cs->l);
				err = 0;
			}
			goto out;
		}
	}

	e = entry_get(c, cs, name, now);
	if (!e) {
		err = -ENOMEM;
		goto out;
	}
	if (entry_fresh(e, now)) {
		if (e->state == ENTRY_MISSING)
			err = -ENOENT;
		else if (e->state == ENTRY_FAILED)
			err = e->err;
		else
			err = resource_copy(out, &e->r);
	} else if (e->flight) {
		f = e->flight;
		err = flight_wait(c, f);
		if (!err)
			err = f->err ? f->err : resource_copy(out, &f->r);
		flight_put(f);
		if (flight_retry(err))
			goto again;
	} else if (stale && stale_answer(c, cs, e, &i)) {
		*stale = true;
		if (i >= 0)
			l = listing_get(cs->l);
		err = i >= 0 ? 0 : resource_copy(out, &e->r);
	} else {
		err = lookup_lead(c, cs, e, coll, name, now, out);
	}
out:
	coll_release(c, cs);
	pthread_mutex_unlock(&c->lock);
	if (l) {
		/* Items never change once finished; our reference keeps them.
		 */
		err = resource_copy(out, &l->items[i]);
		listing_put(l);
	}
	return err;
}

static int cache_lookup(struct backend *b, const struct coll *coll,
			const char *name, struct resource *out)
{
	struct cache *c = (struct cache *)b;

	memset(out, 0, sizeof(*out));
	if (c->ttl <= 0)
		return c->inner->ops->lookup(c->inner, coll, name, out);
	return lookup_cached(c, coll, name, out, NULL);
}

static int cache_lookup_stale(struct backend *b, const struct coll *coll,
			      const char *name, struct resource *out,
			      bool *stale)
{
	struct cache *c = (struct cache *)b;

	memset(out, 0, sizeof(*out));
	*stale = false;
	if (c->ttl <= 0)
		return c->inner->ops->lookup(c->inner, coll, name, out);
	return lookup_cached(c, coll, name, out, stale);
}

/* The fresh listing held for coll, if any; never a request. */
static int cache_peek(struct backend *b, const struct coll *coll,
		      struct listing **out)
{
	struct cache *c = (struct cache *)b;
	struct cache_coll *cs;
	int err = -ENODATA;

	*out = NULL;
	if (c->ttl <= 0)
		return err;
	pthread_mutex_lock(&c->lock);
	cs = coll_find(c, coll->kind, coll_parent(coll));
	if (cs && coll_fresh(c, cs, cache_now(c))) {
		*out = listing_get(cs->l);
		err = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return err;
}

static int cache_remove(struct backend *b, const struct coll *coll,
			const struct resource *r, unsigned flags)
{
	struct cache *c = (struct cache *)b;
	struct cache_coll *cs;
	struct cache_entry *e;
	struct listing *old = NULL;
	double now;
	int err;

	err = c->inner->ops->remove(c->inner, coll, r, flags);
	if (c->ttl <= 0)
		return err;
	if (err && err != -ENOENT && !(err == -ESTALE && coll->kind->child))
		return err; /* nothing changed, as far as we know */

	pthread_mutex_lock(&c->lock);
	now = cache_now(c);
	cs = coll_hold(c, coll);
	if (!cs) {
		/* Cannot remember the delete: forget instead, to stay right. */
		if ((cs = coll_find(c, coll->kind, coll_parent(coll))))
			coll_drop(c, cs);
		goto drop_versions;
	}
	if (err == -ESTALE) {
		/*
		 * Someone re-created the provider behind us: our listing of
		 * providers (and the old one's provider_id) is out of date.
		 */
		old = cs->l;
		cs->l = NULL;
		cs->flight = NULL;
		if ((e = entry_find(c, cs, r->name)))
			entry_drop(c, e);
	} else {
		/* Deleted now or already gone: either way it is gone. */
		if (cs->l)
			listing_mark_gone(cs->l, r->name);
		/*
		 * A list in progress may have been answered before the
		 * delete: let it serve its waiters, but not be kept.
		 */
		cs->flight = NULL;
		/* With no negative TTL there is nothing to remember. */
		e = c->negative_ttl > 0 ? entry_get(c, cs, r->name, now)
					: entry_find(c, cs, r->name);
		if (e) {
			e->flight = NULL;
			entry_set_missing(c, e, now);
			entry_maybe_free(c, e);
		}
	}
	coll_release(c, cs);
drop_versions:
	coll_drop_children(c, coll->kind, r->name);
	pthread_mutex_unlock(&c->lock);
	listing_put(old);
	return err;
}

/*
 * Listings put here may be the last reference and are freed under the
 * lock; forgetting is a rare, explicit user action, so that is fine.
 */
static void cache_forget(struct backend *b, const struct coll *coll)
{
	struct cache *c = (struct cache *)b;
	struct cache_coll *cs;
	struct hnode *n, *next;
	size_t i;

	if (c->ttl > 0) {
		pthread_mutex_lock(&c->lock);
		if (coll) {
			cs = coll_find(c, coll->kind, coll_parent(coll));
			if (cs)
				coll_drop(c, cs);
		}
		if (!coll || coll->kind->child) {
			for (i = 0; i <= c->colls.mask; i++) {
				for (n = htab_chain(&c->colls, i); n;
				     n = next) {
					next = n->next;
					cs = container_of(n, struct cache_coll,
							  node);
					if (!coll ||
					    cs->kind == coll->kind->child)
						coll_drop(c, cs);
				}
			}
		}
		pthread_mutex_unlock(&c->lock);
	}
	/* The inner backend may remember things too (dry-run deletes). */
	c->inner->ops->forget(c->inner, coll);
}

static int cache_check(struct backend *b, const struct kind_service *s,
		       char *err, size_t errlen)
{
	struct cache *c = (struct cache *)b;

	return c->inner->ops->check(c->inner, s, err, errlen);
}

/* No call may be in progress: the caller has stopped using the backend. */
static void cache_destroy(struct backend *b)
{
	struct cache *c = (struct cache *)b;
	struct hnode *n, *next;
	size_t i;

	readahead_stop(c);
	for (i = 0; i <= c->entries.mask; i++) {
		for (n = htab_chain(&c->entries, i); n; n = next) {
			struct cache_entry *e =
			    container_of(n, struct cache_entry, node);

			next = n->next;
			resource_clear(&e->r);
			free(e);
		}
	}
	for (i = 0; i <= c->colls.mask; i++) {
		for (n = htab_chain(&c->colls, i); n; n = next) {
			struct cache_coll *cs =
			    container_of(n, struct cache_coll, node);

			next = n->next;
			listing_put(cs->l);
			free(cs->last_child);
			free(cs);
		}
	}
	htab_free(&c->entries);
	htab_free(&c->colls);
	pthread_mutex_destroy(&c->lock);
	c->inner->ops->destroy(c->inner);
	free(c);
}

static const struct backend_ops cache_ops = {
    .list = cache_list,
    .lookup = cache_lookup,
    .lookup_stale = cache_lookup_stale,
    .peek = cache_peek,
    .remove = cache_remove,
    .forget = cache_forget,
    .check = cache_check,
    .destroy = cache_destroy,
};

/*
 * With ttl 0 every call goes to inner, one request per call: joining a
 * request already under way could answer with data from before the call,
 * which a user who turned the cache off does not expect.
 */
struct backend *cache_wrap(struct backend *inner, const struct cache_opts *opts)
{
	struct cache *c;

	if (!inner || !opts)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->b.ops = &cache_ops;
	c->inner = inner;
	c->ttl = opts->ttl > 0 ? opts->ttl : 0;
	c->negative_ttl = opts->negative_ttl > 0 ? opts->negative_ttl : 0;
	c->now = opts->now;
	c->now_ctx = opts->now_ctx;
	c->sweep_at = CACHE_MIN_SWEEP;
	if (pthread_mutex_init(&c->lock, NULL))
		goto fail;
	if (htab_init(&c->colls, 64))
		goto fail_lock;
	if (htab_init(&c->entries, 1024))
		goto fail_colls;
	/* Nothing to keep a readahead's answer in without a cache. */
	if (readahead_init(c, c->ttl > 0 ? opts->readahead : 0))
		goto fail_entries;
	return &c->b;

fail_entries:
	htab_free(&c->entries);
fail_colls:
	htab_free(&c->colls);
fail_lock:
	pthread_mutex_destroy(&c->lock);
fail:
	free(c);
	return NULL;
}
