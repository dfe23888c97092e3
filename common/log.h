/*
 * log.h - one logging path for every layer: stderr in the foreground,
 * syslog (identifier "hwcfs") in the background. Nothing secret is ever
 * passed here; callers log ids, paths and codes, never keys or tokens.
 */
#ifndef HWCFS_LOG_H
#define HWCFS_LOG_H

#include <stdbool.h>
#include <syslog.h>

void log_init(bool foreground, bool debug);
bool log_debug_enabled(void);
void hwc_log(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) hwc_log(LOG_ERR, __VA_ARGS__)
#define log_warn(...) hwc_log(LOG_WARNING, __VA_ARGS__)
#define log_info(...) hwc_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_debug_enabled())                                       \
			hwc_log(LOG_DEBUG, __VA_ARGS__);                       \
	} while (0)

/*
 * The audit trail: one line per DELETE sent (or, in dry run, not sent).
 * path may be NULL (syslog, or stderr in the foreground).
 */
int audit_open(const char *path);
void audit_delete(const char *resource_path, const char *request_id,
		  const char *outcome);
void audit_close(void);

#endif
