/*
 * inode.h - the table of inodes the kernel knows: one node per name it has
 * looked up, with the count of lookups it has not yet forgotten.
 */
#ifndef HWCFS_INODE_H
#define HWCFS_INODE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "htab.h"
#include "kind.h"

/*
 * What a node is; idx says which service or kind (backend/include/kind.h).
 * The fixed directories (root, services, top kinds' collections) come
 * first and are never freed.
 */
enum node_kind {
	NODE_ROOT,
	NODE_SERVICE, /* iotda/: idx is its kind_services index */
	NODE_COLL,    /* iotda/packages/: idx is its top kind's index */
	NODE_ENTRY,   /* iotda/packages/ID, rfs/providers/NAME: idx its kind */
};

/*
 * The fixed directories have fixed inode numbers, from 1 in the order of
 * kind_table (each service's before its first kind's): with today's table
 * these. Rows are only ever appended, so the numbers stay.
 */
#define INO_ROOT 1
#define INO_IOTDA 2
#define INO_PACKAGES 3
#define INO_RFS 4
#define INO_PROVIDERS 5

/*
 * One allocation per node, the name inline. Inode numbers are never reused
 * (a 64-bit counter), so a name deleted and created again is a new inode
 * and the generation can stay 0.
 */
struct node {
	struct hnode ino_node;	/* in the table by ino */
	struct hnode name_node; /* in the table by (parent, name) */
	struct node *parent;	/* holds a child reference on it */
	uint64_t ino;
	uint64_t nlookup;  /* lookups the kernel has not forgotten */
	uint32_t children; /* nodes whose parent this is */
	/* Last st_size told to the kernel and hash of the last opened
	 * content (files); listing generation and gone count of the last
	 * opendir (directories). Decide keep_cache. */
	_Atomic uint32_t size;
	_Atomic uint32_t hash;
	_Atomic uint64_t gen;
	_Atomic uint32_t ngone;
	/* Files: the last st_mtime told, and the descriptors open on it;
	 * what fstat answers once the name is gone. */
	_Atomic int64_t mtime;
	_Atomic uint32_t opens;
	uint8_t kind; /* enum node_kind */
	uint8_t idx;
	uint8_t hashed; /* reachable by (parent, name) */
	uint16_t namelen;
	char name[];
};

struct inode_table;

int inode_table_new(struct inode_table **out);
void inode_table_free(struct inode_table *t);

/* The node of that inode number, or NULL. Takes no reference. */
struct node *inode_get(struct inode_table *t, uint64_t ino);

/*
 * Finds or makes the child called name of parent and counts one lookup on
 * it. A found node keeps its kind and idx. NULL on ENOMEM.
 */
struct node *inode_lookup(struct inode_table *t, struct node *parent,
			  const char *name, enum node_kind kind, unsigned idx);

/* The child's inode number if the table holds it, else 0. */
uint64_t inode_peek(struct inode_table *t, struct node *parent,
		    const char *name);

/* The kernel forgets n lookups of ino; a node no one holds is freed. */
void inode_forget(struct inode_table *t, uint64_t ino, uint64_t n);

/*
 * The child name of parent was deleted: a later lookup of the same name
 * makes a new node. The old one lives until the kernel forgets it.
 */
void inode_unhash(struct inode_table *t, struct node *parent, const char *name);

/* True once n's name was unhashed: n lives only for the kernel's sake. */
bool inode_unlinked(struct inode_table *t, struct node *n);

/*
 * Calls fn on each node (of one parent, or of every parent when parent
 * is NULL) with the table locked: fn must not block or call back into
 * the table.
 */
void inode_foreach(struct inode_table *t, struct node *parent,
		   void (*fn)(struct node *n, void *ctx), void *ctx);

size_t inode_count(struct inode_table *t);

/* The kind of an entry node; NULL for the fixed directories. */
static inline const struct kind *node_entry_kind(const struct node *n)
{
	return n->kind == NODE_ENTRY ? &kind_table[n->idx] : NULL;
}

/* An entry is a directory when its kind has children (a provider). */
static inline bool node_is_dir(const struct node *n)
{
	return n->kind != NODE_ENTRY || kind_table[n->idx].child;
}

#endif
