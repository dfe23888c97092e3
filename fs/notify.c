/*
 * notify.c - the kernel notifications (an entry or a directory's pages to
 * drop), sent from a thread of their own: the kernel may hold the
 * directory's lock while it waits for the very request that would send
 * them (see fuse_lowlevel_notify_inval_entry).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fs_priv.h"
#include "missing.h"
#include "log.h"

/* One kernel notification waiting for the notifier thread. */
struct notice {
	struct notice *next;
	uint64_t ino;	/* the directory (entry) or inode */
	size_t namelen; /* 0: invalidate the inode ino */
	char name[];	/* the entry of ino to invalidate */
};

static void notice_add(struct notice_list *list, uint64_t ino, const char *name,
		       size_t namelen)
{
	struct notice *n = malloc(sizeof(*n) + namelen + 1);

	if (!n) {
		log_warn("out of memory: a kernel cache stays until its "
			 "timeout");
		return;
	}
	n->next = NULL;
	n->ino = ino;
	n->namelen = namelen;
	memcpy(n->name, name ? name : "", namelen);
	n->name[namelen] = '\0';
	*list->tail = n;
	list->tail = &n->next;
}

static void notices_send(struct fs *fs, struct notice_list *list)
{
	if (!list->head)
		return;
	pthread_mutex_lock(&fs->qlock);
	*fs->queue.tail = list->head;
	fs->queue.tail = list->tail;
	pthread_cond_signal(&fs->qcond);
	pthread_mutex_unlock(&fs->qlock);
	list->head = NULL;
	list->tail = &list->head;
}

static void *notifier_main(void *arg)
{
	struct fs *fs = arg;
	struct notice *n, *next;

	for (;;) {
		pthread_mutex_lock(&fs->qlock);
		while (!fs->queue.head && !fs->qstop)
			pthread_cond_wait(&fs->qcond, &fs->qlock);
		n = fs->queue.head;
		fs->queue.head = NULL;
		fs->queue.tail = &fs->queue.head;
		if (fs->qstop) {
			pthread_mutex_unlock(&fs->qlock);
			break;
		}
		pthread_mutex_unlock(&fs->qlock);
		for (; n; n = next) {
			int ret;

			next = n->next;
			if (n->namelen)
				ret = fuse_lowlevel_notify_inval_entry(
				    fs->se, n->ino, n->name, n->namelen);
			else
				ret = fuse_lowlevel_notify_inval_inode(
				    fs->se, n->ino, 0, 0);
			/* ENOENT: the kernel had nothing cached. */
			if (ret && ret != -ENOENT)
				log_debug("notify ino %" PRIu64 " %s: %s",
					  n->ino, n->name, strerror(-ret));
			free(n);
		}
	}
	/* Stopping: the mount is going away, so is every cache. */
	for (; n; n = next) {
		next = n->next;
		free(n);
	}
	return NULL;
}

struct collect {
	struct notice_list list;
	bool all;
};

/* Under the table lock: notices for a node's entry and, for dirs, pages. */
static void collect_node(struct node *n, void *ctx)
{
	struct collect *c = ctx;

	if (node_is_dir(n) && c->all)
		notice_add(&c->list, n->ino, NULL, 0);
	if (n->parent && n->hashed && n->kind == NODE_ENTRY)
		notice_add(&c->list, n->parent->ino, n->name, n->namelen);
}

/* Under the missing table's lock: a negative entry the kernel may hold. */
static void collect_missing(uint64_t parent, const char *name, void *ctx)
{
	struct collect *c = ctx;

	notice_add(&c->list, parent, name, strlen(name));
}

/*
 * Tells the kernel to drop what it holds of dir (its cached pages and
 * the entries under it), or of every directory when dir is NULL.
 */
void invalidate_tree(struct fs *fs, struct node *dir)
{
	struct collect c = {.all = dir == NULL};

	c.list.tail = &c.list.head;
	if (dir)
		notice_add(&c.list, dir->ino, NULL, 0);
	inode_foreach(fs->it, dir, collect_node, &c);
	missing_take(fs->missing, dir ? dir->ino : 0, collect_missing, &c);
	notices_send(fs, &c.list);
}

/* A name that is gone: drop the kernel's entry and the directory pages. */
void invalidate_entry(struct fs *fs, struct node *dir, const char *name)
{
	struct notice_list list = {.tail = &list.head};

	notice_add(&list, dir->ino, name, strlen(name));
	notice_add(&list, dir->ino, NULL, 0);
	notices_send(fs, &list);
}

int notify_init(struct fs *fs)
{
	int ret;

	fs->queue.tail = &fs->queue.head;
	ret = pthread_mutex_init(&fs->qlock, NULL);
	if (ret)
		return -ret;
	fs->locks = 1;
	ret = pthread_cond_init(&fs->qcond, NULL);
	if (ret)
		return -ret;
	fs->locks = 2;
	return 0;
}

int notify_start(struct fs *fs)
{
	int ret = pthread_create(&fs->notifier, NULL, notifier_main, fs);

	if (ret)
		return -ret;
	fs->notifier_running = true;
	return 0;
}

void notify_stop(struct fs *fs)
{
	if (!fs->notifier_running)
		return;
	pthread_mutex_lock(&fs->qlock);
	fs->qstop = true;
	pthread_cond_signal(&fs->qcond);
	pthread_mutex_unlock(&fs->qlock);
	pthread_join(fs->notifier, NULL);
	fs->notifier_running = false;
}

/* After notify_stop: what was never sent. */
void notify_free(struct fs *fs)
{
	struct notice *n, *next;

	for (n = fs->queue.head; n; n = next) {
		next = n->next;
		free(n);
	}
	if (fs->locks > 1)
		pthread_cond_destroy(&fs->qcond);
	if (fs->locks > 0)
		pthread_mutex_destroy(&fs->qlock);
}
