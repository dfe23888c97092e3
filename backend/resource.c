/*
 * resource.c - ownership helpers for resources and shared listings.
 */
#include "backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

static atomic_uint_fast64_t next_gen = 1;

void resource_clear(struct resource *r)
{
	free(r->name);
	free(r->provider_id);
	free(r->json);
	memset(r, 0, sizeof(*r));
}

static char *dup_or_null(const char *s, int *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = 1;
	return d;
}

int resource_copy(struct resource *dst, const struct resource *src)
{
	int failed = 0;

	memset(dst, 0, sizeof(*dst));
	dst->name = dup_or_null(src->name, &failed);
	dst->provider_id = dup_or_null(src->provider_id, &failed);
	dst->mtime = src->mtime;
	dst->ctime = src->ctime;
	if (src->json) {
		dst->json = malloc(src->json_len + 1);
		if (dst->json) {
			memcpy(dst->json, src->json, src->json_len);
			dst->json[src->json_len] = '\0';
			dst->json_len = src->json_len;
		} else {
			failed = 1;
		}
	}
	if (failed) {
		resource_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

struct listing *listing_new(void)
{
	struct listing *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	atomic_init(&l->refs, 1);
	l->gen = atomic_fetch_add(&next_gen, 1);
	return l;
}

/* The slot of name in the set: where it is, or the empty one to take. */
static size_t seen_slot(const struct listing *l, const char *name)
{
	size_t mask = l->seen_cap - 1,
	       i = (size_t)hash_str(HASH_SEED, name) & mask;

	while (l->seen[i] && strcmp(l->seen[i], name) != 0)
		i = (i + 1) & mask;
	return i;
}

/* Keeps the set at most half full, so probes stay short. */
static int seen_grow(struct listing *l)
{
	size_t cap = l->seen_cap ? l->seen_cap * 2 : 128, i, old = l->seen_cap;
	const char **slots = calloc(cap, sizeof(*slots)), **prev = l->seen;

	if (!slots)
		return -ENOMEM;
	l->seen = slots;
	l->seen_cap = cap;
	for (i = 0; i < old; i++)
		if (prev[i])
			l->seen[seen_slot(l, prev[i])] = prev[i];
	free(prev);
	return 0;
}

/* What an entry costs the listing, for LISTING_MAX_BYTES. */
static size_t resource_bytes(const struct resource *r)
{
	return sizeof(*r) + strlen(r->name) + 1 +
	       (r->provider_id ? strlen(r->provider_id) + 1 : 0) +
	       (r->json ? r->json_len + 1 : 0);
}

int listing_add(struct listing *l, struct resource *r)
{
	size_t slot, bytes = resource_bytes(r);
	int ret;

	if (2 * (l->count + 1) > l->seen_cap) {
		ret = seen_grow(l);
		if (ret)
			return ret;
	}
	slot = seen_slot(l, r->name);
	if (l->seen[slot]) {
		l->repeated++;
		resource_clear(r);
		return 0;
	}
	if (l->count >= LISTING_MAX_ENTRIES ||
	    bytes > LISTING_MAX_BYTES - l->bytes)
		return -EFBIG;
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct resource *items;

		items = realloc(l->items, cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		l->items = items;
		l->cap = cap;
	}
	l->items[l->count++] = *r;
	l->seen[slot] = r->name;
	l->bytes += bytes;
	memset(r, 0, sizeof(*r));
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct resource *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int listing_finish(struct listing *l, size_t *repeated)
{
	/*
	 * Without its flags a listing could not mark a deleted entry gone
	 * and would show it again: no listing rather than that one.
	 */
	free(l->gone);
	l->gone = calloc(l->count ? l->count : 1, sizeof(*l->gone));
	if (!l->gone)
		return -ENOMEM;
	/* Sorted, the names are found by bsearch: the set is not needed. */
	free(l->seen);
	l->seen = NULL;
	l->seen_cap = 0;
	if (l->count > 1)
		qsort(l->items, l->count, sizeof(*l->items), by_name);
	atomic_init(&l->ngone, 0);
	if (repeated)
		*repeated = l->repeated;
	return 0;
}

long listing_index(const struct listing *l, const char *name)
{
	struct resource key = {.name = (char *)name};
	const struct resource *r;

	if (!l || !l->count)
		return -1;
	r = bsearch(&key, l->items, l->count, sizeof(*l->items), by_name);
	return r ? (long)(r - l->items) : -1;
}

bool listing_is_gone(const struct listing *l, size_t i)
{
	return l->gone && atomic_load(&l->gone[i]);
}

const struct resource *listing_find(const struct listing *l, const char *name)
{
	long i = listing_index(l, name);

	if (i < 0 || listing_is_gone(l, (size_t)i))
		return NULL;
	return &l->items[i];
}

bool listing_mark_gone(struct listing *l, const char *name)
{
	long i = listing_index(l, name);

	if (i < 0 || !l->gone || atomic_exchange(&l->gone[i], 1))
		return false;
	atomic_fetch_add(&l->ngone, 1);
	return true;
}

struct listing *listing_get(struct listing *l)
{
	atomic_fetch_add(&l->refs, 1);
	return l;
}

void listing_put(struct listing *l)
{
	size_t i;

	if (!l || atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	for (i = 0; i < l->count; i++)
		resource_clear(&l->items[i]);
	free(l->items);
	free(l->gone);
	free(l->seen);
	free(l);
}

int coll_path(const struct coll *c, char *buf, size_t len)
{
	const struct kind *k = c->kind;
	int n;

	if (!k)
		n = snprintf(buf, len, "?");
	else if (k->parent)
		n = snprintf(buf, len, "%s/%s/%s", k->service->dir,
			     k->parent->name, c->parent ? c->parent : "?");
	else
		n = snprintf(buf, len, "%s/%s", k->service->dir, k->name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
