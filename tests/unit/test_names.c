/*
 * test_names.c - which names may become cloud requests, and which never;
 * which listed names are shown; how names are written in logs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "names.h"
#include "test.h"

#define BAD_NAMES "tests/data/bad_names.txt"

static const char *const kind_names[] = {"package", "provider", "version"};
static const struct kind *const kinds[] = {KIND_PACKAGES, KIND_PROVIDERS,
					   KIND_VERSIONS};

/*
 * The shared list lives in the source tree. Builds sit inside it, so look
 * beside this source file first (__FILE__ is relative to the build
 * directory), then upwards from the test program.
 */
static FILE *open_bad_names(void)
{
	const char *root = getenv("HWCFS_SOURCE_ROOT");
	char path[4096];
	const char *slash;
	ssize_t n;
	FILE *f;

	if (root) {
		snprintf(path, sizeof(path), "%s/%s", root, BAD_NAMES);
		return fopen(path, "r");
	}
	slash = strrchr(__FILE__, '/');
	if (slash) {
		snprintf(path, sizeof(path), "%.*s/../data/bad_names.txt",
			 (int)(slash - __FILE__), __FILE__);
		f = fopen(path, "r");
		if (f)
			return f;
	}
	/* upwards from the test program itself, wherever it is run from */
	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n <= 0)
		return NULL;
	path[n] = '\0';
	while ((slash = strrchr(path, '/')) != NULL) {
		size_t len = (size_t)(slash - path);

		if (len + sizeof("/" BAD_NAMES) > sizeof(path))
			return NULL;
		memcpy(path + len, "/" BAD_NAMES, sizeof("/" BAD_NAMES));
		f = fopen(path, "r");
		if (f)
			return f;
		path[len] = '\0';
	}
	return NULL;
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the file's \xHH and \\ escapes in place; -EINVAL if malformed. */
static int unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r != '\\') {
			*w++ = *r;
			continue;
		}
		if (r[1] == '\\') {
			*w++ = '\\';
			r++;
		} else if (r[1] == 'x' && unhex(r[2]) >= 0 &&
			   unhex(r[3]) >= 0) {
			int v = unhex(r[2]) << 4 | unhex(r[3]);

			if (v == 0)
				return -EINVAL; /* a C string cannot hold it */
			*w++ = (char)v;
			r += 3;
		} else {
			return -EINVAL;
		}
	}
	*w = '\0';
	return 0;
}

/* Bit i set when kinds[i] is listed as a kind the name is invalid for. */
static int parse_kinds(const char *field)
{
	char buf[64], *save = NULL;
	int mask = 0;

	if (strcmp(field, "all") == 0)
		return 7;
	if (strlen(field) >= sizeof(buf))
		return -1;
	strcpy(buf, field);
	for (char *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		int found = -1;

		for (int i = 0; i < 3; i++)
			if (strcmp(t, kind_names[i]) == 0)
				found = i;
		if (found < 0)
			return -1;
		mask |= 1 << found;
	}
	return mask;
}

/*
 * Every listed name is refused for exactly the kinds the file names, and
 * accepted for the others (so the list also proves no kind is too strict).
 */
static void test_bad_names_file_rejected_for_listed_kinds(void)
{
	FILE *f = open_bad_names();
	char line[1024];
	int lineno = 0, names = 0, per_kind[3] = {0, 0, 0};

	CHECK(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		char *sp, *name;
		int mask;

		lineno++;
		CHECK(n > 0 && line[n - 1] == '\n'); /* no line too long */
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		sp = strchr(line, ' ');
		name = sp ? sp + 1 : line + n;
		if (sp)
			*sp = '\0';
		mask = parse_kinds(line);
		if (mask <= 0 || unescape(name) != 0) {
			fprintf(stderr, "bad_names.txt:%d: malformed\n",
				lineno);
			CHECK(0);
			continue;
		}
		names++;
		for (int i = 0; i < 3; i++) {
			bool want_valid = !(mask & (1 << i));

			if (!want_valid)
				per_kind[i]++;
			if (name_valid(kinds[i], name) != want_valid) {
				fprintf(stderr, "bad_names.txt:%d: %s %s\n",
					lineno, kind_names[i],
					want_valid ? "refused" : "accepted");
				CHECK(0);
			} else {
				CHECK(1);
			}
		}
	}
	fclose(f);
	CHECK(names >= 100);
	CHECK(per_kind[0] >= 50 && per_kind[1] >= 50 && per_kind[2] >= 50);
}

static void test_null_is_invalid(void)
{
	for (int i = 0; i < 3; i++)
		CHECK(!name_valid(kinds[i], NULL));
}

static void test_good_package_ids(void)
{
	static const char *const good[] = {
	    "5ed8d76e7a5d3d02bf4a9c7f",
	    "a",
	    "Z",
	    "0",
	    "-",
	    "A-b-9",
	    "123e4567-e89b-12d3-a456-426614174000", /* 36 */
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(name_valid(KIND_PACKAGES, good[i]));
}

static void test_good_provider_names(void)
{
	static const char *const good[] = {
	    "a",
	    "0",
	    "ab",
	    "a-b",
	    "a--b",
	    "my-hello-world-provider",
	    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq",
	    "a012345678901234567890123456789012345678901234567890123456789-yz",
	};

	CHECK_INT(strlen(good[6]), 63);
	CHECK_INT(strlen(good[7]), 64);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(name_valid(KIND_PROVIDERS, good[i]));
}

static void test_good_versions(void)
{
	static const char *const good[] = {
	    "0.0.0",
	    "1.0.0",
	    "1.2.3",
	    "10.20.30",
	    "18446744073709551615.0.0",
	    "0.18446744073709551615.0",
	    "18446744073709551615.18446744073709551615.18446744073709551615",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(name_valid(KIND_VERSIONS, good[i]));
}

static void test_version_limits(void)
{
	CHECK(!name_valid(KIND_VERSIONS, "1.0"));    /* 3 chars */
	CHECK(!name_valid(KIND_VERSIONS, "1.0.1.")); /* trailing dot */
	CHECK(!name_valid(KIND_VERSIONS, "18446744073709551616.0.0"));
	CHECK(!name_valid(KIND_VERSIONS, "18446744073709551620.0.0"));
	CHECK(!name_valid(KIND_VERSIONS, "0.0.00"));
}

static void test_length_edges(void)
{
	char buf[300];

	memset(buf, 'a', sizeof(buf));
	buf[36] = '\0';
	CHECK(name_valid(KIND_PACKAGES, buf));
	buf[36] = 'a';
	buf[37] = '\0';
	CHECK(!name_valid(KIND_PACKAGES, buf));
	buf[37] = 'a';
	buf[64] = '\0';
	CHECK(name_valid(KIND_PROVIDERS, buf));
	buf[64] = 'a';
	buf[65] = '\0';
	CHECK(!name_valid(KIND_PROVIDERS, buf));
	buf[65] = 'a';
	buf[NAME_MAX_BYTES + 1] = '\0';
	for (int i = 0; i < 3; i++)
		CHECK(!name_valid(kinds[i], buf));
}

static void test_unknown_kind_is_invalid(void)
{
	CHECK(!name_valid(NULL, "abc"));
}

/* What a listed name must be to be shown, whatever its kind's pattern. */
static void test_safe_names(void)
{
	static const struct {
		const char *name;
		enum name_unsafe want;
	} cases[] = {
	    {"1.0.0-beta", NAME_SAFE}, {"pkg 100%?#+\xc3\xa9", NAME_SAFE},
	    {"...", NAME_SAFE},	       {".hidden", NAME_SAFE},
	    {"new\nline", NAME_SAFE}, /* shown; logs escape it */
	    {"", NAME_EMPTY},	       {NULL, NAME_EMPTY},
	    {".", NAME_DOT},	       {"..", NAME_DOT},
	    {"a/b", NAME_SLASH},       {"/", NAME_SLASH},
	};
	char buf[NAME_MAX_BYTES + 2];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_INT(name_check_safe(cases[i].name), cases[i].want);
	memset(buf, 'x', sizeof(buf));
	buf[NAME_MAX_BYTES] = '\0';
	CHECK(name_safe(buf));
	buf[NAME_MAX_BYTES] = 'x';
	buf[NAME_MAX_BYTES + 1] = '\0';
	CHECK_INT(name_check_safe(buf), NAME_TOO_LONG);
	CHECK_STR(name_unsafe_reason(NAME_SLASH), "holds a '/'");
}

/* module_name: CJK ideographs or letters first, 1-128 characters. */
static void test_module_names(void)
{
	static const struct {
		const char *name;
		bool valid;
	} cases[] = {
	    {"a", true},
	    {"Z", true},
	    {"my_module-2", true},
	    {"\xe4\xb8\x80", true},		/* U+4E00, the first */
	    {"\xe9\xbe\xa5x_1", true},		/* U+9FA5, the last */
	    {"\xe6\xa8\xa1\xe5\x9d\x97", true}, /* two ideographs */
	    {"", false},
	    {"1abc", false},
	    {"_abc", false},
	    {"-abc", false},
	    {"a.b", false},
	    {"a b", false},
	    {"a/b", false},
	    {"\xe9\xbe\xa6", false},	  /* U+9FA6, past the range */
	    {"\xe3\x80\x80", false},	  /* U+3000, a space */
	    {"\xc3\xa9t\xc3\xa9", false}, /* Latin letters with accents */
	    {"\xe4\xb8", false},	  /* cut short */
	    {"a\xe4", false},
	};
	char longest[128 * 3 + 2];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(name_module_valid(cases[i].name) == cases[i].valid);
	/* 85 ideographs are 255 bytes, the longest file name; 86 or the
	 * API's 128 (384 bytes) can never be one. */
	for (size_t i = 0; i < 128; i++)
		memcpy(longest + 3 * i, "\xe4\xb8\x80", 3);
	longest[255] = '\0';
	CHECK(name_module_valid(longest));
	longest[255] = '\xe4';
	longest[258] = '\0';
	CHECK(!name_module_valid(longest));
	longest[258] = '\xe4';
	longest[384] = '\0';
	CHECK(!name_module_valid(longest));
	memset(longest, 'a', 128);
	longest[128] = '\0';
	CHECK(name_module_valid(longest));
}

/* Hooks and templates follow the module rule; template versions are Vn. */
static void test_hook_template_names_and_template_versions(void)
{
	static const struct {
		const char *name;
		bool valid;
	} versions[] = {
	    {"V1", true},
	    {"V10", true},
	    {"V18446744073709551615", true},
	    {"V0", false},
	    {"V01", false},
	    {"V", false},
	    {"v1", false},
	    {"1", false},
	    {"V1.0", false},
	    {"V18446744073709551616", false},
	    {"", false},
	};

	CHECK(name_hook_valid("my-hook_1") && name_template_valid("tpl"));
	CHECK(!name_hook_valid("1hook") && !name_template_valid("-tpl"));
	CHECK(name_template_valid("\xe6\xa8\xa1\xe6\x9d\xbf"));
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		CHECK(name_template_version_valid(versions[i].name) ==
		      versions[i].valid);
}

static void test_escape_keeps_printable_ascii_only(void)
{
	char buf[64], small[8];

	name_escape("a b\n\\\xff\xc3\xa9~", buf, sizeof(buf));
	CHECK_STR(buf, "a b\\x0a\\x5c\\xff\\xc3\\xa9~");
	name_escape(NULL, buf, sizeof(buf));
	CHECK_STR(buf, "");
	/* cut whole: never half an escape */
	name_escape("abcd\x01", small, sizeof(small));
	CHECK_STR(small, "abcd");
}

int main(void)
{
	test_bad_names_file_rejected_for_listed_kinds();
	test_safe_names();
	test_escape_keeps_printable_ascii_only();
	test_null_is_invalid();
	test_good_package_ids();
	test_good_provider_names();
	test_good_versions();
	test_module_names();
	test_hook_template_names_and_template_versions();
	test_version_limits();
	test_length_edges();
	test_unknown_kind_is_invalid();
	return test_summary();
}
