/*
 * test_http.c - endpoints: https anywhere, http only on loopback, nothing
 * but scheme://host[:port]; request UUIDs are version 4 and fresh; names
 * become path segments percent-encoded.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "http.h"
#include "test.h"

static int parse(const char *url, struct http_endpoint *ep, char *err)
{
	return http_endpoint_init(ep, url, "test", err, 256);
}

static void test_https_endpoint_keeps_host_and_port(void)
{
	struct http_endpoint ep;
	char err[256];

	CHECK_INT(parse("https://iotda.cn-north-4.myhuaweicloud.com", &ep, err),
		  0);
	CHECK_STR(ep.base, "https://iotda.cn-north-4.myhuaweicloud.com");
	CHECK_STR(ep.host, "iotda.cn-north-4.myhuaweicloud.com");
	CHECK_STR(ep.hostname, "iotda.cn-north-4.myhuaweicloud.com");
	http_endpoint_clear(&ep);
	CHECK_INT(parse("https://abc.example.com:8443/", &ep, err), 0);
	CHECK_STR(ep.base, "https://abc.example.com:8443");
	CHECK_STR(ep.host, "abc.example.com:8443");
	CHECK_STR(ep.hostname, "abc.example.com");
	http_endpoint_clear(&ep);
}

static void test_http_allowed_on_loopback_only(void)
{
	static const char *const ok[] = {
	    "http://127.0.0.1:8080",
	    "http://127.1.2.3",
	    "http://localhost:1234",
	    "http://[::1]:99",
	};
	static const char *const refused[] = {
	    "http://example.com",	    "http://128.0.0.1",
	    "http://10.0.0.1:80",	    "http://[::2]",
	    "http://127.0.0.1.example.com",
	};
	struct http_endpoint ep;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK_INT(parse(ok[i], &ep, err), 0);
		http_endpoint_clear(&ep);
	}
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CHECK_INT(parse(refused[i], &ep, err), -EINVAL);
		CHECK(strstr(err, "loopback") != NULL);
	}
	CHECK_INT(parse("http://[::1]:99", &ep, err), 0);
	CHECK_STR(ep.hostname, "::1");
	CHECK_STR(ep.host, "[::1]:99");
	http_endpoint_clear(&ep);
}

static void test_endpoint_must_be_scheme_host_port(void)
{
	struct http_endpoint ep;
	char err[256];

	CHECK_INT(parse("https://h.example.com/v5", &ep, err), -EINVAL);
	CHECK_INT(parse("https://h.example.com/?a=b", &ep, err), -EINVAL);
	CHECK_INT(parse("https://user@h.example.com", &ep, err), -EINVAL);
	CHECK_INT(parse("ftp://h.example.com", &ep, err), -EINVAL);
	CHECK(strstr(err, "https") != NULL);
	CHECK_INT(parse("not a url", &ep, err), -EINVAL);
}

static void test_uuid_is_fresh_version_4(void)
{
	char a[37], b[37];
	int i;

	CHECK_INT(http_uuid(a), 0);
	CHECK_INT(http_uuid(b), 0);
	CHECK_INT(strlen(a), 36);
	CHECK(strcmp(a, b) != 0);
	CHECK(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
	CHECK(a[14] == '4');
	CHECK(strchr("89ab", a[19]) != NULL);
	for (i = 0; i < 36; i++)
		if (a[i] != '-')
			CHECK(isxdigit((unsigned char)a[i]) && !isupper(a[i]));
}

static void test_path_segment_encodes_all_but_unreserved(void)
{
	static const struct {
		const char *name, *want;
	} cases[] = {
	    {"1.0.0-beta", "1.0.0-beta"},
	    {"a_b~c", "a_b~c"},
	    {"pkg 100%2F?#+\xc3\xa9;", "pkg%20100%252F%3F%23%2B%C3%A9%3B"},
	    {"a/b", "a%2Fb"},
	    {"..", ".."},
	};
	char buf[HTTP_SEGMENT_MAX], big[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(http_path_segment(cases[i].name, buf, sizeof(buf)),
			  0);
		CHECK_STR(buf, cases[i].want);
	}
	/* the longest name, every byte encoded, still fits */
	memset(big, '%', 255);
	big[255] = '\0';
	CHECK_INT(http_path_segment(big, buf, sizeof(buf)), 0);
	CHECK_INT((long long)strlen(buf), 3 * 255);
	CHECK_INT(http_path_segment("a b", buf, 4), -ENAMETOOLONG);
}

int main(void)
{
	test_https_endpoint_keeps_host_and_port();
	test_http_allowed_on_loopback_only();
	test_endpoint_must_be_scheme_host_port();
	test_uuid_is_fresh_version_4();
	test_path_segment_encodes_all_but_unreserved();
	return test_summary();
}
