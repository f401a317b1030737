/* svc.c - system configuration service (see svc.h). */
#include "sysconfig/svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/json.h"
#include "common/util.h"
#include "security/crypto.h"
#include "security/rbac.h"
#include "store/cache.h"
#include "store/db.h"
#include "store/pgrow.h"
#include "sysconfig/value.h"
#include "tenancy/audit.h"

#define DESCRIPTION_MAX 1000
#define CATEGORY_MAX    64

static void
put_json(void *p)
{
	json_object_put(p);
}

static struct json_object *
owned(struct svc *s, struct json_object *o)
{
	arena_defer(s->a, put_json, o);
	return o;
}

static bool
platform_actor(const struct svc *s)
{
	return s->who->kind == PRINCIPAL_SYSTEM ||
	    principal_is_platform_admin(s->who);
}

/* Validation problems of value.c become the 422 field errors. */
static void
add_field_error(void *ctx, const char *field, const char *code,
    const char *msg)
{
	svc_field_error(ctx, field, code, "%s", msg);
}

static void
aad_parts(struct crypto_aad aad[5], const char *tenant_id, const char *id,
    const char *environment, const char *key)
{
	aad[0].data = tenant_id;
	aad[0].len = strlen(tenant_id);
	aad[1].data = "system_config";
	aad[1].len = 13;
	aad[2].data = id;
	aad[2].len = strlen(id);
	aad[3].data = environment;
	aad[3].len = strlen(environment);
	aad[4].data = key;
	aad[4].len = strlen(key);
}

int
syscfg_seal(const struct keyring *kr, const char *tenant_id, const char *id,
    const char *environment, const char *key, const char *plain,
    char **token_out, struct gacp_err *err)
{
	struct crypto_aad aad[5];

	if (kr == NULL)
		return gacp_err_set(err, GACP_EINTERNAL, "no_master_key",
		    "no master key configured (security.master_key_file)");
	aad_parts(aad, tenant_id, id, environment, key);
	return crypto_envelope_seal(kr, plain, strlen(plain), aad, 5,
	    token_out, err);
}

int
syscfg_open(const struct keyring *kr, struct arena *a, const char *tenant_id,
    const char *id, const char *environment, const char *key,
    const char *token, char **plain_out, struct gacp_err *err)
{
	struct crypto_aad aad[5];
	unsigned char *plain = NULL;
	size_t len = 0;
	int rc;

	*plain_out = NULL;
	if (kr == NULL)
		return gacp_err_set(err, GACP_EINTERNAL, SYSCFG_ERR_UNREADABLE,
		    "no master key configured (security.master_key_file)");
	aad_parts(aad, tenant_id, id, environment, key);
	if ((rc = crypto_envelope_open(kr, token, aad, 5, &plain, &len,
	    err)) != GACP_OK)
		return rc;
	if (memchr(plain, '\0', len) != NULL) {
		crypto_secret_free(plain, len);
		return gacp_err_set(err, GACP_EINVAL, SYSCFG_ERR_UNREADABLE,
		    "the decrypted value is not text");
	}
	*plain_out = arena_strndup(a, (const char *)plain, len);
	crypto_secret_free(plain, len);
	return GACP_OK;
}

void
syscfg_bump(struct gacp_ctx *app, struct arena *a)
{
	struct gacp_err err;
	redisReply *r;

	gacp_err_clear(&err);
	/* Failure leaves the caches to their TTL (config.cache_ttl_ms). */
	(void)cache_command(&app->cache, a, &r, &err, "INCR %s",
	    SYSCFG_VERSION_KEY);
}

static int
record(struct svc *s, const char *tenant_id, const char *action,
    const char *outcome, const char *row_id, struct json_object *d,
    struct gacp_err *err)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = tenant_id;
	ev.action = action;
	ev.outcome = outcome;
	ev.resource_type = "config";
	ev.resource_id = row_id;
	ev.details = d;
	return audit_record(s, &ev, err);
}

static struct json_object *
details(struct svc *s, const char *scope, const char *environment,
    const char *key)
{
	struct json_object *d = owned(s, json_object_new_object());

	json_object_object_add(d, "config_key", json_object_new_string(key));
	json_object_object_add(d, "environment",
	    json_object_new_string(environment));
	json_object_object_add(d, "scope", json_object_new_string(
	    scope != NULL && strcmp(scope, "platform") == 0 ? "platform" :
	    "tenant"));
	return d;
}

/* Record a security event that must outlive the failing request: commit
 * it on its own, then hand back the error. */
static int
record_and_commit(struct svc *s, const char *tenant_id, const char *action,
    const char *outcome, const char *row_id, struct json_object *d,
    const struct gacp_err *cause, struct gacp_err *err)
{
	struct gacp_err aerr;

	gacp_err_clear(&aerr);
	if (record(s, tenant_id, action, outcome, row_id, d, &aerr) != GACP_OK ||
	    svc_commit(s, &aerr) != GACP_OK) {
		svc_rollback(s);
		*err = aerr;
		return aerr.result;
	}
	*err = *cause;
	return cause->result;
}

int
syscfg_scope(struct svc *s, const char *scope,
    char tenant_out[TENANCY_UUID_LEN + 1], struct gacp_err *err)
{
	PGresult *res;
	int rc;

	if (scope == NULL || strcmp(scope, "tenant") == 0) {
		if (s->tenant_id[0] == '\0')
			return gacp_err_set(err, GACP_EINVAL, "no_tenant",
			    "no tenant to act in");
		snprintf(tenant_out, TENANCY_UUID_LEN + 1, "%s", s->tenant_id);
		if (!s->app->db.in_tx)
			return svc_begin(s, s->tenant_id, err);
		return svc_bind(s, s->tenant_id, err);
	}
	if (strcmp(scope, "platform") != 0) {
		svc_field_error(s, "scope", "invalid_value",
		    "scope is tenant or platform");
		return svc_check_fields(s, err);
	}
	if (!platform_actor(s))
		return gacp_err_set(err, GACP_EFORBIDDEN, "forbidden",
		    "the platform scope is for platform administrators");
	if (!s->app->db.in_tx && (rc = svc_begin(s, NULL, err)) != GACP_OK)
		return rc;
	if ((rc = db_set_platform_admin(&s->app->db, s->a, err)) != GACP_OK)
		return rc;
	if ((rc = db_exec(&s->app->db, s->a, "SELECT id::text FROM tenants"
	    " WHERE is_platform AND NOT is_deleted ORDER BY created_at LIMIT 1",
	    0, NULL, &res, err)) != GACP_OK)
		return rc;
	if (PQntuples(res) != 1)
		return gacp_err_set(err, GACP_ENOTFOUND, "no_platform_tenant",
		    "there is no platform tenant (gacpctl tenant create "
		    "--platform)");
	snprintf(tenant_out, TENANCY_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
	return svc_bind(s, tenant_out, err);
}

static void
check_environment(struct svc *s, const char *environment, bool required)
{
	if (environment == NULL) {
		if (required)
			svc_field_error(s, "environment", "required",
			    "environment is required");
		return;
	}
	if (!syscfg_environment_ok(environment))
		svc_field_error(s, "environment", "invalid_value",
		    "environment is development, staging or production");
}

static bool
category_ok(const char *c)
{
	size_t i, n = strlen(c);

	if (n == 0 || n > CATEGORY_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char ch = c[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');

		if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
			return false;
	}
	return true;
}

int
syscfg_list(struct svc *s, const char *scope, const char *environment,
    const char *category, struct syscfg_row **rows, size_t *n,
    struct gacp_err *err)
{
	char tenant[TENANCY_UUID_LEN + 1];
	int rc;

	check_environment(s, environment, false);
	if (category != NULL && !category_ok(category))
		svc_field_error(s, "category", "invalid_format",
		    "categories are 1 to 64 of [a-z0-9_.-]");
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if ((rc = syscfg_scope(s, scope, tenant, err)) != GACP_OK)
		return rc;
	return syscfg_store_list(&s->app->db, s->a, environment, category,
	    rows, n, err);
}

/* The RESTRICTED check of a reveal; a refusal is audited. */
static int
reveal_allowed(struct svc *s, const char *tenant, const struct syscfg_row *r,
    struct json_object *d, struct gacp_err *err)
{
	struct rbac_principal rp;
	struct rbac_decision dec;
	struct gacp_err cause;

	if (s->who->kind == PRINCIPAL_SYSTEM)
		return GACP_OK;
	principal_rbac(s->who, &rp);
	dec = rbac_check(RBAC_RESTRICTED, "config:read", &rp, s->now_s);
	if (dec.status == RBAC_ALLOW)
		return GACP_OK;
	gacp_err_set(&cause, dec.status == RBAC_DENY_UNAUTHENTICATED ?
	    GACP_EAUTH : GACP_EFORBIDDEN, dec.code,
	    dec.status == RBAC_DENY_UNAUTHENTICATED ?
	    "log in again to reveal a secret" :
	    "revealing a secret needs a recent login of an owner or admin");
	return record_and_commit(s, tenant, "config.reveal", "denied", r->id, d,
	    &cause, err);
}

int
syscfg_get(struct svc *s, const char *scope, const char *environment,
    const char *key, bool reveal, struct syscfg_row **out, char **plain,
    struct gacp_err *err)
{
	char tenant[TENANCY_UUID_LEN + 1];
	struct json_object *d;
	struct gacp_err cause;
	int rc;

	*plain = NULL;
	if (environment == NULL)
		environment = "production";
	check_environment(s, environment, false);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if (!syscfg_key_ok(key))
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such configuration key");
	if ((rc = syscfg_scope(s, scope, tenant, err)) != GACP_OK)
		return rc;
	if ((rc = syscfg_store_get(&s->app->db, s->a, environment, key, out,
	    err)) != GACP_OK)
		return rc;
	if (!reveal || !(*out)->is_encrypted)
		return GACP_OK;
	d = details(s, scope, environment, key);
	if ((rc = reveal_allowed(s, tenant, *out, d, err)) != GACP_OK)
		return rc;
	gacp_err_clear(&cause);
	if (syscfg_open(s->app->master_keys, s->a, tenant, (*out)->id,
	    environment, key, (*out)->config_value, plain, &cause) != GACP_OK) {
		json_object_object_add(d, "reason",
		    json_object_new_string(cause.code));
		gacp_err_set(&cause, GACP_ECONFLICT, SYSCFG_ERR_UNREADABLE,
		    "the stored value cannot be decrypted (tampered, moved, or "
		    "its key is gone); set it again");
		return record_and_commit(s, tenant, "config.secret_unreadable",
		    "failure", (*out)->id, d, &cause, err);
	}
	return record(s, tenant, "config.reveal", NULL, (*out)->id, d, err);
}

static int64_t
parse_version_text(struct svc *s, const char *version)
{
	char *end;
	long long v;

	if (version == NULL)
		return -1;
	v = strtoll(version, &end, 10);
	if (version[0] < '1' || version[0] > '9' || *end != '\0' ||
	    strlen(version) > 18) {
		svc_field_error(s, "version", "invalid_type",
		    "must be a positive integer");
		return -1;
	}
	return v;
}

/* The body's fields merged over the current row (cur may be NULL). */
struct put_in {
	enum syscfg_type     type;
	bool                 type_ok;
	const char          *description;
	const char          *category;
	bool                 is_encrypted;
	bool                 is_system_config;
	struct json_object  *rules_in;     /* as given or stored */
	int64_t              version;      /* -1: not given */
};

static void
read_put(struct svc *s, struct json_object *body,
    const struct syscfg_row *cur, struct put_in *in)
{
	struct json_object *v;
	const char *type;

	memset(in, 0, sizeof(*in));
	in->version = -1;
	type = svc_body_str(s, body, "config_type", 16,
	    cur == NULL ? SVC_REQUIRED : 0);
	if (type == NULL && cur != NULL)
		type = cur->config_type;
	in->type_ok = type != NULL && syscfg_type_from_string(type, &in->type);
	if (type != NULL && !in->type_ok)
		svc_field_error(s, "config_type", "invalid_value",
		    "config_type is string, json, boolean, integer or float");

	in->description = cur ? cur->description : NULL;
	if (json_object_object_get_ex(body, "description", &v)) {
		in->description = v == NULL ? NULL :
		    svc_body_str(s, body, "description", DESCRIPTION_MAX, 0);
	}
	in->category = cur ? cur->category : "general";
	if (json_object_object_get_ex(body, "category", &v) && v != NULL) {
		const char *c = svc_body_str(s, body, "category", CATEGORY_MAX, 0);

		if (c != NULL && !category_ok(c))
			svc_field_error(s, "category", "invalid_format",
			    "categories are 1 to 64 of [a-z0-9_.-]");
		else if (c != NULL)
			in->category = c;
	}
	in->is_encrypted = cur ? cur->is_encrypted : false;
	if (json_object_object_get_ex(body, "is_encrypted", &v) &&
	    !json_get_bool(body, "is_encrypted", &in->is_encrypted))
		svc_field_error(s, "is_encrypted", "invalid_type",
		    "must be true or false");
	in->is_system_config = cur ? cur->is_system_config : false;
	if (json_object_object_get_ex(body, "is_system_config", &v) &&
	    !json_get_bool(body, "is_system_config", &in->is_system_config))
		svc_field_error(s, "is_system_config", "invalid_type",
		    "must be true or false");
	if (json_object_object_get_ex(body, "validation_rules", &v)) {
		in->rules_in = v;
	} else if (cur != NULL && cur->validation_rules != NULL) {
		struct gacp_err e;

		gacp_err_clear(&e);
		if (json_parse_arena(s->a, cur->validation_rules,
		    strlen(cur->validation_rules), &in->rules_in, &e) != GACP_OK)
			in->rules_in = NULL;
	}
	if (svc_body_has(body, "version")) {
		int64_t ver;

		if (!json_get_int64(body, "version", &ver) || ver < 1)
			svc_field_error(s, "version", "invalid_type",
			    "must be a positive integer");
		else
			in->version = ver;
	}
}

int
syscfg_put(struct svc *s, const char *scope, const char *environment,
    const char *key, struct json_object *body, struct syscfg_row **out,
    bool *created, struct gacp_err *err)
{
	static const char *const allowed[] = { "config_value", "config_type",
	    "description", "category", "is_encrypted", "is_system_config",
	    "validation_rules", "version", NULL };
	struct syscfg_report rep = { add_field_error, s, 0 };
	char tenant[TENANCY_UUID_LEN + 1], newid[37];
	struct syscfg_rules rules;
	struct syscfg_write w;
	struct syscfg_row *cur = NULL;
	struct json_object *value = NULL, *rules_json, *d;
	struct put_in in;
	char *canon = NULL, *sealed = NULL;
	int rc;

	memset(&rules, 0, sizeof(rules));
	*created = false;
	if (environment == NULL)
		environment = "production";
	check_environment(s, environment, false);
	if (!syscfg_key_ok(key))
		svc_field_error(s, "config_key", "invalid_format", "keys are 1 to "
		    "128 of [A-Za-z0-9_.:-], starting with a letter or digit");
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if ((rc = syscfg_scope(s, scope, tenant, err)) != GACP_OK)
		return rc;
	rc = syscfg_store_get(&s->app->db, s->a, environment, key, &cur, err);
	if (rc == GACP_ENOTFOUND)
		cur = NULL;
	else if (rc != GACP_OK)
		return rc;

	svc_body_only(s, body, allowed);
	read_put(s, body, cur, &in);
	if (!json_object_object_get_ex(body, "config_value", &value) ||
	    value == NULL)
		svc_field_error(s, "config_value", "required",
		    "config_value is required");
	/* Rules and value are only meaningful for a known type. */
	if (in.type_ok) {
		bool rules_ok = syscfg_rules_parse(in.rules_in, in.type, &rules,
		    &rep);

		if (value != NULL && syscfg_value_parse(in.type, value, &canon,
		    &rep) && rules_ok)
			(void)syscfg_value_check(in.type, &rules, canon, &rep);
	}
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		goto out;

	/* System configuration is the operators': tenants read it only. */
	if ((in.is_system_config || (cur != NULL && cur->is_system_config)) &&
	    !platform_actor(s)) {
		rc = gacp_err_set(err, GACP_EFORBIDDEN, "system_config",
		    "system configuration is changed by platform "
		    "administrators only");
		goto out;
	}
	if (in.version >= 0 && cur == NULL) {
		rc = gacp_err_set(err, GACP_ECONFLICT, "version_conflict",
		    "the key no longer exists; reload it");
		goto out;
	}
	if (cur != NULL && in.version >= 0 && in.version != cur->version) {
		rc = gacp_err_set(err, GACP_ECONFLICT, "version_conflict",
		    "the key is at version %lld; reload it",
		    (long long)cur->version);
		goto out;
	}

	if (cur != NULL)
		snprintf(newid, sizeof(newid), "%s", cur->id);
	else
		util_uuid_v4(newid);
	if (in.is_encrypted && (rc = syscfg_seal(s->app->master_keys, tenant,
	    newid, environment, key, canon, &sealed, err)) != GACP_OK)
		goto out;
	rules_json = owned(s, syscfg_rules_json(&rules));
	memset(&w, 0, sizeof(w));
	w.id = newid;
	w.environment = environment;
	w.config_key = key;
	w.config_value = in.is_encrypted ? sealed : canon;
	w.config_type = syscfg_type_name(in.type);
	w.description = in.description;
	w.category = in.category;
	w.is_encrypted = in.is_encrypted;
	w.is_system_config = in.is_system_config;
	w.validation_rules = json_compact(rules_json);
	if (cur == NULL)
		rc = syscfg_store_insert(&s->app->db, s->a, tenant, &w,
		    svc_actor_uuid(s), out, err);
	else
		rc = syscfg_store_update(&s->app->db, s->a, cur->id,
		    in.version >= 0 ? in.version : cur->version, &w,
		    svc_actor_uuid(s), out, err);
	if (rc != GACP_OK)
		goto out;
	*created = cur == NULL;
	d = details(s, scope, environment, key);
	json_object_object_add(d, "config_type",
	    json_object_new_string(w.config_type));
	json_object_object_add(d, "is_encrypted",
	    json_object_new_boolean(w.is_encrypted));
	json_object_object_add(d, "version",
	    json_object_new_int64((*out)->version));
	rc = record(s, tenant, *created ? "config.create" : "config.update",
	    NULL, (*out)->id, d, err);
out:
	if (canon != NULL) {
		explicit_bzero(canon, strlen(canon));
		free(canon);
	}
	free(sealed);
	syscfg_rules_free(&rules);
	return rc;
}

int
syscfg_delete(struct svc *s, const char *scope, const char *environment,
    const char *key, const char *version, struct gacp_err *err)
{
	char tenant[TENANCY_UUID_LEN + 1];
	struct syscfg_row *cur;
	int64_t ver;
	int rc;

	if (environment == NULL)
		environment = "production";
	check_environment(s, environment, false);
	ver = parse_version_text(s, version);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if (!syscfg_key_ok(key))
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such configuration key");
	if ((rc = syscfg_scope(s, scope, tenant, err)) != GACP_OK)
		return rc;
	if ((rc = syscfg_store_get(&s->app->db, s->a, environment, key, &cur,
	    err)) != GACP_OK)
		return rc;
	if (cur->is_system_config && !platform_actor(s))
		return gacp_err_set(err, GACP_EFORBIDDEN, "system_config",
		    "system configuration is changed by platform "
		    "administrators only");
	if ((rc = syscfg_store_delete(&s->app->db, s->a, cur->id, ver,
	    svc_actor_uuid(s), err)) != GACP_OK)
		return rc;
	return record(s, tenant, "config.delete", NULL, cur->id,
	    details(s, scope, environment, key), err);
}

static struct json_object *
str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

struct json_object *
syscfg_render(const struct syscfg_row *r, const char *plain)
{
	struct json_object *o = json_object_new_object(), *rules = NULL;
	enum syscfg_type t = SYSCFG_STRING;
	struct gacp_err err;
	const char *text;

	(void)syscfg_type_from_string(r->config_type, &t);
	text = r->is_encrypted ? plain : r->config_value;
	json_object_object_add(o, "id", str_or_null(r->id));
	json_object_object_add(o, "config_key", str_or_null(r->config_key));
	json_object_object_add(o, "environment", str_or_null(r->environment));
	json_object_object_add(o, "config_value",
	    json_object_new_string(text != NULL ? text : SYSCFG_MASK));
	json_object_object_add(o, "typed_value", syscfg_typed(t, text));
	json_object_object_add(o, "masked",
	    json_object_new_boolean(r->is_encrypted && plain == NULL));
	json_object_object_add(o, "config_type", str_or_null(r->config_type));
	json_object_object_add(o, "description", str_or_null(r->description));
	json_object_object_add(o, "category", str_or_null(r->category));
	json_object_object_add(o, "is_encrypted",
	    json_object_new_boolean(r->is_encrypted));
	json_object_object_add(o, "is_system_config",
	    json_object_new_boolean(r->is_system_config));
	gacp_err_clear(&err);
	if (r->validation_rules == NULL ||
	    json_parse_strict(r->validation_rules, strlen(r->validation_rules),
	    JSON_MAX_DEPTH, &rules, &err) != GACP_OK || rules == NULL)
		rules = json_object_new_object();
	json_object_object_add(o, "validation_rules", rules);
	json_object_object_add(o, "created_at", str_or_null(r->created_at));
	json_object_object_add(o, "updated_at", str_or_null(r->updated_at));
	json_object_object_add(o, "version", json_object_new_int64(r->version));
	return o;
}
