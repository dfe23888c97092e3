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

/* Who sleeps on a call's behalf, and how to wake them. */
struct cancel_watch {
	void (*wake)(void *arg);
	void *arg;
	struct cancel_watch *outer; /* the watch this one hides */
	bool set;
};

struct cancel {
	atomic_bool fired;
	pthread_mutex_t lock;	    /* watch, waking */
	pthread_cond_t idle;	    /* waking went false */
	struct cancel_watch *watch; /* the innermost watch, or NULL */
	bool waking;		    /* cancel_fire is calling a wake */
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
 * Until cancel_unwatch(w), a cancel_fire of this thread's current call
 * calls w->wake(w->arg), from the firing thread, so that a sleep can end.
 * Watches nest: one set while another is on (a login made inside a
 * request) hides it until unwatched. Returns false, and sets nothing, when
 * there is no current call or it already fired: the caller checks
 * cancel_requested before it sleeps.
 */
bool cancel_watch(struct cancel_watch *w);
/*
 * Ends w (if set); when it returns, no call of w's wake is running or to
 * come. Must not be called with a lock that the wake takes.
 */
void cancel_unwatch(struct cancel_watch *w);

#endif
