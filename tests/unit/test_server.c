/* test_server.c - unit tests of the request pipeline server_handle() (app/server.c). */
#include "tests.h"
#include "app/context.h"
#include "app/routes.h"
#include "app/server.h"
#include "common/json.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BODY 64

static char dir[64];
static char conf_path[128];
static char metrics_path[128];
static struct gacp_ctx app;

/* A context like gacp-api.fcgi's, from a private config file: logs to
 * /dev/null, metrics in the temp dir, stores configured but never used by
 * the routes tested here (no PostgreSQL or Redis needed). */
static void
ctx_up(int with_metrics)
{
	struct gacp_err err;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/gacp-ut-server-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(conf_path, sizeof(conf_path), "%s/gacp.conf", dir);
	snprintf(metrics_path, sizeof(metrics_path), "%s/metrics", dir);
	f = fopen(conf_path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "[server]\nmax_body_bytes = %d\n", MAX_BODY);
	if (with_metrics)
		fprintf(f, "metrics_file = %s\nmetrics_slots = 4\n", metrics_path);
	fprintf(f, "[log]\nerror_log = /dev/null\naccess_log = /dev/null\n"
	    "[database]\nconninfo = host=%s/nosocket connect_timeout=1\n"
	    "[redis]\nunix_socket = %s/nosocket\n", dir, dir);
	fclose(f);
	gacp_err_clear(&err);
	CU_ASSERT_EQUAL_FATAL(gacp_ctx_init(&app, "gacp-unit", conf_path,
	    gacp_routes, gacp_nroutes, &err), GACP_OK);
	CU_ASSERT_EQUAL(app.max_body_bytes, MAX_BODY);
}

static void
ctx_down(void)
{
	char lock[160];

	gacp_ctx_cleanup(&app);
	snprintf(lock, sizeof(lock), "%s.lock", metrics_path);
	unlink(metrics_path);
	unlink(lock);
	unlink(conf_path);
	rmdir(dir);
}

struct body_src {
	const char *data;
	size_t      pos;
	int         calls;
};

static long
read_body(void *ctx, char *dst, size_t len)
{
	struct body_src *b = ctx;
	size_t n = strlen(b->data + b->pos);

	b->calls++;
	if (n > len)
		n = len;
	memcpy(dst, b->data + b->pos, n);
	b->pos += n;
	return (long)n;
}

/* The parts of app.out: the status line, one header, the body. */
static const char *
body_of(void)
{
	const char *p = strstr(app.out.data, "\r\n\r\n");

	return p ? p + 4 : NULL;
}

static int
has_header(const char *line)
{
	char want[256];
	const char *end = strstr(app.out.data, "\r\n\r\n");
	const char *p;

	snprintf(want, sizeof(want), "\r\n%s\r\n", line);
	p = strstr(app.out.data, want);
	return p != NULL && end != NULL && p <= end;
}

/* Value of header `name` (copied into out), or "" when absent. */
static void
header_value(const char *name, char *out, size_t outlen)
{
	char want[64];
	const char *p, *e;

	out[0] = '\0';
	snprintf(want, sizeof(want), "\r\n%s: ", name);
	p = strstr(app.out.data, want);
	if (p == NULL)
		return;
	p += strlen(want);
	e = strstr(p, "\r\n");
	if (e == NULL || (size_t)(e - p) >= outlen)
		return;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}

/* Checks shared by every response: status line, Content-Length equal to
 * the body, X-Request-Id equal to want_id (when given). */
static void
check_response(const char *status_line, const char *want_id)
{
	char len[32], id[80];
	const char *body = body_of();

	CU_ASSERT_EQUAL(strncmp(app.out.data, status_line, strlen(status_line)),
	    0);
	CU_ASSERT_EQUAL(strncmp(app.out.data + strlen(status_line), "\r\n", 2),
	    0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	header_value("Content-Length", len, sizeof(len));
	CU_ASSERT_EQUAL(strtoul(len, NULL, 10), strlen(body));
	header_value("X-Request-Id", id, sizeof(id));
	CU_ASSERT(id[0] != '\0');
	if (want_id != NULL)
		CU_ASSERT_STRING_EQUAL(id, want_id);
	CU_ASSERT(has_header("Cache-Control: no-store"));
}

/* The body must be the error envelope with this code, carrying the same
 * request id as the X-Request-Id header. */
static void
check_error(const char *code)
{
	struct json_object *obj = NULL, *e;
	const char *body = body_of();
	char id[80];

	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	CU_ASSERT(has_header("Content-Type: application/json"));
	CU_ASSERT_EQUAL_FATAL(json_parse_strict(body, strlen(body), 8, &obj,
	    NULL), GACP_OK);
	e = json_get_obj(obj, "error");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_STRING_EQUAL(json_get_str(e, "code"), code);
	CU_ASSERT_PTR_NOT_NULL(json_get_str(e, "message"));
	header_value("X-Request-Id", id, sizeof(id));
	CU_ASSERT_STRING_EQUAL(json_get_str(e, "request_id"), id);
	json_object_put(obj);
}

static void
test_health(void)
{
	char *params[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/health",
	    "DOCUMENT_URI=/health", "REMOTE_ADDR=127.0.0.1", NULL };
	char id[80];

	ctx_up(1);
	server_handle(&app, params, NULL, NULL);
	check_response("Status: 200 OK", NULL);
	CU_ASSERT(has_header("Content-Type: application/json"));
	CU_ASSERT(has_header("Content-Length: 15"));
	CU_ASSERT_STRING_EQUAL(body_of(), "{\"status\":\"ok\"}");
	header_value("X-Request-Id", id, sizeof(id));
	CU_ASSERT_EQUAL(strlen(id), 32);      /* generated: 16 random bytes */
	server_request_done(&app);
	ctx_down();
}

static void
test_version(void)
{
	char *params[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/version",
	    "HTTP_X_REQUEST_ID=ver-1", NULL };
	struct json_object *obj = NULL;
	const char *body;

	ctx_up(1);
	server_handle(&app, params, NULL, NULL);
	check_response("Status: 200 OK", "ver-1");
	body = body_of();
	CU_ASSERT_EQUAL_FATAL(json_parse_strict(body, strlen(body), 4, &obj,
	    NULL), GACP_OK);
	CU_ASSERT_STRING_EQUAL(json_get_str(obj, "version"), PACKAGE_VERSION);
	CU_ASSERT_STRING_EQUAL(json_get_str(obj, "name"), PACKAGE_NAME);
	json_object_put(obj);
	server_request_done(&app);
	ctx_down();
}

static void
test_not_found(void)
{
	char *params[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/no/such/thing",
	    "HTTP_X_REQUEST_ID=test-404", NULL };

	ctx_up(1);
	server_handle(&app, params, NULL, NULL);
	check_response("Status: 404 Not Found", "test-404");
	check_error("not_found");
	CU_ASSERT_STRING_EQUAL(body_of(), "{\"error\":{\"code\":\"not_found\","
	    "\"message\":\"no such resource\",\"request_id\":\"test-404\"}}");
	server_request_done(&app);
	ctx_down();
}

static void
test_method_not_allowed(void)
{
	char *params[] = { "REQUEST_METHOD=DELETE", "REQUEST_URI=/health",
	    "HTTP_X_REQUEST_ID=test-405", NULL };

	ctx_up(1);
	server_handle(&app, params, NULL, NULL);
	check_response("Status: 405 Method Not Allowed", "test-405");
	check_error("method_not_allowed");
	CU_ASSERT(has_header("Allow: GET"));
	CU_ASSERT_PTR_NOT_NULL(strstr(body_of(), "method DELETE is not allowed"));
	server_request_done(&app);
	ctx_down();
}

static void
test_payload_too_large(void)
{
	char *params[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/health",
	    "CONTENT_TYPE=application/json", "CONTENT_LENGTH=65",
	    "HTTP_X_REQUEST_ID=test-413", NULL };
	char *at_limit[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/health",
	    "CONTENT_LENGTH=64", NULL };
	struct body_src over = {
	    "0123456789012345678901234567890123456789012345678901234567890123x",
	    0, 0 };
	struct body_src exact = {
	    "0123456789012345678901234567890123456789012345678901234567890123",
	    0, 0 };

	ctx_up(1);
	server_handle(&app, params, read_body, &over);
	check_response("Status: 413 Payload Too Large", "test-413");
	check_error("payload_too_large");
	CU_ASSERT_EQUAL(over.pos, 65);    /* drained, so nginx is not cut off */
	server_request_done(&app);
	/* At the limit the body is read and routing goes on (405 here). */
	server_handle(&app, at_limit, read_body, &exact);
	check_response("Status: 405 Method Not Allowed", NULL);
	CU_ASSERT_EQUAL(exact.pos, 64);
	server_request_done(&app);
	ctx_down();
}

static void
test_bad_query(void)
{
	char *params[] = { "REQUEST_METHOD=GET",
	    "REQUEST_URI=/health?a=%zz", "QUERY_STRING=a=%zz", NULL };
	char *nul[] = { "REQUEST_METHOD=GET",
	    "REQUEST_URI=/health?a=%00", "QUERY_STRING=a=%00", NULL };

	ctx_up(1);
	server_handle(&app, params, NULL, NULL);
	check_response("Status: 400 Bad Request", NULL);
	check_error("bad_request");
	server_request_done(&app);
	server_handle(&app, nul, NULL, NULL);
	check_response("Status: 400 Bad Request", NULL);
	check_error("bad_request");
	server_request_done(&app);
	ctx_down();
}

static void
test_bad_path_and_too_long(void)
{
	static char long_uri[4200];
	char *no_path[] = { "REQUEST_METHOD=GET", NULL };
	char *too_long[] = { "REQUEST_METHOD=GET", long_uri, NULL };

	ctx_up(1);
	server_handle(&app, no_path, NULL, NULL);
	check_response("Status: 400 Bad Request", NULL);
	check_error("bad_request");
	server_request_done(&app);
	snprintf(long_uri, sizeof(long_uri), "REQUEST_URI=/%04100d", 0);
	server_handle(&app, too_long, NULL, NULL);
	check_response("Status: 414 URI Too Long", NULL);
	check_error("uri_too_long");
	server_request_done(&app);
	ctx_down();
}

static void
test_head(void)
{
	char *params[] = { "REQUEST_METHOD=HEAD", "REQUEST_URI=/health", NULL };

	ctx_up(1);
	server_handle(&app, params, NULL, NULL);
	CU_ASSERT_EQUAL(strncmp(app.out.data, "Status: 200 OK\r\n", 16), 0);
	/* Headers describe the GET body, but no body is sent. */
	CU_ASSERT(has_header("Content-Length: 15"));
	CU_ASSERT_STRING_EQUAL(body_of(), "");
	server_request_done(&app);
	ctx_down();
}

static void
test_unsafe_request_id_replaced(void)
{
	char *params[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/nope",
	    "HTTP_X_REQUEST_ID=evil\"id\r\nX-Injected: 1", NULL };
	char id[80];

	ctx_up(1);
	server_handle(&app, params, NULL, NULL);
	check_response("Status: 404 Not Found", NULL);
	check_error("not_found");     /* envelope id == header id */
	header_value("X-Request-Id", id, sizeof(id));
	CU_ASSERT_EQUAL(strlen(id), 32);
	CU_ASSERT_PTR_NULL(strstr(app.out.data, "X-Injected"));
	server_request_done(&app);
	ctx_down();
}

static void
test_metrics_endpoint(void)
{
	char *health[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/health", NULL };
	char *missing[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/missing", NULL };
	char *metrics[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/metrics", NULL };
	int i;

	ctx_up(1);
	for (i = 0; i < 3; i++) {
		server_handle(&app, health, NULL, NULL);
		server_request_done(&app);
	}
	server_handle(&app, missing, NULL, NULL);
	server_request_done(&app);
	server_handle(&app, metrics, NULL, NULL);
	check_response("Status: 200 OK", NULL);
	CU_ASSERT(has_header("Content-Type: text/plain; version=0.0.4; "
	    "charset=utf-8"));
	CU_ASSERT_PTR_NOT_NULL(strstr(body_of(), "\ngacp_http_requests_total{"
	    "route=\"health\",method=\"GET\",status=\"200\"} 3\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(body_of(), "\ngacp_http_requests_total{"
	    "route=\"unmatched\",method=\"GET\",status=\"404\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(body_of(),
	    "\ngacp_http_request_duration_seconds_count{route=\"health\","
	    "method=\"GET\"} 3\n"));
	server_request_done(&app);
	ctx_down();
}

static void
test_metrics_unconfigured(void)
{
	char *metrics[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/metrics", NULL };

	ctx_up(0);
	CU_ASSERT_PTR_NULL(app.metrics);
	server_handle(&app, metrics, NULL, NULL);
	check_response("Status: 503 Service Unavailable", NULL);
	check_error("metrics_unavailable");
	server_request_done(&app);
	/* Requests are still served without metrics. */
	ctx_down();
}

/* 100,000 requests: after each one the arena is back to its first block
 * with nothing in use and no pending cleanup, the request never needed a
 * second block, and the reused response buffers and the heap stay put. */
static void
test_no_growth_over_100k_requests(void)
{
	char *params[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/health",
	    "QUERY_STRING=probe=1&lb=a+b", "REMOTE_ADDR=10.0.0.1",
	    "HTTP_USER_AGENT=kube-probe/1.29", NULL };
	struct arena_block *first;
	size_t used_first = 0, out_cap = 0, body_cap = 0, heap_warm = 0;
	unsigned long extra_block = 0, not_reset = 0, used_changed = 0, bad = 0;
	int i;

	ctx_up(1);
	first = app.arena.head;
	for (i = 0; i < 100000; i++) {
		server_handle(&app, params, NULL, NULL);
		if (strncmp(app.out.data, "Status: 200 OK\r\n", 16) != 0)
			bad++;
		if (app.arena.head != first)
			extra_block++;
		if (i == 0)
			used_first = app.arena.used_bytes;
		else if (app.arena.used_bytes != used_first)
			used_changed++;
		server_request_done(&app);
		if (app.arena.head != first || app.arena.used_bytes != 0 ||
		    app.arena.cleanups != NULL)
			not_reset++;
		if (i == 999) {
			out_cap = app.out.cap;
			body_cap = app.body.cap;
			heap_warm = mallinfo2().uordblks;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(extra_block, 0);
	CU_ASSERT_EQUAL(used_changed, 0);
	CU_ASSERT_EQUAL(not_reset, 0);
	CU_ASSERT(used_first > 0 && used_first <= app.arena.block_bytes);
	CU_ASSERT_EQUAL(app.out.cap, out_cap);
	CU_ASSERT_EQUAL(app.body.cap, body_cap);
	/* A leak of even a few bytes per request would add megabytes. */
	CU_ASSERT(mallinfo2().uordblks <= heap_warm + 64 * 1024);
	ctx_down();
}

static const struct test_case cases[] = {
	{ "GET /health", test_health },
	{ "GET /version", test_version },
	{ "404 envelope", test_not_found },
	{ "405 with Allow", test_method_not_allowed },
	{ "413 payload too large", test_payload_too_large },
	{ "400 bad query", test_bad_query },
	{ "400 bad path, 414 too long", test_bad_path_and_too_long },
	{ "HEAD has no body", test_head },
	{ "unsafe request id replaced", test_unsafe_request_id_replaced },
	{ "GET /metrics", test_metrics_endpoint },
	{ "metrics unconfigured", test_metrics_unconfigured },
	{ "no growth over 100k requests", test_no_growth_over_100k_requests },
	{ NULL, NULL }
};

void
test_server_register(void)
{
	tests_add_suite("server", cases);
}
