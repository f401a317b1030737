/* test_tenancy.c - unit tests of the tenancy services' pure parts: input formats, body fields, cursors, policy, principals (tenancy/svc.c). */
#include "tests.h"
#include "fixture.h"
#include "common/arena.h"
#include "common/config.h"
#include "common/json.h"
#include "tenancy/tenancy.h"

#include <string.h>

static void
test_rfc3339(void)
{
	CU_ASSERT_TRUE(tenancy_rfc3339_ok("2026-01-31T12:00:00Z"));
	CU_ASSERT_TRUE(tenancy_rfc3339_ok("2026-01-31t12:00:00.123456z"));
	CU_ASSERT_TRUE(tenancy_rfc3339_ok("2026-12-31T23:59:60+07:00"));
	CU_ASSERT_TRUE(tenancy_rfc3339_ok("2026-12-31T23:59:59.1-05:30"));
	CU_ASSERT_FALSE(tenancy_rfc3339_ok(NULL));
	CU_ASSERT_FALSE(tenancy_rfc3339_ok(""));
	CU_ASSERT_FALSE(tenancy_rfc3339_ok("2026-01-31"));
	CU_ASSERT_FALSE(tenancy_rfc3339_ok("2026-01-31 12:00:00Z"));
	CU_ASSERT_FALSE(tenancy_rfc3339_ok("2026-13-01T00:00:00Z"));
	CU_ASSERT_FALSE(tenancy_rfc3339_ok("2026-01-32T00:00:00Z"));
	CU_ASSERT_FALSE(tenancy_rfc3339_ok("2026-01-01T24:00:00Z"));
	CU_ASSERT_FALSE(tenancy_rfc3339_ok("2026-01-01T00:00:00"));
	CU_ASSERT_FALSE(tenancy_rfc3339_ok("2026-01-01T00:00:00.Z"));
	CU_ASSERT_FALSE(tenancy_rfc3339_ok("2026-01-01T00:00:00+0700"));
	CU_ASSERT_FALSE(tenancy_rfc3339_ok("2026-01-01T00:00:00Z'; --"));
	CU_ASSERT_FALSE(tenancy_rfc3339_ok("2026-01-01T00:00:00+24:00"));
}

static void
test_formats(void)
{
	char id[TENANCY_UUID_LEN + 1];

	CU_ASSERT_TRUE(tenancy_slug_ok("a"));
	CU_ASSERT_TRUE(tenancy_slug_ok("demo-2"));
	CU_ASSERT_FALSE(tenancy_slug_ok("-demo"));
	CU_ASSERT_FALSE(tenancy_slug_ok("demo-"));
	CU_ASSERT_FALSE(tenancy_slug_ok("Demo"));
	CU_ASSERT_FALSE(tenancy_slug_ok("de mo"));
	CU_ASSERT_FALSE(tenancy_slug_ok(""));
	CU_ASSERT_FALSE(tenancy_slug_ok("x'--"));
	CU_ASSERT_FALSE(tenancy_slug_ok(
	    "a234567890123456789012345678901234567890123456789012345678901234"));
	CU_ASSERT_TRUE(tenancy_username_ok("Alice.B_c@d-e"));
	CU_ASSERT_FALSE(tenancy_username_ok("ab"));
	CU_ASSERT_FALSE(tenancy_username_ok("a b c"));
	CU_ASSERT_FALSE(tenancy_username_ok("' OR 1=1"));
	CU_ASSERT_TRUE(tenancy_uuid_norm("ABCDEF01-2345-6789-ABCD-EF0123456789", id));
	CU_ASSERT_STRING_EQUAL(id, "abcdef01-2345-6789-abcd-ef0123456789");
	CU_ASSERT_FALSE(tenancy_uuid_norm("abcdef01-2345-6789-abcd-ef012345678", id));
	CU_ASSERT_FALSE(tenancy_uuid_norm("1; DROP TABLE users", id));
	CU_ASSERT_TRUE(tenancy_text_ok("สวัสดี", strlen("สวัสดี"), 6));
	CU_ASSERT_FALSE(tenancy_text_ok("สวัสดี", strlen("สวัสดี"), 5));
	CU_ASSERT_FALSE(tenancy_text_ok("a\tb", 3, 10));
	CU_ASSERT_FALSE(tenancy_text_ok("a\x7f", 2, 10));
	CU_ASSERT_FALSE(tenancy_text_ok("\xc3\x28", 2, 10));
	CU_ASSERT_FALSE(tenancy_text_ok("", 0, 10));
}

/* ?version= of a versioned DELETE: the same rule for every resource. */
static void
test_version_param(void)
{
	static const char *const bad[] = { "0", "-1", "x1", "1x", "", "+5",
	    "1234567890123456789", "99999999999999999999" };
	struct fixture f;
	struct gacp_err err;
	int64_t v = 7;
	size_t i;

	fixture_init(&f);
	CU_ASSERT_EQUAL(svc_version_param(&f.s, NULL, &v, &err), GACP_OK);
	CU_ASSERT_EQUAL(v, -1);
	CU_ASSERT_EQUAL(svc_version_param(&f.s, "42", &v, &err), GACP_OK);
	CU_ASSERT_EQUAL(v, 42);
	CU_ASSERT_EQUAL(svc_version_param(&f.s, "123456789012345678", &v, &err),
	    GACP_OK);
	CU_ASSERT_EQUAL(v, 123456789012345678LL);
	CU_ASSERT_EQUAL(fixture_nerrors(&f.s), 0);
	fixture_cleanup(&f);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fixture_init(&f);
		gacp_err_clear(&err);
		CU_ASSERT_EQUAL(svc_version_param(&f.s, bad[i], &v, &err),
		    GACP_EINVAL);
		CU_ASSERT_STRING_EQUAL(err.code, "validation_failed");
		CU_ASSERT_TRUE(fixture_has_error(&f.s, "version", "invalid_type"));
		CU_ASSERT_EQUAL(v, -1);
		fixture_cleanup(&f);
	}
}

static void
test_body_fields(void)
{
	struct fixture f;
	struct json_object *body;
	struct gacp_err err;
	int64_t version = 0;

	fixture_init(&f);
	body = json_tokener_parse("{\"name\":\"ok\",\"nul\":\"a\\u0000b\","
	    "\"num\":3,\"long\":\"abcdef\",\"ctl\":\"a\\u0001\",\"pw\":\"a\\tb\","
	    "\"nothing\":null,\"version\":0}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	CU_ASSERT_STRING_EQUAL(svc_body_str(&f.s, body, "name", 10, SVC_REQUIRED),
	    "ok");
	CU_ASSERT_EQUAL(fixture_nerrors(&f.s), 0);
	CU_ASSERT_EQUAL(svc_check_fields(&f.s, &err), GACP_OK);
	CU_ASSERT_PTR_NULL(svc_body_str(&f.s, body, "nul", 10, 0));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "nul", "invalid_characters"));
	CU_ASSERT_PTR_NULL(svc_body_str(&f.s, body, "num", 10, 0));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "num", "invalid_type"));
	CU_ASSERT_PTR_NULL(svc_body_str(&f.s, body, "long", 5, 0));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "long", "too_long"));
	CU_ASSERT_PTR_NULL(svc_body_str(&f.s, body, "ctl", 5, 0));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "ctl", "invalid_characters"));
	/* Raw (passwords): control characters are the policy's business. */
	CU_ASSERT_STRING_EQUAL(svc_body_str(&f.s, body, "pw", 5, SVC_RAW), "a\tb");
	CU_ASSERT_PTR_NULL(svc_body_str(&f.s, body, "nothing", 5, SVC_REQUIRED));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "nothing", "required"));
	CU_ASSERT_PTR_NULL(svc_body_str(&f.s, body, "absent", 5, 0));
	CU_ASSERT_FALSE(fixture_has_error(&f.s, "absent", "required"));
	CU_ASSERT_FALSE(svc_body_version(&f.s, body, &version));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "version", "invalid_type"));
	{
		static const char *const allowed[] = { "name", NULL };
		CU_ASSERT_FALSE(svc_body_only(&f.s, body, allowed));
		CU_ASSERT_TRUE(fixture_has_error(&f.s, "num", "unknown_field"));
	}
	CU_ASSERT_EQUAL(svc_check_fields(&f.s, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "validation_failed");
	CU_ASSERT_PTR_NOT_NULL(strstr(svc_field_errors_json(&f.s),
	    "\"field\":\"long\""));
	json_object_put(body);
	fixture_cleanup(&f);
}

static void
test_cursors(void)
{
	struct fixture f;
	struct page p;
	char *c;

	fixture_init(&f);
	svc_page_parse(&f.s, NULL, NULL, false, &p);
	CU_ASSERT_EQUAL(p.limit, TENANCY_LIST_DEFAULT);
	CU_ASSERT_EQUAL(p.after_us, -1);
	c = svc_cursor_key(&f.s, 1795738265123456LL,
	    "d9fa4394-2d08-4c3d-8180-e50ce7ccadf0");
	svc_page_parse(&f.s, "200", c, false, &p);
	CU_ASSERT_EQUAL(fixture_nerrors(&f.s), 0);
	CU_ASSERT_EQUAL(p.limit, 200);
	CU_ASSERT_EQUAL(p.after_us, 1795738265123456LL);
	CU_ASSERT_STRING_EQUAL(p.after_id, "d9fa4394-2d08-4c3d-8180-e50ce7ccadf0");
	/* A key cursor is not a sequence cursor and the other way round. */
	svc_page_parse(&f.s, NULL, c, true, &p);
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "cursor", "invalid_cursor"));
	fixture_cleanup(&f);

	fixture_init(&f);
	c = svc_cursor_seq(&f.s, 42);
	svc_page_parse(&f.s, "1", c, true, &p);
	CU_ASSERT_EQUAL(fixture_nerrors(&f.s), 0);
	CU_ASSERT_EQUAL(p.before_seq, 42);
	svc_page_parse(&f.s, "0", NULL, true, &p);
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "limit", "out_of_range"));
	fixture_cleanup(&f);

	fixture_init(&f);
	svc_page_parse(&f.s, "201", NULL, false, &p);
	svc_page_parse(&f.s, "-1", NULL, false, &p);
	svc_page_parse(&f.s, "10abc", NULL, false, &p);
	CU_ASSERT_EQUAL(fixture_nerrors(&f.s), 3);
	svc_page_parse(&f.s, NULL, "' OR 1=1 --", false, &p);
	svc_page_parse(&f.s, NULL, "azo", false, &p);            /* "k:" */
	svc_page_parse(&f.s, NULL, "czow", true, &p);            /* "s:0" */
	svc_page_parse(&f.s, NULL, "azoxOnh4eA", false, &p);     /* "k:1:xxx" */
	CU_ASSERT_EQUAL(fixture_nerrors(&f.s), 7);
	fixture_cleanup(&f);
}

static void
test_policy(void)
{
	struct config cfg;
	struct gacp_err err;
	struct tenancy_policy p;
	const char *text = "[security]\nbcrypt_cost = 10\nlockout_threshold = 7\n"
	    "rate_tenant_per_min = 100\nsession_timeout_min = 60\n";

	config_init(&cfg);
	tenancy_policy_load(&cfg, &p);
	CU_ASSERT_EQUAL(p.bcrypt_cost, 12);
	CU_ASSERT_EQUAL(p.access_ttl_s, 3600);
	CU_ASSERT_EQUAL(p.session_idle_s, 480 * 60);
	CU_ASSERT_EQUAL(p.refresh_max_s, 30 * 86400);
	CU_ASSERT_EQUAL(p.lockout_threshold, 5);
	CU_ASSERT_EQUAL(p.lockout_s, 30 * 60);
	CU_ASSERT_EQUAL(p.audit_retention_days, 365);
	CU_ASSERT_EQUAL(p.password.max_age_days, 90);
	CU_ASSERT_EQUAL(p.password.min_length, 12);
	config_cleanup(&cfg);

	config_init(&cfg);
	CU_ASSERT_EQUAL_FATAL(config_parse(&cfg, text, strlen(text), &err), GACP_OK);
	tenancy_policy_load(&cfg, &p);
	CU_ASSERT_EQUAL(p.bcrypt_cost, 10);
	CU_ASSERT_EQUAL(p.lockout_threshold, 7);
	CU_ASSERT_EQUAL(p.tenant_per_min, 100);
	CU_ASSERT_EQUAL(p.session_idle_s, 3600);
	config_cleanup(&cfg);

	/* A tenant tunes its rate limits and may tighten, never loosen, the
	 * password policy. */
	tenancy_policy_apply_settings(&p, "{\"rate_limits\":{\"requests_per_minute\""
	    ":5,\"api_key_requests_per_minute\":2},\"password_policy\":"
	    "{\"min_length\":16,\"max_age_days\":30}}");
	CU_ASSERT_EQUAL(p.tenant_per_min, 5);
	CU_ASSERT_EQUAL(p.apikey_per_min, 2);
	CU_ASSERT_EQUAL(p.password.min_length, 16);
	CU_ASSERT_EQUAL(p.password.max_age_days, 30);
	tenancy_policy_apply_settings(&p, "{\"password_policy\":{\"min_length\":4,"
	    "\"max_age_days\":900}}");
	CU_ASSERT_EQUAL(p.password.min_length, 16);
	CU_ASSERT_EQUAL(p.password.max_age_days, 30);
	tenancy_policy_apply_settings(&p, "not json");
	tenancy_policy_apply_settings(&p, NULL);
	CU_ASSERT_EQUAL(p.tenant_per_min, 5);
}

static void
test_settings_validation(void)
{
	struct fixture f;
	struct json_object *o;

	fixture_init(&f);
	o = json_tokener_parse("{\"rate_limits\":{\"requests_per_minute\":10},"
	    "\"password_policy\":{\"min_length\":14,\"max_age_days\":60}}");
	tenancy_settings_validate(&f.s, o);
	CU_ASSERT_EQUAL(fixture_nerrors(&f.s), 0);
	json_object_put(o);
	o = json_tokener_parse("{\"rate_limits\":{\"requests_per_minute\":0,"
	    "\"burst\":3},\"password_policy\":{\"min_length\":6},\"theme\":\"dark\"}");
	tenancy_settings_validate(&f.s, o);
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "settings.rate_limits.requests_per_minute",
	    "out_of_range"));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "settings.rate_limits.burst",
	    "unknown_setting"));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "settings.password_policy.min_length",
	    "out_of_range"));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "settings.theme", "unknown_setting"));
	json_object_put(o);
	fixture_cleanup(&f);
}

static void
test_principals(void)
{
	struct principal p;
	struct rbac_principal rp;

	principal_system(&p, "root");
	CU_ASSERT_STRING_EQUAL(p.id, "gacpctl:root");
	CU_ASSERT_TRUE(principal_is_platform_admin(&p));
	CU_ASSERT_STRING_EQUAL(principal_actor_type(&p), "system");

	/* platform_admin outside the platform tenant means nothing. */
	memset(&p, 0, sizeof(p));
	p.kind = PRINCIPAL_USER;
	p.roles[0] = RBAC_ROLE_PLATFORM_ADMIN;
	p.nroles = 1;
	CU_ASSERT_FALSE(principal_is_platform_admin(&p));
	p.tenant_is_platform = true;
	CU_ASSERT_TRUE(principal_is_platform_admin(&p));
	principal_rbac(&p, &rp);
	CU_ASSERT_EQUAL(rp.credential, RBAC_CRED_TOKEN);
	CU_ASSERT_EQUAL(rp.nroles, 1);

	/* Keys never administer the platform. */
	p.kind = PRINCIPAL_API_KEY;
	CU_ASSERT_FALSE(principal_is_platform_admin(&p));
	CU_ASSERT_STRING_EQUAL(principal_actor_type(&p), "api_key");
	principal_rbac(&p, &rp);
	CU_ASSERT_EQUAL(rp.credential, RBAC_CRED_APIKEY);
	CU_ASSERT_EQUAL(rp.nroles, 0);
	CU_ASSERT_FALSE(principal_is_platform_admin(NULL));
	CU_ASSERT_STRING_EQUAL(principal_actor_type(NULL), "anonymous");
}

void test_tenancy_register(void);

void
test_tenancy_register(void)
{
	static const struct test_case cases[] = {
		{ "RFC 3339 timestamps", test_rfc3339 },
		{ "slug, username, uuid, text", test_formats },
		{ "body fields and field errors", test_body_fields },
		{ "DELETE ?version= parameter", test_version_param },
		{ "list cursors and limits", test_cursors },
		{ "security policy and tenant overrides", test_policy },
		{ "tenant settings validation", test_settings_validation },
		{ "principals", test_principals },
		{ NULL, NULL }
	};

	tests_add_suite("tenancy", cases);
}
