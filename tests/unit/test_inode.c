/*
 * test_inode.c - the inode table: lookups count, forgets free, a deleted
 * name comes back as a new inode, parents outlive their children.
 */
#include "../../fs/inode.h"

#include "test.h"

static void test_lookup_counts_and_forget_frees(void)
{
	struct inode_table *t;
	struct node *pk, *a, *b;
	uint64_t ino;

	CHECK_INT(inode_table_new(&t), 0);
	pk = inode_get(t, INO_PACKAGES);
	CHECK(pk != NULL);
	a = inode_lookup(t, pk, "pkg-1", NODE_ENTRY, 0);
	b = inode_lookup(t, pk, "pkg-1", NODE_ENTRY, 0);
	CHECK(a == b);
	CHECK_INT(a->nlookup, 2);
	ino = a->ino;
	CHECK_INT(inode_peek(t, pk, "pkg-1"), ino);
	inode_forget(t, ino, 1);
	CHECK(inode_get(t, ino) == a);
	inode_forget(t, ino, 1);
	CHECK(inode_get(t, ino) == NULL);
	CHECK_INT(inode_peek(t, pk, "pkg-1"), 0);
	/* The same name again is a new inode number. */
	a = inode_lookup(t, pk, "pkg-1", NODE_ENTRY, 0);
	CHECK(a->ino != ino);
	inode_table_free(t);
}

static void test_unhashed_name_gets_a_new_node(void)
{
	struct inode_table *t;
	struct node *pk, *old, *fresh;
	uint64_t old_ino;

	CHECK_INT(inode_table_new(&t), 0);
	pk = inode_get(t, INO_PACKAGES);
	old = inode_lookup(t, pk, "gone", NODE_ENTRY, 0);
	old_ino = old->ino;
	inode_unhash(t, pk, "gone");
	fresh = inode_lookup(t, pk, "gone", NODE_ENTRY, 0);
	CHECK(fresh != old && fresh->ino != old_ino);
	/* The old node lives until the kernel forgets it. */
	CHECK(inode_get(t, old_ino) == old);
	inode_forget(t, old_ino, 1);
	CHECK(inode_get(t, old_ino) == NULL);
	CHECK(inode_get(t, fresh->ino) == fresh);
	inode_table_free(t);
}

static void test_unhashed_node_says_it_is_unlinked(void)
{
	struct inode_table *t;
	struct node *pk, *n;

	CHECK_INT(inode_table_new(&t), 0);
	pk = inode_get(t, INO_PACKAGES);
	n = inode_lookup(t, pk, "open-one", NODE_ENTRY, 0);
	CHECK(!inode_unlinked(t, n));
	inode_unhash(t, pk, "open-one");
	CHECK(inode_unlinked(t, n));
	/* The fixed directories are never unlinked. */
	inode_unhash(t, inode_get(t, INO_IOTDA), "packages");
	CHECK(!inode_unlinked(t, pk));
	inode_table_free(t);
}

static void test_parent_outlives_children(void)
{
	struct inode_table *t;
	struct node *prov, *ver;
	uint64_t pino, vino;

	CHECK_INT(inode_table_new(&t), 0);
	prov =
	    inode_lookup(t, inode_get(t, INO_PROVIDERS), "prov", NODE_ENTRY, 1);
	ver = inode_lookup(t, prov, "1.0.0", NODE_ENTRY, 2);
	pino = prov->ino;
	vino = ver->ino;
	inode_forget(t, pino, 1);
	CHECK(inode_get(t, pino) == prov);
	inode_forget(t, vino, 1);
	CHECK(inode_get(t, vino) == NULL);
	CHECK(inode_get(t, pino) == NULL);
	inode_table_free(t);
}

static void test_fixed_dirs_are_never_freed(void)
{
	struct inode_table *t;

	CHECK_INT(inode_table_new(&t), 0);
	inode_forget(t, INO_ROOT, 1000);
	inode_forget(t, INO_PROVIDERS, 1000);
	CHECK(inode_get(t, INO_ROOT) != NULL);
	CHECK(inode_get(t, INO_PROVIDERS) != NULL);
	CHECK(inode_get(t, INO_PACKAGES)->parent->ino == INO_IOTDA);
	inode_table_free(t);
}

static void test_100k_nodes_stay_findable(void)
{
	struct inode_table *t;
	struct node *pk, *n;
	char name[32];
	int i, found = 0;
	size_t fixed;

	CHECK_INT(inode_table_new(&t), 0);
	/* the fixed directories: as many as the kind table makes */
	fixed = inode_count(t);
	pk = inode_get(t, INO_PACKAGES);
	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "%024x", i);
		inode_lookup(t, pk, name, NODE_ENTRY, 0);
	}
	CHECK_INT(inode_count(t), 100000 + fixed);
	for (i = 0; i < 100000; i += 997) {
		snprintf(name, sizeof(name), "%024x", i);
		n = inode_get(t, inode_peek(t, pk, name));
		found += n && strcmp(n->name, name) == 0;
	}
	CHECK_INT(found, (100000 + 996) / 997);
	inode_table_free(t);
}

/* The fixed directories get their numbers from the kind table. */
static void test_fixed_numbers(void)
{
	struct inode_table *t;

	CHECK_INT(inode_table_new(&t), 0);
	CHECK_STR(inode_get(t, INO_IOTDA)->name, "iotda");
	CHECK_STR(inode_get(t, INO_PACKAGES)->name, "packages");
	CHECK_STR(inode_get(t, INO_RFS)->name, "rfs");
	CHECK_STR(inode_get(t, INO_PROVIDERS)->name, "providers");
	CHECK(inode_get(t, INO_PROVIDERS)->kind == NODE_COLL);
	CHECK(inode_get(t, INO_RFS)->kind == NODE_SERVICE);
	CHECK(inode_get(t, INO_PROVIDERS)->parent->ino == INO_RFS);
	inode_table_free(t);
}

int main(void)
{
	test_fixed_numbers();
	test_lookup_counts_and_forget_frees();
	test_unhashed_name_gets_a_new_node();
	test_unhashed_node_says_it_is_unlinked();
	test_parent_outlives_children();
	test_fixed_dirs_are_never_freed();
	test_100k_nodes_stay_findable();
	return test_summary();
}
