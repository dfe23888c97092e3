/*
 * json.c - JSON from the network, with every NUL and every byte that is not
 * UTF-8 made visible (JSON_TAINT) before cJSON could silently cut a string
 * at a NUL. See json.h and docs/backend.md.
 */
#include "json.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length of the UTF-8 sequence at s (n bytes left), or 0 when there is
 * none: overlong forms, surrogates and code points past U+10FFFF are not
 * UTF-8 (RFC 3629). */
static size_t json_utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * Copies text into out (when out is not NULL: room for len bytes), each NUL and
 * each byte outside UTF-8 made JSON_TAINT; returns how many were. A \u0000
 * escape is a NUL too. Backslashes are taken in pairs from the start: JSON has
 * them only inside strings, so "\\u0000" is an escaped backslash and the text
 * u0000, never a NUL.
 */
static size_t json_mark(const char *text, size_t len, char *out, size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, o = 0, marks = 0;

	while (i < len) {
		size_t n = 1;
		bool mark = false;

		if (s[i] == '\0') {
			mark = true;
		} else if (s[i] >= 0x80) {
			n = json_utf8_len(s + i, len - i);
			if (!n) {
				n = 1;
				mark = true;
			}
		} else if (s[i] == '\\') {
			if (len - i >= 6 &&
			    memcmp(s + i + 1, "u0000", 5) == 0) {
				n = 6;
				mark = true;
			} else if (len - i >= 2 && s[i + 1] > 0 &&
				   s[i + 1] < 0x80) {
				n = 2; /* the escape and the ASCII byte it
					  escapes */
			}
		}
		if (mark)
			marks++;
		if (out && mark)
			out[o++] = JSON_TAINT;
		else if (out)
			for (size_t k = 0; k < n; k++)
				out[o++] = (char)s[i + k];
		i += n;
	}
	if (outlen)
		*outlen = o;
	return marks;
}

int json_parse(const char *text, size_t len, cJSON **out, bool *tainted)
{
	char *copy = NULL;
	size_t marks, n = len;

	*out = NULL;
	if (tainted)
		*tainted = false;
	if (!text || !len)
		return -EIO;
	marks = json_mark(text, len, NULL, NULL);
	if (marks) {
		copy = malloc(len + 1);
		if (!copy)
			return -ENOMEM;
		json_mark(text, len, copy, &n);
		copy[n] = '\0';
	}
	*out = cJSON_ParseWithLength(copy ? copy : text, n);
	free(copy);
	if (tainted)
		*tainted = marks > 0;
	return *out ? 0 : -EIO;
}

bool json_str_clean(const char *s)
{
	return !s || !strchr(s, JSON_TAINT);
}

bool json_clean(const cJSON *item, const cJSON *skip)
{
	const cJSON *child;

	if (!item)
		return true;
	if (!json_str_clean(item->string))
		return false;
	if (item == skip)
		return true;
	if (cJSON_IsString(item) && !json_str_clean(item->valuestring))
		return false;
	for (child = item->child; child; child = child->next)
		if (!json_clean(child, skip))
			return false;
	return true;
}
