/* store_util.c - shared shapes of the per-entity stores (see store_util.h). */
#include "store/store_util.h"
#include "common/arena.h"
#include "store/db.h"

#include <stdio.h>

void
store_page_params(struct store_page *pg, int64_t after_us,
    const char *after_id, int limit)
{
	snprintf(pg->after_us, sizeof(pg->after_us), "%lld",
	    (long long)after_us);
	snprintf(pg->limit, sizeof(pg->limit), "%d", limit);
	pg->after_id = after_id ? after_id : STORE_NIL_UUID;
}

void *
store_read_rows(struct arena *a, const PGresult *res,
    const struct store_kind *k, size_t *n)
{
	char *rows;
	int i;

	*n = (size_t)PQntuples(res);
	rows = arena_calloc(a, *n + 1, k->row_size);
	for (i = 0; i < PQntuples(res); i++)
		k->read(a, res, i, rows + (size_t)i * k->row_size);
	return rows;
}

void *
store_one_row(struct arena *a, const PGresult *res,
    const struct store_kind *k, struct gacp_err *err)
{
	void *row;

	if (PQntuples(res) != 1) {
		gacp_err_set(err, GACP_ENOTFOUND, "not_found", "no such %s",
		    k->noun);
		return NULL;
	}
	row = arena_calloc(a, 1, k->row_size);
	k->read(a, res, 0, row);
	return row;
}

int
store_missing_or_stale(struct db *db, struct arena *a,
    const struct store_kind *k, const char *id, struct gacp_err *err)
{
	const char *p[1] = { id };
	char sql[128];
	PGresult *res;
	int rc;

	/* k->table is one of our compile-time constants (see store_util.h);
	 * the id stays a parameter. */
	snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE id = $1::uuid"
	    " AND NOT is_deleted", k->table);
	rc = db_exec(db, a, sql, 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) == 1)
		return gacp_err_set(err, GACP_ECONFLICT, "version_conflict",
		    "the %s was changed by someone else; reload it",
		    k->stale_noun);
	return gacp_err_set(err, GACP_ENOTFOUND, "not_found", "no such %s",
	    k->noun);
}

int
store_select_page(struct db *db, struct arena *a, const struct store_kind *k,
    int64_t after_us, const char *after_id, int limit, PGresult **res,
    struct gacp_err *err)
{
	struct store_page pg;
	const char *p[3];
	const char *sql;

	store_page_params(&pg, after_us, after_id, limit);
	p[0] = pg.after_us;
	p[1] = pg.after_id;
	p[2] = pg.limit;
	/* k->cols and k->table are our constants (see store_util.h). */
	sql = arena_sprintf(a, "SELECT %s FROM %s"
	    " WHERE NOT is_deleted AND ($1::bigint < 0 OR"
	    "  (created_at, id) > (gacp_from_epoch_us($1::bigint), $2::uuid))"
	    " ORDER BY created_at, id LIMIT $3::int", k->cols, k->table);
	return db_exec(db, a, sql, 3, p, res, err);
}

int
store_soft_delete(struct db *db, struct arena *a, const struct store_kind *k,
    const char *id, int64_t version, const char *deleted_by,
    struct gacp_err *err)
{
	char ver[24];
	const char *p[3];
	const char *sql;
	PGresult *res;
	int rc;

	snprintf(ver, sizeof(ver), "%lld", (long long)version);
	p[0] = id;
	p[1] = ver;
	p[2] = deleted_by;
	/* k->table and k->delete_also are our constants (see store_util.h). */
	sql = arena_sprintf(a, "UPDATE %s SET is_deleted = true,"
	    " deleted_at = now(), deleted_by = $3::uuid,"
	    " updated_by = $3::uuid%s%s"
	    " WHERE id = $1::uuid AND NOT is_deleted"
	    " AND ($2::bigint < 0 OR version = $2::bigint) RETURNING id",
	    k->table, k->delete_also ? ", " : "",
	    k->delete_also ? k->delete_also : "");
	rc = db_exec(db, a, sql, 3, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) == 0)
		return store_missing_or_stale(db, a, k, id, err);
	return GACP_OK;
}
