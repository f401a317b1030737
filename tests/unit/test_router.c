/* test_router.c - unit tests of route matching (http/router.c). */
#include "tests.h"
#include "common/arena.h"
#include "http/router.h"

#include <string.h>

/* The router never calls handlers; one function serves the whole table. */
static void
handler(struct request_ctx *rc)
{
	(void)rc;
}

static const struct route table[] = {
	{ HTTP_GET,    "/health", handler, SEC_PUBLIC, NULL, "health" },
	{ HTTP_GET,    "/v1/users", handler, SEC_AUTHORIZED, "users.read",
	    "users_list" },
	{ HTTP_POST,   "/v1/users", handler, SEC_AUTHORIZED, "users.write",
	    "users_create" },
	{ HTTP_GET,    "/v1/users/me", handler, SEC_AUTHENTICATED, NULL,
	    "users_me" },
	{ HTTP_GET,    "/v1/users/{id}", handler, SEC_AUTHORIZED, "users.read",
	    "users_get" },
	{ HTTP_PATCH,  "/v1/users/{id}", handler, SEC_AUTHORIZED, "users.write",
	    "users_update" },
	{ HTTP_DELETE, "/v1/users/{id}", handler, SEC_RESTRICTED, "users.write",
	    "users_delete" },
	{ HTTP_GET,    "/v1/tenants/{tenant}/users/{user}/roles", handler,
	    SEC_ADMINISTRATIVE, NULL, "tenant_user_roles" },
	{ HTTP_POST,   "/webhooks/{page}", handler, SEC_WEBHOOK, NULL,
	    "webhook" },
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

static struct arena arena;

/* Match method+path; allow (64 bytes) receives the Allow list. */
static enum router_result
match(enum http_method m, const char *path, struct http_request *req,
    const struct route **out, char *allow)
{
	memset(req, 0, sizeof(*req));
	req->method_id = m;
	req->method = http_method_name(m);
	req->path = path;
	return router_match(table, NTABLE, req, &arena, out, allow, 64);
}

static void
test_literal_match(void)
{
	struct http_request req;
	const struct route *r;
	char allow[64];

	arena_init(&arena, 1024);
	CU_ASSERT_EQUAL(match(HTTP_GET, "/health", &req, &r, allow), ROUTER_MATCH);
	CU_ASSERT_PTR_EQUAL(r, &table[0]);
	CU_ASSERT_EQUAL(req.npath_params, 0);
	CU_ASSERT_EQUAL(match(HTTP_POST, "/v1/users", &req, &r, allow),
	    ROUTER_MATCH);
	CU_ASSERT_STRING_EQUAL(r->name, "users_create");
	CU_ASSERT_EQUAL(r->security, SEC_AUTHORIZED);
	CU_ASSERT_STRING_EQUAL(r->permission, "users.write");
	arena_cleanup(&arena);
}

static void
test_literal_before_param(void)
{
	struct http_request req;
	const struct route *r;
	char allow[64];

	arena_init(&arena, 1024);
	/* Table order decides: the literal /v1/users/me is listed first. */
	CU_ASSERT_EQUAL(match(HTTP_GET, "/v1/users/me", &req, &r, allow),
	    ROUTER_MATCH);
	CU_ASSERT_STRING_EQUAL(r->name, "users_me");
	CU_ASSERT_EQUAL(req.npath_params, 0);
	/* Other methods on the same path fall through to {id}. */
	CU_ASSERT_EQUAL(match(HTTP_DELETE, "/v1/users/me", &req, &r, allow),
	    ROUTER_MATCH);
	CU_ASSERT_STRING_EQUAL(r->name, "users_delete");
	CU_ASSERT_STRING_EQUAL(http_request_path_param(&req, "id"), "me");
	arena_cleanup(&arena);
}

static void
test_param_capture(void)
{
	struct http_request req;
	const struct route *r;
	char allow[64];

	arena_init(&arena, 1024);
	CU_ASSERT_EQUAL(match(HTTP_GET, "/v1/users/42", &req, &r, allow),
	    ROUTER_MATCH);
	CU_ASSERT_STRING_EQUAL(r->name, "users_get");
	CU_ASSERT_EQUAL(req.npath_params, 1);
	CU_ASSERT_STRING_EQUAL(req.path_params[0].name, "id");
	CU_ASSERT_STRING_EQUAL(http_request_path_param(&req, "id"), "42");

	CU_ASSERT_EQUAL(match(HTTP_GET,
	    "/v1/tenants/acme-corp/users/u%201/roles", &req, &r, allow),
	    ROUTER_MATCH);
	CU_ASSERT_STRING_EQUAL(r->name, "tenant_user_roles");
	CU_ASSERT_EQUAL(req.npath_params, 2);
	CU_ASSERT_STRING_EQUAL(http_request_path_param(&req, "tenant"),
	    "acme-corp");
	CU_ASSERT_STRING_EQUAL(http_request_path_param(&req, "user"), "u%201");
	/* A parameter value may hold any byte but '/'. */
	CU_ASSERT_EQUAL(match(HTTP_POST, "/webhooks/a.b:c@d", &req, &r, allow),
	    ROUTER_MATCH);
	CU_ASSERT_STRING_EQUAL(http_request_path_param(&req, "page"), "a.b:c@d");
	arena_cleanup(&arena);
}

static void
test_not_found(void)
{
	static const char *paths[] = {
		"/", "/nope", "/healthz", "/healt", "/v1/user", "/v1/userss",
		"/v1/users/42/extra", "/v1/tenants/t/users/u/roles/x",
		"/v1/tenants/t/users//roles", "/v1/tenants//users/u/roles",
		"/HEALTH", "//health", "",
	};
	struct http_request req;
	const struct route *r;
	char allow[64];
	size_t i;

	arena_init(&arena, 1024);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		CU_ASSERT_EQUAL(match(HTTP_GET, paths[i], &req, &r, allow),
		    ROUTER_NOT_FOUND);
		CU_ASSERT_PTR_NULL(r);
		CU_ASSERT_STRING_EQUAL(allow, "");
	}
	arena_cleanup(&arena);
}

static void
test_no_trailing_slash_match(void)
{
	struct http_request req;
	const struct route *r;
	char allow[64];

	arena_init(&arena, 1024);
	CU_ASSERT_EQUAL(match(HTTP_GET, "/health/", &req, &r, allow),
	    ROUTER_NOT_FOUND);
	/* "/v1/users/" is neither /v1/users nor /v1/users/{id} (an empty
	 * segment is not a parameter). */
	CU_ASSERT_EQUAL(match(HTTP_GET, "/v1/users/", &req, &r, allow),
	    ROUTER_NOT_FOUND);
	CU_ASSERT_EQUAL(match(HTTP_GET, "/v1/users/42/", &req, &r, allow),
	    ROUTER_NOT_FOUND);
	arena_cleanup(&arena);
}

static void
test_method_not_allowed(void)
{
	struct http_request req;
	const struct route *r;
	char allow[64];

	arena_init(&arena, 1024);
	CU_ASSERT_EQUAL(match(HTTP_PUT, "/v1/users", &req, &r, allow),
	    ROUTER_METHOD_NOT_ALLOWED);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_STRING_EQUAL(allow, "GET, POST");
	CU_ASSERT_EQUAL(match(HTTP_POST, "/v1/users/42", &req, &r, allow),
	    ROUTER_METHOD_NOT_ALLOWED);
	CU_ASSERT_STRING_EQUAL(allow, "GET, PATCH, DELETE");
	/* /v1/users/me is matched by two GET routes: GET listed once. */
	CU_ASSERT_EQUAL(match(HTTP_PUT, "/v1/users/me", &req, &r, allow),
	    ROUTER_METHOD_NOT_ALLOWED);
	CU_ASSERT_STRING_EQUAL(allow, "GET, PATCH, DELETE");
	CU_ASSERT_EQUAL(match(HTTP_OTHER, "/health", &req, &r, allow),
	    ROUTER_METHOD_NOT_ALLOWED);
	CU_ASSERT_STRING_EQUAL(allow, "GET");
	CU_ASSERT_EQUAL(match(HTTP_GET, "/webhooks/p1", &req, &r, allow),
	    ROUTER_METHOD_NOT_ALLOWED);
	CU_ASSERT_STRING_EQUAL(allow, "POST");
	arena_cleanup(&arena);
}

static void
test_head_is_get(void)
{
	struct http_request req;
	const struct route *r;
	char allow[64];

	arena_init(&arena, 1024);
	CU_ASSERT_EQUAL(match(HTTP_HEAD, "/health", &req, &r, allow),
	    ROUTER_MATCH);
	CU_ASSERT_PTR_EQUAL(r, &table[0]);
	CU_ASSERT_EQUAL(match(HTTP_HEAD, "/v1/users/7", &req, &r, allow),
	    ROUTER_MATCH);
	CU_ASSERT_STRING_EQUAL(http_request_path_param(&req, "id"), "7");
	/* HEAD where only POST exists: 405 listing POST. */
	CU_ASSERT_EQUAL(match(HTTP_HEAD, "/webhooks/p1", &req, &r, allow),
	    ROUTER_METHOD_NOT_ALLOWED);
	CU_ASSERT_STRING_EQUAL(allow, "POST");
	arena_cleanup(&arena);
}

static void
test_small_allow_buffer(void)
{
	struct http_request req;
	const struct route *r;
	char allow[8];

	arena_init(&arena, 1024);
	memset(&req, 0, sizeof(req));
	req.method_id = HTTP_PUT;
	req.path = "/v1/users/42";
	/* Too small for the whole list: it stays terminated inside the
	 * buffer and starts with the first method that fits. */
	CU_ASSERT_EQUAL(router_match(table, NTABLE, &req, &arena, &r, allow,
	    sizeof(allow)), ROUTER_METHOD_NOT_ALLOWED);
	CU_ASSERT(strlen(allow) < sizeof(allow));
	CU_ASSERT_EQUAL(strncmp(allow, "GET", 3), 0);
	/* No buffer at all. */
	CU_ASSERT_EQUAL(router_match(table, NTABLE, &req, &arena, &r, NULL, 0),
	    ROUTER_METHOD_NOT_ALLOWED);
	arena_cleanup(&arena);
}

static void
test_router_index(void)
{
	CU_ASSERT_EQUAL(router_index(table, NTABLE, &table[0]), 0);
	CU_ASSERT_EQUAL(router_index(table, NTABLE, &table[NTABLE - 1]),
	    NTABLE - 1);
	CU_ASSERT_EQUAL(router_index(table, NTABLE, NULL), NTABLE);
}

static void
test_empty_table(void)
{
	struct http_request req;
	const struct route *r = &table[0];
	char allow[64] = "junk";

	arena_init(&arena, 1024);
	memset(&req, 0, sizeof(req));
	req.method_id = HTTP_GET;
	req.path = "/health";
	CU_ASSERT_EQUAL(router_match(table, 0, &req, &arena, &r, allow,
	    sizeof(allow)), ROUTER_NOT_FOUND);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_STRING_EQUAL(allow, "");
	arena_cleanup(&arena);
}

static const struct test_case cases[] = {
	{ "literal match", test_literal_match },
	{ "literal before param", test_literal_before_param },
	{ "param capture", test_param_capture },
	{ "404 not found", test_not_found },
	{ "no trailing-slash match", test_no_trailing_slash_match },
	{ "405 with Allow", test_method_not_allowed },
	{ "HEAD is GET", test_head_is_get },
	{ "small Allow buffer", test_small_allow_buffer },
	{ "router_index", test_router_index },
	{ "empty table", test_empty_table },
	{ NULL, NULL }
};

void
test_router_register(void)
{
	tests_add_suite("router", cases);
}
