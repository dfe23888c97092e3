/*
 * fuzz_show.c - the parsers of single-object answers: IoTDA show package,
 * RFS show provider / version and the provider emptiness check, IAM token
 * login (token.project.id) and project lookup. Input: one byte choosing
 * the call, then the answer.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_feed.h"
#include "services.h"

#define PACKAGE "5ed8d76e7a5d3d02bf4a9c7f"
#define PROVIDER "emu-provider-00001"
#define VERSION "1.0.0"
#define PROVIDER_ID "0d1c0f0e-1111-4222-8333-444455556666"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_endpoint ep = {.service = "fuzz"};
	struct iotda io = {.ep = &ep, .project_id = "p"};
	struct rfs r = {.ep = &ep};
	struct iam_login login = {.ep = &ep,
				  .user = "demo",
				  .password = "pw",
				  .domain = "demo",
				  .region = "cn-north-4"};
	struct resource res;
	char *token = NULL, *project = NULL;
	bool any = false;
	int ret;

	if (size < 1)
		return 0;
	fuzz_feed_start(data + 1, size - 1);
	switch (data[0] % 6) {
	case 0:
		ret = iotda_show_package(&io, PACKAGE, &res);
		if (!ret) {
			fuzz_check_resource(&res, kind_find("packages"));
			FUZZ_CHECK(strcmp(res.name, PACKAGE) == 0);
		}
		resource_clear(&res);
		break;
	case 1:
		ret = rfs_show_name(&r, &rfs_providers, PROVIDER, &res);
		if (!ret) {
			fuzz_check_resource(&res, kind_find("providers"));
			FUZZ_CHECK(strcmp(res.name, PROVIDER) == 0);
		}
		resource_clear(&res);
		break;
	case 2:
		ret = rfs_show_version(&r, &rfs_providers, PROVIDER, VERSION,
				       &res);
		if (!ret) {
			fuzz_check_resource(&res, kind_find("versions"));
			FUZZ_CHECK(strcmp(res.name, VERSION) == 0);
		}
		resource_clear(&res);
		break;
	case 3:
		ret = rfs_has_versions(&r, &rfs_providers, PROVIDER,
				       PROVIDER_ID, NULL, &any);
		FUZZ_CHECK(!ret || !any);
		break;
	case 4:
		ret = iam_token_by_password(&login, &token, &project);
		FUZZ_CHECK(!ret == (token != NULL && project != NULL));
		FUZZ_CHECK(!project || (*project && strlen(project) <= 64));
		free(token);
		free(project);
		break;
	default:
		ret = iam_project_id(NULL, &ep, "cn-north-4", &project);
		FUZZ_CHECK(!ret == (project != NULL));
		free(project);
		break;
	}
	FUZZ_CHECK(ret <= 0);
	FUZZ_CHECK(fuzz_feed_requests() == 1);
	return 0;
}
