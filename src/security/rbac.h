/* rbac.h - roles, permissions and the per-route security-level decision.
 *
 * Pure functions over const tables: no state, no I/O, safe everywhere.
 *
 * Security levels (ARCHITECTURE §3 step 5), checked before a handler runs:
 *   PUBLIC          anyone;
 *   AUTHENTICATED   any valid credential (JWT or API key);
 *   AUTHORIZED      the credential grants the route's permission: a user's
 *                   roles, or an API key's scopes;
 *   RESTRICTED      a user token (not an API key) with platform_admin,
 *                   tenant_owner or tenant_admin, issued less than
 *                   RBAC_RESTRICTED_MAX_AGE_S ago (recent authentication for
 *                   dangerous operations: reveal a secret, rotate keys), plus
 *                   the route's permission when it names one;
 *   ADMINISTRATIVE  a user token with platform_admin.
 *
 * 401 versus 403 (RFC 9110 §15.5.2/§15.5.4): 401 when presenting (new)
 * credentials would help — none given, or a RESTRICTED route with a token
 * too old (step-up as in RFC 9470); 403 when the caller is known and the
 * answer would stay no.
 */
#ifndef GACP_SECURITY_RBAC_H
#define GACP_SECURITY_RBAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RBAC_RESTRICTED_MAX_AGE_S  (15 * 60)

enum rbac_role {
	RBAC_ROLE_PLATFORM_ADMIN,
	RBAC_ROLE_TENANT_OWNER,
	RBAC_ROLE_TENANT_ADMIN,
	RBAC_ROLE_AGENT,
	RBAC_ROLE_VIEWER,
	RBAC_ROLE_COUNT
};

enum rbac_level {
	RBAC_PUBLIC,
	RBAC_AUTHENTICATED,
	RBAC_AUTHORIZED,
	RBAC_RESTRICTED,
	RBAC_ADMINISTRATIVE,
};

enum rbac_credential {
	RBAC_CRED_NONE,     /* anonymous */
	RBAC_CRED_TOKEN,    /* access JWT of a user */
	RBAC_CRED_APIKEY,   /* API key: scopes only, never RESTRICTED/ADMINISTRATIVE */
};

/* Who is calling, as the authentication step established it.  Borrowed
 * pointers: the principal owns nothing. */
struct rbac_principal {
	enum rbac_credential   credential;
	const enum rbac_role  *roles;        /* TOKEN: the token's roles */
	size_t                 nroles;
	int64_t                issued_at_s;  /* TOKEN: iat, unix seconds */
	const char *const     *scopes;       /* APIKEY: granted permissions */
	size_t                 nscopes;
};

enum rbac_status {
	RBAC_ALLOW = 0,
	RBAC_DENY_UNAUTHENTICATED = 401,
	RBAC_DENY_FORBIDDEN = 403,
};

struct rbac_decision {
	enum rbac_status  status;  /* also the HTTP status when not ALLOW */
	const char       *code;    /* stable error code (static), NULL on ALLOW:
	                            * "unauthenticated", "forbidden",
	                            * "reauthentication_required" */
};

/* Prototypes */

/* Role from its name ("tenant_owner"); false for an unknown name. */
bool        rbac_role_from_string(const char *name, enum rbac_role *out);
bool        rbac_role_valid(const char *name);
/* The role's name; "unknown" for an out-of-range value. */
const char *rbac_role_name(enum rbac_role role);

/* True when perm is one of the permissions the platform defines. */
bool        rbac_permission_valid(const char *perm);
/* Every permission, NULL-terminated (static). */
const char *const *rbac_permissions(void);

/* True when any of the roles grants perm.  Unknown roles and unknown or
 * NULL permissions grant nothing (fail closed). */
bool        rbac_has_permission(const enum rbac_role *roles, size_t n,
                const char *perm);

/* True when a user holding actor roles may give target to someone: only a
 * platform admin makes platform admins, only an owner (or platform admin)
 * makes owners and admins, admins make agents and viewers.  Stops an admin
 * from creating a user more powerful than themself. */
bool        rbac_can_assign_role(const enum rbac_role *actor, size_t n,
                enum rbac_role target);

/* True when every scope is a valid permission that the actor's roles
 * grant: an API key never carries more than its creator may do. */
bool        rbac_scopes_grantable(const enum rbac_role *actor, size_t n,
                const char *const *scopes, size_t nscopes);

/* The decision for a route of the given level and permission (NULL when
 * the route names none; AUTHORIZED with NULL is a route-table error and is
 * denied).  principal may be NULL (anonymous).  now_s is the current time
 * in unix seconds (explicit so the function stays pure and testable). */
struct rbac_decision rbac_check(enum rbac_level level, const char *perm,
                const struct rbac_principal *principal, int64_t now_s);

#endif
