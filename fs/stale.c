/*
 * stale.c - the deletes the cloud just refused as stale (fs_priv.h says
 * why they are remembered), a few slots for a few seconds.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "fs_priv.h"

void stale_remember(struct fs *fs, uint64_t parent, const char *name)
{
	struct stale_delete *s = NULL;
	char *copy = strdup(name);
	size_t i;

	if (!copy)
		return;
	pthread_mutex_lock(&fs->stale_lock);
	/* One slot per name, so that one retry is all it ever refuses. */
	for (i = 0; i < STALE_SLOTS && !s; i++) {
		if (fs->stale[i].name && fs->stale[i].parent == parent &&
		    strcmp(fs->stale[i].name, name) == 0)
			s = &fs->stale[i];
	}
	if (!s)
		s = &fs->stale[fs->stale_next++ % STALE_SLOTS];
	free(s->name);
	s->parent = parent;
	s->name = copy;
	s->when = clock_now_s();
	pthread_mutex_unlock(&fs->stale_lock);
}

/* True, once, if a delete of that name just failed ESTALE. */
bool stale_take(struct fs *fs, uint64_t parent, const char *name)
{
	double now = clock_now_s();
	bool found = false;
	size_t i;

	pthread_mutex_lock(&fs->stale_lock);
	for (i = 0; i < STALE_SLOTS; i++) {
		struct stale_delete *s = &fs->stale[i];

		if (!s->name || s->parent != parent ||
		    strcmp(s->name, name) != 0)
			continue;
		found = now - s->when < STALE_SECONDS;
		free(s->name);
		s->name = NULL;
		break;
	}
	pthread_mutex_unlock(&fs->stale_lock);
	return found;
}

void stale_free(struct fs *fs)
{
	for (size_t i = 0; i < STALE_SLOTS; i++)
		free(fs->stale[i].name);
	if (fs->locks > 2)
		pthread_mutex_destroy(&fs->stale_lock);
}
