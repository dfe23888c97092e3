/*
 * fuzz_names.c - the name validator (name_valid) against a second,
 * independent reading of the same rules: POSIX regular expressions plus
 * strtoull for the version parts. Input: one byte choosing the kind, then
 * the name (up to its first NUL).
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_feed.h"
#include "names.h"

static regex_t re_package, re_provider, re_version, re_template_version;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_CHECK(!regcomp(&re_package, "^[A-Za-z0-9-]{1,36}$",
			    REG_EXTENDED | REG_NOSUB));
	FUZZ_CHECK(!regcomp(&re_provider,
			    "^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$",
			    REG_EXTENDED | REG_NOSUB));
	FUZZ_CHECK(
	    !regcomp(&re_version,
		     "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$",
		     REG_EXTENDED | REG_NOSUB));
	FUZZ_CHECK(!regcomp(&re_template_version, "^V[1-9][0-9]*$",
			    REG_EXTENDED | REG_NOSUB));
	return 0;
}

/* Each dot-separated part of a version that matched re_version fits. */
static bool version_parts_fit(const char *s)
{
	const char *p = s;

	for (int i = 0; i < 3; i++) {
		char *end;

		errno = 0;
		(void)strtoull(p, &end, 10);
		if (errno == ERANGE)
			return false;
		p = end + 1;
	}
	return true;
}

/*
 * The registry rule read another way: decode every UTF-8 sequence to a
 * code point first (any length), then judge the code points.
 */
static bool registry_reference(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0;

	while (*p) {
		/* the least code point each length may encode: no overlong */
		static const unsigned least[] = {0, 0x80, 0x800, 0x10000};
		unsigned cp = *p, more = 0, len;
		bool ok;

		if (cp >= 0xf8)
			return false;
		if (cp >= 0xf0)
			more = 3, cp &= 0x07;
		else if (cp >= 0xe0)
			more = 2, cp &= 0x0f;
		else if (cp >= 0xc0)
			more = 1, cp &= 0x1f;
		else if (cp >= 0x80)
			return false;
		p++;
		for (len = more; more; more--, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (*p & 0x3fu);
		}
		if (cp < least[len])
			return false;
		ok = (cp >= 0x4e00 && cp <= 0x9fa5) ||
		     (cp < 0x80 && isalpha((int)cp)) ||
		     (chars > 0 && cp < 0x80 &&
		      (isdigit((int)cp) || cp == '_' || cp == '-'));
		if (!ok || ++chars > 128)
			return false;
	}
	return chars > 0 && strlen(s) <= 255;
}

static bool reference(const struct kind *kind, const char *s)
{
	size_t n = strlen(s);

	if (kind == kind_find("packages"))
		return !regexec(&re_package, s, 0, NULL, 0);
	if (kind == kind_find("providers"))
		return !regexec(&re_provider, s, 0, NULL, 0);
	if (kind == kind_find("modules") || kind == kind_find("hooks") ||
	    kind == kind_find("templates"))
		return registry_reference(s);
	if (kind == kind_find("template-versions"))
		return !regexec(&re_template_version, s, 0, NULL, 0) &&
		       (errno = 0, strtoull(s + 1, NULL, 10), errno != ERANGE);
	if (kind == kind_find("versions") ||
	    kind == kind_find("module-versions") ||
	    kind == kind_find("hook-versions"))
		return n >= 5 && n <= 128 &&
		       !regexec(&re_version, s, 0, NULL, 0) &&
		       version_parts_fit(s);
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct kind *kind;
	char *name;
	bool got;

	if (size < 1)
		return 0;
	kind = &kind_table[data[0] % kind_count];
	name = malloc(size);
	FUZZ_CHECK(name != NULL);
	memcpy(name, data + 1, size - 1);
	name[size - 1] = '\0';
	got = name_valid(kind, name);
	FUZZ_CHECK(got == reference(kind, name));
	/* what a valid name may never hold, whatever the rules become */
	if (got) {
		FUZZ_CHECK(strlen(name) <= NAME_MAX_BYTES);
		FUZZ_CHECK(!strchr(name, '/'));
		FUZZ_CHECK(strcmp(name, ".") != 0 && strcmp(name, "..") != 0);
	}
	free(name);
	return 0;
}
