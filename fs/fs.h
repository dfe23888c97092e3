/*
 * fs.h - the FUSE low-level operations of hwcfs: the tree of docs/hwcfs.md
 * over one struct backend, with the helper threads that tell the kernel
 * to drop what it cached (docs/architecture.md, "Threads and locks").
 */
#ifndef HWCFS_FS_H
#define HWCFS_FS_H

#define FUSE_USE_VERSION 314
#include <fuse3/fuse_lowlevel.h>

#include "backend.h"
#include "config.h"

struct fs;

/*
 * A filesystem for cfg (which must outlive it). The backend is set later
 * (fs_set_backend) so that options are checked before any request.
 */
int fs_new(const struct hwc_config *cfg, struct fs **out);
void fs_set_backend(struct fs *fs, struct backend *b);
struct guard;
/* The backend's delete guards, whose max_deletes budget the mount point's
 * user.hwcfs.max_deletes attribute resets (docs/hwcfs.md). */
void fs_set_guard(struct fs *fs, struct guard *g);
const struct fuse_lowlevel_ops *fs_ops(void);

/*
 * Blocks SIGUSR2 in the calling thread, so in every thread created after;
 * call first thing in main.
 */
int fs_block_refresh_signal(void);

/*
 * Starts the thread that sends kernel notifications and the one that
 * waits for SIGUSR2. Call after fuse_daemonize(): fork keeps no threads.
 */
int fs_start(struct fs *fs, struct fuse_session *se);
/* Stops both threads; call before fuse_session_destroy(). */
void fs_stop(struct fs *fs);
/* Frees the filesystem; the backend stays the caller's. */
void fs_free(struct fs *fs);

#endif
