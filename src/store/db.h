/* db.h - the process's PostgreSQL connection (libpq).
 *
 * One connection per process, opened lazily on first use and re-opened after
 * the server went away, so a restarted PostgreSQL needs no restart of ours.
 * Every call is bounded in time: connects by connect_timeout, queries by a
 * poll(2) deadline (plus statement_timeout on the server), so a dead or hung
 * server gives GACP_EUNAVAIL ("dependency_unavailable") instead of a hang.
 *
 * Results are owned by the arena passed in (PQclear at reset).
 */
#ifndef GACP_STORE_DB_H
#define GACP_STORE_DB_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "common/err.h"

struct arena;
struct metrics;

/* One statement this connection has prepared (see db.c, "Prepared
 * statements"). */
struct db_stmt {
	char           *sql;              /* NULL: free slot */
	unsigned long   hash;
	unsigned        id;               /* server-side name "gacp_<id>" */
};

struct db {
	PGconn         *conn;
	char           *conninfo;         /* libpq connection string */
	int             query_timeout_ms; /* client-side deadline per call */
	bool            in_tx;            /* BEGIN sent, not yet ended */
	struct metrics *metrics;          /* error counters; may be NULL */
	char            last_sqlstate[6]; /* of the last failed db_exec */
	struct db_stmt *stmts;            /* open-addressed, DB_STMT_SLOTS */
	unsigned        n_stmts;          /* prepared on this connection */
	unsigned        next_stmt_id;
	bool            no_prepare;       /* send every statement unnamed */
};

/* conninfo is copied.  No connection is made here. */
void db_init(struct db *db, const char *conninfo, int query_timeout_ms,
    struct metrics *metrics);
void db_cleanup(struct db *db);
/* Connect now if needed.  0 or GACP_EUNAVAIL. */
int  db_connect(struct db *db, struct gacp_err *err);
/* Round trip "SELECT 1". */
int  db_ping(struct db *db, struct gacp_err *err);

/* Run sql with text parameters (values may be NULL for SQL NULL).  On
 * success *out is a PGRES_TUPLES_OK/PGRES_COMMAND_OK result owned by the
 * arena.  Errors: GACP_EUNAVAIL when the server is unreachable or the
 * deadline passed (connection dropped, re-opened on next use);
 * GACP_ECONFLICT for unique violations (err->code "conflict");
 * GACP_EINVAL for invalid input values (22xxx); GACP_EINTERNAL otherwise.
 * err->msg never carries SQL text; details go to the log.
 * Each distinct sql is prepared once per connection (up to DB_STMT_MAX
 * statements, then sent unnamed) and executed by name afterwards. */
int  db_exec(struct db *db, struct arena *a, const char *sql, int nparams,
    const char *const *params, PGresult **out, struct gacp_err *err);

/* BEGIN and bind the transaction to a tenant for row-level security
 * (set_config('app.tenant_id', id, true)).  tenant_id NULL: no tenant
 * (policies then match nothing).  When a transaction is already open (the
 * request's, opened by the access check), it is joined and re-bound. */
int  db_begin(struct db *db, struct arena *a, const char *tenant_id,
    struct gacp_err *err);
/* Re-bind the open transaction to another tenant (NULL: none), e.g. to
 * create a new tenant's first user in the same transaction. */
int  db_set_tenant(struct db *db, struct arena *a, const char *tenant_id,
    struct gacp_err *err);
/* Set app.platform_admin = 'on' for the open transaction: the tenants
 * policy then shows every tenant (platform administrators only; the caller
 * has checked who is asking).  Other tables keep app.tenant_id. */
int  db_set_platform_admin(struct db *db, struct arena *a,
    struct gacp_err *err);
int  db_commit(struct db *db, struct arena *a, struct gacp_err *err);
/* Roll back if a transaction is open; safe to call anytime. */
void db_rollback(struct db *db, struct arena *a);

/* SQLSTATE of the last failed db_exec, or "" (for tests and handlers). */
const char *db_last_sqlstate(const struct db *db);

/* Prepare statements (the default) or send them all unnamed: for a
 * connection pooler in transaction mode that cannot follow a session's
 * prepared statements (PgBouncer before 1.21). */
void db_set_prepare(struct db *db, bool prepare);

#endif
