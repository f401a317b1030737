/* auth.c - login, refresh-token rotation, logout and /me (see auth.h). */
#include "tenancy/auth.h"
#include "tenancy/audit.h"
#include "tenancy/guard.h"
#include "tenancy/render.h"
#include "tenancy/tenancy.h"
#include "common/arena.h"
#include "common/log.h"
#include "security/crypto.h"
#include "store/apikey_store.h"
#include "store/tenant_store.h"
#include "store/token_store.h"
#include "store/user_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFRESH_RANDOM_BYTES 32

static void
put_json(void *p)
{
	json_object_put(p);
}

static void
free_heap(void *p)
{
	free(p);
}

/* A new opaque refresh token and its storage hash. */
static int
new_refresh_token(struct svc *s, char **token, char hash[65],
    struct gacp_err *err)
{
	unsigned char raw[REFRESH_RANDOM_BYTES];
	char b64[64];
	int rc;

	if ((rc = crypto_random_bytes(raw, sizeof(raw), err)) != GACP_OK)
		return rc;
	crypto_base64_encode(CRYPTO_B64_URL, raw, sizeof(raw), b64, sizeof(b64));
	explicit_bzero(raw, sizeof(raw));
	*token = arena_sprintf(s->a, "%s%s", AUTH_REFRESH_TAG, b64);
	explicit_bzero(b64, sizeof(b64));
	crypto_sha256_hex(*token, strlen(*token), hash);
	return GACP_OK;
}

/* Exact shape of a presented refresh token: the tag and the canonical
 * base64url of 32 bytes.  Anything else is not worth a database query. */
static bool
refresh_token_shape_ok(const char *t)
{
	unsigned char raw[REFRESH_RANDOM_BYTES + 4];
	size_t n;

	if (t == NULL || strlen(t) != AUTH_REFRESH_LEN ||
	    strncmp(t, AUTH_REFRESH_TAG, AUTH_REFRESH_TAG_LEN) != 0)
		return false;
	return crypto_base64_decode(CRYPTO_B64_URL, t + AUTH_REFRESH_TAG_LEN,
	    AUTH_REFRESH_LEN - AUTH_REFRESH_TAG_LEN, raw, sizeof(raw), &n) ==
	    GACP_OK && n == REFRESH_RANDOM_BYTES;
}

static int
roles_of(const struct user_row *u, enum rbac_role *roles, size_t *n)
{
	size_t i;

	*n = 0;
	for (i = 0; i < u->nroles && *n < RBAC_ROLE_COUNT; i++)
		if (rbac_role_from_string(u->roles[i], &roles[*n]))
			(*n)++;
	return *n > 0 ? GACP_OK : GACP_EAUTH;
}

/* Access token for u plus a refresh token of family (NULL: new session). */
static int
issue(struct svc *s, const struct user_row *u, const char *family,
    int64_t session_started_s, struct auth_tokens *out, struct gacp_err *err)
{
	struct token_subject subj;
	struct token_claims claims;
	enum rbac_role roles[RBAC_ROLE_COUNT];
	char hash[65], *jwt = NULL, *family_out;
	int64_t started = family ? session_started_s : s->now_s;
	int rc;

	if (s->app->jwt_keys == NULL)
		return gacp_err_set(err, GACP_EINTERNAL, "jwt_keys_missing",
		    "security.jwt_keys_file is not configured");
	if (roles_of(u, roles, &subj.nroles) != GACP_OK)
		return gacp_err_set(err, GACP_EAUTH, "invalid_credentials",
		    "invalid credentials");
	subj.sub = u->id;
	subj.tenant_id = u->tenant_id;
	subj.roles = roles;
	if ((rc = token_issue(s->app->jwt_keys, &subj, s->now_s,
	    s->policy.access_ttl_s, &jwt, &claims, err)) != GACP_OK)
		return rc;
	arena_defer(s->a, free_heap, jwt);
	/* Tracked before it leaves, so a change to the user can revoke it. */
	if ((rc = guard_track_jti(&s->app->cache, s->a, u->tenant_id, u->id,
	    claims.jti, claims.exp - s->now_s + TOKEN_DEFAULT_LEEWAY_S, err)) !=
	    GACP_OK)
		return rc;
	out->access_token = jwt;
	out->expires_in_s = claims.exp - s->now_s;
	if ((rc = new_refresh_token(s, &out->refresh_token, hash, err)) !=
	    GACP_OK)
		return rc;
	rc = token_store_insert(&s->app->db, s->a, u->tenant_id, u->id, family,
	    started, hash, s->policy.session_idle_s, s->policy.refresh_max_s,
	    &family_out, err);
	if (rc != GACP_OK)
		return rc;
	out->refresh_expires_in_s = s->policy.session_idle_s;
	if (started + s->policy.refresh_max_s - s->now_s <
	    out->refresh_expires_in_s)
		out->refresh_expires_in_s = started + s->policy.refresh_max_s -
		    s->now_s;
	return GACP_OK;
}

/* Record a failed login and commit it (the failure changes nothing else,
 * but the trail must keep it). */
static int
login_failed(struct svc *s, const char *tenant_id, const char *username,
    const char *user_id, const char *reason, int result, const char *code,
    const char *message, struct gacp_err *err)
{
	struct audit_event ev;
	struct json_object *d = svc_details(s);
	struct gacp_err ierr;

	json_object_object_add(d, "username", json_object_new_string(username));
	json_object_object_add(d, "reason", json_object_new_string(reason));
	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = tenant_id;
	ev.action = "auth.login";
	ev.outcome = "failure";
	ev.resource_type = "user";
	ev.resource_id = user_id;
	ev.details = d;
	ev.actor_type = "anonymous";
	if (audit_record(s, &ev, &ierr) != GACP_OK ||
	    svc_commit(s, &ierr) != GACP_OK) {
		*err = ierr;
		return ierr.result;
	}
	log_msg(LOG_INFO, "auth_login_failed", "tenant %s: %s", tenant_id,
	    reason);
	return gacp_err_set(err, result, code, "%s", message);
}

/* Count a failure towards the lockout; audit the lockout when it starts. */
static int
count_failure(struct svc *s, const char *tenant_id, const char *username,
    const char *user_id, struct gacp_err *err)
{
	struct audit_event ev;
	struct json_object *d;
	bool locked_now;
	int rc;

	rc = guard_login_failed(&s->app->cache, s->a, tenant_id, username,
	    s->policy.lockout_threshold, s->policy.lockout_s, &locked_now, err);
	if (rc != GACP_OK || !locked_now)
		return rc;
	d = svc_details(s);
	json_object_object_add(d, "username", json_object_new_string(username));
	json_object_object_add(d, "locked_for_s",
	    json_object_new_int64(s->policy.lockout_s));
	json_object_object_add(d, "failures",
	    json_object_new_int64(s->policy.lockout_threshold));
	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = tenant_id;
	ev.action = "auth.lockout";
	ev.outcome = "denied";
	ev.resource_type = "user";
	ev.resource_id = user_id;
	ev.details = d;
	ev.actor_type = "anonymous";
	return audit_record(s, &ev, err);
}

/* Change an expired password during login (new_password). */
static int
renew_password(struct svc *s, const struct password_hasher *h,
    struct user_row *u, const char *password, const char *new_password,
    struct gacp_err *err)
{
	struct password_policy_result pr;
	struct audit_event ev;
	char hash[PASSWORD_HASH_SIZE];
	size_t i;
	int rc;

	if (password_policy_check(new_password, &s->policy.password, &pr) !=
	    GACP_OK) {
		for (i = 0; i < pr.nerrors; i++)
			svc_field_error(s, "new_password", pr.errors[i].code,
			    "%s", pr.errors[i].message);
		return svc_check_fields(s, err);
	}
	if (strcmp(password, new_password) == 0) {
		svc_field_error(s, "new_password", "password_reused",
		    "must differ from the current password");
		return svc_check_fields(s, err);
	}
	if ((rc = password_hash(h, new_password, hash, err)) != GACP_OK)
		return rc;
	rc = user_store_set_password(&s->app->db, s->a, u->id, hash, false,
	    u->id, err);
	explicit_bzero(hash, sizeof(hash));
	if (rc != GACP_OK)
		return rc;
	/* Sessions opened with the old password end with it. */
	if ((rc = token_store_revoke_user(&s->app->db, s->a, u->id, NULL,
	    err)) != GACP_OK ||
	    (rc = guard_revoke_user(&s->app->cache, s->a, u->tenant_id, u->id,
	    s->policy.access_ttl_s + TOKEN_DEFAULT_LEEWAY_S, err)) !=
	    GACP_OK)
		return rc;
	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = u->tenant_id;
	ev.action = "user.password_change";
	ev.resource_type = "user";
	ev.resource_id = u->id;
	ev.actor_type = "user";
	ev.actor_id = u->id;
	return audit_record(s, &ev, err);
}

int
auth_login(struct svc *s, struct json_object *body, struct auth_tokens *out,
    struct gacp_err *err)
{
	const struct password_hasher *h;
	const char *slug, *username, *password, *new_password;
	bool renewed = false;
	struct tenant_ref tenant;
	struct user_row *user = NULL;
	struct audit_event ev;
	struct gacp_err verr;
	char tenant_id[37];
	bool known_tenant, locked = false, verified = false;
	int rc;

	memset(out, 0, sizeof(*out));
	slug = svc_body_str(s, body, "tenant", 63, SVC_REQUIRED);
	username = svc_body_str(s, body, "username", 64, SVC_REQUIRED);
	password = svc_body_str(s, body, "password", PASSWORD_MAX_BYTES,
	    SVC_REQUIRED | SVC_RAW);
	new_password = svc_body_str(s, body, "new_password", PASSWORD_MAX_BYTES,
	    SVC_RAW);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if ((rc = tenancy_hasher(s->app, s->policy.bcrypt_cost, &h, err)) !=
	    GACP_OK)
		return rc;

	if ((rc = svc_begin(s, NULL, err)) != GACP_OK)
		return rc;
	known_tenant = tenancy_slug_ok(slug);
	if (known_tenant) {
		rc = tenant_store_find_slug(&s->app->db, s->a, slug, &tenant, err);
		if (rc == GACP_ENOTFOUND)
			known_tenant = false;
		else if (rc != GACP_OK)
			return rc;
	}
	/* Events of an unknown tenant go to the nil tenant's trail. */
	snprintf(tenant_id, sizeof(tenant_id), "%s",
	    known_tenant ? tenant.id : TENANCY_NIL_UUID);
	if ((rc = svc_bind(s, tenant_id, err)) != GACP_OK)
		return rc;
	if (known_tenant && tenancy_username_ok(username)) {
		rc = user_store_by_username(&s->app->db, s->a, username, &user,
		    err);
		if (rc != GACP_OK && rc != GACP_ENOTFOUND)
			return rc;
	}
	if (tenancy_username_ok(username) &&
	    (rc = guard_is_locked(&s->app->cache, s->a, tenant_id, username,
	    &locked, err)) != GACP_OK)
		return rc;

	/* Exactly one bcrypt run on every path: same time for every answer. */
	gacp_err_clear(&verr);
	if (user != NULL && !locked)
		verified = password_verify(h, password, user->password_hash,
		    &verr) == GACP_OK;
	else
		(void)password_verify_dummy(h, password, &verr);
	if (verr.result == GACP_EINTERNAL)
		log_msg(LOG_ERROR, "auth_bad_hash", "user %s: %s",
		    user ? user->id : "-", verr.msg);

	if (locked)
		return login_failed(s, tenant_id, username, user ? user->id : NULL,
		    "locked", GACP_EAUTH, "invalid_credentials",
		    "invalid credentials", err);
	if (!verified || !user->is_active) {
		const char *reason = !known_tenant ? "unknown_tenant" :
		    user == NULL ? "unknown_user" : !verified ? "bad_password" :
		    "inactive_user";
		if (tenancy_username_ok(username) &&
		    (rc = count_failure(s, tenant_id, username,
		    user ? user->id : NULL, err)) != GACP_OK)
			return rc;
		return login_failed(s, tenant_id, username, user ? user->id : NULL,
		    reason, GACP_EAUTH, "invalid_credentials",
		    "invalid credentials", err);
	}
	/* The credentials are right: from here on the caller may learn the
	 * account's state. */
	if ((rc = guard_login_succeeded(&s->app->cache, s->a, tenant_id,
	    username, err)) != GACP_OK)
		return rc;
	if (strcmp(tenant.status, "active") != 0)
		return login_failed(s, tenant_id, username, user->id,
		    "tenant_suspended", GACP_EFORBIDDEN, "tenant_suspended",
		    "this tenant is suspended", err);
	if (user->must_change_password || password_expired(&s->policy.password,
	    user->password_changed_s, s->now_s)) {
		if (new_password == NULL)
			return login_failed(s, tenant_id, username, user->id,
			    "password_expired", GACP_EFORBIDDEN,
			    "password_expired", "the password has expired; log "
			    "in again with new_password to set a new one", err);
		if ((rc = renew_password(s, h, user, password, new_password,
		    err)) != GACP_OK)
			return rc;
		renewed = true;
	}
	{
		char rehash[PASSWORD_HASH_SIZE];
		bool need = !renewed &&
		    password_needs_rehash(h, user->password_hash);
		if (need && password_hash(h, password, rehash, err) != GACP_OK)
			return err->result;
		rc = user_store_touch_login(&s->app->db, s->a, user->id,
		    need ? rehash : NULL, err);
		explicit_bzero(rehash, sizeof(rehash));
		if (rc != GACP_OK)
			return rc;
	}
	if ((rc = issue(s, user, NULL, 0, out, err)) != GACP_OK)
		return rc;
	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = tenant_id;
	ev.action = "auth.login";
	ev.resource_type = "user";
	ev.resource_id = user->id;
	ev.actor_type = "user";
	ev.actor_id = user->id;
	if ((rc = audit_record(s, &ev, err)) != GACP_OK)
		return rc;
	return svc_commit(s, err);
}

static int
refresh_refused(struct svc *s, struct gacp_err *err)
{
	svc_rollback(s);
	return gacp_err_set(err, GACP_EAUTH, "invalid_token",
	    "the refresh token is not valid");
}

/* A rotated token came back: someone holds a copy.  Revoke the family and
 * keep the evidence. */
static int
refresh_reused(struct svc *s, const struct refresh_row *t,
    struct gacp_err *err)
{
	struct audit_event ev;
	struct json_object *d = svc_details(s);
	int64_t revoked = 0;
	int rc;

	if ((rc = token_store_revoke_family(&s->app->db, s->a, t->family_id,
	    &revoked, err)) != GACP_OK)
		return rc;
	json_object_object_add(d, "family_id",
	    json_object_new_string(t->family_id));
	json_object_object_add(d, "revoked_tokens",
	    json_object_new_int64(revoked));
	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = t->tenant_id;
	ev.action = "auth.token_reuse";
	ev.outcome = "denied";
	ev.resource_type = "user";
	ev.resource_id = t->user_id;
	ev.details = d;
	ev.actor_type = "anonymous";
	if ((rc = audit_record(s, &ev, err)) != GACP_OK ||
	    (rc = svc_commit(s, err)) != GACP_OK)
		return rc;
	log_msg(LOG_WARN, "auth_refresh_reuse", "tenant %s family %s revoked",
	    t->tenant_id, t->family_id);
	return gacp_err_set(err, GACP_EAUTH, "invalid_token",
	    "the refresh token is not valid");
}

int
auth_refresh(struct svc *s, struct json_object *body, struct auth_tokens *out,
    struct gacp_err *err)
{
	const char *token;
	char hash[65], tenant_id[37], id[37];
	struct refresh_row *t;
	struct user_row *user;
	struct tenant_access tenant;
	struct audit_event ev;
	int rc;

	memset(out, 0, sizeof(*out));
	token = svc_body_str(s, body, "refresh_token", 128,
	    SVC_REQUIRED | SVC_RAW);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if (!refresh_token_shape_ok(token))
		return gacp_err_set(err, GACP_EAUTH, "invalid_token",
		    "the refresh token is not valid");
	crypto_sha256_hex(token, strlen(token), hash);
	if ((rc = svc_begin(s, NULL, err)) != GACP_OK)
		return rc;
	rc = token_store_find(&s->app->db, s->a, hash, tenant_id, id, err);
	if (rc == GACP_ENOTFOUND)
		return refresh_refused(s, err);
	if (rc != GACP_OK || (rc = svc_bind(s, tenant_id, err)) != GACP_OK ||
	    (rc = token_store_lock(&s->app->db, s->a, id, &t, err)) != GACP_OK)
		return rc == GACP_ENOTFOUND ? refresh_refused(s, err) : rc;
	if (t->rotated && !t->revoked)
		return refresh_reused(s, t, err);
	if (t->revoked || t->expired)
		return refresh_refused(s, err);
	rc = user_store_get(&s->app->db, s->a, t->user_id, &user, err);
	if (rc == GACP_ENOTFOUND || (rc == GACP_OK && !user->is_active)) {
		/* The account is gone: so is every session of it. */
		if (token_store_revoke_family(&s->app->db, s->a, t->family_id,
		    NULL, err) != GACP_OK || svc_commit(s, err) != GACP_OK)
			return err->result;
		return gacp_err_set(err, GACP_EAUTH, "invalid_token",
		    "the refresh token is not valid");
	}
	if (rc != GACP_OK)
		return rc;
	if ((rc = tenant_store_access(&s->app->db, s->a, tenant_id, &tenant,
	    err)) != GACP_OK)
		return rc == GACP_ENOTFOUND ? refresh_refused(s, err) : rc;
	if (tenant.is_deleted)
		return refresh_refused(s, err);
	if (strcmp(tenant.status, "active") != 0) {
		svc_rollback(s);
		return gacp_err_set(err, GACP_EFORBIDDEN, "tenant_suspended",
		    "this tenant is suspended");
	}
	if ((rc = token_store_mark_rotated(&s->app->db, s->a, t->id, err)) !=
	    GACP_OK)
		return rc;
	if ((rc = issue(s, user, t->family_id, t->session_started_s, out,
	    err)) != GACP_OK)
		return rc;
	if (out->refresh_expires_in_s <= 0)
		return refresh_refused(s, err);
	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = tenant_id;
	ev.action = "auth.refresh";
	ev.resource_type = "user";
	ev.resource_id = user->id;
	ev.actor_type = "user";
	ev.actor_id = user->id;
	if ((rc = audit_record(s, &ev, err)) != GACP_OK)
		return rc;
	return svc_commit(s, err);
}

int
auth_logout(struct svc *s, struct json_object *body, struct gacp_err *err)
{
	const struct principal *p = s->who;
	const char *token = NULL;
	struct json_object *d;
	struct audit_event ev;
	struct refresh_row *t;
	char hash[65], tenant_id[37], id[37];
	int64_t revoked = 0;
	int rc;

	if (p->kind != PRINCIPAL_USER)
		return gacp_err_set(err, GACP_EFORBIDDEN, "not_a_session",
		    "only a user's session can log out; revoke API keys instead");
	if (body != NULL)
		token = svc_body_str(s, body, "refresh_token", 128, SVC_RAW);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	/* The access token stays denied for as long as it would live. */
	if ((rc = guard_deny_jti(&s->app->cache, s->a, p->tenant_id, p->jti,
	    p->expires_at_s - s->now_s + TOKEN_DEFAULT_LEEWAY_S, err)) !=
	    GACP_OK)
		return rc;
	/* Only the caller's own refresh token is revoked; any other value is
	 * ignored without saying why (no oracle for other people's tokens). */
	if (refresh_token_shape_ok(token)) {
		crypto_sha256_hex(token, strlen(token), hash);
		rc = token_store_find(&s->app->db, s->a, hash, tenant_id, id, err);
		if (rc == GACP_OK && strcmp(tenant_id, p->tenant_id) == 0) {
			rc = token_store_lock(&s->app->db, s->a, id, &t, err);
			if (rc == GACP_OK && strcmp(t->user_id, p->id) == 0)
				rc = token_store_revoke_family(&s->app->db, s->a,
				    t->family_id, &revoked, err);
		}
		if (rc != GACP_OK && rc != GACP_ENOTFOUND)
			return rc;
	}
	d = svc_details(s);
	json_object_object_add(d, "jti", json_object_new_string(p->jti));
	json_object_object_add(d, "revoked_refresh_tokens",
	    json_object_new_int64(revoked));
	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = p->tenant_id;
	ev.action = "auth.logout";
	ev.resource_type = "user";
	ev.resource_id = p->id;
	ev.details = d;
	if ((rc = audit_record(s, &ev, err)) != GACP_OK)
		return rc;
	return svc_commit(s, err);
}

int
auth_me(struct svc *s, struct json_object **out, struct gacp_err *err)
{
	const struct principal *p = s->who;
	struct json_object *o, *t;
	struct tenant_row *tenant;
	int rc;

	if ((rc = tenant_store_get(&s->app->db, s->a, p->tenant_id, &tenant,
	    err)) != GACP_OK)
		return rc == GACP_ENOTFOUND ? gacp_err_set(err, GACP_EAUTH,
		    "unauthenticated", "the credential's tenant is gone") : rc;
	o = json_object_new_object();
	arena_defer(s->a, put_json, o);
	t = json_object_new_object();
	json_object_object_add(t, "id", json_object_new_string(tenant->id));
	json_object_object_add(t, "slug", json_object_new_string(tenant->slug));
	json_object_object_add(t, "name", json_object_new_string(tenant->name));
	json_object_object_add(t, "is_platform",
	    json_object_new_boolean(tenant->is_platform));
	json_object_object_add(o, "tenant", t);
	if (p->kind == PRINCIPAL_USER) {
		struct user_row *u;
		struct json_object *token;
		rc = user_store_get(&s->app->db, s->a, p->id, &u, err);
		if (rc != GACP_OK)
			return rc == GACP_ENOTFOUND ? gacp_err_set(err, GACP_EAUTH,
			    "unauthenticated", "the user is gone") : rc;
		json_object_object_add(o, "credential",
		    json_object_new_string("token"));
		json_object_object_add(o, "user", render_user(u));
		token = json_object_new_object();
		json_object_object_add(token, "issued_at",
		    json_object_new_int64(p->issued_at_s));
		json_object_object_add(token, "expires_at",
		    json_object_new_int64(p->expires_at_s));
		json_object_object_add(o, "token", token);
	} else {
		struct apikey_row *k;
		rc = apikey_store_get(&s->app->db, s->a, p->id, &k, err);
		if (rc != GACP_OK)
			return rc == GACP_ENOTFOUND ? gacp_err_set(err, GACP_EAUTH,
			    "unauthenticated", "the API key is gone") : rc;
		json_object_object_add(o, "credential",
		    json_object_new_string("api_key"));
		json_object_object_add(o, "api_key", render_apikey(k));
	}
	if ((rc = svc_commit(s, err)) != GACP_OK)
		return rc;
	*out = o;
	return GACP_OK;
}
