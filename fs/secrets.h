/*
 * secrets.h - credentials on the command line, refused (secrets.c).
 */
#ifndef HWCFS_SECRETS_H
#define HWCFS_SECRETS_H

#include <stdbool.h>

/*
 * Whether an -o option of argv names a credential; if so a line on stderr
 * says which option (never its value).
 */
bool secret_on_command_line(int argc, char *argv[]);

#endif
