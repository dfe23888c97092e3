/*
 * xattr.h - a resource's metadata as extended attributes: every top-level
 * field of its JSON is user.hwc.<field>.
 */
#ifndef HWCFS_XATTR_H
#define HWCFS_XATTR_H

#include <stddef.h>

#include "fs.h"

#define XATTR_PREFIX "user.hwc."
#define XATTR_REFRESH "user.hwcfs.refresh"
#define XATTR_MAX_DELETES "user.hwcfs.max_deletes"

/*
 * The names of every attribute of the JSON object json, each ending in
 * '\0', in *out (free it); *outlen is their total length.
 */
int xattr_list(const char *json, size_t len, char **out, size_t *outlen);

/*
 * The value of attribute name: a string field raw, any other value as
 * compact JSON. -ENODATA when the object has no such field.
 */
int xattr_get(const char *json, size_t len, const char *name, char **out,
	      size_t *outlen);

/*
 * Answers a getxattr or listxattr of buffer size size with len bytes of
 * buf: size 0 asks for the length, a smaller buffer is ERANGE.
 */
void xattr_reply(fuse_req_t req, const char *buf, size_t len, size_t size);

#endif
