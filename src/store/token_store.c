/* token_store.c - SQL for refresh tokens (see token_store.h). */
#include "store/token_store.h"
#include "common/arena.h"
#include "store/db.h"
#include "store/pgrow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
token_store_find(struct db *db, struct arena *a, const char *hash_hex,
    char tenant_id[37], char id[37], struct gacp_err *err)
{
	const char *p[1] = { hash_hex };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT tenant_id::text, id::text"
	    " FROM gacp_refresh_token_by_hash($1)", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) != 1)
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such refresh token");
	snprintf(tenant_id, 37, "%s", PQgetvalue(res, 0, 0));
	snprintf(id, 37, "%s", PQgetvalue(res, 0, 1));
	return GACP_OK;
}

int
token_store_lock(struct db *db, struct arena *a, const char *id,
    struct refresh_row **out, struct gacp_err *err)
{
	const char *p[1] = { id };
	struct refresh_row *t;
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT tenant_id::text, id::text, user_id::text,"
	    " family_id::text, extract(epoch FROM session_started_at)::bigint,"
	    " expires_at <= now(), rotated_at IS NOT NULL, revoked_at IS NOT NULL"
	    " FROM refresh_tokens WHERE id = $1::uuid AND NOT is_deleted"
	    " FOR UPDATE", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) != 1)
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such refresh token");
	t = arena_calloc(a, 1, sizeof(*t));
	t->tenant_id = pgrow_str(a, res, 0, 0);
	t->id = pgrow_str(a, res, 0, 1);
	t->user_id = pgrow_str(a, res, 0, 2);
	t->family_id = pgrow_str(a, res, 0, 3);
	t->session_started_s = pgrow_int64(res, 0, 4);
	t->expired = pgrow_bool(res, 0, 5);
	t->rotated = pgrow_bool(res, 0, 6);
	t->revoked = pgrow_bool(res, 0, 7);
	*out = t;
	return GACP_OK;
}

int
token_store_insert(struct db *db, struct arena *a, const char *tenant_id,
    const char *user_id, const char *family_id, int64_t session_started_s,
    const char *hash_hex, int64_t idle_s, int64_t max_s, char **family_out,
    struct gacp_err *err)
{
	char started[24], idle[24], max[24];
	const char *p[7];
	PGresult *res;
	int rc;

	snprintf(started, sizeof(started), "%lld", (long long)session_started_s);
	snprintf(idle, sizeof(idle), "%lld", (long long)idle_s);
	snprintf(max, sizeof(max), "%lld", (long long)max_s);
	p[0] = tenant_id;
	p[1] = user_id;
	p[2] = family_id;
	p[3] = family_id ? started : NULL;
	p[4] = hash_hex;
	p[5] = idle;
	p[6] = max;
	/* The session's start is carried along the family: the idle timeout
	 * restarts at each refresh, the absolute limit never does. */
	rc = db_exec(db, a,
	    "WITH s AS (SELECT coalesce(to_timestamp($4::bigint), now()) AS started)"
	    " INSERT INTO refresh_tokens (tenant_id, user_id, family_id,"
	    " token_hash, session_started_at, expires_at, created_by, updated_by)"
	    " SELECT $1::uuid, $2::uuid, coalesce($3::uuid, gen_random_uuid()), $5,"
	    " s.started, least(now() + make_interval(secs => $6::bigint),"
	    "  s.started + make_interval(secs => $7::bigint)), $2::uuid, $2::uuid"
	    " FROM s RETURNING family_id::text", 7, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*family_out = pgrow_str(a, res, 0, 0);
	return GACP_OK;
}

int
token_store_mark_rotated(struct db *db, struct arena *a, const char *id,
    struct gacp_err *err)
{
	const char *p[1] = { id };
	PGresult *res;

	return db_exec(db, a, "UPDATE refresh_tokens SET rotated_at = now()"
	    " WHERE id = $1::uuid", 1, p, &res, err);
}

static int
revoke(struct db *db, struct arena *a, const char *sql, const char *param,
    int64_t *count, struct gacp_err *err)
{
	const char *p[1] = { param };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, sql, 1, p, &res, err);
	if (rc == GACP_OK && count != NULL)
		*count = strtoll(PQcmdTuples(res), NULL, 10);
	return rc;
}

int
token_store_revoke_family(struct db *db, struct arena *a,
    const char *family_id, int64_t *count, struct gacp_err *err)
{
	return revoke(db, a, "UPDATE refresh_tokens SET revoked_at = now()"
	    " WHERE family_id = $1::uuid AND revoked_at IS NULL", family_id,
	    count, err);
}

int
token_store_revoke_user(struct db *db, struct arena *a, const char *user_id,
    int64_t *count, struct gacp_err *err)
{
	return revoke(db, a, "UPDATE refresh_tokens SET revoked_at = now()"
	    " WHERE user_id = $1::uuid AND revoked_at IS NULL", user_id,
	    count, err);
}
