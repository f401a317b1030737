/* tenants.c - /v1/tenants, for platform administrators. */
#include "api/api_svc.h"
#include "store/tenant_store.h"
#include "store/user_store.h"
#include "tenancy/render.h"
#include "tenancy/tenants.h"

void
api_tenants_create(struct request_ctx *rc)
{
	struct json_object *body = api_body(rc, false), *o;
	struct tenant_row *t;
	struct user_row *owner;
	struct gacp_err err;
	struct svc s;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (tenants_create(&s, body, &t, &owner, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	o = api_own(rc, render_tenant(t));
	if (owner != NULL)
		json_object_object_add(o, "owner", render_user(owner));
	api_done(rc, &s, 201, o);
}

void
api_tenants_list(struct request_ctx *rc)
{
	struct tenant_row *rows;
	struct json_object *items;
	struct gacp_err err;
	struct page pg;
	struct svc s;
	char *next;
	size_t n, i;

	api_svc(rc, &s);
	if (!api_page(rc, &s, false, &pg))
		return;
	if (tenants_list(&s, &pg, &rows, &n, &next, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	items = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(items, render_tenant(&rows[i]));
	api_done(rc, &s, 200, api_list(rc, items, next));
}

void
api_tenants_get(struct request_ctx *rc)
{
	struct tenant_row *t;
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	if (tenants_get(&s, http_request_path_param(&rc->req, "id"), &t,
	    &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 200, api_own(rc, render_tenant(t)));
}

void
api_tenants_update(struct request_ctx *rc)
{
	struct json_object *body = api_body(rc, false);
	struct tenant_row *t;
	struct gacp_err err;
	struct svc s;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (tenants_update(&s, http_request_path_param(&rc->req, "id"), body,
	    true, &t, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 200, api_own(rc, render_tenant(t)));
}

void
api_tenants_delete(struct request_ctx *rc)
{
	api_delete_versioned(rc, tenants_delete);
}
