/* audit.c - GET /v1/audit-log: the caller's tenant's security events. */
#include "api/api_svc.h"
#include "store/audit_store.h"
#include "tenancy/audit.h"
#include "tenancy/render.h"

void
api_audit_list(struct request_ctx *rc)
{
	const struct http_request *q = &rc->req;
	struct audit_row *rows;
	struct json_object *items;
	struct gacp_err err;
	struct svc s;
	char *next;
	size_t n, i;

	api_svc(rc, &s);
	if (audit_list(&s, http_request_query(q, "action"),
	    http_request_query(q, "actor"), http_request_query(q, "from"),
	    http_request_query(q, "to"), http_request_query(q, "limit"),
	    http_request_query(q, "cursor"), &rows, &n, &next, &err) !=
	    GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	items = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(items, render_audit(&rows[i]));
	api_done(rc, &s, 200, api_list(rc, items, next));
}
