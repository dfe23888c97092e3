/*
 * rfs_templates.c - RFS templates (rfs/templates/NAME/VERSION): a family
 * of rfs.c's calls (docs/cloud-api.md, "Templates"). Unlike the others
 * they live under the project id, are listed in one answer (no paging),
 * have versions named V1, V2, ..., and the API deletes a template's last
 * version only with the template (RFS_KEEP_LAST).
 */
#include "kinds.h"
#include "services.h"

/* The list answer's summary of the latest version: the show answer lacks
 * it, and a version's delete makes it stale. */
static const char *const rfs_template_list_only[] = {
    "latest_version_id", "latest_version_description", NULL};

const struct rfs_family rfs_templates = {
    .path = "/templates",
    .in_project = true,
    .unpaged = true,
    .keep = RFS_KEEP_LAST,
    .list_key = "templates",
    .name_key = "template_name",
    .version_key = "version_id",
    .id_key = "template_id",
    .versions = "versions",
    .show = "/metadata",
    .name_list_only = rfs_template_list_only,
};

const struct kind_ops rfs_template_ops = RFS_NAME_OPS(&rfs_templates);
const struct kind_ops rfs_template_version_ops =
    RFS_VERSION_OPS(&rfs_templates);
