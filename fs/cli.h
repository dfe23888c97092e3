/*
 * cli.h - what the hwcfs command prints for the user besides its errors:
 * the --help text, and the tree a configuration shows (for --check).
 */
#ifndef HWCFS_CLI_H
#define HWCFS_CLI_H

#include <stdio.h>

#include "config.h"

/* The --help text on stdout, libfuse's options after ours. */
void cli_usage(const char *prog);
/* "tree: iotda/packages rfs/providers ...": the directories cfg shows. */
void cli_print_tree(const struct hwc_config *cfg, FILE *out);

#endif
