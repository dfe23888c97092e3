/*
 * http_client.c - the client every request of the mount goes through: one
 * libcurl share handle (connections, DNS, TLS sessions) for all threads,
 * the CA bundle, and the credentials, which it also keeps out of messages.
 */
#include "http_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "connect_to.h"
#include "file.h"
#include "log.h"

static pthread_mutex_t http_global_lock = PTHREAD_MUTEX_INITIALIZER;
static int http_global_users;

static void share_lock(CURL *e, curl_lock_data d, curl_lock_access a, void *arg)
{
	struct http_client *h = arg;

	(void)e;
	(void)a;
	if ((unsigned)d < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&h->locks[d]);
}

static void share_unlock(CURL *e, curl_lock_data d, void *arg)
{
	struct http_client *h = arg;

	(void)e;
	if ((unsigned)d < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&h->locks[d]);
}

/*
 * curl's CAINFO names one bundle and replaces the default, so "cafile adds
 * a CA" is done by handing curl one in-memory bundle: the system's CAs
 * followed by the file's.
 */
static int build_ca_blob(struct http_client *h, const char *cafile, char *err,
			 size_t errlen)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	const char *sys = v->cainfo ? v->cainfo : HTTP_SYSTEM_CA;
	char *extra = NULL, *base = NULL;
	size_t elen = 0, blen = 0;
	int ret;

	ret = file_read(cafile, HTTP_MAX_CAFILE, &extra, &elen, NULL);
	if (ret) {
		snprintf(err, errlen, "cafile %s: %s", cafile, strerror(-ret));
		return ret;
	}
	if (!strstr(extra, "-----BEGIN CERTIFICATE-----")) {
		snprintf(err, errlen, "cafile %s: no PEM certificate in it",
			 cafile);
		free(extra);
		return -EINVAL;
	}
	if (file_read(sys, HTTP_MAX_CAFILE, &base, &blen, NULL) != 0) {
		/* No system bundle: the added CA alone is still right. */
		log_warn("cannot read the system CA bundle %s; trusting only "
			 "%s",
			 sys, cafile);
		blen = 0;
	}
	h->ca_blob = malloc(blen + 1 + elen + 1);
	if (!h->ca_blob) {
		free(base);
		free(extra);
		return -ENOMEM;
	}
	if (blen)
		memcpy(h->ca_blob, base, blen);
	h->ca_blob[blen] = '\n';
	memcpy(h->ca_blob + blen + 1, extra, elen);
	h->ca_blob_len = blen + 1 + elen;
	h->ca_blob[h->ca_blob_len] = '\0';
	free(base);
	free(extra);
	return 0;
}

static char *dup_opt(const char *s, int *failed)
{
	char *d;

	if (!s || !*s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = 1;
	return d;
}

void http_secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Every lock of the client, or none: a failure destroys those made. */
static int http_client_init_locks(struct http_client *h)
{
	pthread_mutex_t *all[CURL_LOCK_DATA_LAST + 2];
	size_t n = 0, made;
	int ret = 0;

	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		all[n++] = &h->locks[i];
	all[n++] = &h->token_lock;
	all[n++] = &h->refresh_lock;
	for (made = 0; made < n; made++) {
		ret = pthread_mutex_init(all[made], NULL);
		if (ret)
			break;
	}
	if (!ret)
		return 0;
	while (made > 0)
		pthread_mutex_destroy(all[--made]);
	return -ret;
}

int http_client_new(const struct hwc_config *cfg, struct http_client **out,
		    char *err, size_t errlen)
{
	struct http_client *h;
	int failed = 0, ret;

	pthread_mutex_lock(&http_global_lock);
	if (http_global_users == 0 &&
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		pthread_mutex_unlock(&http_global_lock);
		snprintf(err, errlen, "libcurl failed to initialise");
		return -EIO;
	}
	http_global_users++;
	pthread_mutex_unlock(&http_global_lock);

	h = calloc(1, sizeof(*h));
	if (!h) {
		ret = -ENOMEM;
		goto fail_global;
	}
	ret = http_client_init_locks(h);
	if (ret) {
		free(h);
		goto fail_global;
	}
	/* config_finish gave every setting its value (config.c's
	 * defaults): no second set of defaults here. */
	ret = breaker_init(&h->breaker, cfg->auth_hold * 1000LL);
	if (ret) {
		for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
			pthread_mutex_destroy(&h->locks[i]);
		pthread_mutex_destroy(&h->token_lock);
		pthread_mutex_destroy(&h->refresh_lock);
		free(h);
		goto fail_global;
	}
	h->timeout_ms = cfg->timeout * 1000L;
	h->retries = cfg->retries;
	h->ak = dup_opt(cfg->cred.ak, &failed);
	h->sk = dup_opt(cfg->cred.sk, &failed);
	h->security_token = dup_opt(cfg->cred.security_token, &failed);
	if (failed) {
		ret = -ENOMEM;
		goto fail;
	}
	h->share = curl_share_init();
	if (!h->share) {
		ret = -ENOMEM;
		goto fail;
	}
	curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(h->share, CURLSHOPT_USERDATA, h);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(h->share, CURLSHOPT_SHARE,
			  CURL_LOCK_DATA_SSL_SESSION);
	if (cfg->cafile && *cfg->cafile) {
		ret = build_ca_blob(h, cfg->cafile, err, errlen);
		if (ret)
			goto fail_quiet;
	}
	ret = connect_to_from_env(&h->connect_to, err, errlen);
	if (ret)
		goto fail_quiet;
	*out = h;
	return 0;
fail:
	snprintf(err, errlen, "http client: %s", strerror(-ret));
fail_quiet:
	http_client_free(h);
	return ret;
fail_global:
	snprintf(err, errlen, "http client: %s", strerror(-ret));
	pthread_mutex_lock(&http_global_lock);
	if (--http_global_users == 0)
		curl_global_cleanup();
	pthread_mutex_unlock(&http_global_lock);
	return ret;
}

void http_client_free(struct http_client *h)
{
	int i;

	if (!h)
		return;
	if (h->share)
		curl_share_cleanup(h->share);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&h->locks[i]);
	pthread_mutex_destroy(&h->token_lock);
	pthread_mutex_destroy(&h->refresh_lock);
	breaker_destroy(&h->breaker);
	free(h->ca_blob);
	curl_slist_free_all(h->connect_to);
	http_secret_free(h->ak);
	http_secret_free(h->sk);
	http_secret_free(h->security_token);
	http_secret_free(h->token);
	free(h->project_id);
	free(h);
	pthread_mutex_lock(&http_global_lock);
	if (--http_global_users == 0)
		curl_global_cleanup();
	pthread_mutex_unlock(&http_global_lock);
}

int http_client_set_project(struct http_client *h, const char *project_id)
{
	char *p = strdup(project_id);

	if (!p)
		return -ENOMEM;
	free(h->project_id);
	h->project_id = p;
	return 0;
}

int http_client_set_token(struct http_client *h, const char *token,
			  http_token_fn refresh, void *arg)
{
	char *t = strdup(token);

	if (!t)
		return -ENOMEM;
	pthread_mutex_lock(&h->token_lock);
	http_secret_free(h->token);
	h->token = t;
	h->token_gen++;
	h->refresh = refresh;
	h->refresh_arg = arg;
	pthread_mutex_unlock(&h->token_lock);
	return 0;
}

bool http_client_has_keys(const struct http_client *h)
{
	return h->ak && h->sk;
}

/* ---- credentials ---- */

/* Overwrites any secret of ours that a server echoed into a message. */
void http_redact(struct http_client *h, char *s)
{
	const char *secrets[4] = {h->ak, h->sk, h->security_token, NULL};
	size_t i;
	char *p;

	pthread_mutex_lock(&h->token_lock);
	secrets[3] = h->token;
	for (i = 0; i < 4; i++) {
		size_t n = secrets[i] ? strlen(secrets[i]) : 0;

		if (n < 4)
			continue;
		while ((p = strstr(s, secrets[i])))
			memset(p, '*', n);
	}
	pthread_mutex_unlock(&h->token_lock);
}

/* Fetches a fresh token unless another thread already did. */
int http_refresh_token(struct http_client *h, unsigned long used_gen)
{
	http_token_fn fn;
	char *fresh = NULL;
	void *arg;
	int ret = 0;

	/* One login at a time, so that a 401 storm makes one request; the
	 * login itself logs and redacts, which takes token_lock. */
	pthread_mutex_lock(&h->refresh_lock);
	pthread_mutex_lock(&h->token_lock);
	fn = h->refresh;
	arg = h->refresh_arg;
	if (!fn)
		ret = -EACCES;
	else if (h->token_gen != used_gen)
		fn = NULL;
	pthread_mutex_unlock(&h->token_lock);
	if (fn) {
		ret = fn(arg, &fresh);
		if (!ret) {
			pthread_mutex_lock(&h->token_lock);
			http_secret_free(h->token);
			h->token = fresh;
			h->token_gen++;
			pthread_mutex_unlock(&h->token_lock);
		}
	}
	pthread_mutex_unlock(&h->refresh_lock);
	return ret;
}
