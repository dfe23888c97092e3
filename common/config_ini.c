/*
 * config_ini.c - the INI reader of the hwcfs config file and the SDK
 * credentials file, and the permission check of files that hold secrets.
 */
#include "config_ini.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard.h"

/* A line longer than this is not a settings line; refuse it. */
#define CONFIG_LINE_MAX 65536

/* ---- the INI reader ---- */

static char *config_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	return s;
}

static int config_ini_add_section(struct config_ini *ini, const char *name)
{
	char **v;

	for (size_t i = 0; i < ini->nsections; i++)
		if (strcmp(ini->sections[i], name) == 0)
			return -EEXIST;
	v = realloc(ini->sections, (ini->nsections + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ini->sections = v;
	v[ini->nsections] = strdup(name);
	if (!v[ini->nsections])
		return -ENOMEM;
	ini->nsections++;
	return 0;
}

static int config_ini_add(struct config_ini *ini, const char *section,
			  const char *key, const char *value, int line)
{
	struct config_ini_entry *v, *e;

	if (!guard_config_repeats(key) && config_ini_get(ini, section, key))
		return -EEXIST;
	v = realloc(ini->entries, (ini->count + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ini->entries = v;
	e = &v[ini->count];
	e->section = strdup(section);
	e->key = strdup(key);
	e->value = strdup(value);
	e->line = line;
	if (!e->section || !e->key || !e->value) {
		free(e->section);
		free(e->key);
		config_secret_free(e->value);
		return -ENOMEM;
	}
	ini->count++;
	return 0;
}

/*
 * One line: a "[section]", a "key = value", a comment or blank. A value
 * runs to the end of the line: '#' or ';' inside it are kept, as secrets
 * and passwords may hold them. *section tracks the current section.
 */
static int config_ini_line(struct config_ini *ini, char *raw, int lineno,
			   char **section, char *err, size_t errlen)
{
	char *s = config_trim(raw), *eq, *key, *value;
	int rc;

	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		char *close = strchr(s, ']');

		if (!close || close[1] != '\0') {
			snprintf(err, errlen, "%s:%d: malformed section header",
				 ini->path, lineno);
			return -EINVAL;
		}
		*close = '\0';
		s = config_trim(s + 1);
		if (*s == '\0') {
			snprintf(err, errlen, "%s:%d: empty section name",
				 ini->path, lineno);
			return -EINVAL;
		}
		rc = config_ini_add_section(ini, s);
		if (rc == -EEXIST) {
			snprintf(err, errlen, "%s:%d: section [%s] given twice",
				 ini->path, lineno, s);
			return -EINVAL;
		}
		if (rc)
			return rc;
		free(*section);
		*section = strdup(s);
		return *section ? 0 : -ENOMEM;
	}
	eq = strchr(s, '=');
	if (!eq) {
		snprintf(err, errlen, "%s:%d: expected \"key = value\"",
			 ini->path, lineno);
		return -EINVAL;
	}
	*eq = '\0';
	key = config_trim(s);
	value = config_trim(eq + 1);
	if (*key == '\0') {
		snprintf(err, errlen, "%s:%d: missing key before '='",
			 ini->path, lineno);
		return -EINVAL;
	}
	if (!*section) {
		snprintf(err, errlen, "%s:%d: %s is outside any [section]",
			 ini->path, lineno, key);
		return -EINVAL;
	}
	rc = config_ini_add(ini, *section, key, value, lineno);
	if (rc == -EEXIST) {
		snprintf(err, errlen, "%s:%d: %s given twice in [%s]",
			 ini->path, lineno, key, *section);
		return -EINVAL;
	}
	return rc;
}

int config_ini_load(const char *path, struct config_ini *ini, char *err,
		    size_t errlen)
{
	char *line = NULL, *section = NULL;
	/* stdio's own buffer would keep the file's secrets after fclose */
	char iobuf[BUFSIZ];
	size_t cap = 0;
	ssize_t n;
	struct stat st;
	int lineno = 0, rc = 0;
	FILE *f;

	memset(ini, 0, sizeof(*ini));
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		if (rc != -ENOENT)
			snprintf(err, errlen, "cannot read %s: %s", path,
				 strerror(-rc));
		return rc;
	}
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	if (fstat(fileno(f), &st) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path,
			 strerror(-rc));
		fclose(f);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		fclose(f);
		return -EINVAL;
	}
	ini->mode = st.st_mode;
	ini->uid = st.st_uid;
	ini->path = strdup(path);
	if (!ini->path) {
		fclose(f);
		return -ENOMEM;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (n > CONFIG_LINE_MAX) {
			snprintf(err, errlen, "%s:%d: line too long", path,
				 lineno);
			rc = -EINVAL;
		} else if (strlen(line) != (size_t)n) {
			snprintf(err, errlen, "%s:%d: NUL byte in line", path,
				 lineno);
			rc = -EINVAL;
		} else {
			while (n > 0 &&
			       (line[n - 1] == '\n' || line[n - 1] == '\r'))
				line[--n] = '\0';
			rc = config_ini_line(ini, line, lineno, &section, err,
					     errlen);
		}
		if (rc)
			break;
	}
	if (!rc && ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "cannot read %s", path);
	}
	if (line) {
		explicit_bzero(line, cap);
		free(line);
	}
	free(section);
	fclose(f);
	explicit_bzero(iobuf, sizeof(iobuf));
	if (rc)
		config_ini_free(ini);
	return rc;
}

const struct config_ini_entry *config_ini_get(const struct config_ini *ini,
					      const char *section,
					      const char *key)
{
	for (size_t i = 0; i < ini->count; i++)
		if (strcmp(ini->entries[i].section, section) == 0 &&
		    strcmp(ini->entries[i].key, key) == 0)
			return &ini->entries[i];
	return NULL;
}

bool config_ini_has_section(const struct config_ini *ini, const char *section)
{
	for (size_t i = 0; i < ini->nsections; i++)
		if (strcmp(ini->sections[i], section) == 0)
			return true;
	return false;
}

void config_ini_free(struct config_ini *ini)
{
	for (size_t i = 0; i < ini->count; i++) {
		free(ini->entries[i].section);
		free(ini->entries[i].key);
		config_secret_free(ini->entries[i].value);
	}
	for (size_t i = 0; i < ini->nsections; i++)
		free(ini->sections[i]);
	free(ini->entries);
	free(ini->sections);
	free(ini->path);
	memset(ini, 0, sizeof(*ini));
}

/* ---- permissions ---- */

/* "uid 65534 (nobody)": the name helps, the number is what stat shows. */
static void config_user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *found = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &found) == 0 && found)
		snprintf(buf, len, "uid %u (%s)", (unsigned)uid, pw.pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
}

/*
 * As ssh does with a private key: another user who owns the file could
 * put their own keys in it, or read ours, whatever its mode says now.
 */
static int config_owner_private(const char *path, uid_t uid, char *err,
				size_t errlen)
{
	uid_t me = geteuid();
	char owner[300], user[300];

	if (uid == me || uid == 0)
		return 0;
	config_user_name(uid, owner, sizeof(owner));
	config_user_name(me, user, sizeof(user));
	snprintf(err, errlen,
		 "%s holds secrets but is owned by %s, not by %s who runs "
		 "hwcfs%s; chown it or use a file of your own",
		 path, owner, user, me == 0 ? "" : ", nor by root");
	return -EACCES;
}

int config_mode_private(const char *path, mode_t mode, uid_t uid, char *err,
			size_t errlen)
{
	const char *what;

	if (config_owner_private(path, uid, err, errlen))
		return -EACCES;
	if (mode & (S_IRGRP | S_IROTH))
		what = "readable";
	else if (mode & (S_IWGRP | S_IWOTH))
		what = "writable";
	else
		return 0;
	snprintf(err, errlen,
		 "%s is %s by group or others (mode %04o); chmod 600 %s", path,
		 what, (unsigned)(mode & 07777), path);
	return -EACCES;
}

int config_check_private(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		int rc = -errno;

		snprintf(err, errlen, "cannot stat %s: %s", path,
			 strerror(-rc));
		return rc;
	}
	return config_mode_private(path, st.st_mode, st.st_uid, err, errlen);
}
