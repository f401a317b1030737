/* db.c - lazy, reconnecting, time-bounded libpq connection (see db.h). */
#include "store/db.h"
#include "common/arena.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "http/metrics.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

/* Prepared statements.  Every query used to travel unnamed, so the server
 * parsed, analysed and planned it on every call: 45 % of a backend's CPU
 * for the worker's short statements.  Now each distinct SQL text is
 * prepared once per connection and executed by name; after five
 * executions PostgreSQL may settle on a generic plan (plan_cache_mode
 * auto) and skip planning too.  Row-level security still applies: a
 * policy's current_setting() is evaluated at execution, and a cached plan
 * is re-planned when the role changes.  The SQL texts are the program's
 * own (parameters carry the values), so their number is bounded; past
 * DB_STMT_MAX the rest go unnamed rather than evicting anything. */
#define DB_STMT_SLOTS 512u            /* power of two, >= 2 * DB_STMT_MAX */
#define DB_STMT_MAX   256u

static unsigned long
sql_hash(const char *s)
{
	unsigned long h = 1469598103934665603UL;   /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211UL;
	return h;
}

/* The slot holding sql, or the free slot where it would go. */
static struct db_stmt *
stmt_slot(struct db *db, const char *sql, unsigned long h)
{
	unsigned i = (unsigned)h & (DB_STMT_SLOTS - 1);

	for (;; i = (i + 1) & (DB_STMT_SLOTS - 1)) {
		struct db_stmt *st = &db->stmts[i];

		if (st->sql == NULL || (st->hash == h && strcmp(st->sql, sql) == 0))
			return st;
	}
}

/* The server forgets a connection's statements with it. */
static void
stmts_forget(struct db *db)
{
	unsigned i;

	if (db->stmts == NULL)
		return;
	for (i = 0; i < DB_STMT_SLOTS; i++)
		free(db->stmts[i].sql);
	memset(db->stmts, 0, DB_STMT_SLOTS * sizeof(*db->stmts));
	db->n_stmts = 0;
}

/* One statement's entry gone (its plan went stale): rebuild the table
 * without it, since open addressing cannot just blank a slot. */
static void
stmt_remove(struct db *db, struct db_stmt *gone)
{
	struct db_stmt *old = db->stmts;
	unsigned i;

	db->stmts = xcalloc(DB_STMT_SLOTS, sizeof(*db->stmts));
	db->n_stmts = 0;
	for (i = 0; i < DB_STMT_SLOTS; i++) {
		if (old[i].sql == NULL)
			continue;
		if (&old[i] == gone) {
			free(old[i].sql);
			continue;
		}
		*stmt_slot(db, old[i].sql, old[i].hash) = old[i];
		db->n_stmts++;
	}
	free(old);
}

void
db_init(struct db *db, const char *conninfo, int query_timeout_ms,
    struct metrics *metrics)
{
	memset(db, 0, sizeof(*db));
	db->conninfo = xstrdup(conninfo);
	db->stmts = xcalloc(DB_STMT_SLOTS, sizeof(*db->stmts));
	db->query_timeout_ms = query_timeout_ms > 0 ? query_timeout_ms : 5000;
	db->metrics = metrics;
}

static void
drop(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	db->in_tx = false;
	stmts_forget(db);
}

void
db_cleanup(struct db *db)
{
	if (db == NULL)
		return;
	drop(db);
	free(db->stmts);
	db->stmts = NULL;
	free(db->conninfo);
	db->conninfo = NULL;
}

/* Server NOTICEs ("relation already exists, skipping") are not errors;
 * keep them out of stderr and out of the JSON logs' error stream. */
static void
quiet_notice(void *arg, const char *message)
{
	(void)arg;
	log_msg(LOG_DEBUG, "db_notice", "%s", message);
}

int
db_connect(struct db *db, struct gacp_err *err)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return GACP_OK;
	drop(db);
	db->conn = PQconnectdb(db->conninfo);
	metrics_counter_add(db->metrics, MC_DB_RECONNECTS, 1);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		log_msg(LOG_WARN, "db_connect_failed", "%s",
		    PQerrorMessage(db->conn));
		metrics_counter_add(db->metrics, MC_DB_ERRORS, 1);
		drop(db);
		return gacp_err_set(err, GACP_EUNAVAIL, "dependency_unavailable",
		    "database unavailable");
	}
	PQsetNoticeProcessor(db->conn, quiet_notice, NULL);
	return GACP_OK;
}

/* Wait until the socket is ready in the wanted direction or the deadline
 * passes.  Returns 1 ready, 0 timeout, -1 error. */
static int
wait_socket(PGconn *conn, short events, int64_t deadline_us)
{
	struct pollfd pfd;
	int64_t left_us;
	int rc;

	pfd.fd = PQsocket(conn);
	pfd.events = events;
	if (pfd.fd < 0)
		return -1;
	for (;;) {
		left_us = deadline_us - util_mono_us();
		if (left_us <= 0)
			return 0;
		rc = poll(&pfd, 1, (int)((left_us + 999) / 1000));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -1;
		return rc > 0 ? 1 : 0;
	}
}

static void
clear_result(void *p)
{
	PQclear(p);
}

static int
classify_failure(struct db *db, PGresult *res, struct gacp_err *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	snprintf(db->last_sqlstate, sizeof(db->last_sqlstate), "%s", state ? state : "");
	if (PQstatus(db->conn) != CONNECTION_OK) {
		metrics_counter_add(db->metrics, MC_DB_ERRORS, 1);
		log_msg(LOG_WARN, "db_connection_lost", "%s",
		    PQerrorMessage(db->conn));
		drop(db);
		return gacp_err_set(err, GACP_EUNAVAIL, "dependency_unavailable",
		    "database unavailable");
	}
	log_msg(LOG_WARN, "db_query_failed", "sqlstate %s: %s",
	    state ? state : "?", res ? PQresultErrorMessage(res) :
	    PQerrorMessage(db->conn));
	/* 25006: this server is (now) a standby, e.g. the old primary came
	 * back as one, or a connection string without
	 * target_session_attrs=read-write reached the replica; 57P0x: the
	 * server is shutting down or not yet accepting connections.  Either
	 * way this connection is no good: drop it, so the next call connects
	 * again and libpq walks the host list to the read-write server. */
	if (state != NULL && (strcmp(state, "25006") == 0 ||
	    strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
	    strcmp(state, "57P03") == 0)) {
		metrics_counter_add(db->metrics, MC_DB_ERRORS, 1);
		drop(db);
		return gacp_err_set(err, GACP_EUNAVAIL, "dependency_unavailable",
		    "database unavailable");
	}
	if (state != NULL && strcmp(state, "23505") == 0)
		return gacp_err_set(err, GACP_ECONFLICT, "conflict",
		    "a resource with the same unique key already exists");
	if (state != NULL && (strncmp(state, "22", 2) == 0 ||
	    strcmp(state, "23502") == 0 || strcmp(state, "23514") == 0 ||
	    strcmp(state, "23503") == 0))
		return gacp_err_set(err, GACP_EINVAL, "validation_failed",
		    "a value was rejected by the database");
	if (state != NULL && strcmp(state, "42501") == 0)
		return gacp_err_set(err, GACP_EFORBIDDEN, "forbidden",
		    "not permitted");
	if (state != NULL && (strcmp(state, "57014") == 0 ||
	    (strncmp(state, "08", 2) == 0 && strcmp(state, "08P01") != 0))) {
		metrics_counter_add(db->metrics, MC_DB_ERRORS, 1);
		return gacp_err_set(err, GACP_EUNAVAIL, "dependency_unavailable",
		    "database unavailable");
	}
	metrics_counter_add(db->metrics, MC_DB_ERRORS, 1);
	return gacp_err_set(err, GACP_EINTERNAL, "internal",
	    "database error");
}

static int exec_once(struct db *db, struct arena *a, const char *sql,
    int nparams, const char *const *params, PGresult **out,
    struct gacp_err *err);

int
db_exec(struct db *db, struct arena *a, const char *sql, int nparams,
    const char *const *params, PGresult **out, struct gacp_err *err)
{
	bool reused = db->conn != NULL && !db->in_tx;
	int rc = exec_once(db, a, sql, nparams, params, out, err);

	/* A connection that sat idle while the server restarted only shows
	 * it is dead when used.  Outside a transaction nothing was done on
	 * it, so one retry on a fresh connection is safe and spares the
	 * caller a spurious 503. */
	if (rc == GACP_EUNAVAIL && reused && db->conn == NULL)
		rc = exec_once(db, a, sql, nparams, params, out, err);
	/* A prepared statement whose plan went stale (see exec_once) is
	 * prepared again; outside a transaction nothing else was affected. */
	else if (rc != GACP_OK && reused && db->conn != NULL &&
	    strcmp(db->last_sqlstate, "0A000") == 0)
		rc = exec_once(db, a, sql, nparams, params, out, err);
	return rc;
}

/* Send what is queued on the connection, then read results until the
 * query is done; the last one is the query's.  *out is owned by the arena
 * on success; NULL with the failure classified otherwise. */
static int
collect(struct db *db, struct arena *a, int64_t deadline, PGresult **out,
    struct gacp_err *err)
{
	PGresult *res, *final = NULL;
	int rc;

	*out = NULL;
	/* Flush the query out (it may not fit the socket buffer at once). */
	for (;;) {
		int f = PQflush(db->conn);
		if (f == 0)
			break;
		if (f < 0 || wait_socket(db->conn, POLLOUT, deadline) <= 0)
			goto timeout;
	}
	for (;;) {
		while (PQisBusy(db->conn)) {
			int w = wait_socket(db->conn, POLLIN, deadline);
			if (w <= 0)
				goto timeout;
			if (!PQconsumeInput(db->conn)) {
				/* final may hold the server's last word (57P01
				 * before it closed): classify by it, then free
				 * it (found by the integration suite under
				 * LeakSanitizer, scripts/test stage 3). */
				rc = classify_failure(db, final, err);
				if (final != NULL)
					PQclear(final);
				return rc;
			}
		}
		res = PQgetResult(db->conn);
		if (res == NULL)
			break;
		if (final != NULL)
			PQclear(final);
		final = res;
	}
	if (final == NULL)
		return classify_failure(db, NULL, err);
	arena_defer(a, clear_result, final);
	if (PQresultStatus(final) != PGRES_TUPLES_OK &&
	    PQresultStatus(final) != PGRES_COMMAND_OK)
		return classify_failure(db, final, err);
	*out = final;
	return GACP_OK;
timeout:
	/* The connection state is unknown after an abandoned query: drop it
	 * and let the next call reconnect. */
	if (final != NULL)
		PQclear(final);
	metrics_counter_add(db->metrics, MC_DB_ERRORS, 1);
	log_msg(LOG_WARN, "db_timeout", "query exceeded %d ms; connection reset",
	    db->query_timeout_ms);
	drop(db);
	return gacp_err_set(err, GACP_EUNAVAIL, "dependency_unavailable",
	    "database did not answer in time");
}

static int
exec_once(struct db *db, struct arena *a, const char *sql, int nparams,
    const char *const *params, PGresult **out, struct gacp_err *err)
{
	int64_t deadline = util_mono_us() + (int64_t)db->query_timeout_ms * 1000;
	unsigned long h = sql_hash(sql);
	struct db_stmt *st;
	char name[40];
	int rc;

	*out = NULL;
	db->last_sqlstate[0] = '\0';
	if ((rc = db_connect(db, err)) != GACP_OK)
		return rc;
	st = stmt_slot(db, sql, h);
	if (st->sql == NULL && db->n_stmts < DB_STMT_MAX && !db->no_prepare) {
		PGresult *prepared;

		/* First use on this connection: prepare it.  A failure here
		 * is the statement's own (syntax, aborted transaction) and
		 * is reported as executing it would have been. */
		snprintf(name, sizeof(name), "gacp_%u", db->next_stmt_id);
		if (!PQsendPrepare(db->conn, name, sql, nparams, NULL))
			return classify_failure(db, NULL, err);
		if ((rc = collect(db, a, deadline, &prepared, err)) != GACP_OK)
			return rc;
		st->sql = xstrdup(sql);
		st->hash = h;
		st->id = db->next_stmt_id++;
		db->n_stmts++;
	}
	if (st->sql != NULL) {
		snprintf(name, sizeof(name), "gacp_%u", st->id);
		if (!PQsendQueryPrepared(db->conn, name, nparams, params, NULL,
		    NULL, 0))
			return classify_failure(db, NULL, err);
	} else if (!PQsendQueryParams(db->conn, sql, nparams, NULL, params,
	    NULL, NULL, 0)) {
		return classify_failure(db, NULL, err);
	}
	rc = collect(db, a, deadline, out, err);
	/* 0A000 "cached plan must not change result type": a migration
	 * altered a table under a prepared statement.  Forget it, so the
	 * next call prepares it afresh, and free it on the server unless a
	 * transaction (now aborted) is open: then it stays, unused, until
	 * the connection closes. */
	if (rc != GACP_OK && db->conn != NULL && st->sql != NULL &&
	    strcmp(db->last_sqlstate, "0A000") == 0) {
		char state[sizeof(db->last_sqlstate)];
		PGresult *ignored;
		struct gacp_err ignored_err;

		snprintf(name, sizeof(name), "DEALLOCATE gacp_%u", st->id);
		memcpy(state, db->last_sqlstate, sizeof(state));
		stmt_remove(db, st);
		if (!db->in_tx && PQsendQueryParams(db->conn, name, 0, NULL,
		    NULL, NULL, NULL, 0))
			(void)collect(db, a, deadline, &ignored, &ignored_err);
		memcpy(db->last_sqlstate, state, sizeof(state));
	}
	return rc;
}

/* BEGIN and set_config in one round trip (libpq pipeline mode): every
 * request's transaction starts this way, so the saved round trip counts. */
static int
begin_pipelined(struct db *db, struct arena *a, const char *tenant_id,
    struct gacp_err *err)
{
	int64_t deadline = util_mono_us() + (int64_t)db->query_timeout_ms * 1000;
	const char *params[1] = { tenant_id ? tenant_id : "" };
	PGresult *res;
	int rc, i, failed = 0;

	if ((rc = db_connect(db, err)) != GACP_OK)
		return rc;
	if (!PQenterPipelineMode(db->conn))
		return classify_failure(db, NULL, err);
	if (!PQsendQueryParams(db->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsendQueryParams(db->conn,
	    "SELECT set_config('app.tenant_id', $1, true)", 1, NULL, params,
	    NULL, NULL, 0) ||
	    !PQpipelineSync(db->conn))
		goto broken;
	for (;;) {
		int f = PQflush(db->conn);
		if (f == 0)
			break;
		if (f < 0 || wait_socket(db->conn, POLLOUT, deadline) <= 0)
			goto timeout;
	}
	/* Two results (each followed by NULL), then the sync marker. */
	for (i = 0; i < 3; i++) {
		for (;;) {
			while (PQisBusy(db->conn)) {
				int w = wait_socket(db->conn, POLLIN, deadline);
				if (w <= 0)
					goto timeout;
				if (!PQconsumeInput(db->conn))
					goto broken;
			}
			res = PQgetResult(db->conn);
			if (res == NULL)
				break;
			if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
				PQclear(res);
				goto done;
			}
			if (PQresultStatus(res) != PGRES_COMMAND_OK &&
			    PQresultStatus(res) != PGRES_TUPLES_OK && !failed) {
				failed = 1;
				arena_defer(a, clear_result, res);
				rc = classify_failure(db, res, err);
				if (db->conn == NULL)
					return rc;
				continue;
			}
			PQclear(res);
		}
	}
done:
	PQexitPipelineMode(db->conn);
	if (failed) {
		db->in_tx = true;     /* BEGIN may have run: end it */
		db_rollback(db, a);
		return rc;
	}
	db->in_tx = true;
	return GACP_OK;
broken:
	return classify_failure(db, NULL, err);
timeout:
	metrics_counter_add(db->metrics, MC_DB_ERRORS, 1);
	log_msg(LOG_WARN, "db_timeout", "BEGIN exceeded %d ms; connection reset",
	    db->query_timeout_ms);
	drop(db);
	return gacp_err_set(err, GACP_EUNAVAIL, "dependency_unavailable",
	    "database did not answer in time");
}

int
db_begin(struct db *db, struct arena *a, const char *tenant_id,
    struct gacp_err *err)
{
	bool reused;
	int rc;

	/* Inside the request's transaction (opened by the access check),
	 * join it: re-bind the tenant rather than nest a BEGIN. */
	if (db->in_tx && db->conn != NULL)
		return db_set_tenant(db, a, tenant_id, err);
	reused = db->conn != NULL;
	rc = begin_pipelined(db, a, tenant_id, err);
	/* As db_exec: a connection that died while idle gets one retry. */
	if (rc == GACP_EUNAVAIL && reused && db->conn == NULL)
		rc = begin_pipelined(db, a, tenant_id, err);
	return rc;
}

int
db_set_tenant(struct db *db, struct arena *a, const char *tenant_id,
    struct gacp_err *err)
{
	PGresult *res;
	const char *params[1];

	if (!db->in_tx)
		return gacp_err_set(err, GACP_EINTERNAL, "internal",
		    "no transaction to bind to a tenant");
	params[0] = tenant_id ? tenant_id : "";
	return db_exec(db, a, "SELECT set_config('app.tenant_id', $1, true)",
	    1, params, &res, err);
}

int
db_set_platform_admin(struct db *db, struct arena *a, struct gacp_err *err)
{
	PGresult *res;

	if (!db->in_tx)
		return gacp_err_set(err, GACP_EINTERNAL, "internal",
		    "no transaction for the platform scope");
	return db_exec(db, a,
	    "SELECT set_config('app.platform_admin', 'on', true)", 0, NULL,
	    &res, err);
}

int
db_commit(struct db *db, struct arena *a, struct gacp_err *err)
{
	PGresult *res;
	int rc = db_exec(db, a, "COMMIT", 0, NULL, &res, err);

	db->in_tx = false;
	return rc;
}

void
db_rollback(struct db *db, struct arena *a)
{
	PGresult *res;

	if (!db->in_tx || db->conn == NULL)
		return;
	db->in_tx = false;
	(void)db_exec(db, a, "ROLLBACK", 0, NULL, &res, NULL);
}

void
db_set_prepare(struct db *db, bool prepare)
{
	db->no_prepare = !prepare;
}

const char *
db_last_sqlstate(const struct db *db)
{
	return db->last_sqlstate;
}

int
db_ping(struct db *db, struct gacp_err *err)
{
	struct arena a;
	PGresult *res;
	int rc;

	/* A private arena: readiness probes run outside any request state. */
	arena_init(&a, 1024);
	rc = db_exec(db, &a, "SELECT 1", 0, NULL, &res, err);
	arena_cleanup(&a);
	return rc;
}
