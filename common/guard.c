/*
 * guard.c - the delete guards: their settings (durations, counts,
 * patterns) and the guard a mount's backend asks before each DELETE.
 */
#include "guard.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* ---- values ---- */

static const struct {
	char unit;
	int seconds;
} guard_units[] = {
    {'w', 7 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1},
};

#define GUARD_NUNITS (sizeof(guard_units) / sizeof(guard_units[0]))

/*
 * A bare number is refused (but 0): "min_age=7" could mean seconds or
 * days, and guessing wrong on a guard is the mistake it exists to stop.
 */
int guard_parse_duration(const char *s, int *seconds)
{
	long long v = 0;
	const char *p = s;
	size_t i;

	if (strcmp(s, "0") == 0) {
		*seconds = 0;
		return 0;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > GUARD_AGE_LIMIT)
			return -ERANGE;
	}
	if (p == s || !p[0] || p[1])
		return -EINVAL;
	for (i = 0; i < GUARD_NUNITS; i++)
		if (guard_units[i].unit == *p)
			break;
	if (i == GUARD_NUNITS)
		return -EINVAL;
	v *= guard_units[i].seconds;
	if (v > GUARD_AGE_LIMIT)
		return -ERANGE;
	*seconds = (int)v;
	return 0;
}

void guard_format_duration(int seconds, char *buf, size_t len)
{
	size_t i;

	for (i = 0; seconds && i + 1 < GUARD_NUNITS; i++)
		if (seconds % guard_units[i].seconds == 0)
			break;
	if (!seconds)
		snprintf(buf, len, "0");
	else
		snprintf(buf, len, "%d%c", seconds / guard_units[i].seconds,
			 guard_units[i].unit);
}

int guard_parse_count(const char *s, long long *out)
{
	long long v = 0;

	if (!*s || strlen(s) > 10)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	if (v > GUARD_DELETES_LIMIT)
		return -EINVAL;
	*out = v;
	return 0;
}

int guard_check_pattern(const char *pattern, const char **why)
{
	*why = NULL;
	if (!*pattern)
		*why = "must be a pattern, not empty";
	else if (strlen(pattern) > GUARD_PATTERN_LIMIT)
		*why = "is longer than 1024 bytes";
	else if (pattern[0] == '/')
		*why = "is relative to the mount point: it cannot start "
		       "with /";
	else if (pattern[strlen(pattern) - 1] == '/')
		*why = "names entries, not directories: it cannot end with /";
	for (const char *p = pattern; !*why && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*why = "holds a control character";
	/* No path in the tree has such a component: the pattern would
	 * protect nothing, and say nothing. */
	for (const char *c = pattern; !*why && c; c = strchr(c, '/')) {
		size_t n;

		c += *c == '/';
		n = strcspn(c, "/");
		if (n == 0 || (n <= 2 && strncmp(c, "..", n) == 0))
			*why = "has an empty, . or .. component: paths in the "
			       "tree have none";
	}
	return *why ? -EINVAL : 0;
}

/* ---- the settings ---- */

static const char *const guard_keys[] = {"min_age", "max_deletes", "protect"};

void guard_config_init(struct hwc_config *cfg)
{
	cfg->min_age = -1;
	cfg->max_deletes = -1;
	cfg->protect = NULL;
	cfg->nprotect = 0;
}

void guard_config_free(struct hwc_config *cfg)
{
	for (size_t i = 0; i < cfg->nprotect; i++) {
		free(cfg->protect[i].pattern);
		free(cfg->protect[i].origin);
	}
	free(cfg->protect);
	guard_config_init(cfg);
}

bool guard_config_key(const char *key)
{
	for (size_t i = 0; i < sizeof(guard_keys) / sizeof(guard_keys[0]); i++)
		if (strcmp(key, guard_keys[i]) == 0)
			return true;
	return false;
}

bool guard_config_repeats(const char *key)
{
	return strcmp(key, "protect") == 0;
}

static int guard_add_pattern(struct hwc_config *cfg, const char *pattern,
			     const char *origin)
{
	struct config_pattern *v;

	for (size_t i = 0; i < cfg->nprotect; i++)
		if (strcmp(cfg->protect[i].pattern, pattern) == 0)
			return 0;
	v = realloc(cfg->protect, (cfg->nprotect + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	cfg->protect = v;
	v[cfg->nprotect].pattern = strdup(pattern);
	v[cfg->nprotect].origin = strdup(origin);
	if (!v[cfg->nprotect].pattern || !v[cfg->nprotect].origin) {
		free(v[cfg->nprotect].pattern);
		free(v[cfg->nprotect].origin);
		return -ENOMEM;
	}
	cfg->nprotect++;
	return 0;
}

int guard_config_set(struct hwc_config *cfg, const char *key, const char *value,
		     bool from_profile, const char *origin, char *err,
		     size_t errlen)
{
	const char *why;
	long long n;
	int v;

	if (strcmp(key, "protect") == 0) {
		if (guard_check_pattern(value, &why)) {
			snprintf(err, errlen, "protect %s", why);
			return -ERANGE;
		}
		return guard_add_pattern(cfg, value, origin);
	}
	if (strcmp(key, "min_age") == 0) {
		if (guard_parse_duration(value, &v)) {
			snprintf(err, errlen,
				 "min_age must be a whole number and a unit, "
				 "s, m, h, d or w (such as 7d), at most 3650d");
			return -ERANGE;
		}
		if (from_profile && cfg->min_age >= 0)
			return 0;
		cfg->min_age = v;
	} else {
		if (guard_parse_count(value, &n)) {
			snprintf(err, errlen,
				 "max_deletes must be a whole number from 0 "
				 "to %d",
				 GUARD_DELETES_LIMIT);
			return -ERANGE;
		}
		if (from_profile && cfg->max_deletes >= 0)
			return 0;
		cfg->max_deletes = (int)n;
	}
	return config_note(
	    cfg, strcmp(key, "min_age") == 0 ? "min_age" : "max_deletes", "%s",
	    origin);
}

void guard_config_print(const struct hwc_config *cfg, FILE *out)
{
	const char *origin;
	char age[32];

	if (cfg->min_age >= 0) {
		origin = config_origin(cfg, "min_age");
		guard_format_duration(cfg->min_age, age, sizeof(age));
		fprintf(out, "min_age: %s (%s)\n", age,
			origin ? origin : "command line");
	}
	if (cfg->max_deletes >= 0) {
		origin = config_origin(cfg, "max_deletes");
		fprintf(out, "max_deletes: %d (%s)\n", cfg->max_deletes,
			origin ? origin : "command line");
	}
	for (size_t i = 0; i < cfg->nprotect; i++)
		fprintf(out, "protect: %s (%s)\n", cfg->protect[i].pattern,
			cfg->protect[i].origin);
}

/* ---- the guard of a mount ---- */

int guard_new(const struct hwc_config *cfg, struct guard **out)
{
	struct guard *g = calloc(1, sizeof(*g));
	int ret;

	*out = NULL;
	if (!g)
		return -ENOMEM;
	ret = -pthread_mutex_init(&g->lock, NULL);
	if (ret) {
		free(g);
		return ret;
	}
	g->min_age = cfg->min_age > 0 ? cfg->min_age : 0;
	g->limited = cfg->max_deletes >= 0;
	g->limit = cfg->max_deletes;
	if (cfg->nprotect) {
		g->protect = calloc(cfg->nprotect, sizeof(*g->protect));
		if (!g->protect) {
			guard_free(g);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < cfg->nprotect; i++) {
		g->protect[i] = strdup(cfg->protect[i].pattern);
		if (!g->protect[i]) {
			guard_free(g);
			return -ENOMEM;
		}
		g->nprotect++;
	}
	/* The daemon runs in the C locale, where fnmatch's '?' and brackets
	 * match one byte: a Chinese module name's character is three. */
	if (g->nprotect) {
		g->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
		if (!g->utf8)
			log_warn("protect: no C.UTF-8 locale; '?' and brackets "
				 "match bytes, not the characters of a name");
	}
	*out = g;
	return 0;
}

void guard_free(struct guard *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nprotect; i++)
		free(g->protect[i]);
	free(g->protect);
	if (g->utf8)
		freelocale(g->utf8);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* fnmatch with the characters of UTF-8 names (guard_new). */
static int guard_fnmatch(const struct guard *g, const char *pattern,
			 const char *path, int flags)
{
	locale_t old = g->utf8 ? uselocale(g->utf8) : (locale_t)0;
	int m = fnmatch(pattern, path, flags);

	if (g->utf8)
		uselocale(old);
	return m;
}

bool guard_protects(const struct guard *g, const char *path)
{
	for (size_t i = 0; g && i < g->nprotect; i++) {
		int m = guard_fnmatch(g, g->protect[i], path,
				      FNM_PATHNAME | FNM_LEADING_DIR);

		/* A pattern fnmatch cannot read protects: fail closed. */
		if (m != FNM_NOMATCH)
			return true;
	}
	return false;
}

static size_t guard_components(const char *s)
{
	size_t n = 1;

	for (; *s; s++)
		if (*s == '/')
			n++;
	return n;
}

/*
 * With FNM_PATHNAME a '/' of the path matches only a '/' of the pattern,
 * so a pattern can match an entry below path only if it has more
 * components than path and its first ones match path.
 */
bool guard_protects_below(const struct guard *g, const char *path)
{
	size_t depth = guard_components(path);
	char head[GUARD_PATTERN_LIMIT + 1];

	for (size_t i = 0; g && i < g->nprotect; i++) {
		const char *p = g->protect[i];
		size_t n = 0, seen = 0;

		if (guard_components(p) <= depth)
			continue;
		/* A '/' escaped ("\\/") or in a bracket ("[a/]") still parts
		 * components: a head cut there is no pattern. */
		if (strpbrk(p, "\\["))
			return true;
		while (p[n] && !(p[n] == '/' && ++seen == depth))
			n++;
		if (n >= sizeof(head))
			return true;
		memcpy(head, p, n);
		head[n] = '\0';
		if (guard_fnmatch(g, head, path, FNM_PATHNAME) != FNM_NOMATCH)
			return true;
	}
	return false;
}

bool guard_too_young(const struct guard *g, time_t created, time_t now)
{
	if (!g || !g->min_age)
		return false;
	return created <= 0 || created > now || now - created < g->min_age;
}

int guard_take(struct guard *g, unsigned long *ticket)
{
	int ret = 0;

	*ticket = 0;
	if (!g)
		return 0;
	pthread_mutex_lock(&g->lock);
	if (g->limited && g->used >= g->limit) {
		ret = -EPERM;
		if (!g->warned)
			log_warn("max_deletes: the limit of %lld deletes is "
				 "reached; every further delete is refused "
				 "until `setfattr -n user.hwcfs.max_deletes "
				 "-v N` on the mount point",
				 g->limit);
		g->warned = true;
	} else if (g->limited) {
		g->used++;
		*ticket = g->gen;
	}
	pthread_mutex_unlock(&g->lock);
	return ret;
}

void guard_refund(struct guard *g, unsigned long ticket)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	if (g->limited && g->gen == ticket && g->used > 0)
		g->used--;
	pthread_mutex_unlock(&g->lock);
}

void guard_reset(struct guard *g, long long limit)
{
	pthread_mutex_lock(&g->lock);
	g->limited = true;
	g->limit = limit;
	g->used = 0;
	g->gen++;
	g->warned = false;
	pthread_mutex_unlock(&g->lock);
	hwc_log(LOG_NOTICE, "max_deletes: the owner allows %lld more deletes",
		limit);
}

long long guard_left(struct guard *g)
{
	long long left;

	pthread_mutex_lock(&g->lock);
	left = g->limited ? g->limit - g->used : -1;
	pthread_mutex_unlock(&g->lock);
	return left;
}

const char *guard_reason_name(enum guard_reason why)
{
	switch (why) {
	case GUARD_MIN_AGE:
		return "min_age";
	case GUARD_MAX_DELETES:
		return "max_deletes";
	case GUARD_PROTECT:
		return "protect";
	case GUARD_OK:
		break;
	}
	return "none";
}
