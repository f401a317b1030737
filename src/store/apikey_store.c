/* apikey_store.c - SQL for API keys (see apikey_store.h). */
#include "store/apikey_store.h"
#include "common/arena.h"
#include "store/db.h"
#include "store/pgrow.h"
#include "store/store_util.h"

#include <stdio.h>
#include <string.h>

#define APIKEY_COLS \
	"tenant_id::text, id::text, name, prefix, array_to_json(scopes)::text, " \
	"gacp_iso(expires_at), gacp_iso(revoked_at), gacp_iso(last_used_at), " \
	"gacp_iso(created_at), created_by::text, " \
	"expires_at IS NOT NULL AND expires_at <= now(), version, " \
	"gacp_epoch_us(created_at)"

static void
read_row(struct arena *a, const PGresult *res, int r, void *row)
{
	struct apikey_row *k = row;

	k->tenant_id = pgrow_str(a, res, r, 0);
	k->id = pgrow_str(a, res, r, 1);
	k->name = pgrow_str(a, res, r, 2);
	k->prefix = pgrow_str(a, res, r, 3);
	pgrow_str_array(a, res, r, 4, &k->scopes, &k->nscopes);
	k->expires_at = pgrow_str(a, res, r, 5);
	k->revoked_at = pgrow_str(a, res, r, 6);
	k->last_used_at = pgrow_str(a, res, r, 7);
	k->created_at = pgrow_str(a, res, r, 8);
	k->created_by = pgrow_str(a, res, r, 9);
	k->expired = pgrow_bool(res, r, 10);
	k->version = pgrow_int64(res, r, 11);
	k->created_us = pgrow_int64(res, r, 12);
}

static const struct store_kind apikey_kind = {
	.table = "api_keys", .noun = "API key", .stale_noun = "API key",
	.cols = APIKEY_COLS,
	.row_size = sizeof(struct apikey_row), .read = read_row,
};

static int
one_row(struct arena *a, PGresult *res, struct apikey_row **out,
    struct gacp_err *err)
{
	*out = store_one_row(a, res, &apikey_kind, err);
	return *out != NULL ? GACP_OK : GACP_ENOTFOUND;
}

int
apikey_store_insert(struct db *db, struct arena *a, const char *tenant_id,
    const char *name, const char *prefix, const char *hash_hex,
    const char *scopes_json, const char *expires_at, const char *created_by,
    struct apikey_row **out, struct gacp_err *err)
{
	const char *p[7] = { tenant_id, name, prefix, hash_hex, scopes_json,
	    expires_at, created_by };
	PGresult *res;
	int rc;

	rc = db_exec(db, a,
	    "INSERT INTO api_keys (tenant_id, name, prefix, key_hash, scopes,"
	    " expires_at, created_by, updated_by) VALUES ($1::uuid, $2, $3, $4,"
	    " ARRAY(SELECT jsonb_array_elements_text($5::jsonb)),"
	    " $6::timestamptz, $7::uuid, $7::uuid) RETURNING " APIKEY_COLS,
	    7, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	return one_row(a, res, out, err);
}

int
apikey_store_get(struct db *db, struct arena *a, const char *id,
    struct apikey_row **out, struct gacp_err *err)
{
	const char *p[1] = { id };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT " APIKEY_COLS " FROM api_keys"
	    " WHERE id = $1::uuid AND NOT is_deleted", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	return one_row(a, res, out, err);
}

int
apikey_store_list(struct db *db, struct arena *a, int64_t after_us,
    const char *after_id, int limit, struct apikey_row **rows, size_t *n,
    struct gacp_err *err)
{
	PGresult *res;
	int rc;

	rc = store_select_page(db, a, &apikey_kind, after_us, after_id, limit,
	    &res, err);
	if (rc != GACP_OK)
		return rc;
	*rows = store_read_rows(a, res, &apikey_kind, n);
	return GACP_OK;
}

int
apikey_store_revoke(struct db *db, struct arena *a, const char *id,
    const char *revoked_by, struct gacp_err *err)
{
	const char *p[2] = { id, revoked_by };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "UPDATE api_keys SET revoked_at = now(),"
	    " updated_by = $2::uuid WHERE id = $1::uuid AND NOT is_deleted"
	    " AND revoked_at IS NULL RETURNING id", 2, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) == 0)
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such active API key");
	return GACP_OK;
}

int
apikey_store_access(struct db *db, struct arena *a, const char *prefix,
    struct apikey_access *out, struct gacp_err *err)
{
	const char *p[1] = { prefix };
	PGresult *res;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = db_exec(db, a, "SELECT tenant_id::text, id::text, key_hash,"
	    " array_to_json(scopes)::text, expired, revoked, used_recently,"
	    " tenant_status, tenant_is_platform, tenant_settings::text"
	    " FROM gacp_api_key_access($1)", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) != 1)
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such API key");
	out->tenant_id = pgrow_str(a, res, 0, 0);
	out->id = pgrow_str(a, res, 0, 1);
	out->key_hash = pgrow_str(a, res, 0, 2);
	pgrow_str_array(a, res, 0, 3, &out->scopes, &out->nscopes);
	out->expired = pgrow_bool(res, 0, 4);
	out->revoked = pgrow_bool(res, 0, 5);
	out->used_recently = pgrow_bool(res, 0, 6);
	out->tenant_status = pgrow_str(a, res, 0, 7);
	out->tenant_is_platform = pgrow_bool(res, 0, 8);
	out->tenant_settings = pgrow_str(a, res, 0, 9);
	return GACP_OK;
}

int
apikey_store_touch(struct db *db, struct arena *a, const char *id,
    struct gacp_err *err)
{
	const char *p[1] = { id };
	PGresult *res;

	return db_exec(db, a, "UPDATE api_keys SET last_used_at = now()"
	    " WHERE id = $1::uuid", 1, p, &res, err);
}

int
apikey_store_in_future(struct db *db, struct arena *a, const char *timestamp,
    bool *future, struct gacp_err *err)
{
	const char *p[1] = { timestamp };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT $1::timestamptz > now()", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*future = pgrow_bool(res, 0, 0);
	return GACP_OK;
}
