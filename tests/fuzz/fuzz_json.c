/*
 * fuzz_json.c - json_parse, the NUL detector, against cJSON on the raw
 * bytes. Input: the answer body. Checks: whatever json_parse takes, cJSON
 * takes too, with the same shape; a string or key without JSON_TAINT is the
 * same bytes cJSON reads; every string is UTF-8 but for JSON_TAINT bytes
 * (so no NUL can hide in it); with nothing marked both agree exactly.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_feed.h"
#include "json.h"

/* Every byte of s is JSON_TAINT or part of a well-formed UTF-8 sequence. */
static bool utf8_or_taint(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		uint32_t cp;
		int n, i;

		if (*p == (unsigned char)JSON_TAINT || *p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0)
			n = 2, cp = *p & 0x1f;
		else if ((*p & 0xf0) == 0xe0)
			n = 3, cp = *p & 0x0f;
		else if ((*p & 0xf8) == 0xf0)
			n = 4, cp = *p & 0x07;
		else
			return false;
		for (i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (cp < (n == 2   ? 0x80u
			  : n == 3 ? 0x800u
				   : 0x10000u) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		p += n;
	}
	return true;
}

static bool same_text(const char *ours, const char *raw)
{
	if (!ours || !raw)
		return ours == raw;
	return !json_str_clean(ours) || strcmp(ours, raw) == 0;
}

static void compare(const cJSON *ours, const cJSON *raw, int depth)
{
	const cJSON *a, *b;

	FUZZ_CHECK(depth <= CJSON_NESTING_LIMIT + 1);
	FUZZ_CHECK((ours->type & 0xff) == (raw->type & 0xff));
	FUZZ_CHECK(!ours->string || utf8_or_taint(ours->string));
	FUZZ_CHECK(same_text(ours->string, raw->string));
	if (cJSON_IsString(ours)) {
		FUZZ_CHECK(utf8_or_taint(ours->valuestring));
		FUZZ_CHECK(same_text(ours->valuestring, raw->valuestring));
	}
	for (a = ours->child, b = raw->child; a && b; a = a->next, b = b->next)
		compare(a, b, depth + 1);
	FUZZ_CHECK(!a && !b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *ours = NULL, *raw;
	bool tainted;
	int ret;

	ret = json_parse((const char *)data, size, &ours, &tainted);
	FUZZ_CHECK(ret == 0 || ret == -EIO || ret == -ENOMEM);
	FUZZ_CHECK(!ret == (ours != NULL));
	raw = size ? cJSON_ParseWithLength((const char *)data, size) : NULL;
	if (ours) {
		FUZZ_CHECK(raw != NULL);
		compare(ours, raw, 0);
	}
	if (!tainted && raw) {
		char *a, *b;

		FUZZ_CHECK(ours != NULL);
		a = cJSON_PrintUnformatted(ours);
		b = cJSON_PrintUnformatted(raw);
		FUZZ_CHECK(a && b && strcmp(a, b) == 0);
		free(a);
		free(b);
	}
	cJSON_Delete(ours);
	cJSON_Delete(raw);
	return 0;
}
