/* aggregate.c - incremental, idempotent analytics batch (aggregate.h). */
#include "analytics/aggregate.h"
#include "common/arena.h"
#include "common/util.h"
#include "store/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANALYTICS_LOCK_KEY "7473202"

/* One statement per table: recompute [from, to) of unit ('hour'|'day').
 * $1 tenant, $2 from, $3 to, $4 handoff intent. */
#define AGGREGATE_SQL(table, unit) \
	"INSERT INTO " table " (tenant_id, bucket_start, channel_id, intent, " \
	"language, messages_in, messages_out, unique_contacts, new_contacts, " \
	"fallbacks, handoffs, confidence_avg, confidence_p50, confidence_p95, " \
	"latency_p50_ms, latency_p95_ms, failed_sends) " \
	"SELECT m.tenant_id, date_trunc('" unit "', m.created_at) AS b, " \
	"m.channel_id, coalesce(m.intent, ''), coalesce(m.language, ''), " \
	"count(*) FILTER (WHERE m.direction = 'in'), " \
	"count(*) FILTER (WHERE m.direction = 'out'), " \
	"count(DISTINCT m.contact_id) FILTER (WHERE m.direction = 'in'), " \
	"count(DISTINCT m.contact_id) FILTER (WHERE m.direction = 'in' AND " \
	"  date_trunc('" unit "', c.first_seen_at) = date_trunc('" unit "', m.created_at)), " \
	"count(*) FILTER (WHERE m.direction = 'in' AND m.intent = 'nlu_fallback'), " \
	"count(*) FILTER (WHERE m.direction = 'in' AND m.intent = $4), " \
	"avg(m.confidence) FILTER (WHERE m.direction = 'in'), " \
	"percentile_cont(0.5) WITHIN GROUP (ORDER BY m.confidence) " \
	"  FILTER (WHERE m.direction = 'in'), " \
	"percentile_cont(0.95) WITHIN GROUP (ORDER BY m.confidence) " \
	"  FILTER (WHERE m.direction = 'in'), " \
	"percentile_cont(0.5) WITHIN GROUP (ORDER BY m.latency_ms) " \
	"  FILTER (WHERE m.direction = 'out' AND m.status = 'sent'), " \
	"percentile_cont(0.95) WITHIN GROUP (ORDER BY m.latency_ms) " \
	"  FILTER (WHERE m.direction = 'out' AND m.status = 'sent'), " \
	"count(*) FILTER (WHERE m.direction = 'out' AND m.status = 'failed') " \
	"FROM messages m JOIN contacts c ON c.tenant_id = m.tenant_id AND " \
	"  c.id = m.contact_id " \
	"WHERE m.tenant_id = $1 AND m.created_at >= $2 AND m.created_at < $3 " \
	"GROUP BY 1, 2, 3, 4, 5"

static int
recompute(struct db *db, struct arena *a, const char *tenant,
    const char *from, const char *to, const char *handoff,
    struct analytics_report *rep, struct gacp_err *err)
{
	const char *p3[3] = { tenant, from, to };
	const char *p4[4] = { tenant, from, to, handoff };
	PGresult *res;
	int rc;

	if ((rc = db_exec(db, a, "SELECT count(*) FROM messages WHERE "
	    "tenant_id = $1 AND created_at >= $2 AND created_at < $3", 3, p3,
	    &res, err)) != GACP_OK)
		return rc;
	rep->rows_read += atoll(PQgetvalue(res, 0, 0));
	if ((rc = db_exec(db, a, "DELETE FROM analytics_hourly WHERE tenant_id = "
	    "$1 AND bucket_start >= $2 AND bucket_start < $3", 3, p3, &res,
	    err)) != GACP_OK ||
	    (rc = db_exec(db, a, AGGREGATE_SQL("analytics_hourly", "hour"), 4, p4,
	    &res, err)) != GACP_OK)
		return rc;
	rep->buckets_written += atoll(PQcmdTuples(res));
	if ((rc = db_exec(db, a, "DELETE FROM analytics_daily WHERE tenant_id = "
	    "$1 AND bucket_start >= $2 AND bucket_start < $3", 3, p3, &res,
	    err)) != GACP_OK ||
	    (rc = db_exec(db, a, AGGREGATE_SQL("analytics_daily", "day"), 4, p4,
	    &res, err)) != GACP_OK)
		return rc;
	rep->buckets_written += atoll(PQcmdTuples(res));
	return GACP_OK;
}

/* Range to recompute for one tenant, whole UTC days (so a day's row is
 * always rebuilt from all its messages, and every hour in it too). */
static int
range_for(struct db *db, struct arena *a, const char *tenant,
    const struct analytics_opts *o, const char *run_start, char **from,
    char **to, struct gacp_err *err)
{
	PGresult *res;
	char lag[32];
	int rc;

	if (o->rebuild_from != NULL) {
		const char *p[2] = { o->rebuild_from, o->rebuild_to ?
		    o->rebuild_to : o->rebuild_from };
		rc = db_exec(db, a, "SELECT $1::date::timestamptz::text, "
		    "($2::date + 1)::timestamptz::text", 2, p, &res, err);
		if (rc != GACP_OK)
			return rc;
	} else {
		const char *p[3] = { tenant, lag, run_start };
		snprintf(lag, sizeof(lag), "%d minutes", o->lag_minutes);
		/* From the day of (watermark - lag), or of the first message
		 * when there is no watermark; to the end of the run's day. */
		rc = db_exec(db, a, "SELECT date_trunc('day', coalesce("
		    "(SELECT watermark FROM analytics_watermarks WHERE tenant_id = $1)"
		    " - $2::interval, (SELECT min(created_at) FROM messages WHERE "
		    "tenant_id = $1), $3::timestamptz))::text, "
		    "(date_trunc('day', $3::timestamptz) + interval '1 day')::text",
		    3, p, &res, err);
		if (rc != GACP_OK)
			return rc;
	}
	*from = arena_strdup(a, PQgetvalue(res, 0, 0));
	*to = arena_strdup(a, PQgetvalue(res, 0, 1));
	return GACP_OK;
}

int
analytics_run(struct db *db, const struct analytics_opts *o,
    struct analytics_report *rep, struct gacp_err *err)
{
	struct arena a;
	PGresult *res, *tenants;
	int64_t started = util_mono_us();
	const char *run_start;
	int rc, i, locked = 0;

	memset(rep, 0, sizeof(*rep));
	arena_init(&a, 16384);
	if ((rc = db_exec(db, &a, "SELECT pg_try_advisory_lock(" ANALYTICS_LOCK_KEY
	    "), now()::text", 0, NULL, &res, err)) != GACP_OK)
		goto out;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		rc = ANALYTICS_BUSY;
		goto out;
	}
	locked = 1;
	run_start = arena_strdup(&a, PQgetvalue(res, 0, 1));
	/* Listing tenants needs the platform scope of the tenants policy. */
	if ((rc = db_begin(db, &a, NULL, err)) != GACP_OK ||
	    (rc = db_exec(db, &a, "SELECT set_config('app.platform_admin', 'on', "
	    "true)", 0, NULL, &res, err)) != GACP_OK ||
	    (rc = db_exec(db, &a, "SELECT id FROM tenants WHERE NOT is_deleted "
	    "ORDER BY id", 0, NULL, &tenants, err)) != GACP_OK ||
	    (rc = db_commit(db, &a, err)) != GACP_OK) {
		db_rollback(db, &a);
		goto out;
	}
	for (i = 0; i < PQntuples(tenants); i++) {
		const char *tenant = PQgetvalue(tenants, i, 0);
		char *from = NULL, *to = NULL;

		if ((rc = db_begin(db, &a, tenant, err)) != GACP_OK)
			goto out;
		if ((rc = db_exec(db, &a, "SET LOCAL TimeZone = 'UTC'", 0, NULL,
		    &res, err)) != GACP_OK ||
		    (rc = range_for(db, &a, tenant, o, run_start, &from, &to,
		    err)) != GACP_OK ||
		    (rc = recompute(db, &a, tenant, from, to, o->handoff_intent ?
		    o->handoff_intent : "human_handoff", rep, err)) != GACP_OK)
			goto fail;
		if (o->rebuild_from == NULL) {
			const char *p[2] = { tenant, run_start };
			if ((rc = db_exec(db, &a, "INSERT INTO analytics_watermarks "
			    "(tenant_id, watermark) VALUES ($1, $2) ON CONFLICT "
			    "(tenant_id) DO UPDATE SET watermark = EXCLUDED.watermark, "
			    "updated_at = now()", 2, p, &res, err)) != GACP_OK)
				goto fail;
		}
		if ((rc = db_commit(db, &a, err)) != GACP_OK)
			goto out;
		rep->tenants++;
		continue;
fail:
		db_rollback(db, &a);
		goto out;
	}
	rc = GACP_OK;
out:
	if (locked && db->conn != NULL)
		(void)db_exec(db, &a, "SELECT pg_advisory_unlock(" ANALYTICS_LOCK_KEY
		    ")", 0, NULL, &res, NULL);
	rep->duration_ms = (util_mono_us() - started) / 1000;
	arena_cleanup(&a);
	return rc;
}
