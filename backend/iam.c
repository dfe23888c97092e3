/*
 * iam.c - IAM: a project-scoped token from a user's password, and the
 * project id of a region for AK/SK users who did not give one.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "services.h"

/* Project ids are 32 hex chars in practice; allow some room. */
#define IAM_MAX_PROJECT_ID 64

/* Room for the login body: a string may grow six-fold as \uXXXX escapes. */
static size_t iam_body_room(const struct iam_login *in)
{
	const char *strs[] = {in->user, in->password, in->domain,
			      in->project_id ? in->project_id : in->region};
	size_t room = 256;

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		room += 6 * strlen(strs[i]);
	return room;
}

static char *iam_login_body(const struct iam_login *in)
{
	cJSON *root = cJSON_CreateObject(), *auth, *identity, *methods;
	cJSON *password, *user, *domain, *scope, *project, *secret = NULL;
	char *text = NULL;
	size_t room;

	if (!root)
		return NULL;
	auth = cJSON_AddObjectToObject(root, "auth");
	identity = auth ? cJSON_AddObjectToObject(auth, "identity") : NULL;
	methods = identity ? cJSON_AddArrayToObject(identity, "methods") : NULL;
	if (methods)
		cJSON_AddItemToArray(methods, cJSON_CreateString("password"));
	password =
	    identity ? cJSON_AddObjectToObject(identity, "password") : NULL;
	user = password ? cJSON_AddObjectToObject(password, "user") : NULL;
	if (user) {
		cJSON_AddStringToObject(user, "name", in->user);
		secret =
		    cJSON_AddStringToObject(user, "password", in->password);
		domain = cJSON_AddObjectToObject(user, "domain");
		if (domain)
			cJSON_AddStringToObject(domain, "name", in->domain);
	}
	scope = auth ? cJSON_AddObjectToObject(auth, "scope") : NULL;
	project = scope ? cJSON_AddObjectToObject(scope, "project") : NULL;
	if (project) {
		if (in->project_id)
			cJSON_AddStringToObject(project, "id", in->project_id);
		else
			cJSON_AddStringToObject(project, "name", in->region);
	}
	/*
	 * Printed into a buffer of ours: cJSON's own grows by realloc and
	 * would leave copies of the password in freed memory.
	 */
	room = iam_body_room(in);
	if (project && user && room <= INT_MAX)
		text = malloc(room);
	if (text && !cJSON_PrintPreallocated(root, text, (int)room, false)) {
		explicit_bzero(text, room);
		free(text);
		text = NULL;
	}
	/* cJSON frees its copy of the password without wiping it */
	if (secret && secret->valuestring)
		explicit_bzero(secret->valuestring,
			       strlen(secret->valuestring));
	cJSON_Delete(root);
	return text;
}

int iam_token_by_password(const struct iam_login *in, char **token,
			  char **project_id)
{
	static const struct sign_param params[] = {{"nocatalog", "true"}};
	struct http_request req = {.ep = in->ep,
				   .method = "POST",
				   .path = "/v3/auth/tokens",
				   .params = params,
				   .nparams = 1,
				   /* As the SDKs send it (docs/backend.md). */
				   .content_type =
				       "application/json;charset=UTF-8",
				   .op = ERRMAP_READ,
				   .flags = HTTP_NO_AUTH | HTTP_SUBJECT_TOKEN};
	struct http_result res;
	char *body;
	cJSON *root = NULL;
	int ret;

	*token = NULL;
	if (project_id)
		*project_id = NULL;
	if (!in->user || !in->password || !in->domain ||
	    (!in->project_id && !in->region))
		return -EINVAL;
	body = iam_login_body(in);
	if (!body)
		return -ENOMEM;
	req.body = body;
	req.body_len = strlen(body);
	ret = http_do(in->h, &req, &res);
	if (ret && errmap_is_auth_failure(res.status, res.error_code))
		ret = -EKEYREJECTED; /* a wrong password: main exits 77 */
	explicit_bzero(body, req.body_len);
	free(body);
	if (!ret && !res.subject_token) {
		log_err("iam: token answer without X-Subject-Token "
			"request_id=%s",
			res.request_id[0] ? res.request_id : "-");
		ret = errmap_malformed();
	}
	if (!ret && project_id) {
		const cJSON *tok, *proj;
		const char *id;

		ret = http_json_body(&req, &res, &root);
		tok = cJSON_GetObjectItemCaseSensitive(root, "token");
		proj = cJSON_GetObjectItemCaseSensitive(tok, "project");
		id = http_json_str(proj, "id", IAM_MAX_PROJECT_ID);
		if (!ret && (!id || !*id)) {
			log_err("iam: token answer without token.project.id");
			ret = errmap_malformed();
		}
		if (!ret) {
			*project_id = strdup(id);
			if (!*project_id)
				ret = -ENOMEM;
		}
		cJSON_Delete(root);
	}
	if (!ret) {
		*token = res.subject_token;
		res.subject_token = NULL;
	}
	http_result_clear(&res);
	return ret;
}

int iam_refresh_token(void *arg, char **token)
{
	const struct iam_login *in = arg;

	log_info("iam: fetching a new token for user %s", in->user);
	return iam_token_by_password(in, token, NULL);
}

int iam_project_id(struct http_client *h, const struct http_endpoint *ep,
		   const char *region, char **project_id)
{
	struct sign_param params[1] = {{"name", region}};
	struct http_request req = {.ep = ep,
				   .method = "GET",
				   .path = "/v3/projects",
				   .params = params,
				   .nparams = 1,
				   .op = ERRMAP_READ};
	struct http_result res;
	const cJSON *projects, *first;
	const char *id = NULL;
	cJSON *root = NULL;
	int ret;

	*project_id = NULL;
	ret = http_do(h, &req, &res);
	if (ret && errmap_is_auth_failure(res.status, res.error_code))
		ret = -EKEYREJECTED; /* a wrong key: main exits 77 */
	if (!ret)
		ret = http_json_body(&req, &res, &root);
	if (!ret) {
		projects = cJSON_GetObjectItemCaseSensitive(root, "projects");
		first = cJSON_GetArrayItem(projects, 0);
		if (!cJSON_IsArray(projects)) {
			ret = errmap_malformed();
		} else if (cJSON_GetArraySize(projects) != 1) {
			log_err("iam: %d projects named %s (want exactly one)",
				cJSON_GetArraySize(projects), region);
			ret = -ENOENT;
		} else {
			id = http_json_str(first, "id", IAM_MAX_PROJECT_ID);
			if (!id || !*id)
				ret = errmap_malformed();
		}
	}
	if (!ret) {
		*project_id = strdup(id);
		if (!*project_id)
			ret = -ENOMEM;
	}
	cJSON_Delete(root);
	http_result_clear(&res);
	return ret;
}
