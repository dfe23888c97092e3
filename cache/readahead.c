/*
 * readahead.c - lists of sibling collections started ahead during a walk,
 * as a filesystem reads a file ahead when it is read in sequence.
 *
 * `ls -R`, `find` and `rm -r` open one directory at a time, so a walk of
 * rfs/modules makes each name's list of versions a round trip of its own.
 * When a child collection is listed (the versions of NAME) and the one
 * listed just before under the same parent was another name, a walk is on:
 * the next W names after NAME in the parent's fresh listing (readdir order,
 * which is byte order, which `ls` sorts in under LC_ALL=C) that are neither
 * held fresh, in flight nor queued are queued, and up to W threads list
 * them. Each list of a sibling slides the window, so a walk keeps W lists
 * ahead of it; the walk's own lists join those flights or find their
 * answers, and a whole walk still sends one list per name. A walk of two
 * names costs at most W lists nobody asked for.
 *
 * A readahead holds no FUSE request; its answer is kept as a list's is, a
 * failure is not kept (the walk's own list then asks again, see
 * cache_list). At unmount, readahead_stop fires the cancels of the lists
 * in progress and joins the threads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cache_priv.h"
#include "names.h"

int readahead_init(struct cache *c, int w)
{
	c->readahead = w > 0 ? w : 0;
	if (!c->readahead)
		return 0;
	c->ra_workers = calloc((size_t)w, sizeof(*c->ra_workers));
	if (!c->ra_workers)
		return -ENOMEM;
	if (pthread_cond_init(&c->ra_cond, NULL)) {
		free(c->ra_workers);
		c->ra_workers = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The list of one queued collection, by a worker, under the lock. */
static void ra_run(struct cache *c, struct cache_coll *cs)
{
	struct listing *l = NULL, *old = NULL;
	double now = cache_now(c);

	cs->ra_queued = false;
	/* Listed, or asked for, since it was queued: nothing to do. */
	if (!c->ra_stop && !coll_fresh(c, cs, now) && !cs->flight) {
		struct coll coll = {cs->kind, cs->parent};

		list_lead(c, cs, &coll, now, true, &l, &old);
		pthread_mutex_unlock(&c->lock);
		listing_put(l);
		listing_put(old);
		pthread_mutex_lock(&c->lock);
	}
	coll_release(c, cs);
}

static void *ra_main(void *arg)
{
	struct ra_worker *w = arg;
	struct cache *c = w->c;
	struct cache_coll *cs;

	pthread_mutex_lock(&c->lock);
	/* Its lists see this cancel fire at unmount (readahead_stop). */
	cancel_begin(&w->cancel);
	w->started = true;
	for (;;) {
		c->ra_idle++;
		while (!c->ra_stop && !c->ra_head)
			pthread_cond_wait(&c->ra_cond, &c->lock);
		c->ra_idle--;
		if (c->ra_stop)
			break;
		cs = c->ra_head;
		c->ra_head = cs->ra_next;
		if (!c->ra_head)
			c->ra_tail = NULL;
		cs->ra_next = NULL;
		c->ra_busy++;
		ra_run(c, cs);
		c->ra_busy--;
		if (!c->ra_head && !c->ra_busy)
			pthread_cond_broadcast(&c->ra_cond);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* One more thread if none waits and fewer than W run; false if none. */
static bool ra_spawn(struct cache *c)
{
	struct ra_worker *w;

	if (c->ra_idle > 0 || c->ra_nworkers >= c->readahead)
		return c->ra_nworkers > 0;
	w = &c->ra_workers[c->ra_nworkers];
	w->c = c;
	w->started = false;
	if (pthread_create(&w->thread, NULL, ra_main, w))
		return c->ra_nworkers > 0;
	c->ra_nworkers++;
	return true;
}

/* Queues the list of kind's collection under name, unless not needed. */
static void ra_queue(struct cache *c, const struct kind *kind, const char *name,
		     double now)
{
	struct cache_coll *cs = coll_find(c, kind, name);
	struct coll coll = {kind, name};

	if (cs && (coll_fresh(c, cs, now) || cs->flight || cs->ra_queued))
		return;
	if (!ra_spawn(c))
		return;
	cs = coll_hold(c, &coll); /* the queue's hold */
	if (!cs)
		return;
	cs->ra_queued = true;
	if (c->ra_tail)
		c->ra_tail->ra_next = cs;
	else
		c->ra_head = cs;
	c->ra_tail = cs;
	/* Broadcast: cache_readahead_wait sleeps on it too. */
	pthread_cond_broadcast(&c->ra_cond);
}

/*
 * cs (a child collection) is being listed: if the parent's last listed
 * child was another name, queue the next W names of the parent's fresh
 * listing. Only for a parent that is a top kind: its collection is found
 * without knowing a grandparent's name.
 */
void readahead_note(struct cache *c, struct cache_coll *cs, double now)
{
	const struct kind *pk = cs->kind->parent;
	struct cache_coll *ps;
	bool walk;
	size_t j, end;
	long i;

	if (!c->readahead || c->ra_stop || !pk || pk->parent)
		return;
	ps = coll_find(c, pk, "");
	if (!ps || !coll_fresh(c, ps, now))
		return;
	if (ps->last_child && strcmp(ps->last_child, cs->parent) == 0)
		return; /* the same name again: no walk */
	walk = ps->last_child != NULL;
	free(ps->last_child);
	ps->last_child = strdup(cs->parent); /* NULL: a walk starts anew */
	i = walk ? listing_index(ps->l, cs->parent) : -1;
	if (i < 0)
		return;
	end = (size_t)i + 1 + (size_t)c->readahead;
	for (j = (size_t)i + 1; j < ps->l->count && j < end; j++) {
		const char *name = ps->l->items[j].name;

		/* Names no walk enters: gone, or not a file name. */
		if (listing_is_gone(ps->l, j) || !name_safe(name))
			continue;
		ra_queue(c, cs->kind, name, now);
	}
}

void cache_readahead_wait(struct backend *b)
{
	struct cache *c = (struct cache *)b;

	if (!c->readahead)
		return;
	pthread_mutex_lock(&c->lock);
	while (c->ra_head || c->ra_busy)
		pthread_cond_wait(&c->ra_cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

/*
 * Ends every readahead: the queued ones are dropped, the running ones'
 * lists are cancelled (an HTTP request ends at once, see common/cancel.h),
 * and the threads are joined. No other call may be in progress.
 */
void readahead_stop(struct cache *c)
{
	struct cache_coll *cs;
	int i, n;

	if (!c->readahead)
		return;
	pthread_mutex_lock(&c->lock);
	c->ra_stop = true;
	pthread_cond_broadcast(&c->ra_cond);
	while ((cs = c->ra_head)) {
		c->ra_head = cs->ra_next;
		cs->ra_next = NULL;
		cs->ra_queued = false;
		coll_release(c, cs);
	}
	c->ra_tail = NULL;
	n = c->ra_nworkers;
	pthread_mutex_unlock(&c->lock);
	/*
	 * A worker sets started under the lock before it looks at ra_stop;
	 * one not started yet will see ra_stop and never make a request.
	 * Not under the lock: a fire wakes the list, which may take it.
	 */
	for (i = 0; i < n; i++) {
		struct ra_worker *w = &c->ra_workers[i];
		bool started;

		pthread_mutex_lock(&c->lock);
		started = w->started;
		pthread_mutex_unlock(&c->lock);
		if (started)
			cancel_fire(&w->cancel);
	}
	for (i = 0; i < n; i++) {
		pthread_join(c->ra_workers[i].thread, NULL);
		if (c->ra_workers[i].started)
			cancel_end(&c->ra_workers[i].cancel);
	}
	pthread_cond_destroy(&c->ra_cond);
	free(c->ra_workers);
	c->ra_workers = NULL;
	c->readahead = 0;
}
