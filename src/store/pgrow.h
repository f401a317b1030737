/* pgrow.h - reading typed values out of a PGresult row into the arena.
 *
 * Helpers of the *_store.c files.  Strings are copied into the arena, so a
 * row outlives nothing but the request; SQL NULL becomes NULL / false / 0.
 * Arrays are selected as JSON (array_to_json(col)::text) and parsed here,
 * which sidesteps the quoting rules of PostgreSQL's array text form.
 */
#ifndef GACP_STORE_PGROW_H
#define GACP_STORE_PGROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

struct arena;

/* Prototypes */
char    *pgrow_str(struct arena *a, const PGresult *res, int row, int col);
bool     pgrow_bool(const PGresult *res, int row, int col);
int64_t  pgrow_int64(const PGresult *res, int row, int col);
/* A JSON array of strings (NULL column: empty).  *out is an arena array
 * of *n arena strings, NULL-terminated. */
void     pgrow_str_array(struct arena *a, const PGresult *res, int row,
             int col, char ***out, size_t *n);
/* Encode n strings as a JSON array text (arena), for a jsonb parameter. */
char    *pgrow_json_array(struct arena *a, const char *const *items,
             size_t n);

#endif
