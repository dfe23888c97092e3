/*
 * test_endpoint.c - the one endpoint rule (common/endpoint.c): the
 * settings refuse exactly what the HTTP client would, so an endpoint that
 * passes config_finish is one http_endpoint_init takes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "endpoint.h"
#include "http.h"
#include "test.h"

#define ERRLEN 512

struct endpoint_case {
	const char *url;
	int ret;
	const char *err; /* a part of the message, or the Host on success */
};

static const struct endpoint_case cases[] = {
    {"https://iotda.example.com", 0, "iotda.example.com"},
    {"https://iotda.example.com/", 0, "iotda.example.com"},
    {"https://iotda.example.com:8443", 0, "iotda.example.com:8443"},
    {"http://127.0.0.1:8080", 0, "127.0.0.1:8080"},
    {"http://[::1]:99", 0, "[::1]:99"},
    {"https://h.example.com/v5", -EINVAL, "scheme://host[:port] only"},
    {"https://h.example.com/?a=b", -EINVAL, "scheme://host[:port] only"},
    {"https://user@h.example.com", -EINVAL, "scheme://host[:port] only"},
    {"https://h.example.com:0", -EINVAL, "scheme://host[:port] only"},
    {"https://h.example.com:65536", -EINVAL, "scheme://host[:port] only"},
    {"https://[::1", -EINVAL, "scheme://host[:port] only"},
    {"http://example.com", -EINVAL, "allowed only for loopback"},
    {"http://127.0.0.1.example.com", -EINVAL, "allowed only for loopback"},
    {"ftp://h.example.com", -EINVAL, "must start with https://"},
    {"https://", -EINVAL, "has no host"},
    {"https://h .example.com", -EINVAL, "space or control character"},
};

static void test_endpoint_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct endpoint_case *c = &cases[i];
		struct http_endpoint ep;
		struct endpoint_url u;
		char err[ERRLEN] = "";

		CHECK_INT(endpoint_parse(c->url, "x", &u, err, sizeof(err)),
			  c->ret);
		if (c->ret == 0)
			CHECK_STR(u.host, c->err);
		else
			CHECK(strstr(err, c->err) != NULL);
		endpoint_url_clear(&u);
		/* The HTTP client says the same of every case. */
		CHECK_INT(
		    http_endpoint_init(&ep, c->url, "x", err, sizeof(err)),
		    c->ret);
		if (c->ret == 0)
			CHECK_STR(ep.host, c->err);
		http_endpoint_clear(&ep);
	}
}

/* config.c once took https://h/v5, which the client then refused. */
static void test_config_refuses_what_the_client_would(void)
{
	char home[] = "/tmp/hwcfs-test-endpoint-XXXXXX";
	struct hwc_config cfg;
	char err[ERRLEN] = "";

	test_home_with_keys(home, "ENDPOINTTESTAK000001",
			    "endpoint-test-secret/00000000000001");
	config_init(&cfg);
	cfg.iotda_endpoint = strdup("https://h.example.com/v5");
	CHECK_INT(config_finish(&cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "iotda_endpoint") != NULL);
	CHECK(strstr(err, "scheme://host[:port] only") != NULL);
	config_free(&cfg);

	config_init(&cfg);
	cfg.rfs_endpoint = strdup("http://rfs.example.com");
	CHECK_INT(config_finish(&cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "allowed only for loopback") != NULL);
	config_free(&cfg);

	/* Trailing slashes are dropped before the rule applies. */
	config_init(&cfg);
	cfg.rfs_endpoint = strdup("https://rfs.example.com///");
	cfg.project_id = strdup("p1");
	CHECK_INT(config_finish(&cfg, err, sizeof(err)), 0);
	CHECK_STR(cfg.rfs_endpoint, "https://rfs.example.com");
	config_free(&cfg);
	rmdir(home);
}

int main(void)
{
	test_endpoint_cases();
	test_config_refuses_what_the_client_would();
	return test_summary();
}
