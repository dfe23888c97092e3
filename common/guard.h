/*
 * guard.h - the delete guards of one mount (docs/hwcfs.md, "Delete
 * guards"): min_age (a resource younger than that is never deleted),
 * max_deletes (a budget of deletes, reset by the mount's owner) and
 * protect (paths that are never deleted). The settings are profile keys
 * and -o options read here for config.c; the HTTP backend asks the
 * guard before every DELETE, where the path, the creation time and the
 * decision to send are all known (docs/architecture.md, "Delete
 * guards"). Nothing here knows a kind: every kind gets the guards.
 */
#ifndef HWCFS_GUARD_H
#define HWCFS_GUARD_H

#include <locale.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "config.h"

/* The most min_age may be: ten years, far beyond any real cleanup. */
#define GUARD_AGE_LIMIT (3650 * 86400)
/* The most max_deletes (and its setfattr) may be. */
#define GUARD_DELETES_LIMIT 1000000000
/* The longest protect pattern. */
#define GUARD_PATTERN_LIMIT 1024

/* Why a delete was refused: the audit line's reason= word. */
enum guard_reason {
	GUARD_OK,
	GUARD_MIN_AGE,
	GUARD_MAX_DELETES,
	GUARD_PROTECT,
};

struct guard {
	int min_age;	/* seconds; 0: no minimum */
	char **protect; /* patterns, relative to the mount point */
	size_t nprotect;
	locale_t utf8; /* what the patterns are matched in; 0: none */
	/* The max_deletes budget: used counts the deletes taken since the
	 * mount or the last reset, of limit; gen tells a refund whether a
	 * reset came in between. */
	pthread_mutex_t lock;
	bool limited;
	long long limit, used;
	unsigned long gen;
	bool warned; /* the limit's warning was logged since the reset */
};

/* ---- the settings (config.c calls these) ---- */

/* Sets the guards' fields of cfg to unset. */
void guard_config_init(struct hwc_config *cfg);
void guard_config_free(struct hwc_config *cfg);
/* Whether key is one of the guards' keys (min_age, max_deletes, protect). */
bool guard_config_key(const char *key);
/* Whether key may be given more than once in a profile (protect). */
bool guard_config_repeats(const char *key);
/*
 * Sets a guard's key from value, noting origin. From a profile
 * (from_profile) min_age and max_deletes fill only what the command line
 * left unset; protect patterns always add up. 0, or -ERANGE (a usage
 * error) with one line in err, or -ENOMEM.
 */
int guard_config_set(struct hwc_config *cfg, const char *key, const char *value,
		     bool from_profile, const char *origin, char *err,
		     size_t errlen);
/* The guards that are set, one "key: value (origin)" line each. */
void guard_config_print(const struct hwc_config *cfg, FILE *out);

/* ---- values ---- */

/*
 * A duration: a whole number and one unit, s, m, h, d or w ("7d", "12h");
 * "0" alone is no minimum. 0, -EINVAL (not a duration) or -ERANGE (above
 * GUARD_AGE_LIMIT).
 */
int guard_parse_duration(const char *s, int *seconds);
/* seconds in the largest unit that divides it ("7d", "90s"). */
void guard_format_duration(int seconds, char *buf, size_t len);
/* A whole number in [0, GUARD_DELETES_LIMIT]; 0 or -EINVAL. */
int guard_parse_count(const char *s, long long *out);
/* Whether pattern may be a protect pattern: 0, or -EINVAL and why. */
int guard_check_pattern(const char *pattern, const char **why);

/* ---- the guard of a mount ---- */

/* The guard cfg's settings ask for. 0 or -ENOMEM. */
int guard_new(const struct hwc_config *cfg, struct guard **out);
void guard_free(struct guard *g);

/*
 * Whether a protect pattern matches path (relative to the mount point) or
 * one of its parents: fnmatch with FNM_PATHNAME | FNM_LEADING_DIR, so
 * protecting a provider protects its versions.
 */
bool guard_protects(const struct guard *g, const char *path);
/* Whether a protect pattern could match an entry below path (one with
 * more components than path has), so that only a listing can tell. */
bool guard_protects_below(const struct guard *g, const char *path);
/* Whether a resource created at created (0: unknown) is too young to be
 * deleted at now; an unknown or future creation time is too young. */
bool guard_too_young(const struct guard *g, time_t created, time_t now);

/*
 * Takes one slot of the max_deletes budget for a delete about to be sent:
 * 0 and *ticket, or -EPERM when the budget is used up (the first refusal
 * since the last reset logs one warning). Without a limit, always 0.
 */
int guard_take(struct guard *g, unsigned long *ticket);
/* Gives back a slot taken with ticket whose DELETE was never sent. */
void guard_refund(struct guard *g, unsigned long ticket);
/* setfattr user.hwcfs.max_deletes: a budget of limit deletes from now. */
void guard_reset(struct guard *g, long long limit);
/* The deletes left in the budget; -1 without a limit. */
long long guard_left(struct guard *g);

const char *guard_reason_name(enum guard_reason why);

#endif
