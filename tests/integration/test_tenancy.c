/* test_tenancy.c - tenants, users, API keys and the audit log over HTTP: REST conventions, versions, pagination, cross-tenant isolation, hostile input, gacpctl. */
#include "tenancy_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
expect_error(const struct itest_response *r, long status, const char *code)
{
	CU_ASSERT_EQUAL(r->status, status);
	CU_ASSERT_PTR_NOT_NULL(itest_error_code(r));
	if (itest_error_code(r) != NULL)
		CU_ASSERT_STRING_EQUAL(itest_error_code(r), code);
	if (r->status != status || itest_error_code(r) == NULL ||
	    strcmp(itest_error_code(r), code) != 0)
		fprintf(stderr, "expected %ld %s, got %ld %s\n", status, code,
		    r->status, r->body);
}

/* The field error list of a 422 names field. */
static int
names_field(const struct itest_response *r, const char *field)
{
	char needle[128];

	snprintf(needle, sizeof(needle), "\"field\":\"%s\"", field);
	return strstr(r->body, needle) != NULL;
}

static long long
count_in(const char *tenant, const char *sql)
{
	PGconn *db = tu_db_app();
	long long n;

	if (db == NULL)
		return -1;
	n = tu_db_scalar(db, tenant, sql, NULL);
	PQfinish(db);
	return n;
}

static void
test_tenant_crud(void)
{
	struct itest_response r;
	char *admin, slug[64], body[512], path[128], id[37];

	tu_reset_ip_limit();
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	tu_unique("crud", slug, sizeof(slug));
	snprintf(body, sizeof(body), "{\"slug\":\"%s\",\"name\":\"Crud Co\","
	    "\"settings\":{\"rate_limits\":{\"requests_per_minute\":500}},"
	    "\"metadata\":{\"plan\":\"gold\"},\"owner\":{\"username\":\"boss\","
	    "\"password\":\"%s\"}}", slug, tu_password());
	tu_call("POST", "/v1/tenants", admin, NULL, body, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 201);
	snprintf(id, sizeof(id), "%s", tu_json_str(&r, "id"));
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "status"), "active");
	CU_ASSERT_EQUAL(tu_json_int(&r, "version"), 1);
	CU_ASSERT_EQUAL(tu_json_int(&r, "settings.rate_limits.requests_per_minute"),
	    500);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "owner.username"), "boss");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"roles\":[\"tenant_owner\"]"));
	CU_ASSERT_PTR_NULL(strstr(r.body, tu_password()));
	itest_response_free(&r);
	/* The owner can log in straight away. */
	{
		char *o = tu_login(slug, "boss", tu_password());
		CU_ASSERT_PTR_NOT_NULL(o);
		free(o);
	}

	/* Duplicate slug. */
	tu_call("POST", "/v1/tenants", admin, NULL, body, NULL, &r);
	expect_error(&r, 409, "slug_taken");
	itest_response_free(&r);

	snprintf(path, sizeof(path), "/v1/tenants/%s", id);
	tu_call("GET", path, admin, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "slug"), slug);
	itest_response_free(&r);

	/* Update with the right version, then with a stale one. */
	tu_call("PATCH", path, admin, NULL, "{\"version\":1,\"name\":\"Crud Ltd\"}",
	    NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "name"), "Crud Ltd");
	CU_ASSERT_EQUAL(tu_json_int(&r, "version"), 2);
	itest_response_free(&r);
	tu_call("PATCH", path, admin, NULL, "{\"version\":1,\"name\":\"Stale\"}",
	    NULL, &r);
	expect_error(&r, 409, "version_conflict");
	itest_response_free(&r);
	tu_call("GET", path, admin, NULL, NULL, NULL, &r);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "name"), "Crud Ltd");
	itest_response_free(&r);
	/* A PATCH without version, or with unknown fields. */
	tu_call("PATCH", path, admin, NULL, "{\"name\":\"x\",\"slug\":\"y\"}",
	    NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "version"));
	CU_ASSERT_TRUE(names_field(&r, "slug"));
	itest_response_free(&r);
	tu_call("PATCH", path, admin, NULL,
	    "{\"version\":2,\"status\":\"deleted\",\"settings\":{\"rate_limits\":"
	    "{\"requests_per_minute\":0},\"colour\":1}}", NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "status"));
	CU_ASSERT_TRUE(names_field(&r, "settings.rate_limits.requests_per_minute"));
	CU_ASSERT_TRUE(names_field(&r, "settings.colour"));
	itest_response_free(&r);

	/* Delete (soft): gone from reads and lists. */
	tu_call("DELETE", path, admin, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 204);
	CU_ASSERT_EQUAL(r.body_len, 0);
	itest_response_free(&r);
	tu_call("GET", path, admin, NULL, NULL, NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	tu_call("DELETE", path, admin, NULL, NULL, NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	tu_login_resp(slug, "boss", tu_password(), &r);
	expect_error(&r, 401, "invalid_credentials");
	itest_response_free(&r);
	/* The platform tenant cannot be suspended or deleted. */
	tu_call("GET", "/v1/auth/me", admin, NULL, NULL, NULL, &r);
	snprintf(path, sizeof(path), "/v1/tenants/%s", tu_json_str(&r, "tenant.id"));
	itest_response_free(&r);
	tu_call("DELETE", path, admin, NULL, NULL, NULL, &r);
	expect_error(&r, 409, "platform_tenant");
	itest_response_free(&r);
	free(admin);
}

static void
test_tenant_validation(void)
{
	struct itest_response r;
	char *admin, body[1024], big[260];

	tu_reset_ip_limit();
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	tu_call("POST", "/v1/tenants", admin, NULL, "{}", NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "slug"));
	CU_ASSERT_TRUE(names_field(&r, "name"));
	itest_response_free(&r);

	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(body, sizeof(body), "{\"slug\":\"Bad_Slug\",\"name\":\"%s\","
	    "\"owner\":{\"username\":\"x\",\"password\":\"weak\"},"
	    "\"is_platform\":true}", big);
	tu_call("POST", "/v1/tenants", admin, NULL, body, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "slug"));
	CU_ASSERT_TRUE(names_field(&r, "name"));
	/* Only gacpctl may make a platform tenant. */
	CU_ASSERT_TRUE(names_field(&r, "is_platform"));
	itest_response_free(&r);

	/* The owner's own field errors, prefixed, and nothing written. */
	{
		char slug[64];
		tu_unique("val", slug, sizeof(slug));
		snprintf(body, sizeof(body), "{\"slug\":\"%s\",\"name\":\"V\","
		    "\"owner\":{\"username\":\"x\",\"password\":\"weak\"}}", slug);
		tu_call("POST", "/v1/tenants", admin, NULL, body, NULL, &r);
		expect_error(&r, 422, "validation_failed");
		CU_ASSERT_TRUE(names_field(&r, "owner.username"));
		CU_ASSERT_TRUE(names_field(&r, "owner.password"));
		itest_response_free(&r);
		snprintf(body, sizeof(body), "SET LOCAL app.platform_admin = 'on';"
		    " SELECT count(*) FROM tenants WHERE slug = '%s'", slug);
		CU_ASSERT_EQUAL(count_in(NULL, body), 0);
	}
	free(admin);
}

static void
test_tenant_list_pagination(void)
{
	struct itest_response r;
	char *admin, path[256], cursor[200];
	struct tu_tenant t;
	int pages = 0, seen = 0, i;

	tu_reset_ip_limit();
	for (i = 0; i < 3; i++)
		CU_ASSERT_TRUE_FATAL(tu_make_tenant("pg", NULL, &t));
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	snprintf(path, sizeof(path), "/v1/tenants?limit=2");
	for (;;) {
		struct json_object *items, *next;
		tu_call("GET", path, admin, NULL, NULL, NULL, &r);
		CU_ASSERT_EQUAL_FATAL(r.status, 200);
		CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(r.json, "items", &items));
		CU_ASSERT_TRUE(json_object_array_length(items) <= 2);
		seen += (int)json_object_array_length(items);
		pages++;
		json_object_object_get_ex(r.json, "next_cursor", &next);
		if (next == NULL || pages > 1000) {
			itest_response_free(&r);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", json_object_get_string(next));
		snprintf(path, sizeof(path), "/v1/tenants?limit=2&cursor=%s", cursor);
		itest_response_free(&r);
	}
	{
		char sql[] = "SET LOCAL app.platform_admin = 'on'; "
		    "SELECT count(*) FROM tenants WHERE NOT is_deleted";
		CU_ASSERT_EQUAL(seen, count_in(NULL, sql));
	}
	CU_ASSERT_TRUE(pages >= 2);

	tu_call("GET", "/v1/tenants?limit=201", admin, NULL, NULL, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "limit"));
	itest_response_free(&r);
	tu_call("GET", "/v1/tenants?limit=0", admin, NULL, NULL, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	itest_response_free(&r);
	tu_call("GET", "/v1/tenants?limit=1%27%20OR%201=1", admin, NULL, NULL,
	    NULL, &r);
	expect_error(&r, 422, "validation_failed");
	itest_response_free(&r);
	tu_call("GET", "/v1/tenants?cursor=%27%3B%20DROP%20TABLE%20tenants%3B--",
	    admin, NULL, NULL, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "cursor"));
	itest_response_free(&r);
	free(admin);
}

static void
test_users_crud(void)
{
	struct itest_response r;
	struct tu_tenant t;
	char *owner, body[512], path[128], uid[37];

	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("us", NULL, &t));
	owner = tu_login(t.slug, t.owner, t.password);
	CU_ASSERT_PTR_NOT_NULL_FATAL(owner);

	snprintf(body, sizeof(body), "{\"username\":\"Alice.A\",\"password\":\"%s\","
	    "\"roles\":[\"agent\",\"viewer\"],\"display_name\":\"Alice Ä\","
	    "\"email\":\"alice@example.com\",\"metadata\":{\"team\":\"support\"}}",
	    tu_password());
	tu_call("POST", "/v1/users", owner, NULL, body, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 201);
	snprintf(uid, sizeof(uid), "%s", tu_json_str(&r, "id"));
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "display_name"), "Alice Ä");
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "tenant_id"), t.id);
	CU_ASSERT_PTR_NULL(strstr(r.body, "password_hash"));
	itest_response_free(&r);
	/* Names are unique regardless of case. */
	snprintf(body, sizeof(body), "{\"username\":\"alice.a\",\"password\":\"%s\","
	    "\"roles\":[\"agent\"]}", tu_password());
	tu_call("POST", "/v1/users", owner, NULL, body, NULL, &r);
	expect_error(&r, 409, "username_taken");
	itest_response_free(&r);

	snprintf(path, sizeof(path), "/v1/users/%s", uid);
	tu_call("PATCH", path, owner, NULL,
	    "{\"version\":1,\"display_name\":null,\"roles\":[\"viewer\"]}", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(tu_json_int(&r, "version"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"display_name\":null"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"roles\":[\"viewer\"]"));
	itest_response_free(&r);
	tu_call("PATCH", path, owner, NULL,
	    "{\"version\":1,\"email\":\"stale@example.com\"}", NULL, &r);
	expect_error(&r, 409, "version_conflict");
	itest_response_free(&r);
	tu_call("GET", path, owner, NULL, NULL, NULL, &r);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "email"), "alice@example.com");
	itest_response_free(&r);
	/* A login is bookkeeping, not an edit: the version stays. */
	{
		char *alice = tu_login(t.slug, "alice.a", tu_password());
		CU_ASSERT_PTR_NOT_NULL(alice);
		free(alice);
		tu_call("GET", path, owner, NULL, NULL, NULL, &r);
		CU_ASSERT_EQUAL(tu_json_int(&r, "version"), 2);
		CU_ASSERT_PTR_NOT_NULL(tu_json_str(&r, "last_login_at"));
		itest_response_free(&r);
	}
	/* Paging through users. */
	tu_call("GET", "/v1/users?limit=1", owner, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(tu_json_str(&r, "next_cursor"));
	{
		char next[256], p2[300];
		snprintf(next, sizeof(next), "%s", tu_json_str(&r, "next_cursor"));
		itest_response_free(&r);
		snprintf(p2, sizeof(p2), "/v1/users?limit=1&cursor=%s", next);
		tu_call("GET", p2, owner, NULL, NULL, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body, uid));
		itest_response_free(&r);
	}
	/* Delete: stale version refused, then gone. */
	snprintf(body, sizeof(body), "%s?version=1", path);
	tu_call("DELETE", body, owner, NULL, NULL, NULL, &r);
	expect_error(&r, 409, "version_conflict");
	itest_response_free(&r);
	snprintf(body, sizeof(body), "%s?version=2", path);
	tu_call("DELETE", body, owner, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 204);
	itest_response_free(&r);
	tu_call("GET", path, owner, NULL, NULL, NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	tu_call("GET", "/v1/users?limit=200", owner, NULL, NULL, NULL, &r);
	CU_ASSERT_PTR_NULL(strstr(r.body, uid));
	itest_response_free(&r);
	tu_login_resp(t.slug, "alice.a", tu_password(), &r);
	expect_error(&r, 401, "invalid_credentials");
	itest_response_free(&r);
	free(owner);
}

static void
test_user_rules(void)
{
	struct itest_response r;
	struct tu_tenant t;
	char *owner, *admin, aid[37], oid2[37], body[512], path[128];

	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("ru", NULL, &t));
	owner = tu_login(t.slug, t.owner, t.password);
	CU_ASSERT_PTR_NOT_NULL_FATAL(owner);
	CU_ASSERT_TRUE_FATAL(tu_make_user(owner, "admin1", "tenant_admin", aid));
	admin = tu_login(t.slug, "admin1", tu_password());
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);

	/* An admin cannot make owners, nor platform admins. */
	snprintf(body, sizeof(body), "{\"username\":\"boss2\",\"password\":\"%s\","
	    "\"roles\":[\"tenant_owner\"]}", tu_password());
	tu_call("POST", "/v1/users", admin, NULL, body, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "role_not_grantable"));
	itest_response_free(&r);
	snprintf(body, sizeof(body), "{\"username\":\"op\",\"password\":\"%s\","
	    "\"roles\":[\"platform_admin\"]}", tu_password());
	tu_call("POST", "/v1/users", owner, NULL, body, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "role_not_allowed"));
	itest_response_free(&r);
	/* ...nor touch the owner. */
	snprintf(path, sizeof(path), "/v1/users/%s", t.owner_id);
	tu_call("PATCH", path, admin, NULL, "{\"version\":1,\"is_active\":false}",
	    NULL, &r);
	expect_error(&r, 403, "forbidden");
	itest_response_free(&r);
	/* The last owner stays. */
	tu_call("PATCH", path, owner, NULL, "{\"version\":1,\"roles\":[\"agent\"]}",
	    NULL, &r);
	expect_error(&r, 409, "last_owner");
	itest_response_free(&r);
	tu_call("DELETE", path, owner, NULL, NULL, NULL, &r);
	expect_error(&r, 409, "cannot_delete_self");
	itest_response_free(&r);
	/* With a second owner, the first may step down; their token dies. */
	snprintf(body, sizeof(body), "{\"username\":\"boss2\",\"password\":\"%s\","
	    "\"roles\":[\"tenant_owner\"]}", tu_password());
	tu_call("POST", "/v1/users", owner, NULL, body, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 201);
	snprintf(oid2, sizeof(oid2), "%s", tu_json_str(&r, "id"));
	itest_response_free(&r);
	tu_call("PATCH", path, owner, NULL, "{\"version\":1,\"roles\":[\"agent\"]}",
	    NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	tu_call("GET", "/v1/auth/me", owner, NULL, NULL, NULL, &r);
	expect_error(&r, 401, "invalid_token");
	itest_response_free(&r);
	/* Deactivation ends sessions too. */
	snprintf(path, sizeof(path), "/v1/users/%s", aid);
	{
		char *boss2 = tu_login(t.slug, "boss2", tu_password());
		CU_ASSERT_PTR_NOT_NULL_FATAL(boss2);
		tu_call("PATCH", path, boss2, NULL,
		    "{\"version\":1,\"is_active\":false}", NULL, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		itest_response_free(&r);
		free(boss2);
	}
	tu_call("GET", "/v1/auth/me", admin, NULL, NULL, NULL, &r);
	expect_error(&r, 401, "invalid_token");
	itest_response_free(&r);
	tu_login_resp(t.slug, "admin1", tu_password(), &r);
	expect_error(&r, 401, "invalid_credentials");
	itest_response_free(&r);
	(void)oid2;
	free(owner);
	free(admin);
}

/* Tenant A's valid token against tenant B's resources: always 404, and
 * B's data unchanged. */
static void
test_cross_tenant(void)
{
	struct itest_response r;
	struct tu_tenant a, b;
	char *ta, *tb, buid[37], bkey[80], bkid[37], path[128], body[256];

	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("xa", NULL, &a));
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("xb", NULL, &b));
	ta = tu_login(a.slug, a.owner, a.password);
	tb = tu_login(b.slug, b.owner, b.password);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ta);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tb);
	CU_ASSERT_TRUE_FATAL(tu_make_user(tb, "bob", "agent", buid));
	CU_ASSERT_TRUE_FATAL(tu_make_key(tb, "[\"users:read\"]", bkey, bkid));

	snprintf(path, sizeof(path), "/v1/users/%s", buid);
	tu_call("GET", path, ta, NULL, NULL, NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	tu_call("PATCH", path, ta, NULL, "{\"version\":1,\"display_name\":\"pwned\"}",
	    NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	tu_call("DELETE", path, ta, NULL, NULL, NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	snprintf(body, sizeof(body), "%s/password", path);
	tu_call("POST", body, ta, NULL, "{\"password\":\"Pwned-Password-1\"}",
	    NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	snprintf(body, sizeof(body), "%s/unlock", path);
	tu_call("POST", body, ta, NULL, "{}", NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/api-keys/%s", bkid);
	tu_call("GET", path, ta, NULL, NULL, NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	tu_call("DELETE", path, ta, NULL, NULL, NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);

	/* A tenant header does not move the caller into another tenant. */
	snprintf(body, sizeof(body), "X-Tenant-Id: %s", b.id);
	tu_call("GET", "/v1/users?limit=200", ta, NULL, NULL, body, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NULL(strstr(r.body, buid));
	CU_ASSERT_PTR_NULL(strstr(r.body, b.id));
	itest_response_free(&r);
	tu_call("GET", "/v1/auth/me", ta, NULL, NULL, body, &r);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "tenant.id"), a.id);
	itest_response_free(&r);
	tu_call("GET", "/v1/audit-log?limit=200", ta, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NULL(strstr(r.body, buid));
	itest_response_free(&r);

	/* B is untouched: its user, its key. */
	snprintf(path, sizeof(path), "/v1/users/%s", buid);
	tu_call("GET", path, tb, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(tu_json_int(&r, "version"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"display_name\":null"));
	itest_response_free(&r);
	tu_call("GET", "/v1/users", NULL, bkey, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	{
		char *bob = tu_login(b.slug, "bob", tu_password());
		CU_ASSERT_PTR_NOT_NULL(bob);
		free(bob);
	}
	/* A's key sees only A. */
	{
		char akey[80], akid[37];
		CU_ASSERT_TRUE_FATAL(tu_make_key(ta, "[\"users:read\"]", akey, akid));
		tu_call("GET", path, NULL, akey, NULL, NULL, &r);
		expect_error(&r, 404, "not_found");
		itest_response_free(&r);
	}
	free(ta);
	free(tb);
}

static void
test_hostile_paths(void)
{
	static const char *const paths[] = {
		"/v1/users/not-a-uuid",
		"/v1/users/00000000-0000-0000-0000-00000000000g",
		"/v1/users/%27%20OR%20%271%27%3D%271",
		"/v1/users/1%3B%20DROP%20TABLE%20users%3B--",
		"/v1/users/00000000-0000-0000-0000-000000000000",
		"/v1/api-keys/%27%3B%20DELETE%20FROM%20api_keys%3B--",
		"/v1/api-keys/123",
		NULL };
	struct itest_response r;
	char *owner, *admin;
	size_t i;
	long long users_before;

	tu_reset_ip_limit();
	owner = tu_demo_token();
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(owner);
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	users_before = count_in(itest_env("DEMO_TENANT_ID", ""),
	    "SELECT count(*) FROM users");
	for (i = 0; paths[i] != NULL; i++) {
		tu_call("GET", paths[i], owner, NULL, NULL, NULL, &r);
		expect_error(&r, 404, "not_found");
		itest_response_free(&r);
		tu_call("DELETE", paths[i], owner, NULL, NULL, NULL, &r);
		expect_error(&r, 404, "not_found");
		itest_response_free(&r);
	}
	tu_call("PATCH", "/v1/users/x'--", owner, NULL, "{\"version\":1}", NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	tu_call("GET", "/v1/tenants/%27%20OR%201%3D1--", admin, NULL, NULL, NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	tu_call("PATCH", "/v1/tenants/not-a-uuid", admin, NULL,
	    "{\"version\":1,\"status\":\"suspended\"}", NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	CU_ASSERT_EQUAL(users_before, count_in(itest_env("DEMO_TENANT_ID", ""),
	    "SELECT count(*) FROM users"));
	free(owner);
	free(admin);
}

/* Injection strings in every string field: formats refuse them (422),
 * free text stores them verbatim, and no statement ever runs them. */
static void
test_hostile_fields(void)
{
	static const char *const evil = "x'); DROP TABLE users; --";
	struct itest_response r;
	struct tu_tenant t;
	char *owner, *admin, body[1024], big[300];

	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("hf", NULL, &t));
	owner = tu_login(t.slug, t.owner, t.password);
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(owner);
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);

	/* Users: username, email, roles are formats; display_name is text. */
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\","
	    "\"roles\":[\"%s\"],\"email\":\"%s\",\"display_name\":\"ok\"}",
	    evil, tu_password(), evil, evil);
	tu_call("POST", "/v1/users", owner, NULL, body, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "username"));
	CU_ASSERT_TRUE(names_field(&r, "roles"));
	CU_ASSERT_TRUE(names_field(&r, "email"));
	itest_response_free(&r);
	CU_ASSERT_EQUAL(count_in(t.id, "SELECT count(*) FROM users"), 1);
	snprintf(body, sizeof(body), "{\"username\":\"carol\",\"password\":\"%s\","
	    "\"roles\":[\"viewer\"],\"display_name\":\"%s\"}", tu_password(), evil);
	tu_call("POST", "/v1/users", owner, NULL, body, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 201);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "display_name"), evil);
	itest_response_free(&r);
	/* Control characters and over-long text. */
	tu_call("POST", "/v1/users", owner, NULL,
	    "{\"username\":\"dave\",\"password\":\"Correct-Horse-9-Battery\","
	    "\"roles\":[\"viewer\"],\"display_name\":\"a\\u0007b\"}", NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "display_name"));
	itest_response_free(&r);
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(body, sizeof(body), "{\"username\":\"%.80s\",\"password\":\"%s\","
	    "\"roles\":[\"viewer\"],\"display_name\":\"%s\"}", big, big, big);
	tu_call("POST", "/v1/users", owner, NULL, body, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "too_long"));
	CU_ASSERT_TRUE(names_field(&r, "display_name"));
	CU_ASSERT_TRUE(names_field(&r, "password"));
	itest_response_free(&r);

	/* Tenants: slug is a format, name is text. */
	snprintf(body, sizeof(body), "{\"slug\":\"%s\",\"name\":\"n\"}", evil);
	tu_call("POST", "/v1/tenants", admin, NULL, body, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "slug"));
	itest_response_free(&r);
	{
		char slug[64];
		tu_unique("ev", slug, sizeof(slug));
		snprintf(body, sizeof(body), "{\"slug\":\"%s\",\"name\":\"%s\"}",
		    slug, evil);
		tu_call("POST", "/v1/tenants", admin, NULL, body, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 201);
		CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "name"), evil);
		itest_response_free(&r);
	}

	/* API keys: scopes are a list of permissions, name is text. */
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"scopes\":[\"%s\"]}",
	    evil, evil);
	tu_call("POST", "/v1/api-keys", owner, NULL, body, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "scopes"));
	itest_response_free(&r);
	CU_ASSERT_EQUAL(count_in(t.id, "SELECT count(*) FROM api_keys"), 0);

	/* Audit filters. */
	tu_call("GET", "/v1/audit-log?action=x%27%20OR%201%3D1--&from=yesterday"
	    "&to=%27%3B--&actor=%07", owner, NULL, NULL, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "action"));
	CU_ASSERT_TRUE(names_field(&r, "from"));
	CU_ASSERT_TRUE(names_field(&r, "to"));
	CU_ASSERT_TRUE(names_field(&r, "actor"));
	itest_response_free(&r);

	/* Every table is intact. */
	CU_ASSERT_EQUAL(count_in(NULL, "SELECT count(*) FROM pg_tables WHERE "
	    "tablename IN ('users','tenants','api_keys','audit_log')"), 4);
	CU_ASSERT_EQUAL(count_in(t.id, "SELECT count(*) FROM users"), 2);
	free(owner);
	free(admin);
}

static void
test_audit_log(void)
{
	struct itest_response r;
	struct tu_tenant t;
	char *owner, uid[37], path[512], key[80], kid[37];

	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("au", NULL, &t));
	owner = tu_login(t.slug, t.owner, t.password);
	CU_ASSERT_PTR_NOT_NULL_FATAL(owner);
	{
		struct itest_response c;
		char body[256];
		snprintf(body, sizeof(body), "{\"username\":\"erin\",\"password\":"
		    "\"%s\",\"roles\":[\"agent\"]}", tu_password());
		tu_call("POST", "/v1/users", owner, NULL, body,
		    "X-Request-Id: itest-audit-1", &c);
		CU_ASSERT_EQUAL_FATAL(c.status, 201);
		snprintf(uid, sizeof(uid), "%s", tu_json_str(&c, "id"));
		itest_response_free(&c);
	}
	CU_ASSERT_TRUE_FATAL(tu_make_key(owner, "[\"audit:read\"]", key, kid));
	tu_login_resp(t.slug, "erin", "Wrong-Password-5", &r);
	itest_response_free(&r);

	tu_call("GET", "/v1/audit-log?action=user.create", owner, NULL, NULL,
	    NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"request_id\":\"itest-audit-1\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"client_addr\":\"127.0.0.1\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"resource_type\":\"user\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, uid));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, t.owner_id));   /* the actor */
	CU_ASSERT_PTR_NULL(strstr(r.body, "auth.login"));
	CU_ASSERT_PTR_NULL(strstr(r.body, tu_password()));
	itest_response_free(&r);

	snprintf(path, sizeof(path), "/v1/audit-log?action=auth.login&actor=%s",
	    t.owner_id);
	tu_call("GET", path, owner, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"outcome\":\"success\""));
	CU_ASSERT_PTR_NULL(strstr(r.body, "\"outcome\":\"failure\""));
	itest_response_free(&r);
	tu_call("GET", "/v1/audit-log?action=auth.login", NULL, key, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"outcome\":\"failure\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"reason\":\"bad_password\""));
	CU_ASSERT_PTR_NULL(strstr(r.body, "Wrong-Password"));
	itest_response_free(&r);
	tu_call("GET", "/v1/audit-log?action=api_key.create", owner, NULL, NULL,
	    NULL, &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, kid));
	CU_ASSERT_PTR_NULL(strstr(r.body, key));
	itest_response_free(&r);

	/* Time window: nothing before 2000, everything until 2999. */
	tu_call("GET", "/v1/audit-log?to=2000-01-01T00:00:00Z", owner, NULL,
	    NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"items\":[]"));
	itest_response_free(&r);
	tu_call("GET", "/v1/audit-log?from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00%2B07:00&limit=1",
	    owner, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(tu_json_str(&r, "next_cursor"));
	{
		char next[200];
		snprintf(next, sizeof(next), "%s", tu_json_str(&r, "next_cursor"));
		itest_response_free(&r);
		snprintf(path, sizeof(path), "/v1/audit-log?limit=1&cursor=%s", next);
		tu_call("GET", path, owner, NULL, NULL, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		itest_response_free(&r);
	}
	/* February 30th is well-formed but not a date. */
	tu_call("GET", "/v1/audit-log?from=2026-02-30T00:00:00Z", owner, NULL,
	    NULL, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	itest_response_free(&r);
	free(owner);
}

/* Retention: old events go, recent stay; run as the owner role by gacpctl. */
static void
test_audit_purge(void)
{
	struct tu_tenant t;
	PGconn *db = tu_db_owner();
	char *out = NULL;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("pu", NULL, &t));
	CU_ASSERT_TRUE(tu_db_scalar(db, t.id, "SELECT count(*) FROM audit_log",
	    NULL) >= 2);
	/* The owner may rewrite history (the application may not, see rls). */
	CU_ASSERT_EQUAL(tu_db_scalar(db, t.id, "UPDATE audit_log SET occurred_at "
	    "= now() - interval '400 days' WHERE id = (SELECT min(id) FROM "
	    "audit_log WHERE tenant_id = gacp_current_tenant())", NULL), 1);
	rc = tu_ctl("--json audit purge", NULL, &out);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"days\":365"));
	free(out);
	CU_ASSERT_EQUAL(tu_db_scalar(db, t.id, "SELECT count(*) FROM audit_log "
	    "WHERE occurred_at < now() - interval '365 days'", NULL), 0);
	CU_ASSERT_TRUE(tu_db_scalar(db, t.id, "SELECT count(*) FROM audit_log",
	    NULL) >= 1);
	rc = tu_ctl("audit purge --days 0", NULL, &out);
	CU_ASSERT_EQUAL(rc, 2);
	free(out);
	PQfinish(db);
}

static void
test_gacpctl(void)
{
	char slug[64], args[512], *out = NULL, *p;
	char key[80] = "", kid[37] = "";
	struct itest_response r;
	int rc;

	tu_reset_ip_limit();
	tu_unique("ctl", slug, sizeof(slug));
	snprintf(args, sizeof(args), "--json tenant create --slug %s --name 'Ctl Co' "
	    "--owner root1", slug);
	rc = tu_ctl(args, "Ctl-Owner-Pass-1\n", &out);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"owner\":{"));
	CU_ASSERT_PTR_NULL(strstr(out, "Ctl-Owner-Pass-1"));
	free(out);
	rc = tu_ctl(args, "Ctl-Owner-Pass-1\n", &out);
	CU_ASSERT_EQUAL(rc, 5);                       /* slug taken */
	free(out);
	rc = tu_ctl("--json tenant list", NULL, &out);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, slug));
	free(out);

	snprintf(args, sizeof(args), "user create --tenant %s --username helper "
	    "--role agent,viewer --json", slug);
	rc = tu_ctl(args, "weak\n", &out);
	CU_ASSERT_EQUAL(rc, 2);                       /* policy */
	free(out);
	rc = tu_ctl(args, "Helper-Pass-1234\n", &out);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"roles\":[\"agent\",\"viewer\"]"));
	free(out);
	snprintf(args, sizeof(args), "--json user list --tenant %s", slug);
	rc = tu_ctl(args, NULL, &out);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"username\":\"helper\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"username\":\"root1\""));
	free(out);
	{
		char *tok = tu_login(slug, "helper", "Helper-Pass-1234");
		CU_ASSERT_PTR_NOT_NULL(tok);
		free(tok);
	}
	/* An operator's reset: must change at the next login. */
	snprintf(args, sizeof(args), "user reset-password --tenant %s "
	    "--username helper", slug);
	rc = tu_ctl(args, "Reset-Pass-5678\n", &out);
	CU_ASSERT_EQUAL(rc, 0);
	free(out);
	tu_login_resp(slug, "helper", "Reset-Pass-5678", &r);
	CU_ASSERT_STRING_EQUAL(itest_error_code(&r), "password_expired");
	itest_response_free(&r);
	snprintf(args, sizeof(args), "--json user unlock --tenant %s "
	    "--username helper", slug);
	rc = tu_ctl(args, NULL, &out);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"unlocked\":false"));
	free(out);
	snprintf(args, sizeof(args), "user unlock --tenant %s --username nobody",
	    slug);
	rc = tu_ctl(args, NULL, &out);
	CU_ASSERT_EQUAL(rc, 4);
	free(out);

	snprintf(args, sizeof(args), "--json apikey create --tenant %s --name "
	    "ctl-key --scope users:read", slug);
	rc = tu_ctl(args, NULL, &out);
	CU_ASSERT_EQUAL(rc, 0);
	if ((p = strstr(out, "\"key\":\"")) != NULL)
		sscanf(p + 7, "%79[^\"]", key);
	if ((p = strstr(out, "\"id\":\"")) != NULL)
		sscanf(p + 6, "%36[^\"]", kid);
	free(out);
	CU_ASSERT_EQUAL_FATAL(strlen(key), 57);
	tu_call("GET", "/v1/users", NULL, key, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	snprintf(args, sizeof(args), "--json apikey list --tenant %s", slug);
	rc = tu_ctl(args, NULL, &out);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, kid));
	CU_ASSERT_PTR_NULL(strstr(out, key));
	free(out);
	snprintf(args, sizeof(args), "apikey revoke --tenant %s --id %s", slug, kid);
	rc = tu_ctl(args, NULL, &out);
	CU_ASSERT_EQUAL(rc, 0);
	free(out);
	tu_call("GET", "/v1/users", NULL, key, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 401);
	itest_response_free(&r);

	/* Suspend and resume. */
	snprintf(args, sizeof(args), "--json tenant suspend --slug %s", slug);
	rc = tu_ctl(args, NULL, &out);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"status\":\"suspended\""));
	free(out);
	tu_login_resp(slug, "root1", "Ctl-Owner-Pass-1", &r);
	CU_ASSERT_STRING_EQUAL(itest_error_code(&r), "tenant_suspended");
	itest_response_free(&r);
	snprintf(args, sizeof(args), "tenant resume --slug %s", slug);
	rc = tu_ctl(args, NULL, &out);
	CU_ASSERT_EQUAL(rc, 0);
	free(out);
	tu_login_resp(slug, "root1", "Ctl-Owner-Pass-1", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);

	/* The operator shows in the audit trail. */
	{
		PGconn *db = tu_db_app();
		char sql[256];
		struct itest_response me;
		char *tok = tu_login(slug, "root1", "Ctl-Owner-Pass-1");
		CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
		tu_call("GET", "/v1/auth/me", tok, NULL, NULL, NULL, &me);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE "
		    "actor_type = 'system' AND actor_id LIKE 'gacpctl:%%' AND action "
		    "IN ('tenant.suspend','tenant.resume','api_key.revoke')");
		CU_ASSERT_EQUAL(tu_db_scalar(db, tu_json_str(&me, "tenant.id"), sql,
		    NULL), 3);
		itest_response_free(&me);
		free(tok);
		PQfinish(db);
	}
	rc = tu_ctl("tenant suspend --slug no-such-tenant-zz", NULL, &out);
	CU_ASSERT_EQUAL(rc, 4);
	free(out);
}

void itest_tenancy_register(void);

void
itest_tenancy_register(void)
{
	static const struct test_case cases[] = {
		{ "tenant create, read, update, delete", test_tenant_crud },
		{ "tenant validation", test_tenant_validation },
		{ "tenant list pagination", test_tenant_list_pagination },
		{ "users CRUD, versions, soft delete", test_users_crud },
		{ "user role rules and sessions", test_user_rules },
		{ "cross-tenant access is 404", test_cross_tenant },
		{ "hostile path parameters", test_hostile_paths },
		{ "hostile fields", test_hostile_fields },
		{ "audit log", test_audit_log },
		{ "audit retention", test_audit_purge },
		{ "gacpctl tenant, user, apikey", test_gacpctl },
		{ NULL, NULL }
	};

	tests_add_suite("tenancy", cases);
}
