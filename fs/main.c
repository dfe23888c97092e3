/*
 * main.c - the hwcfs command: options, the checks that fail a bad mount
 * before it detaches, then the FUSE session loop.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "cache.h"
#include "cli.h"
#include "config.h"
#include "fs.h"
#include "http_backend.h"
#include "kind.h"
#include "log.h"
#include "secrets.h"

/*
 * Exit codes (docs/hwcfs.md, Exit status): 0 clean unmount, 1 start-up
 * error, 2 usage error, 77 (EX_NOPERM) the cloud refused the credentials,
 * so that a service manager stops instead of locking the key by retrying.
 */
#define EXIT_STARTUP 1
#define EXIT_USAGE 2
#define EXIT_AUTH EX_NOPERM

/*
 * Worker threads unless -o max_threads says otherwise: a slow cloud
 * request must not hold up the others.
 */
#define MAX_THREADS_OPT "-omax_threads=64"
#define IDLE_THREADS 16

enum {
	KEY_RO,
	KEY_NUMBER,
	KEY_CHECK,
	KEY_ALLOW_OTHER,
	KEY_FOREGROUND,
	KEY_SINGLE,
	KEY_FSNAME,
	KEY_SUBTYPE,
	KEY_MAX_THREADS,
};

struct cmdline {
	struct hwc_config cfg;
	char *pos[2]; /* [PROFILE] MOUNTPOINT */
	int npos;
	const char *extra; /* a third positional argument: an error */
	bool allow_other;
	bool helper;	      /* run by mount(8) as mount.fuse.hwcfs */
	bool fake;	      /* mount -f: check the options, do not mount */
	bool fsname, subtype; /* given by the user */
	bool max_threads;     /* given by the user */
	bool check;	      /* --check: report, mount nothing */
};

#define HWC_OPT(t, field, v)                              \
	{                                                 \
		t, offsetof(struct cmdline, cfg.field), v \
	}

static const struct fuse_opt hwc_opts[] = {
    HWC_OPT("region=%s", region, 0),
    HWC_OPT("project_id=%s", project_id, 0),
    HWC_OPT("iotda_endpoint=%s", iotda_endpoint, 0),
    HWC_OPT("instance_id=%s", instance_id, 0),
    HWC_OPT("rfs_endpoint=%s", rfs_endpoint, 0),
    HWC_OPT("iam_endpoint=%s", iam_endpoint, 0),
    HWC_OPT("cafile=%s", cafile, 0),
    HWC_OPT("audit_log=%s", audit_log, 0),
    HWC_OPT("signing=%s", signing, 0),
    HWC_OPT("kinds=%s", kinds, 0),
    HWC_OPT("config=%s", config_file, 0),
    HWC_OPT("profile=%s", profile, 0),
    /* parsed by config_set, as the same keys of a profile are */
    FUSE_OPT_KEY("cache_ttl=", KEY_NUMBER),
    FUSE_OPT_KEY("negative_ttl=", KEY_NUMBER),
    FUSE_OPT_KEY("timeout=", KEY_NUMBER),
    FUSE_OPT_KEY("retries=", KEY_NUMBER),
    FUSE_OPT_KEY("auth_hold=", KEY_NUMBER),
    FUSE_OPT_KEY("readahead=", KEY_NUMBER),
    /* the delete guards, by the same rules (common/guard.h) */
    FUSE_OPT_KEY("min_age=", KEY_NUMBER),
    FUSE_OPT_KEY("max_deletes=", KEY_NUMBER),
    FUSE_OPT_KEY("protect=", KEY_NUMBER),
    HWC_OPT("rmdir_cascade", rmdir_cascade, 1),
    HWC_OPT("dry_run", dry_run, 1),
    HWC_OPT("parallel_list", parallel_list, 1),
    HWC_OPT("no_parallel_list", parallel_list, 0),
    FUSE_OPT_KEY("--check", KEY_CHECK),
    FUSE_OPT_KEY("ro", KEY_RO),
    FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
    /* Meant for mount(8) in /etc/fstab, not for us. */
    FUSE_OPT_KEY("_netdev", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nofail", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("auto", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("noauto", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("user", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("users", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nouser", FUSE_OPT_KEY_DISCARD),
    /*
     * mount(8) passes on what an fstab line says; these mean nothing to
     * a filesystem that never writes, and libfuse 3.14 rejects them.
     */
    FUSE_OPT_KEY("defaults", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("relatime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("norelatime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("strictatime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nostrictatime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("lazytime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nolazytime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("diratime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nodiratime", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("iversion", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("noiversion", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("mand", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nomand", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("silent", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("loud", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nosymfollow", FUSE_OPT_KEY_DISCARD),
    /* mount(8)'s helper flags: verbose, no mtab; -f below. */
    FUSE_OPT_KEY("-v", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("-n", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("-f", KEY_FOREGROUND),
    FUSE_OPT_KEY("-s", KEY_SINGLE),
    FUSE_OPT_KEY("fsname=", KEY_FSNAME),
    FUSE_OPT_KEY("subtype=", KEY_SUBTYPE),
    FUSE_OPT_KEY("max_threads=", KEY_MAX_THREADS),
    FUSE_OPT_END,
};

/* "timeout=5": the value checked as a profile's would be (config_set). */
static int set_number(struct cmdline *cl, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char key[32], err[200];

	if (!eq || (size_t)(eq - arg) >= sizeof(key))
		return -1;
	memcpy(key, arg, (size_t)(eq - arg));
	key[eq - arg] = '\0';
	if (config_set(&cl->cfg, key, eq + 1, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "hwcfs: -o %s: %s\n", key, err);
	return -1;
}

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct cmdline *cl = data;

	(void)outargs;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (cl->npos == 2) {
			cl->extra = arg;
			return 0;
		}
		cl->pos[cl->npos] = strdup(arg);
		if (!cl->pos[cl->npos])
			return -1;
		cl->npos++;
		return 0;
	case KEY_RO:
		/* Ours (every write bit cleared) and the kernel's. */
		cl->cfg.ro = 1;
		return 1;
	case KEY_NUMBER:
		return set_number(cl, arg);
	case KEY_CHECK:
		cl->check = true;
		return 0;
	case KEY_ALLOW_OTHER:
		cl->allow_other = true;
		return 1;
	case KEY_FOREGROUND:
		/* To mount(8)'s helper, -f is "fake": do not mount. */
		if (!cl->helper)
			return 1;
		cl->fake = true;
		return 0;
	case KEY_SINGLE:
		/* To mount(8)'s helper, -s is "sloppy": nothing for us. */
		return cl->helper ? 0 : 1;
	case KEY_FSNAME:
		cl->fsname = true;
		return 1;
	case KEY_SUBTYPE:
		cl->subtype = true;
		return 1;
	case KEY_MAX_THREADS:
		cl->max_threads = true;
		return 1;
	default:
		return 1;
	}
}

static const char *prog_name(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	return slash ? slash + 1 : argv0;
}

/*
 * The mount table shows "PROFILE MOUNTPOINT fuse.hwcfs" whatever name we
 * were run by (mount.fuse.hwcfs, a symlink), so that umount, findmnt -t
 * and systemd can match an fstab line.
 */
static int add_names(struct fuse_args *args, const struct cmdline *cl)
{
	const char *profile = cl->cfg.profile ? cl->cfg.profile : "hwcfs";
	char *opt, *p;
	int ret;

	if (!cl->subtype && fuse_opt_add_arg(args, "-osubtype=hwcfs") == -1)
		return -ENOMEM;
	if (cl->fsname)
		return 0;
	/* fuse_opt splits on ',' and unescapes '\\': escape both. */
	opt = malloc(strlen("-ofsname=") + 2 * strlen(profile) + 1);
	if (!opt)
		return -ENOMEM;
	p = opt + sprintf(opt, "-ofsname=");
	for (; *profile; profile++) {
		if (*profile == ',' || *profile == '\\')
			*p++ = '\\';
		*p++ = *profile;
	}
	*p = '\0';
	ret = fuse_opt_add_arg(args, opt);
	free(opt);
	return ret == -1 ? -ENOMEM : 0;
}

/* A relative path would break once the daemon changes to "/". */
static int make_absolute(char **path, const char *what)
{
	char *abs;

	if (!*path)
		return 0;
	abs = realpath(*path, NULL);
	if (!abs) {
		fprintf(stderr, "hwcfs: %s %s: %s\n", what, *path,
			strerror(errno));
		return -errno;
	}
	free(*path);
	*path = abs;
	return 0;
}

static int run_loop(struct fuse_session *se,
		    const struct fuse_cmdline_opts *opts)
{
	struct fuse_loop_config *lc;
	unsigned int idle;
	int ret;

	if (opts->singlethread)
		return fuse_session_loop(se);
	lc = fuse_loop_cfg_create();
	if (!lc)
		return -ENOMEM;
	idle = opts->max_idle_threads;
	if (idle == UINT_MAX || idle == 0)
		idle = IDLE_THREADS;
	if (idle > opts->max_threads)
		idle = opts->max_threads;
	fuse_loop_cfg_set_clone_fd(lc, (unsigned int)opts->clone_fd);
	fuse_loop_cfg_set_max_threads(lc, opts->max_threads);
	fuse_loop_cfg_set_idle_threads(lc, idle);
	ret = fuse_session_loop_mt(se, lc);
	fuse_loop_cfg_destroy(lc);
	return ret;
}

/*
 * An existing directory, as an absolute path: the kernel mounts a FUSE
 * root on a regular file too, and every access then fails with EIO.
 */
static int mount_point(const char *arg, char **out)
{
	struct stat st;
	int ret;

	/* mount.fuse3 -o drop_privileges passes an open /dev/fuse as this. */
	if (strncmp(arg, "/dev/fd/", 8) == 0) {
		*out = strdup(arg);
		return *out ? 0 : -ENOMEM;
	}
	*out = realpath(arg, NULL);
	if (!*out || stat(*out, &st) != 0) {
		ret = -errno;
		fprintf(stderr, "hwcfs: bad mount point `%s': %s\n", arg,
			strerror(-ret));
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr,
			"hwcfs: bad mount point `%s': not a directory; "
			"hwcfs mounts on an existing directory\n",
			arg);
		return -ENOTDIR;
	}
	return 0;
}

static int exit_status_of(int err)
{
	return err == -EKEYREJECTED ? EXIT_AUTH : EXIT_STARTUP;
}

/* Where service i (kind_services) is configured, NULL if it is not. */
static const char *service_endpoint(const struct hwc_config *cfg, size_t i)
{
	if (!kind_service_configured(&kind_services[i], cfg))
		return NULL;
	return *(char *const *)((const char *)cfg + kind_services[i].endpoint);
}

/* One authenticated request to service i; the mount's line on failure. */
static int check_service(const struct hwc_config *cfg, struct backend *b,
			 size_t i)
{
	char err[512];
	int ret;

	err[0] = '\0';
	ret = b->ops->check(b, &kind_services[i], err, sizeof(err));
	if (ret)
		fprintf(stderr, "hwcfs: cannot use %s at %s: %s\n",
			kind_services[i].label, service_endpoint(cfg, i),
			err[0] ? err : strerror(-ret));
	return ret;
}

/* One request per service, while a terminal still sees; stops at the
 * first failure. */
static int check_services(const struct hwc_config *cfg, struct backend *b)
{
	int ret = 0;

	for (size_t i = 0; i < kind_nservices && !ret; i++)
		if (service_endpoint(cfg, i))
			ret = check_service(cfg, b, i);
	return ret;
}

/*
 * The profile and the credentials; profile ro = 1 also asks the kernel
 * for a read-only mount, as -o ro does. An exit status, or -1 to go on.
 */
static int finish_settings(struct cmdline *cl, struct fuse_args *args)
{
	char err[512];
	int ret;

	err[0] = '\0';
	ret = config_finish(&cl->cfg, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "hwcfs: %s\n", err[0] ? err : strerror(-ret));
		return ret == -ERANGE ? EXIT_USAGE : EXIT_STARTUP;
	}
	if (kind_check_selection(&cl->cfg, err, sizeof(err)) ||
	    kind_check_protect(&cl->cfg, err, sizeof(err))) {
		fprintf(stderr, "hwcfs: %s\n", err);
		return EXIT_USAGE;
	}
	/* after mount(8)'s "rw", which it passes unless fstab says ro */
	if (cl->cfg.ro > 0 && fuse_opt_add_arg(args, "-oro") == -1) {
		fprintf(stderr, "hwcfs: out of memory\n");
		return EXIT_STARTUP;
	}
	if (make_absolute(&cl->cfg.cafile, "cafile"))
		return EXIT_STARTUP;
	return -1;
}

/* The probe's libfuse messages: its errors, not a second -d banner. */
static void probe_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	if (level <= FUSE_LOG_ERR)
		vfprintf(stderr, fmt, ap);
}

/*
 * Whether libfuse takes every option left: asked of a session made for
 * the purpose on a copy of args, so that an unknown option is a usage
 * error before the profile, the credentials or the mount point are
 * looked at (the session that mounts is made later, once the profile may
 * have added ro).
 */
static bool fuse_options_ok(const struct fuse_args *args)
{
	struct fuse_args copy = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se = NULL;
	bool ok = true;

	for (int i = 0; i < args->argc && ok; i++)
		ok = fuse_opt_add_arg(&copy, args->argv[i]) == 0;
	if (ok) {
		fuse_set_log_func(probe_log);
		se = fuse_session_new(&copy, fs_ops(), sizeof(*fs_ops()), NULL);
		fuse_set_log_func(NULL); /* libfuse's own again */
		ok = se != NULL;
	}
	if (se)
		fuse_session_destroy(se);
	fuse_opt_free_args(&copy);
	return ok;
}

/* The HTTP backend, with the project id IAM told noted as such. */
static int open_backend(struct hwc_config *cfg, struct backend **out)
{
	const char *pid;
	char err[512];
	int ret;

	err[0] = '\0';
	ret = http_backend_new(cfg, out, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "hwcfs: %s\n", err[0] ? err : strerror(-ret));
		return ret;
	}
	pid = http_backend_project_id(*out);
	if (!cfg->project_id && pid) {
		cfg->project_id = strdup(pid);
		if (!cfg->project_id ||
		    config_note(cfg, "project_id", "asked of IAM at %s",
				cfg->iam_endpoint))
			return -ENOMEM;
	}
	return 0;
}

/*
 * hwcfs --check: what the mount would use and where each setting came
 * from, then at most one request to IAM and one per service, as the
 * mount sends before it mounts. Nothing after a refused credential.
 */
static int run_check(struct cmdline *cl, struct fuse_args *args,
		     const struct fuse_cmdline_opts *opts)
{
	struct backend *b = NULL;
	int status, ret = 0;

	status = finish_settings(cl, args);
	if (status >= 0)
		return status;
	log_init(true, opts->debug);
	ret = open_backend(&cl->cfg, &b);
	config_print(&cl->cfg, stdout);
	cli_print_tree(&cl->cfg, stdout);
	config_forget_secrets(&cl->cfg);
	for (size_t i = 0; i < kind_nservices && b; i++) {
		const char *ep = service_endpoint(&cl->cfg, i);
		int one;

		if (!ep)
			continue;
		if (ret == -EKEYREJECTED) {
			printf("%s: %s: not checked, the credentials were "
			       "refused\n",
			       kind_services[i].label, ep);
			continue;
		}
		fflush(stdout);
		one = check_service(&cl->cfg, b, i);
		printf("%s: %s: %s\n", kind_services[i].label, ep,
		       one ? "failed" : "ok");
		if (one && ret != -EKEYREJECTED)
			ret = one;
	}
	if (b)
		b->ops->destroy(b);
	status = ret ? exit_status_of(ret) : EXIT_SUCCESS;
	printf("result: %s (exit status %d)\n",
	       status == EXIT_SUCCESS ? "the mount would work"
	       : status == EXIT_AUTH  ? "the credentials were refused"
				      : "the mount would fail",
	       status);
	return status;
}

/* What a mount holds, released by daemon_end in the reverse order. */
struct daemon {
	struct fuse_session *se;
	struct fs *fs;
	struct backend *b;
	char *mnt;
	bool mounted, handlers, audit;
};

/* Connect and check before the mount: an exit status, or -1 to go on. */
static int daemon_connect(struct daemon *d, struct cmdline *cl,
			  const struct fuse_cmdline_opts *opts)
{
	struct cache_opts copts;
	struct backend *http = NULL;
	int ret;

	log_init(opts->foreground, opts->debug);
	ret = audit_open(cl->cfg.audit_log);
	if (ret) {
		fprintf(stderr, "hwcfs: cannot open audit log %s: %s\n",
			cl->cfg.audit_log, strerror(-ret));
		return EXIT_STARTUP;
	}
	d->audit = true;
	ret = open_backend(&cl->cfg, &http);
	/* the client has its copy now; no other may outlive this */
	config_forget_secrets(&cl->cfg);
	if (!ret)
		ret = check_services(&cl->cfg, http);
	if (ret) {
		if (http)
			http->ops->destroy(http);
		return exit_status_of(ret);
	}
	memset(&copts, 0, sizeof(copts));
	copts.ttl = cl->cfg.cache_ttl;
	copts.negative_ttl = cl->cfg.negative_ttl;
	copts.readahead = cl->cfg.readahead;
	d->b = cache_wrap(http, &copts);
	if (!d->b) {
		http->ops->destroy(http);
		fprintf(stderr, "hwcfs: out of memory\n");
		return EXIT_STARTUP;
	}
	fs_set_backend(d->fs, d->b);
	fs_set_guard(d->fs, http_backend_guard(http));
	return -1;
}

/* Mount, detach, serve until unmounted: the exit status. */
static int daemon_serve(struct daemon *d, const struct fuse_cmdline_opts *opts)
{
	int ret;

	if (fuse_session_mount(d->se, d->mnt) != 0)
		return EXIT_STARTUP;
	d->mounted = true;
	if (fuse_daemonize(opts->foreground) != 0)
		return EXIT_STARTUP;
	if (fuse_set_signal_handlers(d->se) != 0)
		return EXIT_STARTUP;
	d->handlers = true;
	ret = fs_start(d->fs, d->se);
	if (ret) {
		log_err("cannot start helper threads: %s", strerror(-ret));
		return EXIT_STARTUP;
	}
	log_info("mounted %s", d->mnt);
	ret = run_loop(d->se, opts);
	/* A positive value is the signal that asked us to unmount. */
	if (ret < 0)
		log_err("session loop: %s", strerror(-ret));
	return ret < 0 ? EXIT_STARTUP : EXIT_SUCCESS;
}

static void daemon_end(struct daemon *d)
{
	if (d->fs)
		fs_stop(d->fs);
	if (d->handlers)
		fuse_remove_signal_handlers(d->se);
	if (d->mounted)
		fuse_session_unmount(d->se);
	if (d->se)
		fuse_session_destroy(d->se);
	if (d->b)
		d->b->ops->destroy(d->b);
	fs_free(d->fs);
	if (d->audit)
		audit_close();
	free(d->mnt);
}

static int run_mount(struct cmdline *cl, struct fuse_args *args,
		     const struct fuse_cmdline_opts *opts)
{
	struct daemon d;
	int status;

	memset(&d, 0, sizeof(d));
	status = EXIT_STARTUP;
	if (mount_point(cl->pos[cl->npos - 1], &d.mnt))
		goto out;
	status = finish_settings(cl, args);
	if (status >= 0)
		goto out;
	status = EXIT_STARTUP;
	if (fs_new(&cl->cfg, &d.fs)) {
		fprintf(stderr, "hwcfs: out of memory\n");
		goto out;
	}
	d.se = fuse_session_new(args, fs_ops(), sizeof(*fs_ops()), d.fs);
	if (!d.se) {
		status = EXIT_USAGE;
		goto out;
	}
	if (cl->fake) {
		status = EXIT_SUCCESS;
		goto out;
	}
	status = daemon_connect(&d, cl, opts);
	if (status < 0)
		status = daemon_serve(&d, opts);
out:
	daemon_end(&d);
	return status;
}

/*
 * The command line: an exit status when it says all there is to do
 * (help, version, a usage error), else -1.
 */
static int parse_cmdline(const char *argv0, struct fuse_args *args,
			 struct cmdline *cl, struct fuse_cmdline_opts *opts)
{
	cl->helper = strncmp(prog_name(argv0), "mount.", 6) == 0;
	if (fuse_opt_parse(args, cl, hwc_opts, opt_proc) == -1)
		return EXIT_USAGE;
	if (cl->allow_other &&
	    fuse_opt_add_arg(args, "-odefault_permissions") == -1)
		return EXIT_USAGE;
	/* [PROFILE] MOUNTPOINT, or --check [PROFILE] */
	if ((cl->npos == 2 || (cl->check && cl->npos == 1)) &&
	    !cl->cfg.profile) {
		cl->cfg.profile = cl->pos[0];
		cl->pos[0] = NULL;
	}
	/* Before libfuse names the subtype after argv[0]. */
	if (add_names(args, cl))
		return EXIT_USAGE;
	/* Our default, not libfuse's 10; a user's -o max_threads wins. */
	if (!cl->max_threads && fuse_opt_add_arg(args, MAX_THREADS_OPT) == -1)
		return EXIT_USAGE;
	if (fuse_parse_cmdline(args, opts) != 0)
		return EXIT_USAGE;
	if (opts->max_threads == 0) {
		fprintf(stderr, "hwcfs: -o max_threads: must be at least 1\n");
		return EXIT_USAGE;
	}
	if (opts->show_help) {
		cli_usage(argv0);
		return EXIT_SUCCESS;
	}
	if (opts->show_version) {
		printf("hwcfs version %s\n", HWCFS_VERSION);
		printf("FUSE library version %s\n", fuse_pkgversion());
		/* It runs fusermount3, whose line must come after ours. */
		fflush(stdout);
		fuse_lowlevel_version();
		return EXIT_SUCCESS;
	}
	if (cl->extra || (cl->check && cl->npos == 2)) {
		fprintf(stderr, "hwcfs: unexpected argument `%s'\n",
			cl->extra ? cl->extra : cl->pos[1]);
		return EXIT_USAGE;
	}
	if (cl->npos == 0 && !cl->check) {
		fprintf(stderr, "hwcfs: no mount point given\n");
		return EXIT_USAGE;
	}
	return -1;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct cmdline cl;
	int status;

	/*
	 * Before any secret is read, as ssh-agent does: no core file, and
	 * no ptrace or /proc/PID/mem for the user's other processes.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		fprintf(stderr,
			"hwcfs: cannot make the process undumpable: "
			"%s\n",
			strerror(errno));
		return EXIT_STARTUP;
	}
	memset(&cl, 0, sizeof(cl));
	memset(&opts, 0, sizeof(opts));
	config_init(&cl.cfg);
	/* Before any thread exists, so that only the waiter gets it. */
	fs_block_refresh_signal();

	if (secret_on_command_line(argc, argv))
		status = EXIT_USAGE;
	else
		status = parse_cmdline(argv[0], &args, &cl, &opts);
	if (status < 0 && !fuse_options_ok(&args))
		status = EXIT_USAGE;
	if (status < 0 && cl.check)
		status = run_check(&cl, &args, &opts);
	else if (status < 0)
		status = run_mount(&cl, &args, &opts);
	if (status == EXIT_USAGE)
		fprintf(stderr, "see `%s --help' for usage\n", argv[0]);
	free(opts.mountpoint);
	free(cl.pos[0]);
	free(cl.pos[1]);
	config_free(&cl.cfg);
	fuse_opt_free_args(&args);
	return status;
}
