/* server.c - the request pipeline (see server.h) and the API helpers. */
#include "app/server.h"
#include "api/api.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "http/metrics.h"
#include "sysconfig/cache.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
api_error(struct request_ctx *rc, int status, const char *code,
    const char *fmt, ...)
{
	char msg[GACP_ERR_MSG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	http_response_error(&rc->resp, status, arena_strdup(rc->arena, code),
	    msg, rc->req.request_id, NULL);
}

int
api_status_for(int result)
{
	switch (result) {
	case GACP_OK:         return 200;
	case GACP_EINVAL:     return 400;
	case GACP_EAUTH:      return 401;
	case GACP_EFORBIDDEN: return 403;
	case GACP_ENOTFOUND:  return 404;
	case GACP_ECONFLICT:  return 409;
	case GACP_ETOOBIG:    return 413;
	case GACP_ELIMIT:     return 429;
	case GACP_EUNAVAIL:   return 503;
	default:              return 500;
	}
}

void
api_error_from(struct request_ctx *rc, const struct gacp_err *err)
{
	int status = api_status_for(err->result);
	const char *code = err->code[0] ? err->code : "internal";

	/* Field-level problems are 422 by our REST conventions. */
	if (strcmp(code, "validation_failed") == 0)
		status = 422;
	if (status >= 500 && status != 503)
		api_error(rc, status, "internal", "internal error");
	else
		api_error(rc, status, code, "%s", err->msg);
}

void
api_json(struct request_ctx *rc, int status, struct json_object *obj)
{
	http_response_json(&rc->resp, status, json_compact(obj));
}

struct json_object *
api_body_object(struct request_ctx *rc)
{
	struct json_object *obj;
	struct gacp_err err;

	if (!http_request_is_json(&rc->req)) {
		api_error(rc, 415, "unsupported_media_type",
		    "Content-Type must be application/json");
		return NULL;
	}
	if (json_parse_arena(rc->arena, rc->req.body, rc->req.body_len, &obj,
	    &err) != GACP_OK) {
		api_error(rc, err.result == GACP_ETOOBIG ? 413 : 400, err.code,
		    "%s", err.msg);
		return NULL;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		api_error(rc, 400, "invalid_json",
		    "the request body must be a JSON object");
		return NULL;
	}
	return obj;
}

static long
no_body(void *ctx, char *dst, size_t len)
{
	(void)ctx;
	(void)dst;
	(void)len;
	return 0;
}

static void
access_log(struct request_ctx *rc, int64_t duration_us)
{
	struct buf line;
	char when[40];

	buf_init(&line);
	log_time_now(when, sizeof(when));
	buf_printf(&line, "{\"time\":\"%s\",\"type\":\"access\",\"request_id\":",
	    when);
	buf_json_str(&line, rc->req.request_id);
	buf_puts(&line, ",\"method\":");
	buf_json_str(&line, rc->req.method ? rc->req.method : "");
	buf_puts(&line, ",\"path\":");
	buf_json_str(&line, rc->req.path ? rc->req.path : "");
	buf_printf(&line, ",\"status\":%d,\"duration_us\":%lld,\"route\":",
	    rc->resp.status, (long long)duration_us);
	buf_json_str(&line, rc->route ? rc->route->name : NULL);
	buf_puts(&line, ",\"tenant\":");
	buf_json_str(&line, rc->tenant_id);
	buf_puts(&line, ",\"client\":");
	buf_json_str(&line, rc->req.client_addr);
	if (rc->resp.error_code != NULL) {
		buf_puts(&line, ",\"error\":");
		buf_json_str(&line, rc->resp.error_code);
	}
	buf_puts(&line, "}\n");
	log_access_line(&line);
	buf_cleanup(&line);
}

void
server_handle(struct gacp_ctx *app, char *const *params,
    http_body_reader reader, void *reader_ctx)
{
	struct request_ctx rc;
	struct gacp_err err;
	char allow[64];
	int64_t duration_us;
	enum router_result rr;

	memset(&rc, 0, sizeof(rc));
	rc.app = app;
	rc.arena = &app->arena;
	http_response_init(&rc.resp, &app->body);
	gacp_err_clear(&err);
	/* Configuration changes and a rotated master key are noticed here,
	 * at most every config.cache_check_ms (one Redis GET, one stat). */
	syscfg_cache_tick(app);

	if (http_request_parse(&rc.req, rc.arena, params,
	    reader ? reader : no_body, reader_ctx, app->max_body_bytes,
	    &err) != GACP_OK) {
		api_error(&rc, err.result == GACP_ETOOBIG ? 413 :
		    strcmp(err.code, "uri_too_long") == 0 ? 414 : 400,
		    err.code, "%s", err.msg);
		goto done;
	}
	rr = router_match(app->routes, app->nroutes, &rc.req, rc.arena,
	    &rc.route, allow, sizeof(allow));
	if (rr == ROUTER_NOT_FOUND) {
		api_error(&rc, 404, "not_found", "no such resource");
		goto done;
	}
	if (rr == ROUTER_METHOD_NOT_ALLOWED) {
		api_error(&rc, 405, "method_not_allowed",
		    "method %s is not allowed here", rc.req.method);
		http_response_header(&rc.resp, "Allow",
		    arena_strdup(rc.arena, allow));
		goto done;
	}
	if (server_check_access(&rc) != 0)
		goto done;
	rc.route->handler(&rc);
	if (rc.resp.status == 500 && rc.resp.error_code == NULL)
		api_error(&rc, 500, "internal", "internal error");
done:
	/* A handler that failed half-way must not leave a transaction open
	 * for the next request of this process. */
	db_rollback(&app->db, rc.arena);
	http_response_serialize(&rc.resp, rc.req.request_id,
	    rc.req.method_id == HTTP_HEAD, &app->out);
	duration_us = util_mono_us() - rc.req.start_us;
	metrics_observe_request(app->metrics,
	    router_index(app->routes, app->nroutes, rc.route),
	    rc.req.method_id, rc.resp.status, duration_us);
	access_log(&rc, duration_us);
}

void
server_request_done(struct gacp_ctx *app)
{
	arena_reset(&app->arena);
}
