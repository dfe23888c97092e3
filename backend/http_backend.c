/*
 * http_backend.c - struct backend over the cloud: maps collections to the
 * IoTDA and RFS calls, asks about a name only when it was listed or can be
 * an identifier, writes the audit line of every delete, and keeps dry-run
 * deletes hidden.
 */
#include "hb.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "http.h"
#include "log.h"
#include "names.h"
#include "regions.h"
#include "services.h"

/* ---- the operations ---- */

/* Whether the collection's service is configured and its names valid. */
static int coll_ready(struct http_backend *hb, const struct coll *c)
{
	static const struct coll providers = {COLL_PROVIDERS, NULL};

	switch (c->kind) {
	case COLL_PACKAGES:
		return hb->has_iotda ? 0 : -ENOENT;
	case COLL_PROVIDERS:
		return hb->has_rfs ? 0 : -ENOENT;
	case COLL_VERSIONS:
		/* The provider's name follows the rule of hb_lookup; once
		 * listed it stays good while its directory may be open. */
		if (!hb->has_rfs || !name_safe(c->provider) ||
		    (!name_valid(COLL_PROVIDERS, c->provider) &&
		     !hb_listed_has(hb, &providers, c->provider, false)))
			return -ENOENT;
		/* A provider deleted in dry run has no versions to show. */
		if (hb_is_hidden(hb, &providers, c->provider))
			return -ENOENT;
		return 0;
	}
	return -ENOENT;
}

/* A walk into l; a listing past its bound is EIO with one log line. */
static int list_into(struct http_backend *hb, const struct coll *c,
		     struct listing *l)
{
	char dir[512];
	int ret = -ENOENT;

	switch (c->kind) {
	case COLL_PACKAGES:
		ret = iotda_list_packages(&hb->iotda, l);
		break;
	case COLL_PROVIDERS:
		ret = rfs_list_providers(&hb->rfs, l);
		break;
	case COLL_VERSIONS:
		ret = rfs_list_versions(&hb->rfs, c->provider, l);
		break;
	}
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
	double fetched = clock_now_s();
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
	hb_drop_hidden(hb, c, l);
	ret = listing_finish(l, &dropped);
	if (ret) {
		listing_put(l);
		return ret;
	}
	if (dropped) {
		char dir[512];

		coll_path(c, dir, sizeof(dir));
		log_warn("%s: the listing repeated %zu names; kept one of each",
			 dir, dropped);
	}
	log_dropped(c, l);
	hb_listed_remember(hb, c, l, fetched);
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
	if (!name_safe(name) || hb_is_hidden(hb, c, name))
		return -ENOENT;
	/* A name nobody listed is worth a request only if it can be an
	 * identifier (docs/hwcfs.md, "The tree"). */
	if (!name_valid(c->kind, name) && !hb_listed_has(hb, c, name, true))
		return -ENOENT;
	switch (c->kind) {
	case COLL_PACKAGES:
		return iotda_show_package(&hb->iotda, name, out);
	case COLL_PROVIDERS:
		return rfs_show_provider(&hb->rfs, name, out);
	case COLL_VERSIONS:
		return rfs_show_version(&hb->rfs, c->provider, name, out);
	}
	return -ENOENT;
}

/* Whether a provider still has versions, as the cloud says; in dry run,
 * versions already "deleted" do not count. */
static int provider_not_empty(struct http_backend *hb, const struct resource *r,
			      bool *any)
{
	struct coll vc = {COLL_VERSIONS, r->name};
	struct listing *l;
	size_t i;
	int ret;

	if (!hb->dry_run)
		return rfs_has_versions(&hb->rfs, r->name, r->provider_id, any);
	l = listing_new();
	if (!l)
		return -ENOMEM;
	ret = list_into(hb, &vc, l);
	*any = false;
	for (i = 0; !ret && i < l->count && !*any; i++)
		if (!hb_is_hidden(hb, &vc, l->items[i].name))
			*any = true;
	listing_put(l);
	return ret;
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
	if (!name_safe(r->name) || hb_is_hidden(hb, c, r->name) ||
	    (!name_valid(c->kind, r->name) &&
	     !hb_listed_has(hb, c, r->name, false)))
		return -ENOENT;
	ret = hb_entry_path(c, r->name, path, sizeof(path));
	if (ret)
		return ret;
	/* Providers and versions are deleted only with the provider_id they
	 * were listed with (docs/backend.md): never without it. */
	if (c->kind != COLL_PACKAGES && !r->provider_id) {
		log_err("%s: refusing to delete a %s without its provider_id",
			path,
			c->kind == COLL_PROVIDERS ? "provider" : "version");
		return -EINVAL;
	}
	if (c->kind == COLL_PROVIDERS && !(flags & BACKEND_CASCADE)) {
		ret = provider_not_empty(hb, r, &any);
		if (ret)
			return ret;
		if (any)
			return -ENOTEMPTY;
	}
	if (hb->dry_run) {
		ret = hb_hide(hb, path);
		if (ret)
			return ret;
		log_info("dry run: would delete %s", path);
		audit_delete(path, NULL, "dry-run");
		return 0;
	}
	switch (c->kind) {
	case COLL_PACKAGES:
		ret = iotda_delete_package(&hb->iotda, r->name, &res);
		break;
	case COLL_PROVIDERS:
		ret = rfs_delete_provider(&hb->rfs, r->name, r->provider_id,
					  &res);
		break;
	case COLL_VERSIONS:
		ret = rfs_delete_version(&hb->rfs, c->provider, r->name,
					 r->provider_id, &res);
		break;
	default:
		return -ENOENT;
	}
	if (res.attempts) {
		snprintf(outcome, sizeof(outcome), "%s%s%.0ld", hb_outcome(ret),
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

	/* Refreshing a directory forgets what its listing showed (for the
	 * providers, their versions' too, as the cache does). */
	if (!c)
		hb_listed_forget(hb, "", false);
	else if (coll_path(c, prefix, sizeof(prefix)) == 0)
		hb_listed_forget(hb, prefix, c->kind != COLL_PROVIDERS);
	if (!hb->dry_run)
		return;
	if (!c) {
		hb_unhide(hb, "", false);
		return;
	}
	/* Only direct entries: a provider's versions live under their own
	 * collection. */
	if (coll_path(c, prefix, sizeof(prefix)) == 0 &&
	    strlen(prefix) + 1 < sizeof(prefix)) {
		strcat(prefix, "/");
		hb_unhide(hb, prefix, true);
	}
}

const struct backend_ops http_backend_ops = {
    .list = hb_list,
    .lookup = hb_lookup,
    .remove = hb_remove,
    .forget = hb_forget,
    .check = hb_check,
    .destroy = hb_destroy,
};
