/*
 * rfs_hooks.c - RFS private hooks (rfs/hooks/NAME/VERSION): a family of
 * rfs.c's calls (docs/cloud-api.md, "Private hooks"). A hook always has a
 * default version, which the API deletes only with the hook: an rmdir
 * does not count it (RFS_KEEP_DEFAULT).
 */
#include "kinds.h"
#include "services.h"

const struct rfs_family rfs_hooks = {
    .path = "/v1/private-hooks",
    .keep = RFS_KEEP_DEFAULT,
    .list_key = "hooks",
    .name_key = "hook_name",
    .version_key = "hook_version",
    .id_key = "hook_id",
    .versions = "versions",
    .show = "/metadata",
};

const struct kind_ops rfs_hook_ops = RFS_NAME_OPS(&rfs_hooks);
const struct kind_ops rfs_hook_version_ops = RFS_VERSION_OPS(&rfs_hooks);
