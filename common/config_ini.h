/*
 * config_ini.h - private to config.c and cred.c: the INI reader both the
 * hwcfs config file and the SDK credentials file use, and the credential
 * search config_finish() runs.
 */
#ifndef HWCFS_CONFIG_INI_H
#define HWCFS_CONFIG_INI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

struct config_ini_entry {
	char *section;
	char *key;
	char *value; /* trimmed; may be a secret, wiped on free */
	int line;
};

struct config_ini {
	char *path;
	mode_t mode; /* of the file as read (fstat of the open file) */
	uid_t uid;   /* its owner, likewise */
	struct config_ini_entry *entries;
	size_t count;
	char **sections; /* in file order, each once */
	size_t nsections;
};

/*
 * Reads path. 0; -ENOENT when the file does not exist (err untouched, so
 * the caller decides whether that matters); any other -errno with one line
 * in err: unreadable, not a regular file, a syntax error as FILE:LINE, or a
 * key given twice in a section. Values are never quoted in err.
 */
int config_ini_load(const char *path, struct config_ini *ini, char *err,
		    size_t errlen);
const struct config_ini_entry *config_ini_get(const struct config_ini *ini,
					      const char *section,
					      const char *key);
bool config_ini_has_section(const struct config_ini *ini, const char *section);
void config_ini_free(struct config_ini *ini);

/*
 * 0 when a file that holds secrets is safe to take them from: owned by the
 * user running hwcfs (or root), and neither group nor others may read or
 * write it. Else -EACCES, with the file, and its owner or mode, in err.
 */
int config_mode_private(const char *path, mode_t mode, uid_t uid, char *err,
			size_t errlen);

/*
 * The user's home: $HOME, else the password database's entry. mount(8)
 * runs its helpers with HOME unset, and an fstab mount must still find
 * ~/.config/hwcfs/config and ~/.huaweicloud/credentials. NULL if neither.
 */
const char *config_home(void);

/* Frees a secret string after overwriting it. */
void config_secret_free(char *s);

/*
 * Fills cfg->cred from the first source that has credentials: the
 * environment, the SDK credentials file, *profile (what the hwcfs config
 * file's profile holds; its strings are taken or wiped, and it is left
 * empty), then KooCLI's file. May fill cfg->project_id, cfg->region and
 * cfg->iam_endpoint when unset, from the source it takes. 0 or -errno with
 * one line in err.
 */
int cred_find(struct hwc_config *cfg, struct credentials *profile, char *err,
	      size_t errlen);

void cred_clear(struct credentials *c);

/* Overwrites and removes the credential variables of the environment. */
void cred_env_wipe(void);

#endif
