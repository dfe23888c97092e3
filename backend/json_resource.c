/*
 * json_resource.c - the services' JSON answers made into what the tree
 * shows: a body that must be an object, an entry's name that must be safe,
 * and a resource's metadata file with its members in key order.
 */
#include "services.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "names.h"

int http_json_body(const struct http_request *req,
		   const struct http_result *res, cJSON **out)
{
	cJSON *root = NULL;
	int ret;

	ret = json_parse(res->body, res->body_len, &root, NULL);
	if (ret == -ENOMEM)
		return ret;
	if (!cJSON_IsObject(root)) {
		log_err("%s: %s %s -> %ld: answer is not a JSON object (%zu "
			"bytes) request_id=%s client_request_id=%s",
			req->ep->service, req->method, req->path, res->status,
			res->body_len,
			res->request_id[0] ? res->request_id : "-",
			res->client_id);
		cJSON_Delete(root);
		return errmap_malformed();
	}
	*out = root;
	return 0;
}

static int json_key_order(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a,
		    *y = *(const cJSON *const *)b;

	return strcmp(x->string ? x->string : "", y->string ? y->string : "");
}

/*
 * Puts obj's members in key order. List and show answers may order their
 * members differently; sorted, the same fields always give the same bytes.
 */
static int json_sort_members(cJSON *obj)
{
	size_t n = 0, i;
	cJSON **items, *it;

	for (it = obj->child; it; it = it->next)
		n++;
	if (n < 2)
		return 0;
	items = malloc(n * sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (i = 0, it = obj->child; it; it = it->next)
		items[i++] = it;
	qsort(items, n, sizeof(*items), json_key_order);
	for (i = 0; i < n; i++) {
		items[i]->prev = i ? items[i - 1] : items[n - 1];
		items[i]->next = i + 1 < n ? items[i + 1] : NULL;
	}
	obj->child = items[0];
	free(items);
	return 0;
}

int http_json_resource(const cJSON *obj, const char *const *show_only,
		       struct resource *r)
{
	cJSON *copy = cJSON_Duplicate(obj, 1);
	char *text = NULL, *json;
	size_t n;

	if (!copy)
		return -ENOMEM;
	for (; show_only && *show_only; show_only++)
		cJSON_DeleteItemFromObjectCaseSensitive(copy, *show_only);
	if (json_sort_members(copy) == 0)
		text = cJSON_Print(copy);
	cJSON_Delete(copy);
	if (!text)
		return -ENOMEM;
	n = strlen(text);
	json = realloc(text, n + 2);
	if (!json) {
		free(text);
		return -ENOMEM;
	}
	json[n] = '\n';
	json[n + 1] = '\0';
	free(r->json);
	r->json = json;
	r->json_len = n + 1;
	return 0;
}

const char *http_json_str(const cJSON *obj, const char *key, size_t max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsString(v) || !v->valuestring ||
	    strlen(v->valuestring) > max || !json_str_clean(v->valuestring))
		return NULL;
	return v->valuestring;
}

/* Counts a dropped entry and says why at debug level, name escaped. */
static void http_json_drop(size_t *count, const char *service, const char *key,
			   const char *name, const char *why)
{
	char shown[NAME_MAX_BYTES + 1];

	if (count)
		(*count)++;
	name_escape(name, shown, sizeof(shown));
	log_debug("%s: dropped a listed entry whose %s \"%s\" %s", service, key,
		  shown, why);
}

int http_json_entry_name(const cJSON *obj, const char *service, const char *key,
			 const char *want, struct listing *l, const char **name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	enum name_unsafe why;

	*name = cJSON_IsString(v) ? v->valuestring : NULL;
	if (!json_clean(obj, NULL)) {
		http_json_drop(l ? &l->dropped_tainted : NULL, service, key,
			       *name,
			       "or another of its strings holds a NUL or "
			       "bytes that are not UTF-8");
		return -ENOENT;
	}
	if (!*name && !v)
		*name = want;
	why = name_check_safe(*name);
	if (why != NAME_SAFE) {
		http_json_drop(l ? &l->dropped_unsafe : NULL, service, key,
			       *name, name_unsafe_reason(why));
		return -ENOENT;
	}
	/* A show answer about another resource is not this one. */
	if (want && strcmp(*name, want) != 0) {
		char asked[NAME_MAX_BYTES + 1], got[NAME_MAX_BYTES + 1];

		name_escape(want, asked, sizeof(asked));
		name_escape(*name, got, sizeof(got));
		log_err("%s: asked for %s, the answer is about %s", service,
			asked, got);
		return errmap_malformed();
	}
	return 0;
}
