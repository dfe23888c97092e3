/*
 * fs.c - the FUSE low-level operations on entries (lookup, getattr, unlink,
 * rmdir, open, read), the operations table and the mount's life cycle;
 * errnos from the backend. Knows nothing of HTTP. fs_priv.h lists the
 * other files of fs/.
 */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "fs_priv.h"
#include "hash.h"
#include "log.h"
#include "missing.h"
#include "names.h"

/*
 * The kernel's entry and attribute timeout of a package answered from an
 * expired listing without asking the cloud (see fs_lookup): long enough for
 * the stat and the unlink of one `rm`, short enough that `stat` soon asks.
 */
#define EXPIRED_ANSWER_SECONDS 1.0

/* An open file: its content as it was at open. */
/*
 * An open file: its content as it was at open, never changed, so a read
 * replies straight from it. A read holds a reference while it replies:
 * release may come from another thread once the kernel has the data.
 */
struct open_file {
	char *json;
	size_t len;
	atomic_uint refs;
};

static void open_file_put(struct open_file *fh)
{
	if (atomic_fetch_sub(&fh->refs, 1) == 1) {
		free(fh->json);
		free(fh);
	}
}

/*
 * A name confirmed missing: an entry of inode 0 lets the kernel answer
 * it alone for negative_ttl (docs/hwcfs.md), as long as a refresh can
 * still reach it through the missing table.
 */
static void reply_missing(fuse_req_t req, struct fs *fs, fuse_ino_t parent,
			  const char *name)
{
	struct fuse_entry_param e;

	if (fs->negative_timeout <= 0 ||
	    missing_add(fs->missing, parent, name, fs->negative_timeout)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.entry_timeout = fs->negative_timeout;
	fuse_reply_entry(req, &e);
}

/* ---- interrupts ---- */

/* Called by libfuse, on the thread that read the kernel's interrupt. */
static void on_interrupt(fuse_req_t req, void *arg)
{
	(void)req;
	cancel_fire(arg);
}

/*
 * Brackets a backend call that may wait on the cloud: an interrupt of req
 * (Ctrl-C, a killed caller) fires cn meanwhile, and the layers below give
 * up at once with -EINTR (docs/hwcfs.md, "Interrupts").
 */
void call_begin(fuse_req_t req, struct cancel *cn)
{
	cancel_begin(cn);
	fuse_req_interrupt_func(req, on_interrupt, cn);
}

/*
 * Ends the bracket before any reply (a reply frees req). libfuse calls
 * on_interrupt under the request's lock, which unregistering takes: once
 * this returns, nothing fires cn any more.
 */
int call_end(fuse_req_t req, struct cancel *cn, int ret)
{
	fuse_req_interrupt_func(req, NULL, NULL);
	cancel_end(cn);
	return ret;
}

/* The resource a node shows, looked up in its parent's collection. */
int node_resource(fuse_req_t req, struct fs *fs, struct node *n,
		  struct resource *r)
{
	struct cancel cn;
	struct coll c;
	int ret;

	if (!n->parent || !dir_coll(n->parent, &c))
		return -ENOENT;
	call_begin(req, &cn);
	ret = fs->b->ops->lookup(fs->b, &c, n->name, r);
	return call_end(req, &cn, ret);
}

/* The backend says the name is gone: so will the kernel. */
void node_gone(struct fs *fs, struct node *n)
{
	if (!n->parent)
		return;
	inode_unhash(fs->it, n->parent, n->name);
	invalidate_entry(fs, n->parent, n->name);
}

bool node_resource_or_reply(fuse_req_t req, struct fs *fs, struct node *n,
			    struct resource *r)
{
	int ret = node_resource(req, fs, n, r);

	if (!ret)
		return true;
	if (ret == -ENOENT)
		node_gone(fs, n);
	reply_errno(req, ret);
	return false;
}

/* ---- operations ---- */

static void fs_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* Always readdirplus: `ls -l` then costs no request per entry. */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

/*
 * The directory of an entry call (lookup, unlink, rmdir) and the checks
 * they share, before any request: 0, or the errno to reply.
 */
static int entry_dir(struct fs *fs, fuse_ino_t parent, const char *name,
		     struct node **dir)
{
	*dir = inode_get(fs->it, parent);
	if (!*dir)
		return ENOENT;
	if (!node_is_dir(*dir))
		return ENOTDIR;
	if (strlen(name) > NAME_MAX_BYTES)
		return ENAMETOOLONG;
	return 0;
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = req_fs(req);
	struct node *dir, *n;
	struct resource r;
	bool stale = false;
	struct cancel cn;
	struct stat st;
	struct coll c;
	int ret;

	log_debug("lookup %" PRIu64 "/%s", (uint64_t)parent, name);
	ret = entry_dir(fs, parent, name, &dir);
	if (ret) {
		fuse_reply_err(req, ret);
		return;
	}
	if (!dir_coll(dir, &c)) {
		const char *sub[KIND_MAX];
		size_t i, count = fixed_children(fs, dir, sub);

		for (i = 0; i < count; i++) {
			if (strcmp(sub[i], name) == 0)
				break;
		}
		if (i == count) {
			reply_missing(req, fs, parent, name);
			return;
		}
		n = inode_lookup(fs->it, dir, name, NODE_ROOT, 0);
		if (!n) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		attr_fixed(fs, n, &st);
		reply_entry(req, fs, n, &st, fs->timeout);
		return;
	}
	/*
	 * The backend answers a name nobody listed that cannot be an
	 * identifier with ENOENT, and no request. The kernel looks a name up
	 * again before it unlinks it once its entry has expired. A package
	 * needs nothing more than its name to be deleted, so a package listed
	 * before may be answered from that listing, once and briefly, and `rm`
	 * then costs only the DELETE (docs/hwcfs.md). Kinds with a strong id
	 * are deleted with the id of a fresh lookup anyway.
	 */
	call_begin(req, &cn);
	if (c.kind->delete_by_name && fs->b->ops->lookup_stale)
		ret = fs->b->ops->lookup_stale(fs->b, &c, name, &r, &stale);
	else
		ret = fs->b->ops->lookup(fs->b, &c, name, &r);
	ret = call_end(req, &cn, ret);
	if (ret == -ENOENT) {
		reply_missing(req, fs, parent, name);
		return;
	}
	if (ret) {
		reply_errno(req, ret);
		return;
	}
	n = inode_lookup(fs->it, dir, name, NODE_ENTRY, kind_index(c.kind));
	if (!n) {
		resource_clear(&r);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	attr_resource(fs, n, &r, &st);
	resource_clear(&r);
	reply_entry(req, fs, n, &st,
		    stale ? EXPIRED_ANSWER_SECONDS : fs->timeout);
}

static void fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	inode_forget(req_fs(req)->it, ino, nlookup);
	fuse_reply_none(req);
}

static void fs_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct fs *fs = req_fs(req);
	size_t i;

	for (i = 0; i < count; i++)
		inode_forget(fs->it, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct node *n = inode_get(fs->it, ino);
	struct resource r;
	bool unlinked;
	struct stat st;
	int ret;

	(void)fi;
	log_debug("getattr %" PRIu64, (uint64_t)ino);
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (n->kind < NODE_ENTRY) {
		attr_fixed(fs, n, &st);
		fuse_reply_attr(req, &st, fs->timeout);
		return;
	}
	/*
	 * The kernel asks for the attributes of an inode whose name is gone
	 * only for a descriptor still open on it (fstat after rm).
	 */
	unlinked = inode_unlinked(fs->it, n);
	ret = unlinked ? -ENOENT : node_resource(req, fs, n, &r);
	if (ret == -ENOENT && (unlinked || atomic_load(&n->opens))) {
		if (!unlinked)
			node_gone(fs, n);
		attr_unlinked(fs, n, &st);
		fuse_reply_attr(req, &st, fs->timeout);
		return;
	}
	if (ret) {
		if (ret == -ENOENT)
			node_gone(fs, n);
		reply_errno(req, ret);
		return;
	}
	attr_resource(fs, n, &r, &st);
	resource_clear(&r);
	fuse_reply_attr(req, &st, fs->timeout);
}

static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	(void)ino, (void)attr, (void)to_set, (void)fi;
	fuse_reply_err(req, refused(req_fs(req)));
}

static void fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	(void)parent, (void)name, (void)mode, (void)rdev;
	fuse_reply_err(req, refused(req_fs(req)));
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	(void)parent, (void)name, (void)mode;
	fuse_reply_err(req, refused(req_fs(req)));
}

static void fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	(void)link, (void)parent, (void)name;
	fuse_reply_err(req, refused(req_fs(req)));
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	(void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
	fuse_reply_err(req, refused(req_fs(req)));
}

static void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	(void)ino, (void)newparent, (void)newname;
	fuse_reply_err(req, refused(req_fs(req)));
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	(void)parent, (void)name, (void)mode, (void)fi;
	fuse_reply_err(req, refused(req_fs(req)));
}

static void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino, (void)buf, (void)size, (void)off, (void)fi;
	fuse_reply_err(req, refused(req_fs(req)));
}

static int resource_named(struct resource *r, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->name = strdup(name);
	return r->name ? 0 : -ENOMEM;
}

/* unlink of a file entry (package, version), rmdir of a directory one
 * (provider). */
static void fs_remove(fuse_req_t req, fuse_ino_t parent, const char *name,
		      bool isdir)
{
	struct fs *fs = req_fs(req);
	struct node *dir;
	struct resource r;
	unsigned flags = 0;
	struct cancel cn;
	struct coll c;
	int ret;

	log_debug("%s %" PRIu64 "/%s", isdir ? "rmdir" : "unlink",
		  (uint64_t)parent, name);
	if (fs->cfg->ro > 0) {
		fuse_reply_err(req, EROFS);
		return;
	}
	ret = entry_dir(fs, parent, name, &dir);
	if (ret) {
		fuse_reply_err(req, ret);
		return;
	}
	if (!dir_coll(dir, &c)) {
		/* The fixed directories are not the cloud's to delete. */
		fuse_reply_err(req, EPERM);
		return;
	}
	if (isdir != (c.kind->child != NULL)) {
		fuse_reply_err(req, isdir ? ENOTDIR : EISDIR);
		return;
	}
	if (stale_take(fs, parent, name)) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	/*
	 * A package's DELETE needs only its id and says itself whether it
	 * existed (404). Kinds with a strong id need the id it must match;
	 * a dry run asks, to fail as a real one would; min_age, for the age.
	 */
	if (c.kind->delete_by_name && fs->cfg->dry_run <= 0 &&
	    fs->cfg->min_age <= 0)
		ret = resource_named(&r, name);
	else {
		call_begin(req, &cn);
		ret = fs->b->ops->lookup(fs->b, &c, name, &r);
		ret = call_end(req, &cn, ret);
	}
	if (ret) {
		reply_errno(req, ret);
		/* Gone already: so should the kernel's entry be. */
		if (ret == -ENOENT) {
			inode_unhash(fs->it, dir, name);
			invalidate_entry(fs, dir, name);
		}
		return;
	}
	if (isdir && fs->cfg->rmdir_cascade > 0)
		flags |= BACKEND_CASCADE;
	/* Interrupted, it sends no new DELETE, but lets a sent one end. */
	call_begin(req, &cn);
	ret = fs->b->ops->remove(fs->b, &c, &r, flags);
	ret = call_end(req, &cn, ret);
	resource_clear(&r);
	if (ret) {
		log_debug("%s %s: %s", isdir ? "rmdir" : "unlink", name,
			  strerror(-ret));
		if (ret == -ESTALE)
			stale_remember(fs, parent, name);
		reply_errno(req, ret);
		if (ret == -ENOENT) {
			inode_unhash(fs->it, dir, name);
			invalidate_entry(fs, dir, name);
		}
		return;
	}
	inode_unhash(fs->it, dir, name);
	if (c.kind->child) {
		/* A provider created again under this name starts afresh. */
		struct coll children = {c.kind->child, name};

		fs->b->ops->forget(fs->b, &children);
	}
	fuse_reply_err(req, 0);
	/*
	 * The kernel drops the dentry itself on success; the notices also
	 * drop the directory's cached pages, and run on the notifier thread
	 * because this request holds the directory's lock until it returns.
	 */
	invalidate_entry(fs, dir, name);
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs_remove(req, parent, name, false);
}

static void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs_remove(req, parent, name, true);
}

static uint32_t content_hash(const char *s, size_t len)
{
	uint64_t h64 = hash_bytes(HASH_SEED, s, len);
	uint32_t h = (uint32_t)(h64 ^ (h64 >> 32));

	return h ? h : 1; /* 0 means never opened */
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct node *n = inode_get(fs->it, ino);
	struct open_file *fh;
	struct resource r;
	uint32_t hash, size;

	log_debug("open %" PRIu64, (uint64_t)ino);
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (node_is_dir(n)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, refused(fs));
		return;
	}
	if (!node_resource_or_reply(req, fs, n, &r))
		return;
	fh = calloc(1, sizeof(*fh));
	if (!fh) {
		resource_clear(&r);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fh->json = r.json;
	fh->len = r.json_len;
	atomic_init(&fh->refs, 1);
	r.json = NULL;
	resource_clear(&r);

	hash = content_hash(fh->json ? fh->json : "", fh->len);
	fi->keep_cache = atomic_exchange(&n->hash, hash) == hash;
	size = fh->len > UINT32_MAX ? UINT32_MAX : (uint32_t)fh->len;
	if (atomic_exchange(&n->size, size) != size) {
		/*
		 * The kernel's st_size is older than this content: let it
		 * ask again, or a read would stop at the old size. Only the
		 * attributes: no lock of the open is involved.
		 */
		fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
	}
	fi->fh = (uintptr_t)fh;
	atomic_fetch_add(&n->opens, 1);
	if (fuse_reply_open(req, fi) != 0) {
		atomic_fetch_sub(&n->opens, 1);
		open_file_put(fh);
	}
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct open_file *fh = (struct open_file *)(uintptr_t)fi->fh;

	(void)ino;
	if (off < 0 || (uint64_t)off >= fh->len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > fh->len - (size_t)off)
		size = fh->len - (size_t)off;
	/*
	 * Straight from the content the open file owns, no copy. Once the
	 * kernel has the data it may send release on another thread while
	 * writev still returns here: the reference keeps fh until then.
	 */
	atomic_fetch_add(&fh->refs, 1);
	fuse_reply_buf(req, fh->json + off, size);
	open_file_put(fh);
}

static void fs_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct open_file *fh = (struct open_file *)(uintptr_t)fi->fh;
	struct node *n = inode_get(req_fs(req)->it, ino);

	if (n)
		atomic_fetch_sub(&n->opens, 1);
	if (fh)
		open_file_put(fh);
	fuse_reply_err(req, 0);
}

static void fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = req_fs(req);
	struct statvfs sv;

	(void)ino;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_namemax = NAME_MAX_BYTES;
	sv.f_files = inode_count(fs->it);
	fuse_reply_statfs(req, &sv);
}

/* Drops the backend's and the kernel's copy of what n lists. */

static const struct fuse_lowlevel_ops fs_lowlevel_ops = {
    .init = fs_init,
    .lookup = fs_lookup,
    .forget = fs_forget,
    .forget_multi = fs_forget_multi,
    .getattr = fs_getattr,
    .setattr = fs_setattr,
    .mknod = fs_mknod,
    .mkdir = fs_mkdir,
    .unlink = fs_unlink,
    .rmdir = fs_rmdir,
    .symlink = fs_symlink,
    .rename = fs_rename,
    .link = fs_link,
    .create = fs_create,
    .open = fs_open,
    .read = fs_read,
    .write = fs_write,
    .release = fs_release,
    .opendir = fs_opendir,
    .readdir = fs_readdir,
    .readdirplus = fs_readdirplus,
    .releasedir = fs_releasedir,
    .statfs = fs_statfs,
    .setxattr = fs_setxattr,
    .getxattr = fs_getxattr,
    .listxattr = fs_listxattr,
    .removexattr = fs_removexattr,
};

const struct fuse_lowlevel_ops *fs_ops(void)
{
	return &fs_lowlevel_ops;
}

/* ---- life cycle ---- */

int fs_new(const struct hwc_config *cfg, struct fs **out)
{
	struct fs *fs = calloc(1, sizeof(*fs));
	int ret;

	*out = NULL;
	if (!fs)
		return -ENOMEM;
	ret = inode_table_new(&fs->it);
	if (ret) {
		free(fs);
		return ret;
	}
	fs->cfg = cfg;
	atomic_init(&fs->sig_stop, false);
	ret = notify_init(fs);
	if (!ret) {
		ret = -pthread_mutex_init(&fs->stale_lock, NULL);
		if (!ret)
			fs->locks = 3;
	}
	if (!ret)
		ret = missing_table_new(&fs->missing);
	if (ret) {
		fs_free(fs);
		return ret;
	}
	*out = fs;
	return 0;
}

void fs_set_backend(struct fs *fs, struct backend *b)
{
	fs->b = b;
	fs->uid = getuid();
	fs->gid = getgid();
	fs->start = time(NULL);
	fs->timeout = fs->cfg->cache_ttl > 0 ? fs->cfg->cache_ttl : 1;
	/* cache_ttl=0 caches nothing, missing names neither. */
	fs->negative_timeout =
	    fs->cfg->cache_ttl > 0 && fs->cfg->negative_ttl > 0
		? fs->cfg->negative_ttl
		: 0;
	for (size_t i = 0; i < kind_nservices; i++)
		fs->has_service[i] =
		    kind_service_configured(&kind_services[i], fs->cfg);
	for (size_t i = 0; i < kind_count; i++)
		fs->has_kind[i] = kind_shown(&kind_table[i], fs->cfg);
}

int fs_start(struct fs *fs, struct fuse_session *se)
{
	int ret;

	fs->se = se;
	ret = notify_start(fs);
	if (!ret)
		ret = refresh_start(fs);
	if (ret)
		fs_stop(fs);
	return ret;
}

void fs_stop(struct fs *fs)
{
	refresh_stop(fs);
	notify_stop(fs);
}

void fs_free(struct fs *fs)
{
	if (!fs)
		return;
	fs_stop(fs);
	notify_free(fs);
	stale_free(fs);
	inode_table_free(fs->it);
	missing_table_free(fs->missing);
	free(fs);
}
