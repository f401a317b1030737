/* registry_store.c - SQL for the service registry (see registry_store.h). */
#include "store/registry_store.h"
#include "common/arena.h"
#include "store/db.h"
#include "store/pgrow.h"
#include "store/store_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVICE_COLS \
	"id::text, service_name, service_type, host, port, " \
	"health_check_endpoint, version, environment, weight, " \
	"service_config::text, ttl_seconds, self_registered, " \
	"gacp_iso(registered_at), registered_by, gacp_iso(last_heartbeat), " \
	"round(extract(epoch FROM clock_timestamp() - last_heartbeat)::numeric, 3)::text, " \
	"clock_timestamp() - last_heartbeat <= make_interval(secs => ttl_seconds), " \
	"gacp_epoch_us(registered_at)"

static void
read_row(struct arena *a, const PGresult *res, int r, void *row)
{
	struct service_row *s = row;
	char *age;

	s->id = pgrow_str(a, res, r, 0);
	s->service_name = pgrow_str(a, res, r, 1);
	s->service_type = pgrow_str(a, res, r, 2);
	s->host = pgrow_str(a, res, r, 3);
	s->port = (int)pgrow_int64(res, r, 4);
	s->health_check_endpoint = pgrow_str(a, res, r, 5);
	s->version = pgrow_str(a, res, r, 6);
	s->environment = pgrow_str(a, res, r, 7);
	s->weight = (int)pgrow_int64(res, r, 8);
	s->service_config = pgrow_str(a, res, r, 9);
	s->ttl_seconds = (int)pgrow_int64(res, r, 10);
	s->self_registered = pgrow_bool(res, r, 11);
	s->registered_at = pgrow_str(a, res, r, 12);
	s->registered_by = pgrow_str(a, res, r, 13);
	s->last_heartbeat = pgrow_str(a, res, r, 14);
	age = pgrow_str(a, res, r, 15);
	s->age_seconds = age ? strtod(age, NULL) : 0.0;
	/* A clock step backwards must not make a fresh entry look old. */
	if (s->age_seconds < 0)
		s->age_seconds = 0;
	s->healthy = pgrow_bool(res, r, 16);
	s->registered_us = pgrow_int64(res, r, 17);
}

static const struct store_kind service_kind = {
	.table = "service_registry", .noun = "service", .stale_noun = "service",
	.cols = SERVICE_COLS,
	.row_size = sizeof(struct service_row), .read = read_row,
};

static int
one_row(struct arena *a, PGresult *res, struct service_row **out,
    struct gacp_err *err)
{
	*out = store_one_row(a, res, &service_kind, err);
	return *out != NULL ? GACP_OK : GACP_ENOTFOUND;
}

int
registry_store_insert(struct db *db, struct arena *a,
    const struct service_new *n, struct service_row **out,
    struct gacp_err *err)
{
	const char *p[12];
	PGresult *res;
	int rc;

	p[0] = n->service_name;
	p[1] = n->service_type;
	p[2] = n->host;
	p[3] = arena_sprintf(a, "%d", n->port);
	p[4] = n->health_check_endpoint;
	p[5] = n->version;
	p[6] = n->environment;
	p[7] = arena_sprintf(a, "%d", n->weight);
	p[8] = n->service_config ? n->service_config : "{}";
	p[9] = arena_sprintf(a, "%d", n->ttl_seconds);
	p[10] = n->self_registered ? "true" : "false";
	p[11] = n->registered_by;
	rc = db_exec(db, a,
	    "INSERT INTO service_registry (service_name, service_type, host,"
	    " port, health_check_endpoint, version, environment, weight,"
	    " service_config, ttl_seconds, self_registered, registered_by)"
	    " VALUES ($1, $2, $3, $4::integer, $5, $6, $7, $8::integer,"
	    " $9::jsonb, $10::integer, $11::boolean, $12)"
	    " RETURNING " SERVICE_COLS, 12, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	return one_row(a, res, out, err);
}

int
registry_store_get(struct db *db, struct arena *a, const char *id,
    struct service_row **out, struct gacp_err *err)
{
	const char *p[1] = { id };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT " SERVICE_COLS " FROM service_registry"
	    " WHERE id = $1::uuid", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	return one_row(a, res, out, err);
}

int
registry_store_page(struct db *db, struct arena *a, const char *name,
    int healthy, int64_t after_us, const char *after_id, int limit,
    struct service_row **rows, size_t *n, struct gacp_err *err)
{
	struct store_page pg;
	const char *p[5];
	PGresult *res;
	int rc;

	store_page_params(&pg, after_us, after_id, limit);
	p[0] = name;
	p[1] = healthy < 0 ? NULL : healthy ? "true" : "false";
	p[2] = pg.after_us;
	p[3] = pg.after_id;
	p[4] = pg.limit;
	rc = db_exec(db, a, "SELECT " SERVICE_COLS " FROM service_registry"
	    " WHERE ($1::text IS NULL OR service_name = $1)"
	    "   AND ($2::boolean IS NULL OR (clock_timestamp() - last_heartbeat"
	    "        <= make_interval(secs => ttl_seconds)) = $2::boolean)"
	    "   AND ($3::bigint < 0 OR (registered_at, id) >"
	    "        (gacp_from_epoch_us($3::bigint), $4::uuid))"
	    " ORDER BY registered_at, id LIMIT $5::integer", 5, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*rows = store_read_rows(a, res, &service_kind, n);
	return GACP_OK;
}

int
registry_store_heartbeat(struct db *db, struct arena *a, const char *id,
    struct service_row **out, struct gacp_err *err)
{
	const char *p[1] = { id };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "UPDATE service_registry SET last_heartbeat ="
	    " clock_timestamp() WHERE id = $1::uuid RETURNING " SERVICE_COLS,
	    1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	return one_row(a, res, out, err);
}

int
registry_store_delete(struct db *db, struct arena *a, const char *id,
    struct service_row **out, struct gacp_err *err)
{
	const char *p[1] = { id };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "DELETE FROM service_registry WHERE id = $1::uuid"
	    " RETURNING " SERVICE_COLS, 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	return one_row(a, res, out, err);
}

int
registry_store_prune(struct db *db, struct arena *a, int64_t grace_s,
    const char *audit_tenant, const char *actor, long *n,
    struct gacp_err *err)
{
	const char *p[3];
	PGresult *res;
	int rc;

	p[0] = arena_sprintf(a, "%lld", (long long)grace_s);
	p[1] = audit_tenant;
	p[2] = actor;
	/* One statement: the entries go and their audit events appear
	 * together or not at all. */
	rc = db_exec(db, a,
	    "WITH gone AS (DELETE FROM service_registry WHERE last_heartbeat <"
	    " clock_timestamp() - make_interval(secs => ttl_seconds + $1::bigint)"
	    " RETURNING id, service_name, service_type, host, port,"
	    " last_heartbeat)"
	    " INSERT INTO audit_log (tenant_id, actor_type, actor_id, action,"
	    " resource_type, resource_id, details)"
	    " SELECT $2::uuid, 'system', $3, 'service.prune', 'service', id::text,"
	    " jsonb_build_object('service_name', service_name, 'service_type',"
	    " service_type, 'host', host, 'port', port, 'last_heartbeat',"
	    " gacp_iso(last_heartbeat)) FROM gone", 3, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*n = strtol(PQcmdTuples(res), NULL, 10);
	return GACP_OK;
}

int
registry_store_platform_tenant(struct db *db, struct arena *a, char out[37],
    struct gacp_err *err)
{
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT id::text FROM tenants WHERE is_platform"
	    " AND NOT is_deleted ORDER BY created_at LIMIT 1", 0, NULL, &res,
	    err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) != 1)
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no platform tenant");
	snprintf(out, 37, "%s", PQgetvalue(res, 0, 0));
	return GACP_OK;
}
