/*
 * refresh.c - dropping what the backend and the kernel hold: of one
 * directory (setxattr user.hwcfs.refresh) or of everything (SIGUSR2, taken
 * by a thread of its own: docs/hwcfs.md).
 */
#include <signal.h>

#include "fs_priv.h"
#include "log.h"

void fs_refresh(struct fs *fs, struct node *n)
{
	struct node *dir = node_is_dir(n) ? n : n->parent;
	struct coll c;

	if (dir && dir_coll(dir, &c)) {
		fs->b->ops->forget(fs->b, &c);
		invalidate_tree(fs, dir);
	} else {
		fs->b->ops->forget(fs->b, NULL);
		invalidate_tree(fs, NULL);
	}
}

int fs_block_refresh_signal(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void *sigwaiter_main(void *arg)
{
	struct fs *fs = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (atomic_load(&fs->sig_stop))
			break;
		log_info("SIGUSR2: dropping every cached entry");
		fs->b->ops->forget(fs->b, NULL);
		invalidate_tree(fs, NULL);
	}
	return NULL;
}

int refresh_start(struct fs *fs)
{
	int ret;

	atomic_init(&fs->sig_stop, false);
	ret = pthread_create(&fs->sigwaiter, NULL, sigwaiter_main, fs);
	if (ret)
		return -ret;
	fs->sigwaiter_running = true;
	return 0;
}

void refresh_stop(struct fs *fs)
{
	if (!fs->sigwaiter_running)
		return;
	atomic_store(&fs->sig_stop, true);
	pthread_kill(fs->sigwaiter, SIGUSR2);
	pthread_join(fs->sigwaiter, NULL);
	fs->sigwaiter_running = false;
}
