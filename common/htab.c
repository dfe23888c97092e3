/*
 * htab.c - the chained hash table (htab.h).
 */
#include "htab.h"

#include <errno.h>
#include <stdlib.h>

int htab_init(struct htab *t, size_t nslots)
{
	t->slots = calloc(nslots, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->mask = nslots - 1;
	t->n = 0;
	return 0;
}

void htab_free(struct htab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->mask = 0;
	t->n = 0;
}

static void htab_grow(struct htab *t)
{
	size_t nslots = (t->mask + 1) * 2, i;
	struct hnode **slots = calloc(nslots, sizeof(*slots));
	struct hnode *n, *next;

	/* Without memory the chains just get longer. */
	if (!slots)
		return;
	for (i = 0; i <= t->mask; i++) {
		for (n = t->slots[i]; n; n = next) {
			next = n->next;
			n->next = slots[n->hash & (nslots - 1)];
			slots[n->hash & (nslots - 1)] = n;
		}
	}
	free(t->slots);
	t->slots = slots;
	t->mask = nslots - 1;
}

void htab_insert(struct htab *t, struct hnode *n)
{
	if (t->n >= t->mask + 1)
		htab_grow(t);
	n->next = t->slots[n->hash & t->mask];
	t->slots[n->hash & t->mask] = n;
	t->n++;
}

void htab_unlink(struct htab *t, struct hnode *n)
{
	struct hnode **p = &t->slots[n->hash & t->mask];

	while (*p != n)
		p = &(*p)->next;
	*p = n->next;
	t->n--;
}
