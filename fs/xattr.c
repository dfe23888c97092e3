/*
 * xattr.c - user.hwc.<field> extended attributes from a resource's JSON,
 * and the size-probe rules of getxattr/listxattr replies.
 */
#include "xattr.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fs_priv.h"
#include "log.h"

/* Linux limits, which the kernel enforces on every caller. */
#define XATTR_NAME_LIMIT 255
#define XATTR_VALUE_LIMIT 65536

static int parse_object(const char *json, size_t len, cJSON **out)
{
	cJSON *root = cJSON_ParseWithLength(json, len);

	if (!root)
		return -EIO;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -EIO;
	}
	*out = root;
	return 0;
}

/* A field is shown once, under its first occurrence, if its name fits. */
static bool field_shown(const cJSON *root, const cJSON *field)
{
	const cJSON *f;
	size_t len;

	if (!field->string || !field->string[0])
		return false;
	len = strlen(field->string);
	if (len > XATTR_NAME_LIMIT - strlen(XATTR_PREFIX))
		return false;
	for (f = root->child; f != field; f = f->next) {
		if (f->string && strcmp(f->string, field->string) == 0)
			return false;
	}
	return true;
}

int xattr_list(const char *json, size_t len, char **out, size_t *outlen)
{
	const size_t plen = strlen(XATTR_PREFIX);
	size_t total = 0, pos = 0;
	cJSON *root, *f;
	char *buf;
	int ret;

	*out = NULL;
	*outlen = 0;
	ret = parse_object(json, len, &root);
	if (ret)
		return ret;
	cJSON_ArrayForEach(f, root)
	{
		if (field_shown(root, f))
			total += plen + strlen(f->string) + 1;
	}
	buf = malloc(total ? total : 1);
	if (!buf) {
		cJSON_Delete(root);
		return -ENOMEM;
	}
	cJSON_ArrayForEach(f, root)
	{
		size_t n;

		if (!field_shown(root, f))
			continue;
		n = strlen(f->string);
		memcpy(buf + pos, XATTR_PREFIX, plen);
		memcpy(buf + pos + plen, f->string, n + 1);
		pos += plen + n + 1;
	}
	cJSON_Delete(root);
	*out = buf;
	*outlen = total;
	return 0;
}

int xattr_get(const char *json, size_t len, const char *name, char **out,
	      size_t *outlen)
{
	const size_t plen = strlen(XATTR_PREFIX);
	cJSON *root, *f;
	char *val;
	int ret;

	*out = NULL;
	*outlen = 0;
	if (strncmp(name, XATTR_PREFIX, plen) != 0 || !name[plen])
		return -ENODATA;
	ret = parse_object(json, len, &root);
	if (ret)
		return ret;
	f = cJSON_GetObjectItemCaseSensitive(root, name + plen);
	if (!f) {
		cJSON_Delete(root);
		return -ENODATA;
	}
	if (cJSON_IsString(f))
		val = strdup(f->valuestring);
	else
		val = cJSON_PrintUnformatted(f);
	cJSON_Delete(root);
	if (!val)
		return -ENOMEM;
	*outlen = strlen(val);
	if (*outlen > XATTR_VALUE_LIMIT) {
		free(val);
		*outlen = 0;
		return -E2BIG;
	}
	*out = val;
	return 0;
}

void xattr_reply(fuse_req_t req, const char *buf, size_t len, size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf, len);
}

/* ---- the operations ---- */

void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		 const char *value, size_t size, int flags)
{
	struct fs *fs = req_fs(req);
	struct node *n = inode_get(fs->it, ino);

	(void)flags;
	log_debug("setxattr %" PRIu64 " %s", (uint64_t)ino, name);
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (limit_setxattr(req, fs, n, name, value, size))
		return;
	if (strcmp(name, XATTR_REFRESH) != 0) {
		fuse_reply_err(req, refused(fs));
		return;
	}
	fs_refresh(fs, n);
	fuse_reply_err(req, 0);
}

void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
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
	if (limit_getxattr(req, fs, n, name, size))
		return;
	if (!node_entry_kind(n) || !node_entry_kind(n)->xattrs ||
	    strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX)) != 0) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	if (!node_resource_or_reply(req, fs, n, &r))
		return;
	ret = xattr_get(r.json ? r.json : "", r.json_len, name, &val, &len);
	resource_clear(&r);
	if (ret) {
		reply_errno(req, ret);
		return;
	}
	xattr_reply(req, val, len, size);
	free(val);
}

void fs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
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
	if (!node_resource_or_reply(req, fs, n, &r))
		return;
	ret = xattr_list(r.json ? r.json : "", r.json_len, &list, &len);
	resource_clear(&r);
	if (ret) {
		reply_errno(req, ret);
		return;
	}
	xattr_reply(req, list, len, size);
	free(list);
}

void fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino, (void)name;
	fuse_reply_err(req, refused(req_fs(req)));
}
