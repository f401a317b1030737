/* tenant_store.c - SQL for the tenants table (see tenant_store.h). */
#include "store/tenant_store.h"
#include "common/arena.h"
#include "store/db.h"
#include "store/pgrow.h"
#include "store/store_util.h"

#include <stdio.h>
#include <string.h>

#define TENANT_COLS \
	"id::text, slug, name, status, settings::text, metadata::text, " \
	"gacp_iso(created_at), gacp_iso(updated_at), is_platform, version, " \
	"gacp_epoch_us(created_at)"

static void
read_row(struct arena *a, const PGresult *res, int r, void *row)
{
	struct tenant_row *t = row;

	t->id = pgrow_str(a, res, r, 0);
	t->slug = pgrow_str(a, res, r, 1);
	t->name = pgrow_str(a, res, r, 2);
	t->status = pgrow_str(a, res, r, 3);
	t->settings = pgrow_str(a, res, r, 4);
	t->metadata = pgrow_str(a, res, r, 5);
	t->created_at = pgrow_str(a, res, r, 6);
	t->updated_at = pgrow_str(a, res, r, 7);
	t->is_platform = pgrow_bool(res, r, 8);
	t->version = pgrow_int64(res, r, 9);
	t->created_us = pgrow_int64(res, r, 10);
}

static const struct store_kind tenant_kind = {
	.table = "tenants", .noun = "tenant", .stale_noun = "tenant",
	.cols = TENANT_COLS,
	.row_size = sizeof(struct tenant_row), .read = read_row,
};

static int
one_row(struct arena *a, PGresult *res, struct tenant_row **out,
    struct gacp_err *err)
{
	*out = store_one_row(a, res, &tenant_kind, err);
	return *out != NULL ? GACP_OK : GACP_ENOTFOUND;
}

int
tenant_store_insert(struct db *db, struct arena *a, const char *slug,
    const char *name, bool is_platform, const char *settings,
    const char *metadata, const char *created_by, struct tenant_row **out,
    struct gacp_err *err)
{
	const char *p[6] = { slug, name, is_platform ? "true" : "false",
	    settings ? settings : "{}", metadata ? metadata : "{}", created_by };
	PGresult *res;
	int rc;

	rc = db_exec(db, a,
	    "INSERT INTO tenants (slug, name, is_platform, settings, metadata,"
	    " created_by, updated_by)"
	    " VALUES ($1, $2, $3::boolean, $4::jsonb, $5::jsonb, $6::uuid, $6::uuid)"
	    " RETURNING " TENANT_COLS, 6, p, &res, err);
	if (rc == GACP_ECONFLICT)
		return gacp_err_set(err, GACP_ECONFLICT, "slug_taken",
		    "a tenant with this slug already exists");
	if (rc != GACP_OK)
		return rc;
	return one_row(a, res, out, err);
}

int
tenant_store_get(struct db *db, struct arena *a, const char *id,
    struct tenant_row **out, struct gacp_err *err)
{
	const char *p[1] = { id };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT " TENANT_COLS " FROM tenants"
	    " WHERE id = $1::uuid AND NOT is_deleted", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	return one_row(a, res, out, err);
}

int
tenant_store_list(struct db *db, struct arena *a, int64_t after_us,
    const char *after_id, int limit, struct tenant_row **rows, size_t *n,
    struct gacp_err *err)
{
	PGresult *res;
	int rc;

	rc = store_select_page(db, a, &tenant_kind, after_us, after_id, limit,
	    &res, err);
	if (rc != GACP_OK)
		return rc;
	*rows = store_read_rows(a, res, &tenant_kind, n);
	return GACP_OK;
}

int
tenant_store_update(struct db *db, struct arena *a, const char *id,
    int64_t version, const struct tenant_patch *patch,
    const char *updated_by, struct tenant_row **out, struct gacp_err *err)
{
	char ver[24];
	const char *p[7];
	PGresult *res;
	int rc;

	snprintf(ver, sizeof(ver), "%lld", (long long)version);
	p[0] = id;
	p[1] = ver;
	p[2] = patch->name;
	p[3] = patch->status;
	p[4] = patch->settings;
	p[5] = patch->metadata;
	p[6] = updated_by;
	rc = db_exec(db, a, "UPDATE tenants SET"
	    " name = coalesce($3, name), status = coalesce($4, status),"
	    " settings = coalesce($5::jsonb, settings),"
	    " metadata = coalesce($6::jsonb, metadata), updated_by = $7::uuid"
	    " WHERE id = $1::uuid AND NOT is_deleted"
	    " AND ($2::bigint < 0 OR version = $2::bigint)"
	    " RETURNING " TENANT_COLS, 7, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) == 0)
		return store_missing_or_stale(db, a, &tenant_kind, id, err);
	return one_row(a, res, out, err);
}

int
tenant_store_delete(struct db *db, struct arena *a, const char *id,
    int64_t version, const char *deleted_by, struct gacp_err *err)
{
	return store_soft_delete(db, a, &tenant_kind, id, version, deleted_by,
	    err);
}

int
tenant_store_find_slug(struct db *db, struct arena *a, const char *slug,
    struct tenant_ref *out, struct gacp_err *err)
{
	const char *p[1] = { slug };
	PGresult *res;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = db_exec(db, a, "SELECT id::text, status, is_platform"
	    " FROM gacp_tenant_by_slug($1)", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) != 1)
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such tenant");
	snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
	snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(res, 0, 1));
	out->is_platform = pgrow_bool(res, 0, 2);
	return GACP_OK;
}

int
tenant_store_access(struct db *db, struct arena *a, const char *id,
    struct tenant_access *out, struct gacp_err *err)
{
	const char *p[1] = { id };
	PGresult *res;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = db_exec(db, a, "SELECT status, is_platform, is_deleted,"
	    " settings::text FROM tenants WHERE id = $1::uuid", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) != 1)
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such tenant");
	snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(res, 0, 0));
	out->is_platform = pgrow_bool(res, 0, 1);
	out->is_deleted = pgrow_bool(res, 0, 2);
	out->settings = pgrow_str(a, res, 0, 3);
	return GACP_OK;
}

int
tenant_store_all_ids(struct db *db, struct arena *a, char ***ids, size_t *n,
    struct gacp_err *err)
{
	PGresult *res;
	int rc, i;

	rc = db_exec(db, a, "SELECT id::text FROM tenants ORDER BY id", 0,
	    NULL, &res, err);
	if (rc != GACP_OK)
		return rc;
	*n = (size_t)PQntuples(res);
	*ids = arena_calloc(a, *n + 1, sizeof(**ids));
	for (i = 0; i < PQntuples(res); i++)
		(*ids)[i] = pgrow_str(a, res, i, 0);
	return GACP_OK;
}
