/* store.c - SQL of the system_config table (see store.h). */
#include "sysconfig/store.h"

#include <stdio.h>
#include <string.h>

#include "common/arena.h"
#include "store/db.h"
#include "store/pgrow.h"
#include "store/store_util.h"

#define COLS \
	"tenant_id::text, id::text, environment, config_key, config_value, " \
	"config_type, description, category, is_encrypted, is_system_config, " \
	"validation_rules::text, gacp_iso(created_at), gacp_iso(updated_at), " \
	"version"

static void
read_row(struct arena *a, const PGresult *res, int r, void *row)
{
	struct syscfg_row *c = row;

	c->tenant_id = pgrow_str(a, res, r, 0);
	c->id = pgrow_str(a, res, r, 1);
	c->environment = pgrow_str(a, res, r, 2);
	c->config_key = pgrow_str(a, res, r, 3);
	c->config_value = pgrow_str(a, res, r, 4);
	c->config_type = pgrow_str(a, res, r, 5);
	c->description = pgrow_str(a, res, r, 6);
	c->category = pgrow_str(a, res, r, 7);
	c->is_encrypted = pgrow_bool(res, r, 8);
	c->is_system_config = pgrow_bool(res, r, 9);
	c->validation_rules = pgrow_str(a, res, r, 10);
	c->created_at = pgrow_str(a, res, r, 11);
	c->updated_at = pgrow_str(a, res, r, 12);
	c->version = pgrow_int64(res, r, 13);
}

static const struct store_kind syscfg_kind = {
	.table = "system_config", .noun = "configuration key",
	.stale_noun = "key",
	.cols = COLS,
	.row_size = sizeof(struct syscfg_row), .read = read_row,
};

static int
one_row(struct arena *a, const PGresult *res, struct syscfg_row **out,
    struct gacp_err *err)
{
	*out = store_one_row(a, res, &syscfg_kind, err);
	return *out != NULL ? GACP_OK : GACP_ENOTFOUND;
}

int
syscfg_store_list(struct db *db, struct arena *a, const char *environment,
    const char *category, struct syscfg_row **rows, size_t *n,
    struct gacp_err *err)
{
	const char *p[2] = { environment, category };
	PGresult *res;
	int rc;

	*rows = NULL;
	*n = 0;
	/* Bounded: a tenant's configuration is tens to hundreds of keys;
	 * 1000 per environment is far past any real use. */
	rc = db_exec(db, a, "SELECT " COLS " FROM system_config"
	    " WHERE NOT is_deleted AND ($1::text IS NULL OR environment = $1)"
	    " AND ($2::text IS NULL OR category = $2)"
	    " ORDER BY config_key, environment LIMIT 3000", 2, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*rows = store_read_rows(a, res, &syscfg_kind, n);
	return GACP_OK;
}

int
syscfg_store_get(struct db *db, struct arena *a, const char *environment,
    const char *key, struct syscfg_row **out, struct gacp_err *err)
{
	const char *p[2] = { environment, key };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT " COLS " FROM system_config"
	    " WHERE environment = $1 AND config_key = $2 AND NOT is_deleted",
	    2, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	return one_row(a, res, out, err);
}

static void
write_params(const struct syscfg_write *w, const char **p)
{
	p[0] = w->environment;
	p[1] = w->config_key;
	p[2] = w->config_value;
	p[3] = w->config_type;
	p[4] = w->description;
	p[5] = w->category;
	p[6] = w->is_encrypted ? "true" : "false";
	p[7] = w->is_system_config ? "true" : "false";
	p[8] = w->validation_rules;
}

int
syscfg_store_insert(struct db *db, struct arena *a, const char *tenant_id,
    const struct syscfg_write *w, const char *actor, struct syscfg_row **out,
    struct gacp_err *err)
{
	const char *p[12];
	PGresult *res;
	int rc;

	write_params(w, p);
	p[9] = tenant_id;
	p[10] = w->id;
	p[11] = actor;
	rc = db_exec(db, a, "INSERT INTO system_config (environment, config_key,"
	    " config_value, config_type, description, category, is_encrypted,"
	    " is_system_config, validation_rules, tenant_id, id, created_by,"
	    " updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7::boolean,"
	    " $8::boolean, $9::jsonb, $10::uuid, $11::uuid, $12::uuid,"
	    " $12::uuid) RETURNING " COLS, 12, p, &res, err);
	if (rc == GACP_ECONFLICT)
		return gacp_err_set(err, GACP_ECONFLICT, "version_conflict",
		    "the key was created by someone else meanwhile; reload it");
	if (rc != GACP_OK)
		return rc;
	return one_row(a, res, out, err);
}

int
syscfg_store_update(struct db *db, struct arena *a, const char *id,
    int64_t version, const struct syscfg_write *w, const char *actor,
    struct syscfg_row **out, struct gacp_err *err)
{
	const char *p[12];
	char ver[24];
	PGresult *res;
	int rc;

	snprintf(ver, sizeof(ver), "%lld", (long long)version);
	write_params(w, p);
	p[9] = id;
	p[10] = ver;
	p[11] = actor;
	rc = db_exec(db, a, "UPDATE system_config SET config_value = $3,"
	    " config_type = $4, description = $5, category = $6,"
	    " is_encrypted = $7::boolean, is_system_config = $8::boolean,"
	    " validation_rules = $9::jsonb, updated_by = $12::uuid"
	    " WHERE id = $10::uuid AND environment = $1 AND config_key = $2"
	    " AND NOT is_deleted AND ($11::bigint < 0 OR version = $11::bigint)"
	    " RETURNING " COLS, 12, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) == 0)
		return store_missing_or_stale(db, a, &syscfg_kind, id, err);
	return one_row(a, res, out, err);
}

int
syscfg_store_delete(struct db *db, struct arena *a, const char *id,
    int64_t version, const char *actor, struct gacp_err *err)
{
	return store_soft_delete(db, a, &syscfg_kind, id, version, actor,
	    err);
}
