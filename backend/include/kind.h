/*
 * kind.h - the kinds of cloud resource the tree shows, as data: one row per
 * kind in kind_table (backend/kinds.c). fs/ builds its directories from the
 * table, cache/ keys its collections by the row, the HTTP backend calls a
 * row's functions. docs/architecture.md, "The kind table", says how to add
 * a kind.
 */
#ifndef HWCFS_KIND_H
#define HWCFS_KIND_H

#include <stdbool.h>
#include <stddef.h>

struct hwc_config;

/* The backend's functions of a service and of a kind (backend/kinds.h). */
struct kind_service_ops;
struct kind_ops;

/* A cloud service: one directory under the root, shown when configured. */
struct kind_service {
	unsigned id;	   /* its index in kind_services */
	const char *dir;   /* "iotda": its directory under the root */
	const char *label; /* "IoTDA": in --check and the mount's errors */
	size_t endpoint;   /* offsetof(struct hwc_config, its endpoint) */
	const struct kind_service_ops *ops;
};

/*
 * A kind of resource. A top kind's collection is a directory of its own
 * under its service's (iotda/packages); a child kind's collection is each
 * entry of its parent kind (rfs/providers/NAME lists versions).
 */
struct kind {
	const char *name; /* "packages": its directory; logs and tools */
	const char *noun; /* "package": one entry, in log lines */
	const struct kind_service *service;
	const struct kind *parent; /* child kinds: whose entries list it */
	const struct kind *child;  /* entries are directories listing it */
	/*
	 * The documented pattern of its identifiers (common/names.h): a
	 * typed name that fails it, and was not listed, costs no request.
	 */
	bool (*name_valid)(const char *name);
	/*
	 * Entries carry an id (provider_id) that a delete must send, so that
	 * a namesake re-created since is never deleted.
	 */
	bool strong_id;
	/*
	 * A delete needs the name only and answers 404 itself: rm then sends
	 * no lookup first, and the lookup before it may be answered once from
	 * an expired listing (docs/hwcfs.md, "How fresh each view is").
	 */
	bool delete_by_name;
	/* Entries show their metadata members as user.hwc.* attributes. */
	bool xattrs;
	/*
	 * An entry keeps one child that the API deletes only with the
	 * entry (a hook's default version, a template's last): rmdir does
	 * not count it, and deletes the entry with it (docs/hwcfs.md).
	 */
	bool keeps_a_child;
	/* Its paths start with /v1/{project_id}: a mount showing it needs
	 * the project id. */
	bool in_project;
	const struct kind_ops *ops;
};

#define KIND_MAX_SERVICES 8
#define KIND_MAX 32

extern const struct kind_service kind_services[];
extern const size_t kind_nservices;
extern const struct kind kind_table[];
extern const size_t kind_count;

/*
 * Whether cfg configures the service: its endpoint is set, not empty, and
 * the kinds setting chooses at least one of its kinds.
 */
bool kind_service_configured(const struct kind_service *s,
			     const struct hwc_config *cfg);
/*
 * Whether cfg shows k: its service's endpoint is set and the kinds setting
 * (top kinds' names, unset or "all": every one) names k, or for a child
 * kind its parent.
 */
bool kind_shown(const struct kind *k, const struct hwc_config *cfg);
/*
 * Checks the kinds setting of a finished cfg: -EINVAL with one line in err
 * when it names something that is not a top kind, or when it leaves no
 * kind of a configured service to show.
 */
int kind_check_selection(const struct hwc_config *cfg, char *err,
			 size_t errlen);
/*
 * Checks the protect patterns of a finished cfg: -EINVAL with one line in
 * err for one that can match no path of the tree (a typo such as
 * rfs/provider/prod would protect nothing, silently).
 */
int kind_check_protect(const struct hwc_config *cfg, char *err, size_t errlen);
/* The row of that name ("packages"), or NULL: for tools and tests. */
const struct kind *kind_find(const char *name);
/* A row's index in kind_table. */
static inline unsigned kind_index(const struct kind *k)
{
	return (unsigned)(k - kind_table);
}

#endif
