/* test_analytics.c - gacp-analytics and the analytics API against real
 * PostgreSQL: exact figures for seeded messages, idempotent re-runs and
 * rebuilds, the single-instance lock, an unreachable database, and the
 * API's validation and CSV. */
#include "itest.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DAY "2026-01-10"

static char tenant_id[40];
static char api_key[128];
static char slug[40];

static PGconn *
owner(void)
{
	PGconn *c = PQconnectdb(itest_env("GACP_DB_URL", ""));
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "owner connection: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

static int
exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "SQL failed: %s\n%s", sql, PQerrorMessage(c));
	PQclear(r);
	return ok;
}

/* Run a project program through the stack; returns its exit status and
 * its stdout (first 4 KiB) in out. */
static int
run_env(const char *env, const char *cmd, char *out, size_t outlen)
{
	char line[2048];
	FILE *p;
	size_t n = 0;
	int st;

	snprintf(line, sizeof(line), "%s %s/scripts/gacp-stack exec %s 2>&1",
	    env, itest_env("GACP_ROOT", "."), cmd);
	p = popen(line, "r");
	if (p == NULL)
		return -1;
	if (out != NULL && outlen > 0) {
		n = fread(out, 1, outlen - 1, p);
		out[n] = '\0';
	} else {
		while (fread(line, 1, sizeof(line), p) > 0)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
run(const char *cmd, char *out, size_t outlen)
{
	return run_env("", cmd, out, outlen);
}

/* A tenant of its own with a REST channel, 2 contacts and a known set of
 * messages on DAY: 4 inbound (greet ×2 th/en, nlu_fallback, human_handoff),
 * 3 outbound sent (latencies 100, 200, 300 ms) and 1 failed. */
static int
seed(void)
{
	PGconn *c = owner();
	char sql[4096], out[4096];
	int ok = 0;

	if (c == NULL)
		return 0;
	snprintf(slug, sizeof(slug), "itest-an-%d", (int)getpid());
	snprintf(sql, sizeof(sql), "gacpctl tenant create --json --slug %s --name Analytics", slug);
	if (run(sql, out, sizeof(out)) != 0 || strstr(out, "\"id\":\"") == NULL) {
		fprintf(stderr, "tenant create: %s\n", out);
		goto out;
	}
	snprintf(tenant_id, sizeof(tenant_id), "%.36s", strstr(out, "\"id\":\"") + 6);
	snprintf(sql, sizeof(sql), "gacpctl apikey create --tenant %s --name an --scope analytics:read", slug);
	if (run(sql, out, sizeof(out)) != 0 || strstr(out, "gacp_") == NULL) {
		fprintf(stderr, "apikey create: %s\n", out);
		goto out;
	}
	/* The key is the line starting with its public prefix. */
	{
		char *k = strstr(out, "\ngacp_");
		k = k ? k + 1 : out;
		k[strcspn(k, "\r\n")] = '\0';
		snprintf(api_key, sizeof(api_key), "%.120s", k);
	}
	snprintf(sql, sizeof(sql),
	    "BEGIN; SELECT set_config('app.tenant_id', '%s', true);"
	    "INSERT INTO channels (tenant_id, id, type, name) VALUES ('%s', "
	    "'11111111-1111-4111-8111-111111111111', 'rest', 'an');"
	    "INSERT INTO contacts (tenant_id, id, channel_id, psid, first_seen_at) VALUES "
	    "('%s', '22222222-2222-4222-8222-222222222221', '11111111-1111-4111-8111-111111111111', 'a', '" DAY " 09:10Z'),"
	    "('%s', '22222222-2222-4222-8222-222222222222', '11111111-1111-4111-8111-111111111111', 'b', '2025-12-01 09:00Z');"
	    "INSERT INTO conversations (tenant_id, id, channel_id, contact_id) VALUES "
	    "('%s', '33333333-3333-4333-8333-333333333331', '11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222221'),"
	    "('%s', '33333333-3333-4333-8333-333333333332', '11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222');"
	    "INSERT INTO messages (tenant_id, created_at, conversation_id, channel_id, contact_id, direction, sender, intent, language, confidence, status, latency_ms) VALUES "
	    "('%s', '" DAY " 09:15Z', '33333333-3333-4333-8333-333333333331', '11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222221', 'in', 'contact', 'greet', 'th', 0.9, 'received', NULL),"
	    "('%s', '" DAY " 09:15Z', '33333333-3333-4333-8333-333333333331', '11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222221', 'out', 'bot', 'greet', 'th', NULL, 'sent', 100),"
	    "('%s', '" DAY " 10:05Z', '33333333-3333-4333-8333-333333333332', '11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', 'in', 'contact', 'greet', 'en', 0.7, 'received', NULL),"
	    "('%s', '" DAY " 10:05Z', '33333333-3333-4333-8333-333333333332', '11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', 'out', 'bot', 'greet', 'en', NULL, 'sent', 200),"
	    "('%s', '" DAY " 10:20Z', '33333333-3333-4333-8333-333333333332', '11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', 'in', 'contact', 'nlu_fallback', 'en', 0.2, 'received', NULL),"
	    "('%s', '" DAY " 10:20Z', '33333333-3333-4333-8333-333333333332', '11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', 'out', 'bot', 'nlu_fallback', 'en', NULL, 'failed', NULL),"
	    "('%s', '" DAY " 11:00Z', '33333333-3333-4333-8333-333333333332', '11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', 'in', 'contact', 'human_handoff', 'en', 0.95, 'received', NULL),"
	    "('%s', '" DAY " 11:00Z', '33333333-3333-4333-8333-333333333332', '11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', 'out', 'bot', 'human_handoff', 'en', NULL, 'sent', 300);"
	    "COMMIT;", tenant_id, tenant_id, tenant_id, tenant_id, tenant_id,
	    tenant_id, tenant_id, tenant_id, tenant_id, tenant_id, tenant_id,
	    tenant_id, tenant_id, tenant_id);
	ok = exec_ok(c, sql);
out:
	PQfinish(c);
	return ok;
}

/* md5 of the tenant's analytics rows (without computed_at). */
static void
digest(char out[64])
{
	PGconn *c = owner();
	char sql[1024];
	PGresult *r;

	out[0] = '\0';
	if (c == NULL)
		return;
	snprintf(sql, sizeof(sql), "BEGIN; SELECT set_config('app.tenant_id', '%s', true);",
	    tenant_id);
	exec_ok(c, sql);
	r = PQexec(c, "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM ("
	    "SELECT 'h' || (a.*)::text AS x FROM (SELECT tenant_id, bucket_start, "
	    "channel_id, intent, language, messages_in, messages_out, "
	    "unique_contacts, new_contacts, fallbacks, handoffs, confidence_avg, "
	    "confidence_p50, confidence_p95, latency_p50_ms, latency_p95_ms, "
	    "failed_sends FROM analytics_hourly) a UNION ALL SELECT 'd' || (b.*)::text "
	    "FROM (SELECT tenant_id, bucket_start, channel_id, intent, language, "
	    "messages_in, messages_out, unique_contacts, new_contacts, fallbacks, "
	    "handoffs, confidence_avg, confidence_p50, confidence_p95, "
	    "latency_p50_ms, latency_p95_ms, failed_sends FROM analytics_daily) b) s");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		snprintf(out, 64, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	exec_ok(c, "COMMIT");
	PQfinish(c);
}

static void
test_batch_figures_and_idempotence(void)
{
	char out[4096], d1[64], d2[64], d3[64];
	struct itest_response r;
	const char *hdr[3];
	char auth[200];
	struct json_object *v;

	CU_ASSERT_TRUE_FATAL(seed());
	CU_ASSERT_EQUAL(run("gacp-analytics", out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "buckets written"));
	digest(d1);
	CU_ASSERT_EQUAL(run("gacp-analytics", out, sizeof(out)), 0);
	digest(d2);
	CU_ASSERT_EQUAL(run("gacp-analytics --rebuild --from " DAY " --to " DAY,
	    out, sizeof(out)), 0);
	digest(d3);
	CU_ASSERT_TRUE(d1[0] != '\0');
	CU_ASSERT_STRING_EQUAL(d1, d2);
	CU_ASSERT_STRING_EQUAL(d1, d3);

	snprintf(auth, sizeof(auth), "X-API-Key: %s", api_key);
	hdr[0] = auth;
	hdr[1] = NULL;
	itest_http("GET", "/v1/analytics/summary?from=" DAY "&to=" DAY, hdr,
	    NULL, 0, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_TRUE_FATAL(r.json != NULL);
	CU_ASSERT_TRUE(json_object_object_get_ex(r.json, "messages_in", &v) &&
	    json_object_get_int(v) == 4);
	CU_ASSERT_TRUE(json_object_object_get_ex(r.json, "messages_out", &v) &&
	    json_object_get_int(v) == 4);
	CU_ASSERT_TRUE(json_object_object_get_ex(r.json, "fallbacks", &v) &&
	    json_object_get_int(v) == 1);
	CU_ASSERT_TRUE(json_object_object_get_ex(r.json, "fallback_rate", &v) &&
	    json_object_get_double(v) > 0.249 && json_object_get_double(v) < 0.251);
	CU_ASSERT_TRUE(json_object_object_get_ex(r.json, "handoffs", &v) &&
	    json_object_get_int(v) == 1);
	CU_ASSERT_TRUE(json_object_object_get_ex(r.json, "failed_sends", &v) &&
	    json_object_get_int(v) == 1);
	/* Contact "a" first seen that day, "b" a month before. */
	CU_ASSERT_TRUE(json_object_object_get_ex(r.json, "new_contacts", &v) &&
	    json_object_get_int(v) == 1);
	itest_response_free(&r);

	itest_http("GET", "/v1/analytics/intents?from=" DAY "&to=" DAY "&limit=1",
	    hdr, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"intent\":\"greet\",\"count\":2"));
	itest_response_free(&r);

	itest_http("GET", "/v1/analytics/timeseries?metric=messages_in&interval=hour&from="
	    DAY "&to=" DAY, hdr, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "{\"t\":\"" DAY "T10:00:00Z\",\"value\":2}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "{\"t\":\"" DAY "T03:00:00Z\",\"value\":0}"));
	itest_response_free(&r);

	itest_http("GET", "/v1/analytics/export.csv?from=" DAY "&to=" DAY, hdr,
	    NULL, 0, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(strncmp(r.body, "date,channel_id,intent,language,", 32), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\r\n" DAY ",11111111-1111-4111-8111-111111111111,greet,en,1,1,"));
	itest_response_free(&r);
}

static void
test_api_validation(void)
{
	static const char *bad[] = {
		"/v1/analytics/summary?from=2026-13-01",
		"/v1/analytics/summary?from=2026-02-30",
		"/v1/analytics/summary?from=20260101",
		"/v1/analytics/summary?from=2026-02-01&to=2026-01-01",
		"/v1/analytics/summary?from=2020-01-01&to=2026-01-01",
		"/v1/analytics/timeseries?metric=drop_table",
		"/v1/analytics/timeseries?interval=week",
		"/v1/analytics/timeseries?interval=hour&from=2026-01-01&to=2026-03-01",
		"/v1/analytics/intents?limit=0",
		"/v1/analytics/intents?limit=-5",
		"/v1/analytics/intents?limit=abc",
		"/v1/analytics/summary?from=2026-01-01%27%3B%20DROP%20TABLE%20messages%3B--",
		NULL,
	};
	char auth[200];
	const char *hdr[2] = { auth, NULL };
	int i;

	snprintf(auth, sizeof(auth), "X-API-Key: %s", api_key);
	for (i = 0; bad[i] != NULL; i++) {
		struct itest_response r;
		itest_http("GET", bad[i], hdr, NULL, 0, &r);
		CU_ASSERT_EQUAL(r.status, 400);
		CU_ASSERT_PTR_NOT_NULL(itest_error_code(&r));
		itest_response_free(&r);
	}
	{
		struct itest_response r;
		itest_http("GET", "/v1/analytics/summary", NULL, NULL, 0, &r);
		CU_ASSERT_EQUAL(r.status, 401);
		itest_response_free(&r);
	}
}

static void
test_single_instance_and_unreachable_db(void)
{
	PGconn *c = owner();
	char out[4096];
	PGresult *r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	r = PQexec(c, "SELECT pg_advisory_lock(7473202)");
	CU_ASSERT_EQUAL(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);
	CU_ASSERT_EQUAL(run("gacp-analytics", out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "another run holds the lock"));
	PQfinish(c);      /* releases the lock */

	CU_ASSERT_EQUAL(run_env("GACP_DATABASE_OWNER_CONNINFO='host=127.0.0.1 "
	    "port=1 dbname=gacp connect_timeout=2'", "gacp-analytics", out,
	    sizeof(out)), 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "dependency_unavailable"));
}

void itest_analytics_register(void);

void
itest_analytics_register(void)
{
	static const struct test_case cases[] = {
		{ "batch_figures_and_idempotence", test_batch_figures_and_idempotence },
		{ "api_validation", test_api_validation },
		{ "single_instance_and_unreachable_db",
		    test_single_instance_and_unreachable_db },
		{ NULL, NULL },
	};
	tests_add_suite("analytics", cases);
}
