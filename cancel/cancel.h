/*
 * cancel.h - asking a call in progress to give up. fs/ makes one per
 * filesystem request that may wait on the cloud, makes it the thread's
 * current one for the call, and fires it when the kernel interrupts the
 * request (Ctrl-C, a killed caller). The layers below, on the same thread,
 * ask whether it fired, and may be woken when it does. Knows neither FUSE
 * nor HTTP.
 */
#ifndef HWCFS_CANCEL_H
#define HWCFS_CANCEL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct cancel {
	atomic_bool fired;
	pthread_mutex_t lock; /* wake, arg, waking */
	pthread_cond_t idle;  /* waking went false */
	void (*wake)(void *arg);
	void *arg;
	bool waking; /* cancel_fire is calling wake */
};

/* Sets c up and makes it this thread's current one. */
void cancel_begin(struct cancel *c);
/*
 * Ends c: no longer current, its resources freed. Nobody may fire c from
 * now on; the caller makes sure of that first.
 */
void cancel_end(struct cancel *c);

/* From any thread: marks c fired and calls its watcher, if any. */
void cancel_fire(struct cancel *c);

/* Whether this thread's current call was asked to give up. */
bool cancel_requested(void);

/*
 * Until cancel_unwatch, a cancel_fire of this thread's current call calls
 * wake(arg), from the firing thread, so that a sleep can end. Returns
 * false, and sets nothing, when there is no current call or it already
 * fired (the caller sees that with cancel_requested). One watch at a time.
 */
bool cancel_watch(void (*wake)(void *arg), void *arg);
/*
 * Ends the watch; when it returns, no call of wake is running or to come.
 * Must not be called with a lock that wake takes.
 */
void cancel_unwatch(void);

#endif
