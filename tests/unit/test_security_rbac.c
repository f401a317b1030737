/* test_security_rbac.c - unit tests of roles, permissions and security-level decisions (security/rbac.c). */
#include "tests.h"
#include "security/rbac.h"

#include <string.h>

#define NOW 1700000000

static const enum rbac_role r_platform[] = { RBAC_ROLE_PLATFORM_ADMIN };
static const enum rbac_role r_owner[] = { RBAC_ROLE_TENANT_OWNER };
static const enum rbac_role r_admin[] = { RBAC_ROLE_TENANT_ADMIN };
static const enum rbac_role r_agent[] = { RBAC_ROLE_AGENT };
static const enum rbac_role r_viewer[] = { RBAC_ROLE_VIEWER };

static struct rbac_principal
user(const enum rbac_role *roles, size_t n, int64_t iat)
{
	struct rbac_principal p;

	memset(&p, 0, sizeof(p));
	p.credential = RBAC_CRED_TOKEN;
	p.roles = roles;
	p.nroles = n;
	p.issued_at_s = iat;
	return p;
}

static struct rbac_principal
apikey(const char *const *scopes, size_t n)
{
	struct rbac_principal p;

	memset(&p, 0, sizeof(p));
	p.credential = RBAC_CRED_APIKEY;
	p.scopes = scopes;
	p.nscopes = n;
	return p;
}

static void
test_roles(void)
{
	enum rbac_role r;
	int i;

	for (i = 0; i < RBAC_ROLE_COUNT; i++) {
		CU_ASSERT_TRUE(rbac_role_from_string(rbac_role_name((enum rbac_role)i), &r));
		CU_ASSERT_EQUAL((int)r, i);
	}
	CU_ASSERT_STRING_EQUAL(rbac_role_name(RBAC_ROLE_TENANT_OWNER), "tenant_owner");
	CU_ASSERT_STRING_EQUAL(rbac_role_name(RBAC_ROLE_COUNT), "unknown");
	CU_ASSERT_TRUE(rbac_role_valid("platform_admin"));
	CU_ASSERT_TRUE(rbac_role_valid("viewer"));
	CU_ASSERT_FALSE(rbac_role_valid("admin"));
	CU_ASSERT_FALSE(rbac_role_valid("Viewer"));
	CU_ASSERT_FALSE(rbac_role_valid("viewer "));
	CU_ASSERT_FALSE(rbac_role_valid(""));
	CU_ASSERT_FALSE(rbac_role_valid(NULL));
}

static void
test_permission_table(void)
{
	const char *const *all = rbac_permissions();
	size_t i;

	/* The platform admin holds every permission; every role's grant is a
	 * defined permission (guards the const tables against typos). */
	for (i = 0; all[i] != NULL; i++) {
		CU_ASSERT_TRUE(rbac_permission_valid(all[i]));
		CU_ASSERT_TRUE(rbac_has_permission(r_platform, 1, all[i]));
	}
	CU_ASSERT(i >= 9);
	CU_ASSERT_FALSE(rbac_permission_valid("users:delete"));
	CU_ASSERT_FALSE(rbac_permission_valid(""));
	CU_ASSERT_FALSE(rbac_permission_valid(NULL));
	/* Unknown permissions are refused even to the platform admin. */
	CU_ASSERT_FALSE(rbac_has_permission(r_platform, 1, "users:delete"));
	CU_ASSERT_FALSE(rbac_has_permission(r_platform, 1, NULL));
	CU_ASSERT_FALSE(rbac_has_permission(NULL, 1, "users:read"));
}

static void
test_role_permissions(void)
{
	static const enum rbac_role both[] = { RBAC_ROLE_VIEWER, RBAC_ROLE_AGENT };
	static const enum rbac_role junk[] = { (enum rbac_role)99 };

	CU_ASSERT_TRUE(rbac_has_permission(r_platform, 1, "tenants:admin"));
	CU_ASSERT_FALSE(rbac_has_permission(r_owner, 1, "tenants:admin"));
	CU_ASSERT_FALSE(rbac_has_permission(r_owner, 1, "services:admin"));
	/* services:read is only half the answer: the tenant also needs the
	 * platform's grant (registry/registry.h). */
	CU_ASSERT_TRUE(rbac_has_permission(r_owner, 1, "services:read"));
	CU_ASSERT_TRUE(rbac_has_permission(r_admin, 1, "services:read"));
	CU_ASSERT_TRUE(rbac_has_permission(r_platform, 1, "services:admin"));
	CU_ASSERT_TRUE(rbac_has_permission(r_owner, 1, "users:write"));
	CU_ASSERT_TRUE(rbac_has_permission(r_owner, 1, "apikeys:write"));
	CU_ASSERT_TRUE(rbac_has_permission(r_owner, 1, "config:write"));
	CU_ASSERT_TRUE(rbac_has_permission(r_owner, 1, "channels:write"));
	CU_ASSERT_TRUE(rbac_has_permission(r_owner, 1, "audit:read"));
	CU_ASSERT_TRUE(rbac_has_permission(r_admin, 1, "users:write"));
	CU_ASSERT_TRUE(rbac_has_permission(r_admin, 1, "nlu:write"));
	CU_ASSERT_FALSE(rbac_has_permission(r_admin, 1, "tenants:admin"));

	CU_ASSERT_TRUE(rbac_has_permission(r_agent, 1, "conversations:reply"));
	CU_ASSERT_TRUE(rbac_has_permission(r_agent, 1, "conversations:read"));
	CU_ASSERT_TRUE(rbac_has_permission(r_agent, 1, "analytics:read"));
	CU_ASSERT_FALSE(rbac_has_permission(r_agent, 1, "config:write"));
	CU_ASSERT_FALSE(rbac_has_permission(r_agent, 1, "users:write"));
	CU_ASSERT_FALSE(rbac_has_permission(r_agent, 1, "audit:read"));

	CU_ASSERT_TRUE(rbac_has_permission(r_viewer, 1, "analytics:read"));
	CU_ASSERT_TRUE(rbac_has_permission(r_viewer, 1, "conversations:read"));
	CU_ASSERT_FALSE(rbac_has_permission(r_viewer, 1, "conversations:reply"));
	CU_ASSERT_FALSE(rbac_has_permission(r_viewer, 1, "nlu:write"));
	CU_ASSERT_FALSE(rbac_has_permission(r_viewer, 1, "apikeys:write"));
	CU_ASSERT_FALSE(rbac_has_permission(r_viewer, 1, "audit:read"));

	/* Several roles: the union. */
	CU_ASSERT_TRUE(rbac_has_permission(both, 2, "conversations:reply"));
	CU_ASSERT_FALSE(rbac_has_permission(both, 1, "conversations:reply"));
	CU_ASSERT_FALSE(rbac_has_permission(both, 0, "analytics:read"));
	CU_ASSERT_FALSE(rbac_has_permission(junk, 1, "analytics:read"));
}

static void
test_assign_and_scopes(void)
{
	static const char *const agent_scopes[] = { "conversations:read", "conversations:reply" };
	static const char *const admin_scopes[] = { "users:write" };
	static const char *const bogus[] = { "root" };

	CU_ASSERT_TRUE(rbac_can_assign_role(r_platform, 1, RBAC_ROLE_PLATFORM_ADMIN));
	CU_ASSERT_TRUE(rbac_can_assign_role(r_platform, 1, RBAC_ROLE_TENANT_OWNER));
	CU_ASSERT_FALSE(rbac_can_assign_role(r_owner, 1, RBAC_ROLE_PLATFORM_ADMIN));
	CU_ASSERT_TRUE(rbac_can_assign_role(r_owner, 1, RBAC_ROLE_TENANT_OWNER));
	CU_ASSERT_TRUE(rbac_can_assign_role(r_owner, 1, RBAC_ROLE_TENANT_ADMIN));
	CU_ASSERT_TRUE(rbac_can_assign_role(r_owner, 1, RBAC_ROLE_VIEWER));
	CU_ASSERT_FALSE(rbac_can_assign_role(r_admin, 1, RBAC_ROLE_TENANT_OWNER));
	CU_ASSERT_FALSE(rbac_can_assign_role(r_admin, 1, RBAC_ROLE_TENANT_ADMIN));
	CU_ASSERT_TRUE(rbac_can_assign_role(r_admin, 1, RBAC_ROLE_AGENT));
	CU_ASSERT_TRUE(rbac_can_assign_role(r_admin, 1, RBAC_ROLE_VIEWER));
	CU_ASSERT_FALSE(rbac_can_assign_role(r_agent, 1, RBAC_ROLE_VIEWER));
	CU_ASSERT_FALSE(rbac_can_assign_role(r_viewer, 1, RBAC_ROLE_VIEWER));
	CU_ASSERT_FALSE(rbac_can_assign_role(r_platform, 1, RBAC_ROLE_COUNT));

	CU_ASSERT_TRUE(rbac_scopes_grantable(r_agent, 1, agent_scopes, 2));
	CU_ASSERT_FALSE(rbac_scopes_grantable(r_agent, 1, admin_scopes, 1));
	CU_ASSERT_TRUE(rbac_scopes_grantable(r_admin, 1, admin_scopes, 1));
	CU_ASSERT_FALSE(rbac_scopes_grantable(r_platform, 1, bogus, 1));
	CU_ASSERT_TRUE(rbac_scopes_grantable(r_viewer, 1, NULL, 0));
	CU_ASSERT_FALSE(rbac_scopes_grantable(r_viewer, 1, NULL, 1));
}

#define ASSERT_ALLOW(d) do {                                                \
	struct rbac_decision d_ = (d);                                      \
	CU_ASSERT_EQUAL(d_.status, RBAC_ALLOW);                             \
	CU_ASSERT_PTR_NULL(d_.code);                                        \
} while (0)

#define ASSERT_DENY(d, st, cd) do {                                         \
	struct rbac_decision d_ = (d);                                      \
	CU_ASSERT_EQUAL(d_.status, st);                                     \
	CU_ASSERT_STRING_EQUAL(d_.code ? d_.code : "", cd);                 \
} while (0)

static void
test_check_public_and_authenticated(void)
{
	struct rbac_principal anon, viewer = user(r_viewer, 1, NOW), key = apikey(NULL, 0);

	memset(&anon, 0, sizeof(anon));
	ASSERT_ALLOW(rbac_check(RBAC_PUBLIC, NULL, NULL, NOW));
	ASSERT_ALLOW(rbac_check(RBAC_PUBLIC, NULL, &viewer, NOW));
	ASSERT_DENY(rbac_check(RBAC_AUTHENTICATED, NULL, NULL, NOW), 401, "unauthenticated");
	ASSERT_DENY(rbac_check(RBAC_AUTHENTICATED, NULL, &anon, NOW), 401, "unauthenticated");
	ASSERT_ALLOW(rbac_check(RBAC_AUTHENTICATED, NULL, &viewer, NOW));
	ASSERT_ALLOW(rbac_check(RBAC_AUTHENTICATED, NULL, &key, NOW));
	/* Anonymous is 401 at every protected level. */
	ASSERT_DENY(rbac_check(RBAC_AUTHORIZED, "analytics:read", NULL, NOW), 401, "unauthenticated");
	ASSERT_DENY(rbac_check(RBAC_RESTRICTED, NULL, NULL, NOW), 401, "unauthenticated");
	ASSERT_DENY(rbac_check(RBAC_ADMINISTRATIVE, NULL, &anon, NOW), 401, "unauthenticated");
}

static void
test_check_authorized(void)
{
	static const char *const scopes[] = { "analytics:read", "nlu:write" };
	struct rbac_principal viewer = user(r_viewer, 1, NOW - 99999);
	struct rbac_principal key = apikey(scopes, 2);
	struct rbac_principal no_scopes = apikey(NULL, 0);

	ASSERT_ALLOW(rbac_check(RBAC_AUTHORIZED, "analytics:read", &viewer, NOW));
	ASSERT_DENY(rbac_check(RBAC_AUTHORIZED, "users:write", &viewer, NOW), 403, "forbidden");
	/* A route that forgot its permission denies instead of allowing. */
	ASSERT_DENY(rbac_check(RBAC_AUTHORIZED, NULL, &viewer, NOW), 403, "forbidden");
	ASSERT_DENY(rbac_check(RBAC_AUTHORIZED, "no:such", &viewer, NOW), 403, "forbidden");
	/* API keys: their scopes, not roles. */
	ASSERT_ALLOW(rbac_check(RBAC_AUTHORIZED, "nlu:write", &key, NOW));
	ASSERT_DENY(rbac_check(RBAC_AUTHORIZED, "users:write", &key, NOW), 403, "forbidden");
	ASSERT_DENY(rbac_check(RBAC_AUTHORIZED, "analytics:read", &no_scopes, NOW), 403, "forbidden");
	key.roles = r_platform;
	key.nroles = 1;
	ASSERT_DENY(rbac_check(RBAC_AUTHORIZED, "users:write", &key, NOW), 403, "forbidden");
}

static void
test_check_restricted(void)
{
	static const char *const scopes[] = { "config:write" };
	const int64_t max = RBAC_RESTRICTED_MAX_AGE_S;
	struct rbac_principal p;

	p = user(r_owner, 1, NOW);
	ASSERT_ALLOW(rbac_check(RBAC_RESTRICTED, "config:write", &p, NOW));
	p = user(r_owner, 1, NOW - max + 1);
	ASSERT_ALLOW(rbac_check(RBAC_RESTRICTED, "config:write", &p, NOW));
	/* 15 minutes old: log in again (401, not 403). */
	p = user(r_owner, 1, NOW - max);
	ASSERT_DENY(rbac_check(RBAC_RESTRICTED, "config:write", &p, NOW), 401, "reauthentication_required");
	p = user(r_admin, 1, NOW - 3000);
	ASSERT_DENY(rbac_check(RBAC_RESTRICTED, NULL, &p, NOW), 401, "reauthentication_required");
	p = user(r_admin, 1, NOW - 5);
	ASSERT_ALLOW(rbac_check(RBAC_RESTRICTED, NULL, &p, NOW));
	p = user(r_platform, 1, NOW);
	ASSERT_ALLOW(rbac_check(RBAC_RESTRICTED, "config:write", &p, NOW));
	/* Not an owner/admin: 403 whatever the age, since logging in again
	 * would not help. */
	p = user(r_agent, 1, NOW);
	ASSERT_DENY(rbac_check(RBAC_RESTRICTED, NULL, &p, NOW), 403, "forbidden");
	p = user(r_viewer, 1, NOW - 99999);
	ASSERT_DENY(rbac_check(RBAC_RESTRICTED, NULL, &p, NOW), 403, "forbidden");
	/* Owner/admin lacking the route's permission. */
	p = user(r_admin, 1, NOW);
	ASSERT_DENY(rbac_check(RBAC_RESTRICTED, "tenants:admin", &p, NOW), 403, "forbidden");
	/* Token without a recorded issue time is never fresh. */
	p = user(r_owner, 1, 0);
	ASSERT_DENY(rbac_check(RBAC_RESTRICTED, NULL, &p, NOW), 401, "reauthentication_required");
	/* API keys never pass RESTRICTED, even with the scope. */
	p = apikey(scopes, 1);
	ASSERT_DENY(rbac_check(RBAC_RESTRICTED, "config:write", &p, NOW), 403, "forbidden");
}

static void
test_check_administrative(void)
{
	static const enum rbac_role many[] = { RBAC_ROLE_VIEWER, RBAC_ROLE_PLATFORM_ADMIN };
	static const char *const scopes[] = { "tenants:admin" };
	struct rbac_principal p;

	p = user(r_platform, 1, NOW - 99999);
	ASSERT_ALLOW(rbac_check(RBAC_ADMINISTRATIVE, "tenants:admin", &p, NOW));
	ASSERT_ALLOW(rbac_check(RBAC_ADMINISTRATIVE, NULL, &p, NOW));
	ASSERT_DENY(rbac_check(RBAC_ADMINISTRATIVE, "no:such", &p, NOW), 403, "forbidden");
	p = user(many, 2, NOW);
	ASSERT_ALLOW(rbac_check(RBAC_ADMINISTRATIVE, "tenants:admin", &p, NOW));
	p = user(r_owner, 1, NOW);
	ASSERT_DENY(rbac_check(RBAC_ADMINISTRATIVE, "tenants:admin", &p, NOW), 403, "forbidden");
	p = apikey(scopes, 1);
	ASSERT_DENY(rbac_check(RBAC_ADMINISTRATIVE, "tenants:admin", &p, NOW), 403, "forbidden");
	/* An out-of-range level is a route-table bug: denied. */
	p = user(r_platform, 1, NOW);
	ASSERT_DENY(rbac_check((enum rbac_level)42, NULL, &p, NOW), 403, "forbidden");
}

static const struct test_case cases[] = {
	{ "roles", test_roles },
	{ "permission table", test_permission_table },
	{ "role permissions", test_role_permissions },
	{ "role assignment and key scopes", test_assign_and_scopes },
	{ "check PUBLIC and AUTHENTICATED", test_check_public_and_authenticated },
	{ "check AUTHORIZED", test_check_authorized },
	{ "check RESTRICTED", test_check_restricted },
	{ "check ADMINISTRATIVE", test_check_administrative },
	{ NULL, NULL }
};

void
test_security_rbac_register(void)
{
	tests_add_suite("security_rbac", cases);
}
