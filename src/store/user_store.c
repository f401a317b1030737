/* user_store.c - SQL for the users table (see user_store.h). */
#include "store/user_store.h"
#include "common/arena.h"
#include "store/db.h"
#include "store/pgrow.h"
#include "store/store_util.h"

#include <stdio.h>
#include <string.h>

#define USER_COLS \
	"tenant_id::text, id::text, username, display_name, email, " \
	"password_hash, array_to_json(roles)::text, metadata::text, " \
	"gacp_iso(password_changed_at), gacp_iso(last_login_at), " \
	"gacp_iso(created_at), gacp_iso(updated_at), " \
	"extract(epoch FROM password_changed_at)::bigint, " \
	"must_change_password, is_active, version, gacp_epoch_us(created_at)"

#define ROLES_FROM_JSON(n) "ARRAY(SELECT jsonb_array_elements_text($" #n "::jsonb))"

static void
read_row(struct arena *a, const PGresult *res, int r, void *row)
{
	struct user_row *u = row;

	u->tenant_id = pgrow_str(a, res, r, 0);
	u->id = pgrow_str(a, res, r, 1);
	u->username = pgrow_str(a, res, r, 2);
	u->display_name = pgrow_str(a, res, r, 3);
	u->email = pgrow_str(a, res, r, 4);
	u->password_hash = pgrow_str(a, res, r, 5);
	pgrow_str_array(a, res, r, 6, &u->roles, &u->nroles);
	u->metadata = pgrow_str(a, res, r, 7);
	u->password_changed_at = pgrow_str(a, res, r, 8);
	u->last_login_at = pgrow_str(a, res, r, 9);
	u->created_at = pgrow_str(a, res, r, 10);
	u->updated_at = pgrow_str(a, res, r, 11);
	u->password_changed_s = pgrow_int64(res, r, 12);
	u->must_change_password = pgrow_bool(res, r, 13);
	u->is_active = pgrow_bool(res, r, 14);
	u->version = pgrow_int64(res, r, 15);
	u->created_us = pgrow_int64(res, r, 16);
}

static const struct store_kind user_kind = {
	.table = "users", .noun = "user", .stale_noun = "user",
	.cols = USER_COLS,
	.delete_also = "is_active = false",
	.row_size = sizeof(struct user_row), .read = read_row,
};

static int
one_row(struct arena *a, PGresult *res, struct user_row **out,
    struct gacp_err *err)
{
	*out = store_one_row(a, res, &user_kind, err);
	return *out != NULL ? GACP_OK : GACP_ENOTFOUND;
}

int
user_store_insert(struct db *db, struct arena *a, const char *tenant_id,
    const struct user_new *in, const char *created_by, struct user_row **out,
    struct gacp_err *err)
{
	const char *p[9] = { tenant_id, in->username, in->display_name,
	    in->email, in->password_hash, in->roles_json,
	    in->metadata ? in->metadata : "{}",
	    in->must_change_password ? "true" : "false", created_by };
	PGresult *res;
	int rc;

	rc = db_exec(db, a,
	    "INSERT INTO users (tenant_id, username, display_name, email,"
	    " password_hash, roles, metadata, must_change_password, created_by,"
	    " updated_by) VALUES ($1::uuid, $2, $3, $4, $5, " ROLES_FROM_JSON(6)
	    ", $7::jsonb, $8::boolean, $9::uuid, $9::uuid) RETURNING " USER_COLS,
	    9, p, &res, err);
	if (rc == GACP_ECONFLICT)
		return gacp_err_set(err, GACP_ECONFLICT, "username_taken",
		    "a user with this username already exists");
	if (rc != GACP_OK)
		return rc;
	return one_row(a, res, out, err);
}

int
user_store_get(struct db *db, struct arena *a, const char *id,
    struct user_row **out, struct gacp_err *err)
{
	const char *p[1] = { id };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT " USER_COLS " FROM users"
	    " WHERE id = $1::uuid AND NOT is_deleted", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	return one_row(a, res, out, err);
}

int
user_store_by_username(struct db *db, struct arena *a, const char *username,
    struct user_row **out, struct gacp_err *err)
{
	const char *p[1] = { username };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT " USER_COLS " FROM users"
	    " WHERE lower(username) = lower($1) AND NOT is_deleted", 1, p,
	    &res, err);
	if (rc != GACP_OK)
		return rc;
	return one_row(a, res, out, err);
}

int
user_store_list(struct db *db, struct arena *a, int64_t after_us,
    const char *after_id, int limit, struct user_row **rows, size_t *n,
    struct gacp_err *err)
{
	PGresult *res;
	int rc;

	rc = store_select_page(db, a, &user_kind, after_us, after_id, limit,
	    &res, err);
	if (rc != GACP_OK)
		return rc;
	*rows = store_read_rows(a, res, &user_kind, n);
	return GACP_OK;
}

int
user_store_update(struct db *db, struct arena *a, const char *id,
    int64_t version, const struct user_patch *patch, const char *updated_by,
    struct user_row **out, struct gacp_err *err)
{
	char ver[24];
	const char *p[10];
	PGresult *res;
	int rc;

	snprintf(ver, sizeof(ver), "%lld", (long long)version);
	p[0] = id;
	p[1] = ver;
	p[2] = patch->set_display_name ? "true" : "false";
	p[3] = patch->display_name;
	p[4] = patch->set_email ? "true" : "false";
	p[5] = patch->email;
	p[6] = patch->roles_json;
	p[7] = patch->is_active;
	p[8] = patch->metadata;
	p[9] = updated_by;
	rc = db_exec(db, a, "UPDATE users SET"
	    " display_name = CASE WHEN $3::boolean THEN $4 ELSE display_name END,"
	    " email = CASE WHEN $5::boolean THEN $6 ELSE email END,"
	    " roles = CASE WHEN $7::jsonb IS NULL THEN roles ELSE "
	    ROLES_FROM_JSON(7) " END,"
	    " is_active = coalesce($8::boolean, is_active),"
	    " metadata = coalesce($9::jsonb, metadata), updated_by = $10::uuid"
	    " WHERE id = $1::uuid AND NOT is_deleted"
	    " AND ($2::bigint < 0 OR version = $2::bigint)"
	    " RETURNING " USER_COLS, 10, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) == 0)
		return store_missing_or_stale(db, a, &user_kind, id, err);
	return one_row(a, res, out, err);
}

int
user_store_delete(struct db *db, struct arena *a, const char *id,
    int64_t version, const char *deleted_by, struct gacp_err *err)
{
	return store_soft_delete(db, a, &user_kind, id, version, deleted_by,
	    err);
}

int
user_store_set_password(struct db *db, struct arena *a, const char *id,
    const char *password_hash, bool must_change, const char *updated_by,
    struct gacp_err *err)
{
	const char *p[4] = { id, password_hash, must_change ? "true" : "false",
	    updated_by };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "UPDATE users SET password_hash = $2,"
	    " password_changed_at = now(), must_change_password = $3::boolean,"
	    " updated_by = $4::uuid WHERE id = $1::uuid AND NOT is_deleted"
	    " RETURNING id", 4, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) == 0)
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such user");
	return GACP_OK;
}

int
user_store_touch_login(struct db *db, struct arena *a, const char *id,
    const char *rehash, struct gacp_err *err)
{
	const char *p[2] = { id, rehash };
	PGresult *res;

	return db_exec(db, a, "UPDATE users SET last_login_at = now(),"
	    " password_hash = coalesce($2, password_hash)"
	    " WHERE id = $1::uuid AND NOT is_deleted", 2, p, &res, err);
}

int
user_store_count_role(struct db *db, struct arena *a, const char *role,
    int64_t *count, struct gacp_err *err)
{
	const char *p[1] = { role };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT count(*) FROM users WHERE NOT is_deleted"
	    " AND is_active AND $1 = ANY (roles)", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*count = pgrow_int64(res, 0, 0);
	return GACP_OK;
}
