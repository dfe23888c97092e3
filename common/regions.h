/*
 * regions.h - the endpoints the official SDKs derive from a region id, so
 * that a region and keys are enough to mount. The tables and where they
 * come from: regions.c and docs/cloud-api.md, "Endpoints and regions".
 */
#ifndef HWCFS_REGIONS_H
#define HWCFS_REGIONS_H

#include <stddef.h>

#include "config.h"

enum region_service { REGION_IOTDA, REGION_RFS, REGION_IAM };

/*
 * The host the SDK's table gives for service in region: NULL when the
 * SDK does not offer the service there, except IAM, whose table falls back
 * to the global host.
 */
const char *region_table_host(enum region_service svc, const char *region);

/*
 * Fills the endpoints cfg leaves unset from cfg->region, as the SDKs do:
 * a HUAWEICLOUD_SDK_REGION_{SERVICE}_{REGION} variable first, then the
 * table. IAM also honours HUAWEICLOUD_SDK_IAM_ENDPOINT before those. IoTDA
 * and RFS are derived only when neither endpoint was given (giving one
 * chooses the services); cfg->derived_endpoints then says so. 0, or
 * -EINVAL (a variable that is no URL) / -ENOMEM with one line in err.
 */
int region_derive(struct hwc_config *cfg, char *err, size_t errlen);

/* The SDK's name of a service, for messages: "IoTDA", "RFS", "IAM". */
const char *region_service_name(enum region_service svc);

#endif
