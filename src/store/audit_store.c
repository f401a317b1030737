/* audit_store.c - SQL for the audit log (see audit_store.h). */
#include "store/audit_store.h"
#include "common/arena.h"
#include "store/db.h"
#include "store/pgrow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
audit_store_insert(struct db *db, struct arena *a,
    const struct audit_entry *e, struct gacp_err *err)
{
	const char *p[10] = { e->tenant_id, e->actor_type, e->actor_id,
	    e->action, e->outcome ? e->outcome : "success", e->resource_type,
	    e->resource_id, e->request_id, e->client_addr,
	    e->details ? e->details : "{}" };
	PGresult *res;

	return db_exec(db, a, "INSERT INTO audit_log (tenant_id, actor_type,"
	    " actor_id, action, outcome, resource_type, resource_id, request_id,"
	    " client_addr, details) VALUES ($1::uuid, $2, $3, $4, $5, $6, $7,"
	    " $8, $9, $10::jsonb)", 10, p, &res, err);
}

int
audit_store_list(struct db *db, struct arena *a, const struct audit_filter *f,
    struct audit_row **rows, size_t *n, struct gacp_err *err)
{
	char before[24], lim[16];
	const char *p[6];
	PGresult *res;
	int rc, i;

	snprintf(before, sizeof(before), "%lld", (long long)f->before_id);
	snprintf(lim, sizeof(lim), "%d", f->limit);
	p[0] = f->action;
	p[1] = f->actor;
	p[2] = f->from;
	p[3] = f->to;
	p[4] = before;
	p[5] = lim;
	rc = db_exec(db, a, "SELECT id, gacp_iso(occurred_at), actor_type,"
	    " actor_id, action, outcome, resource_type, resource_id, request_id,"
	    " client_addr, details::text FROM audit_log"
	    " WHERE ($1::text IS NULL OR action = $1)"
	    " AND ($2::text IS NULL OR actor_id = $2)"
	    " AND ($3::timestamptz IS NULL OR occurred_at >= $3::timestamptz)"
	    " AND ($4::timestamptz IS NULL OR occurred_at < $4::timestamptz)"
	    " AND ($5::bigint = 0 OR id < $5::bigint)"
	    " ORDER BY id DESC LIMIT $6::int", 6, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*n = (size_t)PQntuples(res);
	*rows = arena_calloc(a, *n + 1, sizeof(**rows));
	for (i = 0; i < PQntuples(res); i++) {
		struct audit_row *r = &(*rows)[i];
		r->id = pgrow_int64(res, i, 0);
		r->occurred_at = pgrow_str(a, res, i, 1);
		r->actor_type = pgrow_str(a, res, i, 2);
		r->actor_id = pgrow_str(a, res, i, 3);
		r->action = pgrow_str(a, res, i, 4);
		r->outcome = pgrow_str(a, res, i, 5);
		r->resource_type = pgrow_str(a, res, i, 6);
		r->resource_id = pgrow_str(a, res, i, 7);
		r->request_id = pgrow_str(a, res, i, 8);
		r->client_addr = pgrow_str(a, res, i, 9);
		r->details = pgrow_str(a, res, i, 10);
	}
	return GACP_OK;
}

int
audit_store_purge(struct db *db, struct arena *a, const char *tenant_id,
    int days, int64_t *deleted, struct gacp_err *err)
{
	char d[16];
	const char *p[2];
	PGresult *res;
	int rc;

	snprintf(d, sizeof(d), "%d", days);
	p[0] = tenant_id;
	p[1] = d;
	rc = db_exec(db, a, "DELETE FROM audit_log WHERE tenant_id = $1::uuid"
	    " AND occurred_at < now() - make_interval(days => $2::int)", 2, p,
	    &res, err);
	if (rc == GACP_OK)
		*deleted = strtoll(PQcmdTuples(res), NULL, 10);
	return rc;
}
