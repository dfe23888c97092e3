/*
 * json.h - JSON from the network, parsed so that no string can hide a NUL
 * (docs/backend.md, "NUL bytes in answers"). cJSON ends every string at its
 * first NUL, so "victim3\u0000evil" would be read as "victim3" and a key
 * "package_id\u0000x" as "package_id". json_parse() first turns every NUL
 * (a \u0000 escape or a raw byte) and every byte that is not part of UTF-8
 * into JSON_TAINT, a byte UTF-8 never uses; json_clean() then tells whether
 * an answer, or one entry of it, holds such a string. Internal to backend/.
 */
#ifndef HWCFS_JSON_H
#define HWCFS_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* What a NUL, or a byte that is not UTF-8, becomes in a parsed string. */
#define JSON_TAINT '\xff'

/*
 * Parses len bytes of text into *out (free with cJSON_Delete). 0, -EIO when
 * they are not one JSON value, or -ENOMEM. *tainted (may be NULL) tells
 * whether anything was turned into JSON_TAINT.
 */
int json_parse(const char *text, size_t len, cJSON **out, bool *tainted);

/* Whether s holds no JSON_TAINT (NULL is clean). */
bool json_str_clean(const char *s);

/*
 * Whether no key and no string inside item (item's own key included) holds
 * JSON_TAINT. skip (may be NULL) is a member or element whose contents are
 * not looked at: the entries of a list answer, which are checked one by one.
 */
bool json_clean(const cJSON *item, const cJSON *skip);

#endif
