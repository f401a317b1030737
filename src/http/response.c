/* response.c - HTTP response building and serialisation (see response.h). */
#include "http/response.h"

#include <stdio.h>
#include <string.h>

const char *
http_status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 423: return "Locked";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default:  return "Unknown";
	}
}

void
http_response_init(struct http_response *resp, struct buf *body)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = 500;    /* pessimistic until a handler says otherwise */
	resp->content_type = "application/json";
	resp->body = body;
	buf_reset(body);
}

void
http_response_header(struct http_response *resp, const char *name,
    const char *value)
{
	if (resp->nheaders >= HTTP_RESPONSE_MAX_HEADERS ||
	    strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return;
	resp->header_names[resp->nheaders] = name;
	resp->header_values[resp->nheaders] = value;
	resp->nheaders++;
}

void
http_response_json(struct http_response *resp, int status, const char *json)
{
	resp->status = status;
	resp->content_type = "application/json";
	if (json != NULL) {
		buf_reset(resp->body);
		buf_puts(resp->body, json);
	}
}

void
http_response_text(struct http_response *resp, int status, const char *text)
{
	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	buf_reset(resp->body);
	buf_puts(resp->body, text);
}

void
http_response_error(struct http_response *resp, int status, const char *code,
    const char *message, const char *request_id, const char *details_json)
{
	struct buf *b = resp->body;

	resp->status = status;
	resp->content_type = "application/json";
	resp->error_code = code;
	buf_reset(b);
	buf_puts(b, "{\"error\":{\"code\":");
	buf_json_str(b, code);
	buf_puts(b, ",\"message\":");
	buf_json_str(b, message);
	buf_puts(b, ",\"request_id\":");
	buf_json_str(b, request_id);
	if (details_json != NULL) {
		buf_puts(b, ",\"details\":");
		buf_puts(b, details_json);
	}
	buf_puts(b, "}}");
}

void
http_response_serialize(const struct http_response *resp,
    const char *request_id, int head_only, struct buf *out)
{
	size_t i;
	int has_body = resp->status != 204 && resp->status != 304;

	buf_reset(out);
	buf_printf(out, "Status: %d %s\r\n", resp->status,
	    http_status_reason(resp->status));
	if (has_body)
		buf_printf(out, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    resp->content_type, resp->body->len);
	buf_printf(out, "X-Request-Id: %s\r\n", request_id);
	buf_puts(out, "Cache-Control: no-store\r\n");
	for (i = 0; i < resp->nheaders; i++)
		buf_printf(out, "%s: %s\r\n", resp->header_names[i],
		    resp->header_values[i]);
	buf_puts(out, "\r\n");
	if (has_body && !head_only)
		buf_append(out, resp->body->data, resp->body->len);
}
