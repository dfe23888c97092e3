/*
 * test_resource.c - listings sort, drop duplicate names, stop at their
 * bound and find by name; references keep a listing alive.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "test.h"

/*
 * calloc is wrapped at link time (tests/unit/meson.build), so that a test
 * can make the next allocation fail.
 */
static bool calloc_fails;
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);

void *__wrap_calloc(size_t n, size_t size)
{
	if (calloc_fails)
		return NULL;
	return __real_calloc(n, size);
}

static void add(struct listing *l, const char *name, const char *json)
{
	struct resource r = {0};

	r.name = strdup(name);
	r.json = strdup(json);
	r.json_len = strlen(json);
	CHECK(listing_add(l, &r) == 0);
	CHECK(r.name == NULL);
}

static void test_listing_sorts_and_drops_duplicates(void)
{
	struct listing *l = listing_new();
	const struct resource *r;
	size_t repeated;

	add(l, "b", "{}\n");
	add(l, "a", "{}\n");
	add(l, "c", "{}\n");
	add(l, "b", "{\"dup\":1}\n");
	CHECK_INT(listing_finish(l, &repeated), 0);
	CHECK_INT(repeated, 1);
	CHECK_INT(l->count, 3);
	CHECK_STR(l->items[0].name, "a");
	CHECK_STR(l->items[1].name, "b");
	CHECK_STR(l->items[2].name, "c");
	r = listing_find(l, "c");
	CHECK(r && strcmp(r->name, "c") == 0);
	CHECK(listing_find(l, "d") == NULL);
	listing_put(l);
}

static void test_listing_keeps_the_first_of_a_repeated_name(void)
{
	struct listing *l = listing_new();
	size_t repeated;

	add(l, "b", "{\"first\":1}\n");
	add(l, "b", "{\"dup\":1}\n");
	/* A walk sees a page of repeats by the count: it did not grow. */
	CHECK_INT(l->count, 1);
	CHECK_INT(listing_finish(l, &repeated), 0);
	CHECK_INT(repeated, 1);
	CHECK_STR(listing_find(l, "b")->json, "{\"first\":1}\n");
	listing_put(l);
}

static int add_sized(struct listing *l, const char *name, size_t json_len)
{
	struct resource r = {0};
	int ret;

	r.name = strdup(name);
	r.json = calloc(1, json_len + 1);
	r.json_len = json_len;
	ret = listing_add(l, &r);
	resource_clear(&r);
	return ret;
}

static void test_listing_is_bounded_by_entries(void)
{
	struct listing *l = listing_new();
	char name[32];
	size_t i;
	int ret = 0;

	for (i = 0; i < LISTING_MAX_ENTRIES && !ret; i++) {
		snprintf(name, sizeof(name), "p%zu", i);
		ret = add_sized(l, name, 2);
	}
	CHECK_INT(ret, 0);
	CHECK_INT(l->count, LISTING_MAX_ENTRIES);
	CHECK_INT(add_sized(l, "one-more", 2), -EFBIG);
	/* A repeat adds nothing, so it is no reason to refuse. */
	CHECK_INT(add_sized(l, "p7", 2), 0);
	CHECK_INT(l->count, LISTING_MAX_ENTRIES);
	CHECK_INT(listing_finish(l, NULL), 0);
	CHECK(listing_find(l, "p99999") != NULL);
	listing_put(l);
}

static void test_listing_is_bounded_by_bytes(void)
{
	struct listing *l = listing_new();
	size_t each = 256u << 10, i, fit = 0;
	char name[32];
	int ret = 0;

	for (i = 0; !ret; i++) {
		snprintf(name, sizeof(name), "p%zu", i);
		ret = add_sized(l, name, each);
		if (!ret)
			fit++;
	}
	CHECK_INT(ret, -EFBIG);
	/* 256 entries of 256 KiB fill 64 MiB but for their names. */
	CHECK_INT(fit, LISTING_MAX_BYTES / each - 1);
	CHECK(l->bytes <= LISTING_MAX_BYTES);
	listing_put(l);
}

static void test_listing_gens_differ_and_refs_keep_it(void)
{
	struct listing *a = listing_new(), *b = listing_new();

	CHECK(a->gen != b->gen);
	add(a, "x", "{}\n");
	CHECK_INT(listing_finish(a, NULL), 0);
	listing_get(a);
	listing_put(a);
	CHECK_STR(listing_find(a, "x")->name, "x");
	listing_put(a);
	listing_put(b);
}

static void test_gone_entries_keep_indexes(void)
{
	struct listing *l = listing_new();

	add(l, "a", "{}\n");
	add(l, "b", "{}\n");
	add(l, "c", "{}\n");
	CHECK_INT(listing_finish(l, NULL), 0);
	CHECK(listing_mark_gone(l, "b"));
	CHECK(!listing_mark_gone(l, "b"));
	CHECK(!listing_mark_gone(l, "zz"));
	CHECK(listing_find(l, "b") == NULL);
	CHECK_INT(listing_index(l, "b"), 1);
	CHECK(listing_is_gone(l, 1));
	CHECK(!listing_is_gone(l, 2));
	CHECK_INT(listing_live(l), 2);
	CHECK_STR(listing_find(l, "c")->name, "c");
	listing_put(l);
}

static void test_resource_copy_is_deep(void)
{
	struct resource src = {0}, dst;

	src.name = strdup("p");
	src.provider_id = strdup("id");
	src.json = strdup("{}\n");
	src.json_len = 3;
	src.mtime = 42;
	CHECK(resource_copy(&dst, &src) == 0);
	CHECK(dst.name != src.name);
	CHECK_STR(dst.provider_id, "id");
	CHECK_INT(dst.json_len, 3);
	CHECK_INT(dst.mtime, 42);
	resource_clear(&src);
	CHECK_STR(dst.name, "p");
	resource_clear(&dst);
	CHECK(dst.name == NULL);
}

static void test_coll_path(void)
{
	char buf[64];
	struct coll c = {KIND_VERSIONS, "prov"};

	CHECK(coll_path(&c, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "rfs/providers/prov");
	CHECK(coll_path(&c, buf, 5) < 0);
}

/* A listing that could not mark a delete would show the deleted again. */
static void test_listing_finish_fails_without_its_gone_flags(void)
{
	struct listing *l = listing_new();

	add(l, "a", "{}\n");
	calloc_fails = true;
	CHECK_INT(listing_finish(l, NULL), -ENOMEM);
	calloc_fails = false;
	listing_put(l);
}

/* The rows the tests name (test.h) are the ones the table names so. */
static void test_kind_table(void)
{
	char buf[64];
	struct coll c = {KIND_PACKAGES, NULL};

	CHECK(kind_find("packages") == KIND_PACKAGES);
	CHECK(kind_find("providers") == KIND_PROVIDERS);
	CHECK(kind_find("versions") == KIND_VERSIONS);
	CHECK(kind_find("nothing") == NULL);
	CHECK(KIND_PROVIDERS->child == KIND_VERSIONS);
	CHECK(KIND_VERSIONS->parent == KIND_PROVIDERS);
	CHECK(coll_path(&c, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "iotda/packages");
	c.kind = KIND_PROVIDERS;
	CHECK(coll_path(&c, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "rfs/providers");
}

int main(void)
{
	test_listing_sorts_and_drops_duplicates();
	test_kind_table();
	test_listing_keeps_the_first_of_a_repeated_name();
	test_listing_is_bounded_by_entries();
	test_listing_is_bounded_by_bytes();
	test_listing_gens_differ_and_refs_keep_it();
	test_gone_entries_keep_indexes();
	test_listing_finish_fails_without_its_gone_flags();
	test_resource_copy_is_deep();
	test_coll_path();
	return test_summary();
}
