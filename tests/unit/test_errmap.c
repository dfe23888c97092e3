/*
 * test_errmap.c - the error table of docs/backend.md, "Errors", row by row,
 * and the error-body parser (docs/cloud-api.md, "Error bodies and codes").
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "errmap.h"
#include "test.h"

static int map(long status, const char *code, enum errmap_op op, bool *retry)
{
	return errmap_status(status, code, op, false, retry);
}

static void test_2xx_is_success(void)
{
	bool retry = true;

	CHECK_INT(map(200, "", ERRMAP_READ, &retry), 0);
	CHECK(!retry);
	CHECK_INT(map(204, "", ERRMAP_DELETE, &retry), 0);
	CHECK_INT(map(201, "", ERRMAP_READ, &retry), 0);
}

static void test_404_is_enoent(void)
{
	bool retry = true;

	CHECK_INT(map(404, "IOTDA.EMU404", ERRMAP_READ, &retry), -ENOENT);
	CHECK(!retry);
	CHECK_INT(map(404, "", ERRMAP_DELETE, &retry), -ENOENT);
	CHECK_INT(map(404, "", ERRMAP_PROVIDER_ID, &retry), -ENOENT);
}

static void test_delete_404_after_lost_answer_is_done(void)
{
	bool retry = true;

	CHECK_INT(errmap_status(404, "", ERRMAP_DELETE, true, &retry), 0);
	CHECK(!retry);
	CHECK_INT(errmap_status(404, "", ERRMAP_PROVIDER_ID, true, &retry), 0);
	/* A read that gets 404 after a lost answer is still missing. */
	CHECK_INT(errmap_status(404, "", ERRMAP_READ, true, &retry), -ENOENT);
}

static void test_403_throttling_is_treated_as_429(void)
{
	bool retry = false;

	CHECK_INT(map(403, "IOTDA.021101", ERRMAP_READ, &retry), -EAGAIN);
	CHECK(retry);
	retry = false;
	CHECK_INT(map(403, "IOTDA.021102", ERRMAP_DELETE, &retry), -EAGAIN);
	CHECK(retry);
	CHECK(errmap_is_throttle(403, "IOTDA.021101"));
	CHECK(!errmap_is_throttle(403, "IOTDA.000004"));
}

static void test_other_403_is_eacces(void)
{
	bool retry = true;

	CHECK_INT(map(403, "IOTDA.000004", ERRMAP_READ, &retry), -EACCES);
	CHECK(!retry);
	CHECK_INT(map(403, "", ERRMAP_DELETE, &retry), -EACCES);
	CHECK(!retry);
}

static void test_401_is_eacces_and_never_retried(void)
{
	bool retry = true;

	CHECK_INT(map(401, "APIGW.0301", ERRMAP_READ, &retry), -EACCES);
	CHECK(!retry);
	retry = true;
	CHECK_INT(map(401, "IOTDA.000002", ERRMAP_DELETE, &retry), -EACCES);
	CHECK(!retry);
}

/* Which refusals are of the credentials (exit 77) and which are not. */
static void test_auth_failures_are_told_from_permissions(void)
{
	static const struct {
		long status;
		const char *code;
		bool auth;
	} cases[] = {
	    {401, "APIGW.0301", true},
	    {401, "APIGW.0303", true},
	    {401, "IOTDA.000002", true},
	    {401, "", true},
	    {401, NULL, true},
	    {403, "APIGW.0301", true},
	    {403, "APIG.0301", true},
	    {403, "IOTDA.000004", true},
	    {403, "APIGW.0302", false},
	    {403, "IOTDA.000021", false},
	    {403, "IOTDA.021101", false},
	    {403, "RF.EMU403", false},
	    {403, "", false},
	    {429, "APIGW.0308", false},
	    {400, "APIGW.0301", false},
	    {404, "", false},
	    {500, "", false},
	    {200, "", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (errmap_is_auth_failure(cases[i].status, cases[i].code) !=
		    cases[i].auth)
			fprintf(stderr, "case %zu: %ld %s\n", i,
				cases[i].status,
				cases[i].code ? cases[i].code : "(null)");
		CHECK(errmap_is_auth_failure(cases[i].status, cases[i].code) ==
		      cases[i].auth);
	}
}

static void test_400_on_provider_id_request_is_estale(void)
{
	bool retry = true;

	CHECK_INT(map(400, "RF.10011001", ERRMAP_PROVIDER_ID, &retry), -ESTALE);
	CHECK(!retry);
}

static void test_other_400_is_einval(void)
{
	bool retry = true;

	CHECK_INT(map(400, "IOTDA.000006", ERRMAP_READ, &retry), -EINVAL);
	CHECK(!retry);
	CHECK_INT(map(400, "", ERRMAP_DELETE, &retry), -EINVAL);
}

static void test_409_is_ebusy(void)
{
	bool retry = true;

	CHECK_INT(map(409, "RF.10010409", ERRMAP_DELETE, &retry), -EBUSY);
	CHECK(!retry);
}

static void test_429_is_retried_then_eagain(void)
{
	bool retry = false;

	CHECK_INT(map(429, "RF.10010429", ERRMAP_READ, &retry), -EAGAIN);
	CHECK(retry);
	retry = false;
	/* The gateway's throttling code, on any status. */
	CHECK_INT(map(429, "APIGW.0308", ERRMAP_DELETE, &retry), -EAGAIN);
	CHECK(retry);
	retry = false;
	CHECK_INT(map(403, "APIGW.0308", ERRMAP_READ, &retry), -EAGAIN);
	CHECK(retry);
}

static void test_5xx_is_retried_then_eio(void)
{
	static const long codes[] = {500, 502, 503, 504, 599};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		bool retry = false;

		CHECK_INT(map(codes[i], "", ERRMAP_READ, &retry), -EIO);
		CHECK(retry);
	}
}

static void test_unknown_statuses_are_eio(void)
{
	bool retry = true;

	CHECK_INT(map(302, "", ERRMAP_READ, &retry), -EIO);
	CHECK(!retry);
	CHECK_INT(map(405, "", ERRMAP_READ, &retry), -EIO);
	CHECK(!retry);
}

static void test_transport_errors(void)
{
	bool retry = true;

	CHECK_INT(errmap_transport(ERRMAP_T_TIMEOUT, &retry), -ETIMEDOUT);
	CHECK(!retry);
	CHECK_INT(errmap_transport(ERRMAP_T_CONNECT_TIMEOUT, &retry),
		  -ETIMEDOUT);
	CHECK(retry);
	retry = false;
	CHECK_INT(errmap_transport(ERRMAP_T_REFUSED, &retry), -ECONNREFUSED);
	CHECK(retry);
	CHECK_INT(errmap_transport(ERRMAP_T_DROPPED, &retry), -EIO);
	CHECK(retry);
	CHECK_INT(errmap_transport(ERRMAP_T_TLS, &retry), -EIO);
	CHECK(!retry);
	CHECK_INT(errmap_transport(ERRMAP_T_TOO_BIG, &retry), -EIO);
	CHECK(!retry);
	CHECK_INT(errmap_malformed(), -EIO);
}

static void parse(const char *body, char *code, char *msg)
{
	errmap_parse_body(body, strlen(body), code, 32, msg, 64);
}

static void test_parse_error_code_pair(void)
{
	char code[32], msg[64];

	parse("{\"error_code\":\"IOTDA.000006\",\"error_msg\":\"Invalid input "
	      "data.\"}",
	      code, msg);
	CHECK_STR(code, "IOTDA.000006");
	CHECK_STR(msg, "Invalid input data.");
}

static void test_parse_camel_case_pair(void)
{
	char code[32], msg[64];

	parse("{\"errorCode\":\"X.1\",\"errorMsg\":\"camel\"}", code, msg);
	CHECK_STR(code, "X.1");
	CHECK_STR(msg, "camel");
}

static void test_parse_code_message_pair(void)
{
	char code[32], msg[64];

	parse("{\"code\":\"Y.2\",\"message\":\"plain\"}", code, msg);
	CHECK_STR(code, "Y.2");
	CHECK_STR(msg, "plain");
}

static void test_parse_prefers_error_code_over_code(void)
{
	char code[32], msg[64];

	parse("{\"code\":\"B\",\"message\":\"b\",\"error_code\":\"A\","
	      "\"error_msg\":\"a\"}",
	      code, msg);
	CHECK_STR(code, "A");
	CHECK_STR(msg, "a");
}

static void test_parse_nested(void)
{
	char code[32], msg[64];

	parse("{\"error\":{\"code\":\"401\",\"message\":\"token expired\","
	      "\"title\":\"Unauthorized\"}}",
	      code, msg);
	CHECK_STR(code, "401");
	CHECK_STR(msg, "token expired");
}

static void test_parse_raw_body_is_message(void)
{
	char code[32], msg[64];

	parse("<html>Bad Gateway</html>", code, msg);
	CHECK_STR(code, "");
	CHECK_STR(msg, "<html>Bad Gateway</html>");
	parse("line1\nline2", code, msg);
	CHECK_STR(msg, "line1?line2");
}

static void test_parse_truncates_and_cleans(void)
{
	static const char body[] = "{\"error_code\":\"ABCDEFGHIJ\","
				   "\"error_msg\":\"a\\nbcdefghij\"}";
	char code[8], msg[8];

	errmap_parse_body(body, strlen(body), code, sizeof(code), msg,
			  sizeof(msg));
	CHECK_STR(code, "ABCDEFG");
	CHECK_STR(msg, "a?bcdef");
	errmap_parse_body(NULL, 0, code, sizeof(code), msg, sizeof(msg));
	CHECK_STR(code, "");
	CHECK_STR(msg, "");
}

int main(void)
{
	test_2xx_is_success();
	test_404_is_enoent();
	test_delete_404_after_lost_answer_is_done();
	test_403_throttling_is_treated_as_429();
	test_other_403_is_eacces();
	test_401_is_eacces_and_never_retried();
	test_auth_failures_are_told_from_permissions();
	test_400_on_provider_id_request_is_estale();
	test_other_400_is_einval();
	test_409_is_ebusy();
	test_429_is_retried_then_eagain();
	test_5xx_is_retried_then_eio();
	test_unknown_statuses_are_eio();
	test_transport_errors();
	test_parse_error_code_pair();
	test_parse_camel_case_pair();
	test_parse_code_message_pair();
	test_parse_prefers_error_code_over_code();
	test_parse_nested();
	test_parse_raw_body_is_message();
	test_parse_truncates_and_cleans();
	return test_summary();
}
