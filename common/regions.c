/*
 * regions.c - the official SDKs' region tables as data, and the derivation
 * of a mount's endpoints from its region. Which SDK file each table comes
 * from, and why where the SDKs disagree: docs/cloud-api.md, "Endpoints and
 * regions". Refresh a table from those files; the code needs no change.
 */
#include "regions.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One row of an SDK region table: the service's host in that region. */
struct region_host {
	const char *region;
	const char *host;
};

/* IoTDA's basic edition; an instance's own host is never derived. */
static const struct region_host region_iotda[] = {
    {"cn-north-4", "iotda.cn-north-4.myhuaweicloud.com"},
    {"cn-south-4", "iotda.cn-south-4.myhuaweicloud.com"},
    {"cn-south-1", "iotda.cn-south-1.myhuaweicloud.com"},
    {"cn-east-3", "iotda.cn-east-3.myhuaweicloud.com"},
    {"ap-southeast-3", "iotda.ap-southeast-3.myhuaweicloud.com"},
    {"ap-southeast-2", "iotda.ap-southeast-2.myhuaweicloud.com"},
    {"ap-southeast-1", "iotda.ap-southeast-1.myhuaweicloud.com"},
    {"af-south-1", "iotda.af-south-1.myhuaweicloud.com"},
    {"me-east-1", "iotda.me-east-1.myhuaweicloud.com"},
    {"la-south-2", "iotda.la-south-2.myhuaweicloud.com"},
    {"sa-brazil-1", "iotda.sa-brazil-1.myhuaweicloud.com"},
};

/* RFS, which the SDKs still call AOS. */
static const struct region_host region_rfs[] = {
    {"cn-north-4", "rfs.cn-north-4.myhuaweicloud.com"},
    {"cn-south-1", "rfs.cn-south-1.myhuaweicloud.com"},
    {"cn-east-3", "rfs.cn-east-3.myhuaweicloud.com"},
    {"cn-east-4", "rfs.cn-east-4.myhuaweicloud.com"},
    {"cn-north-9", "rfs.cn-north-9.myhuaweicloud.com"},
    {"cn-southwest-2", "rfs.cn-southwest-2.myhuaweicloud.com"},
    {"ap-southeast-3", "rfs.ap-southeast-3.myhuaweicloud.com"},
    {"ap-southeast-2", "rfs.ap-southeast-2.myhuaweicloud.com"},
    {"ap-southeast-1", "rfs.ap-southeast-1.myhuaweicloud.com"},
    {"ap-southeast-4", "rfs.ap-southeast-4.myhuaweicloud.com"},
    {"my-kualalumpur-1", "rfs.my-kualalumpur-1.myhuaweicloud.com"},
    {"me-east-1", "rfs.me-east-1.myhuaweicloud.com"},
    {"tr-west-1", "rfs.tr-west-1.myhuaweicloud.com"},
    {"la-south-2", "rfs.la-south-2.myhuaweicloud.com"},
    {"sa-brazil-1", "rfs.sa-brazil-1.myhuaweicloud.com"},
    {"la-north-2", "rfs.la-north-2.myhuaweicloud.com"},
    {"af-south-1", "rfs.af-south-1.myhuaweicloud.com"},
    {"eu-west-101", "aos.myhuaweicloud.eu"},
    {"na-mexico-1", "rfs.na-mexico-1.myhuaweicloud.com"},
    {"cn-north-11", "rfs.cn-north-11.myhuaweicloud.com"},
    {"cn-east-5", "rfs.cn-east-5.myhuaweicloud.com"},
    {"af-north-1", "rfs.af-north-1.myhuaweicloud.com"},
};

/* IAM as the SDK cores find it for the project id lookup, plus the
 * European site's host from the IAM client's own table. */
static const struct region_host region_iam[] = {
    {"cn-north-2", "iam.cn-north-2.myhuaweicloud.com"},
    {"cn-north-4", "iam.cn-north-4.myhuaweicloud.com"},
    {"cn-north-1", "iam.cn-north-1.myhuaweicloud.com"},
    {"cn-east-2", "iam.cn-east-2.myhuaweicloud.com"},
    {"cn-east-3", "iam.cn-east-3.myhuaweicloud.com"},
    {"cn-south-1", "iam.cn-south-1.myhuaweicloud.com"},
    {"cn-south-2", "iam.cn-south-2.myhuaweicloud.com"},
    {"cn-southwest-2", "iam.cn-southwest-2.myhuaweicloud.com"},
    {"ap-southeast-1", "iam.ap-southeast-1.myhuaweicloud.com"},
    {"ap-southeast-2", "iam.ap-southeast-2.myhuaweicloud.com"},
    {"ap-southeast-3", "iam.ap-southeast-3.myhuaweicloud.com"},
    {"af-south-1", "iam.af-south-1.myhuaweicloud.com"},
    {"sa-brazil-1", "iam.sa-brazil-1.myhuaweicloud.com"},
    {"la-south-2", "iam.la-south-2.myhuaweicloud.com"},
    {"na-mexico-1", "iam.na-mexico-1.myhuaweicloud.com"},
    {"la-north-2", "iam.la-north-2.myhuaweicloud.com"},
    {"cn-north-9", "iam.cn-north-9.myhuaweicloud.com"},
    {"eu-west-0", "iam.eu-west-0.myhuaweicloud.com"},
    {"my-kualalumpur-1", "iam.my-kualalumpur-1.myhuaweicloud.com"},
    {"ru-moscow-1", "iam.ru-moscow-1.myhuaweicloud.com"},
    {"me-east-1", "iam.me-east-1.myhuaweicloud.com"},
    {"ap-southeast-4", "iam.ap-southeast-4.myhuaweicloud.com"},
    {"ae-ad-1", "iam.ae-ad-1.myhuaweicloud.com"},
    {"cn-east-4", "iam.cn-east-4.myhuaweicloud.com"},
    {"cn-east-5", "iam.cn-east-5.myhuaweicloud.com"},
    {"tr-west-1", "iam.tr-west-1.myhuaweicloud.com"},
    {"eu-west-101", "iam.eu-west-101.myhuaweicloud.eu"},
};

#define REGION_ROWS(t) (sizeof(t) / sizeof((t)[0]))

/* One service: its table, its name in the SDKs' variables, its field. */
struct region_service_desc {
	const char *name;     /* for messages */
	const char *key;      /* its option and profile key */
	const char *sdk_name; /* HUAWEICLOUD_SDK_REGION_{sdk_name}_{REGION} */
	const struct region_host *hosts;
	size_t count;
	const char *fallback; /* host of regions not in the table, or NULL */
	size_t endpoint;      /* offset of its endpoint in hwc_config */
};

static const struct region_service_desc region_services[] = {
    [REGION_IOTDA] = {"IoTDA", "iotda_endpoint", "IOTDA", region_iotda,
		      REGION_ROWS(region_iotda), NULL,
		      offsetof(struct hwc_config, iotda_endpoint)},
    [REGION_RFS] = {"RFS", "rfs_endpoint", "AOS", region_rfs,
		    REGION_ROWS(region_rfs), NULL,
		    offsetof(struct hwc_config, rfs_endpoint)},
    [REGION_IAM] = {"IAM", "iam_endpoint", "IAM", region_iam,
		    REGION_ROWS(region_iam), "iam.myhuaweicloud.com",
		    offsetof(struct hwc_config, iam_endpoint)},
};

#define REGION_NSERVICES REGION_ROWS(region_services)

/* The longest region id accepted (config.c refuses longer ones). */
#define REGION_ID_MAX 64

const char *region_service_name(enum region_service svc)
{
	return region_services[svc].name;
}

const char *region_table_host(enum region_service svc, const char *region)
{
	const struct region_service_desc *d = &region_services[svc];

	for (size_t i = 0; region && i < d->count; i++)
		if (strcmp(d->hosts[i].region, region) == 0)
			return d->hosts[i].host;
	return d->fallback;
}

/* A region id as config.c accepts it; others are reported there. */
static bool region_id_ok(const char *region)
{
	size_t n = region ? strlen(region) : 0;

	if (n == 0 || n > REGION_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((region[i] >= 'a' && region[i] <= 'z') ||
		      (region[i] >= '0' && region[i] <= '9') ||
		      region[i] == '-'))
			return false;
	return true;
}

/*
 * An endpoint from the environment, as the SDKs read one: the first of a
 * comma-separated list, https:// when no scheme is given. *out stays NULL
 * when the variable is unset or empty.
 */
static int region_env_url(const char *var, char **out, char *err, size_t errlen)
{
	const char *v = getenv(var), *end;
	size_t n;

	*out = NULL;
	if (!v)
		return 0;
	while (*v == ' ')
		v++;
	end = strchr(v, ',');
	n = end ? (size_t)(end - v) : strlen(v);
	while (n > 0 && v[n - 1] == ' ')
		n--;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f) {
			snprintf(err, errlen,
				 "%s holds a space or control character", var);
			return -EINVAL;
		}
	}
	if (asprintf(out, "%s%.*s", memmem(v, n, "://", 3) ? "" : "https://",
		     (int)n, v) < 0) {
		*out = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/*
 * One service's endpoint in region: its variable, else its table. *from
 * says which, for `hwcfs --check`.
 */
static int region_endpoint(enum region_service svc, const char *region,
			   char **out, const char **from, char *err,
			   size_t errlen)
{
	const struct region_service_desc *d = &region_services[svc];
	char var[sizeof("HUAWEICLOUD_SDK_REGION__") + 16 + REGION_ID_MAX];
	const char *host;
	size_t n;
	int ret;

	n = (size_t)snprintf(var, sizeof(var), "HUAWEICLOUD_SDK_REGION_%s_",
			     d->sdk_name);
	for (const char *p = region; *p && n + 1 < sizeof(var); p++)
		var[n++] = *p == '-'		      ? '_'
			   : (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A')
						      : *p;
	var[n] = '\0';
	ret = region_env_url(var, out, err, errlen);
	*from = "environment";
	if (ret || *out)
		return ret;
	*from = "table";
	host = region_table_host(svc, region);
	if (host && asprintf(out, "https://%s", host) < 0) {
		*out = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int region_derive(struct hwc_config *cfg, char *err, size_t errlen)
{
	bool services = !cfg->iotda_endpoint && !cfg->rfs_endpoint;
	int ret;

	/* The SDKs' variable for IAM holds whatever the region. */
	if (!cfg->iam_endpoint) {
		ret = region_env_url("HUAWEICLOUD_SDK_IAM_ENDPOINT",
				     &cfg->iam_endpoint, err, errlen);
		if (!ret && cfg->iam_endpoint)
			ret = config_note(cfg, "iam_endpoint",
					  "environment "
					  "HUAWEICLOUD_SDK_IAM_ENDPOINT");
		if (ret)
			return ret;
	}
	if (!region_id_ok(cfg->region))
		return 0;
	cfg->derived_endpoints = services;
	for (size_t i = 0; i < REGION_NSERVICES; i++) {
		char **field =
		    (char **)((char *)cfg + region_services[i].endpoint);

		if (*field || (i != REGION_IAM && !services))
			continue;
		const char *from = NULL;

		ret = region_endpoint((enum region_service)i, cfg->region,
				      field, &from, err, errlen);
		if (!ret && *field)
			ret = config_note(
			    cfg, region_services[i].key,
			    strcmp(from, "table") == 0
				? "derived from region %s (the SDKs' table)"
				: "environment HUAWEICLOUD_SDK_REGION_*_%s",
			    cfg->region);
		if (ret)
			return ret;
	}
	return 0;
}
