/* test_connect_to.c - HWCFS_TEST_CONNECT_TO: loopback targets only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "connect_to.h"
#include "test.h"

#define ERRLEN 512

struct parse_case {
	const char *spec;
	int ret;
	int entries;	     /* with ret 0 */
	const char *err_has; /* with ret != 0 */
};

static const struct parse_case parse_cases[] = {
    {"iotda.cn-north-4.myhuaweicloud.com:443:127.0.0.1:40001", 0, 1, NULL},
    {"a.example:443:127.0.0.1:1,b.example:443:127.9.8.7:65535", 0, 2, NULL},
    {"a.example:443:[::1]:8443", 0, 1, NULL},
    {"[::1]:443:127.0.0.1:8443", 0, 1, NULL},
    /* a target off the loopback is refused, never followed */
    {"a.example:443:10.0.0.1:443", -EINVAL, 0, "10.0.0.1 is not a loopback"},
    {"a.example:443:localhost:443", -EINVAL, 0, "not a loopback"},
    {"a.example:443:[2001:db8::1]:443", -EINVAL, 0, "not a loopback"},
    {"a.example:443:127.0.0.1:1,b.example:443:192.168.1.1:1", -EINVAL, 0,
     "192.168.1.1"},
    /* every field is needed, and nothing more */
    {"a.example:443:127.0.0.1", -EINVAL, 0, "HOST:PORT:ADDRESS:PORT"},
    {"a.example:443:127.0.0.1:", -EINVAL, 0, "HOST:PORT:ADDRESS:PORT"},
    {"a.example:443:127.0.0.1:80:", -EINVAL, 0, "HOST:PORT:ADDRESS:PORT"},
    {"a.example:443:127.0.0.1:80:90", -EINVAL, 0, "HOST:PORT:ADDRESS:PORT"},
    {":443:127.0.0.1:80", -EINVAL, 0, "HOST:PORT:ADDRESS:PORT"},
    {"a.example::127.0.0.1:80", -EINVAL, 0, "HOST:PORT:ADDRESS:PORT"},
    {"a.example:443:127.0.0.1:65536", -EINVAL, 0, "HOST:PORT:ADDRESS:PORT"},
    {"a.example:443:127.0.0.1:0", -EINVAL, 0, "HOST:PORT:ADDRESS:PORT"},
    {"a.example:4x3:127.0.0.1:80", -EINVAL, 0, "HOST:PORT:ADDRESS:PORT"},
    {"a.example:443:[::1:80", -EINVAL, 0, "HOST:PORT:ADDRESS:PORT"},
    {"a.example:443:127.0.0.1:80,", -EINVAL, 0, "HOST:PORT:ADDRESS:PORT"},
    {"", -EINVAL, 0, "HOST:PORT:ADDRESS:PORT"},
};

static void test_parse_cases(void)
{
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	     i++) {
		const struct parse_case *c = &parse_cases[i];
		struct curl_slist *list = (struct curl_slist *)1, *p;
		char err[ERRLEN] = "";
		int ret = connect_to_parse(c->spec, &list, err, sizeof(err));
		int n = 0;

		if (ret != c->ret)
			fprintf(stderr, "case: \"%s\": %s\n", c->spec, err);
		CHECK_INT(ret, c->ret);
		for (p = ret ? NULL : list; p; p = p->next)
			n++;
		if (ret) {
			CHECK(list == NULL);
			CHECK(strstr(err, c->err_has) != NULL);
			CHECK(strstr(err, CONNECT_TO_ENV) != NULL);
		} else {
			CHECK_INT(n, c->entries);
		}
		curl_slist_free_all(ret ? NULL : list);
	}
}

static void test_entries_go_to_curl_as_given(void)
{
	struct curl_slist *list;
	char err[ERRLEN];

	CHECK_INT(connect_to_parse("a.example:443:127.0.0.1:1,"
				   "b.example:443:[::1]:2",
				   &list, err, sizeof(err)),
		  0);
	CHECK_STR(list->data, "a.example:443:127.0.0.1:1");
	CHECK_STR(list->next->data, "b.example:443:[::1]:2");
	curl_slist_free_all(list);
}

static void test_from_env(void)
{
	struct curl_slist *list = (struct curl_slist *)1;
	char err[ERRLEN];

	unsetenv(CONNECT_TO_ENV);
	CHECK_INT(connect_to_from_env(&list, err, sizeof(err)), 0);
	CHECK(list == NULL);
	setenv(CONNECT_TO_ENV, "a.example:443:8.8.8.8:443", 1);
	CHECK_INT(connect_to_from_env(&list, err, sizeof(err)), -EINVAL);
	CHECK(list == NULL);
	setenv(CONNECT_TO_ENV, "a.example:443:127.0.0.1:443", 1);
	CHECK_INT(connect_to_from_env(&list, err, sizeof(err)), 0);
	CHECK(list != NULL);
	curl_slist_free_all(list);
	unsetenv(CONNECT_TO_ENV);
}

int main(void)
{
	test_parse_cases();
	test_entries_go_to_curl_as_given();
	test_from_env();
	return test_summary();
}
