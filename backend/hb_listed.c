/*
 * hb_listed.c - the names a listing showed that do not match their kind's
 * pattern: only these are worth a request (docs/hwcfs.md, "The tree").
 */
#include "hb.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "names.h"

void hb_listed_free(struct listed_names *ln)
{
	size_t i;

	for (i = 0; i < ln->n; i++)
		free(ln->names[i]);
	free(ln->names);
	free(ln->coll);
}

/* Drops the records of prefix, or (not exact) of every collection path
 * that starts with it (all: ""). Called with listed_lock held. */
static void listed_forget_locked(struct http_backend *hb, const char *prefix,
				 bool exact)
{
	size_t i, kept = 0, n = strlen(prefix);

	for (i = 0; i < hb->nlisted; i++) {
		struct listed_names *ln = &hb->listed[i];

		if (exact ? strcmp(ln->coll, prefix) == 0
			  : strncmp(ln->coll, prefix, n) == 0)
			hb_listed_free(ln);
		else
			hb->listed[kept++] = *ln;
	}
	hb->nlisted = kept;
}

void hb_listed_forget(struct http_backend *hb, const char *prefix, bool exact)
{
	pthread_mutex_lock(&hb->listed_lock);
	listed_forget_locked(hb, prefix, exact);
	pthread_mutex_unlock(&hb->listed_lock);
}

/*
 * Keeps the names of l (finished, so sorted) that do not match c's
 * pattern, in place of what an older listing of c kept. Without memory
 * the record is just left out: such names are then ENOENT, never a
 * request for something nobody listed.
 */
void hb_listed_remember(struct http_backend *hb, const struct coll *c,
			const struct listing *l, double fetched)
{
	struct listed_names ln = {.fetched = fetched}, *grown;
	char dir[512];
	size_t i;

	if (coll_path(c, dir, sizeof(dir)))
		return;
	for (i = 0; i < l->count; i++)
		if (!name_valid(c->kind, l->items[i].name))
			ln.n++;
	if (!ln.n) {
		hb_listed_forget(hb, dir, true);
		return;
	}
	ln.coll = strdup(dir);
	ln.names = calloc(ln.n, sizeof(*ln.names));
	ln.n = 0;
	if (!ln.coll || !ln.names)
		goto fail;
	for (i = 0; i < l->count; i++) {
		if (name_valid(c->kind, l->items[i].name))
			continue;
		ln.names[ln.n] = strdup(l->items[i].name);
		if (!ln.names[ln.n++])
			goto fail;
	}
	pthread_mutex_lock(&hb->listed_lock);
	listed_forget_locked(hb, dir, true);
	grown = realloc(hb->listed, (hb->nlisted + 1) * sizeof(*grown));
	if (grown) {
		hb->listed = grown;
		grown[hb->nlisted++] = ln;
	}
	pthread_mutex_unlock(&hb->listed_lock);
	if (grown)
		return;
fail:
	/* The old record is stale now: better none than a wrong one. */
	hb_listed_forget(hb, dir, true);
	hb_listed_free(&ln);
}

static int listed_cmp(const void *key, const void *item)
{
	return strcmp(key, *(char *const *)item);
}

/*
 * Whether the last listing of c had name (one that fails its pattern); if
 * fresh, only while that listing is fresh.
 */
bool hb_listed_has(struct http_backend *hb, const struct coll *c,
		   const char *name, bool fresh)
{
	char dir[512];
	bool found = false;
	double now = clock_now_s();
	size_t i;

	if (coll_path(c, dir, sizeof(dir)))
		return false;
	pthread_mutex_lock(&hb->listed_lock);
	for (i = 0; i < hb->nlisted && !found; i++) {
		struct listed_names *ln = &hb->listed[i];

		if (strcmp(ln->coll, dir) != 0)
			continue;
		if (fresh && hb->ttl > 0 && now >= ln->fetched + hb->ttl)
			break;
		found = bsearch(name, ln->names, ln->n, sizeof(*ln->names),
				listed_cmp) != NULL;
	}
	pthread_mutex_unlock(&hb->listed_lock);
	return found;
}
