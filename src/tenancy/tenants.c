/* tenants.c - tenant administration with validation, the first owner and audit (see tenants.h). */
#include "tenancy/tenants.h"
#include "tenancy/audit.h"
#include "tenancy/render.h"
#include "tenancy/tenancy.h"
#include "tenancy/users.h"
#include "common/arena.h"
#include "common/json.h"
#include "store/tenant_store.h"
#include "store/user_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TENANT_NAME_MAX 200
#define METADATA_MAX    8192

static void
put_json(void *p)
{
	json_object_put(p);
}

/* Audit a tenant change in the tenant's trail and, when the actor belongs
 * to another tenant (the platform), in the actor's as well. */
static int
record(struct svc *s, const char *action, const char *tenant_id,
    struct json_object *d, struct gacp_err *err)
{
	struct audit_event ev;
	int rc;

	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = tenant_id;
	ev.action = action;
	ev.resource_type = "tenant";
	ev.resource_id = tenant_id;
	ev.details = d;
	if ((rc = audit_record(s, &ev, err)) != GACP_OK)
		return rc;
	if (s->who->tenant_id[0] != '\0' &&
	    strcmp(s->who->tenant_id, tenant_id) != 0) {
		ev.tenant_id = s->who->tenant_id;
		if ((rc = audit_record(s, &ev, err)) != GACP_OK)
			return rc;
	}
	/* Leave the transaction where the caller had it. */
	return svc_bind(s, s->who->tenant_id[0] ? s->who->tenant_id : NULL, err);
}

static int
platform(struct svc *s, struct gacp_err *err)
{
	return svc_platform_scope(s, err);
}

static const char *
read_object(struct svc *s, struct json_object *body, const char *field)
{
	struct json_object *m;
	const char *text;

	if (!json_object_object_get_ex(body, field, &m) || m == NULL)
		return NULL;
	if (!json_object_is_type(m, json_type_object)) {
		svc_field_error(s, field, "invalid_type", "must be an object");
		return NULL;
	}
	if (strcmp(field, "settings") == 0)
		tenancy_settings_validate(s, m);
	text = json_compact(m);
	if (strlen(text) > METADATA_MAX) {
		svc_field_error(s, field, "too_long",
		    "must be at most %d bytes of JSON", METADATA_MAX);
		return NULL;
	}
	return arena_strdup(s->a, text);
}

static const char *
read_status(struct svc *s, struct json_object *body)
{
	const char *st = svc_body_str(s, body, "status", 16, 0);

	if (st != NULL && strcmp(st, "active") != 0 &&
	    strcmp(st, "suspended") != 0) {
		svc_field_error(s, "status", "invalid_value",
		    "must be active or suspended");
		return NULL;
	}
	return st;
}

/* The owner object: checked here, created after the tenant exists. */
static struct json_object *
read_owner(struct svc *s, struct json_object *body)
{
	static const char *const allowed[] = { "username", "password",
	    "display_name", "email", NULL };
	struct json_object *o;

	if (!json_object_object_get_ex(body, "owner", &o) || o == NULL)
		return NULL;
	if (!json_object_is_type(o, json_type_object)) {
		svc_field_error(s, "owner", "invalid_type", "must be an object");
		return NULL;
	}
	json_object_object_foreach(o, key, val) {
		size_t i;
		(void)val;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			svc_field_error(s, "owner", "unknown_field",
			    "owner takes username, password, display_name, email");
	}
	return o;
}

/* Prefix the field errors a nested users_create recorded with "owner.". */
static void
prefix_owner_errors(struct svc *s, size_t from)
{
	size_t i, n = s->field_errors ? json_object_array_length(s->field_errors) : 0;

	for (i = from; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(s->field_errors, i);
		const char *f = json_get_str(e, "field");
		char name[96];
		snprintf(name, sizeof(name), "owner.%s", f ? f : "");
		json_object_object_add(e, "field", json_object_new_string(name));
	}
}

static int
create_owner(struct svc *s, const struct tenant_row *t, struct json_object *owner,
    struct user_row **out, struct gacp_err *err)
{
	struct json_object *ubody, *roles;
	struct svc us;
	size_t before;
	int rc;

	/* The owner is created by the same caller, acting inside the new
	 * tenant: the transaction re-binds there (RLS WITH CHECK). */
	ubody = json_object_new_object();
	arena_defer(s->a, put_json, ubody);
	json_object_object_foreach(owner, key, val)
		json_object_object_add(ubody, key, json_object_get(val));
	roles = json_object_new_array();
	json_object_array_add(roles, json_object_new_string("tenant_owner"));
	json_object_object_add(ubody, "roles", roles);
	us = *s;
	svc_set_tenant(&us, t->id, t->is_platform);
	if ((rc = svc_bind(&us, t->id, err)) != GACP_OK)
		return rc;
	before = us.field_errors ? json_object_array_length(us.field_errors) : 0;
	rc = users_create(&us, ubody, out, err);
	s->field_errors = us.field_errors;
	memcpy(s->bound_tenant, us.bound_tenant, sizeof(s->bound_tenant));
	if (rc != GACP_OK)
		prefix_owner_errors(s, before);
	return rc;
}

int
tenants_create(struct svc *s, struct json_object *body,
    struct tenant_row **out, struct user_row **owner_out, struct gacp_err *err)
{
	static const char *const allowed[] = { "slug", "name", "settings",
	    "metadata", "owner", "is_platform", NULL };
	const char *slug, *name, *settings, *metadata;
	struct json_object *owner, *d;
	bool is_platform = false;
	int rc;

	*owner_out = NULL;
	if ((rc = platform(s, err)) != GACP_OK)
		return rc;
	svc_body_only(s, body, allowed);
	slug = svc_body_str(s, body, "slug", 63, SVC_REQUIRED);
	if (slug != NULL && !tenancy_slug_ok(slug))
		svc_field_error(s, "slug", "invalid_format",
		    "1 to 63 of a-z 0-9 -, not starting or ending with -");
	name = svc_body_str(s, body, "name", TENANT_NAME_MAX, SVC_REQUIRED);
	settings = read_object(s, body, "settings");
	metadata = read_object(s, body, "metadata");
	owner = read_owner(s, body);
	if (svc_body_has(body, "is_platform")) {
		/* One platform tenant, made by the operator on the server. */
		if (s->who->kind != PRINCIPAL_SYSTEM)
			svc_field_error(s, "is_platform", "unknown_field",
			    "is not a field of this request");
		else if (!json_get_bool(body, "is_platform", &is_platform))
			svc_field_error(s, "is_platform", "invalid_type",
			    "must be a boolean");
	}
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	rc = tenant_store_insert(&s->app->db, s->a, slug, name, is_platform,
	    settings, metadata, svc_actor_uuid(s), out, err);
	if (rc != GACP_OK)
		return rc;
	if (owner != NULL &&
	    (rc = create_owner(s, *out, owner, owner_out, err)) != GACP_OK)
		return rc;
	d = svc_details(s);
	json_object_object_add(d, "slug", json_object_new_string((*out)->slug));
	json_object_object_add(d, "name", json_object_new_string((*out)->name));
	if (*owner_out != NULL)
		json_object_object_add(d, "owner",
		    json_object_new_string((*owner_out)->username));
	return record(s, "tenant.create", (*out)->id, d, err);
}

int
tenants_list(struct svc *s, const struct page *pg, struct tenant_row **rows,
    size_t *n, char **next_cursor, struct gacp_err *err)
{
	int rc;

	*next_cursor = NULL;
	if ((rc = platform(s, err)) != GACP_OK)
		return rc;
	rc = tenant_store_list(&s->app->db, s->a, pg->after_us,
	    pg->after_us < 0 ? NULL : pg->after_id, pg->limit, rows, n, err);
	if (rc == GACP_OK && *n == (size_t)pg->limit)
		*next_cursor = svc_cursor_key(s, (*rows)[*n - 1].created_us,
		    (*rows)[*n - 1].id);
	return rc;
}

int
tenants_get(struct svc *s, const char *id, struct tenant_row **out,
    struct gacp_err *err)
{
	char tid[TENANCY_UUID_LEN + 1];
	int rc;

	if (!tenancy_uuid_norm(id, tid))
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such tenant");
	if ((rc = platform(s, err)) != GACP_OK)
		return rc;
	return tenant_store_get(&s->app->db, s->a, tid, out, err);
}

int
tenants_update(struct svc *s, const char *id, struct json_object *body,
    bool require_version, struct tenant_row **out, struct gacp_err *err)
{
	static const char *const allowed[] = { "version", "name", "status",
	    "settings", "metadata", NULL };
	struct tenant_row *cur;
	struct tenant_patch patch;
	struct json_object *d, *changed;
	int64_t version = -1;
	int rc;

	if ((rc = tenants_get(s, id, &cur, err)) != GACP_OK)
		return rc;
	memset(&patch, 0, sizeof(patch));
	svc_body_only(s, body, allowed);
	if (require_version || svc_body_has(body, "version"))
		svc_body_version(s, body, &version);
	patch.name = svc_body_str(s, body, "name", TENANT_NAME_MAX, 0);
	patch.status = read_status(s, body);
	patch.settings = read_object(s, body, "settings");
	patch.metadata = read_object(s, body, "metadata");
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if (cur->is_platform && patch.status != NULL &&
	    strcmp(patch.status, "active") != 0)
		return gacp_err_set(err, GACP_ECONFLICT, "platform_tenant",
		    "the platform tenant cannot be suspended");
	rc = tenant_store_update(&s->app->db, s->a, cur->id, version, &patch,
	    svc_actor_uuid(s), out, err);
	if (rc != GACP_OK)
		return rc;
	d = svc_details(s);
	changed = json_object_new_array();
	json_object_object_foreach(body, key, val) {
		(void)val;
		if (strcmp(key, "version") != 0)
			json_object_array_add(changed, json_object_new_string(key));
	}
	json_object_object_add(d, "changed", changed);
	if (patch.status != NULL)
		json_object_object_add(d, "status",
		    json_object_new_string(patch.status));
	return record(s, patch.status == NULL ? "tenant.update" :
	    strcmp(patch.status, "suspended") == 0 &&
	    strcmp(cur->status, "suspended") != 0 ? "tenant.suspend" :
	    strcmp(patch.status, "active") == 0 &&
	    strcmp(cur->status, "active") != 0 ? "tenant.resume" :
	    "tenant.update", cur->id, d, err);
}

int
tenants_delete(struct svc *s, const char *id, const char *version,
    struct gacp_err *err)
{
	struct tenant_row *cur;
	struct json_object *d;
	int64_t ver;
	int rc;

	if ((rc = tenants_get(s, id, &cur, err)) != GACP_OK)
		return rc;
	if ((rc = svc_version_param(s, version, &ver, err)) != GACP_OK)
		return rc;
	if (cur->is_platform)
		return gacp_err_set(err, GACP_ECONFLICT, "platform_tenant",
		    "the platform tenant cannot be deleted");
	if ((rc = tenant_store_delete(&s->app->db, s->a, cur->id, ver,
	    svc_actor_uuid(s), err)) != GACP_OK)
		return rc;
	d = svc_details(s);
	json_object_object_add(d, "slug", json_object_new_string(cur->slug));
	return record(s, "tenant.delete", cur->id, d, err);
}

int
tenants_resolve(struct svc *s, const char *slug, char id[37],
    bool *is_platform, struct gacp_err *err)
{
	struct tenant_ref ref;
	int rc;

	if (!tenancy_slug_ok(slug))
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such tenant");
	rc = tenant_store_find_slug(&s->app->db, s->a, slug, &ref, err);
	if (rc != GACP_OK)
		return rc;
	snprintf(id, 37, "%s", ref.id);
	*is_platform = ref.is_platform;
	return GACP_OK;
}
