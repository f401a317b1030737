/* response_store.c - SQL for the responses table (see response_store.h). */
#include "messenger/response_store.h"
#include "common/arena.h"
#include "store/db.h"
#include "store/pgrow.h"

#include <stdlib.h>

#define RESPONSE_COLS \
	"id::text, intent, language, templates::text, quick_replies::text," \
	" selection, required_slots::text, max_turns, gacp_iso(created_at)," \
	" gacp_iso(updated_at), version"

/* The validated set as rows (jsonb_to_recordset). */
#define INPUT_ROWS \
	"jsonb_to_recordset($2::jsonb) AS x(intent text, language text," \
	" templates jsonb, quick_replies jsonb, selection text," \
	" required_slots jsonb, max_turns integer)"

int
response_store_list(struct db *db, struct arena *a,
    struct response_row **rows, size_t *n, struct gacp_err *err)
{
	PGresult *res;
	int rc, i;

	rc = db_exec(db, a, "SELECT " RESPONSE_COLS " FROM responses"
	    " WHERE NOT is_deleted ORDER BY intent, language", 0, NULL, &res,
	    err);
	if (rc != GACP_OK)
		return rc;
	*n = (size_t)PQntuples(res);
	*rows = arena_calloc(a, *n + 1, sizeof(**rows));
	for (i = 0; i < PQntuples(res); i++) {
		struct response_row *r = &(*rows)[i];
		r->id = pgrow_str(a, res, i, 0);
		r->intent = pgrow_str(a, res, i, 1);
		r->language = pgrow_str(a, res, i, 2);
		r->templates = pgrow_str(a, res, i, 3);
		r->quick_replies = pgrow_str(a, res, i, 4);
		r->selection = pgrow_str(a, res, i, 5);
		r->required_slots = pgrow_str(a, res, i, 6);
		r->max_turns = pgrow_int64(res, i, 7);
		r->created_at = pgrow_str(a, res, i, 8);
		r->updated_at = pgrow_str(a, res, i, 9);
		r->version = pgrow_int64(res, i, 10);
	}
	return GACP_OK;
}

int
response_store_replace(struct db *db, struct arena *a, const char *tenant_id,
    const char *rows_json, const char *actor, int64_t *removed,
    struct gacp_err *err)
{
	const char *p[3] = { tenant_id, rows_json, actor };
	PGresult *res;
	int rc;

	*removed = 0;
	/* Soft-delete first: the partial unique index then lets a removed
	 * (intent, language) come back in the same set without a clash. */
	rc = db_exec(db, a, "UPDATE responses SET is_deleted = true,"
	    " deleted_at = now(), deleted_by = $3::uuid, updated_by = $3::uuid"
	    " WHERE tenant_id = $1::uuid AND NOT is_deleted"
	    " AND (intent, language) NOT IN (SELECT x.intent, x.language FROM "
	    INPUT_ROWS ")", 3, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*removed = strtoll(PQcmdTuples(res), NULL, 10);
	return db_exec(db, a, "INSERT INTO responses AS r (tenant_id, intent,"
	    " language, templates, quick_replies, selection, required_slots,"
	    " max_turns, created_by, updated_by)"
	    " SELECT $1::uuid, x.intent, x.language, x.templates,"
	    " x.quick_replies, x.selection, x.required_slots, x.max_turns,"
	    " $3::uuid, $3::uuid FROM " INPUT_ROWS
	    " ON CONFLICT (tenant_id, intent, language) WHERE NOT is_deleted"
	    " DO UPDATE SET templates = EXCLUDED.templates,"
	    " quick_replies = EXCLUDED.quick_replies,"
	    " selection = EXCLUDED.selection,"
	    " required_slots = EXCLUDED.required_slots,"
	    " max_turns = EXCLUDED.max_turns, updated_by = EXCLUDED.updated_by,"
	    " rr_next = CASE WHEN r.templates = EXCLUDED.templates"
	    "  THEN r.rr_next ELSE 0 END"
	    " WHERE (r.templates, r.quick_replies, r.selection,"
	    "  r.required_slots, r.max_turns) IS DISTINCT FROM"
	    " (EXCLUDED.templates, EXCLUDED.quick_replies, EXCLUDED.selection,"
	    "  EXCLUDED.required_slots, EXCLUDED.max_turns)", 3, p, &res, err);
}
