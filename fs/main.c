/*
 * main.c - the hwcfs command: options, the checks that fail a bad mount
 * before it detaches, then the FUSE session loop.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "config.h"
#include "fs.h"
#include "http_backend.h"
#include "log.h"

/* Exit codes: 0 clean unmount, 1 start-up error, 2 usage error. */
#define EXIT_STARTUP 1
#define EXIT_USAGE 2

/* Worker threads: a slow cloud request must not hold up the others. */
#define MAX_THREADS 64
#define IDLE_THREADS 16

enum {
	KEY_RO,
	KEY_ALLOW_OTHER,
	KEY_FOREGROUND,
	KEY_SINGLE,
	KEY_FSNAME,
	KEY_SUBTYPE,
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
    HWC_OPT("config=%s", config_file, 0),
    HWC_OPT("profile=%s", profile, 0),
    HWC_OPT("cache_ttl=%d", cache_ttl, 0),
    HWC_OPT("negative_ttl=%d", negative_ttl, 0),
    HWC_OPT("timeout=%d", timeout, 0),
    HWC_OPT("retries=%d", retries, 0),
    HWC_OPT("auth_hold=%d", auth_hold, 0),
    HWC_OPT("rmdir_cascade", rmdir_cascade, 1),
    HWC_OPT("dry_run", dry_run, 1),
    HWC_OPT("parallel_list", parallel_list, 1),
    HWC_OPT("no_parallel_list", parallel_list, 0),
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
    FUSE_OPT_END,
};

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
	default:
		return 1;
	}
}

static void usage(const char *prog)
{
	printf("usage: %s [options] [PROFILE] MOUNTPOINT\n\n", prog);
	printf(
	    "Mounts a Huawei Cloud project: IoTDA OTA upgrade packages\n"
	    "(firmware, software and module packages) under iotda/packages/,\n"
	    "RFS private providers under rfs/providers/.\n"
	    "PROFILE names a section of the config file (default "
	    "\"default\").\n"
	    "Credentials are never given on the command line: they come from\n"
	    "HUAWEICLOUD_SDK_AK/SK (or _SECURITY_TOKEN), the SDK credentials\n"
	    "file, the config file or a KooCLI profile.\n\n"
	    "hwcfs options (default in brackets):\n"
	    "    -o region=REGION        region id, e.g. cn-north-4; the\n"
	    "                            endpoints not given are derived from\n"
	    "                            it as the SDKs do [profile]\n"
	    "    -o project_id=ID        project id [asked of IAM by region]\n"
	    "    -o iotda_endpoint=URL   IoTDA endpoint, shows iotda/\n"
	    "                            "
	    "[https://iotda.REGION.myhuaweicloud.com"
	    "\n"
	    "                            if the SDKs list the region; an\n"
	    "                            instance's own host is never "
	    "derived]\n"
	    "    -o instance_id=ID       IoTDA Instance-Id header [none]\n"
	    "    -o rfs_endpoint=URL     RFS endpoint, shows rfs/\n"
	    "                            "
	    "[https://rfs.REGION.myhuaweicloud.com\n"
	    "                            if the SDKs list the region]\n"
	    "                            Giving either endpoint mounts only "
	    "the\n"
	    "                            services given.\n"
	    "    -o iam_endpoint=URL     IAM endpoint [$HUAWEICLOUD_SDK_IAM_"
	    "ENDPOINT,\n"
	    "                            else https://iam.REGION.myhuaweicloud."
	    "com,\n"
	    "                            else https://iam.myhuaweicloud.com]\n"
	    "    -o cache_ttl=SECONDS    life of cached listings, 0: no cache "
	    "[30]\n"
	    "    -o negative_ttl=SECONDS life of a confirmed-missing name [5]\n"
	    "    -o timeout=SECONDS      time limit of one operation [10]\n"
	    "    -o retries=N            retries of a failed request [4]\n"
	    "    -o auth_hold=SECONDS    after a 401, send nothing signed for\n"
	    "                            this long, then one probe [300]\n"
	    "    -o cafile=FILE          an extra CA certificate [none]\n"
	    "    -o audit_log=FILE       one line per delete\n"
	    "                            [syslog; stderr with -f]\n"
	    "    -o signing=auto|sdk|v11 IoTDA signing [auto: by host name]\n"
	    "    -o rmdir_cascade        rmdir deletes a provider with its "
	    "versions [off]\n"
	    "    -o dry_run              log deletes, do not send them [off]\n"
	    "    -o ro                   read-only, every change is EROFS "
	    "[off]\n"
	    "    -o parallel_list        IoTDA pages in parallel [on]\n"
	    "    -o no_parallel_list     IoTDA pages one at a time [off]\n"
	    "    -o config=FILE          the config file [$HWCFS_CONFIG, else\n"
	    "                            $XDG_CONFIG_HOME/hwcfs/config, else\n"
	    "                            ~/.config/hwcfs/config]\n"
	    "    -o profile=NAME         its profile [PROFILE, else default]\n"
	    "    -o _netdev,nofail,auto,noauto,user,users,nouser\n"
	    "                            fstab options, accepted and ignored\n"
	    "    -o allow_other          other users may use the mount; turns\n"
	    "                            on default_permissions [off]\n\n"
	    "Refresh: SIGUSR2 drops every cached entry; `setfattr -n\n"
	    "user.hwcfs.refresh -v 1 DIR` drops one directory's listing.\n\n");
	printf("FUSE options:\n");
	fuse_cmdline_help();
	fuse_lowlevel_help();
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

/* Options that would be out of range whatever the profile says. */
static int check_numbers(const struct hwc_config *cfg)
{
	static const struct {
		const char *name;
		size_t off;
	} nums[] = {
	    {"cache_ttl", offsetof(struct hwc_config, cache_ttl)},
	    {"negative_ttl", offsetof(struct hwc_config, negative_ttl)},
	    {"timeout", offsetof(struct hwc_config, timeout)},
	    {"retries", offsetof(struct hwc_config, retries)},
	    {"auth_hold", offsetof(struct hwc_config, auth_hold)},
	};
	size_t i;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		int v = *(const int *)((const char *)cfg + nums[i].off);

		/* -1 is "unset"; anything lower is a mistake. */
		if (v < -1) {
			fprintf(stderr, "hwcfs: %s must not be negative\n",
				nums[i].name);
			return -EINVAL;
		}
	}
	return 0;
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

/* One authenticated request per service, while a terminal still sees. */
static int check_services(const struct hwc_config *cfg, struct backend *b)
{
	static const struct {
		const char *service;
		size_t endpoint;
		enum coll_kind kind;
	} services[] = {
	    {"IoTDA", offsetof(struct hwc_config, iotda_endpoint),
	     COLL_PACKAGES},
	    {"RFS", offsetof(struct hwc_config, rfs_endpoint), COLL_PROVIDERS},
	};
	char err[512];
	size_t i;
	int ret;

	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		const char *endpoint =
		    *(char *const *)((const char *)cfg + services[i].endpoint);

		if (!endpoint || !endpoint[0])
			continue;
		err[0] = '\0';
		ret = b->ops->check(b, services[i].kind, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "hwcfs: cannot use %s at %s: %s\n",
				services[i].service, endpoint,
				err[0] ? err : strerror(-ret));
			return ret;
		}
	}
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
	fuse_loop_cfg_set_clone_fd(lc, 0);
	fuse_loop_cfg_set_max_threads(lc, opts->max_threads > MAX_THREADS
					      ? opts->max_threads
					      : MAX_THREADS);
	fuse_loop_cfg_set_idle_threads(lc, idle);
	ret = fuse_session_loop_mt(se, lc);
	fuse_loop_cfg_destroy(lc);
	return ret;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct fuse_session *se = NULL;
	struct backend *b = NULL, *http = NULL;
	struct cache_opts copts;
	struct cmdline cl;
	struct fs *fs = NULL;
	char err[512], *mnt = NULL;
	bool mounted = false, handlers = false, audit = false;
	int status = EXIT_USAGE, ret;

	memset(&cl, 0, sizeof(cl));
	memset(&opts, 0, sizeof(opts));
	config_init(&cl.cfg);
	/* Before any thread exists, so that only the waiter gets it. */
	fs_block_refresh_signal();

	/* -- parse -- */
	cl.helper = strncmp(prog_name(argv[0]), "mount.", 6) == 0;
	if (fuse_opt_parse(&args, &cl, hwc_opts, opt_proc) == -1)
		goto usage_error;
	if (cl.allow_other &&
	    fuse_opt_add_arg(&args, "-odefault_permissions") == -1)
		goto usage_error;
	if (cl.npos == 2 && !cl.cfg.profile) {
		cl.cfg.profile = cl.pos[0];
		cl.pos[0] = NULL;
	}
	/* Before libfuse names the subtype after argv[0]. */
	if (add_names(&args, &cl))
		goto usage_error;
	if (fuse_parse_cmdline(&args, &opts) != 0)
		goto usage_error;
	if (opts.show_help) {
		usage(argv[0]);
		status = EXIT_SUCCESS;
		goto out;
	}
	if (opts.show_version) {
		printf("hwcfs version %s\n", HWCFS_VERSION);
		printf("FUSE library version %s\n", fuse_pkgversion());
		/* It runs fusermount3, whose line must come after ours. */
		fflush(stdout);
		fuse_lowlevel_version();
		status = EXIT_SUCCESS;
		goto out;
	}
	if (cl.extra) {
		fprintf(stderr, "hwcfs: unexpected argument `%s'\n", cl.extra);
		goto usage_error;
	}
	if (cl.npos == 0) {
		fprintf(stderr, "hwcfs: no mount point given\n");
		goto usage_error;
	}
	if (check_numbers(&cl.cfg))
		goto usage_error;
	/* Unknown options are found here, before any request. */
	if (fs_new(&cl.cfg, &fs)) {
		fprintf(stderr, "hwcfs: out of memory\n");
		status = EXIT_STARTUP;
		goto out;
	}
	se = fuse_session_new(&args, fs_ops(), sizeof(*fs_ops()), fs);
	if (!se)
		goto usage_error;

	/* -- settings and credentials -- */
	status = EXIT_STARTUP;
	/* mount.fuse3 -o drop_privileges passes an open /dev/fuse as this. */
	if (strncmp(cl.pos[cl.npos - 1], "/dev/fd/", 8) == 0)
		mnt = strdup(cl.pos[cl.npos - 1]);
	else
		mnt = realpath(cl.pos[cl.npos - 1], NULL);
	if (!mnt) {
		fprintf(stderr, "hwcfs: bad mount point `%s': %s\n",
			cl.pos[cl.npos - 1], strerror(errno));
		goto out;
	}
	err[0] = '\0';
	ret = config_finish(&cl.cfg, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "hwcfs: %s\n", err[0] ? err : strerror(-ret));
		goto out;
	}
	if (cl.fake) {
		status = EXIT_SUCCESS;
		goto out;
	}
	if (make_absolute(&cl.cfg.cafile, "cafile"))
		goto out;
	log_init(opts.foreground, opts.debug);
	ret = audit_open(cl.cfg.audit_log);
	if (ret) {
		fprintf(stderr, "hwcfs: cannot open audit log %s: %s\n",
			cl.cfg.audit_log, strerror(-ret));
		goto out;
	}
	audit = true;

	/* -- the cloud, checked before the mount -- */
	err[0] = '\0';
	ret = http_backend_new(&cl.cfg, &http, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "hwcfs: %s\n", err[0] ? err : strerror(-ret));
		goto out;
	}
	if (check_services(&cl.cfg, http))
		goto out;
	memset(&copts, 0, sizeof(copts));
	copts.ttl = cl.cfg.cache_ttl;
	copts.negative_ttl = cl.cfg.negative_ttl;
	b = cache_wrap(http, &copts);
	if (!b) {
		fprintf(stderr, "hwcfs: out of memory\n");
		goto out;
	}
	http = NULL; /* the cache owns it */
	fs_set_backend(fs, b);

	/* -- mount, detach, serve -- */
	if (fuse_session_mount(se, mnt) != 0)
		goto out;
	mounted = true;
	if (fuse_daemonize(opts.foreground) != 0)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	handlers = true;
	ret = fs_start(fs, se);
	if (ret) {
		log_err("cannot start helper threads: %s", strerror(-ret));
		goto out;
	}
	log_info("mounted %s", mnt);
	ret = run_loop(se, &opts);
	/* A positive value is the signal that asked us to unmount. */
	status = ret < 0 ? EXIT_STARTUP : EXIT_SUCCESS;
	if (ret < 0)
		log_err("session loop: %s", strerror(-ret));
	goto out;

usage_error:
	fprintf(stderr, "see `%s --help' for usage\n", argv[0]);
	status = EXIT_USAGE;
out:
	if (fs)
		fs_stop(fs);
	if (handlers)
		fuse_remove_signal_handlers(se);
	if (mounted)
		fuse_session_unmount(se);
	if (se)
		fuse_session_destroy(se);
	if (b)
		b->ops->destroy(b);
	if (http)
		http->ops->destroy(http);
	fs_free(fs);
	if (audit)
		audit_close();
	free(mnt);
	free(opts.mountpoint);
	free(cl.pos[0]);
	free(cl.pos[1]);
	config_free(&cl.cfg);
	fuse_opt_free_args(&args);
	return status;
}
