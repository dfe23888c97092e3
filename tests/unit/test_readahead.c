/*
 * test_readahead.c - the cache's readahead of a walk (cache/readahead.c)
 * in front of a fake backend of ten names with one part each, which counts
 * the lists of each name and can hold or fail them: which lists a walk
 * sends, how many run at once, a failed readahead, and unmount. Part of the
 * test_cache program (test_readahead, called from its main).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "cancel.h"
#include "test.h"

/* A kind pair shaped as providers and versions (as in test_cache.c). */
static const struct kind ra_parts;
static const struct kind ra_things = {
    .name = "things",
    .noun = "thing",
    .service = &kind_services[0],
    .child = &ra_parts,
};
static const struct kind ra_parts = {
    .name = "parts",
    .noun = "part",
    .service = &kind_services[0],
    .parent = &ra_things,
};

#define NNAMES 10

struct fake {
	struct backend b;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int lists[NNAMES]; /* lists of each name's parts */
	int nthings;	   /* lists of the names */
	bool hold;	   /* parts lists wait while set */
	int held, running, max_running;
	int fail_name; /* this name's next parts list fails once; -1 none */
	int cancelled; /* lists that ended because their call was cancelled */
};

static void name_of(int i, char *buf, size_t len)
{
	snprintf(buf, len, "t%02d", i);
}

static int fake_add(struct listing *l, const char *name)
{
	struct resource r = {0};

	r.name = strdup(name);
	r.json = strdup("{}\n");
	r.json_len = 3;
	if (!r.name || !r.json) {
		resource_clear(&r);
		return -ENOMEM;
	}
	return listing_add(l, &r);
}

/* Waits while held; a cancel of the caller's call ends the wait. */
static int fake_enter(struct fake *f, int i)
{
	int err = 0;

	pthread_mutex_lock(&f->lock);
	f->lists[i]++;
	f->held++;
	if (++f->running > f->max_running)
		f->max_running = f->running;
	pthread_cond_broadcast(&f->cond);
	while (f->hold && !cancel_requested()) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 5000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&f->cond, &f->lock, &ts);
	}
	f->held--;
	if (cancel_requested()) {
		f->cancelled++;
		err = -EINTR;
	} else if (f->fail_name == i) {
		f->fail_name = -1;
		err = -EIO;
	}
	f->running--;
	pthread_mutex_unlock(&f->lock);
	return err;
}

static int fake_list(struct backend *b, const struct coll *c,
		     struct listing **out)
{
	struct fake *f = (struct fake *)b;
	struct listing *l = listing_new();
	char name[16];
	int err = l ? 0 : -ENOMEM, i;

	if (!err && c->kind == &ra_things) {
		pthread_mutex_lock(&f->lock);
		f->nthings++;
		pthread_mutex_unlock(&f->lock);
		for (i = 0; i < NNAMES && !err; i++) {
			name_of(i, name, sizeof(name));
			err = fake_add(l, name);
		}
	} else if (!err) {
		i = atoi(c->parent + 1);
		err = fake_enter(f, i);
		if (!err)
			err = fake_add(l, "part-1");
	}
	if (!err)
		err = listing_finish(l, NULL);
	if (err) {
		listing_put(l);
		return err;
	}
	*out = l;
	return 0;
}

static int fake_lookup(struct backend *b, const struct coll *c,
		       const char *name, struct resource *out)
{
	(void)b;
	(void)c;
	(void)name;
	(void)out;
	return -ENOENT;
}

static int fake_remove(struct backend *b, const struct coll *c,
		       const struct resource *r, unsigned flags)
{
	(void)b;
	(void)c;
	(void)r;
	(void)flags;
	return -EPERM;
}

static void fake_forget(struct backend *b, const struct coll *c)
{
	(void)b;
	(void)c;
}

static int fake_check(struct backend *b, const struct kind_service *s,
		      char *err, size_t errlen)
{
	(void)b;
	(void)s;
	(void)err;
	(void)errlen;
	return 0;
}

static struct fake *destroyed_fake;
static int destroyed_cancelled;

static void fake_destroy(struct backend *b)
{
	struct fake *f = (struct fake *)b;

	destroyed_fake = f;
	destroyed_cancelled = f->cancelled;
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	free(f);
}

static const struct backend_ops fake_ops = {
    .list = fake_list,
    .lookup = fake_lookup,
    .remove = fake_remove,
    .forget = fake_forget,
    .check = fake_check,
    .destroy = fake_destroy,
};

static struct backend *setup(struct fake **fp, int readahead)
{
	struct cache_opts opts = {30, 5, NULL, NULL, readahead};
	struct fake *f = calloc(1, sizeof(*f));
	struct backend *b;

	f->b.ops = &fake_ops;
	f->fail_name = -1;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	*fp = f;
	b = cache_wrap(&f->b, &opts);
	CHECK(b != NULL);
	return b;
}

static int list_things(struct backend *b)
{
	struct coll c = {&ra_things, NULL};
	struct listing *l = NULL;
	int err = b->ops->list(b, &c, &l);

	listing_put(l);
	return err;
}

static int list_parts(struct backend *b, int i)
{
	char name[16];
	struct coll c = {&ra_parts, name};
	struct listing *l = NULL;
	int err;

	name_of(i, name, sizeof(name));
	err = b->ops->list(b, &c, &l);
	if (!err && !listing_find(l, "part-1"))
		err = -EILSEQ;
	listing_put(l);
	return err;
}

static int lists_of(struct fake *f, int i)
{
	int n;

	pthread_mutex_lock(&f->lock);
	n = f->lists[i];
	pthread_mutex_unlock(&f->lock);
	return n;
}

static int total_lists(struct fake *f)
{
	int i, n = 0;

	for (i = 0; i < NNAMES; i++)
		n += lists_of(f, i);
	return n;
}

static void set_hold(struct fake *f, bool hold)
{
	pthread_mutex_lock(&f->lock);
	f->hold = hold;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

/* Waits until n parts lists are held; false after 10 s. */
static bool wait_held(struct fake *f, int n)
{
	struct timespec ts;
	bool ok;

	pthread_mutex_lock(&f->lock);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	while (f->held < n &&
	       pthread_cond_timedwait(&f->cond, &f->lock, &ts) == 0)
		;
	ok = f->held >= n;
	pthread_mutex_unlock(&f->lock);
	return ok;
}

/* --- what a walk sends ---------------------------------------------- */

static void test_walk_lists_each_name_once(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 3);
	int i;

	CHECK_INT(list_things(b), 0);
	for (i = 0; i < NNAMES; i++)
		CHECK_INT(list_parts(b, i), 0);
	cache_readahead_wait(b);
	for (i = 0; i < NNAMES; i++)
		CHECK_INT(lists_of(f, i), 1);
	CHECK_INT(f->nthings, 1);
	b->ops->destroy(b);
}

static void test_two_names_cost_readahead_more(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 3);

	CHECK_INT(list_things(b), 0);
	CHECK_INT(list_parts(b, 0), 0);
	cache_readahead_wait(b);
	CHECK_INT(total_lists(f), 1); /* one name is no walk */
	CHECK_INT(list_parts(b, 1), 0);
	cache_readahead_wait(b);
	/* The two, and the three after the second. */
	CHECK_INT(total_lists(f), 5);
	CHECK_INT(lists_of(f, 4), 1);
	CHECK_INT(lists_of(f, 5), 0);
	/* Read ahead: answered with no request; the window slides by one. */
	CHECK_INT(list_parts(b, 2), 0);
	cache_readahead_wait(b);
	CHECK_INT(lists_of(f, 2), 1);
	CHECK_INT(lists_of(f, 5), 1);
	CHECK_INT(total_lists(f), 6);
	b->ops->destroy(b);
}

static void test_same_name_again_is_no_walk(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 3);

	CHECK_INT(list_things(b), 0);
	CHECK_INT(list_parts(b, 3), 0);
	CHECK_INT(list_parts(b, 3), 0);
	cache_readahead_wait(b);
	CHECK_INT(total_lists(f), 1);
	b->ops->destroy(b);
}

static void test_no_readahead_without_the_parents_listing(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 3);

	CHECK_INT(list_parts(b, 0), 0);
	CHECK_INT(list_parts(b, 1), 0);
	cache_readahead_wait(b);
	CHECK_INT(total_lists(f), 2);
	CHECK_INT(f->nthings, 0);
	b->ops->destroy(b);
}

static void test_readahead_zero_sends_only_what_is_asked(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 0);
	int i;

	CHECK_INT(list_things(b), 0);
	for (i = 0; i < 3; i++)
		CHECK_INT(list_parts(b, i), 0);
	cache_readahead_wait(b);
	CHECK_INT(total_lists(f), 3);
	CHECK_INT(f->max_running, 1);
	b->ops->destroy(b);
}

/* --- threads, failures, unmount -------------------------------------- */

struct lister {
	pthread_t t;
	struct backend *b;
	int i, err;
};

static void *lister_main(void *arg)
{
	struct lister *w = arg;

	w->err = list_parts(w->b, w->i);
	return NULL;
}

static void test_lists_ahead_run_in_parallel(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 4);
	struct lister w = {.b = b, .i = 1};

	CHECK_INT(list_things(b), 0);
	CHECK_INT(list_parts(b, 0), 0);
	set_hold(f, true);
	pthread_create(&w.t, NULL, lister_main, &w);
	/* Name 1, asked for, and names 2 to 5, read ahead, all at once. */
	CHECK(wait_held(f, 5));
	set_hold(f, false);
	pthread_join(w.t, NULL);
	CHECK_INT(w.err, 0);
	cache_readahead_wait(b);
	CHECK_INT(f->max_running, 5);
	CHECK_INT(total_lists(f), 6);
	b->ops->destroy(b);
}

static void test_failed_readahead_is_not_kept(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 2);

	CHECK_INT(list_things(b), 0);
	CHECK_INT(list_parts(b, 0), 0);
	f->fail_name = 2;
	/* 1 asked for, 2 (fails) and 3 read ahead. */
	CHECK_INT(list_parts(b, 1), 0);
	cache_readahead_wait(b);
	CHECK_INT(lists_of(f, 2), 1);
	CHECK_INT(lists_of(f, 3), 1);
	/* No error shown: 2 is asked again, then kept. */
	CHECK_INT(list_parts(b, 2), 0);
	CHECK_INT(lists_of(f, 2), 2);
	CHECK_INT(list_parts(b, 2), 0);
	CHECK_INT(lists_of(f, 2), 2);
	b->ops->destroy(b);
}

static void test_waiter_of_a_failing_readahead_asks_again(void)
{
	struct timespec settle = {0, 50000000};
	struct lister one, two;
	struct fake *f;
	struct backend *b = setup(&f, 1);

	CHECK_INT(list_things(b), 0);
	CHECK_INT(list_parts(b, 0), 0);
	set_hold(f, true);
	f->fail_name = 2;
	one = (struct lister){.b = b, .i = 1};
	pthread_create(&one.t, NULL, lister_main, &one);
	CHECK(wait_held(f, 2)); /* 1, and 2 read ahead */
	/* The list of 2 joins the held readahead, which then fails. */
	two = (struct lister){.b = b, .i = 2};
	pthread_create(&two.t, NULL, lister_main, &two);
	nanosleep(&settle, NULL);
	set_hold(f, false);
	pthread_join(one.t, NULL);
	pthread_join(two.t, NULL);
	CHECK_INT(one.err, 0);
	CHECK_INT(two.err, 0);
	cache_readahead_wait(b);
	CHECK_INT(lists_of(f, 2), 2);
	b->ops->destroy(b);
}

static void test_destroy_cancels_and_joins_running_readahead(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 3);

	CHECK_INT(list_things(b), 0);
	CHECK_INT(list_parts(b, 0), 0);
	CHECK_INT(list_parts(b, 1), 0);
	/* Those read ahead of 1 are done; the next are held until cancelled. */
	cache_readahead_wait(b);
	set_hold(f, true);
	/* 4 was read ahead: answered at once, it reads 5, 6 and 7 ahead. */
	CHECK_INT(list_parts(b, 4), 0);
	CHECK(wait_held(f, 3));
	destroyed_fake = NULL;
	b->ops->destroy(b);
	CHECK(destroyed_fake != NULL);
	CHECK_INT(destroyed_cancelled, 3);
}

/* Run by test_cache's main: its own counts and summary line. */
int test_readahead(void)
{
	test_walk_lists_each_name_once();
	test_two_names_cost_readahead_more();
	test_same_name_again_is_no_walk();
	test_no_readahead_without_the_parents_listing();
	test_readahead_zero_sends_only_what_is_asked();
	test_lists_ahead_run_in_parallel();
	test_failed_readahead_is_not_kept();
	test_waiter_of_a_failing_readahead_asks_again();
	test_destroy_cancels_and_joins_running_readahead();
	return test_summary();
}
