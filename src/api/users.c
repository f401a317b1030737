/* users.c - /v1/users: the caller's tenant's users. */
#include "api/api_svc.h"
#include "store/user_store.h"
#include "tenancy/render.h"
#include "tenancy/users.h"

static const char *
id_param(struct request_ctx *rc)
{
	return http_request_path_param(&rc->req, "id");
}

void
api_users_create(struct request_ctx *rc)
{
	struct json_object *body = api_body(rc, false);
	struct user_row *u;
	struct gacp_err err;
	struct svc s;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (users_create(&s, body, &u, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 201, api_own(rc, render_user(u)));
}

void
api_users_list(struct request_ctx *rc)
{
	struct user_row *rows;
	struct json_object *items;
	struct gacp_err err;
	struct page pg;
	struct svc s;
	char *next;
	size_t n, i;

	api_svc(rc, &s);
	if (!api_page(rc, &s, false, &pg))
		return;
	if (users_list(&s, &pg, &rows, &n, &next, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	items = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(items, render_user(&rows[i]));
	api_done(rc, &s, 200, api_list(rc, items, next));
}

void
api_users_get(struct request_ctx *rc)
{
	struct user_row *u;
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	if (users_get(&s, id_param(rc), &u, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 200, api_own(rc, render_user(u)));
}

void
api_users_update(struct request_ctx *rc)
{
	struct json_object *body = api_body(rc, false);
	struct user_row *u;
	struct gacp_err err;
	struct svc s;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (users_update(&s, id_param(rc), body, &u, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 200, api_own(rc, render_user(u)));
}

void
api_users_delete(struct request_ctx *rc)
{
	api_delete_versioned(rc, users_delete);
}

void
api_users_password(struct request_ctx *rc)
{
	struct json_object *body = api_body(rc, false);
	struct gacp_err err;
	struct svc s;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (users_set_password(&s, id_param(rc), body, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 204, NULL);
}

void
api_users_unlock(struct request_ctx *rc)
{
	struct json_object *o;
	struct gacp_err err;
	struct svc s;
	bool was_locked;

	api_svc(rc, &s);
	if (users_unlock(&s, id_param(rc), &was_locked, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	o = api_own(rc, json_object_new_object());
	json_object_object_add(o, "unlocked", json_object_new_boolean(was_locked));
	api_done(rc, &s, 200, o);
}
