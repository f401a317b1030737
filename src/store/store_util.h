/* store_util.h - the shapes every per-entity store repeats.
 *
 * Helpers of the *_store.c files: keyset paging parameters, reading the
 * rows of a result into an arena array, the single row of a lookup, and
 * telling "not found" from "stale version" after an UPDATE/DELETE that
 * matched nothing.  Each store describes its entity once in a
 * struct store_kind; error codes and messages are built from its nouns,
 * so they stay what the API documents ("no such tenant", ...).
 */
#ifndef GACP_STORE_UTIL_H
#define GACP_STORE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "common/err.h"

struct arena;
struct db;

/* The nil UUID: the "after" id of a first page (never a real row's id). */
#define STORE_NIL_UUID "00000000-0000-0000-0000-000000000000"

/* Reads row r of res into *row (the store's row struct). */
typedef void (*store_read_fn)(struct arena *a, const PGresult *res, int r,
    void *row);

struct store_kind {
	/* SQL interpolated into queries (table, cols, delete_also): each
	 * must be a compile-time constant of our code, never anything from
	 * input.  Values always travel as parameters. */
	const char    *table;
	const char    *cols;        /* select list that read() understands */
	/* Extra SET clause of a soft delete ("is_active = false"), or NULL. */
	const char    *delete_also;
	const char    *noun;        /* "no such <noun>" */
	const char    *stale_noun;  /* "the <stale_noun> was changed by ..." */
	size_t         row_size;    /* sizeof the row struct */
	store_read_fn  read;
};

/* Keyset paging as text parameters for db_exec: after_us < 0 means the
 * first page; a NULL after_id becomes the nil UUID. */
struct store_page {
	char        after_us[24];
	char        limit[16];
	const char *after_id;
};

/* Prototypes */
void  store_page_params(struct store_page *pg, int64_t after_us,
          const char *after_id, int limit);
/* All rows of res as an arena array of *n rows plus a zeroed one. */
void *store_read_rows(struct arena *a, const PGresult *res,
          const struct store_kind *k, size_t *n);
/* The only row of res, or NULL with err "not_found" ("no such <noun>")
 * when res has no row or more than one. */
void *store_one_row(struct arena *a, const PGresult *res,
          const struct store_kind *k, struct gacp_err *err);
/* After an UPDATE/DELETE by id and version that matched nothing: a live
 * row means the version was stale (GACP_ECONFLICT "version_conflict"),
 * none means GACP_ENOTFOUND "not_found".  Never returns GACP_OK. */
int   store_missing_or_stale(struct db *db, struct arena *a,
          const struct store_kind *k, const char *id, struct gacp_err *err);
/* One keyset page of the live rows of k->table, oldest first:
 * (created_at, id) after (after_us, after_id); after_us < 0: first page.
 * *res holds k->cols; read it with store_read_rows(). */
int   store_select_page(struct db *db, struct arena *a,
          const struct store_kind *k, int64_t after_us, const char *after_id,
          int limit, PGresult **res, struct gacp_err *err);
/* Soft-delete the live row id, if version matches (version < 0: any),
 * recording who deleted it; otherwise store_missing_or_stale(). */
int   store_soft_delete(struct db *db, struct arena *a,
          const struct store_kind *k, const char *id, int64_t version,
          const char *deleted_by, struct gacp_err *err);

#endif
