/* api_svc.c - handler glue for the tenancy services (see api_svc.h). */
#include "api/api_svc.h"
#include "common/arena.h"
#include "common/json.h"

#include <string.h>

static void
put_json(void *p)
{
	json_object_put(p);
}

struct json_object *
api_own(struct request_ctx *rc, struct json_object *obj)
{
	arena_defer(rc->arena, put_json, obj);
	return obj;
}

void
api_svc(struct request_ctx *rc, struct svc *s)
{
	static const struct principal anonymous;

	svc_init(s, rc->app, rc->arena,
	    rc->principal ? rc->principal : &anonymous, rc->req.request_id,
	    rc->req.client_addr);
	if (rc->principal != NULL)
		svc_adopt(s, rc->principal->tenant_id);
}

void
api_fail(struct request_ctx *rc, struct svc *s, const struct gacp_err *err)
{
	const char *details = svc_field_errors_json(s);

	if (strcmp(err->code, "validation_failed") == 0) {
		http_response_error(&rc->resp, 422, "validation_failed",
		    err->msg, rc->req.request_id, details ? details : "[]");
		return;
	}
	api_error_from(rc, err);
}

void
api_done(struct request_ctx *rc, struct svc *s, int status,
    struct json_object *obj)
{
	struct gacp_err err;

	gacp_err_clear(&err);
	if (rc->app->db.in_tx && svc_commit(s, &err) != GACP_OK) {
		api_fail(rc, s, &err);
		return;
	}
	if (obj == NULL) {
		rc->resp.status = status;
		return;
	}
	api_json(rc, status, obj);
}

struct json_object *
api_list(struct request_ctx *rc, struct json_object *items,
    const char *next_cursor)
{
	struct json_object *o = api_own(rc, json_object_new_object());

	json_object_object_add(o, "items", items);
	json_object_object_add(o, "next_cursor",
	    next_cursor ? json_object_new_string(next_cursor) : NULL);
	return o;
}

bool
api_page(struct request_ctx *rc, struct svc *s, bool sequence,
    struct page *pg)
{
	struct gacp_err err;

	svc_page_parse(s, http_request_query(&rc->req, "limit"),
	    http_request_query(&rc->req, "cursor"), sequence, pg);
	if (svc_check_fields(s, &err) != GACP_OK) {
		api_fail(rc, s, &err);
		return false;
	}
	return true;
}

struct json_object *
api_body(struct request_ctx *rc, bool allow_empty)
{
	if (allow_empty && rc->req.body_len == 0)
		return api_own(rc, json_object_new_object());
	return api_body_object(rc);
}

void
api_delete(struct request_ctx *rc, api_delete_fn del)
{
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	if (del(&s, http_request_path_param(&rc->req, "id"), &err) !=
	    GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 204, NULL);
}

void
api_delete_versioned(struct request_ctx *rc, api_delete_versioned_fn del)
{
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	if (del(&s, http_request_path_param(&rc->req, "id"),
	    http_request_query(&rc->req, "version"), &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 204, NULL);
}
