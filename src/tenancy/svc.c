/* svc.c - service context, principals, policy and input checks shared by the tenancy services. */
#include "tenancy/tenancy.h"
#include "common/arena.h"
#include "common/json.h"
#include "common/utf8.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "security/crypto.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void
svc_init(struct svc *s, struct gacp_ctx *app, struct arena *a,
    const struct principal *who, const char *request_id,
    const char *client_addr)
{
	memset(s, 0, sizeof(*s));
	s->app = app;
	s->a = a;
	s->who = who;
	s->request_id = request_id;
	s->client_addr = client_addr;
	s->now_s = (int64_t)time(NULL);
	tenancy_policy_load(&app->cfg, &s->policy);
	if (who != NULL)
		svc_set_tenant(s, who->tenant_id, who->tenant_is_platform);
}

void
svc_set_tenant(struct svc *s, const char *tenant_id, bool is_platform)
{
	snprintf(s->tenant_id, sizeof(s->tenant_id), "%s",
	    tenant_id ? tenant_id : "");
	s->tenant_is_platform = is_platform;
}

static void
put_json(void *p)
{
	json_object_put(p);
}

struct json_object *
svc_details(struct svc *s)
{
	struct json_object *d = json_object_new_object();

	arena_defer(s->a, put_json, d);
	return d;
}

const char *
svc_actor_uuid(const struct svc *s)
{
	return s->who->kind == PRINCIPAL_SYSTEM ? NULL : s->who->id;
}

void
svc_field_error(struct svc *s, const char *field, const char *code,
    const char *fmt, ...)
{
	struct json_object *e;
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->field_errors == NULL) {
		s->field_errors = json_object_new_array();
		arena_defer(s->a, put_json, s->field_errors);
	}
	e = json_object_new_object();
	json_object_object_add(e, "field", json_object_new_string(field));
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_array_add(s->field_errors, e);
}

int
svc_check_fields(struct svc *s, struct gacp_err *err)
{
	if (s->field_errors == NULL ||
	    json_object_array_length(s->field_errors) == 0)
		return GACP_OK;
	return gacp_err_set(err, GACP_EINVAL, "validation_failed",
	    "the request has invalid fields (see details)");
}

int
svc_version_param(struct svc *s, const char *text, int64_t *out,
    struct gacp_err *err)
{
	size_t i;

	*out = -1;
	if (text == NULL)
		return GACP_OK;
	for (i = 0; text[i] >= '0' && text[i] <= '9'; i++)
		;
	if (text[0] < '1' || text[0] > '9' || text[i] != '\0' || i > 18) {
		svc_field_error(s, "version", "invalid_type",
		    "must be a positive integer");
		return svc_check_fields(s, err);
	}
	*out = strtoll(text, NULL, 10);
	return GACP_OK;
}

const char *
svc_field_errors_json(struct svc *s)
{
	if (s->field_errors == NULL)
		return NULL;
	return arena_strdup(s->a, json_compact(s->field_errors));
}

static void
set_bound(struct svc *s, const char *tenant_id)
{
	snprintf(s->bound_tenant, sizeof(s->bound_tenant), "%s",
	    tenant_id ? tenant_id : "");
}

int
svc_begin(struct svc *s, const char *tenant_id, struct gacp_err *err)
{
	int rc = db_begin(&s->app->db, s->a, tenant_id, err);

	if (rc == GACP_OK)
		set_bound(s, tenant_id);
	return rc;
}

void
svc_adopt(struct svc *s, const char *tenant_id)
{
	set_bound(s, tenant_id);
}

int
svc_bind(struct svc *s, const char *tenant_id, struct gacp_err *err)
{
	int rc;

	if (strcmp(s->bound_tenant, tenant_id ? tenant_id : "") == 0)
		return GACP_OK;
	rc = db_set_tenant(&s->app->db, s->a, tenant_id, err);
	if (rc == GACP_OK)
		set_bound(s, tenant_id);
	return rc;
}

int
svc_platform_scope(struct svc *s, struct gacp_err *err)
{
	if (!principal_is_platform_admin(s->who))
		return gacp_err_set(err, GACP_EFORBIDDEN, "forbidden",
		    "platform administrators only");
	return db_set_platform_admin(&s->app->db, s->a, err);
}

int
svc_commit(struct svc *s, struct gacp_err *err)
{
	s->bound_tenant[0] = '\0';
	return db_commit(&s->app->db, s->a, err);
}

void
svc_rollback(struct svc *s)
{
	s->bound_tenant[0] = '\0';
	db_rollback(&s->app->db, s->a);
}

/* ---- policy ------------------------------------------------------------ */

static long long
clamp(long long v, long long lo, long long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void
tenancy_policy_load(const struct config *cfg, struct tenancy_policy *p)
{
	memset(p, 0, sizeof(*p));
	password_policy_defaults(&p->password);
	p->bcrypt_cost = (int)clamp(config_get_int(cfg, "security.bcrypt_cost",
	    PASSWORD_DEFAULT_COST), PASSWORD_MIN_COST, PASSWORD_MAX_COST);
	p->access_ttl_s = clamp(config_get_int(cfg,
	    "security.access_token_ttl_s", TOKEN_DEFAULT_TTL_S), 60, 86400);
	p->session_idle_s = 60 * clamp(config_get_int(cfg,
	    "security.session_timeout_min", 480), 1, 60 * 24 * 30);
	p->refresh_max_s = 86400 * clamp(config_get_int(cfg,
	    "security.refresh_token_days", 30), 1, 365);
	p->lockout_threshold = (long)clamp(config_get_int(cfg,
	    "security.lockout_threshold", 5), 1, 1000);
	p->lockout_s = 60 * clamp(config_get_int(cfg,
	    "security.lockout_minutes", 30), 1, 24 * 60);
	p->auth_ip_per_min = (long)clamp(config_get_int(cfg,
	    "security.rate_auth_per_ip_per_min", 300), 1, 1000000000);
	p->tenant_per_min = (long)clamp(config_get_int(cfg,
	    "security.rate_tenant_per_min", 6000), 1, 1000000000);
	p->apikey_per_min = (long)clamp(config_get_int(cfg,
	    "security.rate_api_key_per_min", 3000), 1, 1000000000);
	p->audit_retention_days = (int)clamp(config_get_int(cfg,
	    "security.audit_retention_days", 365), 1, 36500);
	p->password.max_age_days = (int)clamp(config_get_int(cfg,
	    "security.password_max_age_days", p->password.max_age_days), 0,
	    3650);
}

/* Limits a tenant may set for itself (validated on write). */
#define SETTING_RATE_MAX 1000000000LL

void
tenancy_policy_apply_settings(struct tenancy_policy *p,
    const char *settings_json)
{
	struct json_object *root = NULL, *o;
	int64_t v;

	/* The common case, "{}", needs no parser. */
	if (settings_json == NULL || strlen(settings_json) <= 2)
		return;
	root = json_tokener_parse(settings_json);
	if (root == NULL)
		return;
	if ((o = json_get_obj(root, "rate_limits")) != NULL) {
		if (json_get_int64(o, "requests_per_minute", &v) && v >= 1 &&
		    v <= SETTING_RATE_MAX)
			p->tenant_per_min = (long)v;
		if (json_get_int64(o, "api_key_requests_per_minute", &v) &&
		    v >= 1 && v <= SETTING_RATE_MAX)
			p->apikey_per_min = (long)v;
	}
	if ((o = json_get_obj(root, "password_policy")) != NULL) {
		/* A tenant may be stricter than the platform, never laxer. */
		if (json_get_int64(o, "min_length", &v) &&
		    v >= (int64_t)p->password.min_length && v <= 64)
			p->password.min_length = (size_t)v;
		if (json_get_int64(o, "max_age_days", &v) && v >= 1 &&
		    (p->password.max_age_days == 0 ||
		    v <= p->password.max_age_days))
			p->password.max_age_days = (int)v;
	}
	json_object_put(root);
}

static void
check_int_member(struct svc *s, struct json_object *obj, const char *key,
    const char *field, int64_t lo, int64_t hi)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		return;
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < lo || json_object_get_int64(v) > hi)
		svc_field_error(s, field, "out_of_range",
		    "must be an integer from %lld to %lld", (long long)lo,
		    (long long)hi);
}

static void
check_known_members(struct svc *s, struct json_object *obj,
    const char *prefix, const char *const *known)
{
	size_t i;

	json_object_object_foreach(obj, key, val) {
		(void)val;
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (known[i] == NULL) {
			char field[128];
			snprintf(field, sizeof(field), "%s.%s", prefix,
			    strlen(key) <= 64 ? key : "(long name)");
			svc_field_error(s, field, "unknown_setting",
			    "not a known setting");
		}
	}
}

void
tenancy_settings_validate(struct svc *s, struct json_object *settings)
{
	static const char *const top[] = { "rate_limits", "password_policy",
	    "service_registry_read", "retention", NULL };
	static const char *const keep[] = { "message_days", NULL };
	static const char *const rate[] = { "requests_per_minute",
	    "api_key_requests_per_minute", NULL };
	static const char *const pw[] = { "min_length", "max_age_days", NULL };
	struct json_object *o;
	struct password_policy base;

	if (!json_object_is_type(settings, json_type_object)) {
		svc_field_error(s, "settings", "invalid_type",
		    "must be an object");
		return;
	}
	if (strlen(json_compact(settings)) > 8192) {
		svc_field_error(s, "settings", "too_long",
		    "must be at most 8192 bytes of JSON");
		return;
	}
	check_known_members(s, settings, "settings", top);
	/* The registry grant (sql/0015): only tenants:admin may PATCH a
	 * tenant's settings, so only a platform administrator can give it. */
	if (json_object_object_get_ex(settings, "service_registry_read", &o) &&
	    !json_object_is_type(o, json_type_boolean))
		svc_field_error(s, "settings.service_registry_read",
		    "invalid_type", "must be true or false");
	if (json_object_object_get_ex(settings, "rate_limits", &o)) {
		if (!json_object_is_type(o, json_type_object)) {
			svc_field_error(s, "settings.rate_limits",
			    "invalid_type", "must be an object");
		} else {
			check_known_members(s, o, "settings.rate_limits", rate);
			check_int_member(s, o, "requests_per_minute",
			    "settings.rate_limits.requests_per_minute", 1,
			    SETTING_RATE_MAX);
			check_int_member(s, o, "api_key_requests_per_minute",
			    "settings.rate_limits.api_key_requests_per_minute",
			    1, SETTING_RATE_MAX);
		}
	}
	/* How long this tenant's messages are kept (gacpctl retention). */
	if (json_object_object_get_ex(settings, "retention", &o)) {
		if (!json_object_is_type(o, json_type_object)) {
			svc_field_error(s, "settings.retention",
			    "invalid_type", "must be an object");
		} else {
			check_known_members(s, o, "settings.retention", keep);
			check_int_member(s, o, "message_days",
			    "settings.retention.message_days", 1, 36500);
		}
	}
	if (json_object_object_get_ex(settings, "password_policy", &o)) {
		password_policy_defaults(&base);
		if (!json_object_is_type(o, json_type_object)) {
			svc_field_error(s, "settings.password_policy",
			    "invalid_type", "must be an object");
		} else {
			check_known_members(s, o, "settings.password_policy", pw);
			check_int_member(s, o, "min_length",
			    "settings.password_policy.min_length",
			    (int64_t)base.min_length, 64);
			check_int_member(s, o, "max_age_days",
			    "settings.password_policy.max_age_days", 1,
			    s->policy.password.max_age_days > 0 ?
			    s->policy.password.max_age_days : 3650);
		}
	}
}

int
tenancy_hasher(struct gacp_ctx *app, int cost,
    const struct password_hasher **out, struct gacp_err *err)
{
	struct password_hasher *h;
	int rc;

	if (app->hasher != NULL) {
		*out = app->hasher;
		return GACP_OK;
	}
	/* Lazily: the dummy hash costs one bcrypt run, which workers and
	 * other programs sharing the context never need. */
	h = xcalloc(1, sizeof(*h));
	if ((rc = password_hasher_init(h, cost, err)) != GACP_OK) {
		free(h);
		return rc;
	}
	app->hasher = h;
	*out = h;
	return GACP_OK;
}

/* ---- principals ------------------------------------------------------- */

bool
principal_has_role(const struct principal *p, enum rbac_role r)
{
	size_t i;

	if (p == NULL)
		return false;
	for (i = 0; i < p->nroles; i++)
		if (p->roles[i] == r)
			return true;
	return false;
}

bool
principal_is_platform_admin(const struct principal *p)
{
	/* A platform_admin role only counts inside the platform tenant (or
	 * for gacpctl on the server): a row planted in a customer tenant
	 * must not make anyone an operator of every tenant. */
	if (p == NULL)
		return false;
	if (p->kind == PRINCIPAL_SYSTEM)
		return true;
	return p->kind == PRINCIPAL_USER && p->tenant_is_platform &&
	    principal_has_role(p, RBAC_ROLE_PLATFORM_ADMIN);
}

void
principal_rbac(const struct principal *p, struct rbac_principal *out)
{
	memset(out, 0, sizeof(*out));
	if (p == NULL)
		return;
	switch (p->kind) {
	case PRINCIPAL_USER:
		out->credential = RBAC_CRED_TOKEN;
		out->roles = p->roles;
		out->nroles = p->nroles;
		out->issued_at_s = p->issued_at_s;
		break;
	case PRINCIPAL_API_KEY:
		out->credential = RBAC_CRED_APIKEY;
		out->scopes = (const char *const *)p->scopes;
		out->nscopes = p->nscopes;
		break;
	case PRINCIPAL_SYSTEM:
	case PRINCIPAL_NONE:
		out->credential = RBAC_CRED_NONE;
		break;
	}
}

const char *
principal_actor_type(const struct principal *p)
{
	switch (p ? p->kind : PRINCIPAL_NONE) {
	case PRINCIPAL_USER:    return "user";
	case PRINCIPAL_API_KEY: return "api_key";
	case PRINCIPAL_SYSTEM:  return "system";
	default:                return "anonymous";
	}
}

void
principal_system(struct principal *p, const char *login)
{
	memset(p, 0, sizeof(*p));
	p->kind = PRINCIPAL_SYSTEM;
	snprintf(p->id, sizeof(p->id), "gacpctl:%.48s",
	    login && login[0] ? login : "unknown");
	p->roles[0] = RBAC_ROLE_PLATFORM_ADMIN;
	p->nroles = 1;
	p->tenant_is_platform = true;
}

/* ---- input checks ----------------------------------------------------- */

bool
tenancy_uuid_norm(const char *s, char out[TENANCY_UUID_LEN + 1])
{
	size_t i;

	if (!util_uuid_valid(s))
		return false;
	for (i = 0; i < TENANCY_UUID_LEN; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[TENANCY_UUID_LEN] = '\0';
	return true;
}

bool
tenancy_text_ok(const char *s, size_t len, size_t max_chars)
{
	size_t i, n;

	if (s == NULL || len == 0 || !utf8_valid(s, len))
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	n = utf8_count(s, len);
	return n >= 1 && n <= max_chars;
}

static bool
digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool
tenancy_rfc3339_ok(const char *s)
{
	size_t len, i = 19;
	int mon, day, hour, min, sec;

	/* YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), RFC 3339 §5.6. */
	if (s == NULL || (len = strlen(s)) < 20 || len > 40)
		return false;
	if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
	    !digits(s + 8, 2) || (s[10] != 'T' && s[10] != 't') ||
	    !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) ||
	    s[16] != ':' || !digits(s + 17, 2))
		return false;
	mon = (s[5] - '0') * 10 + (s[6] - '0');
	day = (s[8] - '0') * 10 + (s[9] - '0');
	hour = (s[11] - '0') * 10 + (s[12] - '0');
	min = (s[14] - '0') * 10 + (s[15] - '0');
	sec = (s[17] - '0') * 10 + (s[18] - '0');
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 ||
	    min > 59 || sec > 60)
		return false;
	if (s[i] == '.') {
		size_t start = ++i;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
		if (i == start || i - start > 9)
			return false;
	}
	if (s[i] == 'Z' || s[i] == 'z')
		return i + 1 == len;
	if ((s[i] == '+' || s[i] == '-') && len - i == 6 &&
	    digits(s + i + 1, 2) && s[i + 3] == ':' && digits(s + i + 4, 2))
		return (s[i + 1] - '0') * 10 + (s[i + 2] - '0') <= 23 &&
		    (s[i + 4] - '0') * 10 + (s[i + 5] - '0') <= 59;
	return false;
}

/* The formats of slugs and usernames (the CHECK constraints of 0001). */
static bool
matches(const char *s, size_t min, size_t max, const char *extra,
    bool lower_only)
{
	size_t i, n = strlen(s);

	if (n < min || n > max)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (!lower_only && c >= 'A' && c <= 'Z') ||
		    strchr(extra, c) != NULL;
		if (!ok || c == '\0')
			return false;
	}
	return true;
}

bool
tenancy_slug_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return s != NULL && matches(s, 1, 63, "-", true) && s[0] != '-' &&
	    s[n - 1] != '-';
}

bool
tenancy_username_ok(const char *s)
{
	return s != NULL && matches(s, 3, 64, "._@-", false);
}

/* ---- request bodies and paging ---------------------------------------- */

bool
svc_body_only(struct svc *s, struct json_object *body,
    const char *const *allowed)
{
	bool ok = true;
	size_t i;

	if (body == NULL)
		return true;
	json_object_object_foreach(body, key, val) {
		(void)val;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			/* The name is the client's (valid UTF-8, json-c checked
			 * it); a long one is not echoed, rather than cut inside
			 * a character. */
			svc_field_error(s, strlen(key) <= 64 ? key : "(long name)",
			    "unknown_field", "is not a field of this request");
			ok = false;
		}
	}
	return ok;
}

bool
svc_body_has(struct json_object *body, const char *field)
{
	return body != NULL && json_object_object_get_ex(body, field, NULL);
}

const char *
svc_body_str(struct svc *s, struct json_object *body, const char *field,
    size_t max_chars, int flags)
{
	struct json_object *v = NULL;
	const char *str;
	size_t len;

	if (body == NULL || !json_object_object_get_ex(body, field, &v) ||
	    v == NULL) {
		if (flags & SVC_REQUIRED)
			svc_field_error(s, field, "required", "is required");
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		svc_field_error(s, field, "invalid_type", "must be a string");
		return NULL;
	}
	str = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	/* json-c keeps "\u0000" inside the string; C code would cut it. */
	if (strlen(str) != len) {
		svc_field_error(s, field, "invalid_characters",
		    "must not contain NUL characters");
		return NULL;
	}
	if (len == 0) {
		svc_field_error(s, field, "required", "must not be empty");
		return NULL;
	}
	if (flags & SVC_RAW) {
		if (len > max_chars) {
			svc_field_error(s, field, "too_long",
			    "must be at most %zu bytes", max_chars);
			return NULL;
		}
		return str;
	}
	if (utf8_valid(str, len) && utf8_count(str, len) > max_chars) {
		svc_field_error(s, field, "too_long",
		    "must be at most %zu characters", max_chars);
		return NULL;
	}
	if (!tenancy_text_ok(str, len, max_chars)) {
		svc_field_error(s, field, "invalid_characters",
		    "must be text without control characters");
		return NULL;
	}
	return str;
}

bool
svc_body_version(struct svc *s, struct json_object *body, int64_t *version)
{
	struct json_object *v;

	if (body == NULL || !json_object_object_get_ex(body, "version", &v) ||
	    v == NULL) {
		svc_field_error(s, "version", "required",
		    "the version you read is required (optimistic locking)");
		return false;
	}
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 1) {
		svc_field_error(s, "version", "invalid_type",
		    "must be a positive integer");
		return false;
	}
	*version = json_object_get_int64(v);
	return true;
}

/* Cursors are base64url of "k:<us>:<uuid>" (created_at in microseconds
 * and id) or "s:<seq>" (audit ids): opaque to clients, parsed strictly. */
static bool
parse_cursor(const char *cursor, bool sequence, struct page *p)
{
	unsigned char raw[96];
	char text[97], id[TENANCY_UUID_LEN + 1], *end;
	const char *sep;
	long long v;
	size_t n;

	if (strlen(cursor) > 128 || crypto_base64_decode(CRYPTO_B64_URL,
	    cursor, strlen(cursor), raw, sizeof(raw) - 1, &n) != GACP_OK ||
	    n < 3)
		return false;
	memcpy(text, raw, n);
	text[n] = '\0';
	if (strlen(text) != n || text[1] != ':' || !isdigit((unsigned char)text[2]))
		return false;
	v = strtoll(text + 2, &end, 10);
	if (v < 0 || v == LLONG_MAX)
		return false;
	if (sequence) {
		if (text[0] != 's' || *end != '\0' || v < 1)
			return false;
		p->before_seq = v;
		return true;
	}
	sep = end;
	if (text[0] != 'k' || *sep != ':' ||
	    strlen(sep + 1) != TENANCY_UUID_LEN)
		return false;
	memcpy(id, sep + 1, TENANCY_UUID_LEN + 1);
	if (!tenancy_uuid_norm(id, p->after_id))
		return false;
	p->after_us = v;
	return true;
}

void
svc_page_parse(struct svc *s, const char *limit, const char *cursor,
    bool sequence, struct page *p)
{
	memset(p, 0, sizeof(*p));
	p->limit = TENANCY_LIST_DEFAULT;
	p->after_us = -1;
	if (limit != NULL) {
		char *end;
		long v = strtol(limit, &end, 10);
		if (!isdigit((unsigned char)limit[0]) || *end != '\0' || v < 1 ||
		    v > TENANCY_LIST_MAX)
			svc_field_error(s, "limit", "out_of_range",
			    "must be an integer from 1 to %d", TENANCY_LIST_MAX);
		else
			p->limit = (int)v;
	}
	if (cursor != NULL && !parse_cursor(cursor, sequence, p))
		svc_field_error(s, "cursor", "invalid_cursor",
		    "is not a cursor this list returned");
}

static char *
encode_cursor(struct svc *s, const char *text)
{
	char *heap = crypto_base64_encode_alloc(CRYPTO_B64_URL, text,
	    strlen(text));
	char *out = arena_strdup(s->a, heap);

	free(heap);
	return out;
}

char *
svc_cursor_key(struct svc *s, int64_t us, const char *id)
{
	char text[80];

	snprintf(text, sizeof(text), "k:%lld:%s", (long long)us, id);
	return encode_cursor(s, text);
}

char *
svc_cursor_seq(struct svc *s, int64_t seq)
{
	char text[32];

	snprintf(text, sizeof(text), "s:%lld", (long long)seq);
	return encode_cursor(s, text);
}
