/*
 * backend.h - the one interface fs/ talks to: list a collection, look up one
 * entry, delete one entry. The HTTP backend implements it against the cloud;
 * the cache implements it on top of another backend. fs/ never knows which.
 *
 * Every function that can fail returns 0 or -errno.
 */
#ifndef HWCFS_BACKEND_H
#define HWCFS_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "kind.h"

/*
 * A collection: a directory whose entries are cloud resources of one kind
 * (kind.h). A top kind has one collection; a child kind has one per entry
 * of its parent kind, named by parent.
 */
struct coll {
	const struct kind *kind;
	const char *parent; /* child kinds: the parent entry's name */
};

/* One cloud resource as the filesystem shows it. Owns its strings. */
struct resource {
	char *name;	   /* package_id, provider_name or provider_version */
	char *provider_id; /* the strong id (kind->strong_id), else NULL */
	time_t mtime;	   /* update time, else create time; 0 if unknown */
	time_t ctime;	   /* the cloud's create time; 0 if unknown */
	char *json;	   /* metadata, pretty-printed, ending in '\n' */
	size_t json_len;
};

/*
 * A whole collection, fetched at one time. Shared by reference: whoever
 * holds a pointer holds a reference, dropped with listing_put(). After
 * listing_finish() it is never changed again, except that an entry deleted
 * since can be marked gone (listing_mark_gone), which every holder sees:
 * indexes stay stable, so a readdir in progress is not disturbed.
 */
struct listing {
	atomic_uint refs;
	uint64_t gen;		/* unique per fetch */
	size_t count;		/* entries in items */
	size_t cap;		/* allocated entries in items */
	struct resource *items; /* sorted by name (strcmp), names unique */
	_Atomic(unsigned char) *gone; /* count flags, set by listing_finish */
	atomic_size_t ngone;
	/* While it is filled (freed by listing_finish): */
	size_t bytes;	   /* counted by listing_add, for its bound */
	size_t repeated;   /* names listing_add dropped as repeats */
	const char **seen; /* hash set of the names added */
	size_t seen_cap;   /* slots in seen, a power of two */
	/* Entries the server listed that were left out, by reason. */
	size_t dropped_tainted; /* a string with a NUL or not UTF-8 */
	size_t dropped_unsafe;	/* a name that is not a safe file name */
	size_t dropped_big;	/* metadata over the size limit */
};

/*
 * The most one listing may hold, whatever a server sends: far above any
 * real account, far below the machine (docs/backend.md says why).
 */
#define LISTING_MAX_ENTRIES 100000u
#define LISTING_MAX_BYTES (64u << 20)

/* Flags of backend_ops.remove. */
#define BACKEND_CASCADE 0x1u /* delete its children (versions) with it */

struct backend;

struct backend_ops {
	/* The whole collection; on success *out holds one reference. */
	int (*list)(struct backend *b, const struct coll *c,
		    struct listing **out);
	/* One entry by name, copied into *out (free with resource_clear). */
	int (*lookup)(struct backend *b, const struct coll *c, const char *name,
		      struct resource *out);
	/*
	 * Optional (NULL: not offered). Like lookup, but a name whose cached
	 * answer has expired may be answered from that answer once, with no
	 * request; *stale then says so, and the caller must trust it only
	 * briefly. For a lookup whose answer is about to be acted on, not
	 * shown for long (docs/hwcfs.md, "How fresh each view is").
	 */
	int (*lookup_stale)(struct backend *b, const struct coll *c,
			    const char *name, struct resource *out,
			    bool *stale);
	/*
	 * Optional (NULL: not offered). The listing of c held now and still
	 * fresh, with no request: one reference in *out, or -ENODATA.
	 */
	int (*peek)(struct backend *b, const struct coll *c,
		    struct listing **out);
	/*
	 * Deletes the entry. r->name names it; r->provider_id (kinds with a
	 * strong id) is sent so that a re-created namesake is never deleted.
	 * An entry that still has children (a provider's versions) is
	 * -ENOTEMPTY unless flags has BACKEND_CASCADE; that check asks the
	 * cloud, not a cache.
	 */
	int (*remove)(struct backend *b, const struct coll *c,
		      const struct resource *r, unsigned flags);
	/* Drops whatever is remembered about c (everything when c is NULL). */
	void (*forget)(struct backend *b, const struct coll *c);
	/*
	 * One cheap authenticated request to the service, to fail a mount
	 * early on bad settings.
	 * err gets a one-line reason on failure; -EKEYREJECTED says the
	 * credentials themselves were refused (errmap_is_auth_failure).
	 */
	int (*check)(struct backend *b, const struct kind_service *s, char *err,
		     size_t errlen);
	void (*destroy)(struct backend *b);
};

/* Implementations embed this as their first member. */
struct backend {
	const struct backend_ops *ops;
};

/* resource.c: helpers shared by every backend. */
void resource_clear(struct resource *r);
int resource_copy(struct resource *dst, const struct resource *src);

struct listing *listing_new(void);
/*
 * Appends r, taking ownership of its fields (r is zeroed). A name already
 * added is dropped as a repeat (r cleared, 0 returned), so a walk sees
 * whether a page added anything by l->count. -EFBIG, r untouched, when
 * the listing would pass LISTING_MAX_ENTRIES or LISTING_MAX_BYTES.
 */
int listing_add(struct listing *l, struct resource *r);
/*
 * Sorts by name and makes the gone flags: 0, or -ENOMEM (the listing is
 * then unusable: put it). *repeated (may be NULL) says how many repeated
 * names (a hostile or buggy server may repeat one across pages) were
 * dropped.
 */
int listing_finish(struct listing *l, size_t *repeated);
/* The live (not gone) entry of that name, or NULL. */
const struct resource *listing_find(const struct listing *l, const char *name);
/* Index of the entry of that name, gone or not; -1 if none. */
long listing_index(const struct listing *l, const char *name);
bool listing_is_gone(const struct listing *l, size_t i);
/* Marks the entry of that name gone; false if there was none live. */
bool listing_mark_gone(struct listing *l, const char *name);
static inline size_t listing_live(const struct listing *l)
{
	return l->count - atomic_load(&l->ngone);
}
struct listing *listing_get(struct listing *l);
void listing_put(struct listing *l);

/* A short name for logs: "iotda/packages", "rfs/providers/NAME". */
int coll_path(const struct coll *c, char *buf, size_t len);

#endif
