/*
 * http_endpoint.c - a service's endpoint, from its URL (the rule is
 * common/endpoint.c, the same the settings were checked with) to what
 * every request of that service needs.
 */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"

void http_endpoint_clear(struct http_endpoint *ep)
{
	free(ep->base);
	free(ep->host);
	free(ep->hostname);
	memset(ep, 0, sizeof(*ep));
}

int http_endpoint_init(struct http_endpoint *ep, const char *url,
		       const char *service, char *err, size_t errlen)
{
	struct endpoint_url u;
	char what[64];
	int ret;

	memset(ep, 0, sizeof(*ep));
	ep->service = service;
	snprintf(what, sizeof(what), "%s endpoint", service);
	ret = endpoint_parse(url, what, &u, err, errlen);
	if (ret)
		return ret;
	ep->host = u.host;
	ep->hostname = u.hostname;
	if (asprintf(&ep->base, "%s://%s", u.https ? "https" : "http",
		     ep->host) < 0) {
		ep->base = NULL;
		http_endpoint_clear(ep);
		snprintf(err, errlen, "%s: out of memory", service);
		return -ENOMEM;
	}
	return 0;
}
