/*
 * names.c - which names can be shown as file names, and which can be cloud
 * identifiers (checked before a request for a name nobody listed).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

static bool name_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool name_is_lower_or_digit(char c)
{
	return (c >= 'a' && c <= 'z') || name_is_digit(c);
}

/* IoTDA package_id: 1-36 of [A-Za-z0-9-]. */
bool name_package_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || name_is_lower_or_digit(c) ||
		      c == '-'))
			return false;
	}
	return true;
}

/* RFS provider_name: ^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$ */
bool name_provider_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64)
		return false;
	if (!name_is_lower_or_digit(s[0]) || !name_is_lower_or_digit(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!name_is_lower_or_digit(s[i]) && s[i] != '-')
			return false;
	return true;
}

/*
 * One character of an RFS registry name at s: a CJK ideograph
 * (U+4E00-U+9FA5, three bytes of UTF-8), an ASCII letter, or, unless
 * first, a digit, '_' or '-'. Its length in bytes, 0 when it is none.
 */
static size_t name_registry_char(const unsigned char *s, bool first)
{
	unsigned cp;

	if ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))
		return 1;
	if (!first && (name_is_digit((char)s[0]) || s[0] == '_' || s[0] == '-'))
		return 1;
	if ((s[0] & 0xf0) != 0xe0 || (s[1] & 0xc0) != 0x80 ||
	    (s[2] & 0xc0) != 0x80)
		return 0;
	cp = (s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu);
	return cp >= 0x4e00 && cp <= 0x9fa5 ? 3 : 0;
}

/*
 * An RFS registry name (module_name): 1-128 characters, the first a CJK
 * ideograph or a letter, the others also digits, '_' or '-'; and at most
 * NAME_MAX_BYTES, as every file name (128 ideographs are 384 bytes).
 */
static bool name_registry_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0, n;

	if (strlen(s) > NAME_MAX_BYTES)
		return false;
	for (; *p; p += n, chars++) {
		n = name_registry_char(p, chars == 0);
		if (!n || chars == 128)
			return false;
	}
	return chars > 0;
}

/* RFS module_name: the registry rule (name_registry_valid). */
bool name_module_valid(const char *s)
{
	return name_registry_valid(s);
}

/* RFS hook_name: the same rule. */
bool name_hook_valid(const char *s)
{
	return name_registry_valid(s);
}

/* RFS template_name: the same rule. */
bool name_template_valid(const char *s)
{
	return name_registry_valid(s);
}

/*
 * One decimal component of a version, without leading zeros and fitting
 * uint64; *end is left on the byte after it.
 */
static bool name_version_part(const char *s, const char **end)
{
	uint64_t v = 0;
	size_t i = 0;

	if (!name_is_digit(s[0]))
		return false;
	if (s[0] == '0' && name_is_digit(s[1]))
		return false;
	for (; name_is_digit(s[i]); i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*end = s + i;
	return true;
}

/* RFS provider_version: 5-128 chars of MAJOR.MINOR.PATCH. */
bool name_version_valid(const char *s)
{
	size_t n = strlen(s);
	const char *p = s;

	if (n < 5 || n > 128)
		return false;
	for (int i = 0; i < 3; i++) {
		if (!name_version_part(p, &p))
			return false;
		if (i < 2 && *p++ != '.')
			return false;
	}
	return *p == '\0';
}

/* RFS template version_id: V and a decimal from 1, fitting uint64. */
bool name_template_version_valid(const char *s)
{
	const char *end;

	if (s[0] != 'V' || s[1] == '0' || !name_version_part(s + 1, &end))
		return false;
	return *end == '\0';
}

bool name_valid(const struct kind *kind, const char *name)
{
	return kind && name && kind->name_valid(name);
}

enum name_unsafe name_check_safe(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!n)
		return NAME_EMPTY;
	if (n > NAME_MAX_BYTES)
		return NAME_TOO_LONG;
	if (strchr(name, '/'))
		return NAME_SLASH;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return NAME_DOT;
	return NAME_SAFE;
}

const char *name_unsafe_reason(enum name_unsafe why)
{
	switch (why) {
	case NAME_SAFE:
		return "safe";
	case NAME_EMPTY:
		return "empty";
	case NAME_TOO_LONG:
		return "longer than 255 bytes";
	case NAME_SLASH:
		return "holds a '/'";
	case NAME_DOT:
		return "is . or ..";
	}
	return "unsafe";
}

void name_escape(const char *name, char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)(name ? name : "");
	size_t o = 0;

	for (; *s; s++) {
		bool plain = *s >= 0x20 && *s < 0x7f && *s != '\\';

		if (o + (plain ? 1 : 4) >= len)
			break;
		if (plain)
			buf[o++] = (char)*s;
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", *s);
	}
	buf[o] = '\0';
}
