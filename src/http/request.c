/* request.c - building struct http_request from FastCGI params (request.h). */
#include "http/request.h"
#include "common/arena.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *method_names[HTTP_METHOD_COUNT] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"
};

enum http_method
http_method_parse(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < HTTP_OTHER; i++)
		if (strcmp(s, method_names[i]) == 0)
			return (enum http_method)i;
	return HTTP_OTHER;
}

const char *
http_method_name(enum http_method m)
{
	return (unsigned)m < HTTP_METHOD_COUNT ? method_names[m] : "OTHER";
}

const char *
http_request_param(const struct http_request *req, const char *name)
{
	size_t n = strlen(name);
	char *const *p;

	if (req->params == NULL)
		return NULL;
	for (p = req->params; *p != NULL; p++)
		if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
			return *p + n + 1;
	return NULL;
}

const char *
http_request_header(const struct http_request *req, const char *name)
{
	char cgi[128] = "HTTP_";
	size_t i, j = 5;

	/* nginx passes Content-Type/Length as CONTENT_* without HTTP_. */
	if (strcasecmp(name, "content-type") == 0)
		return req->content_type;
	if (strcasecmp(name, "content-length") == 0)
		return http_request_param(req, "CONTENT_LENGTH");
	for (i = 0; name[i] != '\0' && j + 1 < sizeof(cgi); i++, j++)
		cgi[j] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
	cgi[j] = '\0';
	return http_request_param(req, cgi);
}

const char *
http_request_query(const struct http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].name, name) == 0)
			return req->query[i].value;
	return NULL;
}

const char *
http_request_path_param(const struct http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->npath_params; i++)
		if (strcmp(req->path_params[i].name, name) == 0)
			return req->path_params[i].value;
	return NULL;
}

bool
http_request_is_json(const struct http_request *req)
{
	const char *ct = req->content_type;
	size_t n = strlen("application/json");

	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static void
set_request_id(struct http_request *req)
{
	const char *given = http_request_header(req, "X-Request-Id");
	unsigned char rnd[16];
	size_t i, len;

	if (given != NULL) {
		len = strlen(given);
		/* Accept a caller's id only if it is safe to log and echo. */
		for (i = 0; i < len; i++) {
			char c = given[i];
			if (!isalnum((unsigned char)c) && c != '-' && c != '_' &&
			    c != '.')
				break;
		}
		if (len > 0 && len <= HTTP_REQUEST_ID_MAX && i == len) {
			memcpy(req->request_id, given, len + 1);
			return;
		}
	}
	(void)util_random(rnd, sizeof(rnd));
	util_hex(rnd, sizeof(rnd), req->request_id);
}

static int
parse_query(struct http_request *req, struct arena *a, const char *qs,
    struct gacp_err *err)
{
	const char *p = qs;
	size_t cap = 0;

	req->nquery = 0;
	req->query = NULL;
	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;
		char *k, *v;
		long kn, vn;

		if (len > 0) {
			if (req->nquery >= HTTP_MAX_QUERY_PARAMS)
				return gacp_err_set(err, GACP_EINVAL, "bad_request",
				    "too many query parameters (max %d)",
				    HTTP_MAX_QUERY_PARAMS);
			if (req->nquery == cap) {
				struct http_kv *n;
				cap = cap ? cap * 2 : 8;
				n = arena_alloc(a, cap * sizeof(*n));
				if (req->nquery)
					memcpy(n, req->query,
					    req->nquery * sizeof(*n));
				req->query = n;
			}
			k = arena_alloc(a, klen + 1);
			kn = util_url_decode(p, klen, k, true);
			if (eq) {
				size_t vlen = len - klen - 1;
				v = arena_alloc(a, vlen + 1);
				vn = util_url_decode(eq + 1, vlen, v, true);
			} else {
				v = arena_strdup(a, "");
				vn = 0;
			}
			if (kn < 0 || vn < 0 || strlen(k) != (size_t)kn ||
			    strlen(v) != (size_t)vn)
				return gacp_err_set(err, GACP_EINVAL, "bad_request",
				    "malformed query string");
			req->query[req->nquery].name = k;
			req->query[req->nquery].value = v;
			req->nquery++;
		}
		p = amp ? amp + 1 : NULL;
	}
	return GACP_OK;
}

static int
parse_path(struct http_request *req, struct arena *a, struct gacp_err *err)
{
	const char *uri = http_request_param(req, "REQUEST_URI");
	const char *q;
	size_t len;
	char *path;
	long n;
	int decode = 1;

	/* Decode the raw REQUEST_URI exactly once.  nginx's DOCUMENT_URI
	 * ($uri) is already decoded: decoding it again would turn
	 * "%2541" into "A" and "%252e%252e" into "..".  It is used, as is,
	 * only when a server sends no REQUEST_URI. */
	if (uri == NULL) {
		decode = 0;
		uri = http_request_param(req, "DOCUMENT_URI");
		if (uri == NULL)
			uri = http_request_param(req, "SCRIPT_NAME");
	}
	if (uri == NULL || uri[0] != '/')
		return gacp_err_set(err, GACP_EINVAL, "bad_request",
		    "request path missing or not absolute");
	q = decode ? strchr(uri, '?') : NULL;
	len = q ? (size_t)(q - uri) : strlen(uri);
	if (len > 2048)
		return gacp_err_set(err, GACP_EINVAL, "uri_too_long",
		    "request path longer than 2048 bytes");
	if (!decode) {
		req->path = arena_strndup(a, uri, len);
		return GACP_OK;
	}
	path = arena_alloc(a, len + 1);
	n = util_url_decode(uri, len, path, false);
	if (n < 0 || strlen(path) != (size_t)n)
		return gacp_err_set(err, GACP_EINVAL, "bad_request",
		    "malformed percent-encoding in path");
	req->path = path;
	return GACP_OK;
}

int
http_request_parse(struct http_request *req, struct arena *a,
    char *const *params, http_body_reader reader, void *reader_ctx,
    size_t max_body_bytes, struct gacp_err *err)
{
	const char *cl;
	unsigned long long content_length = 0;
	int rc;

	memset(req, 0, sizeof(*req));
	req->start_us = util_mono_us();
	req->params = params;
	req->body = arena_strdup(a, "");
	req->path = "/";
	set_request_id(req);

	req->method = http_request_param(req, "REQUEST_METHOD");
	if (req->method == NULL)
		req->method = "GET";
	req->method_id = http_method_parse(req->method);
	req->content_type = http_request_param(req, "CONTENT_TYPE");
	if (req->content_type != NULL && req->content_type[0] == '\0')
		req->content_type = NULL;
	req->client_addr = http_request_param(req, "REMOTE_ADDR");
	if (req->client_addr == NULL)
		req->client_addr = "";

	if ((rc = parse_path(req, a, err)) != GACP_OK)
		return rc;
	req->raw_query = http_request_param(req, "QUERY_STRING");
	if (req->raw_query == NULL)
		req->raw_query = "";
	if ((rc = parse_query(req, a, req->raw_query, err)) != GACP_OK)
		return rc;

	cl = http_request_param(req, "CONTENT_LENGTH");
	if (cl != NULL && cl[0] != '\0') {
		char *end;
		errno = 0;
		if (!isdigit((unsigned char)cl[0]))
			return gacp_err_set(err, GACP_EINVAL, "bad_request",
			    "invalid Content-Length");
		content_length = strtoull(cl, &end, 10);
		if (errno != 0 || *end != '\0')
			return gacp_err_set(err, GACP_EINVAL, "bad_request",
			    "invalid Content-Length");
	}
	if (content_length > max_body_bytes) {
		/* Read and discard what nginx is sending (it caps the size):
		 * closing with the body unread would make nginx's write fail
		 * and turn our 413 into its 502. */
		char scratch[8192];
		unsigned long long left = content_length;
		while (left > 0 && reader != NULL && content_length <= HTTP_DRAIN_MAX_BYTES) {
			long n = reader(reader_ctx, scratch, left < sizeof(scratch) ?
			    (size_t)left : sizeof(scratch));
			if (n <= 0)
				break;
			left -= (unsigned long long)n;
		}
		return gacp_err_set(err, GACP_ETOOBIG, "payload_too_large",
		    "request body of %llu bytes exceeds the limit of %zu bytes",
		    content_length, max_body_bytes);
	}
	if (content_length > 0) {
		size_t want = (size_t)content_length, got = 0;
		char *body = arena_alloc(a, want + 1);

		while (got < want && reader != NULL) {
			long n = reader(reader_ctx, body + got, want - got);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (got != want)
			return gacp_err_set(err, GACP_EINVAL, "bad_request",
			    "request body shorter than Content-Length");
		body[got] = '\0';
		req->body = body;
		req->body_len = got;
	}
	return GACP_OK;
}
