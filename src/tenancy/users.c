/* users.c - tenant users: validation, role rules, sessions and audit (see users.h). */
#include "tenancy/users.h"
#include "tenancy/audit.h"
#include "tenancy/guard.h"
#include "tenancy/render.h"
#include "tenancy/tenancy.h"
#include "common/arena.h"
#include "common/json.h"
#include "store/pgrow.h"
#include "store/tenant_store.h"
#include "store/token_store.h"
#include "store/user_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISPLAY_NAME_MAX 200
#define EMAIL_MAX        254
#define METADATA_MAX     8192

/* The roles a caller grants with: a key counts as a tenant_admin (its
 * scopes were granted by an admin or owner). */
static size_t
actor_roles(const struct svc *s, enum rbac_role *roles)
{
	const struct principal *p = s->who;

	if (p->kind == PRINCIPAL_API_KEY) {
		roles[0] = RBAC_ROLE_TENANT_ADMIN;
		return 1;
	}
	memcpy(roles, p->roles, p->nroles * sizeof(*roles));
	return p->nroles;
}

static bool
can_grant(const struct svc *s, const char *role_name)
{
	enum rbac_role actor[RBAC_ROLE_COUNT], target;
	size_t n = actor_roles(s, actor);

	if (!rbac_role_from_string(role_name, &target))
		return false;
	/* platform_admin only counts for a platform admin of the platform
	 * tenant (principal_is_platform_admin), not for a row elsewhere. */
	if (!principal_is_platform_admin(s->who)) {
		size_t i, j = 0;
		for (i = 0; i < n; i++)
			if (actor[i] != RBAC_ROLE_PLATFORM_ADMIN)
				actor[j++] = actor[i];
		n = j;
	}
	return rbac_can_assign_role(actor, n, target);
}

static bool
can_manage(const struct svc *s, const struct user_row *u)
{
	size_t i;

	for (i = 0; i < u->nroles; i++)
		if (!can_grant(s, u->roles[i]))
			return false;
	return true;
}

static bool
has_role(const struct user_row *u, const char *role)
{
	size_t i;

	for (i = 0; i < u->nroles; i++)
		if (strcmp(u->roles[i], role) == 0)
			return true;
	return false;
}

/* Validate body.roles; returns the JSON array text to store, or NULL. */
static const char *
read_roles(struct svc *s, struct json_object *body, bool required)
{
	struct json_object *arr, *v;
	const char *names[RBAC_ROLE_COUNT];
	size_t i, j, n;

	if (!json_object_object_get_ex(body, "roles", &arr) || arr == NULL) {
		if (required)
			svc_field_error(s, "roles", "required", "is required");
		return NULL;
	}
	if (!json_object_is_type(arr, json_type_array) ||
	    (n = json_object_array_length(arr)) < 1 || n > RBAC_ROLE_COUNT) {
		svc_field_error(s, "roles", "invalid_type",
		    "must be an array of 1 to %d role names", RBAC_ROLE_COUNT);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_string) ||
		    !rbac_role_valid(json_object_get_string(v))) {
			svc_field_error(s, "roles", "invalid_role",
			    "roles are platform_admin, tenant_owner, "
			    "tenant_admin, agent and viewer");
			return NULL;
		}
		names[i] = json_object_get_string(v);
		for (j = 0; j < i; j++)
			if (strcmp(names[j], names[i]) == 0) {
				svc_field_error(s, "roles", "duplicate_role",
				    "names a role twice");
				return NULL;
			}
		if (strcmp(names[i], "platform_admin") == 0 &&
		    !s->tenant_is_platform) {
			svc_field_error(s, "roles", "role_not_allowed",
			    "platform_admin exists only in the platform tenant");
			return NULL;
		}
		if (!can_grant(s, names[i])) {
			svc_field_error(s, "roles", "role_not_grantable",
			    "you may not grant %s", names[i]);
			return NULL;
		}
	}
	return pgrow_json_array(s->a, names, n);
}

static bool
email_ok(const char *e)
{
	const char *at = strchr(e, '@');

	return at != NULL && at != e && at[1] != '\0' &&
	    strchr(at + 1, '@') == NULL && strpbrk(e, " \t\"<>,;") == NULL;
}

/* Optional text field that may be set to null; *set tells if present. */
static const char *
nullable_text(struct svc *s, struct json_object *body, const char *field,
    size_t max, bool *set)
{
	struct json_object *v;

	*set = false;
	if (!json_object_object_get_ex(body, field, &v))
		return NULL;
	*set = true;
	if (v == NULL)
		return NULL;
	return svc_body_str(s, body, field, max, 0);
}

static const char *
read_metadata(struct svc *s, struct json_object *body)
{
	struct json_object *m;
	const char *text;

	if (!json_object_object_get_ex(body, "metadata", &m) || m == NULL)
		return NULL;
	if (!json_object_is_type(m, json_type_object)) {
		svc_field_error(s, "metadata", "invalid_type",
		    "must be an object");
		return NULL;
	}
	text = json_compact(m);
	if (strlen(text) > METADATA_MAX) {
		svc_field_error(s, "metadata", "too_long",
		    "must be at most %d bytes of JSON", METADATA_MAX);
		return NULL;
	}
	return arena_strdup(s->a, text);
}

/* The tenant's password policy (its settings may be stricter). */
static int
tenant_policy(struct svc *s, struct gacp_err *err)
{
	struct tenant_access t;
	int rc;

	rc = tenant_store_access(&s->app->db, s->a, s->tenant_id, &t, err);
	if (rc == GACP_OK)
		tenancy_policy_apply_settings(&s->policy, t.settings);
	return rc;
}

static void
check_password(struct svc *s, const char *field, const char *password)
{
	struct password_policy_result pr;
	size_t i;

	if (password_policy_check(password, &s->policy.password, &pr) ==
	    GACP_OK)
		return;
	for (i = 0; i < pr.nerrors; i++)
		svc_field_error(s, field, pr.errors[i].code, "%s",
		    pr.errors[i].message);
}

/* End every session of user_id: refresh tokens now, access tokens at
 * their next request (every tracked jti denied). */
static int
end_sessions(struct svc *s, const char *user_id, struct gacp_err *err)
{
	int rc;

	if ((rc = token_store_revoke_user(&s->app->db, s->a, user_id, NULL,
	    err)) != GACP_OK)
		return rc;
	return guard_revoke_user(&s->app->cache, s->a, s->tenant_id, user_id,
	    s->policy.access_ttl_s + TOKEN_DEFAULT_LEEWAY_S, err);
}

static int
record(struct svc *s, const char *action, const char *user_id,
    struct json_object *d, struct gacp_err *err)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = s->tenant_id;
	ev.action = action;
	ev.resource_type = "user";
	ev.resource_id = user_id;
	ev.details = d;
	return audit_record(s, &ev, err);
}

static struct json_object *
roles_json(const char *roles_text)
{
	struct json_object *r = roles_text ? json_tokener_parse(roles_text) : NULL;

	return r ? r : json_object_new_array();
}

int
users_create(struct svc *s, struct json_object *body, struct user_row **out,
    struct gacp_err *err)
{
	static const char *const allowed[] = { "username", "password", "roles",
	    "display_name", "email", "metadata", "must_change_password", NULL };
	const struct password_hasher *h;
	struct user_new in;
	struct json_object *d;
	char hash[PASSWORD_HASH_SIZE];
	const char *password;
	bool must_change = false;
	int rc;

	memset(&in, 0, sizeof(in));
	if ((rc = tenant_policy(s, err)) != GACP_OK)
		return rc;
	svc_body_only(s, body, allowed);
	in.username = svc_body_str(s, body, "username", 64, SVC_REQUIRED);
	if (in.username != NULL && !tenancy_username_ok(in.username))
		svc_field_error(s, "username", "invalid_format",
		    "3 to 64 of A-Z a-z 0-9 . _ @ -");
	password = svc_body_str(s, body, "password", PASSWORD_MAX_BYTES,
	    SVC_REQUIRED | SVC_RAW);
	if (password != NULL)
		check_password(s, "password", password);
	in.roles_json = read_roles(s, body, true);
	in.display_name = svc_body_str(s, body, "display_name",
	    DISPLAY_NAME_MAX, 0);
	in.email = svc_body_str(s, body, "email", EMAIL_MAX, 0);
	if (in.email != NULL && !email_ok(in.email))
		svc_field_error(s, "email", "invalid_format",
		    "must be an e-mail address");
	in.metadata = read_metadata(s, body);
	if (svc_body_has(body, "must_change_password") &&
	    !json_get_bool(body, "must_change_password", &must_change))
		svc_field_error(s, "must_change_password", "invalid_type",
		    "must be a boolean");
	in.must_change_password = must_change;
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if ((rc = tenancy_hasher(s->app, s->policy.bcrypt_cost, &h, err)) !=
	    GACP_OK || (rc = password_hash(h, password, hash, err)) != GACP_OK)
		return rc;
	in.password_hash = hash;
	rc = user_store_insert(&s->app->db, s->a, s->tenant_id, &in,
	    svc_actor_uuid(s), out, err);
	explicit_bzero(hash, sizeof(hash));
	if (rc != GACP_OK)
		return rc;
	d = svc_details(s);
	json_object_object_add(d, "username",
	    json_object_new_string((*out)->username));
	json_object_object_add(d, "roles", roles_json(in.roles_json));
	return record(s, "user.create", (*out)->id, d, err);
}

int
users_list(struct svc *s, const struct page *pg, struct user_row **rows,
    size_t *n, char **next_cursor, struct gacp_err *err)
{
	int rc;

	*next_cursor = NULL;
	rc = user_store_list(&s->app->db, s->a, pg->after_us,
	    pg->after_us < 0 ? NULL : pg->after_id, pg->limit, rows, n, err);
	if (rc == GACP_OK && *n == (size_t)pg->limit)
		*next_cursor = svc_cursor_key(s, (*rows)[*n - 1].created_us,
		    (*rows)[*n - 1].id);
	return rc;
}

static int
get_valid(struct svc *s, const char *id, struct user_row **out,
    struct gacp_err *err)
{
	char uid[TENANCY_UUID_LEN + 1];

	if (!tenancy_uuid_norm(id, uid))
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such user");
	return user_store_get(&s->app->db, s->a, uid, out, err);
}

int
users_get(struct svc *s, const char *id, struct user_row **out,
    struct gacp_err *err)
{
	return get_valid(s, id, out, err);
}

int
users_find(struct svc *s, const char *username, struct user_row **out,
    struct gacp_err *err)
{
	if (!tenancy_username_ok(username))
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such user");
	return user_store_by_username(&s->app->db, s->a, username, out, err);
}

static int
refuse_manage(struct gacp_err *err)
{
	return gacp_err_set(err, GACP_EFORBIDDEN, "forbidden",
	    "you may not manage a user with these roles");
}

/* Would this change leave the tenant without an active owner? */
static int
keeps_an_owner(struct svc *s, const struct user_row *u, bool still_owner,
    struct gacp_err *err)
{
	int64_t owners;
	int rc;

	if (!has_role(u, "tenant_owner") || !u->is_active || still_owner)
		return GACP_OK;
	if ((rc = user_store_count_role(&s->app->db, s->a, "tenant_owner",
	    &owners, err)) != GACP_OK)
		return rc;
	if (owners <= 1)
		return gacp_err_set(err, GACP_ECONFLICT, "last_owner",
		    "the tenant's last active owner cannot be removed");
	return GACP_OK;
}

int
users_update(struct svc *s, const char *id, struct json_object *body,
    struct user_row **out, struct gacp_err *err)
{
	static const char *const allowed[] = { "version", "display_name",
	    "email", "roles", "is_active", "metadata", NULL };
	struct user_row *cur;
	struct user_patch patch;
	struct json_object *d, *changed;
	int64_t version = 0;
	bool active = true, still_owner, ends_sessions;
	int rc;

	if ((rc = get_valid(s, id, &cur, err)) != GACP_OK)
		return rc;
	if (!can_manage(s, cur))
		return refuse_manage(err);
	memset(&patch, 0, sizeof(patch));
	svc_body_only(s, body, allowed);
	svc_body_version(s, body, &version);
	patch.display_name = nullable_text(s, body, "display_name",
	    DISPLAY_NAME_MAX, &patch.set_display_name);
	patch.email = nullable_text(s, body, "email", EMAIL_MAX,
	    &patch.set_email);
	if (patch.email != NULL && !email_ok(patch.email))
		svc_field_error(s, "email", "invalid_format",
		    "must be an e-mail address");
	patch.roles_json = read_roles(s, body, false);
	if (svc_body_has(body, "is_active")) {
		if (!json_get_bool(body, "is_active", &active))
			svc_field_error(s, "is_active", "invalid_type",
			    "must be a boolean");
		else
			patch.is_active = active ? "true" : "false";
	}
	patch.metadata = read_metadata(s, body);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	still_owner = active && (patch.roles_json == NULL ?
	    has_role(cur, "tenant_owner") :
	    strstr(patch.roles_json, "\"tenant_owner\"") != NULL);
	if ((rc = keeps_an_owner(s, cur, still_owner, err)) != GACP_OK)
		return rc;
	rc = user_store_update(&s->app->db, s->a, cur->id, version, &patch,
	    svc_actor_uuid(s), out, err);
	if (rc != GACP_OK)
		return rc;
	ends_sessions = patch.roles_json != NULL || !active;
	if (ends_sessions && (rc = end_sessions(s, cur->id, err)) != GACP_OK)
		return rc;
	d = svc_details(s);
	changed = json_object_new_array();
	json_object_object_foreach(body, key, val) {
		(void)val;
		if (strcmp(key, "version") != 0)
			json_object_array_add(changed, json_object_new_string(key));
	}
	json_object_object_add(d, "changed", changed);
	if (patch.roles_json != NULL)
		json_object_object_add(d, "roles", roles_json(patch.roles_json));
	if (patch.is_active != NULL)
		json_object_object_add(d, "is_active",
		    json_object_new_boolean(active));
	return record(s, "user.update", cur->id, d, err);
}

int
users_delete(struct svc *s, const char *id, const char *version,
    struct gacp_err *err)
{
	struct user_row *cur;
	struct json_object *d;
	int64_t ver;
	int rc;

	if ((rc = get_valid(s, id, &cur, err)) != GACP_OK)
		return rc;
	if ((rc = svc_version_param(s, version, &ver, err)) != GACP_OK)
		return rc;
	if (!can_manage(s, cur))
		return refuse_manage(err);
	if (s->who->kind == PRINCIPAL_USER && strcmp(s->who->id, cur->id) == 0)
		return gacp_err_set(err, GACP_ECONFLICT, "cannot_delete_self",
		    "you cannot delete your own account");
	if ((rc = keeps_an_owner(s, cur, false, err)) != GACP_OK)
		return rc;
	if ((rc = user_store_delete(&s->app->db, s->a, cur->id, ver,
	    svc_actor_uuid(s), err)) != GACP_OK)
		return rc;
	if ((rc = end_sessions(s, cur->id, err)) != GACP_OK)
		return rc;
	d = svc_details(s);
	json_object_object_add(d, "username", json_object_new_string(cur->username));
	return record(s, "user.delete", cur->id, d, err);
}

int
users_set_password(struct svc *s, const char *id, struct json_object *body,
    struct gacp_err *err)
{
	static const char *const allowed[] = { "password", "current_password",
	    "must_change_password", NULL };
	const struct password_hasher *h;
	struct user_row *cur;
	struct json_object *d;
	const char *password, *current;
	char hash[PASSWORD_HASH_SIZE];
	bool self, must_change = true;
	int rc;

	char uid[TENANCY_UUID_LEN + 1];

	self = s->who->kind == PRINCIPAL_USER && tenancy_uuid_norm(id, uid) &&
	    strcmp(s->who->id, uid) == 0;
	/* Someone else's password: users:write and rank, like any change. */
	if (!self && s->who->kind != PRINCIPAL_SYSTEM) {
		struct rbac_principal rp;
		principal_rbac(s->who, &rp);
		if (rbac_check(RBAC_AUTHORIZED, "users:write", &rp,
		    s->now_s).status != RBAC_ALLOW)
			return gacp_err_set(err, GACP_EFORBIDDEN, "forbidden",
			    "you may change only your own password");
	}
	if ((rc = get_valid(s, id, &cur, err)) != GACP_OK)
		return rc;
	if (!self && !can_manage(s, cur))
		return refuse_manage(err);
	if ((rc = tenant_policy(s, err)) != GACP_OK ||
	    (rc = tenancy_hasher(s->app, s->policy.bcrypt_cost, &h, err)) !=
	    GACP_OK)
		return rc;
	svc_body_only(s, body, allowed);
	password = svc_body_str(s, body, "password", PASSWORD_MAX_BYTES,
	    SVC_REQUIRED | SVC_RAW);
	if (password != NULL)
		check_password(s, "password", password);
	current = svc_body_str(s, body, "current_password", PASSWORD_MAX_BYTES,
	    self ? SVC_REQUIRED | SVC_RAW : SVC_RAW);
	if (!self && svc_body_has(body, "must_change_password") &&
	    !json_get_bool(body, "must_change_password", &must_change))
		svc_field_error(s, "must_change_password", "invalid_type",
		    "must be a boolean");
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if (self) {
		if (password_verify(h, current, cur->password_hash, err) !=
		    GACP_OK) {
			svc_field_error(s, "current_password", "incorrect",
			    "is not your current password");
			return svc_check_fields(s, err);
		}
		if (strcmp(current, password) == 0) {
			svc_field_error(s, "password", "password_reused",
			    "must differ from the current password");
			return svc_check_fields(s, err);
		}
		must_change = false;
	}
	if ((rc = password_hash(h, password, hash, err)) != GACP_OK)
		return rc;
	rc = user_store_set_password(&s->app->db, s->a, cur->id, hash,
	    must_change, svc_actor_uuid(s), err);
	explicit_bzero(hash, sizeof(hash));
	if (rc != GACP_OK || (rc = end_sessions(s, cur->id, err)) != GACP_OK)
		return rc;
	d = svc_details(s);
	json_object_object_add(d, "must_change_password",
	    json_object_new_boolean(must_change));
	return record(s, self ? "user.password_change" : "user.password_reset",
	    cur->id, d, err);
}

int
users_unlock(struct svc *s, const char *id, bool *was_locked,
    struct gacp_err *err)
{
	struct user_row *cur;
	struct json_object *d;
	int rc;

	if ((rc = get_valid(s, id, &cur, err)) != GACP_OK)
		return rc;
	if (!can_manage(s, cur))
		return refuse_manage(err);
	if ((rc = guard_unlock(&s->app->cache, s->a, s->tenant_id,
	    cur->username, was_locked, err)) != GACP_OK)
		return rc;
	d = svc_details(s);
	json_object_object_add(d, "username", json_object_new_string(cur->username));
	json_object_object_add(d, "was_locked", json_object_new_boolean(*was_locked));
	return record(s, "user.unlock", cur->id, d, err);
}
