/*
 * fuzz_time.c - the two time parsers (IoTDA yyyyMMddTHHmmssZ, RFS
 * YYYY-MM-DDTHH:mm:ss[.SSS]Z). Input: one byte choosing the parser, then
 * the text (up to its first NUL). A time accepted must be the one glibc's
 * strptime reads from the same digits, and only well-formed fields pass.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_feed.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool iotda;
	struct tm tm;
	char *s;
	time_t got;

	if (size < 1)
		return 0;
	iotda = !(data[0] & 1);
	s = malloc(size);
	FUZZ_CHECK(s != NULL);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	got = iotda ? iotda_parse_time(s) : rfs_parse_time(s);
	if (got) {
		const char *end;

		memset(&tm, 0, sizeof(tm));
		end = strptime(s, iotda ? "%Y%m%dT%H%M%S" : "%Y-%m-%dT%H:%M:%S",
			       &tm);
		FUZZ_CHECK(end != NULL);
		FUZZ_CHECK(tm.tm_mon >= 0 && tm.tm_mon <= 11);
		FUZZ_CHECK(tm.tm_mday >= 1 && tm.tm_mday <= 31);
		FUZZ_CHECK(timegm(&tm) == got);
		/* nothing but the zone (RFS: milliseconds first) after it */
		if (!iotda && *end == '.')
			end += 1 + strspn(end + 1, "0123456789");
		FUZZ_CHECK(strcmp(end, "Z") == 0);
	}
	free(s);
	return 0;
}
