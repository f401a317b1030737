/* channel_store.c - SQL for the channels table (see channel_store.h). */
#include "messenger/channel_store.h"
#include "common/arena.h"
#include "store/db.h"
#include "store/pgrow.h"
#include "store/store_util.h"

#include <stdio.h>
#include <string.h>

#define CHANNEL_COLS \
	"tenant_id::text, id::text, type, name, page_id, status, " \
	"last_error::text, metadata::text, gacp_iso(created_at), " \
	"gacp_iso(updated_at), version, gacp_epoch_us(created_at)"

static void
read_row(struct arena *a, const PGresult *res, int r, void *row)
{
	struct channel_row *c = row;

	c->tenant_id = pgrow_str(a, res, r, 0);
	c->id = pgrow_str(a, res, r, 1);
	c->type = pgrow_str(a, res, r, 2);
	c->name = pgrow_str(a, res, r, 3);
	c->page_id = pgrow_str(a, res, r, 4);
	c->status = pgrow_str(a, res, r, 5);
	c->last_error = pgrow_str(a, res, r, 6);
	c->metadata = pgrow_str(a, res, r, 7);
	c->created_at = pgrow_str(a, res, r, 8);
	c->updated_at = pgrow_str(a, res, r, 9);
	c->version = pgrow_int64(res, r, 10);
	c->created_us = pgrow_int64(res, r, 11);
}

static const struct store_kind channel_kind = {
	.table = "channels", .noun = "channel", .stale_noun = "channel",
	.cols = CHANNEL_COLS,
	.row_size = sizeof(struct channel_row), .read = read_row,
};

static int
one_row(struct arena *a, PGresult *res, struct channel_row **out,
    struct gacp_err *err)
{
	*out = store_one_row(a, res, &channel_kind, err);
	return *out != NULL ? GACP_OK : GACP_ENOTFOUND;
}

int
channel_store_insert(struct db *db, struct arena *a, const char *tenant_id,
    const struct channel_new *in, const char *created_by,
    struct channel_row **out, struct gacp_err *err)
{
	const char *p[9] = { tenant_id, in->id, in->name, in->page_id,
	    in->app_secret_enc, in->page_token_enc, in->verify_token_hash,
	    in->metadata ? in->metadata : "{}", created_by };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "INSERT INTO channels (tenant_id, id, type, name,"
	    " page_id, app_secret_enc, page_access_token_enc, verify_token_hash,"
	    " metadata, created_by, updated_by) VALUES ($1::uuid, $2::uuid,"
	    " 'messenger', $3, $4, $5, $6, $7, $8::jsonb, $9::uuid, $9::uuid)"
	    " RETURNING " CHANNEL_COLS, 9, p, &res, err);
	if (rc == GACP_ECONFLICT)
		return gacp_err_set(err, GACP_ECONFLICT, "conflict",
		    "a channel with this page id or verify token already exists");
	if (rc != GACP_OK)
		return rc;
	return one_row(a, res, out, err);
}

int
channel_store_get(struct db *db, struct arena *a, const char *id,
    struct channel_row **out, struct gacp_err *err)
{
	const char *p[1] = { id };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT " CHANNEL_COLS " FROM channels"
	    " WHERE id = $1::uuid AND NOT is_deleted", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	return one_row(a, res, out, err);
}

int
channel_store_list(struct db *db, struct arena *a, const char *status,
    int64_t after_us, const char *after_id, int limit,
    struct channel_row **rows, size_t *n, struct gacp_err *err)
{
	struct store_page pg;
	const char *p[4];
	PGresult *res;
	int rc;

	store_page_params(&pg, after_us, after_id, limit);
	p[0] = pg.after_us;
	p[1] = pg.after_id;
	p[2] = pg.limit;
	p[3] = status;
	rc = db_exec(db, a, "SELECT " CHANNEL_COLS " FROM channels"
	    " WHERE NOT is_deleted AND ($4::text IS NULL OR status = $4)"
	    " AND ($1::bigint < 0 OR"
	    "  (created_at, id) > (gacp_from_epoch_us($1::bigint), $2::uuid))"
	    " ORDER BY created_at, id LIMIT $3::int", 4, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*rows = store_read_rows(a, res, &channel_kind, n);
	return GACP_OK;
}

int
channel_store_update(struct db *db, struct arena *a, const char *id,
    int64_t version, const struct channel_patch *patch,
    const char *updated_by, struct channel_row **out, struct gacp_err *err)
{
	char ver[24];
	const char *p[10];
	PGresult *res;
	int rc;

	snprintf(ver, sizeof(ver), "%lld", (long long)version);
	p[0] = id;
	p[1] = ver;
	p[2] = patch->name;
	p[3] = patch->status;
	p[4] = patch->app_secret_enc;
	p[5] = patch->page_token_enc;
	p[6] = patch->verify_token_hash;
	p[7] = patch->metadata;
	p[8] = patch->clear_last_error ? "true" : "false";
	p[9] = updated_by;
	rc = db_exec(db, a, "UPDATE channels SET"
	    " name = coalesce($3, name), status = coalesce($4, status),"
	    " app_secret_enc = coalesce($5, app_secret_enc),"
	    " page_access_token_enc = coalesce($6, page_access_token_enc),"
	    " verify_token_hash = coalesce($7, verify_token_hash),"
	    " metadata = coalesce($8::jsonb, metadata),"
	    " last_error = CASE WHEN $9::boolean THEN NULL ELSE last_error END,"
	    " updated_by = $10::uuid"
	    " WHERE id = $1::uuid AND NOT is_deleted"
	    " AND ($2::bigint < 0 OR version = $2::bigint)"
	    " RETURNING " CHANNEL_COLS, 10, p, &res, err);
	if (rc == GACP_ECONFLICT)
		return gacp_err_set(err, GACP_ECONFLICT, "conflict",
		    "a channel with this verify token already exists");
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) == 0)
		return store_missing_or_stale(db, a, &channel_kind, id, err);
	return one_row(a, res, out, err);
}

int
channel_store_delete(struct db *db, struct arena *a, const char *id,
    int64_t version, const char *deleted_by, struct gacp_err *err)
{
	return store_soft_delete(db, a, &channel_kind, id, version, deleted_by,
	    err);
}

int
channel_store_page_taken(struct db *db, struct arena *a, const char *page_id,
    bool *taken, struct gacp_err *err)
{
	const char *p[1] = { page_id };
	PGresult *res;
	int rc;

	*taken = false;
	rc = db_exec(db, a, "SELECT count(*) FROM gacp_channel_by_page($1)", 1,
	    p, &res, err);
	if (rc == GACP_OK)
		*taken = pgrow_int64(res, 0, 0) > 0;
	return rc;
}

int
channel_store_verify_taken(struct db *db, struct arena *a,
    const char *verify_token_hash, const char *except_id, bool *taken,
    struct gacp_err *err)
{
	const char *p[2] = { verify_token_hash, except_id };
	PGresult *res;
	int rc;

	*taken = false;
	rc = db_exec(db, a, "SELECT count(*) FROM"
	    " gacp_channel_by_verify_hash($1) WHERE $2::uuid IS NULL"
	    " OR id <> $2::uuid", 2, p, &res, err);
	if (rc == GACP_OK)
		*taken = pgrow_int64(res, 0, 0) > 0;
	return rc;
}
