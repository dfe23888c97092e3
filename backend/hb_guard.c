/*
 * hb_guard.c - the delete guards (common/guard.h) where a delete is
 * decided: protect and min_age before any request, the children a cascade
 * would take along, and the max_deletes slot just before the DELETE. Each
 * refusal writes one audit line, outcome=refused reason=WHY.
 */
#include "hb.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

static int refuse(const char *path, enum guard_reason why)
{
	char outcome[48];

	snprintf(outcome, sizeof(outcome), "refused reason=%s",
		 guard_reason_name(why));
	audit_delete(path, NULL, outcome);
	return -EPERM;
}

/* What protect and min_age say of r, the entry at path. */
static enum guard_reason entry_reason(const struct guard *g, const char *path,
				      const struct resource *r, time_t now)
{
	if (guard_protects(g, path))
		return GUARD_PROTECT;
	if (guard_too_young(g, r->ctime, now))
		return GUARD_MIN_AGE;
	return GUARD_OK;
}

/*
 * A cascade deletes the entry's children in the same DELETE, so each
 * child must pass the guards too. As with the emptiness check, the cloud
 * is asked, not a cache: a child created since a listing counts. In dry
 * run, children already "deleted" do not.
 */
static int children_reason(struct http_backend *hb, const struct coll *c,
			   const struct resource *r, const char *path,
			   enum guard_reason *why)
{
	struct coll vc = {c->kind->child, r->name};
	time_t now = time(NULL);
	struct listing *l;
	char child[1024];
	size_t i;
	int ret;

	*why = GUARD_OK;
	l = listing_new();
	if (!l)
		return -ENOMEM;
	ret = hb_list_into(hb, &vc, l);
	/* A child the listing left out (a bad name, metadata too big) can
	 * be neither aged nor matched, yet the DELETE takes it along. */
	if (!ret && l->dropped_tainted + l->dropped_unsafe + l->dropped_big) {
		*why = hb->guard->min_age ? GUARD_MIN_AGE : GUARD_PROTECT;
		snprintf(child, sizeof(child), "that its listing left out");
	}
	for (i = 0; !ret && i < l->count && *why == GUARD_OK; i++) {
		if (hb_is_hidden(hb, &vc, l->items[i].name))
			continue;
		ret =
		    hb_entry_path(&vc, l->items[i].name, child, sizeof(child));
		if (!ret)
			*why =
			    entry_reason(hb->guard, child, &l->items[i], now);
	}
	if (!ret && *why != GUARD_OK)
		log_info("%s: not deleted: %s refuses its %s %s", path,
			 guard_reason_name(*why), c->kind->child->noun, child);
	listing_put(l);
	return ret;
}

int hb_guard_check(struct http_backend *hb, const struct coll *c,
		   const struct resource *r, unsigned flags, const char *path)
{
	const struct guard *g = hb->guard;
	enum guard_reason why;
	int ret;

	if (!g)
		return 0;
	why = entry_reason(g, path, r, time(NULL));
	if (why == GUARD_OK && c->kind->child && (flags & BACKEND_CASCADE) &&
	    (g->min_age || guard_protects_below(g, path))) {
		ret = children_reason(hb, c, r, path, &why);
		if (ret)
			return ret;
	}
	return why == GUARD_OK ? 0 : refuse(path, why);
}

int hb_guard_kept(struct http_backend *hb, const struct coll *c,
		  const struct resource *r, const char *path)
{
	const struct guard *g = hb->guard;
	enum guard_reason why;
	int ret;

	if (!g || !c->kind->keeps_a_child ||
	    !(g->min_age || guard_protects_below(g, path)))
		return 0;
	ret = children_reason(hb, c, r, path, &why);
	if (ret)
		return ret;
	return why == GUARD_OK ? 0 : refuse(path, why);
}

int hb_guard_take(struct http_backend *hb, const char *path,
		  unsigned long *ticket)
{
	if (guard_take(hb->guard, ticket))
		return refuse(path, GUARD_MAX_DELETES);
	return 0;
}
