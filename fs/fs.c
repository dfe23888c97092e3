/*
 * fs.c - the FUSE low-level operations: the tree of the design, attributes
 * from listings, errnos from the backend. Knows nothing of HTTP.
 */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "cancel.h"
#include "inode.h"
#include "log.h"
#include "names.h"
#include "xattr.h"

/* One kernel notification waiting for the notifier thread. */
struct notice {
	struct notice *next;
	uint64_t ino;	/* the directory (entry) or inode */
	size_t namelen; /* 0: invalidate the inode ino */
	char name[];	/* the entry of ino to invalidate */
};

struct notice_list {
	struct notice *head, **tail;
};

/*
 * A delete the cloud refused as stale. The kernel retries a syscall that
 * failed ESTALE once, after a fresh lookup that now finds the namesake:
 * that retry must fail too, not delete what someone else created.
 */
#define STALE_SLOTS 16
#define STALE_SECONDS 2.0

/*
 * The kernel's entry and attribute timeout of a package answered from an
 * expired listing without asking the cloud (see fs_lookup): long enough for
 * the stat and the unlink of one `rm`, short enough that `stat` soon asks.
 */
#define EXPIRED_ANSWER_SECONDS 1.0

struct stale_delete {
	uint64_t parent;
	char *name;  /* NULL: a free slot */
	double when; /* monotonic seconds */
};

struct fs {
	const struct hwc_config *cfg;
	struct backend *b;
	struct inode_table *it;
	struct fuse_session *se;
	uid_t uid;
	gid_t gid;
	time_t start;	/* times of the fixed directories */
	double timeout; /* entry and attribute timeout told to the kernel */
	bool has_service[KIND_MAX_SERVICES]; /* by kind_services index */

	/*
	 * Notifications are sent from their own thread: the kernel may hold
	 * the directory's lock while it waits for the very request that
	 * would send them (see fuse_lowlevel_notify_inval_entry).
	 */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct notice_list queue;
	bool qstop;
	bool notifier_running;
	pthread_t notifier;

	bool sigwaiter_running;
	atomic_bool sig_stop;
	pthread_t sigwaiter;

	pthread_mutex_t stale_lock;
	struct stale_delete stale[STALE_SLOTS];
	unsigned stale_next;
};

/* An open directory: the listing it serves, so readdir is consistent. */
struct dir_handle {
	struct listing *l; /* NULL for the fixed directories */
};

/* An open file: its content as it was at open. */
struct open_file {
	char *json;
	size_t len;
};

static struct fs *req_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* What every change is refused with. */
static int refused(const struct fs *fs)
{
	return fs->cfg->ro > 0 ? EROFS : EPERM;
}

static void reply_errno(fuse_req_t req, int ret)
{
	/* Backends return -errno; anything else is a bug, not a success. */
	fuse_reply_err(req, ret < 0 ? -ret : EIO);
}

/* ---- notifications ---- */

static void notice_add(struct notice_list *list, uint64_t ino, const char *name,
		       size_t namelen)
{
	struct notice *n = malloc(sizeof(*n) + namelen + 1);

	if (!n) {
		log_warn("out of memory: a kernel cache stays until its "
			 "timeout");
		return;
	}
	n->next = NULL;
	n->ino = ino;
	n->namelen = namelen;
	memcpy(n->name, name ? name : "", namelen);
	n->name[namelen] = '\0';
	*list->tail = n;
	list->tail = &n->next;
}

static void notices_send(struct fs *fs, struct notice_list *list)
{
	if (!list->head)
		return;
	pthread_mutex_lock(&fs->qlock);
	*fs->queue.tail = list->head;
	fs->queue.tail = list->tail;
	pthread_cond_signal(&fs->qcond);
	pthread_mutex_unlock(&fs->qlock);
	list->head = NULL;
	list->tail = &list->head;
}

static void *notifier_main(void *arg)
{
	struct fs *fs = arg;
	struct notice *n, *next;

	for (;;) {
		pthread_mutex_lock(&fs->qlock);
		while (!fs->queue.head && !fs->qstop)
			pthread_cond_wait(&fs->qcond, &fs->qlock);
		n = fs->queue.head;
		fs->queue.head = NULL;
		fs->queue.tail = &fs->queue.head;
		if (fs->qstop) {
			pthread_mutex_unlock(&fs->qlock);
			break;
		}
		pthread_mutex_unlock(&fs->qlock);
		for (; n; n = next) {
			int ret;

			next = n->next;
			if (n->namelen)
				ret = fuse_lowlevel_notify_inval_entry(
				    fs->se, n->ino, n->name, n->namelen);
			else
				ret = fuse_lowlevel_notify_inval_inode(
				    fs->se, n->ino, 0, 0);
			/* ENOENT: the kernel had nothing cached. */
			if (ret && ret != -ENOENT)
				log_debug("notify ino %" PRIu64 " %s: %s",
					  n->ino, n->name, strerror(-ret));
			free(n);
		}
	}
	/* Stopping: the mount is going away, so is every cache. */
	for (; n; n = next) {
		next = n->next;
		free(n);
	}
	return NULL;
}

struct collect {
	struct notice_list list;
	bool all;
};

/* Under the table lock: notices for a node's entry and, for dirs, pages. */
static void collect_node(struct node *n, void *ctx)
{
	struct collect *c = ctx;

	if (node_is_dir(n) && c->all)
		notice_add(&c->list, n->ino, NULL, 0);
	if (n->parent && n->hashed && n->kind == NODE_ENTRY)
		notice_add(&c->list, n->parent->ino, n->name, n->namelen);
}

/*
 * Tells the kernel to drop what it holds of dir (its cached pages and
 * the entries under it), or of every directory when dir is NULL.
 */
static void invalidate_tree(struct fs *fs, struct node *dir)
{
	struct collect c = {.all = dir == NULL};

	c.list.tail = &c.list.head;
	if (dir)
		notice_add(&c.list, dir->ino, NULL, 0);
	inode_foreach(fs->it, dir, collect_node, &c);
	notices_send(fs, &c.list);
}

/* A name that is gone: drop the kernel's entry and the directory pages. */
static void invalidate_entry(struct fs *fs, struct node *dir, const char *name)
{
	struct notice_list list = {.tail = &list.head};

	notice_add(&list, dir->ino, name, strlen(name));
	notice_add(&list, dir->ino, NULL, 0);
	notices_send(fs, &list);
}

/* ---- the tree ---- */

/*
 * The collection a directory lists: a top kind's directory, or an entry
 * whose kind has children (kind.h); false for the other fixed directories.
 */
static bool dir_coll(const struct node *dir, struct coll *c)
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
 * configured services under the root, a service's top kinds under it.
 */
static size_t fixed_children(const struct fs *fs, const struct node *dir,
			     const char *out[KIND_MAX])
{
	size_t n = 0, i;

	if (dir->kind == NODE_ROOT) {
		for (i = 0; i < kind_nservices; i++)
			if (fs->has_service[i])
				out[n++] = kind_services[i].dir;
	} else if (dir->kind == NODE_SERVICE) {
		for (i = 0; i < kind_count; i++)
			if (!kind_table[i].parent &&
			    kind_table[i].service->id == dir->idx)
				out[n++] = kind_table[i].name;
	}
	return n;
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
static void call_begin(fuse_req_t req, struct cancel *cn)
{
	cancel_begin(cn);
	fuse_req_interrupt_func(req, on_interrupt, cn);
}

/*
 * Ends the bracket before any reply (a reply frees req). libfuse calls
 * on_interrupt under the request's lock, which unregistering takes: once
 * this returns, nothing fires cn any more.
 */
static int call_end(fuse_req_t req, struct cancel *cn, int ret)
{
	fuse_req_interrupt_func(req, NULL, NULL);
	cancel_end(cn);
	return ret;
}

/* The resource a node shows, looked up in its parent's collection. */
static int node_resource(fuse_req_t req, struct fs *fs, struct node *n,
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
static void node_gone(struct fs *fs, struct node *n)
{
	if (!n->parent)
		return;
	inode_unhash(fs->it, n->parent, n->name);
	invalidate_entry(fs, n->parent, n->name);
}

/* ---- attributes ---- */

static void attr_init(const struct fs *fs, uint64_t ino, bool dir,
		      struct stat *st)
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

static void attr_fixed(const struct fs *fs, const struct node *n,
		       struct stat *st)
{
	const char *sub[KIND_MAX];

	attr_init(fs, n->ino, true, st);
	if (n->kind == NODE_COLL && kind_table[n->idx].child)
		st->st_nlink = coll_nlink(fs, &kind_table[n->idx]);
	else
		st->st_nlink = 2 + fixed_children(fs, n, sub);
	st->st_atime = st->st_mtime = st->st_ctime = fs->start;
}

static void attr_resource(const struct fs *fs, struct node *n,
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
static void attr_unlinked(const struct fs *fs, struct node *n, struct stat *st)
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

static void reply_entry(fuse_req_t req, struct fs *fs, struct node *n,
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

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = req_fs(req);
	struct node *dir = inode_get(fs->it, parent), *n;
	struct resource r;
	bool stale = false;
	struct cancel cn;
	struct stat st;
	struct coll c;
	int ret;

	log_debug("lookup %" PRIu64 "/%s", (uint64_t)parent, name);
	if (!dir) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (!node_is_dir(dir)) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (strlen(name) > NAME_MAX_BYTES) {
		fuse_reply_err(req, ENAMETOOLONG);
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
			fuse_reply_err(req, ENOENT);
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

static double monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void stale_remember(struct fs *fs, uint64_t parent, const char *name)
{
	struct stale_delete *s = NULL;
	char *copy = strdup(name);
	size_t i;

	if (!copy)
		return;
	pthread_mutex_lock(&fs->stale_lock);
	/* One slot per name, so that one retry is all it ever refuses. */
	for (i = 0; i < STALE_SLOTS && !s; i++) {
		if (fs->stale[i].name && fs->stale[i].parent == parent &&
		    strcmp(fs->stale[i].name, name) == 0)
			s = &fs->stale[i];
	}
	if (!s)
		s = &fs->stale[fs->stale_next++ % STALE_SLOTS];
	free(s->name);
	s->parent = parent;
	s->name = copy;
	s->when = monotonic_now();
	pthread_mutex_unlock(&fs->stale_lock);
}

/* True, once, if a delete of that name just failed ESTALE. */
static bool stale_take(struct fs *fs, uint64_t parent, const char *name)
{
	double now = monotonic_now();
	bool found = false;
	size_t i;

	pthread_mutex_lock(&fs->stale_lock);
	for (i = 0; i < STALE_SLOTS; i++) {
		struct stale_delete *s = &fs->stale[i];

		if (!s->name || s->parent != parent ||
		    strcmp(s->name, name) != 0)
			continue;
		found = now - s->when < STALE_SECONDS;
		free(s->name);
		s->name = NULL;
		break;
	}
	pthread_mutex_unlock(&fs->stale_lock);
	return found;
}

/* A resource that is only a name: all a package's delete needs. */
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
	struct node *dir = inode_get(fs->it, parent);
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
	if (!dir) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (strlen(name) > NAME_MAX_BYTES) {
		fuse_reply_err(req, ENAMETOOLONG);
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
	 * existed (404). Kinds with a strong id need the id the delete must
	 * match; a dry run asks, to fail as a real one would.
	 */
	if (c.kind->delete_by_name && fs->cfg->dry_run <= 0)
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
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h ? h : 1; /* 0 means never opened */
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct node *n = inode_get(fs->it, ino);
	struct open_file *fh;
	struct resource r;
	uint32_t hash, size;
	int ret;

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
	ret = node_resource(req, fs, n, &r);
	if (ret) {
		if (ret == -ENOENT)
			node_gone(fs, n);
		reply_errno(req, ret);
		return;
	}
	fh = calloc(1, sizeof(*fh));
	if (!fh) {
		resource_clear(&r);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fh->json = r.json;
	fh->len = r.json_len;
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
		free(fh->json);
		free(fh);
	}
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct open_file *fh = (struct open_file *)(uintptr_t)fi->fh;
	char *copy;

	(void)ino;
	if (off < 0 || (uint64_t)off >= fh->len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > fh->len - (size_t)off)
		size = fh->len - (size_t)off;
	/*
	 * Reply from a copy: once the kernel has the data it may end the
	 * read and send release on another thread, which frees fh while
	 * writev is still returning here.
	 */
	copy = malloc(size);
	if (!copy) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memcpy(copy, fh->json + off, size);
	fuse_reply_buf(req, copy, size);
	free(copy);
}

static void fs_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct open_file *fh = (struct open_file *)(uintptr_t)fi->fh;
	struct node *n = inode_get(req_fs(req)->it, ino);

	if (n)
		atomic_fetch_sub(&n->opens, 1);
	if (fh) {
		free(fh->json);
		free(fh);
	}
	fuse_reply_err(req, 0);
}

static void fs_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
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
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *name; name++) {
		h ^= (unsigned char)*name;
		h *= 0x100000001b3ULL;
	}
	return h | (1ULL << 63);
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
		const char *name;

		if (pos == 0 || pos == 1) {
			uint64_t dino = ino;

			if (pos == 1)
				dino = dir->parent ? dir->parent->ino : ino;
			attr_init(fs, dino, true, &st);
			if (!dir_add(req, fs, &dr, plus, pos ? ".." : ".", NULL,
				     &st, pos + 1))
				break;
			continue;
		}
		i = (size_t)(pos - 2);
		if (!dh->l) {
			if (i >= nsub)
				break;
			name = sub[i];
			if (plus) {
				n = inode_lookup(fs->it, dir, name, NODE_ROOT,
						 0);
				if (!n)
					break;
			} else {
				n = inode_get(fs->it,
					      inode_peek(fs->it, dir, name));
			}
			attr_fixed(fs, n, &st);
		} else {
			const struct resource *r;

			if (i >= dh->l->count)
				break;
			r = &dh->l->items[i];
			name = r->name;
			/* Deleted since, or a name no file can have. */
			if (listing_is_gone(dh->l, i) || !name_safe(name))
				continue;
			if (plus) {
				n = inode_lookup(fs->it, dir, name, NODE_ENTRY,
						 kind_index(c.kind));
				if (!n)
					break;
				attr_resource(fs, n, r, &st);
			} else {
				uint64_t cino = inode_peek(fs->it, dir, name);

				attr_init(fs,
					  cino ? cino : placeholder_ino(name),
					  c.kind->child != NULL, &st);
			}
		}
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

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

static void fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

static void fs_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct dir_handle *dh = (struct dir_handle *)(uintptr_t)fi->fh;

	(void)ino;
	if (dh) {
		listing_put(dh->l);
		free(dh);
	}
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
static void refresh(struct fs *fs, struct node *n)
{
	struct node *dir = node_is_dir(n) ? n : n->parent;
	struct coll c;

	if (dir && dir_coll(dir, &c)) {
		fs->b->ops->forget(fs->b, &c);
		invalidate_tree(fs, dir);
	} else {
		fs->b->ops->forget(fs->b, NULL);
		invalidate_tree(fs, NULL);
	}
}

static void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	struct fs *fs = req_fs(req);
	struct node *n = inode_get(fs->it, ino);

	(void)value, (void)size, (void)flags;
	log_debug("setxattr %" PRIu64 " %s", (uint64_t)ino, name);
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (strcmp(name, XATTR_REFRESH) != 0) {
		fuse_reply_err(req, refused(fs));
		return;
	}
	refresh(fs, n);
	fuse_reply_err(req, 0);
}

static void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	struct fs *fs = req_fs(req);
	struct node *n = inode_get(fs->it, ino);
	struct resource r;
	size_t len;
	char *val;
	int ret;

	log_debug("getxattr %" PRIu64 " %s", (uint64_t)ino, name);
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	/*
	 * ls -l asks every entry for its ACL and security label. "Not
	 * supported" (unlike "no such attribute") lets ls stop asking after
	 * the first entry: a warm ls -l of 10,000 entries fell from 0.2 s to
	 * 0.03 s (docs/performance.md).
	 */
	if (strncmp(name, "user.", 5) != 0) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (!node_entry_kind(n) || !node_entry_kind(n)->xattrs ||
	    strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX)) != 0) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	ret = node_resource(req, fs, n, &r);
	if (ret) {
		if (ret == -ENOENT)
			node_gone(fs, n);
		reply_errno(req, ret);
		return;
	}
	ret = xattr_get(r.json ? r.json : "", r.json_len, name, &val, &len);
	resource_clear(&r);
	if (ret) {
		reply_errno(req, ret);
		return;
	}
	xattr_reply(req, val, len, size);
	free(val);
}

static void fs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct fs *fs = req_fs(req);
	struct node *n = inode_get(fs->it, ino);
	struct resource r;
	size_t len;
	char *list;
	int ret;

	log_debug("listxattr %" PRIu64, (uint64_t)ino);
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (!node_entry_kind(n) || !node_entry_kind(n)->xattrs) {
		xattr_reply(req, "", 0, size);
		return;
	}
	ret = node_resource(req, fs, n, &r);
	if (ret) {
		if (ret == -ENOENT)
			node_gone(fs, n);
		reply_errno(req, ret);
		return;
	}
	ret = xattr_list(r.json ? r.json : "", r.json_len, &list, &len);
	resource_clear(&r);
	if (ret) {
		reply_errno(req, ret);
		return;
	}
	xattr_reply(req, list, len, size);
	free(list);
}

static void fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino, (void)name;
	fuse_reply_err(req, refused(req_fs(req)));
}

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
	pthread_mutex_init(&fs->qlock, NULL);
	pthread_cond_init(&fs->qcond, NULL);
	pthread_mutex_init(&fs->stale_lock, NULL);
	fs->queue.tail = &fs->queue.head;
	atomic_init(&fs->sig_stop, false);
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
	for (size_t i = 0; i < kind_nservices; i++)
		fs->has_service[i] =
		    kind_service_configured(&kind_services[i], fs->cfg);
}

int fs_block_refresh_signal(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void *sigwaiter_main(void *arg)
{
	struct fs *fs = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (atomic_load(&fs->sig_stop))
			break;
		log_info("SIGUSR2: dropping every cached entry");
		fs->b->ops->forget(fs->b, NULL);
		invalidate_tree(fs, NULL);
	}
	return NULL;
}

int fs_start(struct fs *fs, struct fuse_session *se)
{
	int ret;

	fs->se = se;
	ret = pthread_create(&fs->notifier, NULL, notifier_main, fs);
	if (ret)
		return -ret;
	fs->notifier_running = true;
	ret = pthread_create(&fs->sigwaiter, NULL, sigwaiter_main, fs);
	if (ret) {
		fs_stop(fs);
		return -ret;
	}
	fs->sigwaiter_running = true;
	return 0;
}

void fs_stop(struct fs *fs)
{
	if (fs->sigwaiter_running) {
		atomic_store(&fs->sig_stop, true);
		pthread_kill(fs->sigwaiter, SIGUSR2);
		pthread_join(fs->sigwaiter, NULL);
		fs->sigwaiter_running = false;
	}
	if (fs->notifier_running) {
		pthread_mutex_lock(&fs->qlock);
		fs->qstop = true;
		pthread_cond_signal(&fs->qcond);
		pthread_mutex_unlock(&fs->qlock);
		pthread_join(fs->notifier, NULL);
		fs->notifier_running = false;
	}
}

void fs_free(struct fs *fs)
{
	struct notice *n, *next;
	size_t i;

	if (!fs)
		return;
	fs_stop(fs);
	for (n = fs->queue.head; n; n = next) {
		next = n->next;
		free(n);
	}
	for (i = 0; i < STALE_SLOTS; i++)
		free(fs->stale[i].name);
	inode_table_free(fs->it);
	pthread_mutex_destroy(&fs->stale_lock);
	pthread_mutex_destroy(&fs->qlock);
	pthread_cond_destroy(&fs->qcond);
	free(fs);
}
