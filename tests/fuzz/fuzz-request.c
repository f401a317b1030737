/* fuzz-request.c - libFuzzer target: FastCGI params + body → http_request_parse, router and server_handle.
 *
 * Input: "NAME=value" lines (the FastCGI params, as nginx would send them;
 * a NUL ends a param like in libfcgi's envp), an empty line, then the body.
 * Every input is parsed and routed; server_handle() then runs it through
 * the whole pipeline when no handler, or only a PUBLIC one, would run
 * (the others need PostgreSQL/Redis or credentials).  Beyond the
 * sanitizers, the response must be well formed: a CGI status line, a
 * Content-Length equal to the body, an X-Request-Id without control
 * characters, and a JSON body that parses.
 */
#include "app/context.h"
#include "app/routes.h"
#include "app/server.h"
#include "common/arena.h"
#include "common/json.h"
#include "common/utf8.h"
#include "http/router.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_MAX_PARAMS 64
#define FUZZ_MAX_BODY 1024

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gacp_ctx app;
static char tmpdir[64];

struct body_src {
	const uint8_t *data;
	size_t         len;
	size_t         pos;
	size_t         step;   /* bytes per read: the body arrives in pieces */
};

static long
read_body(void *ctx, char *dst, size_t len)
{
	struct body_src *b = ctx;
	size_t n = b->len - b->pos;

	if (n > len)
		n = len;
	if (n > b->step)
		n = b->step;
	memcpy(dst, b->data + b->pos, n);
	b->pos += n;
	return (long)n;
}

static void
remove_tmpdir(void)
{
	char path[128];

	gacp_ctx_cleanup(&app);
	snprintf(path, sizeof(path), "%s/gacp.conf", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/metrics", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/metrics.lock", tmpdir);
	unlink(path);
	rmdir(tmpdir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct gacp_err err;
	char conf[128];
	FILE *f;

	(void)argc;
	(void)argv;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/gacp-fuzz-request-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		abort();
	snprintf(conf, sizeof(conf), "%s/gacp.conf", tmpdir);
	f = fopen(conf, "w");
	if (f == NULL)
		abort();
	/* Stores point at sockets that do not exist: /ready fails fast. */
	fprintf(f, "[server]\nmax_body_bytes = %d\nmetrics_file = %s/metrics\n"
	    "metrics_slots = 2\n[log]\nerror_log = /dev/null\n"
	    "access_log = /dev/null\n[database]\nconninfo = host=%s "
	    "port=1 connect_timeout=1\n[redis]\nunix_socket = %s/none\n"
	    "timeout_ms = 100\n", FUZZ_MAX_BODY, tmpdir, tmpdir, tmpdir);
	fclose(f);
	if (gacp_ctx_init(&app, "fuzz-request", conf, gacp_routes, gacp_nroutes,
	    &err) != GACP_OK) {
		fprintf(stderr, "gacp_ctx_init: %s: %s\n", err.code, err.msg);
		abort();
	}
	atexit(remove_tmpdir);
	return 0;
}

/* Value of header `name` in the serialised response, or NULL. */
static const char *
find_header(const char *out, const char *name, size_t *len)
{
	char want[64];
	const char *p, *e;

	snprintf(want, sizeof(want), "\r\n%s: ", name);
	p = strstr(out, want);
	if (p == NULL)
		return NULL;
	p += strlen(want);
	e = strstr(p, "\r\n");
	if (e == NULL)
		abort();
	*len = (size_t)(e - p);
	return p;
}

static void
check_response(const struct gacp_ctx *a, int head_only)
{
	const char *out = a->out.data, *end, *body, *v;
	size_t vlen, i, body_len;
	struct json_object *obj = NULL;

	if (strncmp(out, "Status: ", 8) != 0 || strlen(out) != a->out.len)
		abort();
	end = strstr(out, "\r\n\r\n");
	if (end == NULL)
		abort();
	body = end + 4;
	body_len = a->out.len - (size_t)(body - out);
	v = find_header(out, "X-Request-Id", &vlen);
	if (v == NULL || vlen == 0 || vlen > HTTP_REQUEST_ID_MAX)
		abort();
	for (i = 0; i < vlen; i++)
		if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e)
			abort();
	v = find_header(out, "Content-Length", &vlen);
	if (v != NULL && !head_only && strtoul(v, NULL, 10) != body_len)
		abort();
	if (head_only && body_len != 0)
		abort();
	if (!head_only && strstr(out, "\r\nContent-Type: application/json\r\n") &&
	    strstr(out, "\r\nContent-Type: application/json\r\n") < end) {
		if (json_parse_strict(body, body_len, JSON_MAX_DEPTH, &obj,
		    NULL) != GACP_OK)
			abort();
		json_object_put(obj);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *params[FUZZ_MAX_PARAMS + 1];
	char *copy = malloc(size + 1);
	size_t nparams = 0, pos = 0;
	struct body_src src;
	struct http_request req;
	struct gacp_err err;
	const struct route *route = NULL;
	struct arena a;
	char allow[64];
	int rc, run_server = 1;

	memcpy(copy, data, size);
	copy[size] = '\0';
	/* Params: lines up to the first empty line. */
	while (pos < size && nparams < FUZZ_MAX_PARAMS) {
		char *nl = memchr(copy + pos, '\n', size - pos);
		size_t end = nl ? (size_t)(nl - copy) : size;

		if (end == pos) {        /* empty line: the body follows */
			pos++;
			break;
		}
		copy[end] = '\0';
		params[nparams++] = copy + pos;
		pos = end + 1;
	}
	params[nparams] = NULL;
	if (pos > size)
		pos = size;
	src.data = data + pos;
	src.len = size - pos;
	src.pos = 0;
	src.step = 1 + (size % 97);

	/* The parser and router on their own, with a private arena. */
	arena_init(&a, 1024);
	gacp_err_clear(&err);
	rc = http_request_parse(&req, &a, params, read_body, &src, FUZZ_MAX_BODY,
	    &err);
	if (req.request_id[0] == '\0')
		abort();
	if (rc == GACP_OK) {
		size_t i;

		if (req.path == NULL || req.path[0] != '/' ||
		    req.nquery > HTTP_MAX_QUERY_PARAMS ||
		    req.body_len > FUZZ_MAX_BODY || req.body[req.body_len] != '\0')
			abort();
		for (i = 0; i < req.nquery; i++)
			if (http_request_query(&req, req.query[i].name) == NULL)
				abort();
		(void)http_request_header(&req, "X-Request-Id");
		(void)http_request_header(&req, "content-type");
		(void)http_request_is_json(&req);
		if (router_match(gacp_routes, gacp_nroutes, &req, &a, &route,
		    allow, sizeof(allow)) == ROUTER_MATCH &&
		    route->security != SEC_PUBLIC)
			run_server = 0;
	} else if (err.code[0] == '\0') {
		abort();                 /* an error always names its code */
	}
	arena_cleanup(&a);

	if (run_server) {
		src.pos = 0;
		server_handle(&app, params, read_body, &src);
		check_response(&app, req.method_id == HTTP_HEAD);
		server_request_done(&app);
	}
	free(copy);
	return 0;
}
