/* ctl_retention.c - gacpctl messages purge and gacpctl retention: the
 * nightly job that keeps raw conversation data only as long as each
 * tenant's policy allows.
 *
 * Policy: a tenant's settings.retention.message_days, else the platform
 * default messenger.message_retention_days (365).  Messages older than
 * that are deleted tenant by tenant, each delete bound to its tenant so
 * row-level security scopes it, in batches so no transaction holds many
 * rows locked; their idempotency keys (message_keys) go with them.  The
 * analytics tables are aggregates and stay: that is what they are for.
 *
 * Partitions: messages is partitioned by month.  A partition whose whole
 * range is older than the longest retention of any tenant holds nothing
 * any policy keeps, so it is dropped (instant, returns the space to the
 * file system, unlike a DELETE).  The job also creates the partitions of
 * the coming months: a row for a month without a partition lands in the
 * default partition, and a default partition holding rows of a month
 * makes creating that month's partition fail later.
 */
#include "tools/ctl.h"
#include "common/arena.h"
#include "common/config.h"
#include "store/db.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETENTION_MAX_DAYS     36500
#define RETENTION_BATCH        5000
#define PARTITIONS_AHEAD       3

struct tenant_policy {
	const char *id;
	const char *slug;
	long        days;
	int64_t     deleted;
};

static long
default_days(const struct ctl_ctx *ctl)
{
	long long d = config_get_int(&ctl->app.cfg,
	    "messenger.message_retention_days", 365);
	if (d < 1)
		d = 1;
	if (d > RETENTION_MAX_DAYS)
		d = RETENTION_MAX_DAYS;
	return (long)d;
}

/* Every tenant (or the one named) with its retention in days. */
static int
load_policies(struct ctl_ctx *ctl, struct arena *a, const char *only_slug,
    long def, struct tenant_policy **out, size_t *n, struct gacp_err *err)
{
	struct db *owner = &ctl->owner;
	char defs[24];
	const char *p[2];
	PGresult *res;
	size_t i;
	int rc;

	snprintf(defs, sizeof(defs), "%ld", def);
	p[0] = defs;
	p[1] = only_slug;
	if ((rc = db_begin(owner, a, NULL, err)) != GACP_OK ||
	    (rc = db_set_platform_admin(owner, a, err)) != GACP_OK)
		goto out;
	/* A malformed or out-of-range setting (the API validates it, SQL
	 * edits might not) falls back to the default rather than deleting
	 * on a guess. */
	rc = db_exec(owner, a, "SELECT id, slug, CASE WHEN jsonb_typeof("
	    "settings #> '{retention,message_days}') = 'number' AND "
	    "(settings #>> '{retention,message_days}')::numeric BETWEEN 1 AND "
	    "36500 THEN (settings #>> '{retention,message_days}')::numeric::int "
	    "ELSE $1::int END FROM tenants WHERE ($2::text IS NULL OR slug = $2) "
	    "ORDER BY slug", 2, p, &res, err);
	if (rc != GACP_OK)
		goto out;
	*n = (size_t)PQntuples(res);
	*out = arena_calloc(a, *n ? *n : 1, sizeof(**out));
	for (i = 0; i < *n; i++) {
		(*out)[i].id = arena_strdup(a, PQgetvalue(res, (int)i, 0));
		(*out)[i].slug = arena_strdup(a, PQgetvalue(res, (int)i, 1));
		(*out)[i].days = atol(PQgetvalue(res, (int)i, 2));
	}
	rc = db_commit(owner, a, err);
	if (rc == GACP_OK && only_slug != NULL && *n == 0)
		rc = gacp_err_set(err, GACP_ENOTFOUND, "tenant_not_found",
		    "no tenant with slug %s", only_slug);
out:
	db_rollback(owner, a);
	return rc;
}

/* Delete one tenant's messages older than its retention, in batches;
 * one audit event when anything went. */
static int
purge_tenant(struct ctl_ctx *ctl, struct arena *a, struct tenant_policy *t,
    struct gacp_err *err)
{
	struct db *owner = &ctl->owner;
	char days[24], batch[24], count[24];
	const char *p[3];
	PGresult *res;
	int64_t got;
	int rc;

	snprintf(days, sizeof(days), "%ld", t->days);
	snprintf(batch, sizeof(batch), "%d", RETENTION_BATCH);
	p[0] = t->id;
	p[1] = days;
	p[2] = batch;
	t->deleted = 0;
	do {
		if ((rc = db_begin(owner, a, t->id, err)) != GACP_OK)
			return rc;
		rc = db_exec(owner, a, "WITH old AS (SELECT tenant_id, created_at, "
		    "id FROM messages WHERE tenant_id = $1 AND created_at < now() - "
		    "make_interval(days => $2::int) LIMIT $3::int), gone AS ("
		    "DELETE FROM messages m USING old WHERE m.tenant_id = "
		    "old.tenant_id AND m.created_at = old.created_at AND m.id = "
		    "old.id RETURNING 1) SELECT count(*) FROM gone", 3, p, &res,
		    err);
		if (rc == GACP_OK) {
			got = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
			rc = db_commit(owner, a, err);
		}
		if (rc != GACP_OK) {
			db_rollback(owner, a);
			return rc;
		}
		t->deleted += got;
	} while (got == RETENTION_BATCH);
	if ((rc = db_begin(owner, a, t->id, err)) != GACP_OK)
		return rc;
	rc = db_exec(owner, a, "DELETE FROM message_keys WHERE tenant_id = $1 "
	    "AND message_at < now() - make_interval(days => $2::int)", 2, p,
	    &res, err);
	if (rc == GACP_OK && t->deleted > 0) {
		const char *ap[2];
		snprintf(count, sizeof(count), "%" PRId64, t->deleted);
		ap[0] = t->id;
		ap[1] = arena_sprintf(a, "{\"deleted\":%s,\"days\":%s}", count,
		    days);
		rc = db_exec(owner, a, "INSERT INTO audit_log (tenant_id, "
		    "actor_type, action, outcome, resource_type, details) VALUES "
		    "($1, 'system', 'messages.purge', 'success', 'message', "
		    "$2::jsonb)", 2, ap, &res, err);
	}
	if (rc == GACP_OK)
		rc = db_commit(owner, a, err);
	db_rollback(owner, a);
	return rc;
}

/* Create the coming months' partitions; drop monthly partitions entirely
 * older than max_days.  *created and *dropped count them. */
static int
maintain_partitions(struct ctl_ctx *ctl, struct arena *a, long max_days,
    int *created, int *dropped, struct gacp_err *err)
{
	struct db *owner = &ctl->owner;
	char ahead[24], days[24];
	const char *p[1];
	PGresult *res;
	int rc, i;

	*created = *dropped = 0;
	snprintf(ahead, sizeof(ahead), "%d", PARTITIONS_AHEAD);
	snprintf(days, sizeof(days), "%ld", max_days);
	if ((rc = db_begin(owner, a, NULL, err)) != GACP_OK)
		return rc;
	p[0] = ahead;
	rc = db_exec(owner, a, "SELECT gacp_ensure_message_partitions($1::int)",
	    1, p, &res, err);
	if (rc == GACP_OK)
		*created = atoi(PQgetvalue(res, 0, 0));
	/* Monthly partitions are named messages_YYYY_MM and bounded by
	 * their month; the bound is read from the catalog, not the name. */
	p[0] = days;
	if (rc == GACP_OK)
		rc = db_exec(owner, a, "SELECT c.relname FROM pg_inherits i JOIN "
		    "pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = "
		    "'messages'::regclass AND c.relname ~ '^messages_[0-9]{4}_[0-9]{2}$' "
		    "AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), "
		    "'TO \\(''([^'']+)''\\)'))[1]::timestamptz <= now() - "
		    "make_interval(days => $1::int) ORDER BY 1", 1, p, &res, err);
	for (i = 0; rc == GACP_OK && i < PQntuples(res); i++) {
		PGresult *dr;
		const char *name = PQgetvalue(res, i, 0);
		/* name matched ^messages_\d{4}_\d{2}$ above: safe to quote. */
		rc = db_exec(owner, a, arena_sprintf(a, "DROP TABLE \"%s\"",
		    name), 0, NULL, &dr, err);
		if (rc == GACP_OK)
			(*dropped)++;
	}
	if (rc == GACP_OK)
		rc = db_commit(owner, a, err);
	db_rollback(owner, a);
	return rc;
}

static int
messages_purge(struct ctl_ctx *ctl, int argc, char **argv, bool partitions,
    int64_t *total_out)
{
	const char *slug = ctl_opt(argc, argv, "--tenant");
	const char *days_opt = ctl_opt(argc, argv, "--days");
	struct tenant_policy *ts = NULL;
	struct arena a;
	struct gacp_err err;
	size_t n = 0, i;
	long def = default_days(ctl), max_days;
	int64_t total = 0;
	int created = 0, dropped = 0, rc;

	arena_init(&a, 16 * 1024);
	gacp_err_clear(&err);
	if (days_opt != NULL) {
		char *end;
		long d = strtol(days_opt, &end, 10);
		if (*end != '\0' || d < 1 || d > RETENTION_MAX_DAYS) {
			fprintf(stderr, "gacpctl: usage: --days must be 1 to %d\n",
			    RETENTION_MAX_DAYS);
			arena_cleanup(&a);
			return CTL_USAGE;
		}
		def = d;
	}
	if ((rc = load_policies(ctl, &a, slug, def, &ts, &n, &err)) != GACP_OK)
		goto fail;
	/* --days overrides every tenant's own setting: an operator's
	 * explicit, one-off decision. */
	max_days = def;
	for (i = 0; i < n; i++) {
		if (days_opt != NULL)
			ts[i].days = def;
		if (ts[i].days > max_days)
			max_days = ts[i].days;
		if ((rc = purge_tenant(ctl, &a, &ts[i], &err)) != GACP_OK)
			goto fail;
		total += ts[i].deleted;
	}
	/* Partitions span every tenant: only the full run drops them. */
	if (partitions && slug == NULL && (rc = maintain_partitions(ctl, &a,
	    max_days, &created, &dropped, &err)) != GACP_OK)
		goto fail;
	if (ctl->json) {
		printf("{\"deleted\":%" PRId64 ",\"default_days\":%ld,"
		    "\"partitions_created\":%d,\"partitions_dropped\":%d,"
		    "\"tenants\":[", total, def, created, dropped);
		for (i = 0; i < n; i++)
			printf("%s{\"slug\":\"%s\",\"days\":%ld,\"deleted\":%" PRId64
			    "}", i ? "," : "", ts[i].slug, ts[i].days,
			    ts[i].deleted);
		printf("]}\n");
	} else {
		for (i = 0; i < n; i++)
			if (ts[i].deleted > 0)
				printf("%s: %" PRId64 " message(s) older than %ld "
				    "days deleted\n", ts[i].slug, ts[i].deleted,
				    ts[i].days);
		printf("%" PRId64 " message(s) deleted in %zu tenant(s); "
		    "partitions: %d created, %d dropped\n", total, n, created,
		    dropped);
	}
	if (total_out != NULL)
		*total_out = total;
	arena_cleanup(&a);
	return CTL_OK;
fail:
	arena_cleanup(&a);
	return ctl_fail(&err);
}

int
ctl_messages_purge(struct ctl_ctx *ctl, int argc, char **argv)
{
	return messages_purge(ctl, argc, argv, true, NULL);
}

/* The nightly job: audit events, then messages and partitions.  Both run
 * even if the first fails; the exit code is the first failure's. */
int
ctl_retention(struct ctl_ctx *ctl, int argc, char **argv)
{
	char *none[] = { NULL };
	int rc1, rc2;

	(void)argc;
	(void)argv;
	rc1 = ctl_audit_purge(ctl, 0, none);
	rc2 = messages_purge(ctl, 0, none, true, NULL);
	return rc1 != CTL_OK ? rc1 : rc2;
}
