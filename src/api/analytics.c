/* analytics.c - the analytics API over analytics_hourly/analytics_daily.
 *
 *   GET /v1/analytics/summary?from=YYYY-MM-DD&to=YYYY-MM-DD
 *   GET /v1/analytics/timeseries?metric=…&interval=hour|day&from=&to=
 *   GET /v1/analytics/intents?from=&to=&limit=
 *   GET /v1/analytics/export.csv?from=&to=        (RFC 4180)
 *
 * Dates are UTC days, both inclusive; ranges are capped (366 days, or 31
 * days of hourly points).  Everything reads inside a transaction bound to
 * the caller's tenant, so row-level security scopes it.  Figures are as
 * fresh as the last gacp-analytics run (every 5 minutes).
 */
#include "api/api.h"
#include "common/json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANALYTICS_MAX_DAYS 366
#define ANALYTICS_MAX_HOURLY_DAYS 31

static int
valid_date(const char *s)
{
	int i;

	if (s == NULL || strlen(s) != 10)
		return 0;
	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Parse and check ?from&to (defaults: the last 7 days).  On failure the
 * 400 is written and -1 returned. */
static int
range(struct request_ctx *rc, int max_days, const char **from, const char **to)
{
	const char *f = http_request_query(&rc->req, "from");
	const char *t = http_request_query(&rc->req, "to");
	const char *p[2];
	struct gacp_err err;
	PGresult *res;

	gacp_err_clear(&err);
	if ((f != NULL && !valid_date(f)) || (t != NULL && !valid_date(t))) {
		api_error(rc, 400, "invalid_date", "from and to are dates YYYY-MM-DD");
		return -1;
	}
	p[0] = f;
	p[1] = t;
	/* PostgreSQL validates the calendar (2026-02-30 is refused). */
	if (db_exec(&rc->app->db, rc->arena, "SELECT coalesce($1::date, "
	    "coalesce($2::date, (now() AT TIME ZONE 'UTC')::date) - 6)::text, "
	    "coalesce($2::date, (now() AT TIME ZONE 'UTC')::date)::text, "
	    "coalesce($2::date, (now() AT TIME ZONE 'UTC')::date) - "
	    "coalesce($1::date, coalesce($2::date, (now() AT TIME ZONE 'UTC')::date) - 6)",
	    2, p, &res, &err) != GACP_OK) {
		if (err.result == GACP_EINVAL)
			api_error(rc, 400, "invalid_date", "from or to is not a calendar date");
		else
			api_error_from(rc, &err);
		return -1;
	}
	if (atoi(PQgetvalue(res, 0, 2)) < 0) {
		api_error(rc, 400, "invalid_range", "from must not be after to");
		return -1;
	}
	if (atoi(PQgetvalue(res, 0, 2)) >= max_days) {
		api_error(rc, 400, "range_too_large",
		    "at most %d days per request", max_days);
		return -1;
	}
	*from = arena_strdup(rc->arena, PQgetvalue(res, 0, 0));
	*to = arena_strdup(rc->arena, PQgetvalue(res, 0, 1));
	return 0;
}

static int
begin(struct request_ctx *rc)
{
	struct gacp_err err;

	gacp_err_clear(&err);
	if (db_begin(&rc->app->db, rc->arena, rc->tenant_id, &err) != GACP_OK) {
		api_error_from(rc, &err);
		return -1;
	}
	return 0;
}

/* The range predicate on bucket_start for [from, to] inclusive days. */
#define IN_RANGE "tenant_id = $1 AND bucket_start >= $2::date::timestamptz " \
	"AND bucket_start < ($3::date + 1)::timestamptz"

/* End the request's read-only transaction.  Commit, not roll back: the
 * access check may have recorded bookkeeping (a key's last use) in it. */
static void
finish(struct request_ctx *rc)
{
	struct gacp_err err;

	gacp_err_clear(&err);
	(void)db_commit(&rc->app->db, rc->arena, &err);
}

static double
num(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : atof(PQgetvalue(res, row, col));
}

void
api_analytics_summary(struct request_ctx *rc)
{
	const char *from, *to, *p[3];
	struct gacp_err err;
	PGresult *res;
	struct buf *b = rc->resp.body;
	double in, fb;

	if (range(rc, ANALYTICS_MAX_DAYS, &from, &to) != 0 || begin(rc) != 0)
		return;
	gacp_err_clear(&err);
	p[0] = rc->tenant_id;
	p[1] = from;
	p[2] = to;
	/* Sums are exact; percentiles over days are the maximum of daily
	 * p95s (a conservative bound), since exact ones need the messages. */
	if (db_exec(&rc->app->db, rc->arena, "SELECT coalesce(sum(messages_in), 0), "
	    "coalesce(sum(messages_out), 0), coalesce(sum(unique_contacts), 0), "
	    "coalesce(sum(new_contacts), 0), coalesce(sum(fallbacks), 0), "
	    "coalesce(sum(handoffs), 0), coalesce(sum(failed_sends), 0), "
	    "sum(confidence_avg * messages_in) / nullif(sum(messages_in) FILTER "
	    "(WHERE confidence_avg IS NOT NULL), 0), max(latency_p95_ms), "
	    "max(latency_p50_ms) FROM analytics_daily WHERE " IN_RANGE,
	    3, p, &res, &err) != GACP_OK) {
		api_error_from(rc, &err);
		return;
	}
	in = num(res, 0, 0);
	fb = num(res, 0, 4);
	buf_reset(b);
	buf_printf(b, "{\"from\":\"%s\",\"to\":\"%s\",\"messages_in\":%.0f,"
	    "\"messages_out\":%.0f,\"unique_contacts\":%.0f,\"new_contacts\":%.0f,"
	    "\"fallbacks\":%.0f,\"fallback_rate\":%.4f,\"handoffs\":%.0f,"
	    "\"failed_sends\":%.0f,\"confidence_avg\":%.4f,"
	    "\"response_latency_p50_ms\":%.1f,\"response_latency_p95_ms\":%.1f}",
	    from, to, in, num(res, 0, 1), num(res, 0, 2), num(res, 0, 3), fb,
	    in > 0 ? fb / in : 0.0, num(res, 0, 5), num(res, 0, 6),
	    num(res, 0, 7), num(res, 0, 9), num(res, 0, 8));
	finish(rc);
	rc->resp.status = 200;
	rc->resp.content_type = "application/json";
}

static const struct {
	const char *name;
	const char *expr;    /* aggregate over the bucket's rows */
} metrics[] = {
	{ "messages_in", "sum(messages_in)" },
	{ "messages_out", "sum(messages_out)" },
	{ "unique_contacts", "sum(unique_contacts)" },
	{ "new_contacts", "sum(new_contacts)" },
	{ "fallbacks", "sum(fallbacks)" },
	{ "fallback_rate", "sum(fallbacks)::float8 / nullif(sum(messages_in), 0)" },
	{ "handoffs", "sum(handoffs)" },
	{ "failed_sends", "sum(failed_sends)" },
	{ "confidence_avg", "sum(confidence_avg * messages_in) / nullif(sum(messages_in), 0)" },
	{ "response_latency_p95_ms", "max(latency_p95_ms)" },
	{ "response_latency_p50_ms", "max(latency_p50_ms)" },
};

void
api_analytics_timeseries(struct request_ctx *rc)
{
	const char *metric = http_request_query(&rc->req, "metric");
	const char *interval = http_request_query(&rc->req, "interval");
	const char *from, *to, *p[3], *expr = NULL;
	struct gacp_err err;
	struct buf *b = rc->resp.body;
	PGresult *res;
	char *sql;
	size_t i;
	int hourly, row;

	if (metric == NULL)
		metric = "messages_in";
	for (i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
		if (strcmp(metrics[i].name, metric) == 0)
			expr = metrics[i].expr;
	if (expr == NULL) {
		api_error(rc, 400, "invalid_metric", "unknown metric");
		return;
	}
	if (interval == NULL)
		interval = "day";
	if (strcmp(interval, "hour") != 0 && strcmp(interval, "day") != 0) {
		api_error(rc, 400, "invalid_interval", "interval is hour or day");
		return;
	}
	hourly = interval[0] == 'h';
	if (range(rc, hourly ? ANALYTICS_MAX_HOURLY_DAYS : ANALYTICS_MAX_DAYS,
	    &from, &to) != 0 || begin(rc) != 0)
		return;
	gacp_err_clear(&err);
	p[0] = rc->tenant_id;
	p[1] = from;
	p[2] = to;
	/* Every bucket of the range, zero-filled (charts need the gaps). */
	sql = arena_sprintf(rc->arena, "SELECT to_char(g AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), (SELECT %s FROM %s WHERE "
	    IN_RANGE " AND bucket_start = g) FROM generate_series("
	    "$2::date::timestamptz, "
	    "($3::date + 1)::timestamptz - interval '1 %s', interval '1 %s') g",
	    expr, hourly ? "analytics_hourly" : "analytics_daily", interval, interval);
	if (db_exec(&rc->app->db, rc->arena, "SET LOCAL TimeZone = 'UTC'", 0,
	    NULL, &res, &err) != GACP_OK ||
	    db_exec(&rc->app->db, rc->arena, sql, 3, p, &res, &err) != GACP_OK) {
		api_error_from(rc, &err);
		return;
	}
	buf_reset(b);
	buf_printf(b, "{\"metric\":\"%s\",\"interval\":\"%s\",\"from\":\"%s\","
	    "\"to\":\"%s\",\"points\":[", metric, interval, from, to);
	for (row = 0; row < PQntuples(res); row++)
		buf_printf(b, "%s{\"t\":\"%s\",\"value\":%.6g}", row ? "," : "",
		    PQgetvalue(res, row, 0), num(res, row, 1));
	buf_puts(b, "]}");
	finish(rc);
	rc->resp.status = 200;
	rc->resp.content_type = "application/json";
}

void
api_analytics_intents(struct request_ctx *rc)
{
	const char *limit_s = http_request_query(&rc->req, "limit");
	const char *from, *to, *p[4];
	struct gacp_err err;
	struct buf *b = rc->resp.body;
	PGresult *res;
	char limit[16];
	int n = 10, row;

	if (limit_s != NULL) {
		char *end;
		long v = strtol(limit_s, &end, 10);
		if (*limit_s == '\0' || *end != '\0' || v < 1 || v > 200) {
			api_error(rc, 400, "invalid_limit", "limit is 1..200");
			return;
		}
		n = (int)v;
	}
	if (range(rc, ANALYTICS_MAX_DAYS, &from, &to) != 0 || begin(rc) != 0)
		return;
	gacp_err_clear(&err);
	snprintf(limit, sizeof(limit), "%d", n);
	p[0] = rc->tenant_id;
	p[1] = from;
	p[2] = to;
	p[3] = limit;
	if (db_exec(&rc->app->db, rc->arena, "SELECT intent, sum(messages_in), "
	    "sum(fallbacks), sum(confidence_avg * messages_in) / "
	    "nullif(sum(messages_in), 0) FROM analytics_daily WHERE " IN_RANGE
	    " AND messages_in > 0 GROUP BY intent ORDER BY 2 DESC, 1 LIMIT $4",
	    4, p, &res, &err) != GACP_OK) {
		api_error_from(rc, &err);
		return;
	}
	buf_reset(b);
	buf_printf(b, "{\"from\":\"%s\",\"to\":\"%s\",\"intents\":[", from, to);
	for (row = 0; row < PQntuples(res); row++) {
		double cnt = num(res, row, 1);
		buf_puts(b, row ? ",{\"intent\":" : "{\"intent\":");
		buf_json_str(b, PQgetvalue(res, row, 0));
		buf_printf(b, ",\"count\":%.0f,\"fallback_share\":%.4f,"
		    "\"confidence_avg\":%.4f}", cnt,
		    cnt > 0 ? num(res, row, 2) / cnt : 0.0, num(res, row, 3));
	}
	buf_puts(b, "]}");
	finish(rc);
	rc->resp.status = 200;
	rc->resp.content_type = "application/json";
}

/* RFC 4180 field: quoted when it holds a comma, quote, CR or LF. */
static void
csv_field(struct buf *b, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

void
api_analytics_export(struct request_ctx *rc)
{
	static const char *cols[] = { "date", "channel_id", "intent", "language",
	    "messages_in", "messages_out", "unique_contacts", "new_contacts",
	    "fallbacks", "handoffs", "confidence_avg", "confidence_p50",
	    "confidence_p95", "latency_p50_ms", "latency_p95_ms", "failed_sends" };
	const char *from, *to, *p[3];
	struct gacp_err err;
	struct buf *b = rc->resp.body;
	PGresult *res;
	int row, col, ncols = (int)(sizeof(cols) / sizeof(cols[0]));

	if (range(rc, ANALYTICS_MAX_DAYS, &from, &to) != 0 || begin(rc) != 0)
		return;
	gacp_err_clear(&err);
	p[0] = rc->tenant_id;
	p[1] = from;
	p[2] = to;
	if (db_exec(&rc->app->db, rc->arena, "SELECT to_char(bucket_start AT "
	    "TIME ZONE 'UTC', 'YYYY-MM-DD'), channel_id, intent, language, "
	    "messages_in, messages_out, unique_contacts, new_contacts, fallbacks, "
	    "handoffs, confidence_avg, confidence_p50, confidence_p95, "
	    "latency_p50_ms, latency_p95_ms, failed_sends FROM analytics_daily "
	    "WHERE " IN_RANGE " ORDER BY bucket_start, channel_id, intent, "
	    "language", 3, p, &res, &err) != GACP_OK) {
		api_error_from(rc, &err);
		return;
	}
	buf_reset(b);
	for (col = 0; col < ncols; col++)
		buf_printf(b, "%s%s", col ? "," : "", cols[col]);
	buf_puts(b, "\r\n");
	for (row = 0; row < PQntuples(res); row++) {
		for (col = 0; col < ncols; col++) {
			if (col)
				buf_putc(b, ',');
			csv_field(b, PQgetvalue(res, row, col));
		}
		buf_puts(b, "\r\n");
	}
	finish(rc);
	rc->resp.status = 200;
	rc->resp.content_type = "text/csv; charset=utf-8; header=present";
	http_response_header(&rc->resp, "Content-Disposition",
	    arena_sprintf(rc->arena, "attachment; filename=\"analytics-%s-%s.csv\"",
	    from, to));
}
