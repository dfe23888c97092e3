/*
 * hb_setup.c - making the HTTP backend from the settings (endpoints,
 * credentials, project id), the start-up check of each service, and
 * freeing it all.
 */
#include "hb.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "regions.h"

/* A hint after the cloud's words, for the common mistakes. */
static const char *check_hint(const struct http_result *res, bool keys)
{
	if (errmap_is_auth_failure(res->status, res->error_code))
		return keys ? " (check the AK/SK)"
			    : " (check the token or IAM password)";
	if (res->status == 403 &&
	    !errmap_is_throttle(res->status, res->error_code))
		return " (check the project id and the user's permissions)";
	if (res->status == 404)
		return " (check the endpoint and project id)";
	return "";
}

int hb_check(struct backend *b, const struct kind_service *s, char *err,
	     size_t errlen)
{
	struct http_backend *hb = hb_of(b);
	const struct http_endpoint *ep;
	struct http_result res;
	int ret;

	if (errlen)
		err[0] = '\0';
	if (!s || s->id >= KIND_SVC_COUNT || !hb->svc[s->id])
		return -ENOENT;
	ret = s->ops->check(hb->svc[s->id], &ep, &res);
	if (ret && res.status)
		snprintf(err, errlen, "%s: %ld %s %s%s request_id=%s",
			 ep->service, res.status,
			 res.error_code[0] ? res.error_code : "-",
			 res.error_msg[0] ? res.error_msg : strerror(-ret),
			 check_hint(&res, http_client_has_keys(hb->h)),
			 res.request_id[0] ? res.request_id : res.client_id);
	else if (ret)
		snprintf(err, errlen, "%s: %s: %s%s%s", ep->service, ep->base,
			 strerror(-ret), res.error_msg[0] ? ": " : "",
			 res.error_msg);
	/* Told apart from a missing permission: main exits 77 on it. */
	if (ret && errmap_is_auth_failure(res.status, res.error_code))
		ret = -EKEYREJECTED;
	http_result_clear(&res);
	return ret;
}

void hb_destroy(struct backend *b)
{
	struct http_backend *hb = hb_of(b);
	size_t i;

	if (!hb)
		return;
	http_client_free(hb->h);
	http_endpoint_clear(&hb->iotda_ep);
	http_endpoint_clear(&hb->rfs_ep);
	http_endpoint_clear(&hb->iam_ep);
	free(hb->project_id);
	free(hb->region);
	free(hb->instance_id);
	free(hb->iam_user);
	if (hb->iam_password) {
		explicit_bzero(hb->iam_password, strlen(hb->iam_password));
		free(hb->iam_password);
	}
	free(hb->iam_domain);
	for (i = 0; i < hb->nhidden; i++)
		free(hb->hidden[i]);
	free(hb->hidden);
	pthread_mutex_destroy(&hb->hide_lock);
	for (i = 0; i < hb->nlisted; i++)
		hb_listed_free(&hb->listed[i]);
	free(hb->listed);
	pthread_mutex_destroy(&hb->listed_lock);
	guard_free(hb->guard);
	free(hb);
}

static int copy_str(char **dst, const char *src)
{
	if (!src) {
		*dst = NULL;
		return 0;
	}
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

/* config_validate let only auto, sdk and v11 through: no second check. */
static void pick_iotda_signing(struct http_backend *hb, const char *signing)
{
	if (signing && strcmp(signing, "sdk") == 0)
		hb->iotda_ep.algo = SIGN_SDK;
	else if (signing && strcmp(signing, "v11") == 0)
		hb->iotda_ep.algo = SIGN_V11;
	else
		hb->iotda_ep.algo =
		    sign_host_wants_derived(hb->iotda_ep.hostname) ? SIGN_V11
								   : SIGN_SDK;
}

/* Credentials into the client: keys, a given token, or a password login
 * (which also tells the project id). */
static int setup_auth(struct http_backend *hb, const struct hwc_config *cfg,
		      char *err, size_t errlen)
{
	const struct credentials *cr = &cfg->cred;
	char *token = NULL, *pid = NULL;
	int ret;

	if (cr->ak && cr->sk)
		return 0;
	if (cr->auth_token)
		return http_client_set_token(hb->h, cr->auth_token, NULL, NULL);
	if (!(cr->iam_user && cr->iam_password && cr->iam_domain)) {
		snprintf(err, errlen,
			 "no credentials: set HUAWEICLOUD_SDK_AK and "
			 "HUAWEICLOUD_SDK_SK, or ak/sk in the config file");
		return -EACCES;
	}
	if (!hb->has_iam) {
		snprintf(err, errlen,
			 "iam_endpoint (or region) is needed to log in as %s",
			 cr->iam_user);
		return -EINVAL;
	}
	if (copy_str(&hb->iam_user, cr->iam_user) ||
	    copy_str(&hb->iam_password, cr->iam_password) ||
	    copy_str(&hb->iam_domain, cr->iam_domain))
		return -ENOMEM;
	hb->login = (struct iam_login){
	    .h = hb->h,
	    .ep = &hb->iam_ep,
	    .user = hb->iam_user,
	    .password = hb->iam_password,
	    .domain = hb->iam_domain,
	    .project_id = hb->project_id,
	    .region = hb->region,
	};
	ret = iam_token_by_password(&hb->login, &token, &pid);
	if (ret) {
		snprintf(err, errlen, "iam: login as %s failed: %s",
			 cr->iam_user, strerror(-ret));
		return ret;
	}
	if (!hb->project_id) {
		hb->project_id = pid;
		pid = NULL;
		hb->login.project_id = hb->project_id;
	}
	free(pid);
	ret =
	    http_client_set_token(hb->h, token, iam_refresh_token, &hb->login);
	explicit_bzero(token, strlen(token));
	free(token);
	return ret;
}

/*
 * With only a region, says which endpoint each service got from the
 * region's tables, and why a service has no directory.
 */
static void log_derived(const struct hwc_config *cfg)
{
	static const struct {
		enum region_service svc;
		const char *dir;
		size_t endpoint;
	} svcs[] = {
	    {REGION_IOTDA, "iotda",
	     offsetof(struct hwc_config, iotda_endpoint)},
	    {REGION_RFS, "rfs", offsetof(struct hwc_config, rfs_endpoint)},
	};

	for (size_t i = 0; i < sizeof(svcs) / sizeof(svcs[0]); i++) {
		const char *url =
		    *(char *const *)((const char *)cfg + svcs[i].endpoint);

		if (url)
			log_info("%s: %s (from region %s)", svcs[i].dir, url,
				 cfg->region);
		else
			log_info("%s: the SDKs do not offer %s in region %s: "
				 "no %s/ directory (set %s_endpoint to mount "
				 "one)",
				 svcs[i].dir, region_service_name(svcs[i].svc),
				 cfg->region, svcs[i].dir, svcs[i].dir);
	}
}

/*
 * The services' endpoints, given or derived from the region (config.c);
 * a service without one has no directory.
 */
static int setup_endpoints(struct http_backend *hb,
			   const struct hwc_config *cfg, char *err,
			   size_t errlen)
{
	bool keys = cfg->cred.ak && cfg->cred.sk;
	int ret;

	if (cfg->iotda_endpoint) {
		ret = http_endpoint_init(&hb->iotda_ep, cfg->iotda_endpoint,
					 "iotda", err, errlen);
		if (ret)
			return ret;
		hb->has_iotda = true;
		hb->iotda_ep.region = hb->region;
		hb->iotda_ep.v11_service = "iotdm";
		hb->iotda_ep.instance_id = hb->instance_id;
		pick_iotda_signing(hb, cfg->signing);
		if (hb->iotda_ep.algo == SIGN_V11 && keys && !hb->region) {
			snprintf(err, errlen,
				 "iotda: V11 signing needs the region");
			ret = -EINVAL;
			return ret;
		}
	}
	if (cfg->rfs_endpoint) {
		ret = http_endpoint_init(&hb->rfs_ep, cfg->rfs_endpoint, "rfs",
					 err, errlen);
		if (ret)
			return ret;
		hb->has_rfs = true;
		hb->rfs_ep.algo = SIGN_SDK;
		hb->rfs_ep.client_request_id = true;
	}
	if (!hb->has_iotda && !hb->has_rfs) {
		if (cfg->derived_endpoints)
			snprintf(err, errlen,
				 "region %s: the SDKs' region tables offer "
				 "neither IoTDA nor RFS there; set "
				 "iotda_endpoint or rfs_endpoint",
				 cfg->region);
		else
			snprintf(err, errlen,
				 "nothing to mount: set region, or "
				 "iotda_endpoint and/or rfs_endpoint");
		return -EINVAL;
	}
	if (cfg->derived_endpoints)
		log_derived(cfg);
	if (cfg->iam_endpoint) {
		ret = http_endpoint_init(&hb->iam_ep, cfg->iam_endpoint, "iam",
					 err, errlen);
		if (ret)
			return ret;
		hb->has_iam = true;
		hb->iam_ep.algo = SIGN_SDK;
	}
	return 0;
}

/*
 * The kinds the kinds setting shows, and the RFS family the start-up
 * check lists: the first shown, so that nothing is asked about a kind
 * left out.
 */
static void hb_choose_kinds(struct http_backend *hb,
			    const struct hwc_config *cfg)
{
	for (size_t i = kind_count; i-- > 0;) {
		hb->shown[i] = kind_shown(&kind_table[i], cfg);
		/* RFS kinds' ops hold their family (kinds.h). */
		if (hb->shown[i] && !kind_table[i].parent &&
		    kind_table[i].service->id == KIND_SVC_RFS)
			hb->rfs.check = kind_table[i].ops->data;
	}
}

/* A kind whose paths hold the project id is not shown without it. */
static int hb_check_project(const struct http_backend *hb,
			    const struct hwc_config *cfg, char *err,
			    size_t errlen)
{
	for (size_t i = 0; i < kind_count && !hb->project_id; i++) {
		const struct kind *k = &kind_table[i];

		if (k->in_project && !k->parent && kind_shown(k, cfg)) {
			snprintf(err, errlen,
				 "%s: project_id is needed for %s/%s (or leave "
				 "%s out of kinds)",
				 k->service->dir, k->service->dir, k->name,
				 k->name);
			return -EINVAL;
		}
	}
	return 0;
}

/* Both locks, or none. */
static int hb_init_locks(struct http_backend *hb)
{
	int ret = pthread_mutex_init(&hb->hide_lock, NULL);

	if (ret)
		return -ret;
	ret = pthread_mutex_init(&hb->listed_lock, NULL);
	if (ret)
		pthread_mutex_destroy(&hb->hide_lock);
	return -ret;
}

int http_backend_new(const struct hwc_config *cfg, struct backend **out,
		     char *err, size_t errlen)
{
	struct http_backend *hb;
	bool keys = cfg->cred.ak && cfg->cred.sk;
	int ret;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	hb = calloc(1, sizeof(*hb));
	if (!hb)
		return -ENOMEM;
	hb->base.ops = &http_backend_ops;
	ret = hb_init_locks(hb);
	if (ret) {
		free(hb);
		return ret;
	}
	hb->ttl = cfg->cache_ttl > 0 ? cfg->cache_ttl : 0;
	hb->dry_run = cfg->dry_run > 0;
	ret = guard_new(cfg, &hb->guard);
	if (!ret)
		ret = copy_str(&hb->project_id, cfg->project_id);
	if (!ret)
		ret = copy_str(&hb->region, cfg->region);
	if (!ret)
		ret = copy_str(&hb->instance_id, cfg->instance_id);
	if (ret)
		goto nomem;
	ret = http_client_new(cfg, &hb->h, err, errlen);
	if (ret)
		goto fail;
	ret = setup_endpoints(hb, cfg, err, errlen);
	if (ret)
		goto fail;
	ret = setup_auth(hb, cfg, err, errlen);
	if (ret)
		goto fail;
	if (!hb->project_id && keys) {
		if (!hb->has_iam || !hb->region) {
			snprintf(err, errlen,
				 "project_id is not set and cannot be looked "
				 "up without region and iam_endpoint");
			ret = -EINVAL;
			goto fail;
		}
		ret = iam_project_id(hb->h, &hb->iam_ep, hb->region,
				     &hb->project_id);
		if (ret) {
			snprintf(err, errlen,
				 "iam: cannot look up the project id of "
				 "region %s: %s%s",
				 hb->region, strerror(-ret),
				 ret == -EKEYREJECTED ? " (check the AK/SK)"
						      : "");
			goto fail;
		}
		log_info("project id of %s: %s", hb->region, hb->project_id);
	}
	ret = hb_check_project(hb, cfg, err, errlen);
	if (ret)
		goto fail;
	if (hb->project_id && keys) {
		ret = http_client_set_project(hb->h, hb->project_id);
		if (ret)
			goto nomem;
	}
	hb->iotda = (struct iotda){.h = hb->h,
				   .ep = &hb->iotda_ep,
				   .project_id = hb->project_id,
				   .parallel = cfg->parallel_list != 0};
	hb->rfs = (struct rfs){
	    .h = hb->h, .ep = &hb->rfs_ep, .project_id = hb->project_id};
	hb->svc[KIND_SVC_IOTDA] = hb->has_iotda ? &hb->iotda : NULL;
	hb->svc[KIND_SVC_RFS] = hb->has_rfs ? &hb->rfs : NULL;
	hb_choose_kinds(hb, cfg);
	*out = &hb->base;
	return 0;
nomem:
	ret = -ENOMEM;
	snprintf(err, errlen, "out of memory");
fail:
	if (errlen && !err[0])
		snprintf(err, errlen, "%s", strerror(-ret));
	hb_destroy(&hb->base);
	return ret;
}

const char *http_backend_project_id(const struct backend *b)
{
	return ((const struct http_backend *)b)->project_id;
}

struct guard *http_backend_guard(struct backend *b)
{
	return hb_of(b)->guard;
}
