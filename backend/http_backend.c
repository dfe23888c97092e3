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
#include "kinds.h"
#include "log.h"
#include "names.h"
#include "regions.h"
#include "services.h"

/* ---- the operations ---- */

/*
 * The state of k's service (kinds.h), NULL when it is not configured or
 * the kinds setting leaves k out: nothing is ever asked about such a kind.
 */
static const void *hb_svc(const struct http_backend *hb, const struct kind *k)
{
	if (!k || k < kind_table || k >= kind_table + kind_count ||
	    !hb->shown[kind_index(k)] || k->service->id >= KIND_SVC_COUNT)
		return NULL;
	return hb->svc[k->service->id];
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
	     !hb_listed_has(hb, &parent, c->parent, false)))
		return -ENOENT;
	/* A parent deleted in dry run has no children to show. */
	if (hb_is_hidden(hb, &parent, c->parent))
		return -ENOENT;
	return 0;
}

/* A walk into l; a listing past its bound is EIO with one log line. */
int hb_list_into(struct http_backend *hb, const struct coll *c,
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
	ret = hb_list_into(hb, c, l);
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
	return c->kind->ops->show(hb_svc(hb, c->kind), c, name, out);
}

/*
 * Whether an entry (a provider) still has children (versions), as the
 * cloud says; in dry run, children already "deleted" do not count, nor,
 * for a kind that keeps_a_child, one of those left (which one the cloud
 * keeps is its own business: a dry run does not ask).
 */
static int has_children(struct http_backend *hb, const struct coll *c,
			const struct resource *r, bool *any)
{
	struct coll vc = {c->kind->child, r->name};
	size_t i, left = 0;
	struct listing *l;
	int ret;

	if (!hb->dry_run)
		return c->kind->ops->has_children(hb_svc(hb, c->kind), c, r,
						  any);
	l = listing_new();
	if (!l)
		return -ENOMEM;
	ret = hb_list_into(hb, &vc, l);
	for (i = 0; !ret && i < l->count; i++)
		if (!hb_is_hidden(hb, &vc, l->items[i].name))
			left++;
	/* A child the listing left out (a bad name, metadata too big) is
	 * still there, as the real check, which counts raw entries, sees. */
	left += l->dropped_tainted + l->dropped_unsafe + l->dropped_big;
	*any = left > (c->kind->keeps_a_child ? 1u : 0u);
	listing_put(l);
	return ret;
}

static int hb_remove(struct backend *b, const struct coll *c,
		     const struct resource *r, unsigned flags)
{
	struct http_backend *hb = hb_of(b);
	struct http_result res;
	char path[1024], outcome[48];
	unsigned long ticket;
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
	/* RFS names and versions are deleted only with the strong id they
	 * were listed with (docs/backend.md): never without it. The id is
	 * the name's (module_id for a module version), named after its
	 * noun. */
	if (c->kind->strong_id && !r->provider_id) {
		const struct kind *top =
		    c->kind->parent ? c->kind->parent : c->kind;

		log_err("%s: refusing to delete a %s without its %s_id", path,
			c->kind->noun, top->noun);
		return -EINVAL;
	}
	/* Refused by protect or min_age: nothing is sent. */
	ret = hb_guard_check(hb, c, r, flags, path);
	if (ret)
		return ret;
	if (c->kind->child && !(flags & BACKEND_CASCADE)) {
		ret = has_children(hb, c, r, &any);
		if (ret)
			return ret;
		if (any)
			return -ENOTEMPTY;
		ret = hb_guard_kept(hb, c, r, path);
		if (ret)
			return ret;
	}
	/* A dry-run delete takes its slot too: it rehearses the real run,
	 * which would stop at the same place (docs/hwcfs.md). */
	ret = hb_guard_take(hb, path, &ticket);
	if (ret)
		return ret;
	if (hb->dry_run) {
		ret = hb_hide(hb, path);
		if (ret) {
			guard_refund(hb->guard, ticket);
			return ret;
		}
		log_info("dry run: would delete %s", path);
		audit_delete(path, NULL, "dry-run");
		return 0;
	}
	ret = c->kind->ops->remove(hb_svc(hb, c->kind), c, r, &res);
	/* A DELETE never sent (interrupted, the key breaker) costs none. */
	if (!res.attempts) {
		guard_refund(hb->guard, ticket);
	} else {
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

	/* Refreshing a directory forgets what its listing showed (for a kind
	 * with children, the children's too, as the cache does). */
	if (!c)
		hb_listed_forget(hb, "", false);
	else if (coll_path(c, prefix, sizeof(prefix)) == 0)
		hb_listed_forget(hb, prefix, !c->kind->child);
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
