/*
 * missing.c - the negative entries the kernel may still hold: a small
 * fixed table of (directory, name, expiry). A full table means no more
 * negative entries, never one that a refresh cannot drop.
 */
#include "missing.h"

#include "clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MISSING_SLOTS 256

/*
 * The kernel starts its timeout when the reply arrives, a little after
 * we note it: keep the name a second longer than the kernel can.
 */
#define MISSING_MARGIN 1.0

struct missing {
	uint64_t parent;
	char *name; /* NULL: a free slot */
	double expires;
};

struct missing_table {
	pthread_mutex_t lock;
	struct missing slot[MISSING_SLOTS];
};

static double missing_now(void)
{
	return clock_now_s();
}

int missing_table_new(struct missing_table **out)
{
	struct missing_table *t = calloc(1, sizeof(*t));
	int ret;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	ret = pthread_mutex_init(&t->lock, NULL);
	if (ret) {
		free(t);
		return -ret;
	}
	*out = t;
	return 0;
}

void missing_table_free(struct missing_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < MISSING_SLOTS; i++)
		free(t->slot[i].name);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int missing_add(struct missing_table *t, uint64_t parent, const char *name,
		double ttl)
{
	double now = missing_now();
	struct missing *free_slot = NULL, *m;
	int ret = 0;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < MISSING_SLOTS; i++) {
		m = &t->slot[i];
		if (m->name && m->expires < now) {
			free(m->name);
			m->name = NULL;
		}
		if (!m->name) {
			if (!free_slot)
				free_slot = m;
			continue;
		}
		if (m->parent == parent && strcmp(m->name, name) == 0) {
			m->expires = now + ttl + MISSING_MARGIN;
			goto out;
		}
	}
	ret = -ENOSPC;
	if (!free_slot)
		goto out;
	ret = -ENOMEM;
	free_slot->name = strdup(name);
	if (!free_slot->name)
		goto out;
	free_slot->parent = parent;
	free_slot->expires = now + ttl + MISSING_MARGIN;
	ret = 0;
out:
	pthread_mutex_unlock(&t->lock);
	return ret;
}

void missing_take(struct missing_table *t, uint64_t parent,
		  void (*fn)(uint64_t parent, const char *name, void *ctx),
		  void *ctx)
{
	double now = missing_now();

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < MISSING_SLOTS; i++) {
		struct missing *m = &t->slot[i];

		if (!m->name || (parent && m->parent != parent))
			continue;
		/* An expired one the kernel no longer trusts: nothing to send.
		 */
		if (m->expires >= now)
			fn(m->parent, m->name, ctx);
		free(m->name);
		m->name = NULL;
	}
	pthread_mutex_unlock(&t->lock);
}
