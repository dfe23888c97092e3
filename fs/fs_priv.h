/*
 * fs_priv.h - what the files of fs/ share: the mount's state and the
 * helpers every operation uses. fs.c holds the entry operations, attr.c
 * the tree and its attributes, readdir.c directories, notify.c the
 * kernel notifications, refresh.c the refresh signal, stale.c the memory
 * of stale deletes, xattr.c extended attributes.
 */
#ifndef HWCFS_FS_PRIV_H
#define HWCFS_FS_PRIV_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "config.h"

#include "cancel.h"
#include "fs.h"
#include "inode.h"
#include "kind.h"

struct notice; /* notify.c */

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

struct stale_delete {
	uint64_t parent;
	char *name;  /* NULL: a free slot */
	double when; /* monotonic seconds */
};

struct missing_table;
struct guard;

struct fs {
	const struct hwc_config *cfg;
	struct backend *b;
	struct inode_table *it;
	struct fuse_session *se;
	uid_t uid;
	gid_t gid;
	time_t start;	/* times of the fixed directories */
	double timeout; /* entry and attribute timeout told to the kernel */
	double negative_timeout; /* of a missing name; 0: no negative entry */
	struct missing_table *missing;	     /* the negative entries sent */
	bool has_service[KIND_MAX_SERVICES]; /* by kind_services index */
	struct guard *guard; /* the backend's delete guards, or NULL */
	bool has_kind[KIND_MAX];	     /* by kind_table index */

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
	int locks; /* how many of qlock, qcond, stale_lock exist */
};

static inline struct fs *req_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* What every change is refused with. */
static inline int refused(const struct fs *fs)
{
	return fs->cfg->ro > 0 ? EROFS : EPERM;
}

static inline void reply_errno(fuse_req_t req, int ret)
{
	/* Backends return -errno; anything else is a bug, not a success. */
	fuse_reply_err(req, ret < 0 ? -ret : EIO);
}

/* fs.c: backend calls an interrupt can cut short, and their results. */
void call_begin(fuse_req_t req, struct cancel *cn);
int call_end(fuse_req_t req, struct cancel *cn, int ret);
int node_resource(fuse_req_t req, struct fs *fs, struct node *n,
		  struct resource *r);
void node_gone(struct fs *fs, struct node *n);
/* node_resource, or else the reply its error gets (a name found gone is
 * dropped from the kernel too): false when it replied. */
bool node_resource_or_reply(fuse_req_t req, struct fs *fs, struct node *n,
			    struct resource *r);

/* attr.c: the tree from the kind table, and attributes. */
bool dir_coll(const struct node *dir, struct coll *c);
size_t fixed_children(const struct fs *fs, const struct node *dir,
		      const char *out[KIND_MAX]);
void attr_init(const struct fs *fs, uint64_t ino, bool dir, struct stat *st);
void attr_fixed(const struct fs *fs, const struct node *n, struct stat *st);
void attr_resource(const struct fs *fs, struct node *n,
		   const struct resource *r, struct stat *st);
void attr_unlinked(const struct fs *fs, struct node *n, struct stat *st);
void reply_entry(fuse_req_t req, struct fs *fs, struct node *n,
		 const struct stat *st, double timeout);

/* notify.c: the notifier thread. */
/* Its lock and condition; 0 or -errno (fs->locks counts what exists). */
int notify_init(struct fs *fs);
int notify_start(struct fs *fs);
void notify_stop(struct fs *fs);
void notify_free(struct fs *fs);
void invalidate_tree(struct fs *fs, struct node *dir);
void invalidate_entry(struct fs *fs, struct node *dir, const char *name);

/* refresh.c: dropping cached views, on request or on SIGUSR2. */
void fs_refresh(struct fs *fs, struct node *n);
int refresh_start(struct fs *fs);
void refresh_stop(struct fs *fs);

/* stale.c */
void stale_remember(struct fs *fs, uint64_t parent, const char *name);
bool stale_take(struct fs *fs, uint64_t parent, const char *name);
void stale_free(struct fs *fs);

/* readdir.c */
void fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi);
void fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi);
void fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

/* limit.c: user.hwcfs.max_deletes of the mount point; false when name
 * is not that attribute (nothing replied). */
bool limit_setxattr(fuse_req_t req, struct fs *fs, struct node *n,
		    const char *name, const char *value, size_t size);
bool limit_getxattr(fuse_req_t req, struct fs *fs, struct node *n,
		    const char *name, size_t size);

/* xattr.c */
void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		 const char *value, size_t size, int flags);
void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void fs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

#endif
