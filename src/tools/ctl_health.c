/* ctl_health.c - gacpctl health: is the platform well, from the server.
 *
 * Checks, in order: PostgreSQL (as the application role), Redis, the
 * schema (pending migrations), the service registry aggregate (every
 * registered process heartbeating), the inbound queue's backlog (entries
 * delivered to the worker group but not yet acknowledged, and entries not
 * yet delivered) and the dead letters.  Each check is ok, warn or fail;
 * the verdict is
 *   healthy   (exit 0) every check ok;
 *   degraded  (exit 1) a warning: migrations pending, some services
 *             unhealthy, a backlog over --max-pending, dead letters;
 *   critical  (exit 2) PostgreSQL or Redis unreachable, or no registered
 *             service healthy.
 * --json prints {"status", "checks":[{"name","status","detail",...}]}.
 */
#include "tools/ctl.h"
#include "common/arena.h"
#include "common/buf.h"
#include "messenger/queue.h"
#include "registry/registry.h"
#include "store/cache.h"
#include "store/migrate.h"

#include <json-c/json.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef GACP_DATADIR
#define GACP_DATADIR "/usr/share/gacp"
#endif

#define PENDING_WARN_DEFAULT 1000

enum check_status { CHECK_OK, CHECK_WARN, CHECK_FAIL };

struct health_run {
	struct ctl_ctx      *ctl;
	struct arena         arena;
	struct json_object  *checks;     /* array */
	bool                 critical;   /* a failure that makes it critical */
	bool                 degraded;
};

static const char *
check_name(enum check_status st)
{
	return st == CHECK_OK ? "ok" : st == CHECK_WARN ? "warn" : "fail";
}

/* Record a check; extra (may be NULL) is merged into its object. */
static void
add(struct health_run *h, const char *name, enum check_status st,
    bool fatal, struct json_object *extra, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void
add(struct health_run *h, const char *name, enum check_status st,
    bool fatal, struct json_object *extra, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "status",
	    json_object_new_string(check_name(st)));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	if (extra != NULL) {
		json_object_object_foreach(extra, k, v)
			json_object_object_add(o, k, json_object_get(v));
		json_object_put(extra);
	}
	json_object_array_add(h->checks, o);
	if (st == CHECK_FAIL && fatal)
		h->critical = true;
	else if (st != CHECK_OK)
		h->degraded = true;
	if (!h->ctl->json)
		printf("%-12s %-5s %s\n", name, check_name(st), detail);
}

static bool
check_database(struct health_run *h)
{
	struct gacp_err err;

	gacp_err_clear(&err);
	if (db_ping(&h->ctl->app.db, &err) != GACP_OK) {
		add(h, "database", CHECK_FAIL, true, NULL, "unreachable: %s",
		    err.msg);
		return false;
	}
	add(h, "database", CHECK_OK, true, NULL, "reachable");
	return true;
}

static bool
check_redis(struct health_run *h)
{
	struct gacp_err err;

	gacp_err_clear(&err);
	if (cache_ping(&h->ctl->app.cache, &h->arena, &err) != GACP_OK) {
		add(h, "redis", CHECK_FAIL, true, NULL, "unreachable: %s",
		    err.msg);
		return false;
	}
	add(h, "redis", CHECK_OK, true, NULL, "reachable");
	return true;
}

static void
check_migrations(struct health_run *h)
{
	const char *dir = config_get(&h->ctl->app.cfg, "paths.sql_dir",
	    GACP_DATADIR "/sql");
	struct migration_set set;
	struct json_object *x;
	struct gacp_err err;
	size_t i, pending = 0;
	int level = 0;

	gacp_err_clear(&err);
	memset(&set, 0, sizeof(set));
	if (migrate_scan(dir, &set, &err) != GACP_OK ||
	    migrate_status(&h->ctl->owner, &set, &err) != GACP_OK) {
		add(h, "migrations", CHECK_WARN, false, NULL,
		    "cannot read the schema level: %s", err.msg);
		migrate_set_cleanup(&set);
		return;
	}
	for (i = 0; i < set.n; i++) {
		if (set.items[i].applied)
			level = set.items[i].version;
		else
			pending++;
	}
	x = json_object_new_object();
	json_object_object_add(x, "level", json_object_new_int(level));
	json_object_object_add(x, "pending",
	    json_object_new_int64((int64_t)pending));
	if (pending > 0)
		add(h, "migrations", CHECK_WARN, false, x, "level %04d, %zu "
		    "pending (gacpctl migrate)", level, pending);
	else
		add(h, "migrations", CHECK_OK, false, x, "level %04d, none "
		    "pending", level);
	migrate_set_cleanup(&set);
}

static void
check_registry(struct health_run *h)
{
	struct passwd *pw = getpwuid(geteuid());
	struct registry_health rh;
	struct principal who;
	struct json_object *x, *arr, *e;
	struct gacp_err err;
	struct svc s;
	size_t i;

	gacp_err_clear(&err);
	memset(&who, 0, sizeof(who));
	principal_system(&who, pw ? pw->pw_name : NULL);
	svc_init(&s, &h->ctl->app, &h->arena, &who, NULL, NULL);
	if (registry_system_health(&s, &rh, &err) != GACP_OK) {
		svc_rollback(&s);
		add(h, "registry", CHECK_FAIL, true, NULL, "cannot read the "
		    "service registry: %s", err.msg);
		return;
	}
	svc_rollback(&s);   /* read only */
	x = json_object_new_object();
	json_object_object_add(x, "aggregate", json_object_new_string(
	    registry_status_name(rh.status)));
	json_object_object_add(x, "total", json_object_new_int64((int64_t)rh.n));
	json_object_object_add(x, "healthy",
	    json_object_new_int64((int64_t)rh.healthy));
	arr = json_object_new_array();
	for (i = 0; i < rh.n; i++) {
		e = registry_render_service(&rh.rows[i]);
		json_object_array_add(arr, e);
	}
	json_object_object_add(x, "services", arr);
	add(h, "registry", rh.status == REGISTRY_HEALTHY ? CHECK_OK :
	    rh.status == REGISTRY_DEGRADED ? CHECK_WARN : CHECK_FAIL, true, x,
	    "%s: %zu of %zu services healthy", registry_status_name(rh.status),
	    rh.healthy, rh.n);
	if (!h->ctl->json)
		for (i = 0; i < rh.n; i++)
			printf("             %-9s %-12s %s:%d %s, "
			    "heartbeat %.1fs ago\n",
			    rh.rows[i].healthy ? "healthy" : "UNHEALTHY",
			    rh.rows[i].service_name, rh.rows[i].host,
			    rh.rows[i].port, rh.rows[i].service_config,
			    rh.rows[i].age_seconds);
}

static long long
redis_int(struct health_run *h, redisReply *r, size_t idx)
{
	(void)h;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || idx >= r->elements)
		return -1;
	r = r->element[idx];
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_STRING)
		return strtoll(r->str, NULL, 10);
	return -1;
}

/* XINFO GROUPS reply: an array of maps (flat name/value arrays). */
static long long
group_field(redisReply *groups, const char *group, const char *field)
{
	size_t i, j;

	if (groups == NULL || groups->type != REDIS_REPLY_ARRAY)
		return -1;
	for (i = 0; i < groups->elements; i++) {
		redisReply *g = groups->element[i];
		bool ours = false;
		long long v = -1;

		if (g->type != REDIS_REPLY_ARRAY)
			continue;
		for (j = 0; j + 1 < g->elements; j += 2) {
			redisReply *k = g->element[j], *val = g->element[j + 1];
			if (k->type != REDIS_REPLY_STRING &&
			    k->type != REDIS_REPLY_STATUS)
				continue;
			if (strcmp(k->str, "name") == 0 &&
			    val->type == REDIS_REPLY_STRING &&
			    strcmp(val->str, group) == 0)
				ours = true;
			else if (strcmp(k->str, field) == 0 &&
			    val->type == REDIS_REPLY_INTEGER)
				v = val->integer;
		}
		if (ours)
			return v;
	}
	return -1;
}

static void
check_queue(struct health_run *h, long long max_pending)
{
	struct json_object *x;
	struct gacp_err err;
	redisReply *r = NULL;
	long long pending = 0, undelivered = -1, length = 0;

	gacp_err_clear(&err);
	if (cache_command(&h->ctl->app.cache, &h->arena, &r, &err,
	    "XLEN %s", MXQ_STREAM) != GACP_OK) {
		add(h, "queue", CHECK_FAIL, false, NULL, "cannot read %s: %s",
		    MXQ_STREAM, err.msg);
		return;
	}
	length = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
	/* Pending: delivered to a worker, not acknowledged yet. */
	if (cache_command(&h->ctl->app.cache, &h->arena, &r, &err,
	    "XPENDING %s %s", MXQ_STREAM, MXQ_GROUP) == GACP_OK)
		pending = redis_int(h, r, 0);
	if (pending < 0)
		pending = 0;
	/* Lag: added but not yet delivered to the group (Redis 7). */
	if (cache_command(&h->ctl->app.cache, &h->arena, &r, &err,
	    "XINFO GROUPS %s", MXQ_STREAM) == GACP_OK)
		undelivered = group_field(r, MXQ_GROUP, "lag");
	x = json_object_new_object();
	json_object_object_add(x, "pending", json_object_new_int64(pending));
	json_object_object_add(x, "undelivered", undelivered >= 0 ?
	    json_object_new_int64(undelivered) : NULL);
	json_object_object_add(x, "stream_length", json_object_new_int64(length));
	if (pending + (undelivered > 0 ? undelivered : 0) > max_pending)
		add(h, "queue", CHECK_WARN, false, x, "%s backlog: %lld pending, "
		    "%lld undelivered (over %lld)", MXQ_STREAM, pending,
		    undelivered > 0 ? undelivered : 0, max_pending);
	else
		add(h, "queue", CHECK_OK, false, x, "%s backlog: %lld pending, "
		    "%lld undelivered", MXQ_STREAM, pending,
		    undelivered > 0 ? undelivered : 0);
}

static void
check_deadletters(struct health_run *h)
{
	struct json_object *x;
	struct gacp_err err;
	redisReply *r = NULL;
	long long n;

	gacp_err_clear(&err);
	if (cache_command(&h->ctl->app.cache, &h->arena, &r, &err,
	    "XLEN %s", MXQ_DEADLETTER) != GACP_OK) {
		add(h, "deadletters", CHECK_FAIL, false, NULL,
		    "cannot read %s: %s", MXQ_DEADLETTER, err.msg);
		return;
	}
	n = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
	x = json_object_new_object();
	json_object_object_add(x, "count", json_object_new_int64(n));
	if (n > 0)
		add(h, "deadletters", CHECK_WARN, false, x, "%lld dead "
		    "letter(s) (gacpctl deadletter list)", n);
	else
		add(h, "deadletters", CHECK_OK, false, x, "none");
}

int
ctl_health(struct ctl_ctx *ctl, int argc, char **argv)
{
	const char *max_opt = ctl_opt(argc, argv, "--max-pending");
	struct health_run h;
	struct json_object *o;
	long long max_pending = PENDING_WARN_DEFAULT;
	const char *verdict;
	bool db_ok, redis_ok;
	char *end = NULL;
	int code;

	if (max_opt != NULL) {
		max_pending = strtoll(max_opt, &end, 10);
		if (end == max_opt || *end != '\0' || max_pending < 0) {
			fprintf(stderr, "gacpctl: --max-pending must be a "
			    "non-negative integer\n");
			return CTL_USAGE;
		}
	}
	memset(&h, 0, sizeof(h));
	h.ctl = ctl;
	arena_init(&h.arena, 16 * 1024);
	h.checks = json_object_new_array();
	db_ok = check_database(&h);
	redis_ok = check_redis(&h);
	if (db_ok) {
		check_migrations(&h);
		check_registry(&h);
	}
	if (redis_ok) {
		check_queue(&h, max_pending);
		check_deadletters(&h);
	}
	verdict = h.critical ? "critical" : h.degraded ? "degraded" : "healthy";
	code = h.critical ? 2 : h.degraded ? 1 : 0;
	if (ctl->json) {
		o = json_object_new_object();
		json_object_object_add(o, "status",
		    json_object_new_string(verdict));
		json_object_object_add(o, "checks", h.checks);
		printf("%s\n", json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("status: %s\n", verdict);
		json_object_put(h.checks);
	}
	db_rollback(&ctl->app.db, &h.arena);
	arena_cleanup(&h.arena);
	return code;
}
