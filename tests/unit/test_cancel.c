/*
 * test_cancel.c - the per-thread cancel: what is current, firing from
 * another thread, the watcher's wake, and that unwatching waits for a
 * wake in progress.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "cancel.h"
#include "test.h"

static void test_nothing_current_is_never_requested(void)
{
	struct cancel_watch w = {0};

	CHECK(!cancel_requested());
	CHECK(!cancel_watch(&w));
	CHECK(!w.set);
	cancel_unwatch(&w); /* harmless */
}

static void test_fire_is_seen_only_by_its_call(void)
{
	struct cancel c;

	cancel_begin(&c);
	CHECK(!cancel_requested());
	cancel_fire(&c);
	CHECK(cancel_requested());
	cancel_end(&c);
	CHECK(!cancel_requested());
	cancel_begin(&c);
	CHECK(!cancel_requested());
	cancel_end(&c);
}

struct waker {
	atomic_int calls;
	atomic_bool in_wake, slow;
};

static void wake(void *arg)
{
	struct waker *w = arg;
	struct timespec ms = {0, 1000000};
	int i;

	atomic_store(&w->in_wake, true);
	for (i = 0; i < 100 && atomic_load(&w->slow); i++)
		nanosleep(&ms, NULL);
	atomic_fetch_add(&w->calls, 1);
	atomic_store(&w->in_wake, false);
}

static void *fire_main(void *arg)
{
	cancel_fire(arg);
	return NULL;
}

static void test_fire_from_another_thread_wakes_the_watcher(void)
{
	struct waker w = {0};
	struct cancel_watch watch = {.wake = wake, .arg = &w}, late = watch;
	struct cancel c;
	pthread_t t;

	cancel_begin(&c);
	CHECK(cancel_watch(&watch));
	pthread_create(&t, NULL, fire_main, &c);
	pthread_join(t, NULL);
	CHECK_INT(atomic_load(&w.calls), 1);
	CHECK(cancel_requested());
	cancel_unwatch(&watch);
	/* Fired already: nothing to watch. */
	CHECK(!cancel_watch(&late));
	cancel_end(&c);
}

/* A watch set inside another (a login inside a request) is the one woken. */
static void test_watches_nest(void)
{
	struct waker outer = {0}, inner = {0};
	struct cancel_watch wo = {.wake = wake, .arg = &outer};
	struct cancel_watch wi = {.wake = wake, .arg = &inner};
	struct cancel c;
	pthread_t t;

	cancel_begin(&c);
	CHECK(cancel_watch(&wo));
	CHECK(cancel_watch(&wi));
	pthread_create(&t, NULL, fire_main, &c);
	pthread_join(t, NULL);
	CHECK_INT(atomic_load(&inner.calls), 1);
	CHECK_INT(atomic_load(&outer.calls), 0);
	cancel_unwatch(&wi);
	CHECK(c.watch == &wo);
	cancel_unwatch(&wo);
	CHECK(c.watch == NULL);
	cancel_end(&c);
}

static void test_unwatch_waits_for_a_wake_in_progress(void)
{
	struct waker w = {0};
	struct cancel_watch watch = {.wake = wake, .arg = &w};
	struct timespec ms = {0, 1000000};
	struct cancel c;
	pthread_t t;
	int i;

	atomic_store(&w.slow, true);
	cancel_begin(&c);
	CHECK(cancel_watch(&watch));
	pthread_create(&t, NULL, fire_main, &c);
	for (i = 0; i < 10000 && !atomic_load(&w.in_wake); i++)
		nanosleep(&ms, NULL);
	CHECK(atomic_load(&w.in_wake));
	cancel_unwatch(&watch);
	/* The wake ran to its end before unwatch returned. */
	CHECK_INT(atomic_load(&w.calls), 1);
	CHECK(!atomic_load(&w.in_wake));
	pthread_join(t, NULL);
	cancel_end(&c);
}

int main(void)
{
	test_nothing_current_is_never_requested();
	test_fire_is_seen_only_by_its_call();
	test_fire_from_another_thread_wakes_the_watcher();
	test_watches_nest();
	test_unwatch_waits_for_a_wake_in_progress();
	return test_summary();
}
