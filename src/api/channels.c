/* channels.c - /v1/channels: the tenant's Messenger pages (and its REST channel). */
#include "api/api_svc.h"
#include "messenger/channel_store.h"
#include "messenger/channels_svc.h"

static const char *
id_param(struct request_ctx *rc)
{
	return http_request_path_param(&rc->req, "id");
}

void
api_channels_create(struct request_ctx *rc)
{
	struct json_object *body = api_body(rc, false);
	struct channel_row *c;
	struct gacp_err err;
	struct svc s;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (channels_create(&s, body, &c, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 201, api_own(rc, channels_render(c)));
}

void
api_channels_list(struct request_ctx *rc)
{
	struct channel_row *rows;
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
	if (channels_list(&s, http_request_query(&rc->req, "status"), &pg, &rows,
	    &n, &next, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	items = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(items, channels_render(&rows[i]));
	api_done(rc, &s, 200, api_list(rc, items, next));
}

void
api_channels_get(struct request_ctx *rc)
{
	struct channel_row *c;
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	if (channels_get(&s, id_param(rc), &c, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 200, api_own(rc, channels_render(c)));
}

void
api_channels_update(struct request_ctx *rc)
{
	struct json_object *body = api_body(rc, false);
	struct channel_row *c;
	struct gacp_err err;
	struct svc s;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (channels_update(&s, id_param(rc), body, &c, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 200, api_own(rc, channels_render(c)));
}

void
api_channels_delete(struct request_ctx *rc)
{
	api_delete_versioned(rc, channels_delete);
}
