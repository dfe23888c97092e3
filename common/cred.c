/*
 * cred.c - where a mount's credentials come from, first hit wins, as the
 * official SDKs look: environment, SDK credentials file, the hwcfs config
 * profile, then a KooCLI profile stored unencrypted.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "config_ini.h"
#include "file.h"

/* KooCLI's file is small; anything bigger is not one. */
#define CRED_KOOCLI_MAX (1024 * 1024)

void cred_clear(struct credentials *c)
{
	config_secret_free(c->ak);
	config_secret_free(c->sk);
	config_secret_free(c->security_token);
	config_secret_free(c->auth_token);
	config_secret_free(c->iam_user);
	config_secret_free(c->iam_password);
	config_secret_free(c->iam_domain);
	memset(c, 0, sizeof(*c));
}

static const char *cred_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int cred_dup(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

/* Fills a setting still unset from the credentials' source. */
static int cred_fill(struct hwc_config *cfg, char **field, const char *key,
		     const char *value, const char *origin)
{
	int rc;

	if (*field || !value || !*value)
		return 0;
	rc = cred_dup(field, value);
	return rc ? rc : config_note(cfg, key, "%s", origin);
}

/* The credentials' fields by key name, to say where each came from. */
static const struct {
	const char *key;
	size_t off;
	const char *env; /* the variable it is read from, if any */
} cred_fields[] = {
    {"ak", offsetof(struct credentials, ak), "HUAWEICLOUD_SDK_AK"},
    {"sk", offsetof(struct credentials, sk), "HUAWEICLOUD_SDK_SK"},
    {"security_token", offsetof(struct credentials, security_token),
     "HUAWEICLOUD_SDK_SECURITY_TOKEN"},
    {"auth_token", offsetof(struct credentials, auth_token),
     "HWCFS_AUTH_TOKEN"},
    {"iam_user", offsetof(struct credentials, iam_user), NULL},
    {"iam_password", offsetof(struct credentials, iam_password), NULL},
    {"iam_domain", offsetof(struct credentials, iam_domain), NULL},
};

#define CRED_NFIELDS (sizeof(cred_fields) / sizeof(cred_fields[0]))

static char *cred_field(struct credentials *c, size_t i)
{
	return *(char **)((char *)c + cred_fields[i].off);
}

/*
 * Notes the origin of every credential found: "environment VAR" for the
 * environment (origin NULL), else origin itself.
 */
static int cred_note(struct hwc_config *cfg, const char *origin)
{
	int rc = 0;

	for (size_t i = 0; i < CRED_NFIELDS && !rc; i++) {
		if (!cred_field(&cfg->cred, i))
			continue;
		if (origin)
			rc = config_note(cfg, cred_fields[i].key, "%s", origin);
		else
			rc = config_note(cfg, cred_fields[i].key,
					 "environment %s", cred_fields[i].env);
	}
	return rc;
}

void cred_env_wipe(void)
{
	for (size_t i = 0; i < CRED_NFIELDS; i++) {
		char *v =
		    cred_fields[i].env ? getenv(cred_fields[i].env) : NULL;

		/* the environment block outlives unsetenv: wipe it first */
		if (v)
			explicit_bzero(v, strlen(v));
		if (cred_fields[i].env)
			unsetenv(cred_fields[i].env);
	}
}

/* Checks a found set for halves; names only the source, never a value. */
static int cred_check(const struct credentials *c, const char *where, char *err,
		      size_t errlen)
{
	const char *msg = NULL;

	if (c->ak && !c->sk)
		msg = "an AK without its SK";
	else if (c->sk && !c->ak)
		msg = "an SK without its AK";
	else if (c->security_token && !c->ak)
		msg = "a security token without AK/SK";
	else if (c->iam_user && !c->iam_password)
		msg = "iam_user without iam_password";
	else if (c->iam_password && !c->iam_user)
		msg = "iam_password without iam_user";
	else if (c->iam_user && !c->iam_domain)
		msg = "iam_user without iam_domain (the account name)";
	if (!msg)
		return 0;
	snprintf(err, errlen, "%s holds %s", where, msg);
	return -EINVAL;
}

static bool cred_any(const struct credentials *c)
{
	return c->ak || c->sk || c->security_token || c->auth_token ||
	       c->iam_user || c->iam_password;
}

/* 1 when the environment has credentials, 0 when not, or -errno. */
static int cred_from_env(struct hwc_config *cfg, char *err, size_t errlen)
{
	struct credentials *c = &cfg->cred;
	int rc;

	rc = cred_dup(&c->ak, cred_env("HUAWEICLOUD_SDK_AK"));
	if (!rc)
		rc = cred_dup(&c->sk, cred_env("HUAWEICLOUD_SDK_SK"));
	if (!rc)
		rc = cred_dup(&c->security_token,
			      cred_env("HUAWEICLOUD_SDK_SECURITY_TOKEN"));
	if (!rc)
		rc = cred_dup(&c->auth_token, cred_env("HWCFS_AUTH_TOKEN"));
	if (rc)
		return rc;
	if (!cred_any(c))
		return 0;
	c->source = "environment";
	rc = cred_check(c, "the environment (HUAWEICLOUD_SDK_AK/SK)", err,
			errlen);
	if (!rc)
		rc = cred_note(cfg, NULL);
	if (!rc)
		rc = cred_fill(cfg, &cfg->project_id, "project_id",
			       cred_env("HUAWEICLOUD_SDK_PROJECT_ID"),
			       "environment HUAWEICLOUD_SDK_PROJECT_ID");
	return rc ? rc : 1;
}

static int cred_from_sdk_file(struct hwc_config *cfg, char *err, size_t errlen)
{
	static const char *const secret[] = {"ak", "sk", "security_token"};
	const char *named = cred_env("HUAWEICLOUD_SDK_CREDENTIALS_FILE");
	const char *home = config_home();
	const char *source;
	struct credentials *c = &cfg->cred;
	const struct config_ini_entry *e;
	struct config_ini ini;
	char path[4096];
	bool holds = false;
	int rc;

	if (named) {
		snprintf(path, sizeof(path), "%s", named);
		source = "$HUAWEICLOUD_SDK_CREDENTIALS_FILE";
	} else if (home) {
		if (snprintf(path, sizeof(path), "%s/.huaweicloud/credentials",
			     home) >= (int)sizeof(path))
			return 0;
		source = "~/.huaweicloud/credentials";
	} else {
		return 0;
	}
	rc = config_ini_load(path, &ini, err, errlen);
	if (rc == -ENOENT && !named)
		return 0;
	if (rc == -ENOENT)
		snprintf(err, errlen,
			 "%s (HUAWEICLOUD_SDK_CREDENTIALS_FILE): %s", path,
			 strerror(ENOENT));
	if (rc)
		return rc;
	/* the SDKs' own keys (domain_id, idp_id, ...) are not ours to refuse */
	for (size_t i = 0; i < ini.count; i++)
		for (size_t k = 0; k < 3; k++)
			if (strcmp(ini.entries[i].key, secret[k]) == 0)
				holds = true;
	if (holds)
		rc = config_mode_private(path, ini.mode, ini.uid, err, errlen);
	if (!rc && (e = config_ini_get(&ini, "basic", "ak")))
		rc = cred_dup(&c->ak, e->value);
	if (!rc && (e = config_ini_get(&ini, "basic", "sk")))
		rc = cred_dup(&c->sk, e->value);
	if (!rc && (e = config_ini_get(&ini, "basic", "security_token")))
		rc = cred_dup(&c->security_token, e->value);
	if (!rc && cred_any(c)) {
		char where[4200];

		c->source = source;
		snprintf(where, sizeof(where), "[basic] of %s", path);
		rc = cred_check(c, where, err, errlen);
		if (!rc)
			rc = cred_note(cfg, where);
		if (!rc && (e = config_ini_get(&ini, "basic", "project_id")))
			rc = cred_fill(cfg, &cfg->project_id, "project_id",
				       e->value, where);
		if (!rc && (e = config_ini_get(&ini, "basic", "iam_endpoint")))
			rc = cred_fill(cfg, &cfg->iam_endpoint, "iam_endpoint",
				       e->value, where);
		if (!rc)
			rc = 1;
	}
	config_ini_free(&ini);
	return rc;
}

static int cred_from_profile(struct hwc_config *cfg, struct credentials *p,
			     char *err, size_t errlen)
{
	char where[4200];

	if (!cred_any(p))
		return 0;
	cfg->cred = *p; /* moved: *p no longer owns them */
	memset(p, 0, sizeof(*p));
	cfg->cred.source = "hwcfs config file";
	snprintf(where, sizeof(where), "profile [%s] of %s", cfg->profile,
		 cfg->config_file ? cfg->config_file : "the config file");
	if (cred_check(&cfg->cred, where, err, errlen))
		return -EINVAL;
	snprintf(where, sizeof(where), "profile %s of %s", cfg->profile,
		 cfg->config_file ? cfg->config_file : "the config file");
	return cred_note(cfg, where) ? -ENOMEM : 1;
}

/* Overwrites every string of a parsed document before it is freed. */
static void cred_json_wipe(cJSON *j)
{
	for (; j; j = j->next) {
		if (cJSON_IsString(j) && j->valuestring)
			explicit_bzero(j->valuestring, strlen(j->valuestring));
		cred_json_wipe(j->child);
	}
}

static const char *cred_json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) && v->valuestring && *v->valuestring
		   ? v->valuestring
		   : NULL;
}

/* Why KooCLI's file was passed over, for the "no credentials" message. */
struct cred_note {
	char text[160];
};

/*
 * The keys of KooCLI's profile prof (in AKSK mode, not encrypted), with
 * its region and project id where unset. 1 when taken, 0 when the
 * profile has none, else -errno with err.
 */
static int cred_koocli_take(struct hwc_config *cfg, const cJSON *prof,
			    const char *current, const char *path,
			    const struct stat *st, char *err, size_t errlen)
{
	struct credentials *c = &cfg->cred;
	char where[4200];
	int rc;

	rc = cred_dup(&c->ak, cred_json_str(prof, "accessKeyId"));
	if (!rc)
		rc = cred_dup(&c->sk, cred_json_str(prof, "secretAccessKey"));
	if (!rc)
		rc = cred_dup(&c->security_token,
			      cred_json_str(prof, "securityToken"));
	if (rc || !cred_any(c))
		return rc;
	c->source = "~/.hcloud/config.json";
	snprintf(where, sizeof(where), "KooCLI profile %.40s of %s", current,
		 path);
	rc = config_mode_private(path, st->st_mode, st->st_uid, err, errlen);
	if (!rc)
		rc = cred_check(c, path, err, errlen);
	if (!rc)
		rc = cred_note(cfg, where);
	if (!rc)
		rc = cred_fill(cfg, &cfg->region, "region",
			       cred_json_str(prof, "region"), where);
	if (!rc)
		rc = cred_fill(cfg, &cfg->project_id, "project_id",
			       cred_json_str(prof, "projectId"), where);
	return rc ? rc : 1;
}

static int cred_from_koocli(struct hwc_config *cfg, struct cred_note *note,
			    char *err, size_t errlen)
{
	const char *home = config_home();
	const cJSON *profiles, *prof = NULL, *enc, *item;
	const char *current;
	char path[4096], *buf = NULL;
	size_t len = 0;
	struct stat st;
	cJSON *doc;
	int rc;

	if (!home || snprintf(path, sizeof(path), "%s/.hcloud/config.json",
			      home) >= (int)sizeof(path))
		return 0;
	rc = file_read(path, CRED_KOOCLI_MAX, &buf, &len, &st);
	if (rc == -ENOENT)
		return 0;
	if (!rc && !S_ISREG(st.st_mode)) {
		explicit_bzero(buf, len);
		free(buf);
		rc = -EINVAL;
	}
	if (rc) {
		snprintf(note->text, sizeof(note->text),
			 "~/.hcloud/config.json could not be read");
		return 0;
	}
	doc = cJSON_ParseWithLength(buf, len);
	explicit_bzero(buf, len);
	free(buf);
	if (!doc) {
		snprintf(note->text, sizeof(note->text),
			 "~/.hcloud/config.json is not valid JSON");
		return 0;
	}
	rc = 0;
	current = cred_json_str(doc, "current");
	if (!current)
		current = "default";
	profiles = cJSON_GetObjectItemCaseSensitive(doc, "profiles");
	cJSON_ArrayForEach(item, profiles)
	{
		const char *name = cred_json_str(item, "name");

		if (name && strcmp(name, current) == 0)
			prof = item;
	}
	enc = cJSON_GetObjectItemCaseSensitive(doc, "authEncrypt");
	if (!prof) {
		snprintf(note->text, sizeof(note->text),
			 "~/.hcloud/config.json has no profile \"%.40s\"",
			 current);
	} else if (!(cJSON_IsFalse(enc) ||
		     (cJSON_IsString(enc) &&
		      strcmp(enc->valuestring, "false") == 0))) {
		snprintf(note->text, sizeof(note->text),
			 "~/.hcloud/config.json stores its keys encrypted; "
			 "set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK");
	} else if (!cred_json_str(prof, "mode") ||
		   strcmp(cred_json_str(prof, "mode"), "AKSK") != 0) {
		snprintf(note->text, sizeof(note->text),
			 "~/.hcloud/config.json profile \"%.40s\" is not in "
			 "AKSK mode",
			 current);
	} else {
		rc = cred_koocli_take(cfg, prof, current, path, &st, err,
				      errlen);
	}
	cred_json_wipe(doc);
	cJSON_Delete(doc);
	return rc;
}

int cred_find(struct hwc_config *cfg, struct credentials *profile, char *err,
	      size_t errlen)
{
	struct cred_note note = {{0}};
	int rc;

	if (cred_any(&cfg->cred)) {
		/* set by the caller; still no half pairs */
		cred_clear(profile);
		if (!cfg->cred.source)
			cfg->cred.source = "caller";
		rc = cred_check(&cfg->cred, "the given credentials", err,
				errlen);
		return rc ? rc : cred_note(cfg, cfg->cred.source);
	}
	rc = cred_from_env(cfg, err, errlen);
	if (!rc)
		rc = cred_from_sdk_file(cfg, err, errlen);
	if (!rc)
		rc = cred_from_profile(cfg, profile, err, errlen);
	if (!rc)
		rc = cred_from_koocli(cfg, &note, err, errlen);
	cred_clear(profile);
	if (rc > 0)
		return 0;
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		cred_clear(&cfg->cred);
		return rc;
	}
	snprintf(err, errlen,
		 "no credentials found: set HUAWEICLOUD_SDK_AK and "
		 "HUAWEICLOUD_SDK_SK (or HWCFS_AUTH_TOKEN) in the environment, "
		 "or put ak and sk in [basic] of ~/.huaweicloud/credentials, "
		 "in profile [%s] of %s, or in an unencrypted KooCLI profile "
		 "(~/.hcloud/config.json)%s%s",
		 cfg->profile ? cfg->profile : "default",
		 cfg->config_file ? cfg->config_file : "the hwcfs config file",
		 note.text[0] ? "; " : "", note.text);
	return -ENOKEY;
}
