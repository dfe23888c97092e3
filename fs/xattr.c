/*
 * xattr.c - user.hwc.<field> extended attributes from a resource's JSON,
 * and the size-probe rules of getxattr/listxattr replies.
 */
#include "xattr.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
