/*
 * limit.c - the max_deletes budget (common/guard.h) as the mount point's
 * attribute user.hwcfs.max_deletes: its owner sets a new budget with
 * setfattr, anyone who may read the mount reads what is left with
 * getfattr (docs/hwcfs.md, "Delete guards").
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fs_priv.h"
#include "guard.h"
#include "log.h"
#include "xattr.h"

void fs_set_guard(struct fs *fs, struct guard *g)
{
	fs->guard = g;
}

/* Whether name is the budget's attribute of the mount point n. */
static bool is_limit(const struct fs *fs, const struct node *n,
		     const char *name)
{
	return fs->guard && n->ino == FUSE_ROOT_ID &&
	       strcmp(name, XATTR_MAX_DELETES) == 0;
}

bool limit_setxattr(fuse_req_t req, struct fs *fs, struct node *n,
		    const char *name, const char *value, size_t size)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	char text[16];
	long long limit;

	if (!is_limit(fs, n, name))
		return false;
	/*
	 * The owner only, as the kernel's own check under allow_other
	 * (default_permissions) already answers others: EACCES either way.
	 */
	if (ctx->uid != fs->uid) {
		log_warn("max_deletes: uid %" PRIu32 " may not change it; "
			 "only the mount's owner may",
			 (uint32_t)ctx->uid);
		fuse_reply_err(req, EACCES);
		return true;
	}
	if (size == 0 || size >= sizeof(text)) {
		fuse_reply_err(req, EINVAL);
		return true;
	}
	memcpy(text, value, size);
	text[size] = '\0';
	/* setfattr -v "5" may hand over the quotes' content with a NUL. */
	if (text[size - 1] == '\n' || text[size - 1] == '\0')
		text[size - 1] = '\0';
	if (guard_parse_count(text, &limit)) {
		fuse_reply_err(req, EINVAL);
		return true;
	}
	guard_reset(fs->guard, limit);
	fuse_reply_err(req, 0);
	return true;
}

bool limit_getxattr(fuse_req_t req, struct fs *fs, struct node *n,
		    const char *name, size_t size)
{
	long long left;
	char text[24];
	int len;

	if (!is_limit(fs, n, name))
		return false;
	left = guard_left(fs->guard);
	if (left < 0) {
		fuse_reply_err(req, ENODATA);
		return true;
	}
	len = snprintf(text, sizeof(text), "%lld", left);
	xattr_reply(req, text, (size_t)len, size);
	return true;
}
