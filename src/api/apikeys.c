/* apikeys.c - /v1/api-keys: the caller's tenant's API keys. */
#include "api/api_svc.h"
#include "store/apikey_store.h"
#include "tenancy/apikeys.h"
#include "tenancy/render.h"

void
api_apikeys_create(struct request_ctx *rc)
{
	struct json_object *body = api_body(rc, false), *o;
	struct apikey_row *k;
	struct gacp_err err;
	struct svc s;
	char *key;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (apikeys_create(&s, body, &k, &key, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	/* The only time the key is ever shown. */
	o = api_own(rc, render_apikey(k));
	json_object_object_add(o, "key", json_object_new_string(key));
	api_done(rc, &s, 201, o);
}

void
api_apikeys_list(struct request_ctx *rc)
{
	struct apikey_row *rows;
	struct json_object *items;
	struct gacp_err err;
	struct page pg;
	struct svc s;
	char *next;
	size_t n, i;

	api_svc(rc, &s);
	if (!api_page(rc, &s, false, &pg))
		return;
	if (apikeys_list(&s, &pg, &rows, &n, &next, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	items = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(items, render_apikey(&rows[i]));
	api_done(rc, &s, 200, api_list(rc, items, next));
}

void
api_apikeys_get(struct request_ctx *rc)
{
	struct apikey_row *k;
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	if (apikeys_get(&s, http_request_path_param(&rc->req, "id"), &k,
	    &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 200, api_own(rc, render_apikey(k)));
}

void
api_apikeys_revoke(struct request_ctx *rc)
{
	api_delete(rc, apikeys_revoke);
}
