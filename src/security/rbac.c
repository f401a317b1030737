/* rbac.c - const role/permission tables and the security-level decision. */
#include "security/rbac.h"

#include <string.h>

static bool	role_in(const enum rbac_role *roles, size_t n,
		    enum rbac_role role);
static bool	role_grants(enum rbac_role role, const char *perm);
static bool	scope_in(const char *const *scopes, size_t n, const char *perm);
static struct rbac_decision decide(enum rbac_status status, const char *code);

static const char *const role_names[RBAC_ROLE_COUNT] = {
	[RBAC_ROLE_PLATFORM_ADMIN] = "platform_admin",
	[RBAC_ROLE_TENANT_OWNER] = "tenant_owner",
	[RBAC_ROLE_TENANT_ADMIN] = "tenant_admin",
	[RBAC_ROLE_AGENT] = "agent",
	[RBAC_ROLE_VIEWER] = "viewer",
};

/* Every permission the routes may name: <resource>:<verb>.  "write"
 * covers create, update and delete; "admin" is platform-wide. */
static const char *const all_permissions[] = {
	"tenants:admin",        /* create, list, suspend tenants */
	"services:admin",       /* register/heartbeat/remove services */
	"services:read",        /* read the registry and system health; a
	                         * tenant also needs the platform's grant
	                         * (settings.service_registry_read) */
	"tenant:write",         /* the caller's own tenant settings */
	"users:read",
	"users:write",
	"apikeys:read",
	"apikeys:write",
	"config:read",
	"config:write",
	"channels:read",
	"channels:write",
	"nlu:read",
	"nlu:write",
	"responses:read",
	"responses:write",
	"conversations:read",
	"conversations:reply",  /* reply as an agent, handoff, resume */
	"analytics:read",
	"audit:read",
	NULL
};

/* The tenant-scoped set an owner holds; tenant_admin holds the same
 * permissions (the owner/admin difference is which roles they may assign,
 * see rbac_can_assign_role). */
static const char *const owner_permissions[] = {
	"tenant:write", "users:read", "users:write", "apikeys:read",
	"apikeys:write", "config:read", "config:write", "channels:read",
	"channels:write", "nlu:read", "nlu:write", "responses:read",
	"responses:write", "conversations:read", "conversations:reply",
	"analytics:read", "audit:read", "services:read", NULL
};

/* Agents work conversations and may read what helps them answer. */
static const char *const agent_permissions[] = {
	"conversations:read", "conversations:reply", "nlu:read",
	"responses:read", "analytics:read", NULL
};

/* Viewers read, never change; secrets and the audit trail stay hidden. */
static const char *const viewer_permissions[] = {
	"conversations:read", "nlu:read", "responses:read", "analytics:read",
	"channels:read", "config:read", NULL
};

static const char *const *const role_permissions[RBAC_ROLE_COUNT] = {
	[RBAC_ROLE_PLATFORM_ADMIN] = all_permissions,
	[RBAC_ROLE_TENANT_OWNER] = owner_permissions,
	[RBAC_ROLE_TENANT_ADMIN] = owner_permissions,
	[RBAC_ROLE_AGENT] = agent_permissions,
	[RBAC_ROLE_VIEWER] = viewer_permissions,
};

bool
rbac_role_from_string(const char *name, enum rbac_role *out)
{
	int i;

	if (name == NULL)
		return false;
	for (i = 0; i < RBAC_ROLE_COUNT; i++) {
		if (strcmp(name, role_names[i]) == 0) {
			if (out != NULL)
				*out = (enum rbac_role)i;
			return true;
		}
	}
	return false;
}

bool
rbac_role_valid(const char *name)
{
	return rbac_role_from_string(name, NULL);
}

const char *
rbac_role_name(enum rbac_role role)
{
	if ((int)role < 0 || role >= RBAC_ROLE_COUNT)
		return "unknown";
	return role_names[role];
}

bool
rbac_permission_valid(const char *perm)
{
	size_t i;

	if (perm == NULL)
		return false;
	for (i = 0; all_permissions[i] != NULL; i++)
		if (strcmp(perm, all_permissions[i]) == 0)
			return true;
	return false;
}

const char *const *
rbac_permissions(void)
{
	return all_permissions;
}

static bool
role_grants(enum rbac_role role, const char *perm)
{
	const char *const *p;

	if ((int)role < 0 || role >= RBAC_ROLE_COUNT)
		return false;
	for (p = role_permissions[role]; *p != NULL; p++)
		if (strcmp(*p, perm) == 0)
			return true;
	return false;
}

bool
rbac_has_permission(const enum rbac_role *roles, size_t n, const char *perm)
{
	size_t i;

	if (roles == NULL || !rbac_permission_valid(perm))
		return false;
	for (i = 0; i < n; i++)
		if (role_grants(roles[i], perm))
			return true;
	return false;
}

static bool
role_in(const enum rbac_role *roles, size_t n, enum rbac_role role)
{
	size_t i;

	if (roles == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (roles[i] == role)
			return true;
	return false;
}

bool
rbac_can_assign_role(const enum rbac_role *actor, size_t n,
    enum rbac_role target)
{
	if ((int)target < 0 || target >= RBAC_ROLE_COUNT)
		return false;
	if (role_in(actor, n, RBAC_ROLE_PLATFORM_ADMIN))
		return true;
	switch (target) {
	case RBAC_ROLE_PLATFORM_ADMIN:
		return false;
	case RBAC_ROLE_TENANT_OWNER:
	case RBAC_ROLE_TENANT_ADMIN:
		return role_in(actor, n, RBAC_ROLE_TENANT_OWNER);
	case RBAC_ROLE_AGENT:
	case RBAC_ROLE_VIEWER:
		return role_in(actor, n, RBAC_ROLE_TENANT_OWNER) ||
		    role_in(actor, n, RBAC_ROLE_TENANT_ADMIN);
	default:
		return false;
	}
}

bool
rbac_scopes_grantable(const enum rbac_role *actor, size_t n,
    const char *const *scopes, size_t nscopes)
{
	size_t i;

	if (scopes == NULL && nscopes > 0)
		return false;
	for (i = 0; i < nscopes; i++)
		if (!rbac_has_permission(actor, n, scopes[i]))
			return false;
	return true;
}

static bool
scope_in(const char *const *scopes, size_t n, const char *perm)
{
	size_t i;

	if (scopes == NULL || !rbac_permission_valid(perm))
		return false;
	for (i = 0; i < n; i++)
		if (scopes[i] != NULL && strcmp(scopes[i], perm) == 0)
			return true;
	return false;
}

static struct rbac_decision
decide(enum rbac_status status, const char *code)
{
	struct rbac_decision d;

	d.status = status;
	d.code = code;
	return d;
}

struct rbac_decision
rbac_check(enum rbac_level level, const char *perm,
    const struct rbac_principal *p, int64_t now_s)
{
	const struct rbac_decision allow = decide(RBAC_ALLOW, NULL);
	const struct rbac_decision forbidden =
	    decide(RBAC_DENY_FORBIDDEN, "forbidden");
	bool is_admin;

	if (level == RBAC_PUBLIC)
		return allow;
	if (p == NULL || (p->credential != RBAC_CRED_TOKEN &&
	    p->credential != RBAC_CRED_APIKEY))
		return decide(RBAC_DENY_UNAUTHENTICATED, "unauthenticated");

	switch (level) {
	case RBAC_AUTHENTICATED:
		return allow;
	case RBAC_AUTHORIZED:
		if (p->credential == RBAC_CRED_APIKEY)
			return scope_in(p->scopes, p->nscopes, perm) ?
			    allow : forbidden;
		return rbac_has_permission(p->roles, p->nroles, perm) ?
		    allow : forbidden;
	case RBAC_RESTRICTED:
		/* An API key is a long-lived bearer secret, never a recent
		 * login: it cannot pass the freshness test. */
		if (p->credential != RBAC_CRED_TOKEN)
			return forbidden;
		is_admin = role_in(p->roles, p->nroles, RBAC_ROLE_PLATFORM_ADMIN) ||
		    role_in(p->roles, p->nroles, RBAC_ROLE_TENANT_OWNER) ||
		    role_in(p->roles, p->nroles, RBAC_ROLE_TENANT_ADMIN);
		if (!is_admin)
			return forbidden;
		if (perm != NULL && !rbac_has_permission(p->roles, p->nroles, perm))
			return forbidden;
		/* Role first, age second: logging in again only helps a
		 * caller who would be allowed with a fresh token. */
		if (now_s - p->issued_at_s >= RBAC_RESTRICTED_MAX_AGE_S)
			return decide(RBAC_DENY_UNAUTHENTICATED,
			    "reauthentication_required");
		return allow;
	case RBAC_ADMINISTRATIVE:
		if (p->credential != RBAC_CRED_TOKEN ||
		    !role_in(p->roles, p->nroles, RBAC_ROLE_PLATFORM_ADMIN))
			return forbidden;
		if (perm != NULL && !rbac_has_permission(p->roles, p->nroles, perm))
			return forbidden;
		return allow;
	case RBAC_PUBLIC:
		return allow;
	}
	/* An unknown level is a route-table bug: deny. */
	return forbidden;
}
