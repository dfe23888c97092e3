/*
 * fuzz_rfs_list.c - the RFS walk (providers or versions: page parser,
 * next_marker loop detection, time parser) on hostile pages. Input: one
 * byte (bit 0: versions of a provider, else providers), then the answers,
 * separated by FUZZ_SEP.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_feed.h"
#include "services.h"

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
	/* Each RFS family: paged or not, in a project or not (services.h). */
	static const struct {
		const struct rfs_family *fam;
		const char *names, *versions;
	} families[] = {
	    {&rfs_providers, "providers", "versions"},
	    {&rfs_modules, "modules", "module-versions"},
	    {&rfs_hooks, "hooks", "hook-versions"},
	    {&rfs_templates, "templates", "template-versions"},
	};
	struct http_endpoint ep = {.service = "rfs"};
	struct rfs r = {.ep = &ep, .project_id = "0123456789abcdef"};
	const struct rfs_family *fam;
	const struct kind *kind;
	struct listing *l;
	unsigned f;
	int ret;

	if (size < 1)
		return 0;
	f = (data[0] >> 1) % 4;
	fam = families[f].fam;
	kind =
	    kind_find((data[0] & 1) ? families[f].versions : families[f].names);
	fuzz_feed_start(data + 1, size - 1);
	l = listing_new();
	FUZZ_CHECK(l != NULL);
	if (kind->parent)
		ret = rfs_list_versions(&r, fam, "emu-name-00001", l);
	else
		ret = rfs_list_names(&r, fam, l);
	FUZZ_CHECK(ret <= 0);
	/* one request per answer, plus the one that finds none left */
	FUZZ_CHECK(fuzz_feed_requests() <= answers(data + 1, size - 1) + 1);
	if (!ret && listing_finish(l, NULL) == 0) {
		fuzz_check_listing(l, kind);
	}
	listing_put(l);
	return 0;
}
