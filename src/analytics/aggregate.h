/* aggregate.h - the analytics batch: messages → analytics_hourly/daily.
 *
 * Per tenant, in one transaction bound to it (RLS applies): find the hours
 * and days touched since the tenant's watermark (minus a lag window for
 * rows that commit late), recompute those buckets whole from messages
 * (DELETE + INSERT … SELECT … GROUP BY), and advance the watermark to the
 * time the run started.  Recomputing whole buckets makes runs idempotent:
 * twice, or a --rebuild of a range, gives identical tables.  Buckets are
 * UTC hours and days.
 *
 * Runs with the owner connection (it must list all tenants; it binds
 * app.tenant_id per tenant, so row-level security still scopes every
 * statement) under a PostgreSQL advisory lock: a second run at the same
 * time returns ANALYTICS_BUSY at once.
 */
#ifndef GACP_ANALYTICS_AGGREGATE_H
#define GACP_ANALYTICS_AGGREGATE_H

#include <stdint.h>

#include "common/err.h"

struct db;

#define ANALYTICS_BUSY 1      /* another run holds the lock (not an error) */

struct analytics_opts {
	int          lag_minutes;        /* late-arrival window, default 10 */
	const char  *handoff_intent;     /* counted as handoffs */
	const char  *rebuild_from;       /* YYYY-MM-DD or NULL (incremental) */
	const char  *rebuild_to;         /* inclusive day, with rebuild_from */
};

struct analytics_report {
	long      tenants;
	long long rows_read;             /* messages in recomputed buckets */
	long long buckets_written;       /* hourly + daily rows */
	int64_t   duration_ms;
};

/* 0, ANALYTICS_BUSY, or a negative error (GACP_EUNAVAIL when PostgreSQL
 * cannot be reached; GACP_EINVAL for bad rebuild dates). */
int analytics_run(struct db *owner, const struct analytics_opts *o,
    struct analytics_report *rep, struct gacp_err *err);

#endif
