/*
 * missing.h - the names the kernel holds as missing (negative entries),
 * so that a refresh can tell it to forget them (docs/hwcfs.md).
 */
#ifndef HWCFS_MISSING_H
#define HWCFS_MISSING_H

#include <stdint.h>

struct missing_table;

int missing_table_new(struct missing_table **out);
void missing_table_free(struct missing_table *t);

/*
 * Notes that the kernel may hold name under parent as missing for ttl
 * seconds: 0, or -ENOSPC when the table is full (then send no negative
 * entry, or a refresh could not reach it) or -ENOMEM.
 */
int missing_add(struct missing_table *t, uint64_t parent, const char *name,
		double ttl);

/*
 * Forgets every name still held under parent (every name when parent is
 * 0), calling fn for each, under the table's lock.
 */
void missing_take(struct missing_table *t, uint64_t parent,
		  void (*fn)(uint64_t parent, const char *name, void *ctx),
		  void *ctx);

#endif
