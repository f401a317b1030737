/* test_channels.c - /v1/channels and /v1/responses through nginx: CRUD, validation, write-only secrets, version conflicts, tenant isolation, audit.
 *
 * Channels are made in the demo tenant (demo API key) with random page ids
 * and in a tenant of their own ("other", its owner's token), so the demo
 * bot is never disturbed; responses are replaced only in "other".  The
 * secrets a channel gets are checked to work where they are used: the
 * verify token in the webhook handshake, the app secret on a signed
 * webhook (a read receipt, which is verified and then ignored, so nothing
 * reaches the worker).
 */
#include "rest_util.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_WAIT_MS 12000   /* > messenger.channel_cache_ttl_ms (5 s) */

static struct ru_cred demo;
static struct ru_tenant other;

static bool
setup(void)
{
	static int state;    /* 0 not yet, 1 ready, -1 failed */

	if (state == 0)
		state = ru_demo_key(&demo) && ru_make_tenant("chan", &other) ?
		    1 : -1;
	return state == 1;
}

struct secrets {
	char app_secret[40];
	char page_token[80];
	char verify_token[40];
	char page_id[24];
};

static void
new_secrets(struct secrets *s)
{
	ru_unique("appsecret-", s->app_secret, sizeof(s->app_secret));
	ru_unique("EAAGpagetoken-", s->page_token, sizeof(s->page_token));
	ru_unique("verify-", s->verify_token, sizeof(s->verify_token));
	ru_digits(s->page_id, 15);
}

static char *
channel_body(const char *name, const struct secrets *s)
{
	char *b = malloc(1024);

	snprintf(b, 1024, "{\"name\":\"%s\",\"page_id\":\"%s\","
	    "\"app_secret\":\"%s\",\"page_access_token\":\"%s\","
	    "\"verify_token\":\"%s\"}", name, s->page_id, s->app_secret,
	    s->page_token, s->verify_token);
	return b;
}

/* POST a channel; its id into id (37) and version; 201 or CU failure. */
static bool
create(const struct ru_cred *cred, const struct secrets *s, char id[37])
{
	struct itest_response r;
	char *body = channel_body("Test page", s);
	bool ok;

	ru_call("POST", "/v1/channels", cred, body, NULL, &r);
	ok = r.status == 201 && ru_json_str(&r, "id") != NULL;
	if (ok)
		snprintf(id, 37, "%s", ru_json_str(&r, "id"));
	else
		fprintf(stderr, "create channel: %ld %s\n", r.status, r.body);
	itest_response_free(&r);
	free(body);
	return ok;
}

static int64_t
version_of(const struct ru_cred *cred, const char *id)
{
	struct itest_response r;
	char path[128];
	int64_t v;

	snprintf(path, sizeof(path), "/v1/channels/%s", id);
	ru_call("GET", path, cred, NULL, NULL, &r);
	v = r.status == 200 ? ru_json_int(&r, "version") : -1;
	itest_response_free(&r);
	return v;
}

static bool
contains(const struct itest_response *r, const char *needle)
{
	return r->body != NULL && strstr(r->body, needle) != NULL;
}

static void
assert_no_secrets(const struct itest_response *r, const struct secrets *s)
{
	CU_ASSERT_FALSE(contains(r, s->app_secret));
	CU_ASSERT_FALSE(contains(r, s->page_token));
	CU_ASSERT_FALSE(contains(r, s->verify_token));
	CU_ASSERT_FALSE(contains(r, "app_secret"));
	CU_ASSERT_FALSE(contains(r, "page_access_token"));
	CU_ASSERT_FALSE(contains(r, "verify_token"));
}

/* A signed webhook carrying only a read receipt for page_id: verified,
 * then ignored.  The HTTP status. */
static long
post_read_receipt(const char *page_id, const char *secret)
{
	char body[512];
	long long now = ru_now_ms();

	snprintf(body, sizeof(body), "{\"object\":\"page\",\"entry\":[{\"id\":"
	    "\"%s\",\"time\":%lld,\"messaging\":[{\"sender\":{\"id\":"
	    "\"1234567\"},\"recipient\":{\"id\":\"%s\"},\"timestamp\":%lld,"
	    "\"read\":{\"watermark\":%lld}}]}]}", page_id, now, page_id, now,
	    now);
	return ru_post_webhook(body, secret);
}

/* Poll until the webhook answers want (FastCGI processes cache pages for
 * a few seconds); true if it did. */
static bool
wait_webhook(const char *page_id, const char *secret, long want)
{
	long long deadline = ru_now_ms() + CACHE_WAIT_MS;

	do {
		if (post_read_receipt(page_id, secret) == want)
			return true;
		ru_sleep_ms(100);
	} while (ru_now_ms() < deadline);
	return false;
}

static long
verify_handshake(const char *token)
{
	struct itest_response r;
	char path[256];
	long status;

	snprintf(path, sizeof(path), "/webhooks/messenger?hub.mode=subscribe&"
	    "hub.verify_token=%s&hub.challenge=8231957", token);
	itest_http("GET", path, NULL, NULL, 0, &r);
	status = r.status == 200 && contains(&r, "8231957") ? 200 : r.status;
	itest_response_free(&r);
	return status;
}

/* ---- channels -------------------------------------------------------------- */

static void
test_create_hides_secrets(void)
{
	struct itest_response r;
	struct secrets s;
	char *body, path[128], hash_hex[65];
	unsigned char hash[SHA256_DIGEST_LENGTH];
	PGconn *db;
	const char *p[1];
	char *v;
	int i;

	CU_ASSERT_FATAL(setup());
	new_secrets(&s);
	body = channel_body("Shop page", &s);
	ru_call("POST", "/v1/channels", &demo, body, NULL, &r);
	free(body);
	CU_ASSERT_EQUAL_FATAL(r.status, 201);
	RU_ASSERT_STR(ru_json_str(&r, "type"), "messenger");
	RU_ASSERT_STR(ru_json_str(&r, "name"), "Shop page");
	RU_ASSERT_STR(ru_json_str(&r, "page_id"), s.page_id);
	RU_ASSERT_STR(ru_json_str(&r, "status"), "active");
	CU_ASSERT_EQUAL(ru_json_int(&r, "version"), 1);
	CU_ASSERT_PTR_NULL(ru_json_at(&r, "last_error"));
	assert_no_secrets(&r, &s);
	snprintf(path, sizeof(path), "/v1/channels/%s", ru_json_str(&r, "id"));
	p[0] = ru_json_str(&r, "id");
	db = ru_db(getenv("DEMO_TENANT_ID"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	/* At rest: sealed envelopes and a hash, never the plain values. */
	v = ru_db_value(db, "SELECT app_secret_enc || ' ' || "
	    "page_access_token_enc FROM channels WHERE id = $1", 1, p);
	CU_ASSERT_PTR_NOT_NULL(v);
	CU_ASSERT_PTR_NULL(v ? strstr(v, s.app_secret) : "x");
	CU_ASSERT_PTR_NULL(v ? strstr(v, s.page_token) : "x");
	free(v);
	SHA256((const unsigned char *)s.verify_token, strlen(s.verify_token),
	    hash);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++)
		sprintf(hash_hex + 2 * i, "%02x", hash[i]);
	v = ru_db_value(db, "SELECT verify_token_hash FROM channels WHERE "
	    "id = $1", 1, p);
	CU_ASSERT_PTR_NOT_NULL(v);
	RU_ASSERT_STR(v, hash_hex);
	free(v);
	PQfinish(db);
	itest_response_free(&r);

	ru_call("GET", path, &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	assert_no_secrets(&r, &s);
	itest_response_free(&r);
	ru_call("GET", "/v1/channels?limit=200", &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_TRUE(contains(&r, s.page_id));
	assert_no_secrets(&r, &s);
	itest_response_free(&r);
}

static void
test_secrets_work_on_the_webhook(void)
{
	struct secrets s;
	char id[37];

	CU_ASSERT_FATAL(setup());
	new_secrets(&s);
	CU_ASSERT_FATAL(create(&demo, &s, id));
	CU_ASSERT_EQUAL(verify_handshake(s.verify_token), 200);
	CU_ASSERT_EQUAL(verify_handshake("not-the-verify-token"), 403);
	CU_ASSERT_EQUAL(post_read_receipt(s.page_id, s.app_secret), 200);
	CU_ASSERT_EQUAL(post_read_receipt(s.page_id, "another-secret"), 403);
}

static void
test_validation_errors(void)
{
	struct itest_response r;
	char body[1024], page[24];
	PGconn *db;
	const char *p[1];
	char *n;

	CU_ASSERT_FATAL(setup());
	ru_digits(page, 14);
	/* Several problems at once: each named, nothing written. */
	snprintf(body, sizeof(body), "{\"type\":\"rest\",\"page_id\":\"12ab\","
	    "\"app_secret\":\"short\",\"page_access_token\":\"has space in "
	    "it, which is not a token\",\"verify_token\":\"v\","
	    "\"colour\":\"red\",\"metadata\":[1]}");
	ru_call("POST", "/v1/channels", &demo, body, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	RU_ASSERT_STR(itest_error_code(&r), "validation_failed");
	CU_ASSERT_TRUE(ru_field_error(&r, "type", "invalid_value"));
	CU_ASSERT_TRUE(ru_field_error(&r, "name", "required"));
	CU_ASSERT_TRUE(ru_field_error(&r, "page_id", "invalid_format"));
	CU_ASSERT_TRUE(ru_field_error(&r, "app_secret", "too_short"));
	CU_ASSERT_TRUE(ru_field_error(&r, "page_access_token",
	    "invalid_characters"));
	CU_ASSERT_TRUE(ru_field_error(&r, "verify_token", "too_short"));
	CU_ASSERT_TRUE(ru_field_error(&r, "colour", "unknown_field"));
	CU_ASSERT_TRUE(ru_field_error(&r, "metadata", "invalid_type"));
	itest_response_free(&r);

	/* One bad field among good ones still writes nothing. */
	snprintf(body, sizeof(body), "{\"name\":\"%0250d\",\"page_id\":\"%s\","
	    "\"app_secret\":\"good-app-secret\",\"page_access_token\":"
	    "\"EAAGgood-page-token-123\",\"verify_token\":\"good-verify-token\"}",
	    0, page);
	ru_call("POST", "/v1/channels", &demo, body, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "name", "too_long"));
	itest_response_free(&r);
	db = ru_db(getenv("DEMO_TENANT_ID"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	p[0] = page;
	n = ru_db_value(db, "SELECT count(*) FROM channels WHERE page_id = $1",
	    1, p);
	RU_ASSERT_STR(n, "0");
	free(n);
	PQfinish(db);

	ru_call("POST", "/v1/channels", &demo, "not json", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 400);
	itest_response_free(&r);
	ru_call("POST", "/v1/channels", &demo, "{}", "text/plain", &r);
	CU_ASSERT_EQUAL(r.status, 415);
	itest_response_free(&r);
}

static void
test_unique_page_and_verify_token(void)
{
	struct itest_response r;
	struct secrets s, t;
	char id[37], *body;

	CU_ASSERT_FATAL(setup());
	new_secrets(&s);
	CU_ASSERT_FATAL(create(&demo, &s, id));
	/* The same page in another tenant: webhooks could not be routed. */
	new_secrets(&t);
	memcpy(t.page_id, s.page_id, sizeof(t.page_id));
	body = channel_body("Copy", &t);
	ru_call("POST", "/v1/channels", &other.owner, body, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 409);
	RU_ASSERT_STR(itest_error_code(&r), "page_id_taken");
	itest_response_free(&r);
	free(body);
	/* A verify token names one channel for the handshake. */
	new_secrets(&t);
	memcpy(t.verify_token, s.verify_token, sizeof(t.verify_token));
	body = channel_body("Copy", &t);
	ru_call("POST", "/v1/channels", &other.owner, body, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 409);
	RU_ASSERT_STR(itest_error_code(&r), "verify_token_taken");
	itest_response_free(&r);
	free(body);
}

static void
test_list_paginates_and_filters(void)
{
	struct itest_response r;
	struct secrets s;
	char ids[3][37], path[512], body[128];
	const char *cursor;
	char *next;
	int i;

	CU_ASSERT_FATAL(setup());
	for (i = 0; i < 3; i++) {
		new_secrets(&s);
		CU_ASSERT_FATAL(create(&other.owner, &s, ids[i]));
	}
	ru_call("GET", "/v1/channels?limit=2", &other.owner, NULL, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	CU_ASSERT_EQUAL(json_object_array_length(ru_json_at(&r, "items")), 2);
	cursor = ru_json_str(&r, "next_cursor");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cursor);
	next = strdup(cursor);
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/channels?limit=2&cursor=%s", next);
	free(next);
	ru_call("GET", path, &other.owner, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	/* Oldest first: the third channel made is the last item overall. */
	CU_ASSERT_TRUE(contains(&r, ids[2]));
	CU_ASSERT_FALSE(contains(&r, ids[0]));
	itest_response_free(&r);

	snprintf(path, sizeof(path), "/v1/channels/%s", ids[1]);
	snprintf(body, sizeof(body), "{\"version\":1,\"status\":\"disabled\"}");
	ru_call("PATCH", path, &other.owner, body, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	ru_call("GET", "/v1/channels?status=disabled", &other.owner, NULL, NULL,
	    &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(json_object_array_length(ru_json_at(&r, "items")), 1);
	CU_ASSERT_TRUE(contains(&r, ids[1]));
	itest_response_free(&r);

	ru_call("GET", "/v1/channels?status=sleeping&limit=0&cursor=zz",
	    &other.owner, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "status", "invalid_value"));
	CU_ASSERT_TRUE(ru_field_error(&r, "limit", "out_of_range"));
	CU_ASSERT_TRUE(ru_field_error(&r, "cursor", "invalid_cursor"));
	itest_response_free(&r);
}

static void
test_other_tenant_gets_404(void)
{
	struct itest_response r;
	struct secrets s;
	char id[37], path[128];

	CU_ASSERT_FATAL(setup());
	new_secrets(&s);
	CU_ASSERT_FATAL(create(&demo, &s, id));
	snprintf(path, sizeof(path), "/v1/channels/%s", id);
	ru_call("GET", path, &other.owner, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	RU_ASSERT_STR(itest_error_code(&r), "not_found");
	itest_response_free(&r);
	ru_call("PATCH", path, &other.owner, "{\"version\":1,\"name\":\"x\"}",
	    NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	itest_response_free(&r);
	ru_call("DELETE", path, &other.owner, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	itest_response_free(&r);
	ru_call("GET", "/v1/channels?limit=200", &other.owner, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_FALSE(contains(&r, id));
	itest_response_free(&r);
	/* Untouched by the attempts. */
	CU_ASSERT_EQUAL(version_of(&demo, id), 1);
	ru_call("GET", "/v1/channels/not-a-uuid", &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	itest_response_free(&r);
	ru_call("GET", "/v1/channels/00000000-0000-4000-8000-000000000000",
	    &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	itest_response_free(&r);
}

static void
test_update_needs_current_version(void)
{
	struct itest_response r;
	struct secrets s;
	char id[37], path[128];

	CU_ASSERT_FATAL(setup());
	new_secrets(&s);
	CU_ASSERT_FATAL(create(&demo, &s, id));
	snprintf(path, sizeof(path), "/v1/channels/%s", id);
	ru_call("PATCH", path, &demo, "{\"name\":\"Renamed\"}", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "version", "required"));
	itest_response_free(&r);
	ru_call("PATCH", path, &demo, "{\"version\":1,\"name\":\"Renamed\","
	    "\"metadata\":{\"team\":\"sales\"}}", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	RU_ASSERT_STR(ru_json_str(&r, "name"), "Renamed");
	RU_ASSERT_STR(ru_json_str(&r, "metadata.team"), "sales");
	CU_ASSERT_EQUAL(ru_json_int(&r, "version"), 2);
	itest_response_free(&r);
	/* Someone else's edit came first. */
	ru_call("PATCH", path, &demo, "{\"version\":1,\"name\":\"Stale\"}", NULL,
	    &r);
	CU_ASSERT_EQUAL(r.status, 409);
	RU_ASSERT_STR(itest_error_code(&r), "version_conflict");
	itest_response_free(&r);
	ru_call("GET", path, &demo, NULL, NULL, &r);
	RU_ASSERT_STR(ru_json_str(&r, "name"), "Renamed");
	itest_response_free(&r);
	/* page_id is not editable: the channel is that page. */
	ru_call("PATCH", path, &demo, "{\"version\":2,\"page_id\":\"42\"}", NULL,
	    &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "page_id", "unknown_field"));
	itest_response_free(&r);
}

static void
test_status_rules_and_reauth(void)
{
	struct itest_response r;
	struct secrets s;
	char id[37], path[128], body[256], *before, *after;
	const char *p[1];
	PGconn *db;

	CU_ASSERT_FATAL(setup());
	new_secrets(&s);
	CU_ASSERT_FATAL(create(&demo, &s, id));
	snprintf(path, sizeof(path), "/v1/channels/%s", id);
	ru_call("PATCH", path, &demo, "{\"version\":1,\"status\":"
	    "\"needs_reauth\"}", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "status", "not_settable"));
	itest_response_free(&r);
	ru_call("PATCH", path, &demo, "{\"version\":1,\"status\":\"disabled\"}",
	    NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	RU_ASSERT_STR(ru_json_str(&r, "status"), "disabled");
	itest_response_free(&r);
	/* A disabled page's webhooks are refused (once caches expire). */
	CU_ASSERT_TRUE(wait_webhook(s.page_id, s.app_secret, 403));
	ru_call("PATCH", path, &demo, "{\"version\":2,\"status\":\"active\"}",
	    NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	CU_ASSERT_TRUE(wait_webhook(s.page_id, s.app_secret, 200));

	/* What gacp-worker does on Graph code 190. */
	db = ru_db(getenv("DEMO_TENANT_ID"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	p[0] = id;
	CU_ASSERT_TRUE(ru_db_exec(db, "UPDATE channels SET status = "
	    "'needs_reauth', last_error = '{\"reason\":\"token_invalid\","
	    "\"code\":190}' WHERE id = $1", 1, p));
	ru_call("GET", "/v1/channels?status=needs_reauth&limit=200", &demo,
	    NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_TRUE(contains(&r, id));
	CU_ASSERT_TRUE(contains(&r, "\"code\":190"));
	itest_response_free(&r);
	ru_call("GET", path, &demo, NULL, NULL, &r);
	RU_ASSERT_STR(ru_json_str(&r, "status"), "needs_reauth");
	CU_ASSERT_EQUAL(ru_json_int(&r, "last_error.code"), 190);
	CU_ASSERT_EQUAL(ru_json_int(&r, "version"), 4);
	itest_response_free(&r);
	/* Only a new page token re-activates it. */
	ru_call("PATCH", path, &demo, "{\"version\":4,\"status\":\"active\"}",
	    NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "status", "reauth_required"));
	itest_response_free(&r);
	before = ru_db_value(db, "SELECT page_access_token_enc FROM channels "
	    "WHERE id = $1", 1, p);
	snprintf(body, sizeof(body), "{\"version\":4,\"page_access_token\":"
	    "\"EAAGrenewed-%s\"}", s.page_token + 14);
	ru_call("PATCH", path, &demo, body, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	RU_ASSERT_STR(ru_json_str(&r, "status"), "active");
	CU_ASSERT_PTR_NULL(ru_json_at(&r, "last_error"));
	CU_ASSERT_FALSE(contains(&r, "EAAGrenewed"));
	itest_response_free(&r);
	after = ru_db_value(db, "SELECT page_access_token_enc FROM channels "
	    "WHERE id = $1", 1, p);
	CU_ASSERT_PTR_NOT_NULL(before);
	CU_ASSERT_PTR_NOT_NULL(after);
	CU_ASSERT_TRUE(before && after && strcmp(before, after) != 0);
	CU_ASSERT_PTR_NULL(after ? strstr(after, "EAAGrenewed") : "x");
	free(before);
	free(after);
	PQfinish(db);
}

static void
test_new_app_secret_takes_over(void)
{
	struct itest_response r;
	struct secrets s;
	char id[37], path[128], body[256], secret[40], token[40];

	CU_ASSERT_FATAL(setup());
	new_secrets(&s);
	CU_ASSERT_FATAL(create(&demo, &s, id));
	CU_ASSERT_EQUAL(post_read_receipt(s.page_id, s.app_secret), 200);
	ru_unique("rotated-secret-", secret, sizeof(secret));
	ru_unique("rotated-verify-", token, sizeof(token));
	snprintf(path, sizeof(path), "/v1/channels/%s", id);
	snprintf(body, sizeof(body), "{\"version\":1,\"app_secret\":\"%s\","
	    "\"verify_token\":\"%s\"}", secret, token);
	ru_call("PATCH", path, &demo, body, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_FALSE(contains(&r, secret));
	itest_response_free(&r);
	/* Each FastCGI process may use its cached secret for up to the
	 * cache TTL; after that only the new one verifies. */
	CU_ASSERT_TRUE(wait_webhook(s.page_id, secret, 200));
	CU_ASSERT_TRUE(wait_webhook(s.page_id, s.app_secret, 403));
	CU_ASSERT_EQUAL(verify_handshake(token), 200);
	CU_ASSERT_EQUAL(verify_handshake(s.verify_token), 403);
}

static void
test_delete(void)
{
	struct itest_response r;
	struct secrets s;
	char id[37], id2[37], path[160];

	CU_ASSERT_FATAL(setup());
	new_secrets(&s);
	CU_ASSERT_FATAL(create(&demo, &s, id));
	snprintf(path, sizeof(path), "/v1/channels/%s?version=7", id);
	ru_call("DELETE", path, &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 409);
	RU_ASSERT_STR(itest_error_code(&r), "version_conflict");
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/channels/%s?version=x1", id);
	ru_call("DELETE", path, &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/channels/%s?version=1", id);
	ru_call("DELETE", path, &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 204);
	CU_ASSERT_EQUAL(r.body_len, 0);
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/channels/%s", id);
	ru_call("GET", path, &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	itest_response_free(&r);
	ru_call("DELETE", path, &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	itest_response_free(&r);
	/* The page may be connected again, by anyone. */
	new_secrets(&s);
	CU_ASSERT_FATAL(create(&other.owner, &s, id2));
}

/* The audit entries of action for resource id; the response is kept. */
static int
audit_entries(const struct ru_cred *cred, const char *action, const char *id,
    struct itest_response *r)
{
	struct json_object *items, *e, *v;
	char path[256];
	size_t i;
	int n = 0;

	snprintf(path, sizeof(path), "/v1/audit-log?action=%s&limit=200",
	    action);
	ru_call("GET", path, cred, NULL, NULL, r);
	items = ru_json_at(r, "items");
	for (i = 0; items != NULL && i < json_object_array_length(items); i++) {
		e = json_object_array_get_idx(items, i);
		if (id == NULL || (json_object_object_get_ex(e, "resource_id",
		    &v) && strcmp(json_object_get_string(v), id) == 0))
			n++;
	}
	return n;
}

static void
test_changes_are_audited(void)
{
	struct itest_response r;
	struct secrets s;
	char id[37], path[160], body[256];

	CU_ASSERT_FATAL(setup());
	new_secrets(&s);
	CU_ASSERT_FATAL(create(&other.owner, &s, id));
	snprintf(path, sizeof(path), "/v1/channels/%s", id);
	snprintf(body, sizeof(body), "{\"version\":1,\"app_secret\":"
	    "\"%s-2\"}", s.app_secret);
	ru_call("PATCH", path, &other.owner, body, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	ru_call("DELETE", path, &other.owner, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 204);
	itest_response_free(&r);

	CU_ASSERT_EQUAL(audit_entries(&other.owner, "channel.create", id, &r), 1);
	CU_ASSERT_FALSE(contains(&r, s.app_secret));
	CU_ASSERT_FALSE(contains(&r, s.page_token));
	CU_ASSERT_FALSE(contains(&r, s.verify_token));
	itest_response_free(&r);
	CU_ASSERT_EQUAL(audit_entries(&other.owner, "channel.update", id, &r), 1);
	CU_ASSERT_TRUE(contains(&r, "\"changed\":[\"app_secret\"]"));
	CU_ASSERT_FALSE(contains(&r, s.app_secret));
	itest_response_free(&r);
	CU_ASSERT_EQUAL(audit_entries(&other.owner, "channel.delete", id, &r), 1);
	itest_response_free(&r);
}

static void
test_roles(void)
{
	struct itest_response r;
	struct ru_cred viewer, agent;
	struct secrets s;
	char *body;

	CU_ASSERT_FATAL(setup());
	CU_ASSERT_FATAL(ru_make_user(&other, "viewer", &viewer));
	CU_ASSERT_FATAL(ru_make_user(&other, "agent", &agent));
	ru_call("GET", "/v1/channels", &viewer, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	new_secrets(&s);
	body = channel_body("Viewer's", &s);
	ru_call("POST", "/v1/channels", &viewer, body, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	itest_response_free(&r);
	free(body);
	ru_call("GET", "/v1/channels", &agent, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	itest_response_free(&r);
	ru_call("GET", "/v1/channels", NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 401);
	itest_response_free(&r);
}

/* ---- responses ------------------------------------------------------------ */

static const char *responses_json =
    "{\"responses\":["
    "{\"intent\":\"greet\",\"language\":\"en\",\"templates\":[\"Hello "
    "{name}!\",\"Hi there\"],\"selection\":\"round_robin\","
    "\"quick_replies\":[{\"title\":\"Fees\",\"payload\":\"/certification_fee\"}]},"
    "{\"intent\":\"greet\",\"language\":\"th\",\"templates\":[\"สวัสดีครับ\"]},"
    "{\"intent\":\"schedule_inspection\",\"language\":\"en\",\"templates\":"
    "[\"Inspection booked for {date}.\"],\"max_turns\":4,\"required_slots\":"
    "[{\"slot\":\"date\",\"prompt\":\"Which day suits you?\"}]}"
    "]}";

static const char *responses_yaml =
    "version: \"3.1\"\n"
    "responses:\n"
    "  utter_goodbye:\n"
    "    - text: \"Bye!\"\n"
    "      condition:\n"
    "        - type: slot\n"
    "          name: language\n"
    "          value: en\n"
    "    - text: \"ลาก่อนครับ\"\n"
    "      condition:\n"
    "        - type: slot\n"
    "          name: language\n"
    "          value: th\n"
    "  utter_application_status:\n"
    "    - text: \"Application {application_number} is under review.\"\n"
    "      buttons:\n"
    "        - title: \"Talk to a person\"\n"
    "          payload: \"/human_handoff\"\n"
    "  utter_ask_application_number:\n"
    "    - text: \"What is your application number?\"\n"
    "forms:\n"
    "  application_status_form:\n"
    "    required_slots:\n"
    "      - application_number\n";

/* The response for intent/language in a GET document, or NULL. */
static struct json_object *
find_response(const struct itest_response *r, const char *intent,
    const char *language)
{
	struct json_object *arr = ru_json_at(r, "responses"), *e, *i, *l;
	size_t k;

	for (k = 0; arr != NULL && k < json_object_array_length(arr); k++) {
		e = json_object_array_get_idx(arr, k);
		if (json_object_object_get_ex(e, "intent", &i) &&
		    json_object_object_get_ex(e, "language", &l) &&
		    strcmp(json_object_get_string(i), intent) == 0 &&
		    strcmp(json_object_get_string(l), language) == 0)
			return e;
	}
	return NULL;
}

static size_t
count_responses(const struct itest_response *r)
{
	struct json_object *arr = ru_json_at(r, "responses");

	return arr ? json_object_array_length(arr) : (size_t)-1;
}

static const char *
member_str(struct json_object *o, const char *path)
{
	char buf[128], *save = NULL, *tok;
	struct json_object *cur = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && cur;
	    tok = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(cur, json_type_array))
			cur = json_object_array_get_idx(cur, (size_t)atoi(tok));
		else if (!json_object_object_get_ex(cur, tok, &cur))
			return NULL;
	}
	return cur ? json_object_get_string(cur) : NULL;
}

static void
test_responses_json_round_trip(void)
{
	struct itest_response r, g;
	struct json_object *e;

	CU_ASSERT_FATAL(setup());
	ru_call("GET", "/v1/responses", &other.owner, NULL, NULL, &g);
	CU_ASSERT_EQUAL(g.status, 200);
	CU_ASSERT_EQUAL(count_responses(&g), 0);
	itest_response_free(&g);

	ru_call("PUT", "/v1/responses", &other.owner, responses_json, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	CU_ASSERT_EQUAL(count_responses(&r), 3);
	itest_response_free(&r);
	ru_call("GET", "/v1/responses", &other.owner, NULL, NULL, &g);
	CU_ASSERT_EQUAL_FATAL(g.status, 200);
	CU_ASSERT_EQUAL(count_responses(&g), 3);
	e = find_response(&g, "greet", "en");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	RU_ASSERT_STR(member_str(e, "templates.0"), "Hello {name}!");
	RU_ASSERT_STR(member_str(e, "templates.1"), "Hi there");
	RU_ASSERT_STR(member_str(e, "selection"), "round_robin");
	RU_ASSERT_STR(member_str(e, "quick_replies.0.payload"),
	    "/certification_fee");
	RU_ASSERT_STR(member_str(e, "max_turns"), "3");
	e = find_response(&g, "greet", "th");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	RU_ASSERT_STR(member_str(e, "templates.0"), "สวัสดีครับ");
	RU_ASSERT_STR(member_str(e, "selection"), "random");
	e = find_response(&g, "schedule_inspection", "en");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	RU_ASSERT_STR(member_str(e, "max_turns"), "4");
	RU_ASSERT_STR(member_str(e, "required_slots.0.slot"), "date");
	RU_ASSERT_STR(member_str(e, "required_slots.0.entity"), "date");
	RU_ASSERT_STR(member_str(e, "required_slots.0.prompt"),
	    "Which day suits you?");

	/* The GET document PUT back as it is: accepted, nothing changes. */
	ru_call("PUT", "/v1/responses", &other.owner, g.body, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	RU_ASSERT_STR(member_str(find_response(&r, "greet", "en"),
	    "version"), member_str(find_response(&g, "greet", "en"), "version"));
	RU_ASSERT_STR(member_str(find_response(&r, "greet", "en"),
	    "id"), member_str(find_response(&g, "greet", "en"), "id"));
	itest_response_free(&r);
	itest_response_free(&g);
}

static void
test_responses_yaml_replaces_set(void)
{
	struct itest_response r, g;
	struct json_object *e;

	CU_ASSERT_FATAL(setup());
	ru_call("PUT", "/v1/responses", &other.owner, responses_json, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	ru_call("PUT", "/v1/responses", &other.owner, responses_yaml,
	    "application/x-yaml", &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	itest_response_free(&r);
	ru_call("GET", "/v1/responses", &other.owner, NULL, NULL, &g);
	CU_ASSERT_EQUAL_FATAL(g.status, 200);
	/* Exactly the domain's rows: the JSON set is gone. */
	CU_ASSERT_EQUAL(count_responses(&g), 3);
	CU_ASSERT_PTR_NULL(find_response(&g, "greet", "en"));
	e = find_response(&g, "goodbye", "th");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	RU_ASSERT_STR(member_str(e, "templates.0"), "ลาก่อนครับ");
	CU_ASSERT_PTR_NOT_NULL(find_response(&g, "goodbye", "en"));
	e = find_response(&g, "application_status", "en");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	RU_ASSERT_STR(member_str(e, "quick_replies.0.title"),
	    "Talk to a person");
	RU_ASSERT_STR(member_str(e, "required_slots.0.slot"),
	    "application_number");
	RU_ASSERT_STR(member_str(e, "required_slots.0.prompt"),
	    "What is your application number?");
	itest_response_free(&g);
	/* text/yaml is a YAML type too. */
	ru_call("PUT", "/v1/responses", &other.owner, responses_yaml,
	    "text/yaml; charset=utf-8", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
}

static void
test_responses_rejected_atomically(void)
{
	struct itest_response r, before, after;
	char *tail, body[8192];

	CU_ASSERT_FATAL(setup());
	ru_call("PUT", "/v1/responses", &other.owner, responses_json, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	ru_call("GET", "/v1/responses", &other.owner, NULL, NULL, &before);
	CU_ASSERT_EQUAL_FATAL(before.status, 200);

	snprintf(body, sizeof(body), "{\"responses\":["
	    "{\"intent\":\"thanks\",\"language\":\"en\",\"templates\":[\"You're "
	    "welcome\"]},"
	    "{\"intent\":\"thanks\",\"language\":\"English\",\"templates\":[\"x\"]},"
	    "{\"intent\":\"bye bye\",\"language\":\"en\",\"templates\":[]},"
	    "{\"intent\":\"thanks\",\"language\":\"en\",\"templates\":[\"again\"]},"
	    "{\"intent\":\"fees\",\"language\":\"en\",\"templates\":[\"ok\"],"
	    "\"quick_replies\":[{\"title\":\"A title much longer than twenty\","
	    "\"payload\":\"/x\"}],\"selection\":\"sometimes\",\"max_turns\":0,"
	    "\"colour\":\"red\"},"
	    "{\"intent\":\"form\",\"language\":\"en\",\"templates\":[\"ok\"],"
	    "\"required_slots\":[{\"slot\":\"date\"},{\"slot\":\"date\","
	    "\"prompt\":\"When?\"}]}"
	    "]}");
	ru_call("PUT", "/v1/responses", &other.owner, body, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	RU_ASSERT_STR(itest_error_code(&r), "validation_failed");
	CU_ASSERT_TRUE(ru_field_error(&r, "responses[1].language",
	    "invalid_format"));
	CU_ASSERT_TRUE(ru_field_error(&r, "responses[2].intent",
	    "invalid_format"));
	CU_ASSERT_TRUE(ru_field_error(&r, "responses[2].templates",
	    "invalid_type"));
	CU_ASSERT_TRUE(ru_field_error(&r, "responses[3]", "duplicate"));
	CU_ASSERT_TRUE(ru_field_error(&r, "responses[4].quick_replies[0].title",
	    "too_long"));
	CU_ASSERT_TRUE(ru_field_error(&r, "responses[4].selection",
	    "invalid_value"));
	CU_ASSERT_TRUE(ru_field_error(&r, "responses[4].max_turns",
	    "out_of_range"));
	CU_ASSERT_TRUE(ru_field_error(&r, "responses[4].colour",
	    "unknown_field"));
	CU_ASSERT_TRUE(ru_field_error(&r, "responses[5].required_slots[0].prompt",
	    "required"));
	CU_ASSERT_TRUE(ru_field_error(&r, "responses[5].required_slots[1].slot",
	    "duplicate"));
	itest_response_free(&r);

	/* A broken domain file. */
	ru_call("PUT", "/v1/responses", &other.owner,
	    "responses:\n  utter_greet:\n    - text: [unclosed\n",
	    "application/x-yaml", &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "body", "invalid_domain"));
	itest_response_free(&r);
	/* A domain whose rows break the rules (language "EN"). */
	ru_call("PUT", "/v1/responses", &other.owner,
	    "responses:\n  utter_greet:\n    - text: hi\n      condition:\n"
	    "        - type: slot\n          name: language\n          value: EN\n",
	    "application/x-yaml", &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "responses.utter_greet[EN].language",
	    "invalid_format"));
	itest_response_free(&r);
	ru_call("PUT", "/v1/responses", &other.owner, "{\"rows\":[]}", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "responses", "required"));
	CU_ASSERT_TRUE(ru_field_error(&r, "rows", "unknown_field"));
	itest_response_free(&r);
	ru_call("PUT", "/v1/responses", &other.owner, responses_json,
	    "text/plain", &r);
	CU_ASSERT_EQUAL(r.status, 415);
	itest_response_free(&r);

	/* Nothing of any of that was written. */
	ru_call("GET", "/v1/responses", &other.owner, NULL, NULL, &after);
	CU_ASSERT_EQUAL(after.status, 200);
	RU_ASSERT_STR(after.body, before.body);
	tail = strstr(after.body, "thanks");
	CU_ASSERT_PTR_NULL(tail);
	itest_response_free(&before);
	itest_response_free(&after);
}

static void
test_responses_audit_and_roles(void)
{
	struct itest_response r;
	struct ru_cred viewer;
	int before;

	CU_ASSERT_FATAL(setup());
	before = audit_entries(&other.owner, "responses.replace", NULL, &r);
	itest_response_free(&r);
	ru_call("PUT", "/v1/responses", &other.owner, "{\"responses\":[]}", NULL,
	    &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(count_responses(&r), 0);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(audit_entries(&other.owner, "responses.replace", NULL,
	    &r), before + 1);
	CU_ASSERT_TRUE(contains(&r, "\"source\":\"json\""));
	itest_response_free(&r);

	CU_ASSERT_FATAL(ru_make_user(&other, "viewer", &viewer));
	ru_call("GET", "/v1/responses", &viewer, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	ru_call("PUT", "/v1/responses", &viewer, responses_json, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	itest_response_free(&r);
	/* Another tenant's set is its own. */
	ru_call("GET", "/v1/responses", &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_FALSE(contains(&r, "Hello {name}!"));
	itest_response_free(&r);
}

void
itest_channels_register(void)
{
	static const struct test_case channels[] = {
		{ "create answers 201 and never shows a secret",
		    test_create_hides_secrets },
		{ "sealed secrets verify the webhook", test_secrets_work_on_the_webhook },
		{ "invalid fields are 422 with details, nothing written",
		    test_validation_errors },
		{ "page id and verify token are unique platform-wide (409)",
		    test_unique_page_and_verify_token },
		{ "list: cursor pagination and status filter",
		    test_list_paginates_and_filters },
		{ "another tenant's channel is 404", test_other_tenant_gets_404 },
		{ "update needs the current version (409 when stale)",
		    test_update_needs_current_version },
		{ "status: disabled/active, needs_reauth shown, new token "
		    "re-activates", test_status_rules_and_reauth },
		{ "a new app secret and verify token take over",
		    test_new_app_secret_takes_over },
		{ "delete: version, 204, then 404, page reusable", test_delete },
		{ "changes are audited without secrets", test_changes_are_audited },
		{ "roles: viewer reads, agent does not", test_roles },
		{ NULL, NULL },
	};
	static const struct test_case responses[] = {
		{ "JSON PUT/GET round trip", test_responses_json_round_trip },
		{ "YAML domain replaces the set", test_responses_yaml_replaces_set },
		{ "invalid set rejected whole, nothing written",
		    test_responses_rejected_atomically },
		{ "audited; viewers read only; per tenant",
		    test_responses_audit_and_roles },
		{ NULL, NULL },
	};

	tests_add_suite("channels", channels);
	tests_add_suite("responses", responses);
}
