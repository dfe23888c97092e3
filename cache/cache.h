/*
 * cache.h - a backend that wraps another backend: TTL'd listings and
 * entries, negative entries, invalidation on delete, one request in flight
 * per key. Like sshfs's cache.c, it is a decorator of the same interface.
 */
#ifndef HWCFS_CACHE_H
#define HWCFS_CACHE_H

#include "backend.h"

struct cache_opts {
	int ttl;	  /* seconds listings and entries live; 0: no cache */
	int negative_ttl; /* seconds a confirmed-missing name is remembered */
	/* Monotonic seconds; NULL means CLOCK_MONOTONIC. For tests. */
	double (*now)(void *ctx);
	void *now_ctx;
	/*
	 * Lists of sibling collections started ahead during a walk, and
	 * threads doing them (cache/readahead.c); 0: none.
	 */
	int readahead;
};

/*
 * Wraps inner, which the returned backend owns (destroying it destroys
 * inner). NULL on ENOMEM.
 */
struct backend *cache_wrap(struct backend *inner,
			   const struct cache_opts *opts);

/*
 * Returns when no readahead is queued or running, so that a test can count
 * the requests they made.
 */
void cache_readahead_wait(struct backend *b);

#endif
