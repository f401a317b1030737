/* test_db.c - store/db.c against the real PostgreSQL: statements are
 * prepared once per connection and executed by name, a failed statement
 * is neither cached nor fatal, a plan made stale by a migration is
 * prepared again, and a new connection starts with an empty cache; and the
 * worker's conversation lock (one statement) under two concurrent turns. */
#include "itest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "messenger/store.h"
#include "store/db.h"

#include <pthread.h>
#include <sys/time.h>
#include <time.h>

/* How many statements the server holds prepared for db's connection
 * whose text is sql (pg_prepared_statements is per session). */
static long
prepared_count(struct db *db, struct arena *a, const char *sql)
{
	const char *p[1] = { sql };
	PGresult *res;
	struct gacp_err err;

	gacp_err_clear(&err);
	/* Asked unnamed-or-named through db_exec itself: the count query is
	 * a statement like any other. */
	if (db_exec(db, a, "SELECT count(*) FROM pg_prepared_statements "
	    "WHERE statement = $1", 1, p, &res, &err) != GACP_OK)
		return -1;
	return atol(PQgetvalue(res, 0, 0));
}

static void
open_owner(struct db *db)
{
	db_init(db, itest_env("GACP_DB_URL", ""), 5000, NULL);
}

static void
test_prepared_once_and_reused(void)
{
	static const char sql[] = "SELECT $1::int + 1";
	struct db db;
	struct arena a;
	struct gacp_err err;
	PGresult *res;
	char v[16];
	const char *p[1] = { v };
	int i;

	open_owner(&db);
	arena_init(&a, 4096);
	gacp_err_clear(&err);
	for (i = 0; i < 20; i++) {
		snprintf(v, sizeof(v), "%d", i);
		CU_ASSERT_EQUAL_FATAL(db_exec(&db, &a, sql, 1, p, &res, &err),
		    GACP_OK);
		CU_ASSERT_EQUAL(atoi(PQgetvalue(res, 0, 0)), i + 1);
	}
	/* Twenty executions, one statement on the server. */
	CU_ASSERT_EQUAL(prepared_count(&db, &a, sql), 1);
	/* NULL parameters still mean SQL NULL when executed by name. */
	p[0] = NULL;
	CU_ASSERT_EQUAL(db_exec(&db, &a, sql, 1, p, &res, &err), GACP_OK);
	CU_ASSERT_TRUE(PQgetisnull(res, 0, 0));
	arena_cleanup(&a);
	db_cleanup(&db);
}

static void
test_failed_statement_not_cached(void)
{
	static const char bad[] = "SELEC 1";
	static const char divide[] = "SELECT 1 / $1::int";
	struct db db;
	struct arena a;
	struct gacp_err err;
	PGresult *res;
	const char *zero[1] = { "0" }, *two[1] = { "2" };

	open_owner(&db);
	arena_init(&a, 4096);
	gacp_err_clear(&err);
	/* A syntax error fails at prepare time: an error, nothing cached,
	 * and the connection goes on serving. */
	CU_ASSERT_EQUAL(db_exec(&db, &a, bad, 0, NULL, &res, &err),
	    GACP_EINTERNAL);
	CU_ASSERT_EQUAL(prepared_count(&db, &a, bad), 0);
	/* An execution-time error (22012) keeps the prepared statement:
	 * the next call with good values uses it. */
	CU_ASSERT_EQUAL(db_exec(&db, &a, divide, 1, zero, &res, &err),
	    GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(db_last_sqlstate(&db), "22012");
	CU_ASSERT_EQUAL_FATAL(db_exec(&db, &a, divide, 1, two, &res, &err),
	    GACP_OK);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "0");
	CU_ASSERT_EQUAL(prepared_count(&db, &a, divide), 1);
	/* Inside a transaction a failed prepare aborts it, as executing
	 * would; the rollback recovers and the statement works after. */
	CU_ASSERT_EQUAL_FATAL(db_begin(&db, &a, NULL, &err), GACP_OK);
	CU_ASSERT_NOT_EQUAL(db_exec(&db, &a, bad, 0, NULL, &res, &err),
	    GACP_OK);
	CU_ASSERT_NOT_EQUAL(db_exec(&db, &a, divide, 1, two, &res, &err),
	    GACP_OK);       /* 25P02: the transaction is aborted */
	db_rollback(&db, &a);
	CU_ASSERT_EQUAL(db_exec(&db, &a, divide, 1, two, &res, &err), GACP_OK);
	arena_cleanup(&a);
	db_cleanup(&db);
}

static void
test_stale_plan_prepared_again(void)
{
	static const char sel[] = "SELECT * FROM itest_db_stale WHERE a = $1";
	struct db db;
	struct arena a;
	struct gacp_err err;
	PGresult *res;
	const char *one[1] = { "1" };

	open_owner(&db);
	arena_init(&a, 4096);
	gacp_err_clear(&err);
	CU_ASSERT_EQUAL_FATAL(db_exec(&db, &a, "DROP TABLE IF EXISTS "
	    "itest_db_stale", 0, NULL, &res, &err), GACP_OK);
	CU_ASSERT_EQUAL_FATAL(db_exec(&db, &a, "CREATE TABLE itest_db_stale "
	    "(a int, b text)", 0, NULL, &res, &err), GACP_OK);
	CU_ASSERT_EQUAL_FATAL(db_exec(&db, &a, "INSERT INTO itest_db_stale "
	    "VALUES (1, 'x')", 0, NULL, &res, &err), GACP_OK);
	CU_ASSERT_EQUAL_FATAL(db_exec(&db, &a, sel, 1, one, &res, &err),
	    GACP_OK);
	CU_ASSERT_EQUAL(PQnfields(res), 2);
	/* What a migration does under a running process: the result's
	 * shape changes, which a prepared "SELECT *" cannot follow (0A000
	 * "cached plan must not change result type").  db_exec prepares
	 * it again and answers with the new shape. */
	CU_ASSERT_EQUAL_FATAL(db_exec(&db, &a, "ALTER TABLE itest_db_stale "
	    "ADD COLUMN c int DEFAULT 7", 0, NULL, &res, &err), GACP_OK);
	CU_ASSERT_EQUAL_FATAL(db_exec(&db, &a, sel, 1, one, &res, &err),
	    GACP_OK);
	CU_ASSERT_EQUAL(PQnfields(res), 3);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 2), "7");
	CU_ASSERT_EQUAL(prepared_count(&db, &a, sel), 1);
	(void)db_exec(&db, &a, "DROP TABLE itest_db_stale", 0, NULL, &res,
	    &err);
	arena_cleanup(&a);
	db_cleanup(&db);
}

static void
test_new_connection_prepares_again(void)
{
	static const char sql[] = "SELECT pg_backend_pid()";
	struct db db;
	struct arena a;
	struct gacp_err err;
	PGresult *res;
	char *first;
	const char *p[1];

	open_owner(&db);
	arena_init(&a, 4096);
	gacp_err_clear(&err);
	CU_ASSERT_EQUAL_FATAL(db_exec(&db, &a, sql, 0, NULL, &res, &err),
	    GACP_OK);
	first = strdup(PQgetvalue(res, 0, 0));
	/* The server ends the session (as a failover or restart would);
	 * the next call reconnects, and the statement the old session had
	 * prepared is prepared on the new one instead of being executed by
	 * a name the new session does not know. */
	{
		struct db killer;

		open_owner(&killer);
		p[0] = first;
		CU_ASSERT_EQUAL(db_exec(&killer, &a, "SELECT "
		    "pg_terminate_backend($1::int)", 1, p, &res, &err), GACP_OK);
		db_cleanup(&killer);
	}
	/* The first call after the kill may report the lost connection
	 * (inside no transaction, db_exec retries once on a fresh one). */
	CU_ASSERT_EQUAL_FATAL(db_exec(&db, &a, sql, 0, NULL, &res, &err),
	    GACP_OK);
	CU_ASSERT_STRING_NOT_EQUAL(PQgetvalue(res, 0, 0), first);
	CU_ASSERT_EQUAL(prepared_count(&db, &a, sql), 1);
	free(first);
	arena_cleanup(&a);
	db_cleanup(&db);
}

static void
test_prepare_off(void)
{
	static const char sql[] = "SELECT $1::int * 3";
	struct db db;
	struct arena a;
	struct gacp_err err;
	PGresult *res;
	const char *p[1] = { "5" };
	int i;

	/* database.prepared_statements = false: for a pooler in
	 * transaction mode, nothing may be left prepared in the session. */
	open_owner(&db);
	db_set_prepare(&db, false);
	arena_init(&a, 4096);
	gacp_err_clear(&err);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL_FATAL(db_exec(&db, &a, sql, 1, p, &res, &err),
		    GACP_OK);
		CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "15");
	}
	CU_ASSERT_EQUAL(prepared_count(&db, &a, sql), 0);
	CU_ASSERT_EQUAL(prepared_count(&db, &a,
	    "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1"),
	    0);
	arena_cleanup(&a);
	db_cleanup(&db);
}

/* ---- the worker's conversation lock (messenger/store.c) ------------------ */

/* The demo page's tenant and channel, through the webhook's resolver
 * (the application role sees channels only inside its tenant). */
static bool
demo_channel(struct db *db, struct arena *a, char tenant[37], char channel[37])
{
	const char *p[1] = { getenv("DEMO_PAGE_ID") };
	PGresult *res;
	struct gacp_err err;

	gacp_err_clear(&err);
	if (p[0] == NULL || db_exec(db, a, "SELECT tenant_id, id FROM "
	    "gacp_channel_by_page($1)", 1, p, &res, &err) != GACP_OK ||
	    PQntuples(res) != 1)
		return false;
	snprintf(tenant, 37, "%s", PQgetvalue(res, 0, 0));
	snprintf(channel, 37, "%s", PQgetvalue(res, 0, 1));
	return true;
}

/* One turn's lock on its own connection, run in a thread. */
struct lock_turn {
	struct db               db;
	struct arena            a;
	const char             *tenant, *channel, *psid;
	struct mxs_conversation conv;
	int                     rc;
	int                     done;       /* set (atomically) when returned */
};

static void *
lock_turn_run(void *arg)
{
	struct lock_turn *t = arg;
	struct gacp_err err;

	gacp_err_clear(&err);
	t->rc = db_begin(&t->db, &t->a, t->tenant, &err);
	if (t->rc == GACP_OK)
		t->rc = mxs_conversation_lock(&t->db, &t->a, t->tenant,
		    t->channel, t->psid, &t->conv, &err);
	if (t->rc == GACP_OK)
		t->rc = db_commit(&t->db, &t->a, &err);
	else
		db_rollback(&t->db, &t->a);
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* While turn A holds the conversation (created or locked, and its status
 * changed, not committed), turn B of the same person must wait, then get
 * the same conversation with A's committed status.  A new person takes
 * the path where B's statement cannot see the conversation A created
 * (B's snapshot predates A's commit) and reads it again; an existing one
 * takes the row lock inside the statement. */
static void
lock_while_held(const char *tenant, const char *channel, const char *psid,
    const char *set_status)
{
	struct db dba;
	struct arena a;
	struct mxs_conversation conv;
	struct lock_turn b;
	struct gacp_err err;
	pthread_t th;
	PGresult *res;
	const char *url = itest_env("GACP_APP_DB_URL", "");
	struct timespec pause = { 0, 300 * 1000000L };

	db_init(&dba, url, 10000, NULL);
	arena_init(&a, 4096);
	memset(&b, 0, sizeof(b));
	db_init(&b.db, url, 10000, NULL);
	arena_init(&b.a, 4096);
	b.tenant = tenant;
	b.channel = channel;
	b.psid = psid;
	gacp_err_clear(&err);
	CU_ASSERT_EQUAL_FATAL(db_begin(&dba, &a, tenant, &err), GACP_OK);
	CU_ASSERT_EQUAL_FATAL(mxs_conversation_lock(&dba, &a, tenant, channel,
	    psid, &conv, &err), GACP_OK);
	{
		const char *p[3] = { tenant, conv.id, set_status };
		CU_ASSERT_EQUAL_FATAL(db_exec(&dba, &a, "UPDATE conversations "
		    "SET status = $3 WHERE tenant_id = $1 AND id = $2", 3, p,
		    &res, &err), GACP_OK);
	}
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, lock_turn_run, &b), 0);
	nanosleep(&pause, NULL);
	/* Still waiting for A (whatever B had reached by now). */
	CU_ASSERT_EQUAL(__atomic_load_n(&b.done, __ATOMIC_SEQ_CST), 0);
	CU_ASSERT_EQUAL(db_commit(&dba, &a, &err), GACP_OK);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(b.rc, GACP_OK);
	if (b.rc == GACP_OK) {
		CU_ASSERT_STRING_EQUAL(b.conv.id, conv.id);
		CU_ASSERT_STRING_EQUAL(b.conv.contact_id, conv.contact_id);
		CU_ASSERT_STRING_EQUAL(b.conv.status, set_status);
	}
	arena_cleanup(&b.a);
	db_cleanup(&b.db);
	arena_cleanup(&a);
	db_cleanup(&dba);
}

static void
test_conversation_lock_concurrent(void)
{
	struct db db;
	struct arena a;
	char tenant[37], channel[37], psid[48];
	struct timeval tv;

	db_init(&db, itest_env("GACP_APP_DB_URL", ""), 5000, NULL);
	arena_init(&a, 4096);
	CU_ASSERT_TRUE_FATAL(demo_channel(&db, &a, tenant, channel));
	gettimeofday(&tv, NULL);
	snprintf(psid, sizeof(psid), "9%lld%06ld", (long long)tv.tv_sec,
	    (long)tv.tv_usec);
	/* New person: both turns create; B re-reads after A commits. */
	lock_while_held(tenant, channel, psid, "handoff");
	/* Same person again: the conversation exists; B's row lock waits
	 * and then reads A's committed status. */
	lock_while_held(tenant, channel, psid, "bot");
	arena_cleanup(&a);
	db_cleanup(&db);
}

void itest_db_register(void);

void
itest_db_register(void)
{
	static const struct test_case cases[] = {
		{ "a statement is prepared once and executed by name",
		    test_prepared_once_and_reused },
		{ "a failed statement is not cached and does not break the "
		    "connection", test_failed_statement_not_cached },
		{ "a plan made stale by ALTER TABLE is prepared again",
		    test_stale_plan_prepared_again },
		{ "a new connection prepares its statements again",
		    test_new_connection_prepares_again },
		{ "with prepared statements off nothing is prepared",
		    test_prepare_off },
		{ "conversation lock: a second turn of the same person waits "
		    "and sees the first one's commit", test_conversation_lock_concurrent },
		{ NULL, NULL },
	};
	tests_add_suite("db", cases);
}
