/*
 * log.c - stderr or syslog logging, and the audit trail of deletes.
 */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static bool log_foreground = true;
static bool log_debug_on;
static FILE *audit_file;
static pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;

void log_init(bool foreground, bool debug)
{
	log_foreground = foreground;
	log_debug_on = debug;
	if (!foreground)
		openlog("hwcfs", LOG_PID, LOG_DAEMON);
}

bool log_debug_enabled(void)
{
	return log_debug_on;
}

/*
 * in with every control byte as \xHH: a name from the server may hold a
 * newline, which would otherwise forge a log or audit line. With words,
 * ' ' and '\\' too: an audit line's path is one word, and a name with
 * " outcome=deleted" in it must not read as a field.
 */
static void log_escape(const char *in, char *out, size_t len, bool words)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	for (; *s; s++) {
		bool ctl = *s < 0x20 || *s == 0x7f ||
			   (words && (*s == ' ' || *s == '\\'));

		if (o + (ctl ? 4 : 1) >= len)
			break;
		if (ctl)
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", *s);
		else
			out[o++] = (char)*s;
	}
	out[o] = '\0';
}

void hwc_log(int prio, const char *fmt, ...)
{
	char line[2048], shown[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_escape(line, shown, sizeof(shown), false);
	if (log_foreground)
		fprintf(stderr, "hwcfs: %s\n", shown);
	else
		syslog(prio, "%s", shown);
}

int audit_open(const char *path)
{
	if (!path)
		return 0;
	audit_file = fopen(path, "ae");
	if (!audit_file)
		return -errno;
	setvbuf(audit_file, NULL, _IOLBF, 0);
	return 0;
}

void audit_delete(const char *resource_path, const char *request_id,
		  const char *outcome)
{
	char when[32], path[2400]; /* every byte of two names may be \xHH */
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	log_escape(resource_path, path, sizeof(path), true);
	pthread_mutex_lock(&audit_lock);
	if (audit_file)
		fprintf(audit_file, "%s delete %s request_id=%s outcome=%s\n",
			when, path, request_id ? request_id : "-", outcome);
	else
		hwc_log(LOG_NOTICE,
			"audit: %s delete %s request_id=%s "
			"outcome=%s",
			when, path, request_id ? request_id : "-", outcome);
	pthread_mutex_unlock(&audit_lock);
}

void audit_close(void)
{
	if (audit_file)
		fclose(audit_file);
	audit_file = NULL;
}
