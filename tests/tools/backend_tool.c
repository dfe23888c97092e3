/*
 * backend_tool.c - drives the HTTP backend without mounting, so tests (and
 * people) can list, show, delete and check through exactly the code the
 * filesystem uses. Settings come as in hwcfs: -o options, PROFILE, the
 * config file, the environment.
 *
 *   backend_tool [-d] [-o key=val,...] [PROFILE] COMMAND [:: COMMAND ...]
 *     list iotda/packages | rfs/providers | rfs/providers/NAME
 *     show PATH
 *     delete PATH [--cascade] [--provider-id ID]
 *     forget [PATH]
 *     check
 *     stress THREADS PATH  (THREADS threads list PATH 5 times each at once;
 *                       prints "stress ok COUNT" when all agree)
 *     pause            (prints "paused", waits for a line on stdin: lets a
 *                       test change the emulator between two commands)
 *
 * Entries print as "NAME<TAB>MTIME<TAB>JSON_LENGTH<TAB>PROVIDER_ID"; show
 * adds the JSON. A failure prints "ERRNAME: message" on stderr; the exit
 * status is 1 if any command failed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "config.h"
#include "http_backend.h"
#include "log.h"

struct tool_opt {
	const char *key;
	size_t str_off; /* offset of a char * field, or (size_t)-1 */
	size_t int_off; /* offset of an int field, or (size_t)-1 */
};

#define STR_OPT(k, f)                                         \
	{                                                     \
		k, offsetof(struct hwc_config, f), (size_t)-1 \
	}
#define INT_OPT(k, f)                                         \
	{                                                     \
		k, (size_t)-1, offsetof(struct hwc_config, f) \
	}

static const struct tool_opt tool_opts[] = {
    STR_OPT("region", region),
    STR_OPT("project_id", project_id),
    STR_OPT("iotda_endpoint", iotda_endpoint),
    STR_OPT("instance_id", instance_id),
    STR_OPT("rfs_endpoint", rfs_endpoint),
    STR_OPT("iam_endpoint", iam_endpoint),
    STR_OPT("cafile", cafile),
    STR_OPT("audit_log", audit_log),
    STR_OPT("signing", signing),
    STR_OPT("config", config_file),
    STR_OPT("profile", profile),
    INT_OPT("cache_ttl", cache_ttl),
    INT_OPT("negative_ttl", negative_ttl),
    INT_OPT("timeout", timeout),
    INT_OPT("retries", retries),
    INT_OPT("auth_hold", auth_hold),
    INT_OPT("rmdir_cascade", rmdir_cascade),
    INT_OPT("dry_run", dry_run),
    INT_OPT("ro", ro),
    INT_OPT("parallel_list", parallel_list),
};

static int set_opt(struct hwc_config *cfg, char *kv)
{
	char *val = strchr(kv, '=');
	size_t i;

	if (val)
		*val++ = '\0';
	for (i = 0; i < sizeof(tool_opts) / sizeof(tool_opts[0]); i++) {
		const struct tool_opt *o = &tool_opts[i];
		char *end;

		if (strcmp(o->key, kv) != 0)
			continue;
		if (o->str_off != (size_t)-1) {
			char **f = (char **)((char *)cfg + o->str_off);

			if (!val)
				break;
			free(*f);
			*f = strdup(val);
			return *f ? 0 : -ENOMEM;
		}
		/* A flag alone means 1, as in "-o dry_run". */
		if (!val) {
			*(int *)((char *)cfg + o->int_off) = 1;
			return 0;
		}
		errno = 0;
		long n = strtol(val, &end, 10);
		if (errno || end == val || *end || n < 0 || n > 1000000)
			break;
		*(int *)((char *)cfg + o->int_off) = (int)n;
		return 0;
	}
	fprintf(stderr, "backend_tool: bad option %s%s%s\n", kv, val ? "=" : "",
		val ? val : "");
	return -EINVAL;
}

static int parse_opts(struct hwc_config *cfg, const char *arg)
{
	char *copy = strdup(arg), *save = NULL, *kv;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	for (kv = strtok_r(copy, ",", &save); kv && !ret;
	     kv = strtok_r(NULL, ",", &save))
		ret = set_opt(cfg, kv);
	free(copy);
	return ret;
}

static int fail(int err, const char *what)
{
	const char *name = strerrorname_np(-err);

	fprintf(stderr, "%s: %s (%s)\n", name ? name : "E?", strerror(-err),
		what);
	return err;
}

/*
 * Splits "iotda/packages[/ID]" or "rfs/providers[/NAME[/VERSION]]" into a
 * collection and an optional entry name (which points into path).
 */
static int parse_path(char *path, struct coll *c, const char **name)
{
	char *parts[4] = {0};
	char *save = NULL, *p;
	int n = 0;

	for (p = strtok_r(path, "/", &save); p;
	     p = strtok_r(NULL, "/", &save)) {
		if (n == 4)
			return -EINVAL;
		parts[n++] = p;
	}
	*name = NULL;
	/* SERVICE/KIND[/NAME], or SERVICE/KIND/NAME/CHILD for a child kind,
	 * as the kind table (backend/kinds.c) lays them out. */
	c->kind = n >= 2 ? kind_find(parts[1]) : NULL;
	if (!c->kind || c->kind->parent ||
	    strcmp(c->kind->service->dir, parts[0]) != 0 ||
	    (n == 4 && !c->kind->child))
		return -EINVAL;
	*name = parts[2];
	if (n == 4) {
		c->kind = c->kind->child;
		c->parent = parts[2];
		*name = parts[3];
	}
	return 0;
}

static void print_entry(const struct resource *r)
{
	printf("%s\t%lld\t%zu\t%s\n", r->name, (long long)r->mtime, r->json_len,
	       r->provider_id ? r->provider_id : "-");
}

static int cmd_list(struct backend *b, char *path)
{
	struct coll c = {0};
	struct listing *l;
	const char *name;
	size_t i;
	int ret;

	ret = parse_path(path, &c, &name);
	if (ret)
		return fail(ret, "path");
	/* "rfs/providers/NAME" lists that provider's versions. */
	if (c.kind->child && name) {
		c.kind = c.kind->child;
		c.parent = name;
	} else if (name) {
		return fail(-EINVAL, "list takes a collection");
	}
	ret = b->ops->list(b, &c, &l);
	if (ret)
		return fail(ret, "list");
	for (i = 0; i < l->count; i++)
		if (!listing_is_gone(l, i))
			print_entry(&l->items[i]);
	listing_put(l);
	return 0;
}

static int cmd_show(struct backend *b, char *path, bool print_json)
{
	struct resource r;
	struct coll c = {0};
	const char *name;
	int ret;

	ret = parse_path(path, &c, &name);
	if (ret || !name)
		return fail(-EINVAL, "path");
	ret = b->ops->lookup(b, &c, name, &r);
	if (ret)
		return fail(ret, "show");
	print_entry(&r);
	if (print_json)
		fwrite(r.json, 1, r.json_len, stdout);
	resource_clear(&r);
	return 0;
}

static int cmd_delete(struct backend *b, char *path, const char *shown,
		      bool cascade, const char *provider_id)
{
	struct resource r = {0};
	struct coll c = {0};
	const char *name;
	int ret;

	ret = parse_path(path, &c, &name);
	if (ret || !name)
		return fail(-EINVAL, "path");
	/* Providers and versions are deleted as listed (with their
	 * provider_id), so look them up first, as the filesystem does. */
	if (c.kind->strong_id && !provider_id) {
		ret = b->ops->lookup(b, &c, name, &r);
		if (ret)
			return fail(ret, "lookup before delete");
	} else {
		r.name = strdup(name);
		if (provider_id)
			r.provider_id = strdup(provider_id);
		if (!r.name || (provider_id && !r.provider_id)) {
			resource_clear(&r);
			return fail(-ENOMEM, "delete");
		}
	}
	ret = b->ops->remove(b, &c, &r, cascade ? BACKEND_CASCADE : 0);
	resource_clear(&r);
	if (ret)
		return fail(ret, "delete");
	printf("deleted %s\n", shown);
	return 0;
}

static int cmd_forget(struct backend *b, char *path)
{
	struct coll c = {0};
	const char *name;

	if (!path) {
		b->ops->forget(b, NULL);
		return 0;
	}
	if (parse_path(path, &c, &name))
		return fail(-EINVAL, "path");
	if (name && c.kind->child) {
		c.kind = c.kind->child;
		c.parent = name;
	}
	b->ops->forget(b, &c);
	return 0;
}

static int cmd_check(struct backend *b, const struct hwc_config *cfg)
{
	char err[1024];
	int ret = 0, r;

	for (size_t i = 0; i < kind_nservices; i++) {
		const struct kind_service *s = &kind_services[i];
		char what[64];

		if (!kind_service_configured(s, cfg))
			continue;
		r = b->ops->check(b, s, err, sizeof(err));
		if (r) {
			fprintf(stderr, "%s\n", err);
			snprintf(what, sizeof(what), "check %s", s->dir);
			ret = fail(r, what);
		}
	}
	if (!ret)
		printf("ok\n");
	return ret;
}

/* One thread of cmd_stress: lists c five times, keeps the counts. */
struct stress_arg {
	struct backend *b;
	struct coll c;
	size_t counts[5];
	int err;
	pthread_t tid;
};

static void *stress_thread(void *p)
{
	struct stress_arg *a = p;
	struct listing *l;
	int i;

	for (i = 0; i < 5 && !a->err; i++) {
		a->err = a->b->ops->list(a->b, &a->c, &l);
		if (!a->err) {
			a->counts[i] = listing_live(l);
			listing_put(l);
		}
	}
	return NULL;
}

/* Many threads on one backend: the shared connection pool under load. */
static int cmd_stress(struct backend *b, const char *nthreads, char *path)
{
	struct stress_arg *args;
	struct coll c = {0};
	const char *name;
	long n = strtol(nthreads, NULL, 10), i, started;
	int ret = 0, j;

	if (n < 1 || n > 64 || parse_path(path, &c, &name))
		return fail(-EINVAL, "stress THREADS PATH");
	if (c.kind->child && name) {
		c.kind = c.kind->child;
		c.parent = name;
	}
	args = calloc((size_t)n, sizeof(*args));
	if (!args)
		return fail(-ENOMEM, "stress");
	for (started = 0; started < n; started++) {
		args[started].b = b;
		args[started].c = c;
		if (pthread_create(&args[started].tid, NULL, stress_thread,
				   &args[started]))
			break;
	}
	for (i = 0; i < started; i++)
		pthread_join(args[i].tid, NULL);
	if (started < n)
		ret = fail(-EAGAIN, "pthread_create");
	for (i = 0; i < started && !ret; i++) {
		if (args[i].err)
			ret = fail(args[i].err, "stress list");
		for (j = 0; j < 5 && !ret; j++)
			if (args[i].counts[j] != args[0].counts[0])
				ret = fail(-EIO, "listings disagree");
	}
	if (!ret)
		printf("stress ok %zu\n", args[0].counts[0]);
	free(args);
	return ret;
}

/* Runs argv[0..argc) as one command. */
static int run_command(struct backend *b, const struct hwc_config *cfg,
		       int argc, char **argv)
{
	const char *provider_id = NULL;
	bool cascade = false;
	int i;

	if (argc < 1)
		return fail(-EINVAL, "no command");
	if (strcmp(argv[0], "stress") == 0) {
		char path[1024];

		if (argc != 3 || strlen(argv[2]) >= sizeof(path))
			return fail(-EINVAL, "stress THREADS PATH");
		strcpy(path, argv[2]);
		return cmd_stress(b, argv[1], path);
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--cascade") == 0)
			cascade = true;
		else if (strcmp(argv[i], "--provider-id") == 0 && i + 1 < argc)
			provider_id = argv[++i];
		else
			return fail(-EINVAL, argv[i]);
	}
	/* parse_path cuts its argument; keep argv whole for messages. */
	if (argc >= 2) {
		char path[1024];

		if (strlen(argv[1]) >= sizeof(path))
			return fail(-ENAMETOOLONG, "path");
		strcpy(path, argv[1]);
		if (strcmp(argv[0], "list") == 0)
			return cmd_list(b, path);
		if (strcmp(argv[0], "show") == 0)
			return cmd_show(b, path, true);
		if (strcmp(argv[0], "delete") == 0)
			return cmd_delete(b, path, argv[1], cascade,
					  provider_id);
		if (strcmp(argv[0], "forget") == 0)
			return cmd_forget(b, path);
	} else if (strcmp(argv[0], "forget") == 0) {
		return cmd_forget(b, NULL);
	}
	if (strcmp(argv[0], "check") == 0)
		return cmd_check(b, cfg);
	if (strcmp(argv[0], "pause") == 0) {
		char line[16];

		printf("paused\n");
		fflush(stdout);
		return fgets(line, sizeof(line), stdin) ? 0
							: fail(-EIO, "pause");
	}
	return fail(-EINVAL, argv[0]);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: backend_tool [-d] [-o key=val,...] [PROFILE] COMMAND "
		"[:: COMMAND ...]\n"
		"  list iotda/packages|rfs/providers|rfs/providers/NAME\n"
		"  show PATH\n"
		"  delete PATH [--cascade] [--provider-id ID]\n"
		"  forget [PATH]\n"
		"  check\n"
		"  stress THREADS PATH\n"
		"  pause\n");
}

static bool is_command(const char *s)
{
	return strcmp(s, "list") == 0 || strcmp(s, "show") == 0 ||
	       strcmp(s, "delete") == 0 || strcmp(s, "forget") == 0 ||
	       strcmp(s, "check") == 0 || strcmp(s, "pause") == 0 ||
	       strcmp(s, "stress") == 0;
}

int main(int argc, char **argv)
{
	struct hwc_config cfg;
	struct backend *b = NULL;
	char err[1024];
	bool debug = false;
	int i = 1, start, ret, status = 0;

	config_init(&cfg);
	for (; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0) {
			debug = true;
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			if (parse_opts(&cfg, argv[++i])) {
				config_free(&cfg);
				return 2;
			}
		} else {
			break;
		}
	}
	if (i < argc && !is_command(argv[i])) {
		free(cfg.profile);
		cfg.profile = strdup(argv[i++]);
	}
	if (i >= argc) {
		usage();
		config_free(&cfg);
		return 2;
	}
	log_init(true, debug);
	ret = config_finish(&cfg, err, sizeof(err));
	if (!ret && audit_open(cfg.audit_log) != 0) {
		snprintf(err, sizeof(err), "audit_log %s: cannot open",
			 cfg.audit_log);
		ret = -EIO;
	}
	if (!ret)
		ret = http_backend_new(&cfg, &b, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "backend_tool: %s\n", err);
		fail(ret, "setup");
		audit_close();
		config_free(&cfg);
		return 1;
	}
	while (i < argc) {
		start = i;
		while (i < argc && strcmp(argv[i], "::") != 0)
			i++;
		if (run_command(b, &cfg, i - start, argv + start))
			status = 1;
		fflush(stdout);
		i++;
	}
	b->ops->destroy(b);
	audit_close();
	config_free(&cfg);
	return status;
}
