/*
 * iotda.c - IoTDA OTA packages: list the three package types (rounds of
 * offset pages fetched in parallel after one marker), show one, delete one.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "kinds.h"
#include "log.h"
#include "names.h"
#include "parse.h"
#include "services.h"

#define IOTDA_PAGE 50	     /* the API's largest limit */
#define IOTDA_MAX_OFFSET 500 /* the API's largest offset */
#define IOTDA_ROUND (IOTDA_MAX_OFFSET / IOTDA_PAGE + 1)
#define IOTDA_MARKER_LEN 24
/* The API's default marker: a walk starts above every record id. */
#define IOTDA_FIRST_MARKER "ffffffffffffffffffffffff"
/* More packages than this in one type means a server gone wrong. */
#define IOTDA_MAX_PACKAGES 1000000
#define IOTDA_PATH_MAX (128 + HTTP_SEGMENT_MAX)

/*
 * Every package_type the API knows (docs/cloud-api.md): a listing asks for
 * one type at a time, and a type left out is invisible and never deleted.
 * The parallel walks of all types share each round, so an empty type
 * costs its first page and no round trip of its own.
 */
static const char *const iotda_types[] = {"firmwarePackage", "softwarePackage",
					  "modulePackage"};
#define IOTDA_NTYPES (sizeof(iotda_types) / sizeof(iotda_types[0]))

/* The walk over one package type. */
struct iotda_walk {
	const char *type;
	char marker[IOTDA_MARKER_LEN + 1]; /* "" until the first full 500 */
	size_t offset;			   /* next page's offset after it */
	long long count;		   /* page.count, -1 if unknown */
	size_t fetched;
	bool done;
};

/* The packages path, with id (percent-encoded) when not NULL. */
static int packages_path(const struct iotda *io, const char *id, char *buf,
			 size_t len)
{
	char seg[HTTP_SEGMENT_MAX];
	int n;

	if (id) {
		n = http_path_segment(id, seg, sizeof(seg));
		if (n)
			return n;
	}
	n = snprintf(buf, len, "/v5/iot/%s/ota-upgrades/packages%s%s",
		     io->project_id, id ? "/" : "", id ? seg : "");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* create_time is yyyyMMdd'T'HHmmss'Z' (UTC); 0 when absent or bad. */
time_t iotda_parse_time(const char *s)
{
	struct tm tm;
	int i;

	if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return 0;
	for (i = 0; i < 15; i++)
		if (i != 8 && !isdigit((unsigned char)s[i]))
			return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 +
		     (s[2] - '0') * 10 + (s[3] - '0') - 1900;
	tm.tm_mon = (s[4] - '0') * 10 + (s[5] - '0') - 1;
	tm.tm_mday = (s[6] - '0') * 10 + (s[7] - '0');
	tm.tm_hour = (s[9] - '0') * 10 + (s[10] - '0');
	tm.tm_min = (s[11] - '0') * 10 + (s[12] - '0');
	tm.tm_sec = (s[13] - '0') * 10 + (s[14] - '0');
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return 0;
	return timegm(&tm);
}

/* ShowOtaPackage's answer has the OBS location; the list's does not. */
static const char *const iotda_show_only[] = {"file_location", NULL};

/*
 * One package object into r. A package with a NUL in a string, or whose id
 * cannot be a file name, is dropped (-ENOENT) and counted in l (NULL for a
 * show answer): never shown, so never deleted.
 */
static int iotda_package(const cJSON *obj, const char *want, struct listing *l,
			 struct resource *r)
{
	const char *id;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(obj))
		return errmap_malformed();
	ret = http_json_entry_name(obj, "iotda", "package_id", want, l, &id);
	if (ret)
		return ret;
	r->name = strdup(id);
	if (!r->name)
		return -ENOMEM;
	r->ctime = iotda_parse_time(http_json_str(obj, "create_time", 32));
	r->mtime = r->ctime;
	ret = http_json_resource(obj, iotda_show_only, r);
	if (!ret && r->json_len > SVC_MAX_ENTRY_JSON) {
		log_warn("iotda: skipping package %s: metadata of %zu bytes",
			 r->name, r->json_len);
		if (l)
			l->dropped_big++;
		ret = -ENOENT;
	}
	if (ret)
		resource_clear(r);
	return ret;
}

static bool marker_valid(const char *m)
{
	size_t i;

	if (!m || strlen(m) != IOTDA_MARKER_LEN)
		return false;
	for (i = 0; i < IOTDA_MARKER_LEN; i++)
		if (!isxdigit((unsigned char)m[i]))
			return false;
	return true;
}

/*
 * One page of a round: adds its packages to l and says whether it was
 * full; *marker gets page.marker (validated) when it has one.
 */
static int iotda_page(const struct http_request *req,
		      const struct http_result *res, struct listing *l,
		      struct iotda_walk *w, bool *full, const char **marker,
		      cJSON **keep)
{
	const cJSON *pkgs, *page, *item, *count;
	size_t before = l->count;
	cJSON *root;
	int n = 0, ret;

	ret = http_json_body(req, res, &root);
	if (ret)
		return ret;
	pkgs = cJSON_GetObjectItemCaseSensitive(root, "packages");
	page = cJSON_GetObjectItemCaseSensitive(root, "page");
	/* Outside the entries (markers, counts) a NUL spoils the page. */
	if (!cJSON_IsArray(pkgs) || cJSON_GetArraySize(pkgs) > IOTDA_PAGE ||
	    (page && !cJSON_IsObject(page)) || !json_clean(root, pkgs)) {
		log_err("iotda: list page of %s has no valid packages array, "
			"or a NUL outside it request_id=%s",
			w->type, res->request_id[0] ? res->request_id : "-");
		cJSON_Delete(root);
		return errmap_malformed();
	}
	count = cJSON_GetObjectItemCaseSensitive(page, "count");
	if (cJSON_IsNumber(count) && count->valuedouble >= 0 &&
	    count->valuedouble <= 1e12)
		w->count = (long long)count->valuedouble;
	*marker = http_json_str(page, "marker", IOTDA_MARKER_LEN);
	if (*marker && !marker_valid(*marker))
		*marker = NULL;
	cJSON_ArrayForEach(item, pkgs)
	{
		struct resource r;

		n++;
		ret = iotda_package(item, NULL, l, &r);
		if (ret == -ENOENT)
			continue;
		if (!ret)
			ret = listing_add(l, &r);
		if (ret) {
			resource_clear(&r);
			cJSON_Delete(root);
			return ret;
		}
	}
	w->fetched += (size_t)n;
	*full = n == IOTDA_PAGE;
	/* A full page calls for another: one that added no new id is a
	 * server repeating itself (as in rfs.c). */
	if (*full && l->count == before) {
		log_err("iotda: %s listing: a full page adds no new id; "
			"giving up",
			w->type);
		cJSON_Delete(root);
		return errmap_malformed();
	}
	*keep = root;
	return 0;
}

/*
 * How many pages the next round of w asks for. The first round is one
 * page: it learns page.count (and that the credentials work) for the cost
 * of one request per type. Later rounds ask for the pages page.count says
 * are left plus the short one that ends the walk, up to offset 500. The
 * stop is always the first short page, so a count that is off costs
 * requests, never entries.
 */
static size_t round_pages(const struct iotda *io, const struct iotda_walk *w)
{
	size_t room = (IOTDA_MAX_OFFSET - w->offset) / IOTDA_PAGE + 1;
	long long left;
	size_t pages;

	if (!io->parallel || (!w->fetched && !w->marker[0]))
		return 1;
	if (w->count < 0)
		return room;
	left = w->count - (long long)w->fetched;
	pages = left > 0 ? (size_t)(left / IOTDA_PAGE) + 1 : 1;
	return pages > room ? room : pages;
}

struct iotda_slot {
	struct iotda_walk *w;
	char offset[8];
	struct sign_param params[4];
};

/* The requests of w's next round into reqs/slots from index n. */
static size_t plan_round(const struct iotda *io, struct iotda_walk *w,
			 const char *path, struct http_request *reqs,
			 struct iotda_slot *slots, size_t n)
{
	size_t p, pages = round_pages(io, w);

	for (p = 0; p < pages; p++, n++) {
		struct iotda_slot *s = &slots[n];
		size_t np = 0, off = w->offset + p * IOTDA_PAGE;

		s->w = w;
		snprintf(s->offset, sizeof(s->offset), "%zu", off);
		s->params[np++] = (struct sign_param){"package_type", w->type};
		s->params[np++] = (struct sign_param){"limit", "50"};
		if (w->marker[0])
			s->params[np++] =
			    (struct sign_param){"marker", w->marker};
		if (off)
			s->params[np++] =
			    (struct sign_param){"offset", s->offset};
		reqs[n] = (struct http_request){
		    .ep = io->ep,
		    .method = "GET",
		    .path = path,
		    .params = s->params,
		    .nparams = np,
		    .op = ERRMAP_READ,
		};
	}
	return n;
}

/*
 * The answers of w's round (slots [i, j)): adds the packages, then ends
 * the walk at the first short page, or moves on: to the next offsets
 * after the same marker, or (after offset 500, or in the one-page walk)
 * to the marker of the round's last record, which must be older.
 */
static int take_round(const struct iotda *io, struct iotda_walk *w,
		      const struct http_request *reqs,
		      const struct http_result *res, size_t i, size_t j,
		      struct listing *l)
{
	const char *last_marker = NULL;
	cJSON *last = NULL;
	bool full = true;
	size_t k;
	int ret = 0;

	for (k = i; k < j && full && !ret; k++) {
		const char *m = NULL;
		cJSON *root = NULL;

		ret = iotda_page(&reqs[k], &res[k], l, w, &full, &m, &root);
		cJSON_Delete(last);
		last = root;
		last_marker = m;
	}
	if (ret || !full) {
		w->done = !ret;
		cJSON_Delete(last);
		return ret;
	}
	w->offset += (j - i) * IOTDA_PAGE;
	if (w->fetched > IOTDA_MAX_PACKAGES) {
		log_err("iotda: %s listing: more than %d packages; giving up",
			w->type, IOTDA_MAX_PACKAGES);
		ret = errmap_malformed();
	} else if (io->parallel && w->offset <= IOTDA_MAX_OFFSET) {
		/* Same marker, further offsets. */
	} else if (!last_marker ||
		   strcasecmp(last_marker,
			      w->marker[0] ? w->marker : IOTDA_FIRST_MARKER) >=
		       0) {
		log_err("iotda: %s listing: page.marker %s", w->type,
			last_marker ? "does not advance"
				    : "missing after a full page");
		ret = errmap_malformed();
	} else {
		snprintf(w->marker, sizeof(w->marker), "%s", last_marker);
		w->offset = 0;
	}
	cJSON_Delete(last);
	return ret;
}

int iotda_list_packages(const struct iotda *io, struct listing *l)
{
	struct iotda_walk walks[IOTDA_NTYPES];
	struct http_request reqs[IOTDA_NTYPES * IOTDA_ROUND];
	struct http_result res[IOTDA_NTYPES * IOTDA_ROUND];
	struct iotda_slot slots[IOTDA_NTYPES * IOTDA_ROUND];
	char path[IOTDA_PATH_MAX];
	size_t t, i, j, n;
	int ret;

	ret = packages_path(io, NULL, path, sizeof(path));
	if (ret)
		return ret;
	memset(walks, 0, sizeof(walks));
	for (t = 0; t < IOTDA_NTYPES; t++) {
		walks[t].type = iotda_types[t];
		walks[t].count = -1;
	}
	for (;;) {
		n = 0;
		for (t = 0; t < IOTDA_NTYPES; t++) {
			if (walks[t].done)
				continue;
			n = plan_round(io, &walks[t], path, reqs, slots, n);
			/* The reference walk: one page at a time. */
			if (!io->parallel)
				break;
		}
		if (!n)
			return 0;
		ret = http_run(io->h, reqs, res, n);
		for (i = 0; !ret && i < n; i = j) {
			for (j = i; j < n && slots[j].w == slots[i].w; j++)
				;
			ret = take_round(io, slots[i].w, reqs, res, i, j, l);
		}
		for (i = 0; i < n; i++)
			http_result_clear(&res[i]);
		if (ret)
			return ret;
	}
}

int iotda_show_package(const struct iotda *io, const char *id,
		       struct resource *out)
{
	struct http_request req;
	struct http_result res;
	char path[IOTDA_PATH_MAX];
	cJSON *root;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!name_safe(id))
		return -ENOENT;
	ret = packages_path(io, id, path, sizeof(path));
	if (ret)
		return ret;
	req = (struct http_request){
	    .ep = io->ep, .method = "GET", .path = path, .op = ERRMAP_READ};
	ret = http_do(io->h, &req, &res);
	if (!ret)
		ret = http_json_body(&req, &res, &root);
	if (!ret) {
		/* An answer about another package is not this one. */
		ret = iotda_package(root, id, NULL, out);
		if (ret == -ENOENT)
			ret = errmap_malformed();
		cJSON_Delete(root);
	}
	http_result_clear(&res);
	return ret;
}

int iotda_delete_package(const struct iotda *io, const char *id,
			 struct http_result *res)
{
	struct http_request req;
	char path[IOTDA_PATH_MAX];
	int ret;

	memset(res, 0, sizeof(*res));
	if (!name_safe(id))
		return -ENOENT;
	ret = packages_path(io, id, path, sizeof(path));
	if (ret)
		return ret;
	req = (struct http_request){.ep = io->ep,
				    .method = "DELETE",
				    .path = path,
				    .op = ERRMAP_DELETE};
	return http_do(io->h, &req, res);
}

int iotda_check(const struct iotda *io, struct http_result *res)
{
	static const struct sign_param params[] = {
	    {"package_type", "firmwarePackage"},
	    {"limit", "1"},
	};
	struct http_request req;
	char path[IOTDA_PATH_MAX];
	cJSON *root;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = packages_path(io, NULL, path, sizeof(path));
	if (ret)
		return ret;
	req = (struct http_request){.ep = io->ep,
				    .method = "GET",
				    .path = path,
				    .params = params,
				    .nparams = 2,
				    .op = ERRMAP_READ};
	ret = http_do(io->h, &req, res);
	if (!ret) {
		ret = http_json_body(&req, res, &root);
		if (!ret)
			cJSON_Delete(root);
	}
	return ret;
}

/* ---- the kind (kinds.h) ---- */

static int iotda_svc_check(const void *svc, const struct http_endpoint **ep,
			   struct http_result *res)
{
	const struct iotda *io = svc;

	*ep = io->ep;
	return iotda_check(io, res);
}

static int iotda_packages_list(const void *svc, const struct coll *c,
			       struct listing *l)
{
	(void)c;
	return iotda_list_packages(svc, l);
}

static int iotda_packages_show(const void *svc, const struct coll *c,
			       const char *name, struct resource *out)
{
	(void)c;
	return iotda_show_package(svc, name, out);
}

static int iotda_packages_remove(const void *svc, const struct coll *c,
				 const struct resource *r,
				 struct http_result *res)
{
	(void)c;
	return iotda_delete_package(svc, r->name, res);
}

const struct kind_service_ops iotda_service_ops = {.check = iotda_svc_check};

const struct kind_ops iotda_package_ops = {
    .list = iotda_packages_list,
    .show = iotda_packages_show,
    .remove = iotda_packages_remove,
};
