/*
 * http_backend.c - struct backend over the cloud: maps collections to the
 * IoTDA and RFS calls, asks about a name only when it was listed or can be
 * an identifier, writes the audit line of every delete, and keeps dry-run
 * deletes hidden.
 */
#include "http_backend.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "kinds.h"
#include "log.h"
#include "names.h"
#include "regions.h"
#include "services.h"

/*
 * The names a collection's last listing had that do not match their kind's
 * pattern (name_valid): of such names, only these are worth a request.
 */
struct listed_names {
	char *coll;   /* coll_path */
	char **names; /* sorted (strcmp), as the listing was */
	size_t n;
	double fetched; /* monotonic seconds, when the listing started */
};

struct http_backend {
	struct backend base;
	struct http_client *h;
	struct http_endpoint iotda_ep, rfs_ep, iam_ep;
	bool has_iotda, has_rfs, has_iam;
	char *project_id;
	char *region;
	char *instance_id;
	char *iam_user, *iam_password, *iam_domain;
	struct iotda iotda;
	struct rfs rfs;
	struct iam_login login;
	/* Each kind_services row's state (iotda, rfs), NULL when the
	 * service is not configured: what a kind's functions get. */
	const void *svc[KIND_SVC_COUNT];
	bool dry_run;
	/* Dry run: what this backend pretends to have deleted, as
	 * coll_path + "/" + name, until forget(). */
	pthread_mutex_t hide_lock;
	char **hidden;
	size_t nhidden, caphidden;
	/* What the listings showed that a user could not have typed. */
	pthread_mutex_t listed_lock;
	struct listed_names *listed;
	size_t nlisted;
	int ttl; /* cache_ttl: how long a listing counts as fresh; 0: ever */
};

static struct http_backend *hb_of(struct backend *b)
{
	return (struct http_backend *)b;
}

/* ---- dry-run hiding ---- */

static int entry_path(const struct coll *c, const char *name, char *buf,
		      size_t len)
{
	char dir[512];
	int n, ret = coll_path(c, dir, sizeof(dir));

	if (ret)
		return ret;
	n = snprintf(buf, len, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool is_hidden_locked(struct http_backend *hb, const char *path)
{
	size_t i;

	for (i = 0; i < hb->nhidden; i++)
		if (strcmp(hb->hidden[i], path) == 0)
			return true;
	return false;
}

static bool is_hidden(struct http_backend *hb, const struct coll *c,
		      const char *name)
{
	char path[1024];
	bool hidden;

	if (!hb->dry_run || entry_path(c, name, path, sizeof(path)))
		return false;
	pthread_mutex_lock(&hb->hide_lock);
	hidden = is_hidden_locked(hb, path);
	pthread_mutex_unlock(&hb->hide_lock);
	return hidden;
}

static int hide(struct http_backend *hb, const char *path)
{
	int ret = 0;

	pthread_mutex_lock(&hb->hide_lock);
	if (!is_hidden_locked(hb, path)) {
		if (hb->nhidden == hb->caphidden) {
			size_t cap = hb->caphidden ? hb->caphidden * 2 : 16;
			char **grown =
			    realloc(hb->hidden, cap * sizeof(*grown));

			if (!grown)
				ret = -ENOMEM;
			else {
				hb->hidden = grown;
				hb->caphidden = cap;
			}
		}
		if (!ret) {
			hb->hidden[hb->nhidden] = strdup(path);
			if (hb->hidden[hb->nhidden])
				hb->nhidden++;
			else
				ret = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&hb->hide_lock);
	return ret;
}

/* Removes hidden entries under prefix ("" for all). */
static void unhide(struct http_backend *hb, const char *prefix)
{
	size_t i, kept = 0, n = strlen(prefix);

	pthread_mutex_lock(&hb->hide_lock);
	for (i = 0; i < hb->nhidden; i++) {
		if (strncmp(hb->hidden[i], prefix, n) == 0)
			free(hb->hidden[i]);
		else
			hb->hidden[kept++] = hb->hidden[i];
	}
	hb->nhidden = kept;
	pthread_mutex_unlock(&hb->hide_lock);
}

/* Drops hidden entries from a listing not yet finished. */
static void drop_hidden(struct http_backend *hb, const struct coll *c,
			struct listing *l)
{
	size_t i, kept = 0;

	if (!hb->dry_run)
		return;
	for (i = 0; i < l->count; i++) {
		if (is_hidden(hb, c, l->items[i].name))
			resource_clear(&l->items[i]);
		else
			l->items[kept++] = l->items[i];
	}
	l->count = kept;
}

/* ---- names the listings showed ---- */

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void listed_free(struct listed_names *ln)
{
	size_t i;

	for (i = 0; i < ln->n; i++)
		free(ln->names[i]);
	free(ln->names);
	free(ln->coll);
}

/* Drops the records of prefix, or (not exact) of every collection path
 * that starts with it (all: ""). Called with listed_lock held. */
static void listed_forget_locked(struct http_backend *hb, const char *prefix,
				 bool exact)
{
	size_t i, kept = 0, n = strlen(prefix);

	for (i = 0; i < hb->nlisted; i++) {
		struct listed_names *ln = &hb->listed[i];

		if (exact ? strcmp(ln->coll, prefix) == 0
			  : strncmp(ln->coll, prefix, n) == 0)
			listed_free(ln);
		else
			hb->listed[kept++] = *ln;
	}
	hb->nlisted = kept;
}

static void listed_forget(struct http_backend *hb, const char *prefix,
			  bool exact)
{
	pthread_mutex_lock(&hb->listed_lock);
	listed_forget_locked(hb, prefix, exact);
	pthread_mutex_unlock(&hb->listed_lock);
}

/*
 * Keeps the names of l (finished, so sorted) that do not match c's
 * pattern, in place of what an older listing of c kept. Without memory
 * the record is just left out: such names are then ENOENT, never a
 * request for something nobody listed.
 */
static void listed_remember(struct http_backend *hb, const struct coll *c,
			    const struct listing *l, double fetched)
{
	struct listed_names ln = {.fetched = fetched}, *grown;
	char dir[512];
	size_t i;

	if (coll_path(c, dir, sizeof(dir)))
		return;
	for (i = 0; i < l->count; i++)
		if (!name_valid(c->kind, l->items[i].name))
			ln.n++;
	if (!ln.n) {
		listed_forget(hb, dir, true);
		return;
	}
	ln.coll = strdup(dir);
	ln.names = calloc(ln.n, sizeof(*ln.names));
	ln.n = 0;
	if (!ln.coll || !ln.names)
		goto fail;
	for (i = 0; i < l->count; i++) {
		if (name_valid(c->kind, l->items[i].name))
			continue;
		ln.names[ln.n] = strdup(l->items[i].name);
		if (!ln.names[ln.n++])
			goto fail;
	}
	pthread_mutex_lock(&hb->listed_lock);
	listed_forget_locked(hb, dir, true);
	grown = realloc(hb->listed, (hb->nlisted + 1) * sizeof(*grown));
	if (grown) {
		hb->listed = grown;
		grown[hb->nlisted++] = ln;
	}
	pthread_mutex_unlock(&hb->listed_lock);
	if (grown)
		return;
fail:
	/* The old record is stale now: better none than a wrong one. */
	listed_forget(hb, dir, true);
	listed_free(&ln);
}

static int listed_cmp(const void *key, const void *item)
{
	return strcmp(key, *(char *const *)item);
}

/*
 * Whether the last listing of c had name (one that fails its pattern); if
 * fresh, only while that listing is fresh.
 */
static bool listed_has(struct http_backend *hb, const struct coll *c,
		       const char *name, bool fresh)
{
	char dir[512];
	bool found = false;
	double now = mono_now();
	size_t i;

	if (coll_path(c, dir, sizeof(dir)))
		return false;
	pthread_mutex_lock(&hb->listed_lock);
	for (i = 0; i < hb->nlisted && !found; i++) {
		struct listed_names *ln = &hb->listed[i];

		if (strcmp(ln->coll, dir) != 0)
			continue;
		if (fresh && hb->ttl > 0 && now >= ln->fetched + hb->ttl)
			break;
		found = bsearch(name, ln->names, ln->n, sizeof(*ln->names),
				listed_cmp) != NULL;
	}
	pthread_mutex_unlock(&hb->listed_lock);
	return found;
}

/* ---- the operations ---- */

/* The state of k's service (kinds.h), NULL when it is not configured. */
static const void *hb_svc(const struct http_backend *hb, const struct kind *k)
{
	return k && k->service->id < KIND_SVC_COUNT ? hb->svc[k->service->id]
						    : NULL;
}

/* Whether the collection's service is configured and its names valid. */
static int coll_ready(struct http_backend *hb, const struct coll *c)
{
	const struct kind *pk = c->kind ? c->kind->parent : NULL;
	struct coll parent = {pk, NULL};

	if (!hb_svc(hb, c->kind))
		return -ENOENT;
	if (!pk)
		return 0;
	/* The parent's name follows the rule of hb_lookup; once listed it
	 * stays good while its directory may be open. */
	if (!name_safe(c->parent) ||
	    (!name_valid(pk, c->parent) &&
	     !listed_has(hb, &parent, c->parent, false)))
		return -ENOENT;
	/* A parent deleted in dry run has no children to show. */
	if (is_hidden(hb, &parent, c->parent))
		return -ENOENT;
	return 0;
}

/* A walk into l; a listing past its bound is EIO with one log line. */
static int list_into(struct http_backend *hb, const struct coll *c,
		     struct listing *l)
{
	char dir[512];
	int ret = c->kind->ops->list(hb_svc(hb, c->kind), c, l);

	if (ret == -EFBIG) {
		coll_path(c, dir, sizeof(dir));
		log_err("%s: the listing passes %u entries or %u MiB; giving "
			"up",
			dir, LISTING_MAX_ENTRIES, LISTING_MAX_BYTES >> 20);
		ret = errmap_malformed();
	}
	return ret;
}

/* One line per listing that left entries out (each is at debug level). */
static void log_dropped(const struct coll *c, const struct listing *l)
{
	size_t n = l->dropped_tainted + l->dropped_unsafe + l->dropped_big;
	char dir[512];

	if (!n)
		return;
	coll_path(c, dir, sizeof(dir));
	log_warn("%s: dropped %zu listed entries: %zu with a NUL or bytes "
		 "that are not UTF-8, %zu with a name that is not a safe file "
		 "name, %zu with metadata over %u KiB",
		 dir, n, l->dropped_tainted, l->dropped_unsafe, l->dropped_big,
		 SVC_MAX_ENTRY_JSON >> 10);
}

static int hb_list(struct backend *b, const struct coll *c,
		   struct listing **out)
{
	struct http_backend *hb = hb_of(b);
	struct http_limit limit;
	double fetched = mono_now();
	struct listing *l;
	size_t dropped;
	int ret;

	*out = NULL;
	ret = coll_ready(hb, c);
	if (ret)
		return ret;
	l = listing_new();
	if (!l)
		return -ENOMEM;
	/* A hostile server's endless pages must not hold `ls` forever. */
	http_limit_begin(hb->h, &limit);
	ret = list_into(hb, c, l);
	if (http_limit_end(&limit)) {
		char dir[512];

		coll_path(c, dir, sizeof(dir));
		log_err("%s: the listing reached its time limit (%d x timeout) "
			"after %zu entries; giving up: %s",
			dir, HTTP_LIST_LIMIT, l->count, strerror(ETIMEDOUT));
		ret = -ETIMEDOUT;
	}
	if (ret) {
		listing_put(l);
		return ret;
	}
	drop_hidden(hb, c, l);
	dropped = listing_finish(l);
	if (dropped) {
		char dir[512];

		coll_path(c, dir, sizeof(dir));
		log_warn("%s: the listing repeated %zu names; kept one of each",
			 dir, dropped);
	}
	log_dropped(c, l);
	listed_remember(hb, c, l, fetched);
	*out = l;
	return 0;
}

static int hb_lookup(struct backend *b, const struct coll *c, const char *name,
		     struct resource *out)
{
	struct http_backend *hb = hb_of(b);
	int ret;

	memset(out, 0, sizeof(*out));
	ret = coll_ready(hb, c);
	if (ret)
		return ret;
	if (!name_safe(name) || is_hidden(hb, c, name))
		return -ENOENT;
	/* A name nobody listed is worth a request only if it can be an
	 * identifier (docs/hwcfs.md, "The tree"). */
	if (!name_valid(c->kind, name) && !listed_has(hb, c, name, true))
		return -ENOENT;
	return c->kind->ops->show(hb_svc(hb, c->kind), c, name, out);
}

/* Whether an entry (a provider) still has children (versions), as the
 * cloud says; in dry run, children already "deleted" do not count. */
static int has_children(struct http_backend *hb, const struct coll *c,
			const struct resource *r, bool *any)
{
	struct coll vc = {c->kind->child, r->name};
	struct listing *l;
	size_t i;
	int ret;

	if (!hb->dry_run)
		return c->kind->ops->has_children(hb_svc(hb, c->kind), c, r,
						  any);
	l = listing_new();
	if (!l)
		return -ENOMEM;
	ret = list_into(hb, &vc, l);
	*any = false;
	for (i = 0; !ret && i < l->count && !*any; i++)
		if (!is_hidden(hb, &vc, l->items[i].name))
			*any = true;
	listing_put(l);
	return ret;
}

static const char *outcome_of(int err)
{
	switch (err) {
	case 0:
		return "deleted";
	case -ENOENT:
		return "ENOENT";
	case -EACCES:
		return "EACCES";
	case -ESTALE:
		return "ESTALE";
	case -EAGAIN:
		return "EAGAIN";
	case -EBUSY:
		return "EBUSY";
	case -EINVAL:
		return "EINVAL";
	case -ETIMEDOUT:
		return "ETIMEDOUT";
	case -ECONNREFUSED:
		return "ECONNREFUSED";
	default:
		return "EIO";
	}
}

static int hb_remove(struct backend *b, const struct coll *c,
		     const struct resource *r, unsigned flags)
{
	struct http_backend *hb = hb_of(b);
	struct http_result res;
	char path[1024], outcome[48];
	bool any;
	int ret;

	ret = coll_ready(hb, c);
	if (ret)
		return ret;
	/* No request, ever, for a name the cloud cannot have: one off its
	 * pattern must have been listed (the lookup before it may have been
	 * answered from a listing just now going stale). */
	if (!name_safe(r->name) || is_hidden(hb, c, r->name) ||
	    (!name_valid(c->kind, r->name) &&
	     !listed_has(hb, c, r->name, false)))
		return -ENOENT;
	ret = entry_path(c, r->name, path, sizeof(path));
	if (ret)
		return ret;
	/* Providers and versions are deleted only with the provider_id they
	 * were listed with (docs/backend.md): never without it. */
	if (c->kind->strong_id && !r->provider_id) {
		log_err("%s: refusing to delete a %s without its provider_id",
			path, c->kind->noun);
		return -EINVAL;
	}
	if (c->kind->child && !(flags & BACKEND_CASCADE)) {
		ret = has_children(hb, c, r, &any);
		if (ret)
			return ret;
		if (any)
			return -ENOTEMPTY;
	}
	if (hb->dry_run) {
		ret = hide(hb, path);
		if (ret)
			return ret;
		log_info("dry run: would delete %s", path);
		audit_delete(path, NULL, "dry-run");
		return 0;
	}
	ret = c->kind->ops->remove(hb_svc(hb, c->kind), c, r, &res);
	if (res.attempts) {
		snprintf(outcome, sizeof(outcome), "%s%s%.0ld", outcome_of(ret),
			 res.status ? " http=" : "", res.status);
		audit_delete(path,
			     res.request_id[0] ? res.request_id : res.client_id,
			     outcome);
	}
	http_result_clear(&res);
	return ret;
}

static void hb_forget(struct backend *b, const struct coll *c)
{
	struct http_backend *hb = hb_of(b);
	char prefix[512];

	/* Refreshing a directory forgets what its listing showed (for a kind
	 * with children, the children's too, as the cache does). */
	if (!c)
		listed_forget(hb, "", false);
	else if (coll_path(c, prefix, sizeof(prefix)) == 0)
		listed_forget(hb, prefix, !c->kind->child);
	if (!hb->dry_run)
		return;
	if (!c) {
		unhide(hb, "");
		return;
	}
	if (coll_path(c, prefix, sizeof(prefix)) == 0 &&
	    strlen(prefix) + 1 < sizeof(prefix)) {
		strcat(prefix, "/");
		/* Only direct entries: a provider's versions live under
		 * their own collection. */
		pthread_mutex_lock(&hb->hide_lock);
		{
			size_t i, kept = 0, n = strlen(prefix);

			for (i = 0; i < hb->nhidden; i++) {
				const char *p = hb->hidden[i];

				if (strncmp(p, prefix, n) == 0 &&
				    !strchr(p + n, '/'))
					free(hb->hidden[i]);
				else
					hb->hidden[kept++] = hb->hidden[i];
			}
			hb->nhidden = kept;
		}
		pthread_mutex_unlock(&hb->hide_lock);
	}
}

/* A hint after the cloud's words, for the common mistakes. */
static const char *check_hint(const struct http_result *res, bool keys)
{
	if (errmap_is_auth_failure(res->status, res->error_code))
		return keys ? " (check the AK/SK)"
			    : " (check the token or IAM password)";
	if (res->status == 403 &&
	    !errmap_is_throttle(res->status, res->error_code))
		return " (check the project id and the user's permissions)";
	if (res->status == 404)
		return " (check the endpoint and project id)";
	return "";
}

static int hb_check(struct backend *b, const struct kind_service *s, char *err,
		    size_t errlen)
{
	struct http_backend *hb = hb_of(b);
	const struct http_endpoint *ep;
	struct http_result res;
	int ret;

	if (errlen)
		err[0] = '\0';
	if (!s || s->id >= KIND_SVC_COUNT || !hb->svc[s->id])
		return -ENOENT;
	ret = s->ops->check(hb->svc[s->id], &ep, &res);
	if (ret && res.status)
		snprintf(err, errlen, "%s: %ld %s %s%s request_id=%s",
			 ep->service, res.status,
			 res.error_code[0] ? res.error_code : "-",
			 res.error_msg[0] ? res.error_msg : strerror(-ret),
			 check_hint(&res, http_client_has_keys(hb->h)),
			 res.request_id[0] ? res.request_id : res.client_id);
	else if (ret)
		snprintf(err, errlen, "%s: %s: %s%s%s", ep->service, ep->base,
			 strerror(-ret), res.error_msg[0] ? ": " : "",
			 res.error_msg);
	/* Told apart from a missing permission: main exits 77 on it. */
	if (ret && errmap_is_auth_failure(res.status, res.error_code))
		ret = -EKEYREJECTED;
	http_result_clear(&res);
	return ret;
}

static void hb_destroy(struct backend *b)
{
	struct http_backend *hb = hb_of(b);
	size_t i;

	if (!hb)
		return;
	http_client_free(hb->h);
	http_endpoint_clear(&hb->iotda_ep);
	http_endpoint_clear(&hb->rfs_ep);
	http_endpoint_clear(&hb->iam_ep);
	free(hb->project_id);
	free(hb->region);
	free(hb->instance_id);
	free(hb->iam_user);
	if (hb->iam_password) {
		explicit_bzero(hb->iam_password, strlen(hb->iam_password));
		free(hb->iam_password);
	}
	free(hb->iam_domain);
	for (i = 0; i < hb->nhidden; i++)
		free(hb->hidden[i]);
	free(hb->hidden);
	pthread_mutex_destroy(&hb->hide_lock);
	for (i = 0; i < hb->nlisted; i++)
		listed_free(&hb->listed[i]);
	free(hb->listed);
	pthread_mutex_destroy(&hb->listed_lock);
	free(hb);
}

static const struct backend_ops http_backend_ops = {
    .list = hb_list,
    .lookup = hb_lookup,
    .remove = hb_remove,
    .forget = hb_forget,
    .check = hb_check,
    .destroy = hb_destroy,
};

/* ---- creation ---- */

static int copy_str(char **dst, const char *src)
{
	if (!src) {
		*dst = NULL;
		return 0;
	}
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

static int pick_iotda_signing(struct http_backend *hb, const char *signing,
			      char *err, size_t errlen)
{
	if (!signing || strcmp(signing, "auto") == 0)
		hb->iotda_ep.algo =
		    sign_host_wants_derived(hb->iotda_ep.hostname) ? SIGN_V11
								   : SIGN_SDK;
	else if (strcmp(signing, "sdk") == 0)
		hb->iotda_ep.algo = SIGN_SDK;
	else if (strcmp(signing, "v11") == 0)
		hb->iotda_ep.algo = SIGN_V11;
	else {
		snprintf(err, errlen, "signing=%s: use auto, sdk or v11",
			 signing);
		return -EINVAL;
	}
	return 0;
}

/* Credentials into the client: keys, a given token, or a password login
 * (which also tells the project id). */
static int setup_auth(struct http_backend *hb, const struct hwc_config *cfg,
		      char *err, size_t errlen)
{
	const struct credentials *cr = &cfg->cred;
	char *token = NULL, *pid = NULL;
	int ret;

	if (cr->ak && cr->sk)
		return 0;
	if (cr->auth_token)
		return http_client_set_token(hb->h, cr->auth_token, NULL, NULL);
	if (!(cr->iam_user && cr->iam_password && cr->iam_domain)) {
		snprintf(err, errlen,
			 "no credentials: set HUAWEICLOUD_SDK_AK and "
			 "HUAWEICLOUD_SDK_SK, or ak/sk in the config file");
		return -EACCES;
	}
	if (!hb->has_iam) {
		snprintf(err, errlen,
			 "iam_endpoint (or region) is needed to log in as %s",
			 cr->iam_user);
		return -EINVAL;
	}
	if (copy_str(&hb->iam_user, cr->iam_user) ||
	    copy_str(&hb->iam_password, cr->iam_password) ||
	    copy_str(&hb->iam_domain, cr->iam_domain))
		return -ENOMEM;
	hb->login = (struct iam_login){
	    .h = hb->h,
	    .ep = &hb->iam_ep,
	    .user = hb->iam_user,
	    .password = hb->iam_password,
	    .domain = hb->iam_domain,
	    .project_id = hb->project_id,
	    .region = hb->region,
	};
	ret = iam_token_by_password(&hb->login, &token, &pid);
	if (ret) {
		snprintf(err, errlen, "iam: login as %s failed: %s",
			 cr->iam_user, strerror(-ret));
		return ret;
	}
	if (!hb->project_id) {
		hb->project_id = pid;
		pid = NULL;
		hb->login.project_id = hb->project_id;
	}
	free(pid);
	ret =
	    http_client_set_token(hb->h, token, iam_refresh_token, &hb->login);
	explicit_bzero(token, strlen(token));
	free(token);
	return ret;
}

/*
 * With only a region, says which endpoint each service got from the
 * region's tables, and why a service has no directory.
 */
static void log_derived(const struct hwc_config *cfg)
{
	static const struct {
		enum region_service svc;
		const char *dir;
		size_t endpoint;
	} svcs[] = {
	    {REGION_IOTDA, "iotda",
	     offsetof(struct hwc_config, iotda_endpoint)},
	    {REGION_RFS, "rfs", offsetof(struct hwc_config, rfs_endpoint)},
	};

	for (size_t i = 0; i < sizeof(svcs) / sizeof(svcs[0]); i++) {
		const char *url =
		    *(char *const *)((const char *)cfg + svcs[i].endpoint);

		if (url)
			log_info("%s: %s (from region %s)", svcs[i].dir, url,
				 cfg->region);
		else
			log_info("%s: the SDKs do not offer %s in region %s: "
				 "no %s/ directory (set %s_endpoint to mount "
				 "one)",
				 svcs[i].dir, region_service_name(svcs[i].svc),
				 cfg->region, svcs[i].dir, svcs[i].dir);
	}
}

/*
 * The services' endpoints, given or derived from the region (config.c);
 * a service without one has no directory.
 */
static int setup_endpoints(struct http_backend *hb,
			   const struct hwc_config *cfg, char *err,
			   size_t errlen)
{
	bool keys = cfg->cred.ak && cfg->cred.sk;
	int ret;

	if (cfg->iotda_endpoint) {
		ret = http_endpoint_init(&hb->iotda_ep, cfg->iotda_endpoint,
					 "iotda", err, errlen);
		if (ret)
			return ret;
		hb->has_iotda = true;
		hb->iotda_ep.region = hb->region;
		hb->iotda_ep.v11_service = "iotdm";
		hb->iotda_ep.instance_id = hb->instance_id;
		ret = pick_iotda_signing(hb, cfg->signing, err, errlen);
		if (ret)
			return ret;
		if (hb->iotda_ep.algo == SIGN_V11 && keys && !hb->region) {
			snprintf(err, errlen,
				 "iotda: V11 signing needs the region");
			ret = -EINVAL;
			return ret;
		}
	}
	if (cfg->rfs_endpoint) {
		ret = http_endpoint_init(&hb->rfs_ep, cfg->rfs_endpoint, "rfs",
					 err, errlen);
		if (ret)
			return ret;
		hb->has_rfs = true;
		hb->rfs_ep.algo = SIGN_SDK;
		hb->rfs_ep.client_request_id = true;
	}
	if (!hb->has_iotda && !hb->has_rfs) {
		if (cfg->derived_endpoints)
			snprintf(err, errlen,
				 "region %s: the SDKs' region tables offer "
				 "neither IoTDA nor RFS there; set "
				 "iotda_endpoint or rfs_endpoint",
				 cfg->region);
		else
			snprintf(err, errlen,
				 "nothing to mount: set region, or "
				 "iotda_endpoint and/or rfs_endpoint");
		return -EINVAL;
	}
	if (cfg->derived_endpoints)
		log_derived(cfg);
	if (cfg->iam_endpoint) {
		ret = http_endpoint_init(&hb->iam_ep, cfg->iam_endpoint, "iam",
					 err, errlen);
		if (ret)
			return ret;
		hb->has_iam = true;
		hb->iam_ep.algo = SIGN_SDK;
	}
	return 0;
}

int http_backend_new(const struct hwc_config *cfg, struct backend **out,
		     char *err, size_t errlen)
{
	struct http_backend *hb;
	bool keys = cfg->cred.ak && cfg->cred.sk;
	int ret;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	hb = calloc(1, sizeof(*hb));
	if (!hb)
		return -ENOMEM;
	hb->base.ops = &http_backend_ops;
	pthread_mutex_init(&hb->hide_lock, NULL);
	pthread_mutex_init(&hb->listed_lock, NULL);
	hb->ttl = cfg->cache_ttl > 0 ? cfg->cache_ttl : 0;
	hb->dry_run = cfg->dry_run > 0;
	ret = copy_str(&hb->project_id, cfg->project_id);
	if (!ret)
		ret = copy_str(&hb->region, cfg->region);
	if (!ret)
		ret = copy_str(&hb->instance_id, cfg->instance_id);
	if (ret)
		goto nomem;
	ret = http_client_new(cfg, &hb->h, err, errlen);
	if (ret)
		goto fail;
	ret = setup_endpoints(hb, cfg, err, errlen);
	if (ret)
		goto fail;
	ret = setup_auth(hb, cfg, err, errlen);
	if (ret)
		goto fail;
	if (!hb->project_id && keys) {
		if (!hb->has_iam || !hb->region) {
			snprintf(err, errlen,
				 "project_id is not set and cannot be looked "
				 "up without region and iam_endpoint");
			ret = -EINVAL;
			goto fail;
		}
		ret = iam_project_id(hb->h, &hb->iam_ep, hb->region,
				     &hb->project_id);
		if (ret) {
			snprintf(err, errlen,
				 "iam: cannot look up the project id of "
				 "region %s: %s%s",
				 hb->region, strerror(-ret),
				 ret == -EKEYREJECTED ? " (check the AK/SK)"
						      : "");
			goto fail;
		}
		log_info("project id of %s: %s", hb->region, hb->project_id);
	}
	if (hb->has_iotda && !hb->project_id) {
		snprintf(err, errlen, "iotda: project_id is needed");
		ret = -EINVAL;
		goto fail;
	}
	if (hb->project_id && keys) {
		ret = http_client_set_project(hb->h, hb->project_id);
		if (ret)
			goto nomem;
	}
	hb->iotda = (struct iotda){.h = hb->h,
				   .ep = &hb->iotda_ep,
				   .project_id = hb->project_id,
				   .parallel = cfg->parallel_list != 0};
	hb->rfs = (struct rfs){.h = hb->h, .ep = &hb->rfs_ep};
	hb->svc[KIND_SVC_IOTDA] = hb->has_iotda ? &hb->iotda : NULL;
	hb->svc[KIND_SVC_RFS] = hb->has_rfs ? &hb->rfs : NULL;
	*out = &hb->base;
	return 0;
nomem:
	ret = -ENOMEM;
	snprintf(err, errlen, "out of memory");
fail:
	if (errlen && !err[0])
		snprintf(err, errlen, "%s", strerror(-ret));
	hb_destroy(&hb->base);
	return ret;
}

const char *http_backend_project_id(const struct backend *b)
{
	return ((const struct http_backend *)b)->project_id;
}
