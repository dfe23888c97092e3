/*
 * names.h - which names hwcfs shows, and which are worth a request. A name
 * the cloud lists is shown when it is a safe file name (name_safe); a name
 * typed by a user and absent from a fresh listing is asked about only when
 * it matches its kind's documented pattern (name_valid), else it is ENOENT
 * (or ENAMETOOLONG) with no request at all. See docs/hwcfs.md, "The tree".
 */
#ifndef HWCFS_NAMES_H
#define HWCFS_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "backend.h"

/* The longest name the filesystem takes (statfs f_namemax). */
#define NAME_MAX_BYTES 255

/*
 * package_id: 1-36 of [A-Za-z0-9-]. provider_name: 1-64 of [a-z0-9-],
 * starting and ending with [a-z0-9]. provider_version: 5-128 chars,
 * MAJOR.MINOR.PATCH, decimal without leading zeros, each fitting uint64.
 */
bool name_package_valid(const char *name);
bool name_provider_valid(const char *name);
bool name_version_valid(const char *name);
/*
 * module_name: 1-128 characters, the first a CJK ideograph (U+4E00 to
 * U+9FA5, in UTF-8) or an ASCII letter, the others also ASCII digits,
 * '_' or '-'; at most NAME_MAX_BYTES bytes, as any file name.
 */
bool name_module_valid(const char *name);
/* hook_name and template_name: the rule of module_name. */
bool name_hook_valid(const char *name);
bool name_template_valid(const char *name);
/* A template's version_id: "V" and a decimal from 1, fitting uint64. */
bool name_template_version_valid(const char *name);
/* name matches kind's pattern (kind->name_valid); false for NULL. */
bool name_valid(const struct kind *kind, const char *name);

/* Why a name cannot be a file name; NAME_SAFE when it can. */
enum name_unsafe {
	NAME_SAFE,
	NAME_EMPTY,
	NAME_TOO_LONG, /* more than NAME_MAX_BYTES */
	NAME_SLASH,
	NAME_DOT, /* "." or ".." */
};

/*
 * Whether a name the cloud listed can be shown as a file name: not empty,
 * at most NAME_MAX_BYTES, no '/', not "." or "..". (A NUL never gets here:
 * see backend/json.h.) NULL is NAME_EMPTY.
 */
enum name_unsafe name_check_safe(const char *name);
static inline bool name_safe(const char *name)
{
	return name_check_safe(name) == NAME_SAFE;
}
/* A few words for logs: "empty", "longer than 255 bytes", ... */
const char *name_unsafe_reason(enum name_unsafe why);

/*
 * name for a log line: printable ASCII kept, every other byte (and '\\')
 * as \xHH, so no hostile byte reaches a log; cut to fit buf (len > 0).
 */
void name_escape(const char *name, char *buf, size_t len);

#endif
