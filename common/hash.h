/*
 * hash.h - the one string hash of hwcfs (64-bit FNV-1a), for every hash
 * table and every content fingerprint: names are short and not chosen to
 * collide, so a fast even spread is all that is needed.
 */
#ifndef HWCFS_HASH_H
#define HWCFS_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The start value; a caller may mix in more (a parent inode) first. */
#define HASH_SEED 0xcbf29ce484222325ull

static inline uint64_t hash_bytes(uint64_t h, const void *p, size_t len)
{
	const unsigned char *s = p;

	while (len--) {
		h ^= *s++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static inline uint64_t hash_str(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

#endif
