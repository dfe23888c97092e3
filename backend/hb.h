/*
 * hb.h - private to the HTTP backend's files: the backend's state and
 * what each of its parts offers the operations in http_backend.c (the
 * audit outcome and dry-run hiding, hb_audit.c; the listed-names memory,
 * hb_listed.c; creation and the start-up check, hb_setup.c).
 */
#ifndef HWCFS_HB_H
#define HWCFS_HB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "guard.h"
#include "http.h"
#include "http_backend.h"
#include "kinds.h"
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
	/* Each kind_table row the kinds setting shows (kind_shown). */
	bool shown[KIND_MAX];
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
	struct guard *guard; /* min_age, max_deletes, protect */
};

extern const struct backend_ops http_backend_ops;

static inline struct http_backend *hb_of(struct backend *b)
{
	return (struct http_backend *)b;
}

/* ---- hb_audit.c: what a delete leaves behind ---- */

/* coll_path + "/" + name into buf. 0 or -ENAMETOOLONG. */
int hb_entry_path(const struct coll *c, const char *name, char *buf,
		  size_t len);
/* Dry run: whether name of c was "deleted" (always false otherwise). */
bool hb_is_hidden(struct http_backend *hb, const struct coll *c,
		  const char *name);
/* Dry run: hides the entry path until forgotten. 0 or -ENOMEM. */
int hb_hide(struct http_backend *hb, const char *path);
/* Unhides the entries under prefix ("" for all); with direct, only those
 * right under it, not deeper. */
void hb_unhide(struct http_backend *hb, const char *prefix, bool direct);
/* Drops hidden entries from a listing not yet finished. */
void hb_drop_hidden(struct http_backend *hb, const struct coll *c,
		    struct listing *l);
/* The audit line's outcome word of a delete that ended with err. */
const char *hb_outcome(int err);

/* ---- hb_guard.c: the delete guards (common/guard.h) ---- */

/*
 * protect and min_age for r at path, and with BACKEND_CASCADE for the
 * children it would take along (one listing, only when a guard could
 * refuse one). 0, or -EPERM with its audit line, or the listing's error.
 */
int hb_guard_check(struct http_backend *hb, const struct coll *c,
		   const struct resource *r, unsigned flags, const char *path);
/*
 * A kind that keeps_a_child (a hook's default version, a template's last)
 * deletes it with its name even without BACKEND_CASCADE: once the
 * emptiness check found no other child, the children left must pass
 * protect and min_age too. 0, or -EPERM with its audit line.
 */
int hb_guard_kept(struct http_backend *hb, const struct coll *c,
		  const struct resource *r, const char *path);
/* A max_deletes slot for the DELETE of path: 0 and *ticket, or -EPERM
 * with its audit line. */
int hb_guard_take(struct http_backend *hb, const char *path,
		  unsigned long *ticket);

/* ---- http_backend.c ---- */

/* A walk of c into l; a listing past its bound is EIO with a log line. */
int hb_list_into(struct http_backend *hb, const struct coll *c,
		 struct listing *l);

/* ---- hb_listed.c: names the listings showed ---- */

void hb_listed_free(struct listed_names *ln);
void hb_listed_forget(struct http_backend *hb, const char *prefix, bool exact);
void hb_listed_remember(struct http_backend *hb, const struct coll *c,
			const struct listing *l, double fetched);
bool hb_listed_has(struct http_backend *hb, const struct coll *c,
		   const char *name, bool fresh);

/* ---- hb_setup.c ---- */

int hb_check(struct backend *b, const struct kind_service *s, char *err,
	     size_t errlen);
void hb_destroy(struct backend *b);

#endif
