/* config.c - a mount's settings: the config file's profile and defaults. */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_ini.h"
#include "endpoint.h"
#include "guard.h"
#include "regions.h"

void config_secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* ---- the settings ---- */

void config_init(struct hwc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cache_ttl = -1;
	cfg->negative_ttl = -1;
	cfg->timeout = -1;
	cfg->retries = -1;
	cfg->auth_hold = -1;
	cfg->readahead = -1;
	cfg->rmdir_cascade = -1;
	cfg->dry_run = -1;
	cfg->ro = -1;
	cfg->parallel_list = -1;
	guard_config_init(cfg);
}

/* ---- where each value came from ---- */

static struct config_origin *config_origin_find(const struct hwc_config *cfg,
						const char *key)
{
	for (size_t i = 0; i < cfg->norigins; i++)
		if (strcmp(cfg->origins[i].key, key) == 0)
			return &cfg->origins[i];
	return NULL;
}

int config_note(struct hwc_config *cfg, const char *key, const char *fmt, ...)
{
	struct config_origin *o = config_origin_find(cfg, key), *v;
	char *text;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	if (!o) {
		v = realloc(cfg->origins, (cfg->norigins + 1) * sizeof(*v));
		if (!v) {
			free(text);
			return -ENOMEM;
		}
		cfg->origins = v;
		o = &v[cfg->norigins++];
		o->key = key;
		o->text = NULL;
	}
	free(o->text);
	o->text = text;
	return 0;
}

const char *config_origin(const struct hwc_config *cfg, const char *key)
{
	const struct config_origin *o = config_origin_find(cfg, key);

	return o ? o->text : NULL;
}

void config_free(struct hwc_config *cfg)
{
	for (size_t i = 0; i < cfg->norigins; i++)
		free(cfg->origins[i].text);
	free(cfg->origins);
	free(cfg->profile);
	free(cfg->config_file);
	free(cfg->region);
	free(cfg->project_id);
	free(cfg->iotda_endpoint);
	free(cfg->instance_id);
	free(cfg->rfs_endpoint);
	free(cfg->iam_endpoint);
	free(cfg->cafile);
	free(cfg->audit_log);
	free(cfg->signing);
	guard_config_free(cfg);
	free(cfg->kinds);
	cred_clear(&cfg->cred);
	config_init(cfg);
}

const char *config_home(void)
{
	const char *v = getenv("HOME");
	struct passwd *pw;

	if (v && *v)
		return v;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir && pw->pw_dir[0] ? pw->pw_dir : NULL;
}

int config_default_path(char *buf, size_t len)
{
	const char *v = getenv("HWCFS_CONFIG");
	int n;

	if (v && *v) {
		n = snprintf(buf, len, "%s", v);
	} else if ((v = getenv("XDG_CONFIG_HOME")) && v[0] == '/') {
		n = snprintf(buf, len, "%s/hwcfs/config", v);
	} else if ((v = config_home())) {
		n = snprintf(buf, len, "%s/.config/hwcfs/config", v);
	} else {
		if (len)
			buf[0] = '\0';
		return -ENOENT;
	}
	if (n < 0 || (size_t)n >= len) {
		if (len)
			buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

enum config_type { CONFIG_STR, CONFIG_INT, CONFIG_BOOL, CONFIG_SECRET };

/* One key of a profile; numbers carry their bounds. */
struct config_key {
	const char *name;
	enum config_type type;
	size_t off; /* into hwc_config, or into credentials for secrets */
	int min, max;
};

#define CFG_STR(f)                                                   \
	{                                                            \
#f, CONFIG_STR, offsetof(struct hwc_config, f), 0, 0 \
	}
#define CFG_INT(f, lo, hi)                                             \
	{                                                              \
#f, CONFIG_INT, offsetof(struct hwc_config, f), lo, hi \
	}
#define CFG_BOOL(f)                                                   \
	{                                                             \
#f, CONFIG_BOOL, offsetof(struct hwc_config, f), 0, 1 \
	}
#define CFG_SECRET(f)                                                    \
	{                                                                \
#f, CONFIG_SECRET, offsetof(struct credentials, f), 0, 0 \
	}

static const struct config_key config_keys[] = {
    CFG_STR(region),
    CFG_STR(project_id),
    CFG_STR(iotda_endpoint),
    CFG_STR(instance_id),
    CFG_STR(rfs_endpoint),
    CFG_STR(iam_endpoint),
    CFG_INT(cache_ttl, 0, 86400),
    CFG_INT(negative_ttl, 0, 86400),
    CFG_INT(timeout, 1, 3600),
    CFG_INT(retries, 0, 20),
    /* the gateway locks a key for 5 minutes after 5 refusals */
    CFG_INT(auth_hold, 1, 86400),
    /* lists and threads of a walk's readahead (cache/readahead.c) */
    CFG_INT(readahead, 0, 64),
    /* 0 walks IoTDA one page at a time (the benchmark's reference) */
    CFG_BOOL(parallel_list),
    CFG_STR(cafile),
    CFG_STR(audit_log),
    CFG_STR(signing),
    CFG_STR(kinds),
    CFG_BOOL(rmdir_cascade),
    CFG_BOOL(dry_run),
    CFG_BOOL(ro),
    CFG_SECRET(ak),
    CFG_SECRET(sk),
    CFG_SECRET(security_token),
    CFG_SECRET(auth_token),
    CFG_SECRET(iam_user),
    CFG_SECRET(iam_password),
    CFG_SECRET(iam_domain),
};

#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static const struct config_key *config_key_find(const char *name)
{
	for (size_t i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

bool config_key_is_secret(const char *name)
{
	static const char *const secret[] = {"ak", "sk", "security_token",
					     "auth_token", "iam_password"};

	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		if (strcmp(name, secret[i]) == 0)
			return true;
	return false;
}

/* Parses a decimal in [min, max]; digits only, so no sign and no spaces. */
static int config_parse_int(const char *s, int min, int max, int *out)
{
	long v = 0;

	if (!*s || strlen(s) > 9)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = (int)v;
	return 0;
}

static int config_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

/* A number or flag, by the rules of its key. */
static int config_parse_value(const struct config_key *k, const char *s,
			      int *out)
{
	if (k->type == CONFIG_BOOL)
		return config_parse_bool(s, out);
	return config_parse_int(s, k->min, k->max, out);
}

/* What a number or flag must be: the same words wherever it was given. */
static void config_range_msg(const struct config_key *k, char *buf, size_t len)
{
	if (k->type == CONFIG_BOOL)
		snprintf(buf, len,
			 "%s must be 0 or 1 (true/false, yes/no, on/off)",
			 k->name);
	else
		snprintf(buf, len, "%s must be a whole number from %d to %d",
			 k->name, k->min, k->max);
}

int config_set(struct hwc_config *cfg, const char *key, const char *value,
	       char *err, size_t errlen)
{
	const struct config_key *k = config_key_find(key);
	int v;

	if (guard_config_key(key))
		return guard_config_set(cfg, key, value, false, "command line",
					err, errlen);
	if (!k || (k->type != CONFIG_INT && k->type != CONFIG_BOOL)) {
		snprintf(err, errlen, "%s is not a number or flag option", key);
		return -EINVAL;
	}
	if (config_parse_value(k, value, &v)) {
		config_range_msg(k, err, errlen);
		return -ERANGE;
	}
	*(int *)((char *)cfg + k->off) = v;
	return config_note(cfg, k->name, "command line");
}

/*
 * Applies one key of the chosen profile: settings fill only what is still
 * unset (the command line wins), secrets go to *prof for cred_find().
 */
static int config_apply(struct hwc_config *cfg, struct credentials *prof,
			const struct config_ini *ini,
			const struct config_ini_entry *e, char *err,
			size_t errlen)
{
	const struct config_key *k = config_key_find(e->key);
	char **sp, msg[160], origin[600];
	int *ip, v = 0;

	if (!k) {
		/* a guard's key: a bad value, empty too, is a usage error */
		snprintf(origin, sizeof(origin), "profile %s of %s",
			 cfg->profile, ini->path);
		v = guard_config_set(cfg, e->key, e->value, true, origin, msg,
				     sizeof(msg));
		if (v == -ERANGE)
			snprintf(err, errlen, "%s:%d: %s", ini->path, e->line,
				 msg);
		return v;
	}
	if (*e->value == '\0') {
		snprintf(err, errlen, "%s:%d: %s has an empty value", ini->path,
			 e->line, e->key);
		return -EINVAL;
	}
	switch (k->type) {
	case CONFIG_SECRET:
		sp = (char **)((char *)prof + k->off);
		*sp = strdup(e->value);
		return *sp ? 0 : -ENOMEM;
	case CONFIG_STR:
		sp = (char **)((char *)cfg + k->off);
		if (*sp)
			return 0;
		*sp = strdup(e->value);
		if (!*sp)
			return -ENOMEM;
		break;
	case CONFIG_INT:
	case CONFIG_BOOL:
		/* out of range is a usage error, as on the command line */
		if (config_parse_value(k, e->value, &v)) {
			config_range_msg(k, msg, sizeof(msg));
			snprintf(err, errlen, "%s:%d: %s", ini->path, e->line,
				 msg);
			return -ERANGE;
		}
		ip = (int *)((char *)cfg + k->off);
		if (*ip >= 0)
			return 0;
		*ip = v;
		break;
	}
	return config_note(cfg, k->name, "profile %s of %s", cfg->profile,
			   ini->path);
}

/*
 * Loads the config file and applies cfg->profile. Every key of every
 * section must be known (a typo in another profile is caught too); values
 * are checked for the profile in use.
 */
static int config_load_file(struct hwc_config *cfg, bool named,
			    struct credentials *prof, char *err, size_t errlen)
{
	struct config_ini ini;
	bool secret = false;
	int rc;

	rc = config_ini_load(cfg->config_file, &ini, err, errlen);
	if (rc == -ENOENT) {
		if (named) {
			snprintf(err, errlen, "config file %s: %s",
				 cfg->config_file, strerror(ENOENT));
			return rc;
		}
		if (strcmp(cfg->profile, "default") != 0) {
			snprintf(err, errlen,
				 "profile [%s] not found: no config file %s",
				 cfg->profile, cfg->config_file);
			return -ENOENT;
		}
		return config_note(cfg, "config", "%s; no such file",
				   config_origin(cfg, "config"));
	}
	if (rc)
		return rc;
	for (size_t i = 0; i < ini.count; i++) {
		const struct config_ini_entry *e = &ini.entries[i];

		if (!config_key_find(e->key) && !guard_config_key(e->key)) {
			snprintf(err, errlen, "%s:%d: unknown key %s", ini.path,
				 e->line, e->key);
			rc = -EINVAL;
			goto out;
		}
		if (config_key_is_secret(e->key))
			secret = true;
	}
	if (secret) {
		rc = config_mode_private(ini.path, ini.mode, ini.uid, err,
					 errlen);
		if (rc)
			goto out;
	}
	if (!config_ini_has_section(&ini, cfg->profile)) {
		if (strcmp(cfg->profile, "default") != 0) {
			snprintf(err, errlen, "profile [%s] not found in %s",
				 cfg->profile, ini.path);
			rc = -ENOENT;
		}
		goto out;
	}
	for (size_t i = 0; i < ini.count && !rc; i++)
		if (strcmp(ini.entries[i].section, cfg->profile) == 0)
			rc = config_apply(cfg, prof, &ini, &ini.entries[i], err,
					  errlen);
out:
	config_ini_free(&ini);
	return rc;
}

static int config_set_default(char **field, const char *value)
{
	if (*field)
		return 0;
	*field = strdup(value);
	return *field ? 0 : -ENOMEM;
}

static void config_int_default(int *field, int value)
{
	if (*field < 0)
		*field = value;
}

static bool config_chars_ok(const char *s, const char *extra, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      (extra && strchr(extra, c))))
			return false;
	}
	return true;
}

/*
 * Trailing slashes are dropped, so that request paths can be appended as
 * they are; the rest is the rule the HTTP client parses by
 * (common/endpoint.c).
 */
static int config_check_endpoint(const char *key, char *url, char *err,
				 size_t errlen)
{
	const char *sep;
	struct endpoint_url u;
	size_t n, min;
	int rc;

	if (!url)
		return 0;
	sep = strstr(url, "://");
	min = sep ? (size_t)(sep - url) + 3 : 0;
	n = strlen(url);
	while (n > min && url[n - 1] == '/')
		url[--n] = '\0';
	rc = endpoint_parse(url, key, &u, err, errlen);
	endpoint_url_clear(&u);
	return rc;
}

static int config_check_int(const struct config_key *k, int v, char *err,
			    size_t errlen)
{
	if (v >= k->min && v <= k->max)
		return 0;
	config_range_msg(k, err, errlen);
	return -ERANGE;
}

/* Checks what came from anywhere, the command line included. */
static int config_validate(struct hwc_config *cfg, char *err, size_t errlen)
{
	int rc = 0;

	for (size_t i = 0; i < CONFIG_NKEYS && !rc; i++) {
		const struct config_key *k = &config_keys[i];
		int v;

		if (k->type != CONFIG_INT && k->type != CONFIG_BOOL)
			continue;
		v = *(int *)((char *)cfg + k->off);
		if (v != -1) /* -1 is unset until the defaults are in */
			rc = config_check_int(k, v, err, errlen);
	}
	if (rc)
		return rc;
	if (cfg->signing && strcmp(cfg->signing, "auto") != 0 &&
	    strcmp(cfg->signing, "sdk") != 0 &&
	    strcmp(cfg->signing, "v11") != 0) {
		snprintf(err, errlen, "signing must be auto, sdk or v11");
		return -EINVAL;
	}
	if (cfg->region && !config_chars_ok(cfg->region, "-", 64)) {
		snprintf(err, errlen,
			 "region must be a region id such as cn-north-4");
		return -EINVAL;
	}
	if (cfg->project_id &&
	    !config_chars_ok(cfg->project_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_",
			     64)) {
		snprintf(err, errlen,
			 "project_id must be 1-64 letters, digits, - or _");
		return -EINVAL;
	}
	if (cfg->instance_id &&
	    !config_chars_ok(cfg->instance_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_",
			     128)) {
		snprintf(err, errlen,
			 "instance_id must be 1-128 letters, digits, - or _");
		return -EINVAL;
	}
	rc = config_check_endpoint("iotda_endpoint", cfg->iotda_endpoint, err,
				   errlen);
	if (!rc)
		rc = config_check_endpoint("rfs_endpoint", cfg->rfs_endpoint,
					   err, errlen);
	if (!rc)
		rc = config_check_endpoint("iam_endpoint", cfg->iam_endpoint,
					   err, errlen);
	return rc;
}

static int config_defaults(struct hwc_config *cfg)
{
	config_int_default(&cfg->cache_ttl, 30);
	config_int_default(&cfg->negative_ttl, 5);
	config_int_default(&cfg->timeout, 10);
	config_int_default(&cfg->retries, 4);
	config_int_default(&cfg->auth_hold, 300);
	config_int_default(&cfg->readahead, 16);
	config_int_default(&cfg->parallel_list, 1);
	config_int_default(&cfg->rmdir_cascade, 0);
	config_int_default(&cfg->dry_run, 0);
	config_int_default(&cfg->ro, 0);
	if (config_set_default(&cfg->kinds, "all"))
		return -ENOMEM;
	return config_set_default(&cfg->signing, "auto");
}

/* A setting that is not a credential, and whether it has a value. */
static bool config_key_set(const struct hwc_config *cfg,
			   const struct config_key *k)
{
	const char *p = (const char *)cfg + k->off;

	switch (k->type) {
	case CONFIG_STR:
		return *(char *const *)p != NULL;
	case CONFIG_INT:
	case CONFIG_BOOL:
		return *(const int *)p >= 0;
	case CONFIG_SECRET:
		break;
	}
	return false;
}

/* Every setting with a value and no origin yet gets this one. */
static int config_note_unnoted(struct hwc_config *cfg, const char *origin)
{
	int rc = 0;

	if (cfg->profile && !config_origin(cfg, "profile"))
		rc = config_note(cfg, "profile", "%s", origin);
	if (!rc && cfg->config_file && !config_origin(cfg, "config"))
		rc = config_note(cfg, "config", "%s", origin);
	for (size_t i = 0; i < CONFIG_NKEYS && !rc; i++)
		if (config_key_set(cfg, &config_keys[i]) &&
		    !config_origin(cfg, config_keys[i].name))
			rc =
			    config_note(cfg, config_keys[i].name, "%s", origin);
	return rc;
}

/* The profile and the config file's path, with where each came from. */
static int config_pick_file(struct hwc_config *cfg)
{
	const char *env = getenv("HWCFS_CONFIG");
	char path[4096];
	int rc;

	rc = config_set_default(&cfg->profile, "default");
	if (!rc && !config_origin(cfg, "profile"))
		rc = config_note(cfg, "profile", "default");
	if (rc || cfg->config_file)
		return rc;
	if (config_default_path(path, sizeof(path)) != 0)
		return 0;
	cfg->config_file = strdup(path);
	if (!cfg->config_file)
		return -ENOMEM;
	if (env && *env)
		return config_note(cfg, "config", "environment HWCFS_CONFIG");
	return config_note(cfg, "config", "default");
}

int config_finish(struct hwc_config *cfg, char *err, size_t errlen)
{
	struct credentials prof = {0};
	const char *env = getenv("HWCFS_CONFIG");
	/* a file named by config= or $HWCFS_CONFIG must exist */
	bool named = cfg->config_file != NULL || (env && *env);
	int rc;

	if (errlen)
		err[0] = '\0';
	/* what the caller set before came from the command line */
	rc = config_note_unnoted(cfg, "command line");
	if (!rc)
		rc = config_pick_file(cfg);
	if (rc)
		goto nomem;
	if (cfg->config_file) {
		rc = config_load_file(cfg, named, &prof, err, errlen);
		if (rc)
			goto out;
	} else if (strcmp(cfg->profile, "default") != 0) {
		snprintf(err, errlen,
			 "profile [%s] not found: no config file (HOME unset)",
			 cfg->profile);
		rc = -ENOENT;
		goto out;
	}
	/* settings errors first; then again for what the search filled in */
	rc = config_validate(cfg, err, errlen);
	if (rc)
		goto out;
	rc = cred_find(cfg, &prof, err, errlen);
	if (rc)
		goto out;
	rc = config_defaults(cfg);
	if (!rc)
		rc = config_note_unnoted(cfg, "default");
	if (rc)
		goto nomem;
	rc = region_derive(cfg, err, errlen);
	if (rc)
		goto out;
	rc = config_validate(cfg, err, errlen);
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
	rc = -ENOMEM;
out:
	cred_clear(&prof);
	return rc;
}

/* ---- for hwcfs --check ---- */

static void config_print_key(const struct hwc_config *cfg,
			     const struct config_key *k, FILE *out)
{
	const char *origin = config_origin(cfg, k->name);
	const char *p;

	if (k->type == CONFIG_SECRET) {
		p = *(char *const *)((const char *)&cfg->cred + k->off);
		if (!p)
			return;
		/* the value of a secret is never shown, only where it is */
		if (config_key_is_secret(k->name))
			fprintf(out, "%s: from %s\n", k->name,
				origin ? origin : cfg->cred.source);
		else
			fprintf(out, "%s: %s (%s)\n", k->name, p,
				origin ? origin : cfg->cred.source);
		return;
	}
	p = (const char *)cfg + k->off;
	if (!config_key_set(cfg, k))
		fprintf(out, "%s: none\n", k->name);
	else if (k->type == CONFIG_STR)
		fprintf(out, "%s: %s (%s)\n", k->name, *(char *const *)p,
			origin ? origin : "default");
	else if (k->type == CONFIG_BOOL)
		fprintf(out, "%s: %s (%s)\n", k->name,
			*(const int *)p ? "yes" : "no",
			origin ? origin : "default");
	else
		fprintf(out, "%s: %d (%s)\n", k->name, *(const int *)p,
			origin ? origin : "default");
}

void config_print(const struct hwc_config *cfg, FILE *out)
{
	const char *origin = config_origin(cfg, "profile");

	fprintf(out, "profile: %s (%s)\n", cfg->profile ? cfg->profile : "-",
		origin ? origin : "default");
	origin = config_origin(cfg, "config");
	fprintf(out, "config: %s (%s)\n",
		cfg->config_file ? cfg->config_file : "none",
		origin ? origin : "no HOME");
	for (size_t i = 0; i < CONFIG_NKEYS; i++)
		config_print_key(cfg, &config_keys[i], out);
	guard_config_print(cfg, out);
}

void config_forget_secrets(struct hwc_config *cfg)
{
	const char *source = cfg->cred.source;

	cred_clear(&cfg->cred);
	cfg->cred.source = source;
	cred_env_wipe();
}
