/*
 * http_backend.h - the backend that talks to IoTDA and RFS over HTTPS.
 */
#ifndef HWCFS_HTTP_BACKEND_H
#define HWCFS_HTTP_BACKEND_H

#include <stddef.h>

#include "backend.h"
#include "config.h"

/*
 * Creates the backend for a finished config (config_finish). With keys and
 * no project_id, the project id is looked up from IAM here. 0 or -errno,
 * with one line in err; -EKEYREJECTED when IAM refused the credentials.
 */
int http_backend_new(const struct hwc_config *cfg, struct backend **out,
		     char *err, size_t errlen);

/* The project id in use: configured, or the one IAM told; may be NULL. */
const char *http_backend_project_id(const struct backend *b);

struct guard;
/*
 * The delete guards the backend enforces (common/guard.h), made from the
 * config; the filesystem resets their max_deletes budget on the owner's
 * setfattr. Lives as long as the backend.
 */
struct guard *http_backend_guard(struct backend *b);

#endif
