/*
 * test_kinds.c - the kinds setting (backend/kinds.c): which rows a value
 * shows, which values are usage errors, and that a service with no chosen
 * kind counts as not configured.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "config.h"
#include "kind.h"
#include "test.h"

/* cfg with both endpoints and kinds = value (NULL: unset). */
static void test_cfg(struct hwc_config *cfg, const char *value)
{
	config_init(cfg);
	cfg->iotda_endpoint = "https://iotda.example.com";
	cfg->rfs_endpoint = "https://rfs.example.com";
	cfg->kinds = (char *)value;
}

/* The top kinds cfg shows, as "packages,modules". */
static void shown(const struct hwc_config *cfg, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < kind_count; i++)
		if (!kind_table[i].parent && kind_shown(&kind_table[i], cfg))
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
					      o ? "," : "", kind_table[i].name);
}

static void test_values_and_what_they_show(void)
{
	static const struct {
		const char *value, *shows;
	} cases[] = {
	    {NULL, "packages,providers,modules,hooks,templates"},
	    {"all", "packages,providers,modules,hooks,templates"},
	    {"packages", "packages"},
	    {"packages:modules", "packages,modules"},
	    {"templates, hooks", "hooks,templates"},
	    {" hooks ,all", "packages,providers,modules,hooks,templates"},
	};
	struct hwc_config cfg;
	char buf[256], err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		test_cfg(&cfg, cases[i].value);
		CHECK_INT(kind_check_selection(&cfg, err, sizeof(err)), 0);
		shown(&cfg, buf, sizeof(buf));
		CHECK_STR(buf, cases[i].shows);
	}
}

static void test_child_kinds_follow_their_parent(void)
{
	struct hwc_config cfg;

	test_cfg(&cfg, "modules");
	CHECK(kind_shown(kind_find("module-versions"), &cfg));
	CHECK(!kind_shown(kind_find("versions"), &cfg));
	CHECK(!kind_shown(kind_find("template-versions"), &cfg));
}

static void test_a_service_without_a_chosen_kind_is_not_configured(void)
{
	struct hwc_config cfg;

	test_cfg(&cfg, "packages");
	CHECK(kind_service_configured(kind_find("packages")->service, &cfg));
	CHECK(!kind_service_configured(kind_find("providers")->service, &cfg));
	/* an endpoint unset shows none of its kinds, chosen or not */
	test_cfg(&cfg, "providers:packages");
	cfg.iotda_endpoint = NULL;
	CHECK(!kind_shown(kind_find("packages"), &cfg));
	CHECK(kind_shown(kind_find("providers"), &cfg));
}

static void test_bad_values_are_refused_with_a_reason(void)
{
	static const struct {
		const char *value, *says;
	} cases[] = {
	    {"nope", "`nope' is not a kind"},
	    {"packages:nope", "`nope' is not a kind"},
	    {"versions", "`versions' is not a kind"},
	    {"Packages", "`Packages' is not a kind"},
	    {"packages,,hooks", "`' is not a kind"},
	    {"", "kinds: empty"},
	    {"  ", "kinds: empty"},
	};
	struct hwc_config cfg;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		test_cfg(&cfg, cases[i].value);
		err[0] = '\0';
		CHECK_INT(kind_check_selection(&cfg, err, sizeof(err)),
			  -EINVAL);
		CHECK(strstr(err, cases[i].says) != NULL);
	}
	test_cfg(&cfg, "nope");
	kind_check_selection(&cfg, err, sizeof(err));
	CHECK(strstr(err, "packages, providers, modules, hooks, templates, "
			  "all") != NULL);
	/* chosen, but of a service not configured */
	test_cfg(&cfg, "providers");
	cfg.rfs_endpoint = NULL;
	CHECK_INT(kind_check_selection(&cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "shows none of the services configured") != NULL);
	/* no endpoint at all is not this check's to report */
	cfg.iotda_endpoint = NULL;
	CHECK_INT(kind_check_selection(&cfg, err, sizeof(err)), 0);
}

/* A protect pattern must be able to reach a path of the tree. */
static void test_protect_patterns_reach_the_tree(void)
{
	static const struct {
		const char *pattern;
		bool ok;
	} cases[] = {
	    {"rfs", true},
	    {"*", true},
	    {"iotda/packages/x", true},
	    {"rfs/*/x", true},
	    {"rfs/hooks", true},
	    {"rfs/templates/t/V1", true},
	    {"r[f]s/providers", true}, /* a bracket: taken as it is */
	    {"rfs/provider/x", false},
	    {"rfs/providers-x", false},
	    {"providers/x", false},
	    {"iotda", true},
	    {"iot", false},
	};
	struct config_pattern p;
	struct hwc_config cfg;
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		test_cfg(&cfg, NULL);
		p = (struct config_pattern){(char *)cases[i].pattern,
					    (char *)"here"};
		cfg.protect = &p;
		cfg.nprotect = 1;
		err[0] = '\0';
		CHECK_INT(kind_check_protect(&cfg, err, sizeof(err)),
			  cases[i].ok ? 0 : -EINVAL);
		CHECK(cases[i].ok || strstr(err, "(here) matches nothing"));
	}
}

int main(void)
{
	test_values_and_what_they_show();
	test_child_kinds_follow_their_parent();
	test_a_service_without_a_chosen_kind_is_not_configured();
	test_bad_values_are_refused_with_a_reason();
	test_protect_patterns_reach_the_tree();
	return test_summary();
}
