/*
 * secrets.c - the command line is refused when an option looks like a
 * credential (docs/hwcfs.md, CREDENTIALS in hwcfs(1)): ps shows it to every
 * user, and libfuse's "unknown option" message would print it.
 */
#include "secrets.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

/*
 * Whether an option's name looks like a credential: "sk", "AK",
 * "Password", "iam_password", "security_token", "secret_key", ...
 */
static bool secret_name(const char *name, size_t len)
{
	static const char *const parts[] = {
	    "password", "passwd", "secret", "token", "access_key", "accesskey"};
	char low[64];
	size_t i;

	if (len >= sizeof(low))
		len = sizeof(low) - 1;
	for (i = 0; i < len; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[len] = '\0';
	if (config_key_is_secret(low))
		return true;
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (strstr(low, parts[i]))
			return true;
	/* HUAWEICLOUD_SDK_SK and the like */
	return len > 3 && (strcmp(low + len - 3, "_ak") == 0 ||
			   strcmp(low + len - 3, "_sk") == 0);
}

/* One -o argument: "a=1,sk=...,b" (a ',' escaped as "\,"). */
static bool secret_in_options(const char *opts)
{
	const char *p = opts, *start = opts, *eq = NULL;
	int n;

	for (;; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '=' && !eq)
			eq = p;
		if (*p != ',' && *p != '\0')
			continue;
		n = (int)((eq ? eq : p) - start); /* the name, never a value */
		if (secret_name(start, (size_t)n)) {
			fprintf(stderr,
				"hwcfs: -o %.*s: credentials are never taken "
				"from the command line, where ps shows them "
				"to every user; see CREDENTIALS in hwcfs(1)\n",
				n > 40 ? 40 : n, start);
			return true;
		}
		if (*p == '\0')
			return false;
		start = p + 1;
		eq = NULL;
	}
}

/*
 * Refuses a credential given as -o NAME=VALUE before libfuse sees it:
 * libfuse's "unknown option" message would print the value.
 */
bool secret_on_command_line(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			if (secret_in_options(argv[++i]))
				return true;
		} else if (strncmp(argv[i], "-o", 2) == 0 &&
			   secret_in_options(argv[i] + 2)) {
			return true;
		}
	}
	return false;
}
