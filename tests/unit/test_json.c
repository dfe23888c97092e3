/*
 * test_json.c - the NUL detector of json.c: every NUL (a \u0000 escape or a
 * raw byte) and every byte that is not UTF-8 comes out of json_parse as
 * JSON_TAINT, in values and keys alike, and nothing else does; json_clean
 * finds it, inside or outside the entries.
 */
#include <errno.h>
#include <string.h>

#include "json.h"
#include "test.h"

struct json_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	int ret;
	bool tainted;
	bool clean;	  /* json_clean(root, NULL) */
	const char *key;  /* a member of root, or NULL */
	const char *want; /* its string value, or NULL: no such member */
};

static const struct json_case cases[] = {
    /* the attack: both names would have been "victim3" */
    {"{\"a\":\"victim3\\u0000evil\"}", 0, 0, true, false, "a",
     "victim3\xff"
     "evil"},
    {"{\"a\":\"victim3\"}", 0, 0, false, true, "a", "victim3"},
    /* a key with a NUL is not the key before it */
    {"{\"a\\u0000x\":\"v\"}", 0, 0, true, false, "a", NULL},
    {"{\"a\\u0000x\":\"v\"}", 0, 0, true, false, "a\xffx", "v"},
    /* an escaped backslash, then the text u0000: no NUL */
    {"{\"a\":\"C:\\\\u0000\"}", 0, 0, false, true, "a", "C:\\u0000"},
    /* an escaped backslash, then a NUL */
    {"{\"a\":\"\\\\\\u0000\"}", 0, 0, true, false, "a", "\\\xff"},
    {"{\"a\":\"\\u00000\"}", 0, 0, true, false, "a",
     "\xff"
     "0"},
    {"{\"a\":\"\\\"\\u0000\"}", 0, 0, true, false, "a", "\"\xff"},
    /* other escapes of the same shape are not NUL */
    {"{\"a\":\"\\u0030\\u00e9\\ud83d\\ude00\"}", 0, 0, false, true, "a",
     "0\xc3\xa9\xf0\x9f\x98\x80"},
    /* raw bytes: a NUL inside a string, bytes that are not UTF-8 */
    {"{\"a\":\"x\0y\"}", 11, 0, true, false, "a", "x\xffy"},
    {"{\"a\":\"\xff\"}", 0, 0, true, false, "a", "\xff"},
    {"{\"a\":\"\xc0\x80\"}", 0, 0, true, false, "a", "\xff\xff"},
    {"{\"a\":\"\xed\xa0\x80\"}", 0, 0, true, false, "a", "\xff\xff\xff"},
    {"{\"a\":\"\xf4\x90\x80\x80\"}", 0, 0, true, false, "a",
     "\xff\xff\xff\xff"},
    {"{\"a\":\"\xe2\x82\"}", 0, 0, true, false, "a", "\xff\xff"},
    {"{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}", 0, 0, false, true, "a",
     "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
    /* deep inside: a key three levels down */
    {"{\"a\":{\"b\":[{\"c\\u0000\":1}]}}", 0, 0, true, false, NULL, NULL},
    /* a NUL after the value: nothing read holds it */
    {"{\"a\":\"b\"}\0", 10, 0, true, true, "a", "b"},
    /* not JSON: EIO */
    {"{\"a\":\0\"b\"}", 10, -EIO, true, true, NULL, NULL},
    {"{\"a\":\"\\u000", 0, -EIO, false, true, NULL, NULL},
    {"{\"a\":\"\\U0000\"}", 0, -EIO, false, true, NULL, NULL},
    {"", 0, -EIO, false, true, NULL, NULL},
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct json_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		bool tainted = !c->tainted;
		cJSON *root = NULL;
		int ret = json_parse(c->text, len, &root, &tainted);

		if (ret != c->ret || (!ret && tainted != c->tainted))
			fprintf(stderr, "case %zu\n", i);
		CHECK_INT(ret, c->ret);
		if (ret) {
			CHECK(root == NULL);
			continue;
		}
		CHECK(tainted == c->tainted);
		CHECK(json_clean(root, NULL) == c->clean);
		if (c->key) {
			const cJSON *v =
			    cJSON_GetObjectItemCaseSensitive(root, c->key);

			if (c->want) {
				CHECK(cJSON_IsString(v));
				CHECK_STR(cJSON_GetStringValue(v), c->want);
			} else {
				CHECK(v == NULL);
			}
		}
		cJSON_Delete(root);
	}
}

static void test_null_text_is_eio(void)
{
	cJSON *root = (cJSON *)1;

	CHECK_INT(json_parse(NULL, 3, &root, NULL), -EIO);
	CHECK(root == NULL);
}

/* A list answer: a NUL inside an entry spoils the entry, outside it the
 * whole answer. */
static void test_clean_skips_the_entries(void)
{
	static const char inside[] =
	    "{\"list\":[{\"n\":\"a\\u0000\"}],\"next\":\"m\"}";
	static const char outside[] =
	    "{\"list\":[{\"n\":\"a\"}],\"next\":\"m\\u0000\"}";
	cJSON *root;
	const cJSON *list, *entry;

	CHECK_INT(json_parse(inside, strlen(inside), &root, NULL), 0);
	list = cJSON_GetObjectItemCaseSensitive(root, "list");
	entry = cJSON_GetArrayItem(list, 0);
	CHECK(json_clean(root, list));
	CHECK(!json_clean(root, NULL));
	CHECK(!json_clean(entry, NULL));
	CHECK(!json_str_clean(cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(entry, "n"))));
	cJSON_Delete(root);

	CHECK_INT(json_parse(outside, strlen(outside), &root, NULL), 0);
	list = cJSON_GetObjectItemCaseSensitive(root, "list");
	CHECK(!json_clean(root, list));
	CHECK(json_clean(cJSON_GetArrayItem(list, 0), NULL));
	cJSON_Delete(root);

	CHECK(json_str_clean(NULL));
	CHECK(json_clean(NULL, NULL));
}

int main(void)
{
	test_cases();
	test_null_text_is_eio();
	test_clean_skips_the_entries();
	return test_summary();
}
