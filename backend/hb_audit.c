/*
 * hb_audit.c - what a delete leaves behind: the outcome word of its audit
 * line, and in dry run the entries hidden as if deleted, until forgotten.
 */
#include "hb.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int hb_entry_path(const struct coll *c, const char *name, char *buf, size_t len)
{
	char dir[512];
	int n, ret = coll_path(c, dir, sizeof(dir));

	if (ret)
		return ret;
	n = snprintf(buf, len, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool is_hidden_locked(struct http_backend *hb, const char *path)
{
	size_t i;

	for (i = 0; i < hb->nhidden; i++)
		if (strcmp(hb->hidden[i], path) == 0)
			return true;
	return false;
}

bool hb_is_hidden(struct http_backend *hb, const struct coll *c,
		  const char *name)
{
	char path[1024];
	bool hidden;

	if (!hb->dry_run || hb_entry_path(c, name, path, sizeof(path)))
		return false;
	pthread_mutex_lock(&hb->hide_lock);
	hidden = is_hidden_locked(hb, path);
	pthread_mutex_unlock(&hb->hide_lock);
	return hidden;
}

int hb_hide(struct http_backend *hb, const char *path)
{
	int ret = 0;

	pthread_mutex_lock(&hb->hide_lock);
	if (!is_hidden_locked(hb, path)) {
		if (hb->nhidden == hb->caphidden) {
			size_t cap = hb->caphidden ? hb->caphidden * 2 : 16;
			char **grown =
			    realloc(hb->hidden, cap * sizeof(*grown));

			if (!grown)
				ret = -ENOMEM;
			else {
				hb->hidden = grown;
				hb->caphidden = cap;
			}
		}
		if (!ret) {
			hb->hidden[hb->nhidden] = strdup(path);
			if (hb->hidden[hb->nhidden])
				hb->nhidden++;
			else
				ret = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&hb->hide_lock);
	return ret;
}

void hb_unhide(struct http_backend *hb, const char *prefix, bool direct)
{
	size_t i, kept = 0, n = strlen(prefix);

	pthread_mutex_lock(&hb->hide_lock);
	for (i = 0; i < hb->nhidden; i++) {
		const char *p = hb->hidden[i];

		if (strncmp(p, prefix, n) == 0 &&
		    !(direct && strchr(p + n, '/')))
			free(hb->hidden[i]);
		else
			hb->hidden[kept++] = hb->hidden[i];
	}
	hb->nhidden = kept;
	pthread_mutex_unlock(&hb->hide_lock);
}

/* Drops hidden entries from a listing not yet finished. */
void hb_drop_hidden(struct http_backend *hb, const struct coll *c,
		    struct listing *l)
{
	size_t i, kept = 0;

	if (!hb->dry_run)
		return;
	for (i = 0; i < l->count; i++) {
		if (hb_is_hidden(hb, c, l->items[i].name))
			resource_clear(&l->items[i]);
		else
			l->items[kept++] = l->items[i];
	}
	l->count = kept;
}

/*
 * Every errno by its own name (strerrorname_np), so that the audit log
 * says what the caller was told; "deleted" is the one word that is not an
 * errno ("dry-run" is written by hb_remove).
 */
const char *hb_outcome(int err)
{
	const char *name;

	if (!err)
		return "deleted";
	name = strerrorname_np(-err);
	return name ? name : "unknown-errno";
}
