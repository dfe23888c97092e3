/*
 * kinds.c - the table of services and kinds (include/kind.h). A row says
 * where a kind sits in the tree, its name rules and how its deletes are
 * made safe; its functions live with its service's calls (kinds.h).
 * docs/architecture.md, "The kind table", says how to add a row.
 */
#include "kind.h"

#include <stddef.h>
#include <string.h>

#include "config.h"
#include "kinds.h"
#include "names.h"

const struct kind_service kind_services[] = {
    [KIND_SVC_IOTDA] = {KIND_SVC_IOTDA, "iotda", "IoTDA",
			offsetof(struct hwc_config, iotda_endpoint),
			&iotda_service_ops},
    [KIND_SVC_RFS] = {KIND_SVC_RFS, "rfs", "RFS",
		      offsetof(struct hwc_config, rfs_endpoint),
		      &rfs_service_ops},
};
const size_t kind_nservices = KIND_SVC_COUNT;

/* Rows in the order their directories get their inode numbers. */
enum {
	K_PACKAGES,
	K_PROVIDERS,
	K_VERSIONS,
	K_MODULES,
	K_MODULE_VERSIONS,
	K_HOOKS,
	K_HOOK_VERSIONS,
	K_TEMPLATES,
	K_TEMPLATE_VERSIONS,
	K_COUNT
};

const struct kind kind_table[] = {
    [K_PACKAGES] =
	{
	    .name = "packages",
	    .noun = "package",
	    .service = &kind_services[KIND_SVC_IOTDA],
	    .name_valid = name_package_valid,
	    .delete_by_name = true,
	    .xattrs = true,
	    .in_project = true,
	    .ops = &iotda_package_ops,
	},
    [K_PROVIDERS] =
	{
	    .name = "providers",
	    .noun = "provider",
	    .service = &kind_services[KIND_SVC_RFS],
	    .child = &kind_table[K_VERSIONS],
	    .name_valid = name_provider_valid,
	    .strong_id = true,
	    .xattrs = true,
	    .ops = &rfs_provider_ops,
	},
    [K_VERSIONS] =
	{
	    .name = "versions",
	    .noun = "version",
	    .service = &kind_services[KIND_SVC_RFS],
	    .parent = &kind_table[K_PROVIDERS],
	    .name_valid = name_version_valid,
	    .strong_id = true,
	    .xattrs = true,
	    .ops = &rfs_version_ops,
	},
    [K_MODULES] =
	{
	    .name = "modules",
	    .noun = "module",
	    .service = &kind_services[KIND_SVC_RFS],
	    .child = &kind_table[K_MODULE_VERSIONS],
	    .name_valid = name_module_valid,
	    .strong_id = true,
	    .xattrs = true,
	    .ops = &rfs_module_ops,
	},
    [K_MODULE_VERSIONS] =
	{
	    .name = "module-versions",
	    .noun = "module version",
	    .service = &kind_services[KIND_SVC_RFS],
	    .parent = &kind_table[K_MODULES],
	    .name_valid = name_version_valid,
	    .strong_id = true,
	    .xattrs = true,
	    .ops = &rfs_module_version_ops,
	},
    /* A hook's default version goes only with the hook (rfs_hooks.c). */
    [K_HOOKS] =
	{
	    .name = "hooks",
	    .noun = "hook",
	    .service = &kind_services[KIND_SVC_RFS],
	    .child = &kind_table[K_HOOK_VERSIONS],
	    .name_valid = name_hook_valid,
	    .strong_id = true,
	    .keeps_a_child = true,
	    .xattrs = true,
	    .ops = &rfs_hook_ops,
	},
    [K_HOOK_VERSIONS] =
	{
	    .name = "hook-versions",
	    .noun = "hook version",
	    .service = &kind_services[KIND_SVC_RFS],
	    .parent = &kind_table[K_HOOKS],
	    .name_valid = name_version_valid,
	    .strong_id = true,
	    .xattrs = true,
	    .ops = &rfs_hook_version_ops,
	},
    /*
     * Templates live under the project id, and a template's last version
     * goes only with the template (rfs_templates.c).
     */
    [K_TEMPLATES] =
	{
	    .name = "templates",
	    .noun = "template",
	    .service = &kind_services[KIND_SVC_RFS],
	    .child = &kind_table[K_TEMPLATE_VERSIONS],
	    .name_valid = name_template_valid,
	    .strong_id = true,
	    .keeps_a_child = true,
	    .in_project = true,
	    .xattrs = true,
	    .ops = &rfs_template_ops,
	},
    [K_TEMPLATE_VERSIONS] =
	{
	    .name = "template-versions",
	    .noun = "template version",
	    .service = &kind_services[KIND_SVC_RFS],
	    .parent = &kind_table[K_TEMPLATES],
	    .name_valid = name_template_version_valid,
	    .strong_id = true,
	    .in_project = true,
	    .xattrs = true,
	    .ops = &rfs_template_version_ops,
	},
};
const size_t kind_count = K_COUNT;

_Static_assert(KIND_SVC_COUNT <= KIND_MAX_SERVICES, "too many services");
_Static_assert(K_COUNT <= KIND_MAX, "too many kinds");

bool kind_service_configured(const struct kind_service *s,
			     const struct hwc_config *cfg)
{
	const char *ep = *(char *const *)((const char *)cfg + s->endpoint);

	return ep && ep[0];
}

const struct kind *kind_find(const char *name)
{
	for (size_t i = 0; i < kind_count; i++)
		if (name && strcmp(kind_table[i].name, name) == 0)
			return &kind_table[i];
	return NULL;
}
