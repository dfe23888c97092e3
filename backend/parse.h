/*
 * parse.h - parsers of untrusted text that are otherwise private to their
 * service file, exposed so the fuzz targets of tests/fuzz can drive them
 * directly. Internal to backend/.
 */
#ifndef HWCFS_PARSE_H
#define HWCFS_PARSE_H

#include <time.h>

/* IoTDA create_time, yyyyMMdd'T'HHmmss'Z' (UTC); 0 when absent or bad. */
time_t iotda_parse_time(const char *s);
/* RFS times, YYYY-MM-DDTHH:mm:ss[.SSS]Z (UTC); 0 when absent or bad. */
time_t rfs_parse_time(const char *s);

#endif
