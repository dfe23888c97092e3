/*
 * cli.c - the --help text (docs/hwcfs.md and docs/hwcfs.1.scd say the
 * same at length) and the tree line of --check.
 */
#include "cli.h"

#include "fs.h"
#include "kind.h"

/* The options of what deletes do, the delete guards among them. */
static void usage_deletes(void)
{
	printf(
	    "    -o rmdir_cascade        rmdir deletes an RFS name with its "
	    "versions\n"
	    "                            [off]\n"
	    "    -o dry_run              log deletes, do not send them [off]\n"
	    "    -o min_age=DURATION     refuse to delete what the cloud "
	    "created\n"
	    "                            less than DURATION ago: a number "
	    "and\n"
	    "                            s, m, h, d or w, e.g. 7d [none]\n"
	    "    -o max_deletes=N        refuse every delete after N deletes "
	    "by\n"
	    "                            this mount (0-1000000000), until its\n"
	    "                            owner runs "
	    "`setfattr\n"
	    "                            -n user.hwcfs.max_deletes -v M "
	    "MOUNTPOINT`\n"
	    "                            (M more from then) [no limit]\n"
	    "    -o protect=PATTERN      never delete a path (relative to the "
	    "mount\n"
	    "                            point) matching PATTERN (fnmatch, "
	    "`*`\n"
	    "                            stops at `/`), nor what is under it;\n"
	    "                            repeatable [none]\n"
	    "                            A refused delete is EPERM and sends "
	    "nothing.\n"
	    "    -o ro                   read-only, every change is EROFS "
	    "[off]\n");
}

/* The options of where the resources are and how they are asked for. */
static void usage_services(void)
{
	printf(
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
	    "    -o timeout=SECONDS      time limit of one request, its "
	    "retries\n"
	    "                            included [10]\n"
	    "    -o retries=N            retries of a failed request [4]\n"
	    "    -o auth_hold=SECONDS    after a 401, send nothing signed for\n"
	    "                            this long, then one probe [300]\n"
	    "    -o readahead=N          during a walk (ls -R, find, rm -r), "
	    "list\n"
	    "                            the next N names' versions in\n"
	    "                            parallel, 0: off (0-64) [16]\n"
	    "    -o cafile=FILE          an extra CA certificate [none]\n"
	    "    -o audit_log=FILE       one line per delete\n"
	    "                            [syslog; stderr with -f]\n"
	    "    -o signing=auto|sdk|v11 IoTDA signing [auto: by host name]\n"
	    "    -o kinds=LIST           the kinds shown, of packages, "
	    "providers,\n"
	    "                            modules, hooks, templates, joined "
	    "by\n"
	    "                            ':' (',' in a profile); narrows the\n"
	    "                            services given [all]\n");
}

/* The options of the mount itself, the refresh and the exit status. */
static void usage_mount(void)
{
	printf(
	    "    -o parallel_list        IoTDA pages in parallel [on]\n"
	    "    -o no_parallel_list     IoTDA pages one at a time [off]\n"
	    "    -o config=FILE          the config file [$HWCFS_CONFIG, else\n"
	    "                            $XDG_CONFIG_HOME/hwcfs/config, else\n"
	    "                            ~/.config/hwcfs/config]\n"
	    "    -o profile=NAME         its profile [PROFILE, else default]\n"
	    "    -o _netdev,nofail,auto,noauto,user,users,nouser,defaults\n"
	    "                            fstab options, accepted and ignored\n"
	    "    -o allow_other          other users may use the mount; turns\n"
	    "                            on default_permissions [off]\n"
	    "    -o default_permissions  the kernel checks the mode bits\n"
	    "                            [on with allow_other]\n"
	    "    -o auto_unmount         unmount when hwcfs ends, even killed "
	    "[off]\n"
	    "    -o fsname=NAME          the source /proc/mounts shows\n"
	    "                            [PROFILE, else hwcfs]\n"
	    "    -o subtype=NAME         the type after fuse. [hwcfs]\n"
	    "    -o max_threads=N        worker threads at most; this, not\n"
	    "                            libfuse's default below [64]\n"
	    "    -o max_idle_threads=N   idle worker threads kept [16]\n"
	    "    -o clone_fd             a /dev/fuse descriptor per worker "
	    "[off]\n\n"
	    "Refresh: SIGUSR2 drops every cached entry; `setfattr -n\n"
	    "user.hwcfs.refresh -v 1 DIR` drops one directory's listing.\n\n"
	    "Exit status: 0 unmounted cleanly (--check: the mount would "
	    "work);\n"
	    "1 could not start (settings, no credentials, a service that does\n"
	    "not answer, a mount point that is not a directory); 2 usage "
	    "error\n"
	    "(unknown option, number out of range, credential on the command\n"
	    "line); 77 the cloud refused the credentials (401): fix them\n"
	    "before trying again, as five failures lock the key.\n\n");
}

void cli_usage(const char *prog)
{
	printf("usage: %s [options] [PROFILE] MOUNTPOINT\n", prog);
	printf("       %s --check [options] [PROFILE]\n\n", prog);
	printf(
	    "Mounts a Huawei Cloud project: IoTDA OTA upgrade packages\n"
	    "(firmware, software and module packages) under iotda/packages/,\n"
	    "RFS private providers, modules, hooks and templates under\n"
	    "rfs/providers/, rfs/modules/, rfs/hooks/ and rfs/templates/,\n"
	    "each NAME/VERSION.\n"
	    "PROFILE names a section of the config file (default "
	    "\"default\").\n"
	    "Credentials are never given on the command line: they come from\n"
	    "HUAWEICLOUD_SDK_AK/SK (or _SECURITY_TOKEN), the SDK credentials\n"
	    "file, the config file or a KooCLI profile.\n\n"
	    "    --check                 mount nothing: print each setting "
	    "and\n"
	    "                            where it came from (never a secret),\n"
	    "                            and try one request per service (at\n"
	    "                            most 3 with IAM); exit as the mount\n"
	    "                            would\n\n"
	    "hwcfs options (default in brackets):\n");
	usage_services();
	usage_deletes();
	usage_mount();
	printf("FUSE options:\n");
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

void cli_print_tree(const struct hwc_config *cfg, FILE *out)
{
	fprintf(out, "tree:");
	for (size_t i = 0; i < kind_count; i++)
		if (!kind_table[i].parent && kind_shown(&kind_table[i], cfg))
			fprintf(out, " %s/%s", kind_table[i].service->dir,
				kind_table[i].name);
	fprintf(out, "\n");
}
