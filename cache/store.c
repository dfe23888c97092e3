/*
 * store.c - the cache's collections (a listing and its entries, keyed by
 * kind_table row and parent name) and entries (one looked-up name each),
 * and the sweep that frees what expired. Called with the cache's lock held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache_priv.h"

/* --- collections and entries --------------------------------------- */

const char *coll_parent(const struct coll *c)
{
	return c->kind->parent && c->parent ? c->parent : "";
}

static uint64_t coll_hash(const struct kind *kind, const char *parent)
{
	/* The row's address: any row, even one a test makes. */
	uint64_t h = HASH_SEED ^ (uint64_t)(uintptr_t)kind;

	return hash_bytes(h, parent, strlen(parent));
}

struct cache_coll *coll_find(struct cache *c, const struct kind *kind,
			     const char *parent)
{
	uint64_t h = coll_hash(kind, parent);
	struct hnode *n;

	for (n = htab_chain(&c->colls, h); n; n = n->next) {
		struct cache_coll *cs =
		    container_of(n, struct cache_coll, node);

		if (n->hash == h && cs->kind == kind &&
		    strcmp(cs->parent, parent) == 0)
			return cs;
	}
	return NULL;
}

/* Finds or makes c's collection and marks it used; NULL on ENOMEM. */
struct cache_coll *coll_hold(struct cache *c, const struct coll *coll)
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
	free(cs->last_child);
	free(cs);
}

void coll_release(struct cache *c, struct cache_coll *cs)
{
	cs->users--;
	coll_maybe_free(c, cs);
}

static uint64_t entry_hash(const struct cache_coll *cs, const char *name)
{
	uint64_t h = HASH_SEED ^ (uint64_t)(uintptr_t)cs;

	return hash_bytes(h, name, strlen(name));
}

struct cache_entry *entry_find(struct cache *c, struct cache_coll *cs,
			       const char *name)
{
	uint64_t h = entry_hash(cs, name);
	struct hnode *n;

	for (n = htab_chain(&c->entries, h); n; n = n->next) {
		struct cache_entry *e =
		    container_of(n, struct cache_entry, node);

		if (n->hash == h && e->coll == cs && strcmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}

bool entry_fresh(const struct cache_entry *e, double now)
{
	return e->state != ENTRY_NONE && now < e->expires;
}

/* Frees e once it holds nothing and nobody works on it. */
void entry_maybe_free(struct cache *c, struct cache_entry *e)
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
void entry_drop(struct cache *c, struct cache_entry *e)
{
	e->flight = NULL;
	resource_clear(&e->r);
	e->state = ENTRY_NONE;
	e->stale_from = 0;
	entry_maybe_free(c, e);
}

/* Drops cs's listing and entries; cs itself may be freed. */
void coll_drop(struct cache *c, struct cache_coll *cs)
{
	struct cache_entry *e, *next;

	/* Other holders keep their references; this one is ours. */
	listing_put(cs->l);
	cs->l = NULL;
	cs->flight = NULL;
	/* A walk after a refresh starts anew (cache/readahead.c). */
	free(cs->last_child);
	cs->last_child = NULL;
	for (e = cs->entries; e; e = next) {
		next = e->next;
		entry_drop(c, e);
	}
	coll_maybe_free(c, cs);
}

/* Drops the collection of an entry's children (a provider's versions). */
void coll_drop_children(struct cache *c, const struct kind *kind,
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
		for (n = htab_chain(&c->entries, i); n; n = next) {
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
		for (n = htab_chain(&c->colls, i); n; n = next) {
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
struct cache_entry *entry_get(struct cache *c, struct cache_coll *cs,
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
void entry_set_missing(struct cache *c, struct cache_entry *e, double since)
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
