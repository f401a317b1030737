/* tenancy.h - who is calling (the principal) and the context every tenancy service runs in.
 *
 * A principal is established once per request by authentication
 * (authn.h) or once per run by gacpctl (a system principal), and then only
 * read.  A struct svc bundles what a service call needs: the per-process
 * context (database, Redis, keyrings, hasher), the request arena, the
 * principal, the request id and client address for the audit trail, and
 * the list of field errors a validation collects for a 422 response.
 *
 * Transactions: every service works inside one transaction whose
 * app.tenant_id names the tenant being touched (row-level security).
 * svc_begin/svc_bind/svc_commit keep track of that binding so a service
 * that must cross into another tenant (creating a tenant with its owner,
 * auditing into the target tenant) says so explicitly.
 */
#ifndef GACP_TENANCY_TENANCY_H
#define GACP_TENANCY_TENANCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "app/context.h"
#include "common/err.h"
#include "security/password.h"
#include "security/rbac.h"
#include "security/token.h"

#define TENANCY_UUID_LEN   36
#define TENANCY_ACTOR_MAX  64     /* principal id: UUID or "gacpctl:<login>" */
#define TENANCY_NIL_UUID   "00000000-0000-0000-0000-000000000000"

enum principal_kind {
	PRINCIPAL_NONE = 0,
	PRINCIPAL_USER,        /* an access token of a user */
	PRINCIPAL_API_KEY,     /* an API key: scopes only */
	PRINCIPAL_SYSTEM,      /* gacpctl on the server: acts as platform admin */
};

struct principal {
	enum principal_kind kind;
	char            tenant_id[TENANCY_UUID_LEN + 1];
	char            id[TENANCY_ACTOR_MAX + 1];   /* user/key id, or system name */
	bool            tenant_is_platform;          /* the platform tenant */
	enum rbac_role  roles[RBAC_ROLE_COUNT];      /* users and system */
	size_t          nroles;
	char *const    *scopes;                      /* API keys; arena strings */
	size_t          nscopes;
	char            jti[TOKEN_JTI_MAX + 1];      /* users: the access token's */
	int64_t         issued_at_s;                 /* users: token iat */
	int64_t         expires_at_s;                /* users: token exp */
};

/* Security settings from gacp.conf [security], with per-tenant overrides
 * of the rate limits and password policy from tenants.settings. */
struct tenancy_policy {
	int      bcrypt_cost;            /* bcrypt_cost, 12 */
	int64_t  access_ttl_s;           /* access_token_ttl_s, 3600 */
	int64_t  session_idle_s;         /* session_timeout_min, 480 min */
	int64_t  refresh_max_s;          /* refresh_token_days, 30 days */
	long     lockout_threshold;      /* lockout_threshold, 5 failures */
	int64_t  lockout_s;              /* lockout_minutes, 30 min */
	long     auth_ip_per_min;        /* rate_auth_per_ip_per_min, 300 */
	long     tenant_per_min;         /* rate_tenant_per_min, 6000 */
	long     apikey_per_min;         /* rate_api_key_per_min, 3000 */
	int      audit_retention_days;   /* audit_retention_days, 365 */
	struct password_policy password; /* ARCHITECTURE §5 defaults */
};

struct svc {
	struct gacp_ctx        *app;
	struct arena           *a;
	const struct principal *who;          /* never NULL inside a service */
	const char             *request_id;   /* NULL outside HTTP */
	const char             *client_addr;  /* NULL outside HTTP */
	struct tenancy_policy   policy;
	struct json_object     *field_errors; /* array, NULL until the first */
	char                    tenant_id[TENANCY_UUID_LEN + 1]; /* acted in */
	bool                    tenant_is_platform;
	char                    bound_tenant[TENANCY_UUID_LEN + 1];
	int64_t                 now_s;        /* one clock per call */
};

/* Prototypes */

/* Prepare s for one call.  who must outlive s.  request_id/client_addr may
 * be NULL (gacpctl). */
void svc_init(struct svc *s, struct gacp_ctx *app, struct arena *a,
         const struct principal *who, const char *request_id,
         const char *client_addr);

/* Act in tenant_id (gacpctl; the API acts in the principal's tenant). */
void svc_set_tenant(struct svc *s, const char *tenant_id, bool is_platform);

/* Record a field error for the 422 details: {field, code, message}. */
void svc_field_error(struct svc *s, const char *field, const char *code,
         const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A new JSON object for an audit event's details, put when the request's
 * arena is reset. */
struct json_object *svc_details(struct svc *s);
/* The caller as a uuid for created_by/updated_by/deleted_by: users and API
 * keys; NULL for the system (gacpctl), which has no row. */
const char *svc_actor_uuid(const struct svc *s);

/* GACP_EINVAL "validation_failed" when field errors were recorded, else 0. */
int  svc_check_fields(struct svc *s, struct gacp_err *err);
/* The optional ?version= of a versioned DELETE: NULL leaves *out at -1
 * (no check); else a positive integer of at most 18 digits (so it fits
 * int64_t without saturating) or 422 invalid_type on field "version". */
int  svc_version_param(struct svc *s, const char *text, int64_t *out,
         struct gacp_err *err);
/* The field errors as compact JSON text (arena), or NULL. */
const char *svc_field_errors_json(struct svc *s);

/* BEGIN bound to tenant_id (NULL: no tenant, RLS shows nothing). */
int  svc_begin(struct svc *s, const char *tenant_id, struct gacp_err *err);
/* Re-bind the open transaction to tenant_id if it is not bound to it. */
int  svc_bind(struct svc *s, const char *tenant_id, struct gacp_err *err);
/* Let the open transaction see every tenant row (app.platform_admin);
 * only the tenants table honours it.  Callers check the principal first. */
int  svc_platform_scope(struct svc *s, struct gacp_err *err);
int  svc_commit(struct svc *s, struct gacp_err *err);
void svc_rollback(struct svc *s);
/* Note a transaction that someone else (the access check) opened. */
void svc_adopt(struct svc *s, const char *tenant_id);

/* Flags of svc_body_str. */
#define SVC_REQUIRED  0x1   /* absent (or null) is a field error */
#define SVC_RAW       0x2   /* any UTF-8 but NUL (passwords); else text */

/* body[field] as a string of 1..max_chars characters (SVC_RAW: bytes).
 * Records "required", "invalid_type", "too_long" or "invalid_characters"
 * and returns NULL when absent or invalid. */
const char *svc_body_str(struct svc *s, struct json_object *body,
         const char *field, size_t max_chars, int flags);
/* Record "unknown_field" for every member of body not in allowed
 * (NULL-terminated); false when there was one. */
bool svc_body_only(struct svc *s, struct json_object *body,
         const char *const *allowed);
/* True when body has field, even as null. */
bool svc_body_has(struct json_object *body, const char *field);
/* The required integer "version" of an update (records field errors). */
bool svc_body_version(struct svc *s, struct json_object *body,
         int64_t *version);

/* List paging: limit (1..TENANCY_LIST_MAX, default TENANCY_LIST_DEFAULT)
 * and an opaque cursor.  NULL texts mean absent. */
#define TENANCY_LIST_DEFAULT 50
#define TENANCY_LIST_MAX     200
struct page {
	int      limit;
	int64_t  after_us;                      /* -1: first page */
	char     after_id[TENANCY_UUID_LEN + 1];
	int64_t  before_seq;                    /* audit ids; 0: newest */
};
/* Parse ?limit and ?cursor into p; field errors "limit", "cursor". */
void svc_page_parse(struct svc *s, const char *limit, const char *cursor,
         bool sequence, struct page *p);
/* The cursor continuing after (us, id) or before seq (arena). */
char *svc_cursor_key(struct svc *s, int64_t us, const char *id);
char *svc_cursor_seq(struct svc *s, int64_t seq);

/* Defaults, then gacp.conf [security]. */
void tenancy_policy_load(const struct config *cfg, struct tenancy_policy *p);
/* Apply a tenant's settings (tenants.settings JSON text, may be NULL)
 * on top of p: rate_limits and password_policy. */
void tenancy_policy_apply_settings(struct tenancy_policy *p,
         const char *settings_json);
/* Validate a settings object for storage; field errors under "settings". */
void tenancy_settings_validate(struct svc *s, struct json_object *settings);

/* The process's password hasher, created at first use (one bcrypt run). */
int  tenancy_hasher(struct gacp_ctx *app, int cost,
         const struct password_hasher **out, struct gacp_err *err);

bool        principal_has_role(const struct principal *p, enum rbac_role r);
bool        principal_is_platform_admin(const struct principal *p);
/* The rbac view of p (borrows p's arrays). */
void        principal_rbac(const struct principal *p,
                struct rbac_principal *out);
/* "user", "api_key", "system" (audit_log.actor_type). */
const char *principal_actor_type(const struct principal *p);
/* A system principal for gacpctl: platform_admin of no tenant, named
 * "gacpctl:<login>". */
void        principal_system(struct principal *p, const char *login);

/* Copy s lower-cased into out (37 bytes) when it is a UUID; false if not. */
bool tenancy_uuid_norm(const char *s, char out[TENANCY_UUID_LEN + 1]);
/* True when s (len bytes) is valid UTF-8 text without control characters
 * and of 1..max_chars characters. */
bool tenancy_text_ok(const char *s, size_t len, size_t max_chars);
/* The slug format [a-z0-9-], 1..63, no dash at either end (0001). */
bool tenancy_slug_ok(const char *s);
/* The username format [A-Za-z0-9._@-], 3..64 (0001). */
bool tenancy_username_ok(const char *s);
/* Strict RFC 3339 date-time ("2026-01-31T12:00:00Z", fraction and offset
 * allowed). */
bool tenancy_rfc3339_ok(const char *s);

#endif
