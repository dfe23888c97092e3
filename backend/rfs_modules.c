/*
 * rfs_modules.c - RFS private modules (rfs/modules/NAME/VERSION): a family
 * of rfs.c's calls (docs/cloud-api.md, "Private modules"). A delete of a
 * module takes its versions with it, as a provider's does.
 */
#include "kinds.h"
#include "services.h"

/* A version's show answer adds module_source; the list's lacks it. */
static const char *const rfs_module_version_show_only[] = {"module_source",
							   NULL};

const struct rfs_family rfs_modules = {
    .path = "/v1/private-modules",
    .list_key = "modules",
    .name_key = "module_name",
    .version_key = "module_version",
    .id_key = "module_id",
    .versions = "versions",
    .show = "/metadata",
    .version_show_only = rfs_module_version_show_only,
};

const struct kind_ops rfs_module_ops = RFS_NAME_OPS(&rfs_modules);
const struct kind_ops rfs_module_version_ops = RFS_VERSION_OPS(&rfs_modules);
