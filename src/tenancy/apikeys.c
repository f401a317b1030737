/* apikeys.c - API key creation, listing and revocation with scope rules and audit (see apikeys.h). */
#include "tenancy/apikeys.h"
#include "tenancy/audit.h"
#include "tenancy/tenancy.h"
#include "common/arena.h"
#include "security/apikey.h"
#include "store/apikey_store.h"
#include "store/pgrow.h"

#include <stdio.h>
#include <string.h>

#define KEY_NAME_MAX    200
#define KEY_SCOPES_MAX  32

static void
put_json(void *p)
{
	json_object_put(p);
}

static int
record(struct svc *s, const char *action, const char *key_id,
    struct json_object *d, struct gacp_err *err)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = s->tenant_id;
	ev.action = action;
	ev.resource_type = "api_key";
	ev.resource_id = key_id;
	ev.details = d;
	return audit_record(s, &ev, err);
}

/* Whether the caller may put perm on a key. */
static bool
grantable(const struct svc *s, const char *perm)
{
	static const enum rbac_role owner[] = { RBAC_ROLE_TENANT_OWNER };
	const struct principal *p = s->who;

	/* gacpctl grants tenant permissions, never platform ones. */
	if (p->kind == PRINCIPAL_SYSTEM)
		return rbac_scopes_grantable(owner, 1, &perm, 1);
	if (p->kind == PRINCIPAL_API_KEY) {
		size_t i;
		for (i = 0; i < p->nscopes; i++)
			if (strcmp(p->scopes[i], perm) == 0)
				return true;
		return false;
	}
	return rbac_scopes_grantable(p->roles, p->nroles, &perm, 1);
}

static const char *
read_scopes(struct svc *s, struct json_object *body)
{
	struct json_object *arr, *v;
	const char *items[KEY_SCOPES_MAX];
	size_t i, j, n;

	if (!json_object_object_get_ex(body, "scopes", &arr) || arr == NULL)
		return "[]";
	if (!json_object_is_type(arr, json_type_array) ||
	    (n = json_object_array_length(arr)) > KEY_SCOPES_MAX) {
		svc_field_error(s, "scopes", "invalid_type",
		    "must be an array of at most %d permissions", KEY_SCOPES_MAX);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_string) ||
		    !rbac_permission_valid(json_object_get_string(v))) {
			svc_field_error(s, "scopes", "invalid_scope",
			    "every scope must be a permission such as users:read");
			return NULL;
		}
		items[i] = json_object_get_string(v);
		for (j = 0; j < i; j++)
			if (strcmp(items[i], items[j]) == 0) {
				svc_field_error(s, "scopes", "duplicate_scope",
				    "names a scope twice");
				return NULL;
			}
		if (!grantable(s, items[i])) {
			svc_field_error(s, "scopes", "scope_not_grantable",
			    "you may not grant %s", items[i]);
			return NULL;
		}
	}
	return pgrow_json_array(s->a, items, n);
}

int
apikeys_create(struct svc *s, struct json_object *body,
    struct apikey_row **out, char **key_out, struct gacp_err *err)
{
	static const char *const allowed[] = { "name", "scopes", "expires_at",
	    NULL };
	struct apikey_generated g;
	struct json_object *d;
	const char *name, *scopes, *expires_at;
	bool future = true;
	int rc;

	*key_out = NULL;
	svc_body_only(s, body, allowed);
	name = svc_body_str(s, body, "name", KEY_NAME_MAX, SVC_REQUIRED);
	scopes = read_scopes(s, body);
	expires_at = svc_body_str(s, body, "expires_at", 40, 0);
	if (expires_at != NULL && !tenancy_rfc3339_ok(expires_at)) {
		svc_field_error(s, "expires_at", "invalid_format",
		    "must be an RFC 3339 date-time, e.g. 2027-01-31T00:00:00Z");
		expires_at = NULL;
	}
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if (expires_at != NULL) {
		rc = apikey_store_in_future(&s->app->db, s->a, expires_at,
		    &future, err);
		if (rc == GACP_EINVAL)
			svc_field_error(s, "expires_at", "invalid_format",
			    "is not a real date-time");
		else if (rc != GACP_OK)
			return rc;
		else if (!future)
			svc_field_error(s, "expires_at", "in_the_past",
			    "must lie in the future");
		if ((rc = svc_check_fields(s, err)) != GACP_OK)
			return rc;
	}
	if ((rc = apikey_generate(&g, err)) != GACP_OK)
		return rc;
	rc = apikey_store_insert(&s->app->db, s->a, s->tenant_id, name,
	    g.prefix, g.hash_hex, scopes, expires_at,
	    s->who->kind == PRINCIPAL_SYSTEM ? NULL : s->who->id, out, err);
	if (rc == GACP_OK)
		*key_out = arena_strdup(s->a, g.key);
	apikey_generated_wipe(&g);
	if (rc != GACP_OK)
		return rc;
	d = json_object_new_object();
	arena_defer(s->a, put_json, d);
	json_object_object_add(d, "name", json_object_new_string(name));
	json_object_object_add(d, "prefix", json_object_new_string((*out)->prefix));
	json_object_object_add(d, "scopes", json_tokener_parse(scopes));
	if (expires_at != NULL)
		json_object_object_add(d, "expires_at",
		    json_object_new_string(expires_at));
	return record(s, "api_key.create", (*out)->id, d, err);
}

int
apikeys_list(struct svc *s, const struct page *pg, struct apikey_row **rows,
    size_t *n, char **next_cursor, struct gacp_err *err)
{
	int rc;

	*next_cursor = NULL;
	rc = apikey_store_list(&s->app->db, s->a, pg->after_us,
	    pg->after_us < 0 ? NULL : pg->after_id, pg->limit, rows, n, err);
	if (rc == GACP_OK && *n == (size_t)pg->limit)
		*next_cursor = svc_cursor_key(s, (*rows)[*n - 1].created_us,
		    (*rows)[*n - 1].id);
	return rc;
}

int
apikeys_get(struct svc *s, const char *id, struct apikey_row **out,
    struct gacp_err *err)
{
	char kid[TENANCY_UUID_LEN + 1];

	if (!tenancy_uuid_norm(id, kid))
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such API key");
	return apikey_store_get(&s->app->db, s->a, kid, out, err);
}

int
apikeys_revoke(struct svc *s, const char *id, struct gacp_err *err)
{
	struct apikey_row *k;
	struct json_object *d;
	int rc;

	if ((rc = apikeys_get(s, id, &k, err)) != GACP_OK)
		return rc;
	if ((rc = apikey_store_revoke(&s->app->db, s->a, k->id,
	    s->who->kind == PRINCIPAL_SYSTEM ? NULL : s->who->id, err)) !=
	    GACP_OK)
		return rc;
	d = json_object_new_object();
	arena_defer(s->a, put_json, d);
	json_object_object_add(d, "name", json_object_new_string(k->name));
	json_object_object_add(d, "prefix", json_object_new_string(k->prefix));
	return record(s, "api_key.revoke", k->id, d, err);
}
