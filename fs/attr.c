/*
 * attr.c - the tree as the kind table lays it out (backend/include/kind.h)
 * and the attributes of its nodes.
 */
#include <string.h>

#include "fs_priv.h"
#include "names.h"

/*
 * The collection a directory lists: a top kind's directory, or an entry
 * whose kind has children (kind.h); false for the other fixed directories.
 */
bool dir_coll(const struct node *dir, struct coll *c)
{
	const struct kind *k = node_entry_kind(dir);

	c->parent = NULL;
	if (dir->kind == NODE_COLL) {
		c->kind = &kind_table[dir->idx];
		return true;
	}
	if (k && k->child) {
		c->kind = k->child;
		c->parent = dir->name;
		return true;
	}
	return false;
}

/*
 * The fixed directories under a fixed directory, from the kind table: the
 * configured services under the root, a service's top kinds that the
 * kinds setting chooses under it.
 */
size_t fixed_children(const struct fs *fs, const struct node *dir,
		      const char *out[KIND_MAX])
{
	size_t n = 0, i;

	if (dir->kind == NODE_ROOT) {
		for (i = 0; i < kind_nservices; i++)
			if (fs->has_service[i])
				out[n++] = kind_services[i].dir;
	} else if (dir->kind == NODE_SERVICE) {
		for (i = 0; i < kind_count; i++)
			if (!kind_table[i].parent && fs->has_kind[i] &&
			    kind_table[i].service->id == dir->idx)
				out[n++] = kind_table[i].name;
	}
	return n;
}

/* ---- attributes ---- */

void attr_init(const struct fs *fs, uint64_t ino, bool dir, struct stat *st)
{
	bool ro = fs->cfg->ro > 0;

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_blksize = 4096;
	if (dir) {
		st->st_mode = S_IFDIR | (ro ? 0555 : 0755);
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | (ro ? 0444 : 0644);
		st->st_nlink = 1;
	}
}

/*
 * A directory links to itself twice ("." and its name) and once from each
 * subdirectory's "..". Only a collection of a kind with children (such as
 * rfs/providers) has subdirectories that are cloud resources: their count
 * is known while its listing is fresh, and 1 says "unknown" otherwise, as
 * btrfs does, so that find(1) does not rely on it.
 */
static nlink_t coll_nlink(const struct fs *fs, const struct kind *kind)
{
	const struct coll coll = {kind, NULL};
	struct listing *l;
	nlink_t count = 0;
	size_t i;

	if (!fs->b->ops->peek || fs->b->ops->peek(fs->b, &coll, &l))
		return 1;
	/* The entries readdir shows, no more. */
	for (i = 0; i < l->count; i++) {
		const char *name = l->items[i].name;

		if (!listing_is_gone(l, i) && name &&
		    strlen(name) <= NAME_MAX_BYTES && name_valid(kind, name))
			count++;
	}
	listing_put(l);
	return 2 + count;
}

void attr_fixed(const struct fs *fs, const struct node *n, struct stat *st)
{
	const char *sub[KIND_MAX];

	attr_init(fs, n->ino, true, st);
	if (n->kind == NODE_COLL && kind_table[n->idx].child)
		st->st_nlink = coll_nlink(fs, &kind_table[n->idx]);
	else
		st->st_nlink = 2 + fixed_children(fs, n, sub);
	st->st_atime = st->st_mtime = st->st_ctime = fs->start;
}

void attr_resource(const struct fs *fs, struct node *n,
		   const struct resource *r, struct stat *st)
{
	time_t t = r->mtime ? r->mtime : fs->start;

	attr_init(fs, n->ino, node_is_dir(n), st);
	if (!node_is_dir(n)) {
		st->st_size = (off_t)r->json_len;
		st->st_blocks = (blkcnt_t)((r->json_len + 511) / 512);
		atomic_store(&n->size, r->json_len > UINT32_MAX
					   ? UINT32_MAX
					   : (uint32_t)r->json_len);
	}
	atomic_store(&n->mtime, (int64_t)t);
	st->st_atime = st->st_mtime = st->st_ctime = t;
}

/*
 * The attributes of a file whose name is gone (deleted here or found
 * missing) while a descriptor still holds it: the last ones told, with no
 * link left, as a local filesystem answers fstat after unlink (POSIX).
 */
void attr_unlinked(const struct fs *fs, struct node *n, struct stat *st)
{
	uint32_t size = atomic_load(&n->size);

	attr_init(fs, n->ino, node_is_dir(n), st);
	st->st_nlink = 0;
	if (!node_is_dir(n)) {
		st->st_size = (off_t)size;
		st->st_blocks = (blkcnt_t)((size + 511) / 512);
	}
	st->st_atime = st->st_mtime = st->st_ctime =
	    (time_t)atomic_load(&n->mtime);
}

void reply_entry(fuse_req_t req, struct fs *fs, struct node *n,
		 const struct stat *st, double timeout)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.ino = n->ino;
	e.attr = *st;
	e.attr_timeout = timeout;
	e.entry_timeout = timeout;
	/* A reply the kernel never got is a lookup it will never forget. */
	if (fuse_reply_entry(req, &e) != 0)
		inode_forget(fs->it, n->ino, 1);
}
