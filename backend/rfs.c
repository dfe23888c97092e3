/*
 * rfs.c - RFS resources that have versions (private providers, modules,
 * hooks, templates): list (following next_marker), show metadata, delete;
 * deletes always name the id (provider_id, module_id, ...) that was
 * listed. A struct rfs_family (services.h) names the paths and fields of
 * one such resource; its file (rfs_modules.c, ...) defines it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "kinds.h"
#include "log.h"
#include "names.h"
#include "parse.h"
#include "services.h"

#define RFS_LIMIT "1000"   /* the API's largest page */
#define RFS_MAX_MARKER 512 /* the API's marker length limit */
/* Every page adds a name, and the API's smallest page is 10: more pages
 * than this cannot fit in a listing (LISTING_MAX_ENTRIES). */
#define RFS_MAX_PAGES (LISTING_MAX_ENTRIES / 10)
#define RFS_PROVIDER_ID_LEN 36
#define RFS_PATH_MAX (64 + 2 * HTTP_SEGMENT_MAX)

/* YYYY-MM-DDTHH:mm:ss[.SSS]Z (UTC); 0 when absent or bad. */
time_t rfs_parse_time(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	struct tm tm;
	size_t i, n;

	if (!s)
		return 0;
	n = strlen(s);
	if (n < sizeof(shape) || s[n - 1] != 'Z')
		return 0;
	for (i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i])
				    : s[i] != shape[i])
			return 0;
	}
	/* Only "Z" or ".digits" + "Z" may follow the seconds: anything else
	 * would be read into them (found by tests/fuzz/fuzz_time). */
	if (n > sizeof(shape)) {
		if (s[i] != '.' || n == sizeof(shape) + 1)
			return 0;
		for (i++; i < n - 1; i++)
			if (!isdigit((unsigned char)s[i]))
				return 0;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = atoi(s + 11);
	tm.tm_min = atoi(s + 14);
	tm.tm_sec = atoi(s + 17);
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return 0;
	return timegm(&tm);
}

/* A version's show answer adds provider_source; the list's lacks it. */
static const char *const rfs_provider_version_show_only[] = {"provider_source",
							     NULL};

const struct rfs_family rfs_providers = {
    .path = "/v1/private-providers",
    .list_key = "providers",
    .name_key = "provider_name",
    .version_key = "provider_version",
    .id_key = "provider_id",
    .versions = "versions",
    .show = "/metadata",
    .version_show_only = rfs_provider_version_show_only,
};

/*
 * One provider or version object into r. An entry with a NUL in a string,
 * or whose name cannot be a file name, is dropped (-ENOENT) and counted in
 * l (NULL for a show answer).
 */
static int rfs_entry(const cJSON *obj, const struct rfs_family *fam,
		     bool version, const char *want, struct listing *l,
		     struct resource *r)
{
	const char *key = version ? fam->version_key : fam->name_key;
	const char *name, *id, *t;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(obj))
		return errmap_malformed();
	ret = http_json_entry_name(obj, "rfs", key, want, l, &name);
	if (ret)
		return ret;
	r->name = strdup(name);
	if (!r->name)
		return -ENOMEM;
	id = http_json_str(obj, fam->id_key, RFS_PROVIDER_ID_LEN);
	if (id && strlen(id) == RFS_PROVIDER_ID_LEN) {
		r->provider_id = strdup(id);
		if (!r->provider_id) {
			resource_clear(r);
			return -ENOMEM;
		}
	} else {
		log_warn("rfs: %s %s has no valid %s", key, name, fam->id_key);
	}
	t = http_json_str(obj, "update_time", 64);
	r->ctime = rfs_parse_time(http_json_str(obj, "create_time", 64));
	r->mtime = rfs_parse_time(t);
	if (!r->mtime)
		r->mtime = r->ctime;
	ret = http_json_resource(
	    obj, version ? fam->version_show_only : fam->name_list_only, r);
	if (!ret && r->json_len > SVC_MAX_ENTRY_JSON) {
		log_warn("rfs: skipping %s: metadata of %zu bytes", name,
			 r->json_len);
		if (l)
			l->dropped_big++;
		ret = -ENOENT;
	}
	if (ret)
		resource_clear(r);
	return ret;
}

static void free_markers(char **seen, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(seen[i]);
	free(seen);
}

/* Adds a marker to seen; -EIO if it came before (the walk would loop). */
static int remember_marker(char ***seen, size_t *n, const char *m)
{
	char **grown;
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*seen)[i], m) == 0)
			return errmap_malformed();
	grown = realloc(*seen, (*n + 1) * sizeof(**seen));
	if (!grown)
		return -ENOMEM;
	*seen = grown;
	grown[*n] = strdup(m);
	if (!grown[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

/*
 * A page's next_marker into *next, NULL at the end: null or absent, as the
 * SDK documents. What cannot be sent back (not a string, "", more than the
 * API's 512 characters) is -EIO, never the end of a short listing.
 */
static int rfs_next_marker(const cJSON *info, const char *path,
			   const char **next)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(info, "next_marker");
	const char *why = NULL;

	*next = NULL;
	if (!cJSON_IsObject(info) || !m || cJSON_IsNull(m))
		return 0;
	if (!cJSON_IsString(m) || !m->valuestring)
		why = "not a string";
	else if (!m->valuestring[0])
		why = "empty";
	else if (strlen(m->valuestring) > RFS_MAX_MARKER)
		why = "longer than 512 characters";
	if (why) {
		log_err("rfs: %s: next_marker is %s; giving up", path, why);
		return errmap_malformed();
	}
	*next = m->valuestring;
	return 0;
}

/*
 * One list page's entries into l; *next gets its next_marker (NULL at the
 * end), pointing into root. A page that adds no new name yet names a next
 * one is -EIO: a server that repeats itself under fresh markers, or sends
 * empty pages, would otherwise be followed for ever.
 */
static int rfs_page(const char *path, const char *key,
		    const struct rfs_family *fam, bool version,
		    const struct http_result *res, const cJSON *root,
		    struct listing *l, const char **next)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(root, key);
	const cJSON *info = cJSON_GetObjectItemCaseSensitive(root, "page_info");
	const cJSON *item;
	size_t before = l->count;
	int ret;

	*next = NULL;
	/* Outside the entries (next_marker) a NUL spoils the page. */
	if (!cJSON_IsArray(items) ||
	    (info && !cJSON_IsObject(info) && !cJSON_IsNull(info)) ||
	    !json_clean(root, items)) {
		log_err("rfs: %s: answer has no %s array, or a NUL outside it "
			"request_id=%s",
			path, key, res->request_id[0] ? res->request_id : "-");
		return errmap_malformed();
	}
	cJSON_ArrayForEach(item, items)
	{
		struct resource e;

		ret = rfs_entry(item, fam, version, NULL, l, &e);
		if (ret == -ENOENT)
			continue;
		if (!ret)
			ret = listing_add(l, &e);
		if (ret) {
			resource_clear(&e);
			return ret;
		}
	}
	/* A family that is never paged ends with its one answer. */
	ret = fam->unpaged ? 0 : rfs_next_marker(info, path, next);
	if (!ret && *next && l->count == before) {
		log_err("rfs: %s: a page adds no new name yet names a next "
			"page; giving up",
			path);
		ret = errmap_malformed();
	}
	return ret;
}

/* Every page of one list, one after the other (each marker comes from the
 * page before). */
static int rfs_walk(const struct rfs *r, const char *path, const char *key,
		    const struct rfs_family *fam, bool version,
		    struct listing *l)
{
	char **seen = NULL;
	size_t nseen = 0, pages;
	char *marker = NULL;
	int ret = 0;

	for (pages = 0; !ret; pages++) {
		struct sign_param params[2] = {{"limit", RFS_LIMIT},
					       {"marker", marker}};
		struct http_request req = {.ep = r->ep,
					   .method = "GET",
					   .path = path,
					   .params = params,
					   .nparams = fam->unpaged ? 0
						      : marker	   ? 2
								   : 1,
					   .op = ERRMAP_READ};
		struct http_result res;
		const char *next;
		cJSON *root;

		if (pages >= RFS_MAX_PAGES) {
			log_err("rfs: %s: more than %u pages; giving up", path,
				RFS_MAX_PAGES);
			ret = errmap_malformed();
			break;
		}
		ret = http_do(r->h, &req, &res);
		if (!ret)
			ret = http_json_body(&req, &res, &root);
		if (ret) {
			http_result_clear(&res);
			break;
		}
		ret = rfs_page(path, key, fam, version, &res, root, l, &next);
		free(marker);
		marker = NULL;
		if (!ret && next) {
			ret = remember_marker(&seen, &nseen, next);
			if (ret == -EIO)
				log_err("rfs: %s: next_marker repeats; "
					"giving up",
					path);
			if (!ret) {
				marker = strdup(next);
				if (!marker)
					ret = -ENOMEM;
			}
		}
		cJSON_Delete(root);
		http_result_clear(&res);
		if (!ret && !marker)
			break;
	}
	free(marker);
	free_markers(seen, nseen);
	return ret;
}

/*
 * The path of a family (and a named resource, and version), each name
 * percent-encoded: [/v1/PROJECT]fam->path[/NAME TAIL VERSION END]. A
 * family in_project without a project id is -ENOENT (http_backend_new
 * refuses to show it).
 */
static int path_fmt(char *buf, size_t len, const struct rfs *r,
		    const struct rfs_family *fam, const char *provider,
		    const char *tail, const char *version, const char *end)
{
	char pseg[HTTP_SEGMENT_MAX], vseg[HTTP_SEGMENT_MAX];
	char proj[HTTP_SEGMENT_MAX + 8] = "";
	int n = 0;

	if (fam->in_project) {
		if (!r->project_id)
			return -ENOENT;
		memcpy(proj, "/v1/", 5);
		n = http_path_segment(r->project_id, proj + 4,
				      sizeof(proj) - 4);
	}
	if (!n && provider)
		n = http_path_segment(provider, pseg, sizeof(pseg));
	if (!n && version)
		n = http_path_segment(version, vseg, sizeof(vseg));
	if (n)
		return n;
	n = snprintf(buf, len, "%s%s%s%s%s%s%s", proj, fam->path,
		     provider ? "/" : "", provider ? pseg : "", tail,
		     version ? vseg : "", end);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int rfs_list_names(const struct rfs *r, const struct rfs_family *fam,
		   struct listing *l)
{
	char path[RFS_PATH_MAX];
	int ret = path_fmt(path, sizeof(path), r, fam, NULL, "", NULL, "");

	if (ret)
		return ret;
	return rfs_walk(r, path, fam->list_key, fam, false, l);
}

int rfs_list_versions(const struct rfs *r, const struct rfs_family *fam,
		      const char *provider, struct listing *l)
{
	char tail[64];

	char path[RFS_PATH_MAX];
	int ret;

	if (!name_safe(provider))
		return -ENOENT;
	snprintf(tail, sizeof(tail), "/%s", fam->versions);
	ret = path_fmt(path, sizeof(path), r, fam, provider, tail, NULL, "");
	if (ret)
		return ret;
	return rfs_walk(r, path, fam->versions, fam, true, l);
}

/*
 * The versions of an emptiness check's page that count: all but the one
 * the API keeps, when the family has one (fam->keep, keep).
 */
static int rfs_page_count(const cJSON *items, const struct rfs_family *fam,
			  const char *keep)
{
	const cJSON *item;
	int n = 0;

	cJSON_ArrayForEach(item, items)
	{
		const char *v = http_json_str(item, fam->version_key, 256);

		if (!(fam->keep == RFS_KEEP_DEFAULT && keep && v &&
		      strcmp(v, keep) == 0))
			n++;
	}
	return fam->keep == RFS_KEEP_LAST && n > 0 ? n - 1 : n;
}

/*
 * Whether an emptiness check's page shows a version. An empty page that
 * names a next one proves nothing: it counts as "has versions", so rmdir
 * is refused (ENOTEMPTY) rather than deleting a provider with versions.
 */
static int rfs_page_has_entries(const cJSON *root, const struct rfs_family *fam,
				const char *keep, const char *path, bool *any)
{
	const cJSON *items =
	    cJSON_GetObjectItemCaseSensitive(root, fam->versions);
	const cJSON *info = cJSON_GetObjectItemCaseSensitive(root, "page_info");
	const char *next;
	int ret;

	if (!cJSON_IsArray(items) ||
	    (info && !cJSON_IsObject(info) && !cJSON_IsNull(info)))
		return errmap_malformed();
	*any = rfs_page_count(items, fam, keep) > 0;
	if (*any || fam->unpaged)
		return 0;
	ret = rfs_next_marker(info, path, &next);
	if (!ret && next) {
		log_warn("rfs: %s: an empty page names a next one; taking the "
			 "provider as not empty",
			 path);
		*any = true;
	}
	return ret;
}

int rfs_has_versions(const struct rfs *r, const struct rfs_family *fam,
		     const char *provider, const char *provider_id,
		     const char *keep, bool *any)
{
	/* An unpaged family takes no limit: its id alone, if any. */
	struct sign_param params[2] = {{"limit", "10"},
				       {fam->id_key, provider_id}};
	bool skip = fam->unpaged;
	struct http_request req = {.ep = r->ep,
				   .method = "GET",
				   .params = params + skip,
				   .nparams = (provider_id ? 2u : 1u) - skip,
				   .op = provider_id ? ERRMAP_PROVIDER_ID
						     : ERRMAP_READ};
	struct http_result res;
	char path[RFS_PATH_MAX], tail[64];
	cJSON *root;
	int ret;

	*any = false;
	if (!name_safe(provider))
		return -ENOENT;
	snprintf(tail, sizeof(tail), "/%s", fam->versions);
	ret = path_fmt(path, sizeof(path), r, fam, provider, tail, NULL, "");
	if (ret)
		return ret;
	req.path = path;
	ret = http_do(r->h, &req, &res);
	if (!ret)
		ret = http_json_body(&req, &res, &root);
	if (!ret) {
		ret = rfs_page_has_entries(root, fam, keep, path, any);
		cJSON_Delete(root);
	}
	http_result_clear(&res);
	return ret;
}

static int rfs_show(const struct rfs *r, const char *path,
		    const struct rfs_family *fam, bool version,
		    const char *name, struct resource *out)
{
	struct http_request req = {
	    .ep = r->ep, .method = "GET", .path = path, .op = ERRMAP_READ};
	struct http_result res;
	cJSON *root;
	int ret;

	ret = http_do(r->h, &req, &res);
	if (!ret)
		ret = http_json_body(&req, &res, &root);
	if (!ret) {
		/* A template version's show answer lacks its version_id:
		 * the name asked for, so its content is the listing's. */
		if (version &&
		    !cJSON_GetObjectItemCaseSensitive(root, fam->version_key) &&
		    !cJSON_AddStringToObject(root, fam->version_key, name))
			ret = -ENOMEM;
		/* An answer about another name is not this one. */
		if (!ret)
			ret = rfs_entry(root, fam, version, name, NULL, out);
		if (ret == -ENOENT)
			ret = errmap_malformed();
		cJSON_Delete(root);
	}
	http_result_clear(&res);
	return ret;
}

int rfs_show_name(const struct rfs *r, const struct rfs_family *fam,
		  const char *name, struct resource *out)
{
	char path[RFS_PATH_MAX];
	int ret;

	memset(out, 0, sizeof(*out));
	if (!name_safe(name))
		return -ENOENT;
	ret = path_fmt(path, sizeof(path), r, fam, name, fam->show, NULL, "");
	if (ret)
		return ret;
	return rfs_show(r, path, fam, false, name, out);
}

int rfs_show_version(const struct rfs *r, const struct rfs_family *fam,
		     const char *provider, const char *version,
		     struct resource *out)
{
	char path[RFS_PATH_MAX], tail[64];
	int ret;

	memset(out, 0, sizeof(*out));
	if (!name_safe(provider) || !name_safe(version))
		return -ENOENT;
	snprintf(tail, sizeof(tail), "/%s/", fam->versions);
	ret = path_fmt(path, sizeof(path), r, fam, provider, tail, version,
		       fam->show);
	if (ret)
		return ret;
	return rfs_show(r, path, fam, true, version, out);
}

static bool provider_id_valid(const char *id)
{
	size_t i;

	if (!id || strlen(id) != RFS_PROVIDER_ID_LEN)
		return false;
	for (i = 0; i < RFS_PROVIDER_ID_LEN; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '-')
			return false;
	return true;
}

int rfs_delete_name(const struct rfs *r, const struct rfs_family *fam,
		    const char *name, const char *provider_id,
		    struct http_result *res)
{
	struct sign_param params[1] = {{fam->id_key, provider_id}};
	struct http_request req = {.ep = r->ep,
				   .method = "DELETE",
				   .params = params,
				   .nparams = 1,
				   .op = ERRMAP_PROVIDER_ID};
	char path[RFS_PATH_MAX];
	int ret;

	memset(res, 0, sizeof(*res));
	if (!name_safe(name))
		return -ENOENT;
	/* Without the id a namesake re-created by someone else could be
	 * deleted: never send a provider delete without it. */
	if (!provider_id_valid(provider_id))
		return -EINVAL;
	ret = path_fmt(path, sizeof(path), r, fam, name, "", NULL, "");
	if (ret)
		return ret;
	req.path = path;
	return http_do(r->h, &req, res);
}

int rfs_delete_version(const struct rfs *r, const struct rfs_family *fam,
		       const char *provider, const char *version,
		       const char *provider_id, struct http_result *res)
{
	struct sign_param params[1] = {{fam->id_key, provider_id}};
	struct http_request req = {.ep = r->ep,
				   .method = "DELETE",
				   .params = params,
				   .nparams = 1,
				   .op = ERRMAP_PROVIDER_ID};
	char path[RFS_PATH_MAX], tail[64];
	int ret;

	memset(res, 0, sizeof(*res));
	if (!name_safe(provider) || !name_safe(version))
		return -ENOENT;
	/* As for providers: without the id, a version of a namesake
	 * re-created by someone else could be deleted. */
	if (!provider_id_valid(provider_id))
		return -EINVAL;
	snprintf(tail, sizeof(tail), "/%s/", fam->versions);
	ret = path_fmt(path, sizeof(path), r, fam, provider, tail, version, "");
	if (ret)
		return ret;
	req.path = path;
	return http_do(r->h, &req, res);
}

int rfs_check(const struct rfs *r, struct http_result *res)
{
	static const struct sign_param params[] = {{"limit", "10"}};
	const struct rfs_family *fam = r->check ? r->check : &rfs_providers;
	struct http_request req = {.ep = r->ep,
				   .method = "GET",
				   .params = params,
				   .nparams = fam->unpaged ? 0 : 1,
				   .op = ERRMAP_READ};
	char path[RFS_PATH_MAX];
	cJSON *root;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = path_fmt(path, sizeof(path), r, fam, NULL, "", NULL, "");
	if (ret)
		return ret;
	req.path = path;
	ret = http_do(r->h, &req, res);
	if (!ret) {
		ret = http_json_body(&req, res, &root);
		if (!ret)
			cJSON_Delete(root);
	}
	return ret;
}

/* ---- the kinds (kinds.h) ---- */

static int rfs_svc_check(const void *svc, const struct http_endpoint **ep,
			 struct http_result *res)
{
	const struct rfs *r = svc;

	*ep = r->ep;
	return rfs_check(r, res);
}

/* The family a kind's functions are for: its ops' data. */
static const struct rfs_family *rfs_family_of(const struct coll *c)
{
	return c->kind->ops->data;
}

int rfs_names_list(const void *svc, const struct coll *c, struct listing *l)
{
	return rfs_list_names(svc, rfs_family_of(c), l);
}

int rfs_names_show(const void *svc, const struct coll *c, const char *name,
		   struct resource *out)
{
	return rfs_show_name(svc, rfs_family_of(c), name, out);
}

int rfs_names_remove(const void *svc, const struct coll *c,
		     const struct resource *r, struct http_result *res)
{
	return rfs_delete_name(svc, rfs_family_of(c), r->name, r->provider_id,
			       res);
}

/* The default version a name's metadata names (a hook's), or NULL. */
static char *rfs_default_version(const struct resource *r)
{
	cJSON *root =
	    r->json ? cJSON_ParseWithLength(r->json, r->json_len) : NULL;
	const char *v = http_json_str(root, "default_version", 256);
	char *copy = v ? strdup(v) : NULL;

	cJSON_Delete(root);
	return copy;
}

int rfs_names_has_children(const void *svc, const struct coll *c,
			   const struct resource *r, bool *any)
{
	const struct rfs_family *fam = rfs_family_of(c);
	char *keep = NULL;
	int ret;

	if (fam->keep == RFS_KEEP_DEFAULT)
		keep = rfs_default_version(r);
	ret = rfs_has_versions(svc, fam, r->name, r->provider_id, keep, any);
	free(keep);
	return ret;
}

int rfs_versions_list(const void *svc, const struct coll *c, struct listing *l)
{
	return rfs_list_versions(svc, rfs_family_of(c), c->parent, l);
}

int rfs_versions_show(const void *svc, const struct coll *c, const char *name,
		      struct resource *out)
{
	return rfs_show_version(svc, rfs_family_of(c), c->parent, name, out);
}

int rfs_versions_remove(const void *svc, const struct coll *c,
			const struct resource *r, struct http_result *res)
{
	return rfs_delete_version(svc, rfs_family_of(c), c->parent, r->name,
				  r->provider_id, res);
}

const struct kind_service_ops rfs_service_ops = {.check = rfs_svc_check};

/*
 * A family's two kinds: its names (directories) and their versions
 * (files). Another family is two more of these with its own data.
 */
const struct kind_ops rfs_provider_ops = RFS_NAME_OPS(&rfs_providers);
const struct kind_ops rfs_version_ops = RFS_VERSION_OPS(&rfs_providers);
