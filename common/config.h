/*
 * config.h - the settings of one mount: command line, profile in the config
 * file, defaults, and the credentials found for it.
 *
 * Unset is NULL for strings and -1 for numbers, so that a value from the
 * command line wins over the profile, and the profile over the default.
 */
#ifndef HWCFS_CONFIG_H
#define HWCFS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct credentials {
	char *ak;
	char *sk;
	char *security_token; /* temporary AK/SK (STS) */
	char *auth_token;     /* an IAM token given instead of keys */
	char *iam_user;	      /* password login: a token is fetched */
	char *iam_password;
	char *iam_domain;
	const char *source; /* where they came from, for messages; static */
};

/* Where one setting's value came from, for hwcfs --check. */
struct config_origin {
	const char *key; /* a profile key, "config" or "profile"; static */
	char *text;	 /* "command line", "profile prod of FILE", ... */
};

/* One protect pattern and where it came from (common/guard.c). */
struct config_pattern {
	char *pattern;
	char *origin;
};

struct hwc_config {
	char *profile;	   /* default "default" */
	char *config_file; /* default: see config_default_path() */
	char *region;
	char *project_id;
	char *iotda_endpoint; /* "https://host[:port]"; unset: no iotda/ */
	char *instance_id;
	char *rfs_endpoint; /* unset: no rfs/ */
	char *iam_endpoint; /* default: from the region (regions.c) */
	char *cafile;
	char *audit_log;  /* a file; unset: syslog (or stderr with -f) */
	char *signing;	  /* "auto" (default), "sdk" or "v11" for IoTDA */
	/* Top kinds shown ("packages,providers"), default "all": the kind
	 * table checks it (backend/include/kind.h, kind_check_selection). */
	char *kinds;
	int cache_ttl;	  /* seconds, default 30; 0 turns the cache off */
	int negative_ttl; /* seconds, default 5 */
	int timeout;	  /* seconds for a whole operation, default 10 */
	int retries;	  /* retries after the first try, default 4 */
	int auth_hold;	  /* seconds nothing is signed after a 401, 300 */
	int readahead;	  /* sibling lists ahead of a walk, 16; 0: none */
	int rmdir_cascade;
	int dry_run;
	int ro;
	int parallel_list; /* IoTDA offset pages at once: 1 (default) or 0 */
	/* The delete guards (common/guard.h): -1 and none when unset. */
	int min_age;	 /* seconds a resource must have existed */
	int max_deletes; /* deletes this mount may send */
	struct config_pattern *protect; /* paths never deleted */
	size_t nprotect;
	/* Set by config_finish: no IoTDA or RFS endpoint was given, so both
	 * came from the region's tables (an unset one is not offered there). */
	int derived_endpoints;
	struct credentials cred;
	struct config_origin *origins; /* one per setting that has a value */
	size_t norigins;
};

/* Sets every field to unset. */
void config_init(struct hwc_config *cfg);

/*
 * Sets one option from the command line ("timeout", "5"), parsed and
 * checked as the same key of a profile is, so that both mean the same.
 * For numbers and flags; -ERANGE (a usage error) with one line in err
 * when the value is not a whole number in the key's range.
 */
int config_set(struct hwc_config *cfg, const char *key, const char *value,
	       char *err, size_t errlen);

/*
 * Fills fields still unset from the profile cfg->profile of the config
 * file, then from defaults, then finds credentials in the order of
 * docs/hwcfs.md, "Credentials" (environment, SDK credentials file, the
 * config file, KooCLI profile).
 * Fields already set count as given on the command line. A missing
 * default config file is fine; a named one that is missing, a file with a
 * syntax error, or a secret-holding file readable by group or others or
 * owned by another user is an error. On error returns -errno and writes
 * one line to err: -ERANGE when a number or flag is out of range (on the
 * command line or in the profile), -ENOKEY when no credentials were found.
 */
int config_finish(struct hwc_config *cfg, char *err, size_t errlen);

/*
 * Where the value of key came from: "command line", "default", "profile
 * prod of FILE", "environment HUAWEICLOUD_SDK_AK", ...; NULL when unset
 * or unknown. Valid until cfg changes.
 */
const char *config_origin(const struct hwc_config *cfg, const char *key);

/*
 * Records where the value of key came from (a static name: a profile key,
 * "config" or "profile"), in printf style; replaces an earlier record.
 * 0 or -ENOMEM.
 */
int config_note(struct hwc_config *cfg, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Prints every setting of a finished config, one "key: value (origin)" a
 * line, for hwcfs --check. Credentials are named with their origin only,
 * never with their value.
 */
void config_print(const struct hwc_config *cfg, FILE *out);

/*
 * Wipes the credentials cfg holds (their origins stay), and the
 * credential variables of the environment, once the HTTP client has
 * its own copy: a core file or a read of the daemon's memory then finds
 * one copy of a secret, not three.
 */
void config_forget_secrets(struct hwc_config *cfg);

/*
 * Whether a setting's name is one of the keys that hold a secret (ak, sk,
 * security_token, auth_token, iam_password): the one list, for the config
 * file's checks and for refusing credentials on the command line.
 */
bool config_key_is_secret(const char *name);

/* The config file used when none is named: $HWCFS_CONFIG, else
 * $XDG_CONFIG_HOME/hwcfs/config, else ~/.config/hwcfs/config. */
int config_default_path(char *buf, size_t len);

/*
 * Refuses a file that holds secrets and that group or others can read,
 * or that another user (not root) owns: returns -EACCES and writes which
 * file and what is wrong with it to err.
 */
int config_check_private(const char *path, char *err, size_t errlen);

void config_free(struct hwc_config *cfg);

#endif
