/*
 * readdir.c - directories: opendir takes one listing, which every readdir
 * of that handle serves, so a listing in pages is consistent.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fs_priv.h"
#include "hash.h"
#include "log.h"
#include "names.h"

/* An open directory: the listing it serves, so readdir is consistent. */
struct dir_handle {
	struct listing *l; /* NULL for the fixed directories */
};

void fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct node *n = inode_get(fs->it, ino);
	struct dir_handle *dh;
	bool keep = true;
	struct coll c;
	int ret;

	log_debug("opendir %" PRIu64, (uint64_t)ino);
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (!node_is_dir(n)) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	dh = calloc(1, sizeof(*dh));
	if (!dh) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (dir_coll(n, &c)) {
		struct cancel cn;
		uint64_t gen;
		uint32_t ngone;

		call_begin(req, &cn);
		ret = fs->b->ops->list(fs->b, &c, &dh->l);
		ret = call_end(req, &cn, ret);
		if (ret) {
			if (ret == -ENOENT && n->kind == NODE_ENTRY)
				node_gone(fs, n);
			free(dh);
			reply_errno(req, ret);
			return;
		}
		/*
		 * The kernel's cached pages are this listing only if it
		 * is the one last served, with no entry gone since.
		 */
		gen = dh->l->gen;
		ngone = (uint32_t)atomic_load(&dh->l->ngone);
		keep = atomic_exchange(&n->gen, gen) == gen;
		keep = atomic_exchange(&n->ngone, ngone) == ngone && keep;
		/*
		 * rfs/providers counts its providers in st_nlink: a new
		 * listing changes it. Only the attributes, as in fs_open.
		 */
		if (!keep && n->kind == NODE_COLL && c.kind->child)
			fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
	}
	fi->fh = (uintptr_t)dh;
	if (fs->cfg->cache_ttl > 0) {
		fi->cache_readdir = 1;
		fi->keep_cache = keep;
	}
	if (fuse_reply_open(req, fi) != 0) {
		listing_put(dh->l);
		free(dh);
	}
}

/* An inode number for a plain readdir entry the table does not hold. */
static uint64_t placeholder_ino(const char *name)
{
	return hash_str(HASH_SEED, name) | (1ULL << 63);
}

struct dir_reply {
	char *buf;
	size_t size, used;
	uint64_t *taken; /* nodes counted a lookup, undone if undelivered */
	size_t ntaken, captaken;
};

/*
 * Adds one entry at offset next; false when it does not fit. With plus,
 * n (if any) gets a lookup counted; the fixed "." and ".." carry none.
 */
static bool dir_add(fuse_req_t req, struct fs *fs, struct dir_reply *dr,
		    bool plus, const char *name, struct node *n,
		    const struct stat *st, off_t next)
{
	size_t rem = dr->size - dr->used, len;

	if (!plus) {
		len = fuse_add_direntry(req, dr->buf + dr->used, rem, name, st,
					next);
	} else {
		struct fuse_entry_param e;

		memset(&e, 0, sizeof(e));
		e.ino = n ? n->ino : 0;
		e.attr = *st;
		e.attr_timeout = fs->timeout;
		e.entry_timeout = fs->timeout;
		if (n && dr->ntaken == dr->captaken) {
			size_t cap = dr->captaken ? dr->captaken * 2 : 64;
			uint64_t *t = realloc(dr->taken, cap * sizeof(*t));

			if (!t) {
				inode_forget(fs->it, n->ino, 1);
				return false;
			}
			dr->taken = t;
			dr->captaken = cap;
		}
		len = fuse_add_direntry_plus(req, dr->buf + dr->used, rem, name,
					     &e, next);
		if (n) {
			if (len > rem)
				inode_forget(fs->it, n->ino, 1);
			else
				dr->taken[dr->ntaken++] = n->ino;
		}
	}
	if (len > rem)
		return false;
	dr->used += len;
	return true;
}

/* What one offset of a directory gives. */
enum dir_step {
	DIR_ADD,  /* an entry: name, its attributes, its node if plus */
	DIR_SKIP, /* nothing at this offset */
	DIR_END,  /* past the end, or out of memory */
};

/* "." (pos 0) and ".." (pos 1); they carry no node. */
static enum dir_step dir_dot(struct fs *fs, struct node *dir, off_t pos,
			     const char **name, struct stat *st)
{
	uint64_t dino = dir->ino;

	if (pos == 1)
		dino = dir->parent ? dir->parent->ino : dir->ino;
	attr_init(fs, dino, true, st);
	*name = pos ? ".." : ".";
	return DIR_ADD;
}

/* Entry i of a fixed directory (the kind table's services or kinds). */
static enum dir_step dir_fixed(struct fs *fs, struct node *dir,
			       const char *const *sub, size_t nsub, size_t i,
			       bool plus, const char **name, struct node **n,
			       struct stat *st)
{
	if (i >= nsub)
		return DIR_END;
	*name = sub[i];
	if (plus)
		*n = inode_lookup(fs->it, dir, *name, NODE_ROOT, 0);
	else
		*n = inode_get(fs->it, inode_peek(fs->it, dir, *name));
	if (!*n)
		return DIR_END;
	attr_fixed(fs, *n, st);
	return DIR_ADD;
}

/*
 * Entry i of a listing of kind's entries. With plus, its node gets a
 * lookup counted; without, an inode number the table has, else a
 * placeholder.
 */
static enum dir_step dir_listed(struct fs *fs, struct node *dir,
				const struct listing *l,
				const struct kind *kind, size_t i, bool plus,
				const char **name, struct node **n,
				struct stat *st)
{
	const struct resource *r;
	uint64_t cino;

	if (i >= l->count)
		return DIR_END;
	r = &l->items[i];
	*name = r->name;
	/* Deleted since, or a name no file can have. */
	if (listing_is_gone(l, i) || !name_safe(*name))
		return DIR_SKIP;
	if (plus) {
		*n = inode_lookup(fs->it, dir, *name, NODE_ENTRY,
				  kind_index(kind));
		if (!*n)
			return DIR_END;
		attr_resource(fs, *n, r, st);
		return DIR_ADD;
	}
	cino = inode_peek(fs->it, dir, *name);
	attr_init(fs, cino ? cino : placeholder_ino(*name), kind->child != NULL,
		  st);
	return DIR_ADD;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	struct fs *fs = req_fs(req);
	struct dir_handle *dh = (struct dir_handle *)(uintptr_t)fi->fh;
	struct node *dir = inode_get(fs->it, ino);
	struct dir_reply dr = {0};
	const char *sub[KIND_MAX];
	size_t nsub = 0, i;
	struct coll c = {0};
	struct stat st;
	off_t pos;

	log_debug("readdir%s %" PRIu64 " at %lld", plus ? "plus" : "",
		  (uint64_t)ino, (long long)off);
	if (!dir || off < 0) {
		fuse_reply_err(req, dir ? EINVAL : ENOENT);
		return;
	}
	dr.buf = malloc(size ? size : 1);
	if (!dr.buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	dr.size = size;
	if (dh->l)
		dir_coll(dir, &c);
	else
		nsub = fixed_children(fs, dir, sub);

	/* Offsets: 1 after ".", 2 after "..", k + 3 after entry k. */
	for (pos = off;; pos++) {
		struct node *n = NULL;
		const char *name = NULL;
		enum dir_step step;

		if (pos < 2)
			step = dir_dot(fs, dir, pos, &name, &st);
		else if (!dh->l)
			step = dir_fixed(fs, dir, sub, nsub, (size_t)(pos - 2),
					 plus, &name, &n, &st);
		else
			step =
			    dir_listed(fs, dir, dh->l, c.kind,
				       (size_t)(pos - 2), plus, &name, &n, &st);
		if (step == DIR_END)
			break;
		if (step == DIR_SKIP)
			continue;
		if (!dir_add(req, fs, &dr, plus, name, plus ? n : NULL, &st,
			     pos + 1))
			break;
	}
	if (fuse_reply_buf(req, dr.buf, dr.used) != 0) {
		for (i = 0; i < dr.ntaken; i++)
			inode_forget(fs->it, dr.taken[i], 1);
	}
	free(dr.taken);
	free(dr.buf);
}

void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

void fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

void fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dir_handle *dh = (struct dir_handle *)(uintptr_t)fi->fh;

	(void)ino;
	if (dh) {
		listing_put(dh->l);
		free(dh);
	}
	fuse_reply_err(req, 0);
}
