/*
 * cancel.c - the current call's cancel, per thread, and the one watcher
 * that a firing wakes (see cancel.h).
 */
#include "cancel.h"

static _Thread_local struct cancel *cancel_current;

void cancel_begin(struct cancel *c)
{
	/* Static initialisers: setting up cannot fail. */
	*c = (struct cancel){.lock = PTHREAD_MUTEX_INITIALIZER,
			     .idle = PTHREAD_COND_INITIALIZER};
	atomic_init(&c->fired, false);
	cancel_current = c;
}

void cancel_end(struct cancel *c)
{
	if (cancel_current == c)
		cancel_current = NULL;
	pthread_cond_destroy(&c->idle);
	pthread_mutex_destroy(&c->lock);
}

void cancel_fire(struct cancel *c)
{
	void (*wake)(void *arg) = NULL;
	void *arg = NULL;

	pthread_mutex_lock(&c->lock);
	atomic_store(&c->fired, true);
	if (c->watch) {
		wake = c->watch->wake;
		arg = c->watch->arg;
		c->waking = true;
	}
	pthread_mutex_unlock(&c->lock);
	if (!wake)
		return;
	/*
	 * Not under c->lock: the wake may take a lock that the watcher holds
	 * while it calls cancel_watch, which takes c->lock.
	 */
	wake(arg);
	pthread_mutex_lock(&c->lock);
	c->waking = false;
	pthread_cond_broadcast(&c->idle);
	pthread_mutex_unlock(&c->lock);
}

bool cancel_requested(void)
{
	struct cancel *c = cancel_current;

	return c && atomic_load(&c->fired);
}

bool cancel_watch(struct cancel_watch *w)
{
	struct cancel *c = cancel_current;

	w->set = false;
	if (!c)
		return false;
	pthread_mutex_lock(&c->lock);
	if (!atomic_load(&c->fired)) {
		w->outer = c->watch;
		c->watch = w;
		w->set = true;
	}
	pthread_mutex_unlock(&c->lock);
	return w->set;
}

void cancel_unwatch(struct cancel_watch *w)
{
	struct cancel *c = cancel_current;

	if (!c || !w->set)
		return;
	pthread_mutex_lock(&c->lock);
	while (c->waking)
		pthread_cond_wait(&c->idle, &c->lock);
	c->watch = w->outer;
	pthread_mutex_unlock(&c->lock);
	w->set = false;
}
