/* services.c - /v1/services and /v1/system/health: the service registry
 * (registry/registry.h says who may do what). */
#include "api/api_svc.h"
#include "registry/registry.h"

void
api_services_create(struct request_ctx *rc)
{
	struct json_object *body = api_body(rc, false);
	struct service_row *r;
	struct gacp_err err;
	struct svc s;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (registry_register(&s, body, &r, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 201, api_own(rc, registry_render_service(r)));
}

void
api_services_heartbeat(struct request_ctx *rc)
{
	struct service_row *r;
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	if (registry_heartbeat(&s, http_request_path_param(&rc->req, "id"), &r,
	    &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 200, api_own(rc, registry_render_service(r)));
}

void
api_services_list(struct request_ctx *rc)
{
	struct service_row *rows;
	struct json_object *items;
	struct gacp_err err;
	struct page pg;
	struct svc s;
	char *next;
	size_t n, i;

	api_svc(rc, &s);
	/* Paging and filter problems are reported together by the service. */
	svc_page_parse(&s, http_request_query(&rc->req, "limit"),
	    http_request_query(&rc->req, "cursor"), false, &pg);
	if (registry_list(&s, http_request_query(&rc->req, "name"),
	    http_request_query(&rc->req, "healthy"), &pg, &rows, &n, &next,
	    &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	items = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(items, registry_render_service(&rows[i]));
	api_done(rc, &s, 200, api_list(rc, items, next));
}

void
api_services_delete(struct request_ctx *rc)
{
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	if (registry_deregister(&s, http_request_path_param(&rc->req, "id"),
	    &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 204, NULL);
}

void
api_system_health(struct request_ctx *rc)
{
	struct registry_health h;
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	if (registry_system_health(&s, &h, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 200, api_own(rc, registry_render_health(&h)));
}
