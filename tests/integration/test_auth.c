/* test_auth.c - authentication over HTTP: login, tokens (forged, tampered, alg none, expired, wrong kid, other issuer), refresh rotation and reuse, logout, lockout, password expiry, API keys, 401/403, rate limits, suspended tenants. */
#include "tenancy_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void
test_login_and_me(void)
{
	struct itest_response r;
	const char *rt;
	char *tok;

	tu_reset_ip_limit();
	tu_login_resp(itest_env("DEMO_TENANT_SLUG", "demo"),
	    itest_env("DEMO_ADMIN_USER", "admin"),
	    itest_env("DEMO_ADMIN_PASSWORD", ""), &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "token_type"), "Bearer");
	CU_ASSERT_EQUAL(tu_json_int(&r, "expires_in"), 3600);
	CU_ASSERT_TRUE(tu_json_int(&r, "refresh_expires_in") > 0);
	rt = tu_json_str(&r, "refresh_token");
	CU_ASSERT_TRUE(rt != NULL && strncmp(rt, "gacp_rt_", 8) == 0 &&
	    strlen(rt) == 51);
	tok = strdup(tu_json_str(&r, "access_token"));
	/* Three base64url parts, HS256 header with a kid. */
	CU_ASSERT_EQUAL(strchr(strchr(tok, '.') + 1, '.') != NULL, 1);
	itest_response_free(&r);

	tu_call("GET", "/v1/auth/me", tok, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "credential"), "token");
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "tenant.slug"),
	    itest_env("DEMO_TENANT_SLUG", "demo"));
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "tenant.id"),
	    itest_env("DEMO_TENANT_ID", ""));
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "user.username"),
	    itest_env("DEMO_ADMIN_USER", "admin"));
	/* No secret in the representation of a user. */
	CU_ASSERT_PTR_NULL(strstr(r.body, "password_hash"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "$2b$"));
	itest_response_free(&r);

	tu_call("GET", "/v1/auth/me", NULL, itest_env("DEMO_API_KEY", ""), NULL,
	    NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "credential"), "api_key");
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "tenant.id"),
	    itest_env("DEMO_TENANT_ID", ""));
	itest_response_free(&r);

	/* The same key as "Authorization: ApiKey". */
	{
		char h[200];
		snprintf(h, sizeof(h), "Authorization: ApiKey %s",
		    itest_env("DEMO_API_KEY", ""));
		tu_call("GET", "/v1/auth/me", NULL, NULL, NULL, h, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		itest_response_free(&r);
	}
	free(tok);
}

/* Unknown tenant, unknown user, wrong password: one answer. */
static void
test_login_failures_look_alike(void)
{
	const char *tenant = itest_env("DEMO_TENANT_SLUG", "demo");
	const char *user = itest_env("DEMO_ADMIN_USER", "admin");
	struct itest_response a, b, c;

	tu_reset_ip_limit();
	tu_login_resp("no-such-tenant-zz", user, "Wrong-Password-1", &a);
	tu_login_resp(tenant, "no_such_user_zz", "Wrong-Password-1", &b);
	tu_login_resp(tenant, user, "Wrong-Password-1", &c);
	expect_error(&a, 401, "invalid_credentials");
	expect_error(&b, 401, "invalid_credentials");
	expect_error(&c, 401, "invalid_credentials");
	{
		struct json_object *e1, *e2, *m1, *m2;
		CU_ASSERT_TRUE(json_object_object_get_ex(a.json, "error", &e1) &&
		    json_object_object_get_ex(b.json, "error", &e2) &&
		    json_object_object_get_ex(e1, "message", &m1) &&
		    json_object_object_get_ex(e2, "message", &m2) &&
		    strcmp(json_object_get_string(m1),
		    json_object_get_string(m2)) == 0);
	}
	itest_response_free(&a);
	itest_response_free(&b);
	itest_response_free(&c);
}

static void
test_login_validation(void)
{
	struct itest_response r;
	char big[400];

	tu_reset_ip_limit();
	tu_call("POST", "/v1/auth/login", NULL, NULL, "{}", NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"field\":\"tenant\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"field\":\"username\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"field\":\"password\""));
	itest_response_free(&r);

	tu_call("POST", "/v1/auth/login", NULL, NULL,
	    "{\"tenant\":1,\"username\":[],\"password\":null}", NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "invalid_type"));
	itest_response_free(&r);

	/* Over-long fields. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tu_login_resp(big, big, big, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "too_long"));
	itest_response_free(&r);

	/* A NUL hidden in a string. */
	tu_call("POST", "/v1/auth/login", NULL, NULL,
	    "{\"tenant\":\"demo\\u0000x\",\"username\":\"a\",\"password\":\"b\"}",
	    NULL, &r);
	expect_error(&r, 422, "validation_failed");
	itest_response_free(&r);

	/* Not JSON, not an object, wrong content type. */
	tu_call("POST", "/v1/auth/login", NULL, NULL, "{\"tenant\":", NULL, &r);
	expect_error(&r, 400, "invalid_json");
	itest_response_free(&r);
	itest_http("POST", "/v1/auth/login", NULL, "x=1", 3, &r);
	expect_error(&r, 415, "unsupported_media_type");
	itest_response_free(&r);
}

static void
test_login_sql_injection(void)
{
	static const char *const evil[] = {
		"' OR '1'='1", "admin'--", "x'; DROP TABLE users; --",
		"\" OR 1=1 --", "demo' UNION SELECT id, status, true FROM tenants --",
		NULL };
	struct itest_response r;
	PGconn *db = tu_db_owner();
	long long users_before, users_after;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	tu_reset_ip_limit();
	users_before = tu_db_scalar(db, NULL,
	    "SET LOCAL app.platform_admin = 'on'; SELECT count(*) FROM tenants",
	    NULL);
	for (i = 0; evil[i] != NULL; i++) {
		tu_login_resp(evil[i], "admin", "x", &r);
		expect_error(&r, 401, "invalid_credentials");
		itest_response_free(&r);
		tu_login_resp(itest_env("DEMO_TENANT_SLUG", "demo"), evil[i], evil[i],
		    &r);
		expect_error(&r, 401, "invalid_credentials");
		itest_response_free(&r);
	}
	users_after = tu_db_scalar(db, NULL,
	    "SET LOCAL app.platform_admin = 'on'; SELECT count(*) FROM tenants",
	    NULL);
	CU_ASSERT_TRUE(users_before > 0);
	CU_ASSERT_EQUAL(users_before, users_after);
	/* The tables are all still there. */
	CU_ASSERT_EQUAL(tu_db_scalar(db, NULL,
	    "SELECT count(*) FROM pg_tables WHERE tablename IN "
	    "('users','tenants','api_keys','audit_log','refresh_tokens')", NULL), 5);
	PQfinish(db);
}

/* Tokens made by hand with the stack's real key, or with another. */
static void
test_forged_tokens(void)
{
	unsigned char key[512], wrong[32];
	char kid[40], header[200], payload[1024], *tok, *admin;
	const char *tenant = itest_env("DEMO_TENANT_ID", "");
	struct itest_response r;
	size_t key_len;
	long now = (long)time(NULL);
	char sub[37];

	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_jwt_key(kid, key, &key_len));
	/* The demo owner's id: from /me. */
	admin = tu_demo_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	tu_call("GET", "/v1/auth/me", admin, NULL, NULL, NULL, &r);
	snprintf(sub, sizeof(sub), "%s", tu_json_str(&r, "user.id"));
	itest_response_free(&r);

	snprintf(header, sizeof(header),
	    "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
#define PAYLOAD(iss, iat, exp) \
	snprintf(payload, sizeof(payload), "{\"iss\":\"%s\",\"sub\":\"%s\"," \
	    "\"tenant_id\":\"%s\",\"roles\":[\"tenant_owner\"],\"jti\":\"j%ld\"," \
	    "\"iat\":%ld,\"exp\":%ld}", iss, sub, tenant, (long)(iat), \
	    (long)(iat), (long)(exp))

	/* Control: a hand-made token with the right key works. */
	PAYLOAD("gacp_platform", now, now + 600);
	tok = tu_jwt(header, payload, key, key_len);
	tu_call("GET", "/v1/auth/me", tok, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	free(tok);

	/* Expired. */
	PAYLOAD("gacp_platform", now - 7200, now - 3600);
	tok = tu_jwt(header, payload, key, key_len);
	tu_call("GET", "/v1/auth/me", tok, NULL, NULL, NULL, &r);
	expect_error(&r, 401, "invalid_token");
	itest_response_free(&r);
	free(tok);

	/* Another issuer. */
	PAYLOAD("evil_issuer", now, now + 600);
	tok = tu_jwt(header, payload, key, key_len);
	tu_call("GET", "/v1/auth/me", tok, NULL, NULL, NULL, &r);
	expect_error(&r, 401, "invalid_token");
	itest_response_free(&r);
	free(tok);

	/* Signed with another key. */
	memset(wrong, 0x42, sizeof(wrong));
	PAYLOAD("gacp_platform", now, now + 600);
	tok = tu_jwt(header, payload, wrong, sizeof(wrong));
	tu_call("GET", "/v1/auth/me", tok, NULL, NULL, NULL, &r);
	expect_error(&r, 401, "invalid_token");
	itest_response_free(&r);
	free(tok);

	/* Unknown kid (right key bytes). */
	tok = tu_jwt("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"nosuchkid\"}",
	    payload, key, key_len);
	tu_call("GET", "/v1/auth/me", tok, NULL, NULL, NULL, &r);
	expect_error(&r, 401, "invalid_token");
	itest_response_free(&r);
	free(tok);

	/* alg "none", with and without a signature part. */
	snprintf(header, sizeof(header),
	    "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
	tok = tu_jwt(header, payload, key, key_len);
	tu_call("GET", "/v1/auth/me", tok, NULL, NULL, NULL, &r);
	expect_error(&r, 401, "invalid_token");
	itest_response_free(&r);
	*strrchr(tok, '.') = '\0';
	{
		char unsigned_tok[2048];
		snprintf(unsigned_tok, sizeof(unsigned_tok), "%s.", tok);
		tu_call("GET", "/v1/auth/me", unsigned_tok, NULL, NULL, NULL, &r);
		expect_error(&r, 401, "invalid_token");
		itest_response_free(&r);
	}
	free(tok);

	/* HS512 and RS256 claims of the algorithm. */
	snprintf(header, sizeof(header),
	    "{\"alg\":\"HS512\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
	tok = tu_jwt(header, payload, key, key_len);
	tu_call("GET", "/v1/auth/me", tok, NULL, NULL, NULL, &r);
	expect_error(&r, 401, "invalid_token");
	itest_response_free(&r);
	free(tok);

	/* A real token, tampered: its payload re-encoded with another tenant
	 * and its signature kept. */
	{
		char *copy = strdup(admin), *p1 = strchr(copy, '.'), *p2;
		char forged[4096];
		*p1 = '\0';
		p2 = strchr(p1 + 1, '.');
		snprintf(header, sizeof(header),
		    "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
		PAYLOAD("gacp_platform", now, now + 600);
		tok = tu_jwt(header, payload, wrong, sizeof(wrong));
		*strrchr(tok, '.') = '\0';
		snprintf(forged, sizeof(forged), "%s%s", tok, p2);
		tu_call("GET", "/v1/auth/me", forged, NULL, NULL, NULL, &r);
		expect_error(&r, 401, "invalid_token");
		itest_response_free(&r);
		/* One flipped character of the signature. */
		snprintf(forged, sizeof(forged), "%s", admin);
		forged[strlen(forged) - 3] ^= 0x01;
		tu_call("GET", "/v1/auth/me", forged, NULL, NULL, NULL, &r);
		expect_error(&r, 401, "invalid_token");
		itest_response_free(&r);
		free(tok);
		free(copy);
	}
	/* Garbage. */
	tu_call("GET", "/v1/auth/me", "not.a.jwt", NULL, NULL, NULL, &r);
	expect_error(&r, 401, "invalid_token");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.headers, "WWW-Authenticate"));
	itest_response_free(&r);
#undef PAYLOAD
	free(admin);
}

static void
test_credentials_shape(void)
{
	struct itest_response r;
	char h[300];

	tu_reset_ip_limit();
	tu_call("GET", "/v1/auth/me", NULL, NULL, NULL, NULL, &r);
	expect_error(&r, 401, "unauthenticated");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.headers, "WWW-Authenticate"));
	itest_response_free(&r);

	tu_call("GET", "/v1/auth/me", NULL, NULL, NULL,
	    "Authorization: Basic YWRtaW46YWRtaW4=", &r);
	expect_error(&r, 401, "unauthenticated");
	itest_response_free(&r);

	snprintf(h, sizeof(h), "Authorization: ApiKey %s",
	    itest_env("DEMO_API_KEY", ""));
	tu_call("GET", "/v1/auth/me", NULL, itest_env("DEMO_API_KEY", ""), NULL,
	    h, &r);
	expect_error(&r, 400, "ambiguous_credentials");
	itest_response_free(&r);

	/* Keys that are not keys, and a real key with one character changed. */
	tu_call("GET", "/v1/auth/me", NULL, "gacp_00000000_x", NULL, NULL, &r);
	expect_error(&r, 401, "invalid_api_key");
	itest_response_free(&r);
	snprintf(h, sizeof(h), "%s", itest_env("DEMO_API_KEY", ""));
	h[strlen(h) - 2] = h[strlen(h) - 2] == 'A' ? 'B' : 'A';
	tu_call("GET", "/v1/auth/me", NULL, h, NULL, NULL, &r);
	expect_error(&r, 401, "invalid_api_key");
	itest_response_free(&r);
	tu_call("GET", "/v1/auth/me", NULL, "' OR 1=1 --", NULL, NULL, &r);
	expect_error(&r, 401, "invalid_api_key");
	itest_response_free(&r);
}

static void
test_refresh_rotation_and_reuse(void)
{
	struct itest_response r;
	char body[200], rt1[80], rt2[80];
	PGconn *db = tu_db_app();

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	tu_reset_ip_limit();
	tu_login_resp(itest_env("DEMO_TENANT_SLUG", "demo"),
	    itest_env("DEMO_ADMIN_USER", "admin"),
	    itest_env("DEMO_ADMIN_PASSWORD", ""), &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	snprintf(rt1, sizeof(rt1), "%s", tu_json_str(&r, "refresh_token"));
	itest_response_free(&r);

	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", rt1);
	tu_call("POST", "/v1/auth/refresh", NULL, NULL, body, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	snprintf(rt2, sizeof(rt2), "%s", tu_json_str(&r, "refresh_token"));
	CU_ASSERT_STRING_NOT_EQUAL(rt1, rt2);
	{
		char *tok = strdup(tu_json_str(&r, "access_token"));
		struct itest_response me;
		tu_call("GET", "/v1/auth/me", tok, NULL, NULL, NULL, &me);
		CU_ASSERT_EQUAL(me.status, 200);
		itest_response_free(&me);
		free(tok);
	}
	itest_response_free(&r);

	/* The rotated token again: refused, and the family is revoked, so
	 * the newest token dies too. */
	tu_call("POST", "/v1/auth/refresh", NULL, NULL, body, NULL, &r);
	expect_error(&r, 401, "invalid_token");
	itest_response_free(&r);
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", rt2);
	tu_call("POST", "/v1/auth/refresh", NULL, NULL, body, NULL, &r);
	expect_error(&r, 401, "invalid_token");
	itest_response_free(&r);
	CU_ASSERT_TRUE(tu_db_scalar(db, itest_env("DEMO_TENANT_ID", ""),
	    "SELECT count(*) FROM audit_log WHERE action = 'auth.token_reuse' "
	    "AND occurred_at > now() - interval '1 minute'", NULL) >= 1);

	/* Malformed and unknown refresh tokens. */
	tu_call("POST", "/v1/auth/refresh", NULL, NULL,
	    "{\"refresh_token\":\"gacp_rt_' OR 1=1 --\"}", NULL, &r);
	expect_error(&r, 401, "invalid_token");
	itest_response_free(&r);
	tu_call("POST", "/v1/auth/refresh", NULL, NULL,
	    "{\"refresh_token\":\"gacp_rt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
	    NULL, &r);
	expect_error(&r, 401, "invalid_token");
	itest_response_free(&r);
	tu_call("POST", "/v1/auth/refresh", NULL, NULL, "{}", NULL, &r);
	expect_error(&r, 422, "validation_failed");
	itest_response_free(&r);
	PQfinish(db);
}

/* An expired refresh token (its expiry moved into the past by the owner
 * role: no waiting in tests). */
static void
test_refresh_expired(void)
{
	struct itest_response r;
	struct tu_tenant t;
	char body[200], sql[300];
	PGconn *db = tu_db_owner();

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("rx", NULL, &t));
	tu_login_resp(t.slug, t.owner, t.password, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}",
	    tu_json_str(&r, "refresh_token"));
	itest_response_free(&r);
	snprintf(sql, sizeof(sql), "UPDATE refresh_tokens SET expires_at = "
	    "now() - interval '1 second' WHERE user_id = '%s'", t.owner_id);
	CU_ASSERT_TRUE(tu_db_scalar(db, t.id, sql, NULL) >= 1);
	tu_call("POST", "/v1/auth/refresh", NULL, NULL, body, NULL, &r);
	expect_error(&r, 401, "invalid_token");
	itest_response_free(&r);
	PQfinish(db);
}

static void
test_logout(void)
{
	struct itest_response r;
	struct tu_tenant t;
	char body[200], *tok;

	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("lo", NULL, &t));
	tu_login_resp(t.slug, t.owner, t.password, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	tok = strdup(tu_json_str(&r, "access_token"));
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}",
	    tu_json_str(&r, "refresh_token"));
	itest_response_free(&r);

	tu_call("POST", "/v1/auth/logout", tok, NULL, body, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 204);
	itest_response_free(&r);
	/* The access token is denied until it would have expired... */
	tu_call("GET", "/v1/auth/me", tok, NULL, NULL, NULL, &r);
	expect_error(&r, 401, "invalid_token");
	itest_response_free(&r);
	/* ...and the refresh token is revoked. */
	tu_call("POST", "/v1/auth/refresh", NULL, NULL, body, NULL, &r);
	expect_error(&r, 401, "invalid_token");
	itest_response_free(&r);
	/* An API key cannot log out. */
	tu_call("POST", "/v1/auth/logout", NULL, itest_env("DEMO_API_KEY", ""),
	    NULL, NULL, &r);
	expect_error(&r, 403, "not_a_session");
	itest_response_free(&r);
	free(tok);
}

static void
test_lockout_and_unlock(void)
{
	struct itest_response r, ok;
	struct tu_tenant t;
	char *owner, uid[37], path[128];
	PGconn *db = tu_db_app();
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("lk", NULL, &t));
	owner = tu_login(t.slug, t.owner, t.password);
	CU_ASSERT_PTR_NOT_NULL_FATAL(owner);
	CU_ASSERT_TRUE_FATAL(tu_make_user(owner, "victim", "agent", uid));

	for (i = 0; i < 5; i++) {
		tu_login_resp(t.slug, "victim", "Wrong-Password-9", &r);
		expect_error(&r, 401, "invalid_credentials");
		itest_response_free(&r);
	}
	/* Locked: the right password gets the very same answer. */
	tu_login_resp(t.slug, "victim", tu_password(), &r);
	expect_error(&r, 401, "invalid_credentials");
	itest_response_free(&r);
	CU_ASSERT_EQUAL(tu_db_scalar(db, t.id, "SELECT count(*) FROM audit_log "
	    "WHERE action = 'auth.lockout'", NULL), 1);
	CU_ASSERT_TRUE(tu_db_scalar(db, t.id, "SELECT count(*) FROM audit_log "
	    "WHERE action = 'auth.login' AND outcome = 'failure' "
	    "AND details->>'reason' = 'locked'", NULL) >= 1);
	/* Failures never record the password tried. */
	CU_ASSERT_EQUAL(tu_db_scalar(db, t.id, "SELECT count(*) FROM audit_log "
	    "WHERE details::text LIKE '%Wrong-Password%' OR "
	    "details::text LIKE '%Battery%'", NULL), 0);

	/* An agent may not unlock; the owner may. */
	snprintf(path, sizeof(path), "/v1/users/%s/unlock", uid);
	tu_call("POST", path, owner, NULL, "{}", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_TRUE(r.json != NULL && strstr(r.body, "\"unlocked\":true"));
	itest_response_free(&r);
	tu_login_resp(t.slug, "victim", tu_password(), &ok);
	CU_ASSERT_EQUAL(ok.status, 200);
	itest_response_free(&ok);
	CU_ASSERT_EQUAL(tu_db_scalar(db, t.id, "SELECT count(*) FROM audit_log "
	    "WHERE action = 'user.unlock'", NULL), 1);
	free(owner);
	PQfinish(db);
}

static void
test_password_expiry_and_change(void)
{
	struct itest_response r;
	struct tu_tenant t;
	char *owner, *tok, uid[37], path[128], body[256];
	PGconn *db = tu_db_owner();

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("pw", NULL, &t));
	owner = tu_login(t.slug, t.owner, t.password);
	CU_ASSERT_PTR_NOT_NULL_FATAL(owner);
	CU_ASSERT_TRUE_FATAL(tu_make_user(owner, "agent1", "agent", uid));

	/* An administrator's reset: the user must choose a new one. */
	snprintf(path, sizeof(path), "/v1/users/%s/password", uid);
	tu_call("POST", path, owner, NULL, "{\"password\":\"short\"}", NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "password_too_short"));
	itest_response_free(&r);
	tu_call("POST", path, owner, NULL,
	    "{\"password\":\"Temporary-Pass-42\"}", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 204);
	itest_response_free(&r);
	tu_login_resp(t.slug, "agent1", "Temporary-Pass-42", &r);
	expect_error(&r, 403, "password_expired");
	itest_response_free(&r);
	tu_call("POST", "/v1/auth/login", NULL, NULL,
	    "{\"tenant\":\"x\",\"username\":\"agent1\",\"password\":\"a\","
	    "\"new_password\":\"b\"}", NULL, &r);
	expect_error(&r, 401, "invalid_credentials");
	itest_response_free(&r);
	snprintf(body, sizeof(body), "{\"tenant\":\"%s\",\"username\":\"agent1\","
	    "\"password\":\"Temporary-Pass-42\",\"new_password\":\"weak\"}",
	    t.slug);
	tu_call("POST", "/v1/auth/login", NULL, NULL, body, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	itest_response_free(&r);
	snprintf(body, sizeof(body), "{\"tenant\":\"%s\",\"username\":\"agent1\","
	    "\"password\":\"Temporary-Pass-42\",\"new_password\":\"Brand-New-Pass-77\"}",
	    t.slug);
	tu_call("POST", "/v1/auth/login", NULL, NULL, body, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	tok = r.status == 200 ? strdup(tu_json_str(&r, "access_token")) : NULL;
	itest_response_free(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);

	/* Max age: a password changed 91 days ago has expired. */
	{
		char sql[256];
		snprintf(sql, sizeof(sql), "UPDATE users SET password_changed_at = "
		    "now() - interval '91 days' WHERE id = '%s'", uid);
		CU_ASSERT_EQUAL(tu_db_scalar(db, t.id, sql, NULL), 1);
	}
	tu_login_resp(t.slug, "agent1", "Brand-New-Pass-77", &r);
	expect_error(&r, 403, "password_expired");
	itest_response_free(&r);

	/* One's own change needs the current password; it ends the session. */
	tu_call("POST", path, tok, NULL,
	    "{\"password\":\"Another-Pass-88\",\"current_password\":\"nope\"}",
	    NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "current_password"));
	itest_response_free(&r);
	tu_call("POST", path, tok, NULL,
	    "{\"password\":\"Another-Pass-88\",\"current_password\":\"Brand-New-Pass-77\"}",
	    NULL, &r);
	CU_ASSERT_EQUAL(r.status, 204);
	itest_response_free(&r);
	tu_login_resp(t.slug, "agent1", "Another-Pass-88", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);

	/* An agent may not set someone else's password. */
	snprintf(path, sizeof(path), "/v1/users/%s/password", t.owner_id);
	{
		char *agent = tu_login(t.slug, "agent1", "Another-Pass-88");
		CU_ASSERT_PTR_NOT_NULL_FATAL(agent);
		tu_call("POST", path, agent, NULL,
		    "{\"password\":\"Hijacked-Pass-11\"}", NULL, &r);
		expect_error(&r, 403, "forbidden");
		itest_response_free(&r);
		free(agent);
	}
	free(tok);
	free(owner);
	PQfinish(db);
}

static void
test_forbidden_versus_unauthenticated(void)
{
	struct itest_response r;
	struct tu_tenant t;
	char *owner, *viewer, uid[37], key[80], kid[37];

	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("fb", NULL, &t));
	owner = tu_login(t.slug, t.owner, t.password);
	CU_ASSERT_PTR_NOT_NULL_FATAL(owner);
	CU_ASSERT_TRUE_FATAL(tu_make_user(owner, "watcher", "viewer", uid));
	viewer = tu_login(t.slug, "watcher", tu_password());
	CU_ASSERT_PTR_NOT_NULL_FATAL(viewer);

	/* Known caller, no permission: 403. */
	tu_call("GET", "/v1/users", viewer, NULL, NULL, NULL, &r);
	expect_error(&r, 403, "forbidden");
	itest_response_free(&r);
	tu_call("GET", "/v1/audit-log", viewer, NULL, NULL, NULL, &r);
	expect_error(&r, 403, "forbidden");
	itest_response_free(&r);
	/* Platform routes: 403 for a tenant owner. */
	tu_call("GET", "/v1/tenants", owner, NULL, NULL, NULL, &r);
	expect_error(&r, 403, "forbidden");
	itest_response_free(&r);
	/* No credential: 401. */
	tu_call("GET", "/v1/users", NULL, NULL, NULL, NULL, &r);
	expect_error(&r, 401, "unauthenticated");
	itest_response_free(&r);

	/* Keys act by their scopes only. */
	CU_ASSERT_TRUE_FATAL(tu_make_key(owner, "[\"audit:read\"]", key, kid));
	tu_call("GET", "/v1/audit-log", NULL, key, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	tu_call("GET", "/v1/users", NULL, key, NULL, NULL, &r);
	expect_error(&r, 403, "forbidden");
	itest_response_free(&r);
	/* A key never mints keys (RESTRICTED needs a fresh user login). */
	tu_call("POST", "/v1/api-keys", NULL, key, "{\"name\":\"k\"}", NULL, &r);
	expect_error(&r, 403, "forbidden");
	itest_response_free(&r);
	/* A viewer cannot either. */
	tu_call("POST", "/v1/api-keys", viewer, NULL, "{\"name\":\"k\"}", NULL, &r);
	expect_error(&r, 403, "forbidden");
	itest_response_free(&r);
	/* A scope the creator lacks cannot be granted. */
	tu_call("POST", "/v1/api-keys", owner, NULL,
	    "{\"name\":\"k\",\"scopes\":[\"tenants:admin\"]}", NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "scope_not_grantable"));
	itest_response_free(&r);
	free(owner);
	free(viewer);
}

/* RESTRICTED: an owner's token older than 15 minutes must log in again. */
static void
test_restricted_needs_recent_login(void)
{
	unsigned char key[512];
	char kid[40], header[200], payload[1024], *tok;
	struct itest_response r;
	struct tu_tenant t;
	size_t key_len;
	long now = (long)time(NULL);

	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("rs", NULL, &t));
	CU_ASSERT_TRUE_FATAL(tu_jwt_key(kid, key, &key_len));
	snprintf(header, sizeof(header),
	    "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
	snprintf(payload, sizeof(payload), "{\"iss\":\"gacp_platform\","
	    "\"sub\":\"%s\",\"tenant_id\":\"%s\",\"roles\":[\"tenant_owner\"],"
	    "\"jti\":\"old%ld\",\"iat\":%ld,\"exp\":%ld}", t.owner_id, t.id, now,
	    now - 20 * 60, now + 40 * 60);
	tok = tu_jwt(header, payload, key, key_len);
	tu_call("GET", "/v1/api-keys", tok, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	tu_call("POST", "/v1/api-keys", tok, NULL, "{\"name\":\"late\"}", NULL, &r);
	expect_error(&r, 401, "reauthentication_required");
	itest_response_free(&r);
	free(tok);
}

static void
test_api_key_lifecycle(void)
{
	struct itest_response r;
	struct tu_tenant t;
	char *owner, key[80], kid[37], path[128], sql[256];
	PGconn *db = tu_db_owner();

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("ak", NULL, &t));
	owner = tu_login(t.slug, t.owner, t.password);
	CU_ASSERT_PTR_NOT_NULL_FATAL(owner);
	CU_ASSERT_TRUE_FATAL(tu_make_key(owner, "[\"users:read\"]", key, kid));
	CU_ASSERT_EQUAL(strncmp(key, "gacp_", 5), 0);
	CU_ASSERT_EQUAL(strlen(key), 57);

	/* Listed, but never the key nor its hash. */
	tu_call("GET", "/v1/api-keys", owner, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NULL(strstr(r.body, key));
	CU_ASSERT_PTR_NULL(strstr(r.body, key + 14));
	CU_ASSERT_PTR_NULL(strstr(r.body, "hash"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, kid));
	itest_response_free(&r);
	/* The database holds the SHA-256 only. */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM api_keys WHERE "
	    "key_hash = encode(sha256('%s'::bytea), 'hex')", key);
	CU_ASSERT_EQUAL(tu_db_scalar(db, t.id, sql, NULL), 1);

	tu_call("GET", "/v1/users", NULL, key, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);

	/* Expired. */
	snprintf(sql, sizeof(sql), "UPDATE api_keys SET expires_at = now() - "
	    "interval '1 second' WHERE id = '%s'", kid);
	CU_ASSERT_EQUAL(tu_db_scalar(db, t.id, sql, NULL), 1);
	tu_call("GET", "/v1/users", NULL, key, NULL, NULL, &r);
	expect_error(&r, 401, "invalid_api_key");
	itest_response_free(&r);
	snprintf(sql, sizeof(sql), "UPDATE api_keys SET expires_at = NULL "
	    "WHERE id = '%s'", kid);
	CU_ASSERT_EQUAL(tu_db_scalar(db, t.id, sql, NULL), 1);
	tu_call("GET", "/v1/users", NULL, key, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);

	/* Revoked. */
	snprintf(path, sizeof(path), "/v1/api-keys/%s", kid);
	tu_call("DELETE", path, owner, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 204);
	itest_response_free(&r);
	tu_call("GET", "/v1/users", NULL, key, NULL, NULL, &r);
	expect_error(&r, 401, "invalid_api_key");
	itest_response_free(&r);
	tu_call("DELETE", path, owner, NULL, NULL, NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	tu_call("GET", path, owner, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "status"), "revoked");
	itest_response_free(&r);

	/* expires_at must be a future RFC 3339 time. */
	tu_call("POST", "/v1/api-keys", owner, NULL,
	    "{\"name\":\"k\",\"expires_at\":\"2001-01-01T00:00:00Z\"}", NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "in_the_past"));
	itest_response_free(&r);
	tu_call("POST", "/v1/api-keys", owner, NULL,
	    "{\"name\":\"k\",\"expires_at\":\"tomorrow'; DROP TABLE api_keys;--\"}",
	    NULL, &r);
	expect_error(&r, 422, "validation_failed");
	itest_response_free(&r);
	tu_call("POST", "/v1/api-keys", owner, NULL,
	    "{\"name\":\"k\",\"expires_at\":\"2999-12-31T23:59:59Z\"}", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 201);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "expires_at"),
	    "2999-12-31T23:59:59.000000Z");
	itest_response_free(&r);
	free(owner);
	PQfinish(db);
}

static void
test_suspended_tenant(void)
{
	struct itest_response r;
	struct tu_tenant t;
	char *owner, *admin, key[80], kid[37], path[128];

	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("su", NULL, &t));
	owner = tu_login(t.slug, t.owner, t.password);
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(owner);
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	CU_ASSERT_TRUE_FATAL(tu_make_key(owner, "[\"users:read\"]", key, kid));

	snprintf(path, sizeof(path), "/v1/tenants/%s", t.id);
	tu_call("PATCH", path, admin, NULL,
	    "{\"version\":1,\"status\":\"suspended\"}", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "status"), "suspended");
	itest_response_free(&r);

	tu_call("GET", "/v1/auth/me", owner, NULL, NULL, NULL, &r);
	expect_error(&r, 403, "tenant_suspended");
	itest_response_free(&r);
	tu_call("GET", "/v1/users", NULL, key, NULL, NULL, &r);
	expect_error(&r, 403, "tenant_suspended");
	itest_response_free(&r);
	tu_login_resp(t.slug, t.owner, t.password, &r);
	expect_error(&r, 403, "tenant_suspended");
	itest_response_free(&r);
	/* A wrong password learns nothing about the suspension. */
	tu_login_resp(t.slug, t.owner, "Not-The-Password-1", &r);
	expect_error(&r, 401, "invalid_credentials");
	itest_response_free(&r);

	tu_call("PATCH", path, admin, NULL,
	    "{\"version\":2,\"status\":\"active\"}", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	tu_call("GET", "/v1/auth/me", owner, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	free(owner);
	free(admin);
}

/* Per-tenant and per-key limits come from the tenant's settings. */
static void
test_rate_limits(void)
{
	struct itest_response r;
	struct tu_tenant t;
	char *owner, key[80], kid[37], retry[16];
	int i, limited = 0;

	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("rl",
	    "{\"rate_limits\":{\"requests_per_minute\":1000,"
	    "\"api_key_requests_per_minute\":3}}", &t));
	owner = tu_login(t.slug, t.owner, t.password);
	CU_ASSERT_PTR_NOT_NULL_FATAL(owner);
	CU_ASSERT_TRUE_FATAL(tu_make_key(owner, "[\"users:read\"]", key, kid));
	for (i = 0; i < 3; i++) {
		tu_call("GET", "/v1/auth/me", NULL, key, NULL, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		itest_response_free(&r);
	}
	tu_call("GET", "/v1/auth/me", NULL, key, NULL, NULL, &r);
	expect_error(&r, 429, "rate_limited");
	CU_ASSERT_TRUE(itest_header(&r, "Retry-After", retry, sizeof(retry)) &&
	    atoi(retry) >= 1 && atoi(retry) <= 60);
	itest_response_free(&r);
	/* The key's limit is the key's: the owner's token still works. */
	tu_call("GET", "/v1/auth/me", owner, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	free(owner);

	/* The tenant's limit counts every credential of the tenant. */
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("rt",
	    "{\"rate_limits\":{\"requests_per_minute\":4}}", &t));
	owner = tu_login(t.slug, t.owner, t.password);
	CU_ASSERT_PTR_NOT_NULL_FATAL(owner);
	for (i = 0; i < 6; i++) {
		tu_call("GET", "/v1/auth/me", owner, NULL, NULL, NULL, &r);
		if (r.status == 429)
			limited++;
		itest_response_free(&r);
	}
	CU_ASSERT_EQUAL(limited, 2);
	free(owner);

	/* Per client address on the authentication endpoints: bad
	 * credentials count, so keys cannot be guessed at speed. */
	limited = 0;
	for (i = 0; i < 2000 && !limited; i++) {
		tu_call("GET", "/v1/auth/me", NULL, "gacp_00000000_guess", NULL,
		    NULL, &r);
		if (r.status == 429) {
			limited = 1;
			CU_ASSERT_STRING_EQUAL(itest_error_code(&r), "rate_limited");
			CU_ASSERT_TRUE(itest_header(&r, "Retry-After", retry,
			    sizeof(retry)));
		} else {
			CU_ASSERT_EQUAL(r.status, 401);
		}
		itest_response_free(&r);
	}
	CU_ASSERT_TRUE(limited);
	/* While limited, even a login is refused before any password work. */
	tu_login_resp(itest_env("DEMO_TENANT_SLUG", "demo"),
	    itest_env("DEMO_ADMIN_USER", "admin"),
	    itest_env("DEMO_ADMIN_PASSWORD", ""), &r);
	expect_error(&r, 429, "rate_limited");
	itest_response_free(&r);
	tu_reset_ip_limit();
}

static void
test_dependency_down_fails_closed(void)
{
	struct itest_response r;
	char *tok;

	tu_reset_ip_limit();
	tok = tu_demo_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	CU_ASSERT_EQUAL_FATAL(itest_stack("stop redis"), 0);
	/* No Redis: no deny-list, no rate limit, so no access (503). */
	tu_call("GET", "/v1/auth/me", tok, NULL, NULL, NULL, &r);
	expect_error(&r, 503, "dependency_unavailable");
	itest_response_free(&r);
	tu_call("GET", "/v1/auth/me", NULL, itest_env("DEMO_API_KEY", ""), NULL,
	    NULL, &r);
	expect_error(&r, 503, "dependency_unavailable");
	itest_response_free(&r);
	CU_ASSERT_EQUAL_FATAL(itest_stack("start redis"), 0);
	tu_call("GET", "/v1/auth/me", tok, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	free(tok);
}

void itest_auth_register(void);

void
itest_auth_register(void)
{
	static const struct test_case cases[] = {
		{ "login and /me with token and keys", test_login_and_me },
		{ "failed logins look alike", test_login_failures_look_alike },
		{ "login input validation", test_login_validation },
		{ "SQL injection in login fields", test_login_sql_injection },
		{ "forged, tampered, expired, alg none tokens", test_forged_tokens },
		{ "credential headers", test_credentials_shape },
		{ "refresh rotation and reuse", test_refresh_rotation_and_reuse },
		{ "expired refresh token", test_refresh_expired },
		{ "logout", test_logout },
		{ "lockout after 5 failures, admin unlock", test_lockout_and_unlock },
		{ "password reset, expiry and change", test_password_expiry_and_change },
		{ "401 versus 403, scopes", test_forbidden_versus_unauthenticated },
		{ "RESTRICTED needs a recent login", test_restricted_needs_recent_login },
		{ "API key lifecycle", test_api_key_lifecycle },
		{ "suspended tenant", test_suspended_tenant },
		{ "rate limits", test_rate_limits },
		{ "Redis down fails closed", test_dependency_down_fails_closed },
		{ NULL, NULL }
	};

	tests_add_suite("auth", cases);
}
