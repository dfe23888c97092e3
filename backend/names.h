/*
 * names.h - which names can be cloud identifiers. A name that cannot be
 * one is answered ENOENT (or ENAMETOOLONG) with no request at all.
 */
#ifndef HWCFS_NAMES_H
#define HWCFS_NAMES_H

#include <stdbool.h>

#include "backend.h"

/* The longest name the filesystem takes (statfs f_namemax). */
#define NAME_MAX_BYTES 255

/*
 * package_id: 1-36 of [A-Za-z0-9-]. provider_name: 1-64 of [a-z0-9-],
 * starting and ending with [a-z0-9]. provider_version: 5-128 chars,
 * MAJOR.MINOR.PATCH, decimal without leading zeros, each fitting uint64.
 */
bool name_valid(enum coll_kind kind, const char *name);

#endif
