/* nlu_store.c - SQL for NLU training data and model versions (see nlu_store.h). */
#include "store/nlu_store.h"
#include "common/arena.h"
#include "store/db.h"
#include "store/pgrow.h"
#include "store/store_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Advisory lock class of per-tenant model changes (activation, new
 * versions); the second key is hashtext(tenant_id).  Distinct from the
 * single-key locks of migrations and batch runs. */
#define NLU_MODELS_LOCK_CLASS "7473208"

#define EXAMPLE_COLS \
	"id::text, text, intent, language, entities::text, " \
	"gacp_iso(created_at), gacp_iso(updated_at), created_by::text, " \
	"version, gacp_epoch_us(created_at)"

#define ENTITY_COLS \
	"id::text, kind, name, elements::text, gacp_iso(created_at), " \
	"gacp_iso(updated_at), version, gacp_epoch_us(created_at)"

#define MODEL_COLS \
	"id::text, version, language, status, checksum, path, size_bytes, " \
	"metrics::text, training_data_hash, coalesce(train_seconds, -1), " \
	"reason, gacp_iso(activated_at), gacp_iso(created_at), " \
	"gacp_epoch_us(created_at)"

static void	read_example(struct arena *, const PGresult *, int, void *);
static void	read_entity(struct arena *, const PGresult *, int, void *);
static void	read_model(struct arena *, const PGresult *, int, void *);
static void	read_counts(const PGresult *, struct nlu_sync_counts *);

static const struct store_kind example_kind = {
	.table = "nlu_examples", .noun = "example", .stale_noun = "example",
	.row_size = sizeof(struct nlu_example_row), .read = read_example,
};

static const struct store_kind entity_kind = {
	.table = "nlu_entities", .noun = "entity definition",
	.stale_noun = "entity definition",
	.row_size = sizeof(struct nlu_entity_row), .read = read_entity,
};

static const struct store_kind model_kind = {
	.table = "nlu_models", .noun = "model version",
	.stale_noun = "model version",
	.row_size = sizeof(struct nlu_model_row), .read = read_model,
};

static void
read_example(struct arena *a, const PGresult *res, int r, void *row)
{
	struct nlu_example_row *e = row;

	e->id = pgrow_str(a, res, r, 0);
	e->text = pgrow_str(a, res, r, 1);
	e->intent = pgrow_str(a, res, r, 2);
	e->language = pgrow_str(a, res, r, 3);
	e->entities = pgrow_str(a, res, r, 4);
	e->created_at = pgrow_str(a, res, r, 5);
	e->updated_at = pgrow_str(a, res, r, 6);
	e->created_by = pgrow_str(a, res, r, 7);
	e->version = pgrow_int64(res, r, 8);
	e->created_us = pgrow_int64(res, r, 9);
}

static void
read_entity(struct arena *a, const PGresult *res, int r, void *row)
{
	struct nlu_entity_row *e = row;

	e->id = pgrow_str(a, res, r, 0);
	e->kind = pgrow_str(a, res, r, 1);
	e->name = pgrow_str(a, res, r, 2);
	e->elements = pgrow_str(a, res, r, 3);
	e->created_at = pgrow_str(a, res, r, 4);
	e->updated_at = pgrow_str(a, res, r, 5);
	e->version = pgrow_int64(res, r, 6);
	e->created_us = pgrow_int64(res, r, 7);
}

static void
read_model(struct arena *a, const PGresult *res, int r, void *row)
{
	struct nlu_model_row *m = row;

	m->id = pgrow_str(a, res, r, 0);
	m->version = pgrow_int64(res, r, 1);
	m->language = pgrow_str(a, res, r, 2);
	m->status = pgrow_str(a, res, r, 3);
	m->checksum = pgrow_str(a, res, r, 4);
	m->path = pgrow_str(a, res, r, 5);
	m->size_bytes = pgrow_int64(res, r, 6);
	m->metrics = pgrow_str(a, res, r, 7);
	m->training_data_hash = pgrow_str(a, res, r, 8);
	m->train_seconds = strtod(PQgetvalue(res, r, 9), NULL);
	m->reason = pgrow_str(a, res, r, 10);
	m->activated_at = pgrow_str(a, res, r, 11);
	m->created_at = pgrow_str(a, res, r, 12);
	m->created_us = pgrow_int64(res, r, 13);
}

/* Columns inserted, updated, deleted, total of a sync statement. */
static void
read_counts(const PGresult *res, struct nlu_sync_counts *c)
{
	int64_t total = pgrow_int64(res, 0, 3);

	c->inserted = pgrow_int64(res, 0, 0);
	c->updated = pgrow_int64(res, 0, 1);
	c->deleted = pgrow_int64(res, 0, 2);
	c->unchanged = total - c->inserted - c->updated;
}

/* ---- examples ----------------------------------------------------------- */

int
nlu_store_examples_insert(struct db *db, struct arena *a,
    const char *tenant_id, const char *items_json, const char *actor,
    struct nlu_example_row **rows, size_t *n, struct gacp_err *err)
{
	const char *p[3] = { tenant_id, items_json, actor };
	PGresult *res;
	int rc;

	/* RETURNING has no order; the ordinality of the input restores it. */
	rc = db_exec(db, a,
	    "WITH ins AS ("
	    " INSERT INTO nlu_examples (tenant_id, id, text, intent, language,"
	    "  entities, created_by, updated_by)"
	    " SELECT $1::uuid, x.id, x.text, x.intent, x.language, x.entities,"
	    "  $3::uuid, $3::uuid"
	    " FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, text text,"
	    "  intent text, language text, entities jsonb)"
	    " RETURNING *),"
	    " ord AS (SELECT (t.e->>'id')::uuid AS id, t.o"
	    "  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS t(e, o))"
	    " SELECT " EXAMPLE_COLS " FROM ins JOIN ord USING (id) ORDER BY ord.o",
	    3, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*rows = store_read_rows(a, res, &example_kind, n);
	return GACP_OK;
}

int
nlu_store_examples_existing(struct db *db, struct arena *a,
    const char *texts_json, char ***found, size_t *n, struct gacp_err *err)
{
	const char *p[1] = { texts_json };
	PGresult *res;
	int rc, i;

	/* md5 reaches the unique index; the text comparison makes it exact. */
	rc = db_exec(db, a, "SELECT e.text FROM nlu_examples e"
	    " JOIN jsonb_array_elements_text($1::jsonb) AS t(v)"
	    "  ON md5(e.text) = md5(t.v) AND e.text = t.v"
	    " WHERE NOT e.is_deleted", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*n = (size_t)PQntuples(res);
	*found = arena_calloc(a, *n + 1, sizeof(**found));
	for (i = 0; i < PQntuples(res); i++)
		(*found)[i] = pgrow_str(a, res, i, 0);
	return GACP_OK;
}

int
nlu_store_examples_list(struct db *db, struct arena *a, const char *intent,
    const char *language, int64_t after_us, const char *after_id, int limit,
    struct nlu_example_row **rows, size_t *n, struct gacp_err *err)
{
	struct store_page pg;
	const char *p[5];
	PGresult *res;
	int rc;

	store_page_params(&pg, after_us, after_id, limit);
	p[0] = intent;
	p[1] = language;
	p[2] = pg.after_us;
	p[3] = pg.after_id;
	p[4] = pg.limit;
	rc = db_exec(db, a, "SELECT " EXAMPLE_COLS " FROM nlu_examples"
	    " WHERE NOT is_deleted AND ($1::text IS NULL OR intent = $1)"
	    " AND ($2::text IS NULL OR language = $2)"
	    " AND ($3::bigint < 0 OR"
	    "  (created_at, id) > (gacp_from_epoch_us($3::bigint), $4::uuid))"
	    " ORDER BY created_at, id LIMIT $5::int", 5, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*rows = store_read_rows(a, res, &example_kind, n);
	return GACP_OK;
}

int
nlu_store_example_get(struct db *db, struct arena *a, const char *id,
    struct nlu_example_row **out, struct gacp_err *err)
{
	const char *p[1] = { id };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT " EXAMPLE_COLS " FROM nlu_examples"
	    " WHERE id = $1::uuid AND NOT is_deleted", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*out = store_one_row(a, res, &example_kind, err);
	return *out != NULL ? GACP_OK : GACP_ENOTFOUND;
}

int
nlu_store_example_delete(struct db *db, struct arena *a, const char *id,
    const char *actor, struct gacp_err *err)
{
	const char *p[2] = { id, actor };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "UPDATE nlu_examples SET is_deleted = true,"
	    " deleted_at = now(), deleted_by = $2::uuid, updated_by = $2::uuid"
	    " WHERE id = $1::uuid AND NOT is_deleted RETURNING id", 2, p, &res,
	    err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) == 0)
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such example");
	return GACP_OK;
}

int
nlu_store_examples_delete_intent(struct db *db, struct arena *a,
    const char *intent, const char *actor, int64_t *deleted,
    struct gacp_err *err)
{
	const char *p[2] = { intent, actor };
	PGresult *res;
	int rc;

	*deleted = 0;
	rc = db_exec(db, a, "WITH d AS (UPDATE nlu_examples SET"
	    " is_deleted = true, deleted_at = now(), deleted_by = $2::uuid,"
	    " updated_by = $2::uuid WHERE intent = $1 AND NOT is_deleted"
	    " RETURNING 1) SELECT count(*) FROM d", 2, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*deleted = pgrow_int64(res, 0, 0);
	return GACP_OK;
}

int
nlu_store_examples_all(struct db *db, struct arena *a,
    struct nlu_example_row **rows, size_t *n, struct gacp_err *err)
{
	PGresult *res;
	int rc;

	/* Byte order (COLLATE "C"): the same data gives the same sequence,
	 * and so the same training data hash, whatever the locale. */
	rc = db_exec(db, a, "SELECT " EXAMPLE_COLS " FROM nlu_examples"
	    " WHERE NOT is_deleted ORDER BY intent COLLATE \"C\","
	    " text COLLATE \"C\"", 0, NULL, &res, err);
	if (rc != GACP_OK)
		return rc;
	*rows = store_read_rows(a, res, &example_kind, n);
	return GACP_OK;
}

int
nlu_store_examples_sync(struct db *db, struct arena *a,
    const char *tenant_id, const char *items_json, bool replace,
    const char *actor, struct nlu_sync_counts *c, struct gacp_err *err)
{
	const char *p[4] = { tenant_id, items_json, replace ? "t" : "f", actor };
	PGresult *res;
	int rc;

	memset(c, 0, sizeof(*c));
	/* One statement: every part sees the rows as they were before it,
	 * and the three sets of texts (gone, changed, new) are disjoint.
	 * Unchanged rows keep their ids and versions. */
	rc = db_exec(db, a,
	    "WITH x AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS"
	    "  x(text text, intent text, language text, entities jsonb)),"
	    " del AS (UPDATE nlu_examples e SET is_deleted = true,"
	    "  deleted_at = now(), deleted_by = $4::uuid, updated_by = $4::uuid"
	    "  WHERE $3::boolean AND NOT e.is_deleted AND"
	    "  NOT EXISTS (SELECT 1 FROM x WHERE x.text = e.text) RETURNING 1),"
	    " upd AS (UPDATE nlu_examples e SET intent = x.intent,"
	    "  language = x.language, entities = x.entities,"
	    "  updated_by = $4::uuid FROM x"
	    "  WHERE NOT e.is_deleted AND e.text = x.text AND"
	    "  (e.intent, e.language, e.entities) IS DISTINCT FROM"
	    "  (x.intent, x.language, x.entities) RETURNING 1),"
	    " ins AS (INSERT INTO nlu_examples (tenant_id, text, intent,"
	    "  language, entities, created_by, updated_by)"
	    "  SELECT $1::uuid, x.text, x.intent, x.language, x.entities,"
	    "  $4::uuid, $4::uuid FROM x WHERE NOT EXISTS (SELECT 1 FROM"
	    "  nlu_examples e WHERE NOT e.is_deleted AND e.text = x.text)"
	    "  RETURNING 1)"
	    " SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM upd),"
	    " (SELECT count(*) FROM del), (SELECT count(*) FROM x)",
	    4, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	read_counts(res, c);
	return GACP_OK;
}

/* ---- entity definitions ------------------------------------------------- */

static int
one_entity(struct arena *a, PGresult *res, struct nlu_entity_row **out,
    struct gacp_err *err)
{
	*out = store_one_row(a, res, &entity_kind, err);
	return *out != NULL ? GACP_OK : GACP_ENOTFOUND;
}

int
nlu_store_entity_insert(struct db *db, struct arena *a, const char *tenant_id,
    const char *kind, const char *name, const char *elements_json,
    const char *actor, struct nlu_entity_row **out, struct gacp_err *err)
{
	const char *p[5] = { tenant_id, kind, name, elements_json, actor };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "INSERT INTO nlu_entities (tenant_id, kind, name,"
	    " elements, created_by, updated_by) VALUES ($1::uuid, $2, $3,"
	    " $4::jsonb, $5::uuid, $5::uuid) RETURNING " ENTITY_COLS, 5, p,
	    &res, err);
	if (rc != GACP_OK)
		return rc;
	return one_entity(a, res, out, err);
}

int
nlu_store_entity_get(struct db *db, struct arena *a, const char *id,
    struct nlu_entity_row **out, struct gacp_err *err)
{
	const char *p[1] = { id };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT " ENTITY_COLS " FROM nlu_entities"
	    " WHERE id = $1::uuid AND NOT is_deleted", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	return one_entity(a, res, out, err);
}

int
nlu_store_entities_list(struct db *db, struct arena *a, const char *kind,
    int64_t after_us, const char *after_id, int limit,
    struct nlu_entity_row **rows, size_t *n, struct gacp_err *err)
{
	struct store_page pg;
	const char *p[4];
	PGresult *res;
	int rc;

	store_page_params(&pg, after_us, after_id, limit);
	p[0] = kind;
	p[1] = pg.after_us;
	p[2] = pg.after_id;
	p[3] = pg.limit;
	rc = db_exec(db, a, "SELECT " ENTITY_COLS " FROM nlu_entities"
	    " WHERE NOT is_deleted AND ($1::text IS NULL OR kind = $1)"
	    " AND ($2::bigint < 0 OR"
	    "  (created_at, id) > (gacp_from_epoch_us($2::bigint), $3::uuid))"
	    " ORDER BY created_at, id LIMIT $4::int", 4, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*rows = store_read_rows(a, res, &entity_kind, n);
	return GACP_OK;
}

int
nlu_store_entity_update(struct db *db, struct arena *a, const char *id,
    int64_t version, const char *elements_json, const char *actor,
    struct nlu_entity_row **out, struct gacp_err *err)
{
	char ver[24];
	const char *p[4];
	PGresult *res;
	int rc;

	snprintf(ver, sizeof(ver), "%lld", (long long)version);
	p[0] = id;
	p[1] = ver;
	p[2] = elements_json;
	p[3] = actor;
	rc = db_exec(db, a, "UPDATE nlu_entities SET elements = $3::jsonb,"
	    " updated_by = $4::uuid WHERE id = $1::uuid AND NOT is_deleted"
	    " AND version = $2::int RETURNING " ENTITY_COLS, 4, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) == 1)
		return one_entity(a, res, out, err);
	/* Missing, or changed since the client read it. */
	if ((rc = nlu_store_entity_get(db, a, id, out, err)) != GACP_OK)
		return rc;
	return gacp_err_set(err, GACP_ECONFLICT, "version_conflict",
	    "the entity definition changed since version %lld (now %lld); "
	    "read it again", (long long)version, (long long)(*out)->version);
}

int
nlu_store_entity_delete(struct db *db, struct arena *a, const char *id,
    const char *actor, struct gacp_err *err)
{
	const char *p[2] = { id, actor };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "UPDATE nlu_entities SET is_deleted = true,"
	    " deleted_at = now(), deleted_by = $2::uuid, updated_by = $2::uuid"
	    " WHERE id = $1::uuid AND NOT is_deleted RETURNING id", 2, p, &res,
	    err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) == 0)
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such entity definition");
	return GACP_OK;
}

int
nlu_store_synonym_clash(struct db *db, struct arena *a, const char *exclude_id,
    const char *elements_json, char **name, char **element,
    struct gacp_err *err)
{
	const char *p[2] = { exclude_id, elements_json };
	PGresult *res;
	int rc;

	*name = *element = NULL;
	rc = db_exec(db, a, "SELECT e.name, t.v FROM nlu_entities e,"
	    " jsonb_array_elements_text($2::jsonb) AS t(v)"
	    " WHERE e.kind = 'synonym' AND NOT e.is_deleted"
	    " AND ($1::uuid IS NULL OR e.id <> $1::uuid) AND e.elements ? t.v"
	    " ORDER BY e.name COLLATE \"C\", t.v COLLATE \"C\" LIMIT 1", 2, p,
	    &res, err);
	if (rc != GACP_OK || PQntuples(res) == 0)
		return rc;
	*name = pgrow_str(a, res, 0, 0);
	*element = pgrow_str(a, res, 0, 1);
	return GACP_OK;
}

int
nlu_store_entities_all(struct db *db, struct arena *a,
    struct nlu_entity_row **rows, size_t *n, struct gacp_err *err)
{
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT " ENTITY_COLS " FROM nlu_entities"
	    " WHERE NOT is_deleted ORDER BY kind, name COLLATE \"C\"", 0, NULL,
	    &res, err);
	if (rc != GACP_OK)
		return rc;
	*rows = store_read_rows(a, res, &entity_kind, n);
	return GACP_OK;
}

int
nlu_store_entities_sync(struct db *db, struct arena *a,
    const char *tenant_id, const char *items_json, bool replace,
    const char *actor, struct nlu_sync_counts *c, struct gacp_err *err)
{
	const char *p[4] = { tenant_id, items_json, replace ? "t" : "f", actor };
	PGresult *res;
	int rc;

	memset(c, 0, sizeof(*c));
	rc = db_exec(db, a,
	    "WITH x AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS"
	    "  x(kind text, name text, elements jsonb)),"
	    " del AS (UPDATE nlu_entities e SET is_deleted = true,"
	    "  deleted_at = now(), deleted_by = $4::uuid, updated_by = $4::uuid"
	    "  WHERE $3::boolean AND NOT e.is_deleted AND NOT EXISTS"
	    "  (SELECT 1 FROM x WHERE x.kind = e.kind AND x.name = e.name)"
	    "  RETURNING 1),"
	    " upd AS (UPDATE nlu_entities e SET elements = x.elements,"
	    "  updated_by = $4::uuid FROM x WHERE NOT e.is_deleted AND"
	    "  e.kind = x.kind AND e.name = x.name AND"
	    "  e.elements IS DISTINCT FROM x.elements RETURNING 1),"
	    " ins AS (INSERT INTO nlu_entities (tenant_id, kind, name, elements,"
	    "  created_by, updated_by) SELECT $1::uuid, x.kind, x.name,"
	    "  x.elements, $4::uuid, $4::uuid FROM x WHERE NOT EXISTS"
	    "  (SELECT 1 FROM nlu_entities e WHERE NOT e.is_deleted AND"
	    "  e.kind = x.kind AND e.name = x.name) RETURNING 1)"
	    " SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM upd),"
	    " (SELECT count(*) FROM del), (SELECT count(*) FROM x)",
	    4, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	read_counts(res, c);
	return GACP_OK;
}

/* ---- model versions ----------------------------------------------------- */

static int
model_rows(struct arena *a, PGresult *res, struct nlu_model_row **rows,
    size_t *n)
{
	*rows = store_read_rows(a, res, &model_kind, n);
	return GACP_OK;
}

/* The single row of res into *out, or NULL when there is none. */
static int
maybe_model(struct arena *a, PGresult *res, struct nlu_model_row **out)
{
	*out = NULL;
	if (PQntuples(res) == 0)
		return GACP_OK;
	*out = arena_calloc(a, 1, sizeof(**out));
	read_model(a, res, 0, *out);
	return GACP_OK;
}

int
nlu_store_models_lock(struct db *db, struct arena *a, const char *tenant_id,
    struct gacp_err *err)
{
	const char *p[1] = { tenant_id };
	PGresult *res;

	return db_exec(db, a, "SELECT pg_advisory_xact_lock("
	    NLU_MODELS_LOCK_CLASS ", hashtext($1))", 1, p, &res, err);
}

int
nlu_store_models_list(struct db *db, struct arena *a, int64_t before_us,
    const char *before_id, int limit, struct nlu_model_row **rows,
    size_t *n, struct gacp_err *err)
{
	struct store_page pg;
	const char *p[3];
	PGresult *res;
	int rc;

	store_page_params(&pg, before_us, before_id, limit);
	p[0] = pg.after_us;
	p[1] = pg.after_id;
	p[2] = pg.limit;
	rc = db_exec(db, a, "SELECT " MODEL_COLS " FROM nlu_models"
	    " WHERE NOT is_deleted AND ($1::bigint < 0 OR"
	    "  (created_at, id) < (gacp_from_epoch_us($1::bigint), $2::uuid))"
	    " ORDER BY created_at DESC, id DESC LIMIT $3::int", 3, p, &res,
	    err);
	if (rc != GACP_OK)
		return rc;
	return model_rows(a, res, rows, n);
}

int
nlu_store_model_get(struct db *db, struct arena *a, const char *id,
    struct nlu_model_row **out, struct gacp_err *err)
{
	const char *p[1] = { id };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT " MODEL_COLS " FROM nlu_models"
	    " WHERE id = $1::uuid AND NOT is_deleted", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	maybe_model(a, res, out);
	if (*out == NULL)
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such model version");
	return GACP_OK;
}

int
nlu_store_model_active(struct db *db, struct arena *a, const char *language,
    struct nlu_model_row **out, struct gacp_err *err)
{
	const char *p[1] = { language };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT " MODEL_COLS " FROM nlu_models"
	    " WHERE status = 'active' AND language = $1 AND NOT is_deleted",
	    1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	return maybe_model(a, res, out);
}

int
nlu_store_model_latest(struct db *db, struct arena *a,
    struct nlu_model_row **out, struct gacp_err *err)
{
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT " MODEL_COLS " FROM nlu_models"
	    " ORDER BY version DESC LIMIT 1", 0, NULL, &res, err);
	if (rc != GACP_OK)
		return rc;
	return maybe_model(a, res, out);
}

int
nlu_store_model_insert(struct db *db, struct arena *a, const char *tenant_id,
    const struct nlu_model_new *m, struct nlu_model_row **out,
    struct gacp_err *err)
{
	char ver[24], size[24], secs[32];
	const char *p[11];
	PGresult *res;
	int rc;

	snprintf(ver, sizeof(ver), "%lld", (long long)m->version);
	snprintf(size, sizeof(size), "%lld", (long long)m->size_bytes);
	snprintf(secs, sizeof(secs), "%.3f", m->train_seconds);
	p[0] = tenant_id;
	p[1] = ver;
	p[2] = m->language;
	p[3] = m->status;
	p[4] = m->checksum;
	p[5] = m->path;
	p[6] = size;
	p[7] = m->metrics;
	p[8] = m->training_data_hash;
	p[9] = m->train_seconds >= 0 ? secs : NULL;
	p[10] = m->reason;
	rc = db_exec(db, a, "INSERT INTO nlu_models (tenant_id, version,"
	    " language, status, checksum, path, size_bytes, metrics,"
	    " training_data_hash, train_seconds, reason) VALUES ($1::uuid,"
	    " $2::int, $3, $4, $5, $6, $7::bigint, $8::jsonb, $9, $10::real,"
	    " $11) RETURNING " MODEL_COLS, 11, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	return maybe_model(a, res, out);
}

int
nlu_store_models_prune(struct db *db, struct arena *a, int keep,
    char ***paths, size_t *n, struct gacp_err *err)
{
	char k[16];
	const char *p[1] = { k };
	PGresult *res;
	int rc, i;

	snprintf(k, sizeof(k), "%d", keep);
	rc = db_exec(db, a, "WITH old AS (SELECT id FROM nlu_models"
	    " WHERE NOT is_deleted AND status <> 'active'"
	    " ORDER BY version DESC OFFSET $1::int)"
	    " UPDATE nlu_models m SET is_deleted = true, deleted_at = now()"
	    " FROM old WHERE m.id = old.id RETURNING m.path", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*n = (size_t)PQntuples(res);
	*paths = arena_calloc(a, *n + 1, sizeof(**paths));
	for (i = 0; i < PQntuples(res); i++)
		(*paths)[i] = pgrow_str(a, res, i, 0);
	return GACP_OK;
}

int
nlu_store_model_activate(struct db *db, struct arena *a, const char *id,
    const char *actor, struct nlu_model_row **out, struct gacp_err *err)
{
	const char *p[2] = { id, actor };
	PGresult *res;
	int rc;

	/* Two statements, in this order: the partial unique index on the
	 * active version is checked row by row. */
	rc = db_exec(db, a, "UPDATE nlu_models m SET status = 'retired',"
	    " updated_by = $2::uuid FROM nlu_models t"
	    " WHERE t.id = $1::uuid AND NOT t.is_deleted AND m.status = 'active'"
	    " AND m.language = t.language AND m.id <> t.id", 2, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	rc = db_exec(db, a, "UPDATE nlu_models SET status = 'active',"
	    " activated_at = CASE WHEN status = 'active' THEN activated_at"
	    "  ELSE now() END, updated_by = $2::uuid"
	    " WHERE id = $1::uuid AND NOT is_deleted RETURNING " MODEL_COLS,
	    2, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	maybe_model(a, res, out);
	if (*out == NULL)
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such model version");
	return GACP_OK;
}
