/* test_registry.c - the service registry over HTTP: CRUD, validation, who may see it, heartbeat expiry, the stack's own processes registering themselves and deregistering on SIGTERM, audit, gacpctl health. */
#include "tenancy_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* The 422's details name field with code. */
static int
names_field(const struct itest_response *r, const char *field,
    const char *code)
{
	char needle[160];

	snprintf(needle, sizeof(needle), "\"field\":\"%s\",\"code\":\"%s\"",
	    field, code);
	if (strstr(r->body, needle) == NULL) {
		fprintf(stderr, "no %s/%s in %s\n", field, code, r->body);
		return 0;
	}
	return 1;
}

static struct json_object *
items(const struct itest_response *r)
{
	struct json_object *a = NULL;

	if (r->json == NULL || !json_object_object_get_ex(r->json, "items", &a))
		return NULL;
	return a;
}

static const char *
member_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

/* The element of arr whose "id" (or key) is value, or NULL. */
static struct json_object *
find_by(struct json_object *arr, const char *key, const char *value)
{
	size_t i;

	for (i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		const char *v = member_str(e, key);
		if (v != NULL && strcmp(v, value) == 0)
			return e;
	}
	return NULL;
}

/* Register name with ttl through the API; its id into id (37). */
static bool
register_service(const char *token, const char *name, int ttl, char id[37])
{
	struct itest_response r;
	char body[512];
	bool ok;

	snprintf(body, sizeof(body), "{\"service_name\":\"%s\",\"service_type\":"
	    "\"nlu\",\"host\":\"10.0.0.7\",\"port\":8500,"
	    "\"health_check_endpoint\":\"/health\",\"version\":\"1.2.3\","
	    "\"environment\":\"staging\",\"weight\":50,\"service_config\":"
	    "{\"zone\":\"a\"},\"ttl_seconds\":%d}", name, ttl);
	tu_call("POST", "/v1/services", token, NULL, body, NULL, &r);
	ok = r.status == 201 && tu_json_str(&r, "id") != NULL;
	if (ok)
		snprintf(id, 37, "%s", tu_json_str(&r, "id"));
	else
		fprintf(stderr, "register: %ld %s\n", r.status, r.body);
	itest_response_free(&r);
	return ok;
}

static void
delete_service(const char *token, const char *id)
{
	struct itest_response r;
	char path[128];

	snprintf(path, sizeof(path), "/v1/services/%s", id);
	tu_call("DELETE", path, token, NULL, NULL, NULL, &r);
	itest_response_free(&r);
}

static void
test_crud(void)
{
	struct itest_response r;
	struct json_object *e;
	char *admin, name[64], path[160], id[37];

	tu_reset_ip_limit();
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	tu_unique("crud-svc", name, sizeof(name));

	/* Defaults: ttl 30, environment production, weight 100. */
	snprintf(path, sizeof(path), "{\"service_name\":\"%s\",\"service_type\":"
	    "\"gateway\",\"host\":\"gw1.internal\",\"port\":443,"
	    "\"version\":\"2.0.0\"}", name);
	tu_call("POST", "/v1/services", admin, NULL, path, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 201);
	snprintf(id, sizeof(id), "%s", tu_json_str(&r, "id"));
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "service_name"), name);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "status"), "healthy");
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "environment"), "production");
	CU_ASSERT_EQUAL(tu_json_int(&r, "ttl_seconds"), 30);
	CU_ASSERT_EQUAL(tu_json_int(&r, "weight"), 100);
	CU_ASSERT_EQUAL(tu_json_int(&r, "port"), 443);
	itest_response_free(&r);

	/* Listed by name, and as healthy. */
	snprintf(path, sizeof(path), "/v1/services?name=%s&healthy=true", name);
	tu_call("GET", path, admin, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(json_object_array_length(items(&r)), 1);
	e = find_by(items(&r), "id", id);
	CU_ASSERT_PTR_NOT_NULL(e);
	CU_ASSERT_STRING_EQUAL(member_str(e, "host"), "gw1.internal");
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/services?name=%s&healthy=false", name);
	tu_call("GET", path, admin, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(json_object_array_length(items(&r)), 0);
	itest_response_free(&r);

	/* Heartbeat answers the entry. */
	snprintf(path, sizeof(path), "/v1/services/%s/heartbeat", id);
	tu_call("PUT", path, admin, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "id"), id);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "status"), "healthy");
	itest_response_free(&r);

	/* Delete, then it is gone for every verb. */
	snprintf(path, sizeof(path), "/v1/services/%s", id);
	tu_call("DELETE", path, admin, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 204);
	itest_response_free(&r);
	tu_call("DELETE", path, admin, NULL, NULL, NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/services/%s/heartbeat", id);
	tu_call("PUT", path, admin, NULL, NULL, NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	tu_call("PUT", "/v1/services/not-a-uuid/heartbeat", admin, NULL, NULL,
	    NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	tu_call("DELETE", "/v1/services/00000000-0000-0000-0000-000000000000",
	    admin, NULL, NULL, NULL, &r);
	expect_error(&r, 404, "not_found");
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/services?name=%s", name);
	tu_call("GET", path, admin, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(json_object_array_length(items(&r)), 0);
	itest_response_free(&r);
	free(admin);
}

/* An external service heartbeats itself with a platform API key scoped
 * services:admin; a key without the scope may not. */
static void
test_platform_key(void)
{
	struct itest_response r;
	char *admin, name[64], body[512], path[160], key[80], kid[37];
	char rkey[80], rkid[37], id[37];

	tu_reset_ip_limit();
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	CU_ASSERT_FATAL(tu_make_key(admin, "[\"services:admin\"]", key, kid));
	CU_ASSERT_FATAL(tu_make_key(admin, "[\"services:read\"]", rkey, rkid));
	tu_unique("ext-svc", name, sizeof(name));
	snprintf(body, sizeof(body), "{\"service_name\":\"%s\",\"service_type\":"
	    "\"gateway\",\"host\":\"::1\",\"port\":9000,\"version\":\"3.1\"}",
	    name);
	tu_call("POST", "/v1/services", NULL, rkey, body, NULL, &r);
	expect_error(&r, 403, "forbidden");
	itest_response_free(&r);
	tu_call("POST", "/v1/services", NULL, key, body, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 201);
	snprintf(id, sizeof(id), "%s", tu_json_str(&r, "id"));
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "registered_by"), kid);
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/services/%s/heartbeat", id);
	tu_call("PUT", path, NULL, key, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	tu_call("PUT", path, NULL, rkey, NULL, NULL, &r);
	expect_error(&r, 403, "forbidden");
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/services?name=%s", name);
	tu_call("GET", path, NULL, rkey, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(find_by(items(&r), "id", id));
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/services/%s", id);
	tu_call("DELETE", path, NULL, key, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 204);
	itest_response_free(&r);
	free(admin);
}

static void
test_validation(void)
{
	struct itest_response r;
	char *admin, name[64], body[1024], path[160];

	tu_reset_ip_limit();
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	tu_unique("bad-svc", name, sizeof(name));

	/* Every required field missing. */
	tu_call("POST", "/v1/services", admin, NULL, "{}", NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "service_name", "required"));
	CU_ASSERT_TRUE(names_field(&r, "service_type", "required"));
	CU_ASSERT_TRUE(names_field(&r, "host", "required"));
	CU_ASSERT_TRUE(names_field(&r, "port", "required"));
	CU_ASSERT_TRUE(names_field(&r, "version", "required"));
	itest_response_free(&r);

	/* Every field wrong at once: each one reported, nothing written. */
	snprintf(body, sizeof(body), "{\"service_name\":\"%s\",\"service_type\":"
	    "\"Not Valid\",\"host\":\"bad host!\",\"port\":70000,"
	    "\"health_check_endpoint\":\"health\",\"version\":\"1 0\","
	    "\"environment\":\"prod\",\"weight\":-1,\"service_config\":[1],"
	    "\"ttl_seconds\":0,\"colour\":\"red\"}", name);
	tu_call("POST", "/v1/services", admin, NULL, body, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "service_type", "invalid_format"));
	CU_ASSERT_TRUE(names_field(&r, "host", "invalid_format"));
	CU_ASSERT_TRUE(names_field(&r, "port", "out_of_range"));
	CU_ASSERT_TRUE(names_field(&r, "health_check_endpoint",
	    "invalid_format"));
	CU_ASSERT_TRUE(names_field(&r, "version", "invalid_format"));
	CU_ASSERT_TRUE(names_field(&r, "environment", "invalid_value"));
	CU_ASSERT_TRUE(names_field(&r, "weight", "out_of_range"));
	CU_ASSERT_TRUE(names_field(&r, "service_config", "invalid_type"));
	CU_ASSERT_TRUE(names_field(&r, "ttl_seconds", "out_of_range"));
	CU_ASSERT_TRUE(names_field(&r, "colour", "unknown_field"));
	itest_response_free(&r);

	/* Wrong JSON types. */
	snprintf(body, sizeof(body), "{\"service_name\":\"%s\",\"service_type\":"
	    "\"api\",\"host\":\"h\",\"port\":\"80\",\"version\":\"1\","
	    "\"ttl_seconds\":2.5,\"weight\":true}", name);
	tu_call("POST", "/v1/services", admin, NULL, body, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "port", "invalid_type"));
	CU_ASSERT_TRUE(names_field(&r, "ttl_seconds", "invalid_type"));
	CU_ASSERT_TRUE(names_field(&r, "weight", "invalid_type"));
	itest_response_free(&r);
	tu_call("POST", "/v1/services", admin, NULL,
	    "{\"service_name\":\"UPPER\",\"service_type\":\"api\",\"host\":"
	    "\"h\",\"port\":1,\"version\":\"1\"}", NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "service_name", "invalid_format"));
	itest_response_free(&r);

	/* Not JSON at all. */
	tu_call("POST", "/v1/services", admin, NULL, "{\"service_name\":", NULL,
	    &r);
	CU_ASSERT_EQUAL(r.status, 400);
	itest_response_free(&r);

	/* Nothing was written by any of it. */
	snprintf(path, sizeof(path), "/v1/services?name=%s", name);
	tu_call("GET", path, admin, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(json_object_array_length(items(&r)), 0);
	itest_response_free(&r);

	/* Bad filters. */
	tu_call("GET", "/v1/services?healthy=maybe", admin, NULL, NULL, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "healthy", "invalid_value"));
	itest_response_free(&r);
	tu_call("GET", "/v1/services?name=Bad%20Name", admin, NULL, NULL, NULL,
	    &r);
	expect_error(&r, 422, "validation_failed");
	itest_response_free(&r);
	free(admin);
}

/* GET /v1/services pages in registration order: three entries of one
 * name in pages of two, every entry once; a bad limit or cursor is 422. */
static void
test_paging(void)
{
	struct itest_response r;
	struct json_object *page;
	char *admin, name[64], body[256], path[512], ids[3][37], cursor[256];
	size_t i, seen = 0;

	tu_reset_ip_limit();
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	tu_unique("page-svc", name, sizeof(name));
	for (i = 0; i < 3; i++) {
		snprintf(body, sizeof(body), "{\"service_name\":\"%s\","
		    "\"service_type\":\"api\",\"host\":\"h%zu\",\"port\":80,"
		    "\"version\":\"1\"}", name, i);
		tu_call("POST", "/v1/services", admin, NULL, body, NULL, &r);
		CU_ASSERT_EQUAL_FATAL(r.status, 201);
		snprintf(ids[i], sizeof(ids[i]), "%s", tu_json_str(&r, "id"));
		itest_response_free(&r);
	}
	snprintf(path, sizeof(path), "/v1/services?name=%s&limit=2", name);
	tu_call("GET", path, admin, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	page = items(&r);
	CU_ASSERT_EQUAL(json_object_array_length(page), 2);
	/* Registration order: the first two registered. */
	CU_ASSERT_PTR_NOT_NULL(find_by(page, "id", ids[0]));
	CU_ASSERT_PTR_NOT_NULL(find_by(page, "id", ids[1]));
	seen += json_object_array_length(page);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tu_json_str(&r, "next_cursor"));
	snprintf(cursor, sizeof(cursor), "%s", tu_json_str(&r, "next_cursor"));
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/services?name=%s&limit=2&cursor=%s",
	    name, cursor);
	tu_call("GET", path, admin, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	page = items(&r);
	CU_ASSERT_EQUAL(json_object_array_length(page), 1);
	CU_ASSERT_PTR_NOT_NULL(find_by(page, "id", ids[2]));
	seen += json_object_array_length(page);
	CU_ASSERT_PTR_NULL(tu_json_str(&r, "next_cursor"));
	itest_response_free(&r);
	CU_ASSERT_EQUAL(seen, 3);

	tu_call("GET", "/v1/services?limit=0", admin, NULL, NULL, NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "limit", "out_of_range"));
	itest_response_free(&r);
	tu_call("GET", "/v1/services?cursor=not-a-cursor", admin, NULL, NULL,
	    NULL, &r);
	expect_error(&r, 422, "validation_failed");
	itest_response_free(&r);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/v1/services/%s", ids[i]);
		tu_call("DELETE", path, admin, NULL, NULL, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 204);
		itest_response_free(&r);
	}
	free(admin);
}

static void
test_tenant_access(void)
{
	struct itest_response r;
	struct tu_tenant plain, granted;
	char *admin, *owner, *owner2, name[64], id[37], key[80], kid[37];
	char state[6];
	PGconn *db;

	tu_reset_ip_limit();
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	tu_unique("seen-svc", name, sizeof(name));
	CU_ASSERT_FATAL(register_service(admin, name, 30, id));

	/* A tenant without the grant sees nothing and may write nothing. */
	CU_ASSERT_FATAL(tu_make_tenant("regplain", NULL, &plain));
	owner = tu_login(plain.slug, plain.owner, plain.password);
	CU_ASSERT_PTR_NOT_NULL_FATAL(owner);
	tu_call("GET", "/v1/services", owner, NULL, NULL, NULL, &r);
	expect_error(&r, 403, "registry_not_granted");
	itest_response_free(&r);
	tu_call("GET", "/v1/system/health", owner, NULL, NULL, NULL, &r);
	expect_error(&r, 403, "registry_not_granted");
	itest_response_free(&r);
	tu_call("POST", "/v1/services", owner, NULL, "{}", NULL, &r);
	expect_error(&r, 403, "forbidden");
	itest_response_free(&r);
	tu_call("DELETE", "/v1/services/00000000-0000-0000-0000-000000000000",
	    owner, NULL, NULL, NULL, &r);
	expect_error(&r, 403, "forbidden");
	itest_response_free(&r);
	/* The demo tenant's API key neither. */
	tu_call("GET", "/v1/services", NULL, itest_env("DEMO_API_KEY", ""),
	    NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	itest_response_free(&r);
	/* Nor may its owner hand itself the grant: settings are tenants:admin. */
	tu_call("PATCH", "/v1/tenants/00000000-0000-0000-0000-000000000000",
	    owner, NULL, "{\"settings\":{\"service_registry_read\":true},"
	    "\"version\":1}", NULL, &r);
	expect_error(&r, 403, "forbidden");
	itest_response_free(&r);

	/* Row security agrees, under the application role. */
	db = tu_db_app();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(tu_db_scalar(db, plain.id,
	    "SELECT count(*) FROM service_registry", NULL), 0);
	CU_ASSERT_EQUAL(tu_db_scalar(db, NULL,
	    "SELECT count(*) FROM service_registry", NULL), 0);

	/* The grant is a tenant setting only a platform admin can set. */
	tu_call("POST", "/v1/tenants", admin, NULL,
	    "{\"slug\":\"x-bad-grant\",\"name\":\"x\",\"settings\":"
	    "{\"service_registry_read\":\"yes\"}}", NULL, &r);
	expect_error(&r, 422, "validation_failed");
	CU_ASSERT_TRUE(names_field(&r, "settings.service_registry_read",
	    "invalid_type"));
	itest_response_free(&r);
	CU_ASSERT_FATAL(tu_make_tenant("reggrant",
	    "{\"service_registry_read\":true}", &granted));
	owner2 = tu_login(granted.slug, granted.owner, granted.password);
	CU_ASSERT_PTR_NOT_NULL_FATAL(owner2);
	tu_call("GET", "/v1/services", owner2, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(find_by(items(&r), "id", id));
	itest_response_free(&r);
	tu_call("GET", "/v1/system/health", owner2, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	/* An API key of the granted tenant scoped services:read reads too. */
	CU_ASSERT_FATAL(tu_make_key(owner2, "[\"services:read\"]", key, kid));
	tu_call("GET", "/v1/services", NULL, key, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	/* Reading is all: no writes, not even via SQL. */
	tu_call("POST", "/v1/services", owner2, NULL, "{}", NULL, &r);
	expect_error(&r, 403, "forbidden");
	itest_response_free(&r);
	CU_ASSERT_TRUE(tu_db_scalar(db, granted.id,
	    "SELECT count(*) FROM service_registry", NULL) >= 1);
	CU_ASSERT_EQUAL(tu_db_scalar(db, granted.id,
	    "UPDATE service_registry SET weight = 0", state), 0);
	CU_ASSERT_EQUAL(tu_db_scalar(db, granted.id, "INSERT INTO service_registry"
	    " (service_name, service_type, host, port, version) VALUES"
	    " ('evil', 'api', 'h', 1, '1')", state), -1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
	PQfinish(db);

	delete_service(admin, id);
	free(owner);
	free(owner2);
	free(admin);
}

static void
test_heartbeat_expiry(void)
{
	struct itest_response r;
	struct json_object *e, *svcs;
	char *admin, name[64], path[160], id[37];
	int64_t healthy_before;
	double age;

	tu_reset_ip_limit();
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	tu_unique("short-svc", name, sizeof(name));
	CU_ASSERT_FATAL(register_service(admin, name, 2, id));

	/* Fresh: healthy in the aggregate (which is healthy, or degraded
	 * when a process of the stack was killed earlier and not pruned). */
	tu_call("GET", "/v1/system/health", admin, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_NOT_EQUAL(tu_json_str(&r, "status"), "critical");
	svcs = NULL;
	json_object_object_get_ex(r.json, "services", &svcs);
	e = find_by(svcs, "id", id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_STRING_EQUAL(member_str(e, "status"), "healthy");
	healthy_before = tu_json_int(&r, "healthy");
	itest_response_free(&r);

	sleep(3);
	/* Older than its TTL: unhealthy, and the aggregate is degraded
	 * (the stack's own processes are still healthy). */
	snprintf(path, sizeof(path), "/v1/services?name=%s&healthy=false", name);
	tu_call("GET", path, admin, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	e = find_by(items(&r), "id", id);
	CU_ASSERT_PTR_NOT_NULL(e);
	CU_ASSERT_STRING_EQUAL(member_str(e, "status"), "unhealthy");
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/services?name=%s&healthy=true", name);
	tu_call("GET", path, admin, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(json_object_array_length(items(&r)), 0);
	itest_response_free(&r);

	tu_call("GET", "/v1/system/health", admin, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "status"), "degraded");
	CU_ASSERT_TRUE(tu_json_int(&r, "unhealthy") >= 1);
	CU_ASSERT_TRUE(tu_json_int(&r, "healthy") <= healthy_before - 1);
	svcs = NULL;
	json_object_object_get_ex(r.json, "services", &svcs);
	e = find_by(svcs, "id", id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_STRING_EQUAL(member_str(e, "name"), name);
	CU_ASSERT_STRING_EQUAL(member_str(e, "status"), "unhealthy");
	CU_ASSERT_STRING_EQUAL(member_str(e, "host"), "10.0.0.7");
	CU_ASSERT_PTR_NOT_NULL(member_str(e, "last_heartbeat"));
	age = json_object_get_double(json_object_object_get(e, "age_seconds"));
	CU_ASSERT_TRUE(age >= 2.0 && age < 30.0);
	itest_response_free(&r);

	/* gacpctl health says degraded too, with exit status 1. */
	{
		char *out = NULL;
		int rc = tu_ctl("health --json", NULL, &out);
		CU_ASSERT_EQUAL(rc, 1);
		CU_ASSERT_PTR_NOT_NULL(out ? strstr(out,
		    "\"status\":\"degraded\"") : NULL);
		free(out);
	}

	/* A heartbeat brings it back. */
	snprintf(path, sizeof(path), "/v1/services/%s/heartbeat", id);
	tu_call("PUT", path, admin, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(tu_json_str(&r, "status"), "healthy");
	itest_response_free(&r);

	delete_service(admin, id);
	tu_call("GET", "/v1/system/health", admin, NULL, NULL, NULL, &r);
	svcs = NULL;
	json_object_object_get_ex(r.json, "services", &svcs);
	CU_ASSERT_PTR_NULL(find_by(svcs, "id", id));
	itest_response_free(&r);
	free(admin);
}

/* Ids of the healthy self-registered entries named name (up to max). */
static int
own_entries(const char *token, const char *name, char ids[][37], int max)
{
	struct itest_response r;
	struct json_object *arr, *e, *v;
	char path[128];
	int n = 0;
	size_t i;

	snprintf(path, sizeof(path), "/v1/services?name=%s&healthy=true", name);
	tu_call("GET", path, token, NULL, NULL, NULL, &r);
	arr = items(&r);
	for (i = 0; arr != NULL && i < json_object_array_length(arr) && n < max;
	    i++) {
		e = json_object_array_get_idx(arr, i);
		if (!json_object_object_get_ex(e, "self_registered", &v) ||
		    !json_object_get_boolean(v))
			continue;
		snprintf(ids[n++], 37, "%s", member_str(e, "id"));
	}
	itest_response_free(&r);
	return n;
}

static void
test_self_registration(void)
{
	struct itest_response r;
	struct json_object *arr, *e, *cfg, *pid;
	char *admin, host[256], ids[16][37];
	size_t i;

	tu_reset_ip_limit();
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	CU_ASSERT_EQUAL(gethostname(host, sizeof(host)), 0);

	/* Every FastCGI process of the pool, healthy, with its pid. */
	tu_call("GET", "/v1/services?name=gacp-api&healthy=true", admin, NULL,
	    NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	arr = items(&r);
	CU_ASSERT_TRUE(arr != NULL && json_object_array_length(arr) >= 1);
	for (i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
		e = json_object_array_get_idx(arr, i);
		CU_ASSERT_STRING_EQUAL(member_str(e, "service_type"), "api");
		CU_ASSERT_STRING_EQUAL(member_str(e, "host"), host);
		CU_ASSERT_STRING_EQUAL(member_str(e, "version"), PACKAGE_VERSION);
		CU_ASSERT_STRING_EQUAL(member_str(e, "health_check_endpoint"),
		    "/health");
		cfg = json_object_object_get(e, "service_config");
		pid = cfg ? json_object_object_get(cfg, "pid") : NULL;
		CU_ASSERT_TRUE(pid != NULL && json_object_get_int(pid) > 1);
	}
	itest_response_free(&r);
	/* And the worker. */
	CU_ASSERT_TRUE(own_entries(admin, "gacp-worker", ids, 16) >= 1);
	free(admin);
}

/* True once none of the n ids is registered any more. */
static bool
all_gone(const char *token, char ids[][37], int n)
{
	struct itest_response r;
	bool gone = true;
	int i;

	tu_call("GET", "/v1/services?name=gacp-worker", token, NULL, NULL, NULL,
	    &r);
	for (i = 0; i < n; i++)
		if (find_by(items(&r), "id", ids[i]) != NULL)
			gone = false;
	itest_response_free(&r);
	return gone;
}

static void
test_graceful_stop(void)
{
	struct itest_response r;
	char *admin, before[16][37], after[16][37], path[256];
	int nb, na = 0, i, j, waited;
	bool fresh = false;

	tu_reset_ip_limit();
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	nb = own_entries(admin, "gacp-worker", before, 16);
	CU_ASSERT_TRUE_FATAL(nb >= 1);

	/* SIGTERM and start again: the old entries are deleted at once
	 * (not left to expire), the new processes register. */
	CU_ASSERT_EQUAL_FATAL(itest_stack("restart worker"), 0);
	CU_ASSERT_TRUE(all_gone(admin, before, nb));
	for (waited = 0; waited < 15000 && !fresh; waited += 250) {
		na = own_entries(admin, "gacp-worker", after, 16);
		for (i = 0; i < na; i++) {
			bool old = false;
			for (j = 0; j < nb; j++)
				if (strcmp(after[i], before[j]) == 0)
					old = true;
			if (!old)
				fresh = true;
		}
		if (!fresh)
			usleep(250 * 1000);
	}
	CU_ASSERT_TRUE(fresh);

	/* Audited, as the system. */
	snprintf(path, sizeof(path), "/v1/audit-log?action=service.deregister");
	tu_call("GET", path, admin, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, before[0]));
	itest_response_free(&r);
	free(admin);
}

static void
test_audit(void)
{
	struct itest_response r;
	char *admin, name[64], id[37];

	tu_reset_ip_limit();
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	tu_unique("audit-svc", name, sizeof(name));
	CU_ASSERT_FATAL(register_service(admin, name, 30, id));
	delete_service(admin, id);

	tu_call("GET", "/v1/audit-log?action=service.register", admin, NULL,
	    NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, id));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, name));
	itest_response_free(&r);
	tu_call("GET", "/v1/audit-log?action=service.deregister", admin, NULL,
	    NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, id));
	itest_response_free(&r);
	/* The processes' own registrations are there too. */
	tu_call("GET", "/v1/audit-log?action=service.register&limit=200", admin,
	    NULL, NULL, NULL, &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "gacp-api@"));
	itest_response_free(&r);
	free(admin);
}

/* An entry dead for longer than TTL + registry.prune_after_s is removed by
 * the running processes' agents (every ttl/3 = 10 s), audited. */
static void
test_prune(void)
{
	struct itest_response r;
	char *admin, name[64], id[37], sql[256], path[128];
	PGconn *db;
	int waited;
	bool gone = false;

	tu_reset_ip_limit();
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	tu_unique("dead-svc", name, sizeof(name));
	CU_ASSERT_FATAL(register_service(admin, name, 30, id));
	/* Age it by a day, as the platform (the only role that may write). */
	db = tu_db_app();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	snprintf(sql, sizeof(sql), "SELECT set_config('app.platform_admin', 'on',"
	    " true); UPDATE service_registry SET last_heartbeat = now() -"
	    " interval '1 day' WHERE id = '%s'", id);
	CU_ASSERT_EQUAL(tu_db_scalar(db, NULL, sql, NULL), 1);
	PQfinish(db);
	snprintf(path, sizeof(path), "/v1/services?name=%s", name);
	for (waited = 0; waited < 25000 && !gone; waited += 500) {
		tu_call("GET", path, admin, NULL, NULL, NULL, &r);
		gone = r.status == 200 && items(&r) != NULL &&
		    json_object_array_length(items(&r)) == 0;
		itest_response_free(&r);
		if (!gone)
			usleep(500 * 1000);
	}
	CU_ASSERT_TRUE(gone);
	tu_call("GET", "/v1/audit-log?action=service.prune", admin, NULL, NULL,
	    NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, id));
	itest_response_free(&r);
	free(admin);
}

/* A worker killed outright cannot deregister: its entry stays and goes
 * unhealthy once its TTL (30 s) passes; the supervisor's replacement
 * registers anew. */
static void
test_sigkill_expires(void)
{
	struct itest_response r;
	struct json_object *e, *cfg, *pid;
	char *admin, ids[16][37], path[128];
	int n, waited, victim = 0;
	bool unhealthy = false;

	tu_reset_ip_limit();
	admin = tu_platform_token();
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	n = own_entries(admin, "gacp-worker", ids, 16);
	CU_ASSERT_TRUE_FATAL(n >= 1);
	tu_call("GET", "/v1/services?name=gacp-worker", admin, NULL, NULL, NULL,
	    &r);
	e = find_by(items(&r), "id", ids[0]);
	cfg = e ? json_object_object_get(e, "service_config") : NULL;
	pid = cfg ? json_object_object_get(cfg, "pid") : NULL;
	victim = pid ? json_object_get_int(pid) : 0;
	itest_response_free(&r);
	CU_ASSERT_TRUE_FATAL(victim > 1);
	CU_ASSERT_EQUAL_FATAL(kill((pid_t)victim, SIGKILL), 0);

	snprintf(path, sizeof(path), "/v1/services?name=gacp-worker");
	for (waited = 0; waited < 45000 && !unhealthy; waited += 1000) {
		tu_call("GET", path, admin, NULL, NULL, NULL, &r);
		e = find_by(items(&r), "id", ids[0]);
		/* Never deregistered: the entry is there all along. */
		CU_ASSERT_PTR_NOT_NULL(e);
		if (e == NULL) {
			itest_response_free(&r);
			break;
		}
		unhealthy = strcmp(member_str(e, "status"), "unhealthy") == 0;
		itest_response_free(&r);
		if (!unhealthy)
			sleep(1);
	}
	CU_ASSERT_TRUE(unhealthy);
	/* Clean up after the dead (else it lingers until pruned), then the
	 * supervisor's replacement is there, healthy. */
	delete_service(admin, ids[0]);
	CU_ASSERT_TRUE(own_entries(admin, "gacp-worker", ids, 16) >= 1);
	free(admin);
}

/* With PostgreSQL down, gacpctl health is critical (exit 2); the API
 * processes survive it and register/heartbeat again afterwards. */
static void
test_ctl_health_database_down(void)
{
	char *out = NULL;
	int rc;

	CU_ASSERT_EQUAL_FATAL(itest_stack("stop postgres"), 0);
	rc = tu_ctl("health --json", NULL, &out);
	CU_ASSERT_EQUAL(rc, 2);
	CU_ASSERT_PTR_NOT_NULL(out ? strstr(out, "\"status\":\"critical\"") :
	    NULL);
	CU_ASSERT_PTR_NOT_NULL(out ? strstr(out,
	    "\"name\":\"database\",\"status\":\"fail\"") : NULL);
	free(out);
	/* The FastCGI processes are still there to answer. */
	CU_ASSERT_TRUE(itest_wait_status("/health", 200, 5000));
	CU_ASSERT_EQUAL_FATAL(itest_stack("start postgres"), 0);
	CU_ASSERT_TRUE(itest_wait_status("/ready", 200, 30000));
	out = NULL;
	rc = tu_ctl("health --json", NULL, &out);
	CU_ASSERT_TRUE(rc == 0 || rc == 1);
	CU_ASSERT_PTR_NOT_NULL(out ? strstr(out,
	    "\"name\":\"database\",\"status\":\"ok\"") : NULL);
	free(out);
}

static void
test_ctl_health(void)
{
	char *out = NULL;
	int rc;

	rc = tu_ctl("health --json", NULL, &out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	/* Healthy unless the queue has a backlog or dead letters from
	 * other suites: then degraded; never critical on a running stack. */
	CU_ASSERT_TRUE(rc == 0 || rc == 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, rc == 0 ? "\"status\":\"healthy\"" :
	    "\"status\":\"degraded\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"name\":\"database\",\"status\":\"ok\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"name\":\"redis\",\"status\":\"ok\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"name\":\"migrations\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"name\":\"registry\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"name\":\"queue\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"name\":\"deadletters\""));
	free(out);
	out = NULL;
	CU_ASSERT_EQUAL(tu_ctl("health --help", NULL, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(out ? strstr(out, "--max-pending") : NULL);
	free(out);
	out = NULL;
	CU_ASSERT_EQUAL(tu_ctl("health --max-pending x", NULL, &out), 2);
	free(out);
}

void itest_registry_register(void);

void
itest_registry_register(void)
{
	static const struct test_case cases[] = {
		{ "register, list, heartbeat, delete, 404s", test_crud },
		{ "a platform API key scoped services:admin heartbeats",
		    test_platform_key },
		{ "every field validated, nothing written", test_validation },
		{ "the list pages in registration order", test_paging },
		{ "tenants see nothing unless granted; RLS agrees",
		    test_tenant_access },
		{ "heartbeat expiry: unhealthy, degraded, revived",
		    test_heartbeat_expiry },
		{ "the stack's fcgi processes and worker are registered",
		    test_self_registration },
		{ "graceful stop deregisters", test_graceful_stop },
		{ "registry writes are audited", test_audit },
		{ "long-expired entries are pruned", test_prune },
		{ "gacpctl health", test_ctl_health },
		{ "gacpctl health: database down is critical",
		    test_ctl_health_database_down },
		{ "a worker killed by SIGKILL expires by TTL",
		    test_sigkill_expires },
		{ NULL, NULL }
	};

	tests_add_suite("registry", cases);
}
