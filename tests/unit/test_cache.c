/*
 * test_cache.c - the cache in front of a fake backend that counts its calls:
 * TTLs on a clock the tests move, negative entries, single flight, deletes
 * and forgets, and a few seconds of threads doing everything at once.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "cancel.h"
#include "test.h"

/* --- a clock the tests control ------------------------------------- */

/*
 * Milliseconds, so that threads can move it atomically. The cache reads the
 * clock once per list or lookup call, under its lock and before it joins a
 * flight; counting the readings tells a test that every thread has joined.
 */
static atomic_llong clock_ms;
static atomic_int clock_reads;

static double test_now(void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&clock_reads, 1);
	return (double)atomic_load(&clock_ms) / 1000.0;
}

static void clock_set(double s)
{
	atomic_store(&clock_ms, (long long)(s * 1000.0));
}

/* --- the fake backend ---------------------------------------------- */

/*
 * A kind pair kind_table does not have, shaped as providers and versions:
 * the cache serves it as it serves the table's rows, so a new kind needs
 * no change in cache/ (docs/architecture.md, "The kind table").
 */
static const struct kind test_parts;
static const struct kind test_things = {
    .name = "things",
    .noun = "thing",
    .service = &kind_services[0],
    .child = &test_parts,
    .strong_id = true,
};
static const struct kind test_parts = {
    .name = "parts",
    .noun = "part",
    .service = &kind_services[0],
    .parent = &test_things,
    .strong_id = true,
};

struct fake_item {
	const struct kind *kind;
	const char *provider; /* child kinds: the parent's name */
	const char *name;
	bool present;
};

static const struct fake_item fake_seed[] = {
    {KIND_PACKAGES, NULL, "pkg-a", true}, {KIND_PACKAGES, NULL, "pkg-b", true},
    {KIND_PACKAGES, NULL, "pkg-c", true}, {KIND_PACKAGES, NULL, "pkg-d", true},
    {KIND_PROVIDERS, NULL, "p1", true},	  {KIND_PROVIDERS, NULL, "p2", true},
    {KIND_PROVIDERS, NULL, "p3", true},	  {KIND_VERSIONS, "p1", "1.0.0", true},
    {KIND_VERSIONS, "p1", "1.2.3", true}, {KIND_VERSIONS, "p2", "0.1.0", true},
    {KIND_VERSIONS, "p2", "0.2.0", true}, {KIND_VERSIONS, "p2", "0.3.0", true},
    {&test_things, NULL, "t1", true},	  {&test_parts, "t1", "part-1", true},
};
#define FAKE_NITEMS (sizeof(fake_seed) / sizeof(fake_seed[0]))

struct fake {
	struct backend b;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct fake_item items[FAKE_NITEMS];
	atomic_int nlist, nlookup, nremove, nforget, ncheck;
	int fail_list, fail_lookup, fail_remove; /* -errno to answer, or 0 */
	unsigned hold;	     /* FAKE_* calls wait until it is cleared */
	int held;	     /* calls waiting now */
	double list_takes;   /* seconds the clock moves during a list */
	double lookup_takes; /* and during a lookup */
	bool yield;	     /* stress: widen the windows between calls */
};

static atomic_int fake_destroyed;

#define FAKE_LIST 0x1u
#define FAKE_LOOKUP 0x2u
#define FAKE_REMOVE 0x4u
#define FAKE_ALL 0x7u

static struct fake *fake_of(struct backend *b)
{
	return (struct fake *)b;
}

/* Blocks while the test holds calls; returns the failure to inject. */
static int fake_enter(struct fake *f, unsigned op, const int *fail)
{
	int err;

	pthread_mutex_lock(&f->lock);
	f->held++;
	pthread_cond_broadcast(&f->cond);
	while (f->hold & op)
		pthread_cond_wait(&f->cond, &f->lock);
	f->held--;
	err = *fail;
	pthread_mutex_unlock(&f->lock);
	if (f->yield)
		sched_yield();
	return err;
}

static bool fake_match(const struct fake_item *it, const struct coll *c)
{
	if (it->kind != c->kind)
		return false;
	return !c->kind->parent || strcmp(it->provider, c->parent) == 0;
}

static struct fake_item *fake_find(struct fake *f, const struct coll *c,
				   const char *name)
{
	size_t i;

	for (i = 0; i < FAKE_NITEMS; i++)
		if (fake_match(&f->items[i], c) &&
		    strcmp(f->items[i].name, name) == 0)
			return &f->items[i];
	return NULL;
}

/* Whether c's parent entry (a child kind's) is there; true for others. */
static bool fake_parent_present(struct fake *f, const struct coll *c)
{
	struct coll pc = {c->kind->parent, NULL};
	struct fake_item *it;

	if (!c->kind->parent)
		return true;
	it = fake_find(f, &pc, c->parent);
	return it && it->present;
}

static int fake_fill(const struct fake_item *it, struct resource *r)
{
	char json[96];

	memset(r, 0, sizeof(*r));
	snprintf(json, sizeof(json), "{\"name\": \"%s\"}\n", it->name);
	r->name = strdup(it->name);
	r->json = strdup(json);
	r->json_len = strlen(json);
	r->mtime = 1000;
	if (it->kind->strong_id)
		r->provider_id = strdup("pid");
	if (!r->name || !r->json || (it->kind->strong_id && !r->provider_id)) {
		resource_clear(r);
		return -ENOMEM;
	}
	return 0;
}

static int fake_list(struct backend *b, const struct coll *c,
		     struct listing **out)
{
	struct fake *f = fake_of(b);
	struct listing *l;
	struct resource r;
	size_t i;
	int err;

	atomic_fetch_add(&f->nlist, 1);
	err = fake_enter(f, FAKE_LIST, &f->fail_list);
	if (err)
		return err;
	/* As the HTTP backend does when the caller was interrupted. */
	if (cancel_requested())
		return -EINTR;
	pthread_mutex_lock(&f->lock);
	if (f->list_takes > 0)
		clock_set((double)atomic_load(&clock_ms) / 1000.0 +
			  f->list_takes);
	if (!fake_parent_present(f, c)) {
		pthread_mutex_unlock(&f->lock);
		return -ENOENT;
	}
	l = listing_new();
	err = l ? 0 : -ENOMEM;
	for (i = 0; !err && i < FAKE_NITEMS; i++) {
		if (!f->items[i].present || !fake_match(&f->items[i], c))
			continue;
		err = fake_fill(&f->items[i], &r);
		if (!err)
			err = listing_add(l, &r);
		resource_clear(&r);
	}
	pthread_mutex_unlock(&f->lock);
	if (err) {
		listing_put(l);
		return err;
	}
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
	struct fake *f = fake_of(b);
	struct fake_item *it;
	int err;

	atomic_fetch_add(&f->nlookup, 1);
	err = fake_enter(f, FAKE_LOOKUP, &f->fail_lookup);
	pthread_mutex_lock(&f->lock);
	if (f->lookup_takes > 0)
		clock_set((double)atomic_load(&clock_ms) / 1000.0 +
			  f->lookup_takes);
	if (err) {
		pthread_mutex_unlock(&f->lock);
		return err;
	}
	it = fake_find(f, c, name);
	err = it && it->present ? fake_fill(it, out) : -ENOENT;
	pthread_mutex_unlock(&f->lock);
	return err;
}

static int fake_remove(struct backend *b, const struct coll *c,
		       const struct resource *r, unsigned flags)
{
	struct fake *f = fake_of(b);
	struct fake_item *it;
	size_t i;
	int err;

	atomic_fetch_add(&f->nremove, 1);
	err = fake_enter(f, FAKE_REMOVE, &f->fail_remove);
	if (err)
		return err;
	pthread_mutex_lock(&f->lock);
	it = fake_find(f, c, r->name);
	if (!it || !it->present) {
		err = -ENOENT;
	} else if (c->kind->child) {
		for (i = 0; i < FAKE_NITEMS; i++) {
			struct fake_item *v = &f->items[i];

			if (v->kind != c->kind->child || !v->present ||
			    strcmp(v->provider, r->name) != 0)
				continue;
			if (!(flags & BACKEND_CASCADE)) {
				err = -ENOTEMPTY;
				break;
			}
			v->present = false;
		}
	}
	if (!err)
		it->present = false;
	pthread_mutex_unlock(&f->lock);
	return err;
}

static void fake_forget(struct backend *b, const struct coll *c)
{
	(void)c;
	atomic_fetch_add(&fake_of(b)->nforget, 1);
}

static int fake_check(struct backend *b, const struct kind_service *s,
		      char *err, size_t errlen)
{
	(void)s;
	(void)err;
	(void)errlen;
	atomic_fetch_add(&fake_of(b)->ncheck, 1);
	return 0;
}

static void fake_destroy(struct backend *b)
{
	struct fake *f = fake_of(b);

	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	free(f);
	atomic_fetch_add(&fake_destroyed, 1);
}

static const struct backend_ops fake_ops = {
    .list = fake_list,
    .lookup = fake_lookup,
    .remove = fake_remove,
    .forget = fake_forget,
    .check = fake_check,
    .destroy = fake_destroy,
};

static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof(*f));

	f->b.ops = &fake_ops;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	memcpy(f->items, fake_seed, sizeof(fake_seed));
	return f;
}

static void fake_set_hold(struct fake *f, unsigned hold)
{
	pthread_mutex_lock(&f->lock);
	f->hold = hold;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

/* Waits until n calls are held in the fake; false after 10 s. */
static bool fake_wait_held(struct fake *f, int n)
{
	struct timespec ts;
	bool ok = true;

	pthread_mutex_lock(&f->lock);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	while (f->held < n && ok)
		ok = pthread_cond_timedwait(&f->cond, &f->lock, &ts) == 0;
	ok = f->held >= n;
	pthread_mutex_unlock(&f->lock);
	return ok;
}

/* Waits until the cache has read the clock n times; false after 10 s. */
static bool wait_clock_reads(int n)
{
	struct timespec ms = {0, 1000000};
	int i;

	for (i = 0; i < 10000; i++) {
		if (atomic_load(&clock_reads) >= n)
			return true;
		nanosleep(&ms, NULL);
	}
	return false;
}

/* --- fixtures ------------------------------------------------------ */

static const struct coll packages = {KIND_PACKAGES, NULL};
static const struct coll providers = {KIND_PROVIDERS, NULL};
static const struct coll versions_p1 = {KIND_VERSIONS, "p1"};
static const struct coll versions_p2 = {KIND_VERSIONS, "p2"};

static struct backend *setup(struct fake **fp, int ttl, int negative_ttl)
{
	struct cache_opts opts = {ttl, negative_ttl, test_now, NULL, 0};
	struct backend *b;

	*fp = fake_new();
	clock_set(100.0);
	b = cache_wrap(&(*fp)->b, &opts);
	CHECK(b != NULL);
	return b;
}

static int do_list(struct backend *b, const struct coll *c)
{
	struct listing *l = NULL;
	int err = b->ops->list(b, c, &l);

	if (!err)
		listing_put(l);
	return err;
}

static int do_lookup(struct backend *b, const struct coll *c, const char *name)
{
	struct resource r;
	int err = b->ops->lookup(b, c, name, &r);

	if (!err && strcmp(r.name, name) != 0)
		err = -EILSEQ; /* the wrong entry: fails any check */
	resource_clear(&r);
	return err;
}

static int do_remove(struct backend *b, const struct coll *c, const char *name,
		     unsigned flags)
{
	struct resource r = {0};

	r.name = (char *)name;
	r.provider_id = c->kind->strong_id ? "pid" : NULL;
	return b->ops->remove(b, c, &r, flags);
}

/* lookup_stale: the error, or -EILSEQ for a wrong name; *stale set. */
static int do_lookup_stale(struct backend *b, const struct coll *c,
			   const char *name, bool *stale)
{
	struct resource r;
	int err = b->ops->lookup_stale(b, c, name, &r, stale);

	if (!err && strcmp(r.name, name) != 0)
		err = -EILSEQ;
	resource_clear(&r);
	return err;
}

/* --- scripts: one call or check a step -------------------------------- */

/*
 * Most tests are a sequence of calls on one cache, each with the answer it
 * must give, and counts of the fake's calls in between; a script is such a
 * sequence as data, and a failing step prints its script's name and index.
 */
enum step_op {
	S_END,
	S_LIST,	     /* list c: want err */
	S_LOOKUP,    /* lookup name in c: want err */
	S_STALE,     /* lookup_stale name in c: want err */
	S_WAS_STALE, /* the last S_STALE's flag: want arg */
	S_REMOVE,    /* remove name from c with flags: want err */
	S_FORGET,    /* forget c (NULL: all); checks nothing */
	S_AT,	     /* the clock is at seconds */
	S_NLIST,     /* the fake's counts: want arg */
	S_NLOOKUP,
	S_NREMOVE,
	S_NFORGET,
	S_FAIL_LIST, /* the fake's answers from now on: arg */
	S_FAIL_LOOKUP,
	S_FAIL_REMOVE,
	S_LIST_TAKES, /* seconds the fake's calls take from now on */
	S_LOOKUP_TAKES,
	S_PRESENT,   /* name in c is there (arg 1) or not, behind the cache */
	S_HOLD,	     /* list c and keep the listing: want err */
	S_HELD_HAS,  /* name is in the kept listing: want arg */
	S_HELD_LIVE, /* the kept listing's live entries: want arg */
};

struct step {
	enum step_op op;
	const struct coll *c;
	const char *name;
	unsigned flags;
	long arg;
	double seconds;
};

#define LIST(c_, e)                                 \
	{                                           \
		.op = S_LIST, .c = (c_), .arg = (e) \
	}
#define LOOKUP(c_, n, e)                                           \
	{                                                          \
		.op = S_LOOKUP, .c = (c_), .name = (n), .arg = (e) \
	}
#define STALE(c_, n, e)                                           \
	{                                                         \
		.op = S_STALE, .c = (c_), .name = (n), .arg = (e) \
	}
#define WAS_STALE(v)                          \
	{                                     \
		.op = S_WAS_STALE, .arg = (v) \
	}
#define REMOVE(c_, n, fl, e)                                           \
	{                                                              \
		.op = S_REMOVE, .c = (c_), .name = (n), .flags = (fl), \
		.arg = (e)                                             \
	}
#define FORGET(c_)                        \
	{                                 \
		.op = S_FORGET, .c = (c_) \
	}
#define AT(s)                              \
	{                                  \
		.op = S_AT, .seconds = (s) \
	}
#define NLIST(n)                          \
	{                                 \
		.op = S_NLIST, .arg = (n) \
	}
#define NLOOKUP(n)                          \
	{                                   \
		.op = S_NLOOKUP, .arg = (n) \
	}
#define NREMOVE(n)                          \
	{                                   \
		.op = S_NREMOVE, .arg = (n) \
	}
#define NFORGET(n)                          \
	{                                   \
		.op = S_NFORGET, .arg = (n) \
	}
#define FAIL_LIST(e)                          \
	{                                     \
		.op = S_FAIL_LIST, .arg = (e) \
	}
#define FAIL_LOOKUP(e)                          \
	{                                       \
		.op = S_FAIL_LOOKUP, .arg = (e) \
	}
#define FAIL_REMOVE(e)                          \
	{                                       \
		.op = S_FAIL_REMOVE, .arg = (e) \
	}
#define LIST_TAKES(s)                              \
	{                                          \
		.op = S_LIST_TAKES, .seconds = (s) \
	}
#define LOOKUP_TAKES(s)                              \
	{                                            \
		.op = S_LOOKUP_TAKES, .seconds = (s) \
	}
#define HOLD(c_, e)                                 \
	{                                           \
		.op = S_HOLD, .c = (c_), .arg = (e) \
	}
#define HELD_HAS(n, v)                                    \
	{                                                 \
		.op = S_HELD_HAS, .name = (n), .arg = (v) \
	}
#define HELD_LIVE(n)                          \
	{                                     \
		.op = S_HELD_LIVE, .arg = (n) \
	}
#define PRESENT(c_, n, v)                                           \
	{                                                           \
		.op = S_PRESENT, .c = (c_), .name = (n), .arg = (v) \
	}

struct script {
	const char *name;
	int ttl, negative_ttl;
	struct step steps[24];
};

/* Changes the fake or the clock; false for a step that checks nothing. */
static bool script_set(struct fake *f, struct backend *b, const struct step *s)
{
	switch (s->op) {
	case S_FORGET:
		b->ops->forget(b, s->c);
		break;
	case S_AT:
		clock_set(s->seconds);
		break;
	case S_FAIL_LIST:
		f->fail_list = (int)s->arg;
		break;
	case S_FAIL_LOOKUP:
		f->fail_lookup = (int)s->arg;
		break;
	case S_FAIL_REMOVE:
		f->fail_remove = (int)s->arg;
		break;
	case S_LIST_TAKES:
		f->list_takes = s->seconds;
		break;
	case S_LOOKUP_TAKES:
		f->lookup_takes = s->seconds;
		break;
	case S_PRESENT:
		fake_find(f, s->c, s->name)->present = s->arg != 0;
		break;
	default:
		return true;
	}
	return false;
}

/* What a script's steps leave for later ones. */
struct script_state {
	bool stale;	      /* the last lookup_stale's flag */
	struct listing *held; /* S_HOLD's listing, or NULL */
};

static long script_hold(struct backend *b, const struct step *s,
			struct script_state *st)
{
	if (st->held)
		listing_put(st->held);
	st->held = NULL;
	return b->ops->list(b, s->c, &st->held);
}

/* What a checking step observed, to compare with its arg. */
static long script_get(struct fake *f, struct backend *b, const struct step *s,
		       struct script_state *st)
{
	switch (s->op) {
	case S_HOLD:
		return script_hold(b, s, st);
	case S_HELD_HAS:
		return st->held && listing_find(st->held, s->name) != NULL;
	case S_HELD_LIVE:
		return st->held ? (long)listing_live(st->held) : -EILSEQ;
	case S_LIST:
		return do_list(b, s->c);
	case S_LOOKUP:
		return do_lookup(b, s->c, s->name);
	case S_STALE:
		return do_lookup_stale(b, s->c, s->name, &st->stale);
	case S_WAS_STALE:
		return st->stale;
	case S_REMOVE:
		return do_remove(b, s->c, s->name, s->flags);
	case S_NLIST:
		return atomic_load(&f->nlist);
	case S_NLOOKUP:
		return atomic_load(&f->nlookup);
	case S_NREMOVE:
		return atomic_load(&f->nremove);
	case S_NFORGET:
		return atomic_load(&f->nforget);
	default:
		return -EILSEQ; /* a step this runner does not know */
	}
}

static void script_run(const struct script *sc)
{
	struct fake *f;
	struct backend *b = setup(&f, sc->ttl, sc->negative_ttl);
	struct script_state st = {false, NULL};
	size_t i;

	for (i = 0; sc->steps[i].op != S_END; i++) {
		const struct step *s = &sc->steps[i];
		long got;

		if (!script_set(f, b, s))
			continue;
		got = script_get(f, b, s, &st);
		if (got != s->arg)
			fprintf(stderr, "script %s, step %zu\n", sc->name, i);
		CHECK_INT(got, s->arg);
	}
	if (st.held)
		listing_put(st.held);
	b->ops->destroy(b);
}

/* --- the scripts ----------------------------------------------------- */

static const struct coll things = {&test_things, NULL};
static const struct coll parts_t1 = {&test_parts, "t1"};

/* TTLs, negative entries and errors: one cache each, 30 s and 5 s. */
static const struct script ttl_scripts[] = {
    {"list_ttl_counts_from_the_start_of_the_fetch",
     30,
     5,
     {/* Started at 100, answered at 110. */
      LIST_TAKES(10.0), LIST(&packages, 0), LIST_TAKES(0), AT(129.9),
      LIST(&packages, 0), NLIST(1),
      /* 20 s after the answer, 30 s after the start. */
      AT(130.0), LIST(&packages, 0), NLIST(2)}},
    {"lookup_with_a_stale_listing_asks_inner",
     30,
     5,
     {LIST(&packages, 0), AT(130.0), LOOKUP(&packages, "pkg-a", 0), NLOOKUP(1),
      NLIST(1)}},
    {"missing_name_in_fresh_listing_is_confirmed_once",
     30,
     5,
     {LIST(&packages, 0), LOOKUP(&packages, "pkg-zz", -ENOENT), NLOOKUP(1),
      AT(104.9), LOOKUP(&packages, "pkg-zz", -ENOENT), NLOOKUP(1),
      /* Negative TTL over, listing still fresh. */
      AT(105.0), LOOKUP(&packages, "pkg-zz", -ENOENT), NLOOKUP(2), NLIST(1)}},
    {"name_created_after_the_listing_is_found_by_inner",
     30,
     5,
     {PRESENT(&packages, "pkg-d", 0), LIST(&packages, 0),
      PRESENT(&packages, "pkg-d", 1), LOOKUP(&packages, "pkg-d", 0),
      LOOKUP(&packages, "pkg-d", 0), NLOOKUP(1)}},
    {"missing_name_without_listing_is_kept_negative",
     30,
     5,
     {LOOKUP(&versions_p1, "9.9.9", -ENOENT), AT(104.9),
      LOOKUP(&versions_p1, "9.9.9", -ENOENT), NLOOKUP(1), AT(105.0),
      LOOKUP(&versions_p1, "9.9.9", -ENOENT), NLOOKUP(2)}},
    {"negative_ttl_zero_keeps_no_negative_entry",
     30,
     0,
     {LIST(&packages, 0), LOOKUP(&packages, "pkg-zz", -ENOENT),
      LOOKUP(&packages, "pkg-zz", -ENOENT), NLOOKUP(2)}},
    /* "1.0.0" is a version of p1 only. */
    {"lookup_answering_enoent_marks_the_listing",
     30,
     5,
     {HOLD(&packages, 0), PRESENT(&packages, "pkg-c", 0),
      /* Stale: the lookup asks, and learns it is gone. */
      AT(130.0), LOOKUP(&packages, "pkg-c", -ENOENT), HELD_HAS("pkg-c", 0),
      HELD_LIVE(3), NLOOKUP(1)}},
    {"same_name_in_two_collections_is_two_entries",
     30,
     5,
     {LOOKUP(&versions_p1, "1.0.0", 0), LOOKUP(&versions_p2, "1.0.0", -ENOENT),
      LOOKUP(&versions_p1, "1.0.0", 0), LOOKUP(&versions_p2, "1.0.0", -ENOENT),
      NLOOKUP(2)}},
    {"list_error_is_not_cached",
     30,
     5,
     {FAIL_LIST(-EIO), LIST(&packages, -EIO), FAIL_LIST(0), LIST(&packages, 0),
      LIST(&packages, 0), NLIST(2)}},
    {"lookup_error_is_not_cached",
     30,
     5,
     {FAIL_LOOKUP(-EIO), LOOKUP(&packages, "pkg-a", -EIO),
      LOOKUP(&packages, "pkg-a", -EIO), FAIL_LOOKUP(0),
      LOOKUP(&packages, "pkg-a", 0), LOOKUP(&packages, "pkg-a", 0),
      NLOOKUP(3)}},
    {"failed_refresh_does_not_serve_the_stale_listing",
     30,
     5,
     {LIST(&packages, 0), AT(130.0), FAIL_LIST(-EAGAIN),
      LIST(&packages, -EAGAIN), NLIST(2)}},
    /* A timeout takes the whole timeout: the memory counts from its end. */
    {"error_memory_counts_from_the_failure",
     30,
     5,
     {FAIL_LOOKUP(-ETIMEDOUT), LOOKUP_TAKES(10.0),
      LOOKUP(&packages, "pkg-a", -ETIMEDOUT), LOOKUP_TAKES(0), AT(112.9),
      LOOKUP(&packages, "pkg-a", -ETIMEDOUT), NLOOKUP(1), AT(113.0),
      LOOKUP(&packages, "pkg-a", -ETIMEDOUT), NLOOKUP(2)}},
    {"refresh_forgets_a_remembered_error",
     30,
     5,
     {FAIL_LOOKUP(-ETIMEDOUT), LOOKUP(&packages, "pkg-a", -ETIMEDOUT),
      FAIL_LOOKUP(0), FORGET(&packages), LOOKUP(&packages, "pkg-a", 0),
      NLOOKUP(2)}},
};

/* Deletes, forgets, and what they leave in the cache. */
static const struct script change_scripts[] = {
    {"remove_without_listing_leaves_a_negative_entry",
     30,
     5,
     {LOOKUP(&packages, "pkg-a", 0), REMOVE(&packages, "pkg-a", 0, 0),
      LOOKUP(&packages, "pkg-a", -ENOENT), NLOOKUP(1), AT(105.0),
      LOOKUP(&packages, "pkg-a", -ENOENT), NLOOKUP(2)}},
    /* Someone else deleted it: the cloud says 404. */
    {"remove_of_a_missing_name_also_marks_it_gone",
     30,
     5,
     {HOLD(&versions_p1, 0), PRESENT(&versions_p1, "1.2.3", 0),
      REMOVE(&versions_p1, "1.2.3", 0, -ENOENT), HELD_HAS("1.2.3", 0),
      LOOKUP(&versions_p1, "1.2.3", -ENOENT), NLOOKUP(0)}},
    {"failed_remove_leaves_the_cache_unchanged",
     30,
     5,
     {LIST(&packages, 0), LIST(&versions_p1, 0), FAIL_REMOVE(-EIO),
      REMOVE(&packages, "pkg-a", 0, -EIO), FAIL_REMOVE(0),
      REMOVE(&providers, "p1", 0, -ENOTEMPTY), LOOKUP(&packages, "pkg-a", 0),
      LIST(&versions_p1, 0), NLOOKUP(0), NLIST(2)}},
    {"remove_of_a_provider_drops_its_versions_listing",
     30,
     5,
     {LIST(&providers, 0), LIST(&versions_p1, 0), LIST(&versions_p2, 0),
      REMOVE(&providers, "p1", BACKEND_CASCADE, 0),
      LOOKUP(&providers, "p1", -ENOENT), LIST(&versions_p1, -ENOENT),
      LIST(&versions_p2, 0), LIST(&providers, 0), NLIST(4), NLOOKUP(0)}},
    /* A holder of the dropped listing keeps its reference, untouched. */
    {"estale_on_a_provider_drops_the_providers_listing",
     30,
     5,
     {HOLD(&providers, 0), LIST(&packages, 0), FAIL_REMOVE(-ESTALE),
      REMOVE(&providers, "p2", 0, -ESTALE), FAIL_REMOVE(0), HELD_LIVE(3),
      LIST(&providers, 0), LIST(&packages, 0), NLIST(3)}},
    {"estale_on_a_version_changes_nothing",
     30,
     5,
     {LIST(&versions_p2, 0), FAIL_REMOVE(-ESTALE),
      REMOVE(&versions_p2, "0.1.0", 0, -ESTALE), LIST(&versions_p2, 0),
      LOOKUP(&versions_p2, "0.1.0", 0), NLIST(1), NLOOKUP(0)}},
    {"forget_drops_one_collection",
     30,
     5,
     {LIST(&packages, 0), LIST(&versions_p1, 0),
      LOOKUP(&packages, "pkg-zz", -ENOENT), FORGET(&packages), NFORGET(1),
      LIST(&packages, 0), LIST(&versions_p1, 0), NLIST(3),
      /* Its negative entry went too. */
      LOOKUP(&packages, "pkg-zz", -ENOENT), NLOOKUP(2)}},
    {"forget_providers_drops_versions_listings",
     30,
     5,
     {LIST(&providers, 0), LIST(&versions_p1, 0), LIST(&versions_p2, 0),
      LIST(&packages, 0), FORGET(&providers), LIST(&providers, 0),
      LIST(&versions_p1, 0), LIST(&versions_p2, 0), LIST(&packages, 0),
      NLIST(7)}},
    {"forget_all_drops_everything",
     30,
     5,
     {LIST(&packages, 0), LIST(&versions_p2, 0), LOOKUP(&providers, "p3", 0),
      LOOKUP(&providers, "p9", -ENOENT), FORGET(NULL), NFORGET(1),
      LIST(&packages, 0), LIST(&versions_p2, 0), LOOKUP(&providers, "p3", 0),
      LOOKUP(&providers, "p9", -ENOENT), NLIST(4), NLOOKUP(4)}},
    {"ttl_zero_passes_everything_through",
     0,
     5,
     {LIST(&packages, 0), LIST(&packages, 0), LOOKUP(&packages, "pkg-a", 0),
      LOOKUP(&packages, "pkg-a", 0), LOOKUP(&packages, "nope", -ENOENT),
      LOOKUP(&packages, "nope", -ENOENT), REMOVE(&packages, "pkg-a", 0, 0),
      REMOVE(&packages, "pkg-a", 0, -ENOENT), FORGET(NULL), NLIST(2),
      NLOOKUP(4), NREMOVE(2), NFORGET(1)}},
    /*
     * A kind pair kind_table does not have is cached as the others: an
     * entry with children is ENOTEMPTY, then goes with them, and their
     * listing, asked again, is gone.
     */
    {"a_new_kind_is_cached_as_the_others",
     30,
     5,
     {LIST(&things, 0), LIST(&things, 0), LIST(&parts_t1, 0),
      LIST(&parts_t1, 0), NLIST(2), LOOKUP(&parts_t1, "part-1", 0), NLOOKUP(0),
      REMOVE(&things, "t1", 0, -ENOTEMPTY),
      REMOVE(&things, "t1", BACKEND_CASCADE, 0), LOOKUP(&things, "t1", -ENOENT),
      LIST(&parts_t1, -ENOENT), NLIST(3)}},
};

/* lookup_stale: an expired answer, once, and never a missing name. */
static const struct script stale_scripts[] = {
    {"expired_listing_answers_lookup_stale_once",
     30,
     5,
     {LIST(&packages, 0), AT(500.0), STALE(&packages, "pkg-a", 0), WAS_STALE(1),
      NLOOKUP(0),
      /* Once: the next asks, and its answer is fresh for the TTL. */
      STALE(&packages, "pkg-a", 0), WAS_STALE(0), NLOOKUP(1), AT(529.9),
      STALE(&packages, "pkg-a", 0), WAS_STALE(0), NLOOKUP(1),
      /* That answer, expired in turn, may be given once more. */
      AT(530.0), STALE(&packages, "pkg-a", 0), WAS_STALE(1), NLOOKUP(1),
      /* Each name once; the plain lookup never answers expired. */
      STALE(&packages, "pkg-b", 0), WAS_STALE(1), LOOKUP(&packages, "pkg-c", 0),
      NLOOKUP(2), NLIST(1)}},
    {"lookup_stale_never_answers_a_missing_name",
     30,
     5,
     {LIST(&packages, 0), REMOVE(&packages, "pkg-a", 0, 0),
      PRESENT(&packages, "pkg-b", 0), LOOKUP(&packages, "pkg-zz", -ENOENT),
      AT(500.0),
      /* Deleted here, never listed, or missing: the cloud decides. */
      STALE(&packages, "pkg-a", -ENOENT), STALE(&packages, "pkg-zz", -ENOENT),
      STALE(&packages, "pkg-new", -ENOENT), WAS_STALE(0), NLOOKUP(4),
      /* Listed, then deleted behind our back: once from the listing,
       * then the truth. */
      STALE(&packages, "pkg-b", 0), WAS_STALE(1),
      STALE(&packages, "pkg-b", -ENOENT), NLOOKUP(5)}},
    {"lookup_stale_uses_the_newest_answer",
     30,
     5,
     {/* Listed at 100, found missing at 110: missing wins. */
      LIST(&packages, 0), PRESENT(&packages, "pkg-c", 0), AT(140.0),
      LOOKUP(&packages, "pkg-c", -ENOENT),
      /* Listed again at 200 with pkg-c back: the listing wins. */
      PRESENT(&packages, "pkg-c", 1), AT(200.0), LIST(&packages, 0), AT(300.0),
      STALE(&packages, "pkg-c", 0), WAS_STALE(1), NLOOKUP(1),
      /* An expired entry with no listing answers too. */
      LOOKUP(&providers, "p1", 0), AT(400.0), STALE(&providers, "p1", 0),
      WAS_STALE(1), NLOOKUP(2)}},
    {"lookup_stale_gives_a_remembered_error",
     30,
     5,
     {LIST(&packages, 0), AT(500.0), STALE(&packages, "pkg-a", 0),
      FAIL_LOOKUP(-ETIMEDOUT), STALE(&packages, "pkg-a", -ETIMEDOUT),
      STALE(&packages, "pkg-a", -ETIMEDOUT), WAS_STALE(0), NLOOKUP(1)}},
};

static void test_scripts(void)
{
	size_t i;

	for (i = 0; i < sizeof(ttl_scripts) / sizeof(ttl_scripts[0]); i++)
		script_run(&ttl_scripts[i]);
	for (i = 0; i < sizeof(change_scripts) / sizeof(change_scripts[0]); i++)
		script_run(&change_scripts[i]);
	for (i = 0; i < sizeof(stale_scripts) / sizeof(stale_scripts[0]); i++)
		script_run(&stale_scripts[i]);
}

/* --- TTL of listings ----------------------------------------------- */

static void test_second_list_within_ttl_makes_no_request(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 30, 5);
	struct listing *l1, *l2;

	CHECK_INT(b->ops->list(b, &packages, &l1), 0);
	clock_set(129.9);
	CHECK_INT(b->ops->list(b, &packages, &l2), 0);
	CHECK_INT(atomic_load(&f->nlist), 1);
	CHECK(l1 == l2);
	CHECK_INT(l2->count, 4);
	listing_put(l1);
	listing_put(l2);
	b->ops->destroy(b);
}

static void test_list_after_ttl_makes_a_new_request(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 30, 5);
	struct listing *l1, *l2;

	CHECK_INT(b->ops->list(b, &packages, &l1), 0);
	clock_set(130.0);
	CHECK_INT(b->ops->list(b, &packages, &l2), 0);
	CHECK_INT(atomic_load(&f->nlist), 2);
	CHECK(l1->gen != l2->gen);
	listing_put(l1);
	listing_put(l2);
	b->ops->destroy(b);
}

static void test_listings_of_different_collections_are_kept_apart(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 30, 5);
	struct listing *a, *v1, *v2;

	CHECK_INT(b->ops->list(b, &packages, &a), 0);
	CHECK_INT(b->ops->list(b, &versions_p1, &v1), 0);
	CHECK_INT(b->ops->list(b, &versions_p2, &v2), 0);
	CHECK_INT(a->count, 4);
	CHECK_INT(v1->count, 2);
	CHECK_INT(v2->count, 3);
	CHECK_INT(do_list(b, &versions_p1), 0);
	CHECK_INT(atomic_load(&f->nlist), 3);
	listing_put(a);
	listing_put(v1);
	listing_put(v2);
	b->ops->destroy(b);
}

/* --- lookups ------------------------------------------------------- */

static void test_lookup_is_answered_from_a_fresh_listing(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 30, 5);
	struct resource r;

	CHECK_INT(do_list(b, &versions_p2), 0);
	CHECK_INT(b->ops->lookup(b, &versions_p2, "0.2.0", &r), 0);
	CHECK_STR(r.name, "0.2.0");
	CHECK_STR(r.provider_id, "pid");
	CHECK_STR(r.json, "{\"name\": \"0.2.0\"}\n");
	CHECK_INT(r.json_len, strlen("{\"name\": \"0.2.0\"}\n"));
	CHECK_INT(r.mtime, 1000);
	resource_clear(&r);
	CHECK_INT(atomic_load(&f->nlookup), 0);
	b->ops->destroy(b);
}

static void test_lookup_without_listing_asks_once_then_caches(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 30, 5);
	struct resource r;

	CHECK_INT(b->ops->lookup(b, &providers, "p1", &r), 0);
	CHECK_STR(r.name, "p1");
	resource_clear(&r);
	clock_set(129.9);
	CHECK_INT(b->ops->lookup(b, &providers, "p1", &r), 0);
	CHECK_STR(r.json, "{\"name\": \"p1\"}\n");
	resource_clear(&r);
	CHECK_INT(atomic_load(&f->nlookup), 1);
	clock_set(130.0);
	CHECK_INT(do_lookup(b, &providers, "p1"), 0);
	CHECK_INT(atomic_load(&f->nlookup), 2);
	CHECK_INT(atomic_load(&f->nlist), 0);
	b->ops->destroy(b);
}

/* --- single flight ------------------------------------------------- */

#define NTHREADS 8

struct worker {
	struct backend *b;
	const struct coll *c;
	const char *name; /* NULL: list */
	int err;
	struct listing *l;
	struct resource r;
	struct cancel *cn; /* the call's, as fs/ makes one; or NULL */
	atomic_bool done;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	if (w->cn)
		cancel_begin(w->cn);
	if (w->name)
		w->err = w->b->ops->lookup(w->b, w->c, w->name, &w->r);
	else
		w->err = w->b->ops->list(w->b, w->c, &w->l);
	atomic_store(&w->done, true);
	/* The tests fire only before done: nothing fires it after this. */
	if (w->cn)
		cancel_end(w->cn);
	return NULL;
}

/* Waits until w's call returned; false after 10 s. */
static bool wait_done(struct worker *w)
{
	struct timespec ms = {0, 1000000};
	int i;

	for (i = 0; i < 10000 && !atomic_load(&w->done); i++)
		nanosleep(&ms, NULL);
	return atomic_load(&w->done);
}

/*
 * Starts NTHREADS calls while the fake holds every inner call, waits until
 * one call is in the fake and every thread has read the clock (so is in the
 * flight: the clock is read under the cache's lock right before joining),
 * then lets the fake answer.
 */
static void run_together(struct fake *f, struct worker *w)
{
	pthread_t t[NTHREADS];
	int i;

	atomic_store(&clock_reads, 0);
	fake_set_hold(f, FAKE_ALL);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, worker_run, &w[i]);
	CHECK(fake_wait_held(f, 1));
	CHECK(wait_clock_reads(NTHREADS));
	fake_set_hold(f, 0);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
}

/*
 * Eight threads make the same call at once: one request goes out, all share
 * its answer, and the answer is kept or not as a lone call's would be.
 */
struct flight_case {
	const char *name;
	const struct coll *c;
	const char *lookup; /* NULL: list */
	int fail;	    /* the fake's answer to the flight's request */
	int want;	    /* every thread's */
	int after_calls;    /* the fake's count after one more call */
};

static const struct flight_case flight_cases[] = {
    {"listing at once makes one request", &providers, NULL, 0, 0, 1},
    {"a list error is shared", &packages, NULL, -EIO, -EIO, 2},
    {"looking up one name makes one request", &packages, "pkg-c", 0, 0, 1},
    {"a missing answer is shared", &packages, "nope", 0, -ENOENT, 1},
};

static void flight_check_worker(const struct flight_case *fc, struct worker *w,
				struct worker *first)
{
	char json[64];

	CHECK_INT(w->err, fc->want);
	if (!fc->lookup) {
		CHECK(fc->want ? w->l == NULL : w->l == first->l);
		if (w->l)
			listing_put(w->l);
	} else if (!fc->want) {
		CHECK_STR(w->r.name, fc->lookup);
		snprintf(json, sizeof(json), "{\"name\": \"%s\"}\n",
			 fc->lookup);
		CHECK_STR(w->r.json, json);
		resource_clear(&w->r);
	}
}

static void test_eight_threads_at_once_share_one_request(void)
{
	size_t k;
	int i;

	for (k = 0; k < sizeof(flight_cases) / sizeof(flight_cases[0]); k++) {
		const struct flight_case *fc = &flight_cases[k];
		int failed = test_failed;
		struct fake *f;
		struct backend *b = setup(&f, 30, 5);
		struct worker w[NTHREADS] = {0};
		atomic_int *calls = fc->lookup ? &f->nlookup : &f->nlist;

		for (i = 0; i < NTHREADS; i++)
			w[i] = (struct worker){
			    .b = b, .c = fc->c, .name = fc->lookup};
		f->fail_list = f->fail_lookup = fc->fail;
		run_together(f, w);
		CHECK_INT(atomic_load(calls), 1);
		for (i = 0; i < NTHREADS; i++)
			flight_check_worker(fc, &w[i], &w[0]);
		f->fail_list = f->fail_lookup = 0;
		CHECK_INT(fc->lookup ? do_lookup(b, fc->c, fc->lookup)
				     : do_list(b, fc->c),
			  fc->want == -ENOENT ? -ENOENT : 0);
		CHECK_INT(atomic_load(calls), fc->after_calls);
		if (test_failed != failed)
			fprintf(stderr, "flight case: %s\n", fc->name);
		b->ops->destroy(b);
	}
}

static void test_delete_during_a_list_is_not_undone_by_its_answer(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 30, 5);
	struct worker w = {.b = b, .c = &packages};
	struct listing *l;
	pthread_t t;

	/* The list is held, and answers as it was before the delete. */
	fake_set_hold(f, FAKE_LIST);
	pthread_create(&t, NULL, worker_run, &w);
	CHECK(fake_wait_held(f, 1));
	CHECK_INT(do_remove(b, &packages, "pkg-a", 0), 0);
	pthread_mutex_lock(&f->lock);
	fake_find(f, &packages, "pkg-a")->present = true;
	pthread_mutex_unlock(&f->lock);
	fake_set_hold(f, 0);
	pthread_join(t, NULL);
	CHECK(listing_find(w.l, "pkg-a") != NULL);
	fake_find(f, &packages, "pkg-a")->present = false;
	CHECK_INT(w.err, 0);
	listing_put(w.l);
	/* Its answer was not kept: the next list asks again. */
	CHECK_INT(b->ops->list(b, &packages, &l), 0);
	CHECK(listing_find(l, "pkg-a") == NULL);
	CHECK_INT(atomic_load(&f->nlist), 2);
	listing_put(l);
	b->ops->destroy(b);
}

/* --- interrupts ---------------------------------------------------- */

/*
 * Holds the fake's lists, starts lead and lets it reach the fake, starts
 * wait and lets it join lead's flight, then fires cn (one of theirs).
 */
static void interrupt_one_of_two(struct fake *f, struct worker *lead,
				 struct worker *wait, pthread_t *t,
				 struct cancel *cn)
{
	atomic_store(&clock_reads, 0);
	fake_set_hold(f, FAKE_LIST);
	pthread_create(&t[0], NULL, worker_run, lead);
	CHECK(fake_wait_held(f, 1));
	pthread_create(&t[1], NULL, worker_run, wait);
	CHECK(wait_clock_reads(2));
	cancel_fire(cn);
}

/* The leader is held in the fake; the waiter joins, then is interrupted. */
static void test_interrupted_waiter_returns_eintr_at_once(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 30, 5);
	struct cancel cn;
	struct worker lead = {.b = b, .c = &providers};
	struct worker wait = {.b = b, .c = &providers, .cn = &cn};
	pthread_t t[2];

	interrupt_one_of_two(f, &lead, &wait, t, &cn);
	/* It returns while the leader is still held. */
	CHECK(wait_done(&wait));
	CHECK_INT(wait.err, -EINTR);
	CHECK(wait.l == NULL);
	CHECK(!atomic_load(&lead.done));
	fake_set_hold(f, 0);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	CHECK_INT(lead.err, 0);
	listing_put(lead.l);
	/* The leader's answer was kept; the interrupt changed nothing. */
	CHECK_INT(do_list(b, &providers), 0);
	CHECK_INT(atomic_load(&f->nlist), 1);
	b->ops->destroy(b);
}

/*
 * The leader is interrupted: its -EINTR is its own, so the waiter asks
 * again (leading a request of its own), and no EINTR is ever kept.
 */
static void test_interrupted_leader_does_not_fail_its_waiter(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 30, 5);
	struct cancel cn;
	struct worker lead = {.b = b, .c = &packages, .cn = &cn};
	struct worker wait = {.b = b, .c = &packages};
	pthread_t t[2];

	interrupt_one_of_two(f, &lead, &wait, t, &cn);
	fake_set_hold(f, 0);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	CHECK_INT(lead.err, -EINTR);
	CHECK_INT(wait.err, 0);
	CHECK(wait.l && listing_find(wait.l, "pkg-a") != NULL);
	listing_put(wait.l);
	CHECK_INT(atomic_load(&f->nlist), 2);
	/* The waiter's answer is kept; the next list sends nothing. */
	CHECK_INT(do_list(b, &packages), 0);
	CHECK_INT(atomic_load(&f->nlist), 2);
	b->ops->destroy(b);
}

/* --- deletes ------------------------------------------------------- */

static void test_remove_marks_gone_and_lookup_needs_no_request(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 30, 5);
	struct listing *held, *l;
	long i;

	CHECK_INT(b->ops->list(b, &packages, &held), 0);
	CHECK_INT(do_remove(b, &packages, "pkg-b", 0), 0);
	CHECK_INT(atomic_load(&f->nremove), 1);
	/* The held reference keeps its indexes; the entry is flagged. */
	CHECK_INT(held->count, 4);
	i = listing_index(held, "pkg-b");
	CHECK_INT(i, 1);
	CHECK(i >= 0 && listing_is_gone(held, (size_t)i));
	CHECK_STR(held->items[2].name, "pkg-c");
	CHECK_INT(listing_live(held), 3);
	CHECK_INT(do_lookup(b, &packages, "pkg-b"), -ENOENT);
	clock_set(110.0); /* past the negative TTL: the listing still says */
	CHECK_INT(do_lookup(b, &packages, "pkg-b"), -ENOENT);
	CHECK_INT(atomic_load(&f->nlookup), 0);
	CHECK_INT(b->ops->list(b, &packages, &l), 0);
	CHECK(l == held);
	CHECK(listing_find(l, "pkg-b") == NULL);
	CHECK_INT(atomic_load(&f->nlist), 1);
	listing_put(l);
	listing_put(held);
	b->ops->destroy(b);
}

/* --- errors that did not reach the cloud --------------------------- */

static void test_unreachable_lookup_error_is_kept_for_three_seconds(void)
{
	static const int errs[] = {-ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH};
	size_t i;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		struct fake *f;
		struct backend *b = setup(&f, 30, 5);

		f->fail_lookup = errs[i];
		CHECK_INT(do_lookup(b, &packages, "pkg-a"), errs[i]);
		f->fail_lookup = 0;
		clock_set(102.9);
		CHECK_INT(do_lookup(b, &packages, "pkg-a"), errs[i]);
		CHECK_INT(atomic_load(&f->nlookup), 1);
		/* Another name, and the same name elsewhere, still ask. */
		CHECK_INT(do_lookup(b, &packages, "pkg-b"), 0);
		CHECK_INT(do_lookup(b, &providers, "pkg-a"), -ENOENT);
		CHECK_INT(atomic_load(&f->nlookup), 3);
		clock_set(103.0);
		CHECK_INT(do_lookup(b, &packages, "pkg-a"), 0);
		CHECK_INT(atomic_load(&f->nlookup), 4);
		b->ops->destroy(b);
	}
}

static void test_errors_from_the_cloud_are_not_kept(void)
{
	static const int errs[] = {-EIO, -EACCES, -EAGAIN, -EINVAL};
	size_t i;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		struct fake *f;
		struct backend *b = setup(&f, 30, 5);

		f->fail_lookup = errs[i];
		CHECK_INT(do_lookup(b, &packages, "pkg-a"), errs[i]);
		f->fail_lookup = 0;
		CHECK_INT(do_lookup(b, &packages, "pkg-a"), 0);
		CHECK_INT(atomic_load(&f->nlookup), 2);
		b->ops->destroy(b);
	}
}

/* --- expired answers and peek ------------------------------------- */

static void test_peek_returns_only_a_fresh_listing(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 30, 5);
	struct listing *l = NULL, *mine;

	CHECK_INT(b->ops->peek(b, &providers, &l), -ENODATA);
	CHECK(l == NULL);
	CHECK_INT(b->ops->list(b, &providers, &mine), 0);
	CHECK_INT(b->ops->peek(b, &providers, &l), 0);
	CHECK(l == mine);
	listing_put(l);
	CHECK_INT(do_remove(b, &providers, "p3", 0), 0);
	CHECK_INT(b->ops->peek(b, &providers, &l), 0);
	CHECK_INT(listing_live(l), 2);
	listing_put(l);
	CHECK_INT(b->ops->peek(b, &packages, &l), -ENODATA);
	clock_set(130.0);
	CHECK_INT(b->ops->peek(b, &providers, &l), -ENODATA);
	CHECK_INT(atomic_load(&f->nlist), 1);
	listing_put(mine);
	b->ops->destroy(b);
}

static void test_ttl_zero_answers_nothing_expired(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 0, 5);
	struct listing *l = NULL;
	bool stale = true;

	CHECK_INT(do_list(b, &packages), 0);
	CHECK_INT(b->ops->peek(b, &packages, &l), -ENODATA);
	CHECK_INT(do_lookup_stale(b, &packages, "pkg-a", &stale), 0);
	CHECK(!stale);
	f->fail_lookup = -ETIMEDOUT;
	CHECK_INT(do_lookup(b, &packages, "pkg-a"), -ETIMEDOUT);
	CHECK_INT(do_lookup(b, &packages, "pkg-a"), -ETIMEDOUT);
	CHECK_INT(atomic_load(&f->nlookup), 3);
	b->ops->destroy(b);
}

/* --- no cache, check, destroy -------------------------------------- */

static void test_check_passes_through(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 30, 5);
	char err[64];

	CHECK_INT(b->ops->check(b, KIND_PACKAGES->service, err, sizeof(err)),
		  0);
	CHECK_INT(b->ops->check(b, KIND_PACKAGES->service, err, sizeof(err)),
		  0);
	CHECK_INT(atomic_load(&f->ncheck), 2);
	b->ops->destroy(b);
}

static void test_destroy_destroys_inner(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 30, 5);
	struct listing *l;
	int before = atomic_load(&fake_destroyed);

	/* Something in every table, and a listing that outlives the cache. */
	CHECK_INT(b->ops->list(b, &packages, &l), 0);
	CHECK_INT(do_lookup(b, &providers, "p1"), 0);
	CHECK_INT(do_lookup(b, &providers, "nope"), -ENOENT);
	b->ops->destroy(b);
	CHECK_INT(atomic_load(&fake_destroyed), before + 1);
	CHECK_STR(listing_find(l, "pkg-a")->name, "pkg-a");
	listing_put(l);
}

static void test_wrap_refuses_null(void)
{
	struct cache_opts opts = {30, 5, NULL, NULL, 0};

	CHECK(cache_wrap(NULL, &opts) == NULL);
}

static void test_many_entries_are_swept_and_kept_right(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 30, 5);
	char name[32];
	int i, wrong = 0;

	/* Enough negative entries to trigger sweeps and table growth. */
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "missing-%d", i);
		if (do_lookup(b, &packages, name) != -ENOENT)
			wrong++;
		if (i % 5000 == 4999)
			clock_set(100.0 + (i + 1) / 5000 * 10.0);
	}
	CHECK_INT(wrong, 0);
	CHECK_INT(atomic_load(&f->nlookup), 20000);
	/* The last 5000 are still fresh (set at 130, expire at 135). */
	clock_set(134.0);
	for (i = 15000; i < 20000; i++) {
		snprintf(name, sizeof(name), "missing-%d", i);
		if (do_lookup(b, &packages, name) != -ENOENT)
			wrong++;
	}
	CHECK_INT(wrong, 0);
	CHECK_INT(atomic_load(&f->nlookup), 20000);
	b->ops->destroy(b);
}

/* --- stress -------------------------------------------------------- */

static const struct coll *const stress_colls[] = {
    &packages,
    &providers,
    &versions_p1,
    &versions_p2,
};
static const struct coll versions_p3 = {KIND_VERSIONS, "p3"};

static const char *const stress_names[] = {
    "pkg-a", "pkg-b", "pkg-c", "pkg-d", "p1",	 "p2",	  "p3",
    "1.0.0", "1.2.3", "0.1.0", "0.2.0", "0.3.0", "ghost",
};
#define STRESS_NNAMES (sizeof(stress_names) / sizeof(stress_names[0]))

struct stress {
	struct backend *b;
	unsigned seed;
	atomic_bool stop;
	atomic_int bad; /* answers no correct cache could give */
	atomic_int ops;
};

static void stress_one(struct stress *s, unsigned *seed)
{
	const struct coll *c = stress_colls[rand_r(seed) % 4];
	const char *name = stress_names[rand_r(seed) % STRESS_NNAMES];
	struct listing *l;
	int op = rand_r(seed) % 100, err;
	size_t i;

	if (op < 40) {
		err = s->b->ops->list(s->b, c, &l);
		if (!err) {
			for (i = 1; i < l->count; i++)
				if (strcmp(l->items[i - 1].name,
					   l->items[i].name) >= 0)
					atomic_fetch_add(&s->bad, 1);
			listing_put(l);
		} else if (err != -ENOENT) {
			atomic_fetch_add(&s->bad, 1);
		}
	} else if (op < 70) {
		err = do_lookup(s->b, c, name);
		if (err && err != -ENOENT)
			atomic_fetch_add(&s->bad, 1);
	} else if (op < 75) {
		bool stale;

		err = do_lookup_stale(s->b, c, name, &stale);
		if ((err && err != -ENOENT) || (err && stale))
			atomic_fetch_add(&s->bad, 1);
	} else if (op < 80) {
		err = s->b->ops->peek(s->b, c, &l);
		if (!err)
			listing_put(l);
		else if (err != -ENODATA)
			atomic_fetch_add(&s->bad, 1);
	} else if (op < 90) {
		/* Providers only with cascade, and rarely. */
		if (c->kind == KIND_PROVIDERS && rand_r(seed) % 8)
			return;
		err = do_remove(s->b, c, name, BACKEND_CASCADE);
		if (err && err != -ENOENT)
			atomic_fetch_add(&s->bad, 1);
	} else if (op < 92) {
		s->b->ops->forget(s->b, rand_r(seed) % 2 ? c : NULL);
	} else {
		/* Time passes: TTLs expire while others work. */
		atomic_fetch_add(&clock_ms, 250);
	}
}

static void *stress_run(void *arg)
{
	struct stress *s = arg;
	unsigned seed = s->seed ^ (unsigned)(uintptr_t)pthread_self();

	while (!atomic_load(&s->stop)) {
		stress_one(s, &seed);
		atomic_fetch_add(&s->ops, 1);
	}
	return NULL;
}

/* The cache's view equals the fake's for every collection and name. */
static void stress_compare(struct fake *f, struct backend *b,
			   const struct coll *c)
{
	struct listing *l;
	size_t i, present = 0;
	int err;

	err = b->ops->list(b, c, &l);
	if (!fake_parent_present(f, c)) {
		CHECK_INT(err, -ENOENT);
		return;
	}
	CHECK_INT(err, 0);
	if (err)
		return;
	for (i = 0; i < FAKE_NITEMS; i++) {
		const struct fake_item *it = &f->items[i];

		if (!fake_match(it, c))
			continue;
		if (it->present)
			present++;
		CHECK((listing_find(l, it->name) != NULL) == it->present);
		CHECK_INT(do_lookup(b, c, it->name), it->present ? 0 : -ENOENT);
	}
	CHECK_INT(listing_live(l), present);
	listing_put(l);
}

static void test_stress_random_calls_stay_consistent(void)
{
	struct fake *f;
	struct backend *b = setup(&f, 3, 1);
	struct stress s = {.b = b, .seed = (unsigned)time(NULL)};
	struct timespec second = {1, 0};
	pthread_t t[NTHREADS];
	int i;

	f->yield = true;
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, stress_run, &s);
	nanosleep(&second, NULL);
	atomic_store(&s.stop, true);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	CHECK_INT(atomic_load(&s.bad), 0);
	CHECK(atomic_load(&s.ops) > 0);
	/* Every delete went through the cache, so it must agree. */
	stress_compare(f, b, &packages);
	stress_compare(f, b, &providers);
	stress_compare(f, b, &versions_p1);
	stress_compare(f, b, &versions_p2);
	stress_compare(f, b, &versions_p3);
	printf("stress: %d calls, seed %u\n", atomic_load(&s.ops), s.seed);
	b->ops->destroy(b);
}

/* test_readahead.c: the readahead's tests, with their own summary. */
int test_readahead(void);

int main(void)
{
	int readahead_failed = test_readahead();

	test_scripts();
	test_second_list_within_ttl_makes_no_request();
	test_list_after_ttl_makes_a_new_request();
	test_listings_of_different_collections_are_kept_apart();
	test_lookup_is_answered_from_a_fresh_listing();
	test_lookup_without_listing_asks_once_then_caches();
	test_eight_threads_at_once_share_one_request();
	test_delete_during_a_list_is_not_undone_by_its_answer();
	test_interrupted_waiter_returns_eintr_at_once();
	test_interrupted_leader_does_not_fail_its_waiter();
	test_remove_marks_gone_and_lookup_needs_no_request();
	test_unreachable_lookup_error_is_kept_for_three_seconds();
	test_errors_from_the_cloud_are_not_kept();
	test_peek_returns_only_a_fresh_listing();
	test_ttl_zero_answers_nothing_expired();
	test_check_passes_through();
	test_destroy_destroys_inner();
	test_wrap_refuses_null();
	test_many_entries_are_swept_and_kept_right();
	test_stress_random_calls_stay_consistent();
	return test_summary() || readahead_failed;
}
