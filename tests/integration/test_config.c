/* test_config.c - /v1/config and gacpctl config/rotate-key against the stack: types, rules, versions, secrets, isolation, rotation, the cache.
 *
 * Every test works in a tenant of its own ("cfg-…", its owner's fresh
 * token, which is RESTRICTED for 15 minutes), so the demo tenant is never
 * touched except by the key rotation, which re-seals every secret of every
 * tenant (demo's channel secrets included) and checks they still open.
 * Ciphertexts are tampered with directly in PostgreSQL (GACP_DB_URL, bound
 * to the tenant, row-level security applying).  The cache test runs the
 * cache of src/sysconfig/cache.h in this process against the stack's
 * configuration (GACP_CONFIG), as gacp-api.fcgi and gacp-worker do.
 */
#include "rest_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/context.h"
#include "common/arena.h"
#include "store/db.h"
#include "sysconfig/cache.h"

static struct ru_tenant t1, t2;

static bool
setup(void)
{
	static int state;

	if (state == 0)
		state = ru_make_tenant("cfg", &t1) && ru_make_tenant("cfg", &t2) ?
		    1 : -1;
	return state == 1;
}

static long
put(const struct ru_cred *c, const char *key, const char *query,
    const char *body, struct itest_response *r)
{
	char path[512];

	snprintf(path, sizeof(path), "/v1/config/%s%s%s", key,
	    query ? "?" : "", query ? query : "");
	ru_call("PUT", path, c, body, NULL, r);
	return r->status;
}

static long
get(const struct ru_cred *c, const char *key, const char *query,
    struct itest_response *r)
{
	char path[512];

	snprintf(path, sizeof(path), "/v1/config/%s%s%s", key,
	    query ? "?" : "", query ? query : "");
	ru_call("GET", path, c, NULL, NULL, r);
	return r->status;
}

/* PUT, expect status, free. */
static void
put_expect(const struct ru_cred *c, const char *key, const char *body,
    long want)
{
	struct itest_response r;

	put(c, key, NULL, body, &r);
	CU_ASSERT_EQUAL(r.status, want);
	if (r.status != want)
		fprintf(stderr, "PUT %s: %ld %s\n", key, r.status, r.body);
	itest_response_free(&r);
}

static int
audit_count(const struct ru_cred *c, const char *action, const char *outcome)
{
	struct itest_response r;
	struct json_object *items, *e, *v;
	char path[256];
	size_t i;
	int n = 0;

	snprintf(path, sizeof(path), "/v1/audit-log?action=%s&limit=200",
	    action);
	ru_call("GET", path, c, NULL, NULL, &r);
	items = ru_json_at(&r, "items");
	for (i = 0; items != NULL && i < json_object_array_length(items); i++) {
		e = json_object_array_get_idx(items, i);
		if (outcome == NULL || (json_object_object_get_ex(e, "outcome",
		    &v) && strcmp(json_object_get_string(v), outcome) == 0))
			n++;
	}
	itest_response_free(&r);
	return n;
}

/* gacpctl with the stack's configuration; stdin_text may be NULL. */
static int
ctl(const char *args, const char *stdin_text, char *out, size_t outlen)
{
	char cmd[1024], in_path[] = "/tmp/gacp-itest-cfg-XXXXXX";
	FILE *p;
	size_t len = 0, n;
	int fd, status;

	fd = mkstemp(in_path);
	if (fd < 0)
		return -1;
	if (stdin_text != NULL && write(fd, stdin_text, strlen(stdin_text)) < 0)
		status = -1;
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s/src/tools/gacpctl %s <%s 2>&1",
	    itest_env("GACP_ROOT", "."), args, in_path);
	if ((p = popen(cmd, "r")) == NULL) {
		unlink(in_path);
		return -1;
	}
	out[0] = '\0';
	while (len + 1 < outlen &&
	    (n = fread(out + len, 1, outlen - len - 1, p)) > 0)
		len += n;
	out[len] = '\0';
	status = pclose(p);
	unlink(in_path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_typed_values(void)
{
	struct itest_response r;
	struct json_object *v;

	CU_ASSERT_FATAL(setup());
	put(&t1.owner, "retries", NULL, "{\"config_value\":\"42\","
	    "\"config_type\":\"integer\",\"category\":\"worker\"}", &r);
	CU_ASSERT_EQUAL(r.status, 201);
	v = ru_json_at(&r, "typed_value");
	CU_ASSERT_TRUE(json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) == 42);
	RU_ASSERT_STR(ru_json_str(&r, "config_value"), "42");
	CU_ASSERT_EQUAL(ru_json_int(&r, "version"), 1);
	itest_response_free(&r);

	put(&t1.owner, "feature.on", NULL, "{\"config_value\":true,"
	    "\"config_type\":\"boolean\"}", &r);
	CU_ASSERT_EQUAL(r.status, 201);
	v = ru_json_at(&r, "typed_value");
	CU_ASSERT_TRUE(json_object_is_type(v, json_type_boolean) &&
	    json_object_get_boolean(v));
	itest_response_free(&r);

	put(&t1.owner, "ratio", "environment=staging", "{\"config_value\":"
	    "\"0.25\",\"config_type\":\"float\"}", &r);
	CU_ASSERT_EQUAL(r.status, 201);
	v = ru_json_at(&r, "typed_value");
	CU_ASSERT_TRUE(json_object_is_type(v, json_type_double) &&
	    json_object_get_double(v) == 0.25);
	RU_ASSERT_STR(ru_json_str(&r, "environment"), "staging");
	itest_response_free(&r);

	put(&t1.owner, "menu", NULL, "{\"config_value\":\"{\\\"a\\\":[1,2]}\","
	    "\"config_type\":\"json\"}", &r);
	CU_ASSERT_EQUAL(r.status, 201);
	v = ru_json_at(&r, "typed_value.a");
	CU_ASSERT_TRUE(json_object_is_type(v, json_type_array) &&
	    json_object_array_length(v) == 2);
	itest_response_free(&r);

	/* Same key, other environment: a different row. */
	CU_ASSERT_EQUAL(get(&t1.owner, "ratio", "environment=production", &r),
	    404);
	itest_response_free(&r);
	/* Filters. */
	ru_call("GET", "/v1/config?category=worker", &t1.owner, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(json_object_array_length(ru_json_at(&r, "items")), 1);
	itest_response_free(&r);
	ru_call("GET", "/v1/config?environment=staging", &t1.owner, NULL, NULL,
	    &r);
	CU_ASSERT_EQUAL(json_object_array_length(ru_json_at(&r, "items")), 1);
	itest_response_free(&r);
	ru_call("GET", "/v1/config?environment=moon", &t1.owner, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "environment", "invalid_value"));
	itest_response_free(&r);
}

static void
test_wrong_type_writes_nothing(void)
{
	struct itest_response r;
	static const char *const bad[] = {
		"{\"config_value\":\"4x2\",\"config_type\":\"integer\"}",
		"{\"config_value\":\"1.5\",\"config_type\":\"integer\"}",
		"{\"config_value\":\"99999999999999999999\",\"config_type\":\"integer\"}",
		"{\"config_value\":\"yes\",\"config_type\":\"boolean\"}",
		"{\"config_value\":\"nan\",\"config_type\":\"float\"}",
		"{\"config_value\":\"{oops\",\"config_type\":\"json\"}",
		"{\"config_value\":12,\"config_type\":\"string\"}",
		"{\"config_value\":\"x\",\"config_type\":\"date\"}",
		NULL,
	};
	size_t i;

	CU_ASSERT_FATAL(setup());
	for (i = 0; bad[i] != NULL; i++) {
		put(&t1.owner, "typed.bad", NULL, bad[i], &r);
		CU_ASSERT_EQUAL(r.status, 422);
		CU_ASSERT_TRUE(ru_field_error(&r, "config_value", "invalid_type") ||
		    ru_field_error(&r, "config_type", "invalid_value"));
		if (r.status != 422)
			fprintf(stderr, "%s: %ld %s\n", bad[i], r.status, r.body);
		itest_response_free(&r);
	}
	CU_ASSERT_EQUAL(get(&t1.owner, "typed.bad", NULL, &r), 404);
	itest_response_free(&r);
	/* A change of type is checked against the stored value's new type. */
	put_expect(&t1.owner, "typed.ok", "{\"config_value\":\"7\","
	    "\"config_type\":\"integer\"}", 201);
	put(&t1.owner, "typed.ok", NULL, "{\"config_value\":\"seven\"}", &r);
	CU_ASSERT_EQUAL(r.status, 422);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(get(&t1.owner, "typed.ok", NULL, &r), 200);
	CU_ASSERT_EQUAL(ru_json_int(&r, "typed_value"), 7);
	CU_ASSERT_EQUAL(ru_json_int(&r, "version"), 1);
	itest_response_free(&r);
}

static void
test_each_rule(void)
{
	struct itest_response r;

	CU_ASSERT_FATAL(setup());
	put(&t1.owner, "rules.int", NULL, "{\"config_value\":0,\"config_type\":"
	    "\"integer\",\"validation_rules\":{\"min\":1,\"max\":10}}", &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "config_value", "below_min"));
	itest_response_free(&r);
	put(&t1.owner, "rules.int", NULL, "{\"config_value\":11,\"config_type\":"
	    "\"integer\",\"validation_rules\":{\"min\":1,\"max\":10,"
	    "\"enum\":[2,4]}}", &r);
	CU_ASSERT_EQUAL(r.status, 422);
	/* Each reason is listed, not only the first. */
	CU_ASSERT_TRUE(ru_field_error(&r, "config_value", "above_max"));
	CU_ASSERT_TRUE(ru_field_error(&r, "config_value", "not_in_enum"));
	itest_response_free(&r);
	put(&t1.owner, "rules.str", NULL, "{\"config_value\":\"ab\","
	    "\"config_type\":\"string\",\"validation_rules\":{\"min_length\":3,"
	    "\"pattern\":\"[a-z]+-[0-9]+\"}}", &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "config_value", "too_short"));
	CU_ASSERT_TRUE(ru_field_error(&r, "config_value", "pattern_mismatch"));
	itest_response_free(&r);
	put(&t1.owner, "rules.str", NULL, "{\"config_value\":\"abcdef-1\","
	    "\"config_type\":\"string\",\"validation_rules\":{\"max_length\":5,"
	    "\"enum\":[\"x\"]}}", &r);
	CU_ASSERT_TRUE(ru_field_error(&r, "config_value", "too_long"));
	CU_ASSERT_TRUE(ru_field_error(&r, "config_value", "not_in_enum"));
	itest_response_free(&r);
	/* Bad rules themselves. */
	put(&t1.owner, "rules.str", NULL, "{\"config_value\":\"a\","
	    "\"config_type\":\"string\",\"validation_rules\":{\"pattern\":\"(\","
	    "\"min\":1,\"maximum\":2}}", &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "validation_rules.pattern",
	    "invalid_pattern"));
	CU_ASSERT_TRUE(ru_field_error(&r, "validation_rules.min",
	    "rule_not_applicable"));
	CU_ASSERT_TRUE(ru_field_error(&r, "validation_rules.maximum",
	    "unknown_rule"));
	itest_response_free(&r);
	CU_ASSERT_EQUAL(get(&t1.owner, "rules.int", NULL, &r), 404);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(get(&t1.owner, "rules.str", NULL, &r), 404);
	itest_response_free(&r);
	/* Satisfied rules are stored and keep applying to later writes. */
	put_expect(&t1.owner, "rules.str", "{\"config_value\":\"abc-12\","
	    "\"config_type\":\"string\",\"validation_rules\":{\"min_length\":3,"
	    "\"max_length\":10,\"pattern\":\"[a-z]+-[0-9]+\"}}", 201);
	put(&t1.owner, "rules.str", NULL, "{\"config_value\":\"abc\"}", &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "config_value", "pattern_mismatch"));
	itest_response_free(&r);
}

static void
test_stale_version_409(void)
{
	struct itest_response r;

	CU_ASSERT_FATAL(setup());
	put_expect(&t1.owner, "ver.key", "{\"config_value\":\"a\","
	    "\"config_type\":\"string\"}", 201);
	put(&t1.owner, "ver.key", NULL, "{\"config_value\":\"b\",\"version\":1}",
	    &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(ru_json_int(&r, "version"), 2);
	itest_response_free(&r);
	put(&t1.owner, "ver.key", NULL, "{\"config_value\":\"c\",\"version\":1}",
	    &r);
	CU_ASSERT_EQUAL(r.status, 409);
	RU_ASSERT_STR(ru_json_str(&r, "error.code"), "version_conflict");
	itest_response_free(&r);
	CU_ASSERT_EQUAL(get(&t1.owner, "ver.key", NULL, &r), 200);
	RU_ASSERT_STR(ru_json_str(&r, "typed_value"), "b");
	itest_response_free(&r);
	ru_call("DELETE", "/v1/config/ver.key?version=1", &t1.owner, NULL, NULL,
	    &r);
	CU_ASSERT_EQUAL(r.status, 409);
	itest_response_free(&r);
	ru_call("DELETE", "/v1/config/ver.key?version=2", &t1.owner, NULL, NULL,
	    &r);
	CU_ASSERT_EQUAL(r.status, 204);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(get(&t1.owner, "ver.key", NULL, &r), 404);
	itest_response_free(&r);
}

static void
test_secret_masked_and_reveal(void)
{
	struct itest_response r;
	struct ru_cred viewer, keycred;
	char body[256];
	const char *k;
	int before_ok, before_denied;

	CU_ASSERT_FATAL(setup());
	put(&t1.owner, "smtp.password", NULL, "{\"config_value\":\"hunter2-xyz\","
	    "\"config_type\":\"string\",\"is_encrypted\":true}", &r);
	CU_ASSERT_EQUAL(r.status, 201);
	RU_ASSERT_STR(ru_json_str(&r, "config_value"), "********");
	CU_ASSERT_FALSE(strstr(r.body, "hunter2") != NULL);
	itest_response_free(&r);
	/* Stored sealed, never as text. */
	{
		PGconn *db = ru_db(t1.id);
		char *v = db ? ru_db_value(db, "SELECT config_value FROM "
		    "system_config WHERE config_key = 'smtp.password'", 0, NULL) :
		    NULL;

		CU_ASSERT_PTR_NOT_NULL(v);
		CU_ASSERT_TRUE(v != NULL && strncmp(v, "v1.", 3) == 0 &&
		    strstr(v, "hunter2") == NULL);
		free(v);
		if (db)
			PQfinish(db);
	}
	CU_ASSERT_EQUAL(get(&t1.owner, "smtp.password", NULL, &r), 200);
	CU_ASSERT_TRUE(json_object_is_type(ru_json_at(&r, "typed_value"),
	    json_type_null));
	CU_ASSERT_FALSE(strstr(r.body, "hunter2") != NULL);
	itest_response_free(&r);
	ru_call("GET", "/v1/config", &t1.owner, NULL, NULL, &r);
	CU_ASSERT_FALSE(strstr(r.body, "hunter2") != NULL);
	itest_response_free(&r);

	before_ok = audit_count(&t1.owner, "config.reveal", "success");
	before_denied = audit_count(&t1.owner, "config.reveal", "denied");
	CU_ASSERT_EQUAL(get(&t1.owner, "smtp.password", "reveal=true", &r), 200);
	RU_ASSERT_STR(ru_json_str(&r, "typed_value"), "hunter2-xyz");
	itest_response_free(&r);
	CU_ASSERT_EQUAL(audit_count(&t1.owner, "config.reveal", "success"),
	    before_ok + 1);

	/* A viewer has config:read but not the RESTRICTED level. */
	CU_ASSERT_FATAL(ru_make_user(&t1, "viewer", &viewer));
	CU_ASSERT_EQUAL(get(&viewer, "smtp.password", NULL, &r), 200);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(get(&viewer, "smtp.password", "reveal=true", &r), 403);
	CU_ASSERT_FALSE(r.body != NULL && strstr(r.body, "hunter2") != NULL);
	itest_response_free(&r);
	/* An API key never reaches RESTRICTED, whatever its scopes. */
	snprintf(body, sizeof(body), "{\"name\":\"cfg\",\"scopes\":"
	    "[\"config:read\",\"config:write\"]}");
	ru_call("POST", "/v1/api-keys", &t1.owner, body, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 201);
	k = ru_json_str(&r, "key");
	snprintf(keycred.header, sizeof(keycred.header), "X-API-Key: %s",
	    k ? k : "");
	itest_response_free(&r);
	CU_ASSERT_EQUAL(get(&keycred, "smtp.password", "reveal=true", &r), 403);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(audit_count(&t1.owner, "config.reveal", "denied"),
	    before_denied + 2);
	/* Reveal on a list is refused. */
	ru_call("GET", "/v1/config?reveal=true", &t1.owner, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	itest_response_free(&r);
}

static void
test_tampered_or_moved_ciphertext(void)
{
	struct itest_response r;
	PGconn *db;
	char *v;
	int before;

	CU_ASSERT_FATAL(setup());
	put_expect(&t1.owner, "tamper.a", "{\"config_value\":\"alpha-secret\","
	    "\"config_type\":\"string\",\"is_encrypted\":true}", 201);
	put_expect(&t1.owner, "tamper.b", "{\"config_value\":\"beta-secret\","
	    "\"config_type\":\"string\",\"is_encrypted\":true}", 201);
	db = ru_db(t1.id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	/* One flipped character of the sealed payload. */
	CU_ASSERT_TRUE(ru_db_exec(db, "UPDATE system_config SET config_value ="
	    " left(config_value, length(config_value) - 3) ||"
	    " CASE WHEN substr(config_value, length(config_value) - 2, 1) = 'A'"
	    " THEN 'B' ELSE 'A' END || right(config_value, 2)"
	    " WHERE config_key = 'tamper.a'", 0, NULL));
	before = audit_count(&t1.owner, "config.secret_unreadable", "failure");
	CU_ASSERT_EQUAL(get(&t1.owner, "tamper.a", "reveal=true", &r), 409);
	RU_ASSERT_STR(ru_json_str(&r, "error.code"), "secret_unreadable");
	itest_response_free(&r);
	/* A valid ciphertext moved to another key does not open either. */
	v = ru_db_value(db, "SELECT config_value FROM system_config WHERE"
	    " config_key = 'tamper.b'", 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	put_expect(&t1.owner, "tamper.c", "{\"config_value\":\"gamma-secret\","
	    "\"config_type\":\"string\",\"is_encrypted\":true}", 201);
	{
		const char *p[1] = { v };

		CU_ASSERT_TRUE(ru_db_exec(db, "UPDATE system_config SET"
		    " config_value = $1 WHERE config_key = 'tamper.c'", 1, p));
	}
	free(v);
	CU_ASSERT_EQUAL(get(&t1.owner, "tamper.c", "reveal=true", &r), 409);
	RU_ASSERT_STR(ru_json_str(&r, "error.code"), "secret_unreadable");
	itest_response_free(&r);
	CU_ASSERT_EQUAL(audit_count(&t1.owner, "config.secret_unreadable",
	    "failure"), before + 2);
	/* The untouched one still opens; setting the broken one again heals it. */
	CU_ASSERT_EQUAL(get(&t1.owner, "tamper.b", "reveal=true", &r), 200);
	RU_ASSERT_STR(ru_json_str(&r, "typed_value"), "beta-secret");
	itest_response_free(&r);
	put_expect(&t1.owner, "tamper.a", "{\"config_value\":\"alpha-2\"}", 200);
	CU_ASSERT_EQUAL(get(&t1.owner, "tamper.a", "reveal=true", &r), 200);
	RU_ASSERT_STR(ru_json_str(&r, "typed_value"), "alpha-2");
	itest_response_free(&r);
	/* Clean up what rotation would count as unreadable. */
	ru_call("DELETE", "/v1/config/tamper.c", &t1.owner, NULL, NULL, &r);
	itest_response_free(&r);
	CU_ASSERT_TRUE(ru_db_exec(db, "UPDATE system_config SET is_encrypted ="
	    " false, config_value = 'gone' WHERE config_key = 'tamper.c'", 0,
	    NULL));
	PQfinish(db);
}

static void
test_cross_tenant_isolation(void)
{
	struct itest_response r;
	PGconn *db;
	char *n;

	CU_ASSERT_FATAL(setup());
	put_expect(&t1.owner, "iso.key", "{\"config_value\":\"t1\","
	    "\"config_type\":\"string\"}", 201);
	CU_ASSERT_EQUAL(get(&t2.owner, "iso.key", NULL, &r), 404);
	itest_response_free(&r);
	ru_call("GET", "/v1/config", &t2.owner, NULL, NULL, &r);
	CU_ASSERT_FALSE(r.body != NULL && strstr(r.body, "iso.key") != NULL);
	itest_response_free(&r);
	/* t2 has its own key of the same name. */
	put_expect(&t2.owner, "iso.key", "{\"config_value\":\"t2\","
	    "\"config_type\":\"string\"}", 201);
	CU_ASSERT_EQUAL(get(&t1.owner, "iso.key", NULL, &r), 200);
	RU_ASSERT_STR(ru_json_str(&r, "typed_value"), "t1");
	itest_response_free(&r);
	/* Row-level security: bound to t2, t1's rows do not exist. */
	db = ru_db(t2.id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	{
		const char *p[1] = { t1.id };

		n = ru_db_value(db, "SELECT count(*) FROM system_config WHERE"
		    " tenant_id = $1::uuid", 1, p);
	}
	RU_ASSERT_STR(n, "0");
	free(n);
	PQfinish(db);
	/* The platform scope is for platform admins only. */
	CU_ASSERT_EQUAL(get(&t1.owner, "iso.key", "scope=platform", &r), 403);
	itest_response_free(&r);
	put(&t1.owner, "iso.key", "scope=platform", "{\"config_value\":\"x\","
	    "\"config_type\":\"string\"}", &r);
	CU_ASSERT_EQUAL(r.status, 403);
	itest_response_free(&r);
	/* And is_system_config rows are the operators'. */
	put(&t1.owner, "sys.key", NULL, "{\"config_value\":\"x\",\"config_type\":"
	    "\"string\",\"is_system_config\":true}", &r);
	CU_ASSERT_EQUAL(r.status, 403);
	RU_ASSERT_STR(ru_json_str(&r, "error.code"), "system_config");
	itest_response_free(&r);
}

static void
test_writes_audited(void)
{
	struct itest_response r;
	int c0, u0, d0;

	CU_ASSERT_FATAL(setup());
	c0 = audit_count(&t2.owner, "config.create", NULL);
	u0 = audit_count(&t2.owner, "config.update", NULL);
	d0 = audit_count(&t2.owner, "config.delete", NULL);
	put_expect(&t2.owner, "aud.key", "{\"config_value\":\"1\","
	    "\"config_type\":\"integer\"}", 201);
	put_expect(&t2.owner, "aud.key", "{\"config_value\":\"2\"}", 200);
	ru_call("DELETE", "/v1/config/aud.key", &t2.owner, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 204);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(audit_count(&t2.owner, "config.create", NULL), c0 + 1);
	CU_ASSERT_EQUAL(audit_count(&t2.owner, "config.update", NULL), u0 + 1);
	CU_ASSERT_EQUAL(audit_count(&t2.owner, "config.delete", NULL), d0 + 1);
}

static void
test_ctl_config(void)
{
	char out[8192], args[512];
	int rc;

	CU_ASSERT_FATAL(setup());
	snprintf(args, sizeof(args), "config set --tenant %s ctl.secret --type "
	    "string --encrypted", t2.slug);
	CU_ASSERT_EQUAL(ctl(args, "from-stdin-secret\n", out, sizeof(out)), 0);
	snprintf(args, sizeof(args), "config set --tenant %s ctl.secret "
	    "--encrypted --value leaked", t2.slug);
	CU_ASSERT_EQUAL(ctl(args, NULL, out, sizeof(out)), 2);
	snprintf(args, sizeof(args), "--json config get --tenant %s ctl.secret",
	    t2.slug);
	CU_ASSERT_EQUAL(ctl(args, NULL, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"masked\":true"));
	CU_ASSERT_PTR_NULL(strstr(out, "from-stdin-secret"));
	snprintf(args, sizeof(args), "--json config get --tenant %s ctl.secret "
	    "--reveal", t2.slug);
	CU_ASSERT_EQUAL(ctl(args, NULL, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"typed_value\":\"from-stdin-secret\""));
	snprintf(args, sizeof(args), "config set --tenant %s ctl.n --type "
	    "integer --rules '{\"max\":5}' --value 9", t2.slug);
	rc = ctl(args, NULL, out, sizeof(out));
	CU_ASSERT_EQUAL(rc, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "above_max"));
	snprintf(args, sizeof(args), "config get --tenant %s no.such.key",
	    t2.slug);
	CU_ASSERT_EQUAL(ctl(args, NULL, out, sizeof(out)), 4);
	snprintf(args, sizeof(args), "--json config list --tenant %s", t2.slug);
	CU_ASSERT_EQUAL(ctl(args, NULL, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "ctl.secret"));
}

/* The "rows_under_older_keys.total" of --status, or -1. */
static long long
pending_total(void)
{
	char out[4096];
	struct json_object *o, *p, *t;
	long long n = -1;

	if (ctl("--json rotate-key --status", NULL, out, sizeof(out)) != 0)
		return -1;
	o = json_tokener_parse(out);
	if (json_object_object_get_ex(o, "rows_under_older_keys", &p) &&
	    json_object_object_get_ex(p, "total", &t))
		n = json_object_get_int64(t);
	json_object_put(o);
	return n;
}

static void
test_rotation_interrupted_then_resumed(void)
{
	struct itest_response r;
	char out[4096];
	long long before, mid;

	CU_ASSERT_FATAL(setup());
	put_expect(&t1.owner, "rot.one", "{\"config_value\":\"one-secret\","
	    "\"config_type\":\"string\",\"is_encrypted\":true}", 201);
	put_expect(&t2.owner, "rot.two", "{\"config_value\":\"2\","
	    "\"config_type\":\"integer\",\"is_encrypted\":true}", 201);
	/* A crash after one batch of one row. */
	CU_ASSERT_EQUAL(ctl("--json rotate-key --batch-size 1 --max-batches 1",
	    NULL, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"new_key\":true"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"finished\":false"));
	before = pending_total();
	CU_ASSERT_TRUE(before >= 2);   /* at least ours and the demo channel */
	CU_ASSERT_EQUAL(ctl("--json rotate-key --status", NULL, out,
	    sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"in_progress\":true"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"policy_days\":90"));
	/* Meanwhile everything opens: old key still in the file. */
	CU_ASSERT_EQUAL(get(&t1.owner, "rot.one", "reveal=true", &r), 200);
	RU_ASSERT_STR(ru_json_str(&r, "typed_value"), "one-secret");
	itest_response_free(&r);
	/* Another interrupted run makes progress without a new key. */
	CU_ASSERT_EQUAL(ctl("--json rotate-key --batch-size 1 --max-batches 1",
	    NULL, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"new_key\":false"));
	mid = pending_total();
	CU_ASSERT_TRUE(mid >= 0 && mid < before);
	/* Resume to the end. */
	CU_ASSERT_EQUAL(ctl("--json rotate-key --batch-size 2", NULL, out,
	    sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"new_key\":false"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"finished\":true"));
	CU_ASSERT_EQUAL(pending_total(), 0);
	CU_ASSERT_EQUAL(ctl("--json rotate-key --status", NULL, out,
	    sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"in_progress\":false"));
	/* Every value still reads, through the API processes (which picked
	 * up the new key file) and gacpctl. */
	CU_ASSERT_EQUAL(get(&t1.owner, "rot.one", "reveal=true", &r), 200);
	RU_ASSERT_STR(ru_json_str(&r, "typed_value"), "one-secret");
	itest_response_free(&r);
	CU_ASSERT_EQUAL(get(&t2.owner, "rot.two", "reveal=true", &r), 200);
	CU_ASSERT_EQUAL(ru_json_int(&r, "typed_value"), 2);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(get(&t1.owner, "smtp.password", "reveal=true", &r), 200);
	RU_ASSERT_STR(ru_json_str(&r, "typed_value"), "hunter2-xyz");
	itest_response_free(&r);
	/* New writes are sealed under the new key and open too. */
	put_expect(&t1.owner, "rot.three", "{\"config_value\":\"three\","
	    "\"config_type\":\"string\",\"is_encrypted\":true}", 201);
	CU_ASSERT_EQUAL(get(&t1.owner, "rot.three", "reveal=true", &r), 200);
	RU_ASSERT_STR(ru_json_str(&r, "typed_value"), "three");
	itest_response_free(&r);
	CU_ASSERT_EQUAL(pending_total(), 0);
}

static void
test_cache_sees_change_within_1s(void)
{
	struct gacp_ctx app;
	struct gacp_err err;
	struct syscfg_value v;
	struct itest_response r;
	long long t0, elapsed = -1;
	bool changed = false;
	int rc;

	CU_ASSERT_FATAL(setup());
	put_expect(&t2.owner, "cache.key", "{\"config_value\":\"1\","
	    "\"config_type\":\"integer\"}", 201);
	memset(&app, 0, sizeof(app));
	setenv("GACP_LOG_ERROR_LOG", "stderr", 1);
	setenv("GACP_LOG_ACCESS_LOG", "stderr", 1);
	setenv("GACP_SERVER_METRICS_FILE", "", 1);
	gacp_err_clear(&err);
	rc = gacp_ctx_init(&app, "itest", getenv("GACP_CONFIG"), NULL, 0, &err);
	/* Only for this context: services a later test restarts through
	 * gacp-stack inherit this process's environment, and must keep
	 * their logs and their /metrics slot. */
	unsetenv("GACP_LOG_ERROR_LOG");
	unsetenv("GACP_LOG_ACCESS_LOG");
	unsetenv("GACP_SERVER_METRICS_FILE");
	CU_ASSERT_EQUAL_FATAL(rc, GACP_OK);
	CU_ASSERT_EQUAL(syscfg_cache_get(&app, &app.arena, t2.id, "production",
	    "cache.key", &v, &err), GACP_OK);
	CU_ASSERT_TRUE(v.found && strcmp(v.text, "1") == 0);
	CU_ASSERT_EQUAL(syscfg_get_int(&app, &app.arena, t2.id, "production",
	    "cache.key", -1), 1);
	/* A key of no scope gives the default. */
	CU_ASSERT_EQUAL(syscfg_get_int(&app, &app.arena, t2.id, "production",
	    "cache.none", 77), 77);
	arena_reset(&app.arena);
	/* Change it through the API (another process). */
	put(&t2.owner, "cache.key", NULL, "{\"config_value\":\"2\"}", &r);
	t0 = ru_now_ms();
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	while (ru_now_ms() - t0 < 3000) {
		if (syscfg_get_int(&app, &app.arena, t2.id, "production",
		    "cache.key", -1) == 2) {
			elapsed = ru_now_ms() - t0;
			changed = true;
			break;
		}
		arena_reset(&app.arena);
		ru_sleep_ms(20);
	}
	arena_reset(&app.arena);
	CU_ASSERT_TRUE(changed);
	CU_ASSERT_TRUE(elapsed >= 0 && elapsed < 1000);
	fprintf(stderr, "config cache saw the change after %lld ms\n", elapsed);
	/* Inside a caller's transaction bound to the tenant (a request's),
	 * and the platform-wide value as the fallback. */
	{
		struct ru_cred admin;
		char key[64], body[128], path[160];

		CU_ASSERT_FATAL(ru_login(itest_env("PLATFORM_TENANT_SLUG",
		    "platform"), itest_env("PLATFORM_ADMIN_USER", "operator"),
		    itest_env("PLATFORM_ADMIN_PASSWORD", ""), &admin));
		ru_unique("cache.platform.", key, sizeof(key));
		snprintf(body, sizeof(body), "{\"config_value\":\"31\","
		    "\"config_type\":\"integer\"}");
		CU_ASSERT_EQUAL(put(&admin, key, "scope=platform", body, &r), 201);
		itest_response_free(&r);
		CU_ASSERT_EQUAL(db_begin(&app.db, &app.arena, t2.id, &err),
		    GACP_OK);
		CU_ASSERT_EQUAL(syscfg_cache_get(&app, &app.arena, t2.id,
		    "production", key, &v, &err), GACP_OK);
		CU_ASSERT_TRUE(v.found && v.from_platform &&
		    strcmp(v.text, "31") == 0);
		CU_ASSERT_TRUE(app.db.in_tx);
		CU_ASSERT_EQUAL(db_commit(&app.db, &app.arena, &err), GACP_OK);
		/* The tenant's own value wins over the platform's. */
		CU_ASSERT_EQUAL(put(&t2.owner, key, NULL, "{\"config_value\":"
		    "\"32\",\"config_type\":\"integer\"}", &r), 201);
		itest_response_free(&r);
		ru_sleep_ms(1000);
		CU_ASSERT_EQUAL(syscfg_get_int(&app, &app.arena, t2.id,
		    "production", key, -1), 32);
		snprintf(path, sizeof(path), "/v1/config/%s?scope=platform", key);
		ru_call("DELETE", path, &admin, NULL, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 204);
		itest_response_free(&r);
		arena_reset(&app.arena);
	}
	/* A deleted key is noticed as well. */
	ru_call("DELETE", "/v1/config/cache.key", &t2.owner, NULL, NULL, &r);
	itest_response_free(&r);
	ru_sleep_ms(1000);
	CU_ASSERT_EQUAL(syscfg_get_int(&app, &app.arena, t2.id, "production",
	    "cache.key", -5), -5);
	gacp_ctx_cleanup(&app);
}

void
itest_config_register(void)
{
	static const struct test_case cases[] = {
		{ "typed values: integer, boolean, float, json; filters",
		    test_typed_values },
		{ "wrong type is 422 invalid_type, nothing written",
		    test_wrong_type_writes_nothing },
		{ "each rule: min, max, min/max_length, pattern, enum; bad rules",
		    test_each_rule },
		{ "stale version is 409 (PUT and DELETE)", test_stale_version_409 },
		{ "secrets masked; reveal RESTRICTED only (403), audited",
		    test_secret_masked_and_reveal },
		{ "tampered or moved ciphertext: 409 secret_unreadable, audited",
		    test_tampered_or_moved_ciphertext },
		{ "tenants are isolated (API and RLS); platform scope is 403",
		    test_cross_tenant_isolation },
		{ "create, update, delete are audited", test_writes_audited },
		{ "gacpctl config get|set|list", test_ctl_config },
		{ "rotate-key interrupted half-way, resumed, all readable",
		    test_rotation_interrupted_then_resumed },
		{ "a process's cache sees a change within 1 s",
		    test_cache_sees_change_within_1s },
		{ NULL, NULL },
	};

	tests_add_suite("config", cases);
}
