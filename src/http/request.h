/* request.h - one HTTP request as received from nginx over FastCGI.
 *
 * Built from the FastCGI parameters (CGI/1.1 variables) and the body.
 * Everything lives in the request's arena; the struct is valid until the
 * arena is reset.  Nothing here touches libfcgi, so the parser is tested
 * and fuzzed without a server.
 */
#ifndef GACP_HTTP_REQUEST_H
#define GACP_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct arena;

enum http_method {
	HTTP_GET = 0, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE,
	HTTP_OPTIONS, HTTP_OTHER, HTTP_METHOD_COUNT
};

struct http_kv {
	const char *name;
	const char *value;
};

#define HTTP_REQUEST_ID_MAX 64
#define HTTP_MAX_PATH_PARAMS 8
#define HTTP_MAX_QUERY_PARAMS 64
/* Bodies over the limit but under this are read and dropped (see .c). */
#define HTTP_DRAIN_MAX_BYTES (16ULL * 1024 * 1024)

struct http_request {
	enum http_method  method_id;
	const char       *method;        /* as sent, e.g. "GET" */
	const char       *path;          /* decoded path, no query */
	const char       *raw_query;     /* undecoded QUERY_STRING */
	struct http_kv   *query;         /* decoded query parameters */
	size_t            nquery;
	char *const      *params;        /* FastCGI params "NAME=value" */
	const char       *content_type;  /* CONTENT_TYPE or NULL */
	const char       *client_addr;   /* REMOTE_ADDR */
	char             *body;          /* NUL-terminated copy, may be "" */
	size_t            body_len;
	char              request_id[HTTP_REQUEST_ID_MAX + 1];
	struct http_kv    path_params[HTTP_MAX_PATH_PARAMS];
	size_t            npath_params;
	int64_t           start_us;      /* monotonic, for the access log */
};

/* Reads up to len bytes of body into dst; returns bytes read, 0 at end. */
typedef long (*http_body_reader)(void *ctx, char *dst, size_t len);

/* Parse params (NULL-terminated "NAME=value" array, as FCGX envp) and read
 * the body through reader.  Errors (err->code): "bad_request" for a
 * malformed path, query or length (GACP_EINVAL), "payload_too_large" above
 * max_body_bytes (GACP_ETOOBIG).  The request id is set even on error, so
 * the error response can carry it. */
int http_request_parse(struct http_request *req, struct arena *a,
    char *const *params, http_body_reader reader, void *reader_ctx,
    size_t max_body_bytes, struct gacp_err *err);

/* FastCGI parameter by exact name (e.g. "REQUEST_METHOD"), or NULL. */
const char *http_request_param(const struct http_request *req,
    const char *name);
/* Header by its HTTP name in any case ("X-Request-Id"), or NULL. */
const char *http_request_header(const struct http_request *req,
    const char *name);
/* Decoded query parameter (first occurrence), or NULL. */
const char *http_request_query(const struct http_request *req,
    const char *name);
/* Path parameter captured by the router ("{id}"), or NULL. */
const char *http_request_path_param(const struct http_request *req,
    const char *name);
/* True when Content-Type is application/json (parameters allowed). */
bool http_request_is_json(const struct http_request *req);

enum http_method http_method_parse(const char *s);
const char *http_method_name(enum http_method m);

#endif
