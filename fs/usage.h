/*
 * usage.h - hwcfs --help (usage.c).
 */
#ifndef HWCFS_USAGE_H
#define HWCFS_USAGE_H

/* Prints the help of hwcfs run as prog, libfuse's options included. */
void usage(const char *prog);

#endif
