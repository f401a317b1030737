/* test_foundation.c - the FastCGI core through nginx: endpoints, errors,
 * request ids, metrics across processes, dependency loss and recovery. */
#include "itest.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
test_health(void)
{
	struct itest_response r;

	CU_ASSERT_EQUAL_FATAL(itest_http("GET", "/health", NULL, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.body, "{\"status\":\"ok\"}");
	itest_response_free(&r);
}

static void
test_ready_and_version(void)
{
	struct itest_response r;
	struct json_object *v;

	itest_http("GET", "/ready", NULL, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"postgres\":\"ok\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"redis\":\"ok\""));
	itest_response_free(&r);

	itest_http("GET", "/version", NULL, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_TRUE(r.json != NULL &&
	    json_object_object_get_ex(r.json, "version", &v) &&
	    json_object_is_type(v, json_type_string));
	itest_response_free(&r);
}

static void
test_not_found_envelope_and_request_id(void)
{
	const char *hdrs[] = { "X-Request-Id: itest-req-42", NULL };
	struct itest_response r;
	struct json_object *e, *rid;
	char echoed[80];

	itest_http("GET", "/no/such/thing", hdrs, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT_STRING_EQUAL(itest_error_code(&r), "not_found");
	CU_ASSERT_TRUE(itest_header(&r, "X-Request-Id", echoed, sizeof(echoed)));
	CU_ASSERT_STRING_EQUAL(echoed, "itest-req-42");
	CU_ASSERT_TRUE(json_object_object_get_ex(r.json, "error", &e) &&
	    json_object_object_get_ex(e, "request_id", &rid) &&
	    strcmp(json_object_get_string(rid), "itest-req-42") == 0);
	itest_response_free(&r);

	/* An unsafe id (spaces, quotes) is replaced by a generated one. */
	{
		const char *bad[] = { "X-Request-Id: a b\"c", NULL };
		itest_http("GET", "/health", bad, NULL, 0, &r);
		CU_ASSERT_TRUE(itest_header(&r, "X-Request-Id", echoed,
		    sizeof(echoed)));
		CU_ASSERT_EQUAL(strlen(echoed), 32);
		itest_response_free(&r);
	}
}

static void
test_method_not_allowed(void)
{
	struct itest_response r;
	char allow[64];

	itest_http("DELETE", "/health", NULL, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.status, 405);
	CU_ASSERT_STRING_EQUAL(itest_error_code(&r), "method_not_allowed");
	CU_ASSERT_TRUE(itest_header(&r, "Allow", allow, sizeof(allow)));
	CU_ASSERT_PTR_NOT_NULL(strstr(allow, "GET"));
	itest_response_free(&r);
}

static void
test_bad_query_and_path(void)
{
	struct itest_response r;

	itest_http("GET", "/health?x=%zz", NULL, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.status, 400);
	CU_ASSERT_STRING_EQUAL(itest_error_code(&r), "bad_request");
	itest_response_free(&r);

	itest_http("GET", "/health?x=%00", NULL, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.status, 400);
	itest_response_free(&r);
}

static void
test_body_too_large(void)
{
	const char *hdrs[] = { "Content-Type: application/json", NULL };
	size_t app_limit = 1024 * 1024;
	char *big = malloc(3 * app_limit);
	struct itest_response r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'a', 3 * app_limit);
	/* Above the application's limit, below nginx's: our 413. */
	itest_http("POST", "/health", hdrs, big, app_limit + 10, &r);
	CU_ASSERT_EQUAL(r.status, 413);
	CU_ASSERT_STRING_EQUAL(itest_error_code(&r), "payload_too_large");
	itest_response_free(&r);
	/* Above nginx's limit: nginx answers, still with the JSON envelope. */
	itest_http("POST", "/health", hdrs, big, 3 * app_limit, &r);
	CU_ASSERT_EQUAL(r.status, 413);
	CU_ASSERT_STRING_EQUAL(itest_error_code(&r), "payload_too_large");
	itest_response_free(&r);
	free(big);
}

/* Sum of gacp_http_requests_total for the health route, status 200. */
static long long
health_count(void)
{
	struct itest_response r;
	const char *needle =
	    "gacp_http_requests_total{route=\"health\",method=\"GET\",status=\"200\"} ";
	const char *p;
	long long n = -1;

	itest_http("GET", "/metrics", NULL, NULL, 0, &r);
	if (r.status == 200 && (p = strstr(r.body, needle)) != NULL)
		n = atoll(p + strlen(needle));
	else if (r.status == 200)
		n = 0;
	itest_response_free(&r);
	return n;
}

static void
test_metrics_summed_across_processes(void)
{
	long long before, after;
	int i;

	before = health_count();
	CU_ASSERT_TRUE_FATAL(before >= 0);
	for (i = 0; i < 200; i++) {
		struct itest_response r;
		itest_http("GET", "/health", NULL, NULL, 0, &r);
		itest_response_free(&r);
	}
	after = health_count();
	/* Every request counted exactly once, whichever process served it. */
	CU_ASSERT_EQUAL(after - before, 200);
	{
		struct itest_response r;
		itest_http("GET", "/metrics", NULL, NULL, 0, &r);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body,
		    "# TYPE gacp_http_request_duration_seconds histogram"));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body,
		    "gacp_http_request_duration_seconds_bucket{route=\"health\",method=\"GET\",le=\"+Inf\"}"));
		itest_response_free(&r);
	}
}

static char *
fcgi_pids(void)
{
	char path[1024];
	FILE *f;
	char *buf = calloc(1, 256);

	snprintf(path, sizeof(path), "%s/run/fcgi.pid",
	    itest_env("GACP_VAR_DIR", "var/test"));
	f = fopen(path, "r");
	if (f != NULL) {
		size_t n = fread(buf, 1, 255, f);
		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

static void
dependency_outage(const char *service, const char *name)
{
	char *pids_before = fcgi_pids(), *pids_after;
	struct itest_response r;
	char stop[64], start[64];
	int i;

	snprintf(stop, sizeof(stop), "stop %s", service);
	snprintf(start, sizeof(start), "start %s", service);
	CU_ASSERT_EQUAL_FATAL(itest_stack(stop), 0);
	/* Every process must notice, not just one: ask several times. */
	for (i = 0; i < 8; i++) {
		itest_http("GET", "/ready", NULL, NULL, 0, &r);
		CU_ASSERT_EQUAL(r.status, 503);
		CU_ASSERT_STRING_EQUAL(itest_error_code(&r),
		    "dependency_unavailable");
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body, name));
		itest_response_free(&r);
	}
	/* Liveness does not depend on the stores. */
	itest_http("GET", "/health", NULL, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);

	CU_ASSERT_EQUAL_FATAL(itest_stack(start), 0);
	CU_ASSERT_TRUE(itest_wait_status("/ready", 200, 15000));
	for (i = 0; i < 8; i++) {
		itest_http("GET", "/ready", NULL, NULL, 0, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		itest_response_free(&r);
	}
	/* Recovered without restarting the FastCGI processes. */
	pids_after = fcgi_pids();
	CU_ASSERT_STRING_EQUAL(pids_before, pids_after);
	free(pids_before);
	free(pids_after);
}

static void
test_redis_outage(void)
{
	dependency_outage("redis", "redis");
}

static void
test_postgres_outage(void)
{
	dependency_outage("postgres", "postgres");
}

static void *
slow_ready(void *arg)
{
	struct itest_response *r = arg;
	itest_http("GET", "/ready", NULL, NULL, 0, r);
	return NULL;
}

static long
redis_pid(void)
{
	char path[1024];
	FILE *f;
	long pid = 0;

	snprintf(path, sizeof(path), "%s/run/redis.pid",
	    itest_env("GACP_VAR_DIR", "var/test"));
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid;
}

/* SIGTERM while a request is in flight: the request still gets the
 * application's answer (not nginx's 502), then the processes exit. */
static void
test_graceful_stop(void)
{
	struct timespec pause = { 0, 300 * 1000 * 1000 };
	struct itest_response r;
	pthread_t t;
	char *pids = fcgi_pids(), *p, *save = NULL;
	long frozen = redis_pid();

	CU_ASSERT_TRUE_FATAL(frozen > 0);
	CU_ASSERT_TRUE_FATAL(pids[0] != '\0');
	/* A frozen Redis makes /ready wait for its timeout (1 s). */
	CU_ASSERT_EQUAL_FATAL(kill((pid_t)frozen, SIGSTOP), 0);
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, slow_ready, &r), 0);
	nanosleep(&pause, NULL);
	for (p = strtok_r(pids, " \n", &save); p != NULL; p = strtok_r(NULL, " \n", &save))
		kill((pid_t)atol(p), SIGTERM);
	pthread_join(t, NULL);
	kill((pid_t)frozen, SIGCONT);
	CU_ASSERT_EQUAL(r.status, 503);
	CU_ASSERT_PTR_NOT_NULL(itest_error_code(&r));
	if (itest_error_code(&r) != NULL)
		CU_ASSERT_STRING_EQUAL(itest_error_code(&r), "dependency_unavailable");
	itest_response_free(&r);
	free(pids);
	/* The pool is gone; bring it back for the following tests. */
	CU_ASSERT_EQUAL(itest_stack("stop fcgi"), 0);
	CU_ASSERT_EQUAL(itest_stack("start fcgi"), 0);
	CU_ASSERT_TRUE(itest_wait_status("/ready", 200, 15000));
}

void
itest_foundation_register(void)
{
	static const struct test_case cases[] = {
		{ "health", test_health },
		{ "ready_and_version", test_ready_and_version },
		{ "not_found_envelope_and_request_id",
		    test_not_found_envelope_and_request_id },
		{ "method_not_allowed", test_method_not_allowed },
		{ "bad_query_and_path", test_bad_query_and_path },
		{ "body_too_large", test_body_too_large },
		{ "metrics_summed_across_processes",
		    test_metrics_summed_across_processes },
		{ "redis_outage", test_redis_outage },
		{ "postgres_outage", test_postgres_outage },
		{ "graceful_stop", test_graceful_stop },
		{ NULL, NULL },
	};
	tests_add_suite("foundation", cases);
}
