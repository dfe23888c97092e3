/*
 * kinds.c - the table of services and kinds (include/kind.h). A row says
 * where a kind sits in the tree, its name rules and how its deletes are
 * made safe; its functions live with its service's calls (kinds.h).
 * docs/architecture.md, "The kind table", says how to add a row.
 */
#include "kind.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "guard.h"
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

/* The endpoint alone: whether the user or the region gave one. */
static bool kind_endpoint_set(const struct kind_service *s,
			      const struct hwc_config *cfg)
{
	const char *ep = *(char *const *)((const char *)cfg + s->endpoint);

	return ep && ep[0];
}

/*
 * The next name of a kinds list into [*name, *name + *len): names are
 * separated by ',' (a profile) or ':' (-o splits its value at commas),
 * spaces around them ignored. False at the end of the list.
 */
static bool kind_list_next(const char **p, const char **name, size_t *len)
{
	const char *s = *p, *end;

	if (!*s)
		return false;
	end = s + strcspn(s, ",:");
	*p = *end ? end + 1 : end;
	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*name = s;
	*len = (size_t)(end - s);
	return true;
}

static bool kind_list_names(const char *list, const char *want)
{
	const char *p = list, *name;
	size_t len;

	while (kind_list_next(&p, &name, &len))
		if ((len == strlen(want) && strncmp(name, want, len) == 0) ||
		    (len == 3 && strncmp(name, "all", 3) == 0))
			return true;
	return false;
}

bool kind_shown(const struct kind *k, const struct hwc_config *cfg)
{
	const struct kind *top = k->parent ? k->parent : k;

	if (!kind_endpoint_set(k->service, cfg))
		return false;
	return !cfg->kinds || kind_list_names(cfg->kinds, top->name);
}

bool kind_service_configured(const struct kind_service *s,
			     const struct hwc_config *cfg)
{
	for (size_t i = 0; i < kind_count; i++)
		if (kind_table[i].service == s &&
		    kind_shown(&kind_table[i], cfg))
			return true;
	return false;
}

/* A top kind's row by a name of a kinds list, or NULL. */
static const struct kind *kind_top_named(const char *name, size_t len)
{
	for (size_t i = 0; i < kind_count; i++) {
		const struct kind *k = &kind_table[i];

		if (!k->parent && strlen(k->name) == len &&
		    strncmp(k->name, name, len) == 0)
			return k;
	}
	return NULL;
}

/* "packages, providers, ...": the names a kinds list may hold. */
static void kind_known(char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < kind_count && o < len; i++)
		if (!kind_table[i].parent)
			o += (size_t)snprintf(buf + o, len - o, "%s, ",
					      kind_table[i].name);
	snprintf(buf + o, o < len ? len - o : 0, "all");
}

int kind_check_selection(const struct hwc_config *cfg, char *err, size_t errlen)
{
	const char *p = cfg->kinds, *name;
	bool endpoints = false;
	char known[256];
	size_t len;

	if (!p)
		return 0;
	if (!p[strspn(p, " \t")]) {
		snprintf(err, errlen,
			 "kinds: empty; give `all' for every kind");
		return -EINVAL;
	}
	while (kind_list_next(&p, &name, &len)) {
		if (kind_top_named(name, len) ||
		    (len == 3 && strncmp(name, "all", 3) == 0))
			continue;
		kind_known(known, sizeof(known));
		snprintf(err, errlen, "kinds: `%.*s' is not a kind (%s)",
			 (int)(len > 64 ? 64 : len), name, known);
		return -EINVAL;
	}
	for (size_t i = 0; i < kind_nservices; i++) {
		if (kind_service_configured(&kind_services[i], cfg))
			return 0;
		endpoints |= kind_endpoint_set(&kind_services[i], cfg);
	}
	/* No endpoint at all is the backend's to tell (http_backend_new). */
	if (!endpoints)
		return 0;
	snprintf(err, errlen, "kinds=%s shows none of the services configured",
		 cfg->kinds);
	return -EINVAL;
}

/*
 * Whether a protect pattern can reach a path of the tree: its first two
 * components must match a top kind's directory ("rfs/providers"), or its
 * only one a service's ("rfs"). A pattern with an escape or a bracket may
 * hide a '/' (common/guard.c): it is taken as it is.
 */
static bool kind_pattern_reaches(const char *pattern)
{
	const char *slash = strchr(pattern, '/');
	char head[GUARD_PATTERN_LIMIT + 1], dir[128];
	size_t n;

	if (strpbrk(pattern, "\\["))
		return true;
	slash = slash ? strchr(slash + 1, '/') : NULL;
	n = slash ? (size_t)(slash - pattern) : strlen(pattern);
	if (n >= sizeof(head))
		return true;
	memcpy(head, pattern, n);
	head[n] = '\0';
	for (size_t i = 0; i < kind_count; i++) {
		const struct kind *k = &kind_table[i];

		if (k->parent)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", k->service->dir, k->name);
		if (fnmatch(head, dir, FNM_PATHNAME | FNM_LEADING_DIR) == 0)
			return true;
	}
	return false;
}

int kind_check_protect(const struct hwc_config *cfg, char *err, size_t errlen)
{
	char known[256];

	for (size_t i = 0; i < cfg->nprotect; i++) {
		const struct config_pattern *p = &cfg->protect[i];
		size_t o = 0;

		if (kind_pattern_reaches(p->pattern))
			continue;
		known[0] = '\0';
		for (size_t j = 0; j < kind_count && o < sizeof(known); j++)
			if (!kind_table[j].parent)
				o += (size_t)snprintf(
				    known + o, sizeof(known) - o, "%s%s/%s",
				    o ? ", " : "", kind_table[j].service->dir,
				    kind_table[j].name);
		snprintf(err, errlen,
			 "protect %.100s (%.200s) matches nothing in the tree: "
			 "a path there starts with %s",
			 p->pattern, p->origin, known);
		return -EINVAL;
	}
	return 0;
}

const struct kind *kind_find(const char *name)
{
	for (size_t i = 0; i < kind_count; i++)
		if (name && strcmp(kind_table[i].name, name) == 0)
			return &kind_table[i];
	return NULL;
}
