/*
 * inode.c - the inode table: two chained hash tables (by ino and by parent
 * and name) over one allocation per node, under one mutex.
 */
#include "inode.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "kind.h"

struct inode_table {
	pthread_mutex_t lock;
	struct node **by_ino;
	struct node **by_name;
	size_t nbuckets; /* both tables, a power of two */
	size_t count;
	uint64_t next_ino;
};

/* The first number a resource node gets; below are the fixed dirs. */
#define INO_FIRST_DYNAMIC 16

static size_t hash_ino(uint64_t ino)
{
	ino ^= ino >> 33;
	ino *= 0xff51afd7ed558ccdULL;
	ino ^= ino >> 33;
	return (size_t)ino;
}

static size_t hash_name(uint64_t parent, const char *name)
{
	return (size_t)hash_str(HASH_SEED ^ hash_ino(parent), name);
}

static bool node_pinned(const struct node *n)
{
	return n->kind < NODE_ENTRY;
}

static void link_ino(struct inode_table *t, struct node *n)
{
	size_t b = hash_ino(n->ino) & (t->nbuckets - 1);

	n->ino_next = t->by_ino[b];
	t->by_ino[b] = n;
}

static void link_name(struct inode_table *t, struct node *n)
{
	size_t b = hash_name(n->parent ? n->parent->ino : 0, n->name) &
		   (t->nbuckets - 1);

	n->name_next = t->by_name[b];
	t->by_name[b] = n;
	n->hashed = 1;
}

static void unlink_ino(struct inode_table *t, struct node *n)
{
	struct node **p = &t->by_ino[hash_ino(n->ino) & (t->nbuckets - 1)];

	for (; *p; p = &(*p)->ino_next) {
		if (*p == n) {
			*p = n->ino_next;
			return;
		}
	}
}

static void unlink_name(struct inode_table *t, struct node *n)
{
	struct node **p;

	if (!n->hashed)
		return;
	p = &t->by_name[hash_name(n->parent ? n->parent->ino : 0, n->name) &
			(t->nbuckets - 1)];
	for (; *p; p = &(*p)->name_next) {
		if (*p == n) {
			*p = n->name_next;
			break;
		}
	}
	n->hashed = 0;
}

/* Doubles both tables when they hold more nodes than buckets. */
static void maybe_grow(struct inode_table *t)
{
	size_t old = t->nbuckets, i;
	struct node **oi = t->by_ino, **on = t->by_name, *n, *next;
	struct node **ni, **nn;

	if (t->count < old)
		return;
	ni = calloc(old * 2, sizeof(*ni));
	nn = calloc(old * 2, sizeof(*nn));
	if (!ni || !nn) {
		/* Longer chains, still correct. */
		free(ni);
		free(nn);
		return;
	}
	t->by_ino = ni;
	t->by_name = nn;
	t->nbuckets = old * 2;
	for (i = 0; i < old; i++) {
		for (n = oi[i]; n; n = next) {
			next = n->ino_next;
			link_ino(t, n);
		}
		for (n = on[i]; n; n = next) {
			next = n->name_next;
			link_name(t, n);
		}
	}
	free(oi);
	free(on);
}

static struct node *node_new(struct inode_table *t, struct node *parent,
			     const char *name, enum node_kind kind,
			     unsigned idx, uint64_t ino)
{
	size_t len = strlen(name);
	struct node *n;

	if (len > UINT16_MAX)
		return NULL;
	n = calloc(1, sizeof(*n) + len + 1);
	if (!n)
		return NULL;
	memcpy(n->name, name, len + 1);
	n->namelen = (uint16_t)len;
	n->kind = (uint8_t)kind;
	n->idx = (uint8_t)idx;
	n->ino = ino;
	n->parent = parent;
	if (parent)
		parent->children++;
	t->count++;
	link_ino(t, n);
	link_name(t, n);
	maybe_grow(t);
	return n;
}

/* Frees n if no one holds it, then its parent likewise. Table locked. */
static void maybe_free(struct inode_table *t, struct node *n)
{
	while (n && !node_pinned(n) && n->nlookup == 0 && n->children == 0) {
		struct node *parent = n->parent;

		unlink_ino(t, n);
		unlink_name(t, n);
		t->count--;
		free(n);
		if (parent)
			parent->children--;
		n = parent;
	}
}

/*
 * The fixed directories, numbered from INO_ROOT in the order of kind_table:
 * each service's directory just before its first kind's (inode.h).
 */
static int make_fixed(struct inode_table *t)
{
	struct node *root, *svc[KIND_MAX_SERVICES] = {0};
	uint64_t ino = INO_ROOT;

	root = node_new(t, NULL, "", NODE_ROOT, 0, ino++);
	if (!root)
		return -ENOMEM;
	for (size_t i = 0; i < kind_count; i++) {
		const struct kind *k = &kind_table[i];
		unsigned s = k->service->id;

		if (k->parent)
			continue;
		if (!svc[s])
			svc[s] = node_new(t, root, k->service->dir,
					  NODE_SERVICE, s, ino++);
		if (!svc[s] ||
		    !node_new(t, svc[s], k->name, NODE_COLL, i, ino++))
			return -ENOMEM;
	}
	return ino <= INO_FIRST_DYNAMIC ? 0 : -ENOSPC;
}

int inode_table_new(struct inode_table **out)
{
	struct inode_table *t = calloc(1, sizeof(*t));
	int ret;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	ret = pthread_mutex_init(&t->lock, NULL);
	if (ret) {
		free(t);
		return -ret;
	}
	ret = -ENOMEM;
	t->nbuckets = 1024;
	t->by_ino = calloc(t->nbuckets, sizeof(*t->by_ino));
	t->by_name = calloc(t->nbuckets, sizeof(*t->by_name));
	t->next_ino = INO_FIRST_DYNAMIC;
	if (t->by_ino && t->by_name)
		ret = make_fixed(t);
	if (ret) {
		inode_table_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

void inode_table_free(struct inode_table *t)
{
	size_t i;

	if (!t)
		return;
	if (t->by_ino) {
		for (i = 0; i < t->nbuckets; i++) {
			struct node *n = t->by_ino[i], *next;

			for (; n; n = next) {
				next = n->ino_next;
				free(n);
			}
		}
	}
	free(t->by_ino);
	free(t->by_name);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static struct node *find_ino(struct inode_table *t, uint64_t ino)
{
	struct node *n = t->by_ino[hash_ino(ino) & (t->nbuckets - 1)];

	while (n && n->ino != ino)
		n = n->ino_next;
	return n;
}

static struct node *find_name(struct inode_table *t, struct node *parent,
			      const char *name)
{
	struct node *n =
	    t->by_name[hash_name(parent->ino, name) & (t->nbuckets - 1)];

	for (; n; n = n->name_next) {
		if (n->parent == parent && strcmp(n->name, name) == 0)
			return n;
	}
	return NULL;
}

struct node *inode_get(struct inode_table *t, uint64_t ino)
{
	struct node *n;

	pthread_mutex_lock(&t->lock);
	n = find_ino(t, ino);
	pthread_mutex_unlock(&t->lock);
	return n;
}

struct node *inode_lookup(struct inode_table *t, struct node *parent,
			  const char *name, enum node_kind kind, unsigned idx)
{
	struct node *n;

	pthread_mutex_lock(&t->lock);
	n = find_name(t, parent, name);
	if (!n)
		n = node_new(t, parent, name, kind, idx, t->next_ino++);
	if (n)
		n->nlookup++;
	pthread_mutex_unlock(&t->lock);
	return n;
}

uint64_t inode_peek(struct inode_table *t, struct node *parent,
		    const char *name)
{
	struct node *n;
	uint64_t ino;

	pthread_mutex_lock(&t->lock);
	n = find_name(t, parent, name);
	ino = n ? n->ino : 0;
	pthread_mutex_unlock(&t->lock);
	return ino;
}

void inode_forget(struct inode_table *t, uint64_t ino, uint64_t count)
{
	struct node *n;

	pthread_mutex_lock(&t->lock);
	n = find_ino(t, ino);
	if (n) {
		/* A kernel that forgets more than it looked up is a bug
		 * elsewhere; never wrap around. */
		n->nlookup = count > n->nlookup ? 0 : n->nlookup - count;
		maybe_free(t, n);
	}
	pthread_mutex_unlock(&t->lock);
}

void inode_unhash(struct inode_table *t, struct node *parent, const char *name)
{
	struct node *n;

	pthread_mutex_lock(&t->lock);
	n = find_name(t, parent, name);
	if (n && !node_pinned(n))
		unlink_name(t, n);
	pthread_mutex_unlock(&t->lock);
}

bool inode_unlinked(struct inode_table *t, struct node *n)
{
	bool unlinked;

	pthread_mutex_lock(&t->lock);
	unlinked = !n->hashed && !node_pinned(n);
	pthread_mutex_unlock(&t->lock);
	return unlinked;
}

void inode_foreach(struct inode_table *t, struct node *parent,
		   void (*fn)(struct node *n, void *ctx), void *ctx)
{
	size_t i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->nbuckets; i++) {
		struct node *n = t->by_ino[i];

		for (; n; n = n->ino_next) {
			if (!parent || n->parent == parent)
				fn(n, ctx);
		}
	}
	pthread_mutex_unlock(&t->lock);
}

size_t inode_count(struct inode_table *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}
