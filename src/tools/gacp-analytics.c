/* gacp-analytics.c - the analytics batch (cron every 5 minutes / systemd
 * timer): aggregate messages into analytics_hourly and analytics_daily.
 *
 *   gacp-analytics [--config FILE] [--rebuild --from YYYY-MM-DD --to YYYY-MM-DD]
 *
 * Prints one summary line; exit 0 on success (also when another run holds
 * the lock: this run then does nothing), 1 on failure, 2 on usage errors,
 * 3 when PostgreSQL is unreachable.
 */
#include "analytics/aggregate.h"
#include "common/config.h"
#include "common/log.h"
#include "store/db.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
date_ok(const char *s)
{
	int i;

	if (s == NULL || strlen(s) != 10)
		return 0;
	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: gacp-analytics [--config FILE] "
	    "[--rebuild --from YYYY-MM-DD --to YYYY-MM-DD]\n");
}

int
main(int argc, char **argv)
{
	const char *config_path = NULL;
	struct analytics_opts o;
	struct analytics_report rep;
	struct config cfg;
	struct gacp_err err;
	struct db db;
	int i, rebuild = 0, rc;

	memset(&o, 0, sizeof(o));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config_path = argv[++i];
		else if (strcmp(argv[i], "--rebuild") == 0)
			rebuild = 1;
		else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
			o.rebuild_from = argv[++i];
		else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			o.rebuild_to = argv[++i];
		else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (rebuild != (o.rebuild_from != NULL) ||
	    (o.rebuild_from && !date_ok(o.rebuild_from)) ||
	    (o.rebuild_to && !date_ok(o.rebuild_to))) {
		fprintf(stderr, "gacp-analytics: --rebuild needs --from and "
		    "optionally --to, as YYYY-MM-DD\n");
		return 2;
	}
	gacp_err_clear(&err);
	if (config_load(&cfg, config_path ? config_path : config_default_path(),
	    false, &err) != GACP_OK) {
		fprintf(stderr, "gacp-analytics: %s\n", err.msg);
		return 1;
	}
	log_sys_init("gacp-analytics", NULL, NULL, LOG_WARN);
	o.lag_minutes = (int)config_get_int(&cfg, "analytics.lag_minutes", 10);
	o.handoff_intent = config_get(&cfg, "flow.handoff_intent", "human_handoff");
	db_init(&db, config_get(&cfg, "database.owner_conninfo",
	    config_get(&cfg, "database.conninfo", "dbname=gacp")),
	    (int)config_get_int(&cfg, "analytics.query_timeout_ms", 300000), NULL);
	rc = analytics_run(&db, &o, &rep, &err);
	if (rc == ANALYTICS_BUSY) {
		printf("gacp-analytics: another run holds the lock; nothing done\n");
		rc = 0;
	} else if (rc == GACP_OK) {
		printf("gacp-analytics: tenants %ld, rows read %lld, buckets written "
		    "%lld, duration %lld ms%s\n", rep.tenants, rep.rows_read,
		    rep.buckets_written, (long long)rep.duration_ms,
		    o.rebuild_from ? " (rebuild)" : "");
	} else {
		fprintf(stderr, "gacp-analytics: %s: %s\n", err.code, err.msg);
		rc = rc == GACP_EUNAVAIL ? 3 : rc == GACP_EINVAL ? 2 : 1;
	}
	db_cleanup(&db);
	config_cleanup(&cfg);
	return rc;
}
