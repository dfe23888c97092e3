/*
 * htab.h - the chained hash table of hwcfs (the cache's collections and
 * entries, the inode table's two indexes): nodes embedded in their owners,
 * a power-of-two slot count that doubles once there are as many nodes as
 * slots. The owner computes each hash (hash.h) and keeps its own locking.
 */
#ifndef HWCFS_HTAB_H
#define HWCFS_HTAB_H

#include <stddef.h>
#include <stdint.h>

/* The owner of a struct member, from the member's address. */
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

/* Set hash before inserting; it must not change while in a table. */
struct hnode {
	struct hnode *next;
	uint64_t hash;
};

struct htab {
	struct hnode **slots;
	size_t mask; /* slot count - 1; the count is a power of two */
	size_t n;
};

/* nslots a power of two; 0 or -ENOMEM. */
int htab_init(struct htab *t, size_t nslots);
/* Frees the slots only: the nodes belong to their owners. */
void htab_free(struct htab *t);
void htab_insert(struct htab *t, struct hnode *n);
/* n must be in t. */
void htab_unlink(struct htab *t, struct hnode *n);

/*
 * The chain where nodes of that hash are; with i from 0 to t->mask, slot
 * i's chain, which is how a walk over every node goes.
 */
static inline struct hnode *htab_chain(const struct htab *t, uint64_t hash)
{
	return t->slots[hash & t->mask];
}

#endif
