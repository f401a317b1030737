/* test_request.c - unit tests of building a request from FastCGI params (http/request.c). */
#include "tests.h"
#include "common/arena.h"
#include "http/request.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A body source handing out at most `chunk` bytes per call, like a
 * FastCGI stream delivering the body in records. */
struct body_src {
	const char *data;
	size_t      len;
	size_t      pos;
	size_t      chunk;
	int         calls;
};

static long
read_body(void *ctx, char *dst, size_t len)
{
	struct body_src *b = ctx;
	size_t n = b->len - b->pos;

	b->calls++;
	if (n > len)
		n = len;
	if (b->chunk != 0 && n > b->chunk)
		n = b->chunk;
	memcpy(dst, b->data + b->pos, n);
	b->pos += n;
	return (long)n;
}

static struct arena arena;

static void
setup(void)
{
	arena_init(&arena, 4096);
}

static void
teardown(void)
{
	arena_cleanup(&arena);
}

/* Parse params without a body; returns the result code. */
static int
parse(struct http_request *req, char *const *params, struct gacp_err *err)
{
	gacp_err_clear(err);
	return http_request_parse(req, &arena, params, NULL, NULL, 1024, err);
}

static int
is_hex_id(const char *s)
{
	size_t i;

	if (strlen(s) != 32)
		return 0;
	for (i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static void
test_basic_get(void)
{
	char *params[] = {
		"REQUEST_METHOD=GET", "REQUEST_URI=/v1/items?limit=10",
		"QUERY_STRING=limit=10", "REMOTE_ADDR=192.0.2.7",
		"HTTP_USER_AGENT=curl/8", NULL
	};
	struct http_request req;
	struct gacp_err err;

	setup();
	CU_ASSERT_EQUAL_FATAL(parse(&req, params, &err), GACP_OK);
	CU_ASSERT_EQUAL(req.method_id, HTTP_GET);
	CU_ASSERT_STRING_EQUAL(req.method, "GET");
	CU_ASSERT_STRING_EQUAL(req.path, "/v1/items");
	CU_ASSERT_STRING_EQUAL(req.raw_query, "limit=10");
	CU_ASSERT_EQUAL(req.nquery, 1);
	CU_ASSERT_STRING_EQUAL(http_request_query(&req, "limit"), "10");
	CU_ASSERT_PTR_NULL(http_request_query(&req, "offset"));
	CU_ASSERT_STRING_EQUAL(req.client_addr, "192.0.2.7");
	CU_ASSERT_PTR_NULL(req.content_type);
	CU_ASSERT_STRING_EQUAL(req.body, "");
	CU_ASSERT_EQUAL(req.body_len, 0);
	CU_ASSERT_STRING_EQUAL(http_request_header(&req, "User-Agent"), "curl/8");
	CU_ASSERT_STRING_EQUAL(http_request_header(&req, "user-agent"), "curl/8");
	CU_ASSERT_PTR_NULL(http_request_header(&req, "X-Missing"));
	CU_ASSERT(is_hex_id(req.request_id));
	CU_ASSERT(req.start_us > 0);
	teardown();
}

static void
test_methods(void)
{
	static const struct {
		const char       *param;
		enum http_method  id;
		const char       *method;
	} m[] = {
		{ "REQUEST_METHOD=POST", HTTP_POST, "POST" },
		{ "REQUEST_METHOD=HEAD", HTTP_HEAD, "HEAD" },
		{ "REQUEST_METHOD=PUT", HTTP_PUT, "PUT" },
		{ "REQUEST_METHOD=PATCH", HTTP_PATCH, "PATCH" },
		{ "REQUEST_METHOD=DELETE", HTTP_DELETE, "DELETE" },
		{ "REQUEST_METHOD=OPTIONS", HTTP_OPTIONS, "OPTIONS" },
		{ "REQUEST_METHOD=BREW", HTTP_OTHER, "BREW" },
		{ "REQUEST_METHOD=get", HTTP_OTHER, "get" },   /* case matters */
		{ "REQUEST_METHOD_X=POST", HTTP_GET, "GET" },  /* not the param */
	};
	struct http_request req;
	struct gacp_err err;
	size_t i;

	setup();
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		char *params[] = { (char *)(uintptr_t)m[i].param,
		    "REQUEST_URI=/", NULL };
		CU_ASSERT_EQUAL_FATAL(parse(&req, params, &err), GACP_OK);
		CU_ASSERT_EQUAL(req.method_id, m[i].id);
		CU_ASSERT_STRING_EQUAL(req.method, m[i].method);
	}
	CU_ASSERT_STRING_EQUAL(http_method_name(HTTP_DELETE), "DELETE");
	CU_ASSERT_STRING_EQUAL(http_method_name((enum http_method)99), "OTHER");
	CU_ASSERT_EQUAL(http_method_parse(NULL), HTTP_OTHER);
	CU_ASSERT_EQUAL(http_method_parse("OTHER"), HTTP_OTHER);
	teardown();
}

static void
test_path_decoding(void)
{
	static const struct {
		const char *uri;
		const char *path;
	} ok[] = {
		{ "REQUEST_URI=/a%20b", "/a b" },
		{ "REQUEST_URI=/a+b", "/a+b" },             /* '+' literal in paths */
		{ "REQUEST_URI=/%C3%A9t%c3%a9", "/\xc3\xa9t\xc3\xa9" },
		{ "REQUEST_URI=/x?y=%zz", "/x" },           /* query not in path */
		{ "REQUEST_URI=/", "/" },
		{ "REQUEST_URI=/v1/users/", "/v1/users/" },
	};
	struct http_request req;
	struct gacp_err err;
	size_t i;

	setup();
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *params[] = { (char *)(uintptr_t)ok[i].uri, NULL };
		CU_ASSERT_EQUAL(parse(&req, params, &err), GACP_OK);
		CU_ASSERT_STRING_EQUAL(req.path, ok[i].path);
	}
	teardown();
}

static void
test_path_source_order(void)
{
	char *both[] = { "DOCUMENT_URI=/doc", "REQUEST_URI=/raw?q=1",
	    "SCRIPT_NAME=/script", NULL };
	char *script_only[] = { "SCRIPT_NAME=/script", NULL };
	struct http_request req;
	struct gacp_err err;

	char *doc_only[] = { "DOCUMENT_URI=/a%2541", NULL };
	char *encoded[] = { "DOCUMENT_URI=/health%41", "REQUEST_URI=/health%2541", NULL };

	setup();
	/* The raw REQUEST_URI wins and is decoded once. */
	CU_ASSERT_EQUAL(parse(&req, both, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(req.path, "/raw");
	/* Regression (fuzzing): decoding nginx's already-decoded $uri again
	 * turned "%2541" into "A". */
	CU_ASSERT_EQUAL(parse(&req, encoded, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(req.path, "/health%41");
	/* DOCUMENT_URI alone is taken as already decoded. */
	CU_ASSERT_EQUAL(parse(&req, doc_only, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(req.path, "/a%2541");
	CU_ASSERT_EQUAL(parse(&req, script_only, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(req.path, "/script");
	teardown();
}

static void
check_bad_path(const char *param, const char *code)
{
	char *params[] = { "REQUEST_METHOD=GET", (char *)(uintptr_t)param,
	    "HTTP_X_REQUEST_ID=rid-1", NULL };
	struct http_request req;
	struct gacp_err err;

	CU_ASSERT_EQUAL(parse(&req, params, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, code);
	/* The request id is known even on error, for the error envelope. */
	CU_ASSERT_STRING_EQUAL(req.request_id, "rid-1");
}

static void
test_bad_paths(void)
{
	static char long_uri[2100];

	setup();
	check_bad_path("REQUEST_URI=/a%zz", "bad_request");
	check_bad_path("REQUEST_URI=/a%2", "bad_request");       /* truncated */
	check_bad_path("REQUEST_URI=/a%", "bad_request");
	check_bad_path("REQUEST_URI=/a%00b", "bad_request");     /* NUL */
	check_bad_path("REQUEST_URI=relative", "bad_request");
	check_bad_path("REQUEST_URI=", "bad_request");
	check_bad_path("NO_PATH=1", "bad_request");
	snprintf(long_uri, sizeof(long_uri), "REQUEST_URI=/%02060d", 0);
	check_bad_path(long_uri, "uri_too_long");
	teardown();
}

static void
test_query_decoding(void)
{
	char *params[] = {
		"REQUEST_URI=/q",
		"QUERY_STRING=a=1&b=hello+world&c=%41%42&d&e=&&f=x%3D1%26y"
		    "&a=second&sp%20ace=%2B&=anon",
		NULL
	};
	struct http_request req;
	struct gacp_err err;

	setup();
	CU_ASSERT_EQUAL_FATAL(parse(&req, params, &err), GACP_OK);
	CU_ASSERT_EQUAL(req.nquery, 9);      /* the empty segment is skipped */
	CU_ASSERT_STRING_EQUAL(http_request_query(&req, "a"), "1");  /* first */
	CU_ASSERT_STRING_EQUAL(http_request_query(&req, "b"), "hello world");
	CU_ASSERT_STRING_EQUAL(http_request_query(&req, "c"), "AB");
	CU_ASSERT_STRING_EQUAL(http_request_query(&req, "d"), "");
	CU_ASSERT_STRING_EQUAL(http_request_query(&req, "e"), "");
	CU_ASSERT_STRING_EQUAL(http_request_query(&req, "f"), "x=1&y");
	CU_ASSERT_STRING_EQUAL(http_request_query(&req, "sp ace"), "+");
	CU_ASSERT_STRING_EQUAL(http_request_query(&req, ""), "anon");
	CU_ASSERT_STRING_EQUAL(req.query[6].value, "second");
	/* The raw query is kept undecoded. */
	CU_ASSERT_EQUAL(strncmp(req.raw_query, "a=1&b=hello+world", 17), 0);
	teardown();
}

static void
check_bad_query(const char *param)
{
	char *params[] = { "REQUEST_URI=/q", (char *)(uintptr_t)param, NULL };
	struct http_request req;
	struct gacp_err err;

	CU_ASSERT_EQUAL(parse(&req, params, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "bad_request");
}

static void
test_bad_queries(void)
{
	setup();
	check_bad_query("QUERY_STRING=a=%zz");
	check_bad_query("QUERY_STRING=a=%4");
	check_bad_query("QUERY_STRING=a=1&b=%");
	check_bad_query("QUERY_STRING=%g1=1");
	check_bad_query("QUERY_STRING=a=%00");          /* NUL in a value */
	check_bad_query("QUERY_STRING=a%00b=1");        /* NUL in a name */
	check_bad_query("QUERY_STRING=ok=1&x=ab%00");
	teardown();
}

static void
test_query_param_limit(void)
{
	char qs[1024], *p;
	char *params[] = { "REQUEST_URI=/q", qs, NULL };
	struct http_request req;
	struct gacp_err err;
	int i;

	setup();
	p = qs + snprintf(qs, sizeof(qs), "QUERY_STRING=");
	for (i = 0; i < HTTP_MAX_QUERY_PARAMS; i++)
		p += snprintf(p, sizeof(qs) - (size_t)(p - qs), "%sk%d=%d",
		    i ? "&" : "", i, i);
	CU_ASSERT_EQUAL(parse(&req, params, &err), GACP_OK);
	CU_ASSERT_EQUAL(req.nquery, HTTP_MAX_QUERY_PARAMS);
	CU_ASSERT_STRING_EQUAL(http_request_query(&req, "k63"), "63");
	CU_ASSERT_STRING_EQUAL(http_request_query(&req, "k0"), "0");
	/* Empty segments do not count; one more real one does. */
	snprintf(p, sizeof(qs) - (size_t)(p - qs), "&&&");
	CU_ASSERT_EQUAL(parse(&req, params, &err), GACP_OK);
	snprintf(p, sizeof(qs) - (size_t)(p - qs), "&extra=1");
	CU_ASSERT_EQUAL(parse(&req, params, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "bad_request");
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "too many"));
	teardown();
}

static void
test_body_read_in_chunks(void)
{
	char *params[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/b",
	    "CONTENT_TYPE=application/json", "CONTENT_LENGTH=24", NULL };
	/* Two bytes past Content-Length that must stay unread. */
	struct body_src src = { "{\"a\":\"abcdefghijklmnop\"}xx", 26, 0, 3, 0 };
	struct http_request req;
	struct gacp_err err;

	setup();
	gacp_err_clear(&err);
	CU_ASSERT_EQUAL_FATAL(http_request_parse(&req, &arena, params,
	    read_body, &src, 1024, &err), GACP_OK);
	CU_ASSERT_EQUAL(req.body_len, 24);
	CU_ASSERT_STRING_EQUAL(req.body, "{\"a\":\"abcdefghijklmnop\"}");
	CU_ASSERT_EQUAL(src.pos, 24);     /* never reads past Content-Length */
	CU_ASSERT_EQUAL(src.calls, 8);    /* 3 bytes at a time */
	CU_ASSERT_STRING_EQUAL(req.content_type, "application/json");
	CU_ASSERT(http_request_is_json(&req));
	CU_ASSERT_STRING_EQUAL(http_request_header(&req, "Content-Length"), "24");
	teardown();
}

static void
test_body_limit(void)
{
	char *at_limit[] = { "REQUEST_URI=/b", "CONTENT_LENGTH=8", NULL };
	char *over[] = { "REQUEST_URI=/b", "CONTENT_LENGTH=9",
	    "HTTP_X_REQUEST_ID=big-1", NULL };
	char *huge[] = { "REQUEST_URI=/b",
	    "CONTENT_LENGTH=18446744073709551615", NULL };
	struct body_src src = { "12345678x", 9, 0, 0, 0 };
	struct http_request req;
	struct gacp_err err;

	setup();
	CU_ASSERT_EQUAL(http_request_parse(&req, &arena, at_limit, read_body,
	    &src, 8, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(req.body, "12345678");
	src.pos = 0;
	src.calls = 0;
	gacp_err_clear(&err);
	CU_ASSERT_EQUAL(http_request_parse(&req, &arena, over, read_body, &src,
	    8, &err), GACP_ETOOBIG);
	CU_ASSERT_EQUAL(err.result, GACP_ETOOBIG);
	CU_ASSERT_STRING_EQUAL(err.code, "payload_too_large");
	CU_ASSERT_STRING_EQUAL(req.request_id, "big-1");
	/* The refused body is read and discarded (so nginx's write of it
	 * does not fail), not stored. */
	CU_ASSERT_EQUAL(src.pos, 9);
	CU_ASSERT_STRING_EQUAL(req.body, "");
	CU_ASSERT_EQUAL(req.body_len, 0);
	/* Beyond the drain cap nothing is read at all. */
	src.pos = 0;
	src.calls = 0;
	CU_ASSERT_EQUAL(http_request_parse(&req, &arena, huge, read_body, &src,
	    8, &err), GACP_ETOOBIG);
	CU_ASSERT_STRING_EQUAL(err.code, "payload_too_large");
	CU_ASSERT_EQUAL(src.calls, 0);
	teardown();
}

static void
test_bad_content_length(void)
{
	static const char *bad[] = {
		"CONTENT_LENGTH=abc", "CONTENT_LENGTH=-1", "CONTENT_LENGTH= 5",
		"CONTENT_LENGTH=5x", "CONTENT_LENGTH=+5",
		"CONTENT_LENGTH=99999999999999999999999",
	};
	struct body_src src = { "12345", 5, 0, 0, 0 };
	struct http_request req;
	struct gacp_err err;
	size_t i;

	setup();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *params[] = { "REQUEST_URI=/b", (char *)(uintptr_t)bad[i],
		    NULL };
		src.pos = 0;
		gacp_err_clear(&err);
		CU_ASSERT_EQUAL(http_request_parse(&req, &arena, params,
		    read_body, &src, 1024, &err), GACP_EINVAL);
		CU_ASSERT_STRING_EQUAL(err.code, "bad_request");
	}
	teardown();
}

static void
test_empty_or_zero_length(void)
{
	char *empty[] = { "REQUEST_URI=/b", "CONTENT_LENGTH=", "CONTENT_TYPE=",
	    NULL };
	char *zero[] = { "REQUEST_URI=/b", "CONTENT_LENGTH=0", NULL };
	struct body_src src = { "ignored", 7, 0, 0, 0 };
	struct http_request req;
	struct gacp_err err;

	setup();
	CU_ASSERT_EQUAL(http_request_parse(&req, &arena, empty, read_body, &src,
	    1024, &err), GACP_OK);
	CU_ASSERT_EQUAL(req.body_len, 0);
	CU_ASSERT_PTR_NULL(req.content_type);   /* empty means absent */
	CU_ASSERT_FALSE(http_request_is_json(&req));
	CU_ASSERT_EQUAL(http_request_parse(&req, &arena, zero, read_body, &src,
	    1024, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(req.body, "");
	CU_ASSERT_EQUAL(src.calls, 0);
	teardown();
}

static void
test_short_body(void)
{
	char *params[] = { "REQUEST_URI=/b", "CONTENT_LENGTH=10", NULL };
	struct body_src src = { "12345", 5, 0, 2, 0 };
	struct http_request req;
	struct gacp_err err;

	setup();
	gacp_err_clear(&err);
	CU_ASSERT_EQUAL(http_request_parse(&req, &arena, params, read_body,
	    &src, 1024, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "bad_request");
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "shorter"));
	/* No reader at all is a short body too. */
	CU_ASSERT_EQUAL(http_request_parse(&req, &arena, params, NULL, NULL,
	    1024, &err), GACP_EINVAL);
	teardown();
}

static void
test_request_id_pass_through(void)
{
	char id64[HTTP_REQUEST_ID_MAX + 1];
	char p64[128];
	char *ok[] = { "REQUEST_URI=/", "HTTP_X_REQUEST_ID=Ab-9_z.Q", NULL };
	char *max[] = { "REQUEST_URI=/", p64, NULL };
	struct http_request req;
	struct gacp_err err;

	setup();
	CU_ASSERT_EQUAL(parse(&req, ok, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(req.request_id, "Ab-9_z.Q");
	CU_ASSERT_STRING_EQUAL(http_request_header(&req, "X-Request-Id"),
	    "Ab-9_z.Q");
	memset(id64, 'r', HTTP_REQUEST_ID_MAX);
	id64[HTTP_REQUEST_ID_MAX] = '\0';
	snprintf(p64, sizeof(p64), "HTTP_X_REQUEST_ID=%s", id64);
	CU_ASSERT_EQUAL(parse(&req, max, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(req.request_id, id64);
	teardown();
}

static void
test_unsafe_request_id_replaced(void)
{
	const char *unsafe[] = {
		"HTTP_X_REQUEST_ID=has space", "HTTP_X_REQUEST_ID=quo\"te",
		"HTTP_X_REQUEST_ID=new\nline", "HTTP_X_REQUEST_ID=tab\t",
		"HTTP_X_REQUEST_ID=", "HTTP_X_REQUEST_ID=\xc3\xa9",
		"HTTP_X_REQUEST_ID=semi;colon", "HTTP_X_REQUEST_ID=a/b",
		NULL,    /* filled in: one byte longer than the maximum */
	};
	char too_long[128];
	struct http_request req;
	struct gacp_err err;
	char first[HTTP_REQUEST_ID_MAX + 1] = "";
	size_t i;

	setup();
	snprintf(too_long, sizeof(too_long), "HTTP_X_REQUEST_ID=%0*d",
	    HTTP_REQUEST_ID_MAX + 1, 0);
	for (i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++) {
		char *params[] = { "REQUEST_URI=/",
		    unsafe[i] ? (char *)(uintptr_t)unsafe[i] : too_long,
		    NULL };
		CU_ASSERT_EQUAL(parse(&req, params, &err), GACP_OK);
		CU_ASSERT(is_hex_id(req.request_id));
		/* Generated ids differ from one request to the next. */
		CU_ASSERT_STRING_NOT_EQUAL(req.request_id, first);
		memcpy(first, req.request_id, sizeof(first));
	}
	teardown();
}

static void
test_param_lookup_exact(void)
{
	char *params[] = { "REQUEST_URI_OLD=/wrong", "REQUEST_URI=/right",
	    "HTTP_X_A=1", "HTTP_X_A_B=2", "EMPTY=", "NOEQUALS", NULL };
	struct http_request req;
	struct gacp_err err;

	setup();
	CU_ASSERT_EQUAL(parse(&req, params, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(req.path, "/right");
	CU_ASSERT_STRING_EQUAL(http_request_param(&req, "REQUEST_URI"), "/right");
	CU_ASSERT_STRING_EQUAL(http_request_header(&req, "x-a"), "1");
	CU_ASSERT_STRING_EQUAL(http_request_header(&req, "X-A-B"), "2");
	CU_ASSERT_STRING_EQUAL(http_request_param(&req, "EMPTY"), "");
	CU_ASSERT_PTR_NULL(http_request_param(&req, "NOEQUALS"));
	CU_ASSERT_PTR_NULL(http_request_param(&req, "REQUEST"));
	teardown();
}

static void
test_is_json(void)
{
	static const struct {
		const char *ct;
		int         json;
	} c[] = {
		{ "CONTENT_TYPE=application/json", 1 },
		{ "CONTENT_TYPE=application/json; charset=utf-8", 1 },
		{ "CONTENT_TYPE=APPLICATION/JSON", 1 },
		{ "CONTENT_TYPE=application/json ;charset=utf-8", 1 },
		{ "CONTENT_TYPE=application/jsonp", 0 },
		{ "CONTENT_TYPE=application/json-patch+json", 0 },
		{ "CONTENT_TYPE=text/plain", 0 },
		{ "CONTENT_TYPE=application/x-www-form-urlencoded", 0 },
	};
	struct http_request req;
	struct gacp_err err;
	size_t i;

	setup();
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *params[] = { "REQUEST_URI=/", (char *)(uintptr_t)c[i].ct,
		    NULL };
		CU_ASSERT_EQUAL(parse(&req, params, &err), GACP_OK);
		CU_ASSERT_EQUAL(http_request_is_json(&req), c[i].json);
	}
	teardown();
}

static void
test_path_params_lookup(void)
{
	char *params[] = { "REQUEST_URI=/", NULL };
	struct http_request req;
	struct gacp_err err;

	setup();
	CU_ASSERT_EQUAL(parse(&req, params, &err), GACP_OK);
	CU_ASSERT_PTR_NULL(http_request_path_param(&req, "id"));
	req.path_params[0].name = "id";
	req.path_params[0].value = "42";
	req.npath_params = 1;
	CU_ASSERT_STRING_EQUAL(http_request_path_param(&req, "id"), "42");
	CU_ASSERT_PTR_NULL(http_request_path_param(&req, "other"));
	teardown();
}

static const struct test_case cases[] = {
	{ "basic GET", test_basic_get },
	{ "methods", test_methods },
	{ "path decoding", test_path_decoding },
	{ "path source order", test_path_source_order },
	{ "bad paths", test_bad_paths },
	{ "query decoding", test_query_decoding },
	{ "bad queries", test_bad_queries },
	{ "query param limit", test_query_param_limit },
	{ "body read in chunks", test_body_read_in_chunks },
	{ "body limit (413)", test_body_limit },
	{ "bad Content-Length", test_bad_content_length },
	{ "empty or zero length", test_empty_or_zero_length },
	{ "short body", test_short_body },
	{ "request id pass-through", test_request_id_pass_through },
	{ "unsafe request id replaced", test_unsafe_request_id_replaced },
	{ "param lookup exact", test_param_lookup_exact },
	{ "is_json", test_is_json },
	{ "path params lookup", test_path_params_lookup },
	{ NULL, NULL }
};

void
test_request_register(void)
{
	tests_add_suite("request", cases);
}
