/*
 * services.h - the cloud operations hwcfs uses, one file per service
 * (iotda.c, rfs.c, iam.c), on top of http.c. Internal to backend/.
 * Every function returns 0 or -errno (from errmap).
 */
#ifndef HWCFS_SERVICES_H
#define HWCFS_SERVICES_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "backend.h"
#include "http.h"

/* Largest metadata text one entry may have; larger entries are dropped. */
#define SVC_MAX_ENTRY_JSON (256u << 10)

/* json_resource.c: JSON answers. */

/* Parses a 2xx body; a body that is not a JSON object is -EIO (logged). */
int http_json_body(const struct http_request *req,
		   const struct http_result *res, cJSON **out);
/*
 * obj pretty-printed with a trailing newline, members in key order, into
 * r->json. show_only (NULL-terminated, may be NULL) names the members a
 * show answer has and a list answer lacks: they are left out, so a file's
 * content and size are the same whichever request brought it.
 */
int http_json_resource(const cJSON *obj, const char *const *show_only,
		       struct resource *r);
/* A string member of at most max bytes and without a NUL, else NULL. */
const char *http_json_str(const cJSON *obj, const char *key, size_t max);
/*
 * The name of one entry (a package, provider or version object): obj's
 * string member key, or want when obj has none (a show answer). -ENOENT,
 * counted in l (may be NULL) and logged at debug level, when the entry is
 * dropped: one of its keys or strings holds a NUL or bytes that are not
 * UTF-8 (json.h), or the name is not a safe file name (names.h). -EIO when
 * want is given and the answer is about another name.
 */
int http_json_entry_name(const cJSON *obj, const char *service, const char *key,
			 const char *want, struct listing *l,
			 const char **name);

/* iotda.c: OTA packages. */
struct iotda {
	struct http_client *h;
	const struct http_endpoint *ep;
	const char *project_id;
	bool parallel; /* pages at offsets 0..500 at once */
};

/* Adds every package of both types to l (not finished). */
int iotda_list_packages(const struct iotda *io, struct listing *l);
int iotda_show_package(const struct iotda *io, const char *id,
		       struct resource *out);
/* res tells the request ids for the audit line; clear it after. */
int iotda_delete_package(const struct iotda *io, const char *id,
			 struct http_result *res);
/* One cheap authenticated list request. */
int iotda_check(const struct iotda *io, struct http_result *res);

/* rfs.c: resources with versions (private providers). */
struct rfs {
	struct http_client *h;
	const struct http_endpoint *ep;
	const char *project_id; /* for a family in_project; may be NULL */
	/* The family the start-up check lists: the first one shown, so
	 * that no request concerns a kind left out (NULL: providers). */
	const struct rfs_family *check;
};

/*
 * The version of a name that the API deletes only with the name, so that
 * an emptiness check does not count it (docs/cloud-api.md).
 */
enum rfs_keep {
	RFS_KEEP_NONE,	  /* every version may go alone (providers) */
	RFS_KEEP_DEFAULT, /* the name's default_version member (hooks) */
	RFS_KEEP_LAST,	  /* the only version left (templates) */
};

/*
 * An RFS resource with versions (a private provider): where it sits and
 * what its fields are called. Its names are directories, its versions
 * files (docs/architecture.md, "The kind table").
 */
struct rfs_family {
	const char *path; /* "/v1/private-providers", or after /v1/PROJECT */
	bool in_project;  /* its path starts with /v1/{project_id} */
	bool unpaged;	  /* lists answer all at once: no limit, no marker */
	enum rfs_keep keep;
	const char *list_key;	 /* "providers": the list answer's array */
	const char *name_key;	 /* "provider_name" */
	const char *version_key; /* "provider_version" */
	const char *id_key;	 /* "provider_id": listed, sent by deletes */
	const char *versions;	 /* "versions": path segment and array */
	const char *show;	 /* "/metadata": after a show's path */
	/* Members only a version's show answer has (http_json_resource). */
	const char *const *version_show_only;
	/* Members only a name's list answer has: left out as well. */
	const char *const *name_list_only;
};

extern const struct rfs_family rfs_providers;
extern const struct rfs_family rfs_modules;   /* rfs_modules.c */
extern const struct rfs_family rfs_hooks;     /* rfs_hooks.c */
extern const struct rfs_family rfs_templates; /* rfs_templates.c */

int rfs_list_names(const struct rfs *r, const struct rfs_family *fam,
		   struct listing *l);
int rfs_list_versions(const struct rfs *r, const struct rfs_family *fam,
		      const char *name, struct listing *l);
/*
 * Whether the named resource has any version but the one the API keeps
 * (fam->keep; keep names the default version for RFS_KEEP_DEFAULT, NULL
 * if unknown): one page of at most 10. An empty page that names a next
 * one is no proof of emptiness: *any is true.
 */
int rfs_has_versions(const struct rfs *r, const struct rfs_family *fam,
		     const char *name, const char *id, const char *keep,
		     bool *any);
int rfs_show_name(const struct rfs *r, const struct rfs_family *fam,
		  const char *name, struct resource *out);
int rfs_show_version(const struct rfs *r, const struct rfs_family *fam,
		     const char *name, const char *version,
		     struct resource *out);
int rfs_delete_name(const struct rfs *r, const struct rfs_family *fam,
		    const char *name, const char *id, struct http_result *res);
int rfs_delete_version(const struct rfs *r, const struct rfs_family *fam,
		       const char *name, const char *version, const char *id,
		       struct http_result *res);
int rfs_check(const struct rfs *r, struct http_result *res);

/* iam.c: tokens and project ids. */
struct iam_login {
	struct http_client *h;
	const struct http_endpoint *ep;
	const char *user, *password, *domain;
	const char *project_id; /* scope by id when known */
	const char *region;	/* else by region name */
};

/*
 * POST /v3/auth/tokens; *token and (if asked) *project_id malloc'ed.
 * Both calls return -EKEYREJECTED when IAM refused the credentials
 * (errmap_is_auth_failure), else the errno of errmap.
 */
int iam_token_by_password(const struct iam_login *in, char **token,
			  char **project_id);
/* http_token_fn for http_client_set_token; arg is a struct iam_login. */
int iam_refresh_token(void *arg, char **token);
/* GET /v3/projects?name=REGION, signed with the keys. */
int iam_project_id(struct http_client *h, const struct http_endpoint *ep,
		   const char *region, char **project_id);

#endif
