/* render.c - JSON of tenants, users, API keys and audit events (see render.h). */
#include "tenancy/render.h"
#include "store/apikey_store.h"
#include "store/audit_store.h"
#include "store/tenant_store.h"
#include "store/user_store.h"

struct json_object *
render_str(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

struct json_object *
render_stored_json(const char *text)
{
	struct json_object *o = text ? json_tokener_parse(text) : NULL;

	if (o == NULL)
		o = json_object_new_object();
	return o;
}

static struct json_object *
str_array(char *const *items, size_t n)
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(items[i]));
	return arr;
}

struct json_object *
render_tenant(const struct tenant_row *t)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", render_str(t->id));
	json_object_object_add(o, "slug", render_str(t->slug));
	json_object_object_add(o, "name", render_str(t->name));
	json_object_object_add(o, "status", render_str(t->status));
	json_object_object_add(o, "is_platform",
	    json_object_new_boolean(t->is_platform));
	json_object_object_add(o, "settings", render_stored_json(t->settings));
	json_object_object_add(o, "metadata", render_stored_json(t->metadata));
	json_object_object_add(o, "created_at", render_str(t->created_at));
	json_object_object_add(o, "updated_at", render_str(t->updated_at));
	json_object_object_add(o, "version", json_object_new_int64(t->version));
	return o;
}

struct json_object *
render_user(const struct user_row *u)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", render_str(u->id));
	json_object_object_add(o, "tenant_id", render_str(u->tenant_id));
	json_object_object_add(o, "username", render_str(u->username));
	json_object_object_add(o, "display_name", render_str(u->display_name));
	json_object_object_add(o, "email", render_str(u->email));
	json_object_object_add(o, "roles", str_array(u->roles, u->nroles));
	json_object_object_add(o, "is_active",
	    json_object_new_boolean(u->is_active));
	json_object_object_add(o, "must_change_password",
	    json_object_new_boolean(u->must_change_password));
	json_object_object_add(o, "password_changed_at",
	    render_str(u->password_changed_at));
	json_object_object_add(o, "last_login_at", render_str(u->last_login_at));
	json_object_object_add(o, "metadata", render_stored_json(u->metadata));
	json_object_object_add(o, "created_at", render_str(u->created_at));
	json_object_object_add(o, "updated_at", render_str(u->updated_at));
	json_object_object_add(o, "version", json_object_new_int64(u->version));
	return o;
}

struct json_object *
render_apikey(const struct apikey_row *k)
{
	struct json_object *o = json_object_new_object();
	const char *status = k->revoked_at ? "revoked" :
	    k->expired ? "expired" : "active";

	json_object_object_add(o, "id", render_str(k->id));
	json_object_object_add(o, "name", render_str(k->name));
	json_object_object_add(o, "prefix", render_str(k->prefix));
	json_object_object_add(o, "scopes", str_array(k->scopes, k->nscopes));
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "expires_at", render_str(k->expires_at));
	json_object_object_add(o, "revoked_at", render_str(k->revoked_at));
	json_object_object_add(o, "last_used_at", render_str(k->last_used_at));
	json_object_object_add(o, "created_at", render_str(k->created_at));
	json_object_object_add(o, "created_by", render_str(k->created_by));
	json_object_object_add(o, "version", json_object_new_int64(k->version));
	return o;
}

struct json_object *
render_audit(const struct audit_row *r)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(r->id));
	json_object_object_add(o, "occurred_at", render_str(r->occurred_at));
	json_object_object_add(o, "actor_type", render_str(r->actor_type));
	json_object_object_add(o, "actor_id", render_str(r->actor_id));
	json_object_object_add(o, "action", render_str(r->action));
	json_object_object_add(o, "outcome", render_str(r->outcome));
	json_object_object_add(o, "resource_type", render_str(r->resource_type));
	json_object_object_add(o, "resource_id", render_str(r->resource_id));
	json_object_object_add(o, "request_id", render_str(r->request_id));
	json_object_object_add(o, "client_addr", render_str(r->client_addr));
	json_object_object_add(o, "details", render_stored_json(r->details));
	return o;
}
