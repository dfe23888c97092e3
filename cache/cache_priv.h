/*
 * cache_priv.h - what the files of cache/ share: the cache's state, its
 * flights (table.c), its collections and entries (store.c) in hash tables
 * (common/htab.h). cache.c holds the operations; its comment says how they fit.
 */
#ifndef HWCFS_CACHE_PRIV_H
#define HWCFS_CACHE_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "cancel.h"
#include "hash.h"
#include "htab.h"

/* One inner request in progress, and its answer for those who joined it. */
struct cache_flight {
	pthread_cond_t done_cond;
	unsigned refs; /* the leader and every waiter */
	bool done;
	int err;
	struct listing *l; /* list: one reference, kept only for waiters */
	struct resource r; /* lookup: a copy, kept only for waiters */
	/* A readahead's list: a waiter asks again rather than fail with it. */
	bool prefetch;
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
	/* readahead.c: the child collection listed last (a top kind's). */
	char *last_child;
	bool ra_queued;		    /* in the readahead queue, held by it */
	struct cache_coll *ra_next; /* the next in that queue */
	char parent[]; /* child kinds: the parent entry's name; else "" */
};

/* A readahead thread and the cancel that stops its request at unmount. */
struct ra_worker {
	struct cache *c;
	pthread_t thread;
	struct cancel cancel;
	bool started; /* cancel is set up: it may be fired */
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
	/* readahead.c: lists of sibling collections during a walk. */
	int readahead;			      /* W: lists ahead, and threads */
	struct cache_coll *ra_head, *ra_tail; /* queued, not started */
	struct ra_worker *ra_workers;	      /* readahead of them */
	int ra_nworkers, ra_idle, ra_busy;
	bool ra_stop;
	pthread_cond_t ra_cond; /* a job queued, stop, or all done */
};

#define CACHE_MIN_SWEEP 4096

/* How long a lookup that could not reach the cloud keeps its error. */
#define CACHE_ERROR_SECONDS 3.0

/* cache.c */
bool coll_fresh(struct cache *c, const struct cache_coll *cs, double now);
int list_lead(struct cache *c, struct cache_coll *cs, const struct coll *coll,
	      double now, bool prefetch, struct listing **out,
	      struct listing **old);

/* readahead.c: under c->lock, except init and stop. */
int readahead_init(struct cache *c, int w);
void readahead_note(struct cache *c, struct cache_coll *cs, double now);
void readahead_stop(struct cache *c);

/* table.c: flights. */
struct cache_flight *flight_new(void);
void flight_put(struct cache_flight *f);
int flight_wait(struct cache *c, struct cache_flight *f);
bool flight_retry(int err);
void flight_finish(struct cache_flight *f, int err);

/* store.c: collections and entries, under c->lock. */
const char *coll_parent(const struct coll *c);
struct cache_coll *coll_find(struct cache *c, const struct kind *kind,
			     const char *parent);
struct cache_coll *coll_hold(struct cache *c, const struct coll *coll);
void coll_release(struct cache *c, struct cache_coll *cs);
struct cache_entry *entry_find(struct cache *c, struct cache_coll *cs,
			       const char *name);
bool entry_fresh(const struct cache_entry *e, double now);
void entry_maybe_free(struct cache *c, struct cache_entry *e);
void entry_drop(struct cache *c, struct cache_entry *e);
void coll_drop(struct cache *c, struct cache_coll *cs);
void coll_drop_children(struct cache *c, const struct kind *kind,
			const char *name);
struct cache_entry *entry_get(struct cache *c, struct cache_coll *cs,
			      const char *name, double now);
void entry_set_missing(struct cache *c, struct cache_entry *e, double since);
double cache_now(struct cache *c);

#endif
