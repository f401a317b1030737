/* response.h - building an HTTP response and serialising it for FastCGI.
 *
 * Handlers fill a struct http_response (status, content type, headers,
 * body); http_response_serialize() is the one place that writes the CGI
 * status line, headers and body.  Errors use one envelope:
 *   {"error":{"code":"…","message":"…","request_id":"…"}}
 * optionally with "details" (e.g. the list of field errors of a 422).
 */
#ifndef GACP_HTTP_RESPONSE_H
#define GACP_HTTP_RESPONSE_H

#include <stddef.h>

#include "common/buf.h"

struct arena;

#define HTTP_RESPONSE_MAX_HEADERS 16

struct http_response {
	int          status;
	const char  *content_type;
	const char  *header_names[HTTP_RESPONSE_MAX_HEADERS];
	const char  *header_values[HTTP_RESPONSE_MAX_HEADERS];
	size_t       nheaders;
	struct buf  *body;          /* owned by the caller (per-process buffer) */
	const char  *error_code;    /* set for error responses (logs, metrics) */
};

/* Prepare resp for a new request, writing into body (reset here). */
void http_response_init(struct http_response *resp, struct buf *body);
/* Add a header (name/value must outlive the response: arena or static).
 * Values with CR or LF are refused (header injection) and not added. */
void http_response_header(struct http_response *resp, const char *name,
    const char *value);
/* Set status and a JSON body that the caller already wrote into resp->body
 * (or pass json to copy it in). */
void http_response_json(struct http_response *resp, int status,
    const char *json);
/* Plain text body (webhook challenges). */
void http_response_text(struct http_response *resp, int status,
    const char *text);
/* Error envelope.  details_json: NULL or a JSON value rendered verbatim
 * as "details". */
void http_response_error(struct http_response *resp, int status,
    const char *code, const char *message, const char *request_id,
    const char *details_json);
/* Write status line, headers (with X-Request-Id, Content-Length) and body
 * into out.  HEAD requests get headers only when head_only. */
void http_response_serialize(const struct http_response *resp,
    const char *request_id, int head_only, struct buf *out);
const char *http_status_reason(int status);

#endif
