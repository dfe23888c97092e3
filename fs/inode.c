/*
 * inode.c - the inode table: two chained hash tables (common/htab.h; by ino
 * and by parent and name) over one allocation per node, under one mutex.
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
	struct htab by_ino;  /* every node; its n is the node count */
	struct htab by_name; /* the nodes reachable by (parent, name) */
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

static void unlink_name(struct inode_table *t, struct node *n)
{
	if (!n->hashed)
		return;
	htab_unlink(&t->by_name, &n->name_node);
	n->hashed = 0;
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
	n->ino_node.hash = hash_ino(ino);
	htab_insert(&t->by_ino, &n->ino_node);
	n->name_node.hash = hash_name(parent ? parent->ino : 0, name);
	htab_insert(&t->by_name, &n->name_node);
	n->hashed = 1;
	return n;
}

/* Frees n if no one holds it, then its parent likewise. Table locked. */
static void maybe_free(struct inode_table *t, struct node *n)
{
	while (n && !node_pinned(n) && n->nlookup == 0 && n->children == 0) {
		struct node *parent = n->parent;

		htab_unlink(&t->by_ino, &n->ino_node);
		unlink_name(t, n);
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
	t->next_ino = INO_FIRST_DYNAMIC;
	ret = htab_init(&t->by_ino, 1024);
	if (!ret)
		ret = htab_init(&t->by_name, 1024);
	if (!ret)
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
	struct hnode *h, *next;
	size_t i;

	if (!t)
		return;
	for (i = 0; t->by_ino.slots && i <= t->by_ino.mask; i++) {
		for (h = htab_chain(&t->by_ino, i); h; h = next) {
			next = h->next;
			free(container_of(h, struct node, ino_node));
		}
	}
	htab_free(&t->by_ino);
	htab_free(&t->by_name);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static struct node *find_ino(struct inode_table *t, uint64_t ino)
{
	struct hnode *h = htab_chain(&t->by_ino, hash_ino(ino));

	for (; h; h = h->next) {
		struct node *n = container_of(h, struct node, ino_node);

		if (n->ino == ino)
			return n;
	}
	return NULL;
}

static struct node *find_name(struct inode_table *t, struct node *parent,
			      const char *name)
{
	struct hnode *h = htab_chain(&t->by_name, hash_name(parent->ino, name));

	for (; h; h = h->next) {
		struct node *n = container_of(h, struct node, name_node);

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
	struct hnode *h;
	size_t i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i <= t->by_ino.mask; i++) {
		for (h = htab_chain(&t->by_ino, i); h; h = h->next) {
			struct node *n = container_of(h, struct node, ino_node);

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
	n = t->by_ino.n;
	pthread_mutex_unlock(&t->lock);
	return n;
}
