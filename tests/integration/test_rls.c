/* test_rls.c - row-level security proven in the database itself: gacp_app (libpq, GACP_APP_DB_URL) bound to tenant A cannot read, update, delete or insert tenant B's rows, sees nothing with no tenant, and cannot change the audit log. */
#include "tenancy_util.h"

#include <stdio.h>
#include <string.h>

static struct tu_tenant a, b;
static bool ready;

static void
setup(void)
{
	char *tb, key[80], kid[37], uid[37];

	if (ready)
		return;
	tu_reset_ip_limit();
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("rla", NULL, &a));
	CU_ASSERT_TRUE_FATAL(tu_make_tenant("rlb", NULL, &b));
	/* B gets a user, a key, a refresh token and audit events. */
	tb = tu_login(b.slug, b.owner, b.password);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tb);
	CU_ASSERT_TRUE_FATAL(tu_make_user(tb, "bee", "agent", uid));
	CU_ASSERT_TRUE_FATAL(tu_make_key(tb, "[\"users:read\"]", key, kid));
	free(tb);
	ready = true;
}

/* Run tmpl with every "%s" replaced by arg (a tenant id). */
static long long
q(PGconn *db, const char *tenant, const char *tmpl, const char *arg,
    char state[6])
{
	char sql[1024];
	const char *p = tmpl, *hit;
	size_t n = 0;

	while ((hit = strstr(p, "%s")) != NULL &&
	    n + (size_t)(hit - p) + strlen(arg) < sizeof(sql)) {
		memcpy(sql + n, p, (size_t)(hit - p));
		n += (size_t)(hit - p);
		memcpy(sql + n, arg, strlen(arg));
		n += strlen(arg);
		p = hit + 2;
	}
	snprintf(sql + n, sizeof(sql) - n, "%s", p);
	return tu_db_scalar(db, tenant, sql, state);
}

static void
test_read_isolation(void)
{
	static const char *const tables[] = { "users", "api_keys",
	    "refresh_tokens", "audit_log", NULL };
	PGconn *db = tu_db_app();
	char sql[256];
	size_t i;

	setup();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	for (i = 0; tables[i] != NULL; i++) {
		/* B has rows... */
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[i]);
		CU_ASSERT_TRUE(tu_db_scalar(db, b.id, sql, NULL) >= 1);
		/* ...which A's transaction cannot see, even when asking for
		 * them by tenant or with no filter at all. */
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE "
		    "tenant_id = '%s'", tables[i], b.id);
		CU_ASSERT_EQUAL(tu_db_scalar(db, a.id, sql, NULL), 0);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE "
		    "tenant_id <> '%s'", tables[i], a.id);
		CU_ASSERT_EQUAL(tu_db_scalar(db, a.id, sql, NULL), 0);
		/* With no tenant set, nothing at all. */
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[i]);
		CU_ASSERT_EQUAL(tu_db_scalar(db, NULL, sql, NULL), 0);
	}
	CU_ASSERT_EQUAL(q(db, a.id, "SELECT count(*) FROM tenants WHERE id = '%s'",
	    b.id, NULL), 0);
	CU_ASSERT_EQUAL(tu_db_scalar(db, a.id, "SELECT count(*) FROM tenants",
	    NULL), 1);
	CU_ASSERT_EQUAL(tu_db_scalar(db, NULL, "SELECT count(*) FROM tenants",
	    NULL), 0);
	/* A made-up tenant id sees nothing either. */
	CU_ASSERT_EQUAL(tu_db_scalar(db, "11111111-2222-3333-4444-555555555555",
	    "SELECT count(*) FROM users", NULL), 0);
	PQfinish(db);
}

static void
test_write_isolation(void)
{
	PGconn *db = tu_db_app();
	char state[6];

	setup();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	/* UPDATE of B's rows from A: nothing matches. */
	CU_ASSERT_EQUAL(q(db, a.id, "UPDATE users SET display_name = 'pwned' "
	    "WHERE tenant_id = '%s'", b.id, state), 0);
	CU_ASSERT_EQUAL(tu_db_scalar(db, a.id, "UPDATE users SET display_name = "
	    "'pwned'", state), 1);                   /* A's own owner only */
	CU_ASSERT_EQUAL(q(db, b.id, "SELECT count(*) FROM users WHERE "
	    "display_name = 'pwned' AND tenant_id = '%s'", b.id, NULL), 0);
	CU_ASSERT_EQUAL(q(db, a.id, "UPDATE api_keys SET revoked_at = now() "
	    "WHERE tenant_id = '%s'", b.id, state), 0);
	CU_ASSERT_EQUAL(q(db, a.id, "UPDATE tenants SET status = 'suspended' "
	    "WHERE id = '%s'", b.id, state), 0);
	/* Moving A's row into B is refused by WITH CHECK. */
	CU_ASSERT_EQUAL(q(db, a.id, "UPDATE users SET tenant_id = '%s'", b.id,
	    state), -1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
	/* INSERT into B from A: refused. */
	CU_ASSERT_EQUAL(q(db, a.id, "INSERT INTO users (tenant_id, username, "
	    "password_hash, roles) VALUES ('%s', 'intruder', 'x', "
	    "ARRAY['viewer'])", b.id, state), -1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
	CU_ASSERT_EQUAL(q(db, a.id, "INSERT INTO audit_log (tenant_id, actor_type,"
	    " action) VALUES ('%s', 'system', 'forged.event')", b.id, state), -1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
	CU_ASSERT_EQUAL(q(db, a.id, "INSERT INTO api_keys (tenant_id, name, "
	    "prefix, key_hash) VALUES ('%s', 'k', '0badc0de', "
	    "repeat('0', 64))", b.id, state), -1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
	/* With no tenant, not even one's own rows can be written. */
	CU_ASSERT_EQUAL(q(db, NULL, "INSERT INTO users (tenant_id, username, "
	    "password_hash, roles) VALUES ('%s', 'ghost', 'x', ARRAY['viewer'])",
	    a.id, state), -1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
	CU_ASSERT_EQUAL(tu_db_scalar(db, NULL, "UPDATE users SET display_name = "
	    "'x'", state), 0);
	/* DELETE: gacp_app has no DELETE grant (soft delete only). */
	CU_ASSERT_EQUAL(q(db, a.id, "DELETE FROM users WHERE tenant_id = '%s'",
	    b.id, state), -1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
	CU_ASSERT_EQUAL(tu_db_scalar(db, a.id, "DELETE FROM api_keys", state), -1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
	/* B still has everything it had. */
	CU_ASSERT_EQUAL(tu_db_scalar(db, b.id, "SELECT count(*) FROM users",
	    NULL), 2);
	CU_ASSERT_EQUAL(tu_db_scalar(db, b.id, "SELECT count(*) FROM api_keys "
	    "WHERE revoked_at IS NULL", NULL), 1);
	PQfinish(db);
}

static void
test_audit_log_append_only(void)
{
	PGconn *db = tu_db_app();
	char state[6];

	setup();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	/* Even in its own tenant, the application cannot rewrite history. */
	CU_ASSERT_EQUAL(tu_db_scalar(db, b.id, "UPDATE audit_log SET action = "
	    "'nothing.happened'", state), -1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
	CU_ASSERT_EQUAL(tu_db_scalar(db, b.id, "DELETE FROM audit_log", state), -1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
	CU_ASSERT_EQUAL(tu_db_scalar(db, b.id, "TRUNCATE audit_log", state), -1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
	/* It may append to its own tenant's log. */
	CU_ASSERT_EQUAL(q(db, b.id, "INSERT INTO audit_log (tenant_id, actor_type,"
	    " action) VALUES ('%s', 'system', 'itest.append')", b.id, state), 1);
	CU_ASSERT_TRUE(tu_db_scalar(db, b.id, "SELECT count(*) FROM audit_log "
	    "WHERE action = 'user.create'", NULL) >= 1);
	PQfinish(db);
}

static void
test_app_role_owns_nothing(void)
{
	PGconn *db = tu_db_app();
	char state[6];

	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_EQUAL(tu_db_scalar(db, NULL, "SELECT count(*) FROM pg_class c "
	    "JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = current_user",
	    NULL), 0);
	CU_ASSERT_EQUAL(tu_db_scalar(db, NULL, "SELECT count(*) FROM pg_roles "
	    "WHERE rolname = current_user AND (rolsuper OR rolbypassrls)", NULL), 0);
	/* Nor may it switch row security off or create tables. */
	CU_ASSERT_EQUAL(tu_db_scalar(db, NULL, "ALTER TABLE users DISABLE ROW "
	    "LEVEL SECURITY", state), -1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
	CU_ASSERT_EQUAL(tu_db_scalar(db, NULL, "CREATE TABLE public.x (a int)",
	    state), -1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
	/* Every tenancy table forces RLS. */
	CU_ASSERT_EQUAL(tu_db_scalar(db, NULL, "SELECT count(*) FROM pg_class "
	    "WHERE relname IN ('tenants','users','refresh_tokens','api_keys',"
	    "'audit_log') AND relrowsecurity AND relforcerowsecurity", NULL), 5);
	PQfinish(db);
}

void itest_rls_register(void);

void
itest_rls_register(void)
{
	static const struct test_case cases[] = {
		{ "no cross-tenant reads; nothing without a tenant",
		    test_read_isolation },
		{ "no cross-tenant update, insert, delete", test_write_isolation },
		{ "audit log is append-only", test_audit_log_append_only },
		{ "gacp_app owns nothing", test_app_role_owns_nothing },
		{ NULL, NULL }
	};

	tests_add_suite("rls", cases);
}
