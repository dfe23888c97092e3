/*
 * fuzz_iotda_list.c - the IoTDA package walk (page parser, markers, round
 * planning) on hostile pages. Input: one flag byte (bit 0: the one-page
 * reference walk), then the answers, separated by FUZZ_SEP.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_feed.h"
#include "services.h"

/* Every walk ends at most one round (33 pages) after the answers run out. */
#define ROUND_REQUESTS 33

static size_t answers(const uint8_t *data, size_t size)
{
	size_t n = 1, seplen = sizeof(FUZZ_SEP) - 1;
	const uint8_t *p = data, *end = data + size, *sep;

	while ((size_t)(end - p) >= seplen &&
	       (sep = memmem(p, (size_t)(end - p), FUZZ_SEP, seplen))) {
		n++;
		p = sep + seplen;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_endpoint ep = {.service = "iotda"};
	struct iotda io = {.ep = &ep,
			   .project_id = "0123456789abcdef0123456789abcdef"};
	struct listing *l;
	int ret;

	if (size < 1)
		return 0;
	io.parallel = !(data[0] & 1);
	fuzz_feed_start(data + 1, size - 1);
	l = listing_new();
	FUZZ_CHECK(l != NULL);
	ret = iotda_list_packages(&io, l);
	FUZZ_CHECK(ret <= 0);
	FUZZ_CHECK(fuzz_feed_requests() <=
		   answers(data + 1, size - 1) + ROUND_REQUESTS);
	if (!ret && listing_finish(l, NULL) == 0) {
		fuzz_check_listing(l, kind_find("packages"));
	}
	listing_put(l);
	return 0;
}
