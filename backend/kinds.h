/*
 * kinds.h - the backend's side of a kind (include/kind.h): the functions
 * of each row of kind_table, defined next to the service calls they wrap
 * (iotda.c, rfs.c). Internal to backend/. Every function returns 0 or
 * -errno (from errmap). svc is the service's own state: struct iotda for
 * IoTDA, struct rfs for RFS (services.h).
 */
#ifndef HWCFS_KINDS_H
#define HWCFS_KINDS_H

#include <stdbool.h>

#include "backend.h"
#include "http.h"
#include "kind.h"

/* The rows of kind_services: a new service adds one (kinds.c). */
enum { KIND_SVC_IOTDA, KIND_SVC_RFS, KIND_SVC_COUNT };

struct kind_service_ops {
	/* One cheap authenticated request; *ep is the endpoint it asked. */
	int (*check)(const void *svc, const struct http_endpoint **ep,
		     struct http_result *res);
};

struct kind_ops {
	/* Adds every entry of c to l (not finished). */
	int (*list)(const void *svc, const struct coll *c, struct listing *l);
	int (*show)(const void *svc, const struct coll *c, const char *name,
		    struct resource *out);
	/* res tells the request ids for the audit line; clear it after. */
	int (*remove)(const void *svc, const struct coll *c,
		      const struct resource *r, struct http_result *res);
	/* Kinds with a child kind: whether r has any child, one request. */
	int (*has_children)(const void *svc, const struct coll *c,
			    const struct resource *r, bool *any);
	/* What the functions are parametrised by (an RFS family), if any. */
	const void *data;
};

/* iotda.c */
extern const struct kind_service_ops iotda_service_ops;
extern const struct kind_ops iotda_package_ops;
/* rfs.c */
extern const struct kind_service_ops rfs_service_ops;
extern const struct kind_ops rfs_provider_ops, rfs_version_ops;
/* rfs_modules.c */
extern const struct kind_ops rfs_module_ops, rfs_module_version_ops;
/* rfs_hooks.c */
extern const struct kind_ops rfs_hook_ops, rfs_hook_version_ops;
/* rfs_templates.c */
extern const struct kind_ops rfs_template_ops, rfs_template_version_ops;

/*
 * The two kinds of an RFS resource with versions (struct rfs_family,
 * services.h): its names, directories, and their versions, files. The
 * functions take the family from the ops' data.
 */
int rfs_names_list(const void *svc, const struct coll *c, struct listing *l);
int rfs_names_show(const void *svc, const struct coll *c, const char *name,
		   struct resource *out);
int rfs_names_remove(const void *svc, const struct coll *c,
		     const struct resource *r, struct http_result *res);
int rfs_names_has_children(const void *svc, const struct coll *c,
			   const struct resource *r, bool *any);
int rfs_versions_list(const void *svc, const struct coll *c, struct listing *l);
int rfs_versions_show(const void *svc, const struct coll *c, const char *name,
		      struct resource *out);
int rfs_versions_remove(const void *svc, const struct coll *c,
			const struct resource *r, struct http_result *res);

#define RFS_NAME_OPS(fam)                                              \
	{                                                              \
		.list = rfs_names_list, .show = rfs_names_show,        \
		.remove = rfs_names_remove,                            \
		.has_children = rfs_names_has_children, .data = (fam), \
	}
#define RFS_VERSION_OPS(fam)                                          \
	{                                                             \
		.list = rfs_versions_list, .show = rfs_versions_show, \
		.remove = rfs_versions_remove, .data = (fam),         \
	}

#endif
