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

#include "cancel.h"

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

/* A chained hash table of nodes embedded in their owners. */
struct hnode {
	struct hnode *next;
	uint64_t hash;
};

struct htab {
	struct hnode **slots;
	size_t mask; /* slot count - 1; the count is a power of two */
	size_t n;
};

/* One inner request in progress, and its answer for those who joined it. */
struct cache_flight {
	pthread_cond_t done_cond;
	unsigned refs; /* the leader and every waiter */
	bool done;
	int err;
	struct listing *l; /* list: one reference, kept only for waiters */
	struct resource r; /* lookup: a copy, kept only for waiters */
};

/* A looked-up name: found by a show request, or confirmed missing. */
enum entry_state {
	ENTRY_NONE,    /* nothing known (a flight may be on its way) */
	ENTRY_FOUND,   /* r holds the show request's answer */
	ENTRY_MISSING, /* a negative entry */
	ENTRY_FAILED,  /* the last lookup could not reach the cloud: err */
};

struct cache_entry {
	struct hnode node;
	struct cache_entry *prev, *next; /* the collection's entries */
	struct cache_coll *coll;
	struct cache_flight *flight; /* the lookup in progress, if any */
	unsigned pins;		     /* a leader works on it unlocked */
	enum entry_state state;
	int err; /* ENTRY_FAILED only */
	double expires;
	/* When the answer lookup_stale last gave after expiry was fetched;
	 * 0: none. An answer is given that way only once. */
	double stale_from;
	struct resource r; /* ENTRY_FOUND only */
	char name[];
};

/* One collection: its listing, its list flight, its entries. */
struct cache_coll {
	struct hnode node;
	const struct kind *kind; /* the row of kind_table: the key */
	unsigned users;	   /* calls using it; it is not freed under them */
	struct listing *l; /* the last listing kept, maybe stale */
	double fetched;	   /* when the fetch of l started */
	struct cache_flight *flight;
	struct cache_entry *entries;
	char parent[]; /* child kinds: the parent entry's name; else "" */
};

struct cache {
	struct backend b; /* first: a struct backend * is a struct cache * */
	struct backend *inner;
	int ttl, negative_ttl;
	double (*now)(void *ctx);
	void *now_ctx;
	pthread_mutex_t lock;
	struct htab colls;
	struct htab entries;
	size_t sweep_at; /* entry count that triggers a sweep of dead ones */
};

#define CACHE_MIN_SWEEP 4096

/* How long a lookup that could not reach the cloud keeps its error. */
#define CACHE_ERROR_SECONDS 3.0

/* --- hash table ---------------------------------------------------- */

static uint64_t hash_bytes(uint64_t h, const void *p, size_t len)
{
	const unsigned char *s = p;

	/* FNV-1a: names are short and not chosen to collide. */
	while (len--) {
		h ^= *s++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static int htab_init(struct htab *t, size_t nslots)
{
	t->slots = calloc(nslots, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->mask = nslots - 1;
	t->n = 0;
	return 0;
}

static void htab_grow(struct htab *t)
{
	size_t nslots = (t->mask + 1) * 2, i;
	struct hnode **slots = calloc(nslots, sizeof(*slots));
	struct hnode *n, *next;

	/* Without memory the chains just get longer. */
	if (!slots)
		return;
	for (i = 0; i <= t->mask; i++) {
		for (n = t->slots[i]; n; n = next) {
			next = n->next;
			n->next = slots[n->hash & (nslots - 1)];
			slots[n->hash & (nslots - 1)] = n;
		}
	}
	free(t->slots);
	t->slots = slots;
	t->mask = nslots - 1;
}

static void htab_insert(struct htab *t, struct hnode *n)
{
	if (t->n >= t->mask + 1)
		htab_grow(t);
	n->next = t->slots[n->hash & t->mask];
	t->slots[n->hash & t->mask] = n;
	t->n++;
}

static void htab_unlink(struct htab *t, struct hnode *n)
{
	struct hnode **p = &t->slots[n->hash & t->mask];

	while (*p != n)
		p = &(*p)->next;
	*p = n->next;
	t->n--;
}

/* --- flights ------------------------------------------------------- */

static struct cache_flight *flight_new(void)
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

static void flight_put(struct cache_flight *f)
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
static int flight_wait(struct cache *c, struct cache_flight *f)
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
static bool flight_retry(int err)
{
	return err == -EINTR && !cancel_requested();
}

static void flight_finish(struct cache_flight *f, int err)
{
	f->err = err;
	f->done = true;
	pthread_cond_broadcast(&f->done_cond);
}

/* --- collections and entries --------------------------------------- */

static const char *coll_parent(const struct coll *c)
{
	return c->kind->parent && c->parent ? c->parent : "";
}

static uint64_t coll_hash(const struct kind *kind, const char *parent)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)kind_index(kind);

	return hash_bytes(h, parent, strlen(parent));
}

static struct cache_coll *coll_find(struct cache *c, const struct kind *kind,
				    const char *parent)
{
	uint64_t h = coll_hash(kind, parent);
	struct hnode *n;

	for (n = c->colls.slots[h & c->colls.mask]; n; n = n->next) {
		struct cache_coll *cs =
		    container_of(n, struct cache_coll, node);

		if (n->hash == h && cs->kind == kind &&
		    strcmp(cs->parent, parent) == 0)
			return cs;
	}
	return NULL;
}

/* Finds or makes c's collection and marks it used; NULL on ENOMEM. */
static struct cache_coll *coll_hold(struct cache *c, const struct coll *coll)
{
	const char *parent = coll_parent(coll);
	struct cache_coll *cs = coll_find(c, coll->kind, parent);
	size_t len;

	if (!cs) {
		len = strlen(parent);
		cs = calloc(1, sizeof(*cs) + len + 1);
		if (!cs)
			return NULL;
		cs->kind = coll->kind;
		memcpy(cs->parent, parent, len + 1);
		cs->node.hash = coll_hash(coll->kind, parent);
		htab_insert(&c->colls, &cs->node);
	}
	cs->users++;
	return cs;
}

/* Frees cs once nothing is kept in it and no call uses it. */
static void coll_maybe_free(struct cache *c, struct cache_coll *cs)
{
	if (cs->users || cs->l || cs->flight || cs->entries)
		return;
	htab_unlink(&c->colls, &cs->node);
	free(cs);
}

static void coll_release(struct cache *c, struct cache_coll *cs)
{
	cs->users--;
	coll_maybe_free(c, cs);
}

static uint64_t entry_hash(const struct cache_coll *cs, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)(uintptr_t)cs;

	return hash_bytes(h, name, strlen(name));
}

static struct cache_entry *entry_find(struct cache *c, struct cache_coll *cs,
				      const char *name)
{
	uint64_t h = entry_hash(cs, name);
	struct hnode *n;

	for (n = c->entries.slots[h & c->entries.mask]; n; n = n->next) {
		struct cache_entry *e =
		    container_of(n, struct cache_entry, node);

		if (n->hash == h && e->coll == cs && strcmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}

static bool entry_fresh(const struct cache_entry *e, double now)
{
	return e->state != ENTRY_NONE && now < e->expires;
}

/* Frees e once it holds nothing and nobody works on it. */
static void entry_maybe_free(struct cache *c, struct cache_entry *e)
{
	struct cache_coll *cs = e->coll;

	if (e->pins || e->flight || e->state != ENTRY_NONE || e->stale_from)
		return;
	htab_unlink(&c->entries, &e->node);
	if (e->prev)
		e->prev->next = e->next;
	else
		cs->entries = e->next;
	if (e->next)
		e->next->prev = e->prev;
	free(e);
}

/* Forgets what e says and detaches its flight (see the top of the file). */
static void entry_drop(struct cache *c, struct cache_entry *e)
{
	e->flight = NULL;
	resource_clear(&e->r);
	e->state = ENTRY_NONE;
	e->stale_from = 0;
	entry_maybe_free(c, e);
}

/* Drops cs's listing and entries; cs itself may be freed. */
static void coll_drop(struct cache *c, struct cache_coll *cs)
{
	struct cache_entry *e, *next;

	/* Other holders keep their references; this one is ours. */
	listing_put(cs->l);
	cs->l = NULL;
	cs->flight = NULL;
	for (e = cs->entries; e; e = next) {
		next = e->next;
		entry_drop(c, e);
	}
	coll_maybe_free(c, cs);
}

/* Drops the collection of an entry's children (a provider's versions). */
static void coll_drop_children(struct cache *c, const struct kind *kind,
			       const char *name)
{
	struct cache_coll *cs =
	    kind->child ? coll_find(c, kind->child, name) : NULL;

	if (cs)
		coll_drop(c, cs);
}

/*
 * Frees expired entries and stale listings, so that memory follows what is
 * fresh. Run when the entry count has doubled since the last sweep, which
 * keeps its cost constant per entry made.
 */
static void cache_sweep(struct cache *c, double now)
{
	struct hnode *n, *next;
	size_t i;

	for (i = 0; i <= c->entries.mask; i++) {
		for (n = c->entries.slots[i]; n; n = next) {
			struct cache_entry *e =
			    container_of(n, struct cache_entry, node);

			next = n->next;
			if (!entry_fresh(e, now)) {
				resource_clear(&e->r);
				e->state = ENTRY_NONE;
				e->stale_from = 0;
				entry_maybe_free(c, e);
			}
		}
	}
	for (i = 0; i <= c->colls.mask; i++) {
		for (n = c->colls.slots[i]; n; n = next) {
			struct cache_coll *cs =
			    container_of(n, struct cache_coll, node);

			next = n->next;
			if (cs->l && now >= cs->fetched + c->ttl) {
				listing_put(cs->l);
				cs->l = NULL;
			}
			coll_maybe_free(c, cs);
		}
	}
	c->sweep_at = c->entries.n * 2;
	if (c->sweep_at < CACHE_MIN_SWEEP)
		c->sweep_at = CACHE_MIN_SWEEP;
}

/* Finds or makes cs's entry for name; NULL on ENOMEM. */
static struct cache_entry *entry_get(struct cache *c, struct cache_coll *cs,
				     const char *name, double now)
{
	struct cache_entry *e = entry_find(c, cs, name);
	size_t len;

	if (e)
		return e;
	if (c->entries.n >= c->sweep_at)
		cache_sweep(c, now); /* cs is held: the sweep keeps it */
	len = strlen(name);
	e = calloc(1, sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	memcpy(e->name, name, len + 1);
	e->coll = cs;
	e->node.hash = entry_hash(cs, name);
	htab_insert(&c->entries, &e->node);
	e->next = cs->entries;
	if (cs->entries)
		cs->entries->prev = e;
	cs->entries = e;
	return e;
}

/* Remembers that name is missing, or forgets it with no negative TTL. */
static void entry_set_missing(struct cache *c, struct cache_entry *e,
			      double since)
{
	resource_clear(&e->r);
	e->stale_from = 0;
	if (c->negative_ttl > 0) {
		e->state = ENTRY_MISSING;
		e->expires = since + c->negative_ttl;
	} else {
		e->state = ENTRY_NONE;
	}
}

/* --- the operations ------------------------------------------------ */

static double cache_now(struct cache *c)
{
	struct timespec ts;

	if (c->now)
		return c->now(c->now_ctx);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool coll_fresh(struct cache *c, const struct cache_coll *cs, double now)
{
	return cs->l && now < cs->fetched + c->ttl;
}

static int cache_list(struct backend *b, const struct coll *coll,
		      struct listing **out)
{
	struct cache *c = (struct cache *)b;
	struct listing *l = NULL, *old = NULL;
	struct cache_coll *cs;
	struct cache_flight *f;
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
		flight_put(f);
		if (flight_retry(err))
			goto again;
		goto out;
	}

	f = flight_new();
	if (!f) {
		err = -ENOMEM;
		goto out;
	}
	cs->flight = f;
	pthread_mutex_unlock(&c->lock);

	err = c->inner->ops->list(c->inner, coll, &l);

	pthread_mutex_lock(&c->lock);
	/* Still attached: nothing invalidated the key while we were away. */
	if (cs->flight == f) {
		cs->flight = NULL;
		if (!err) {
			old = cs->l;
			cs->l = listing_get(l);
			cs->fetched = now; /* the TTL counts from the start */
		}
	}
	if (!err && f->refs > 1)
		f->l = listing_get(l);
	flight_finish(f, err);
	flight_put(f);
	*out = l;
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
				for (n = c->colls.slots[i]; n; n = next) {
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

	for (i = 0; i <= c->entries.mask; i++) {
		for (n = c->entries.slots[i]; n; n = next) {
			struct cache_entry *e =
			    container_of(n, struct cache_entry, node);

			next = n->next;
			resource_clear(&e->r);
			free(e);
		}
	}
	for (i = 0; i <= c->colls.mask; i++) {
		for (n = c->colls.slots[i]; n; n = next) {
			struct cache_coll *cs =
			    container_of(n, struct cache_coll, node);

			next = n->next;
			listing_put(cs->l);
			free(cs);
		}
	}
	free(c->entries.slots);
	free(c->colls.slots);
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
	return &c->b;

fail_colls:
	free(c->colls.slots);
fail_lock:
	pthread_mutex_destroy(&c->lock);
fail:
	free(c);
	return NULL;
}
