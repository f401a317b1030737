/* pgrow.c - typed PGresult accessors (see pgrow.h). */
#include "store/pgrow.h"
#include "common/arena.h"
#include "common/buf.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

char *
pgrow_str(struct arena *a, const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return arena_strdup(a, PQgetvalue(res, row, col));
}

bool
pgrow_bool(const PGresult *res, int row, int col)
{
	return !PQgetisnull(res, row, col) &&
	    PQgetvalue(res, row, col)[0] == 't';
}

int64_t
pgrow_int64(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return 0;
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

void
pgrow_str_array(struct arena *a, const PGresult *res, int row, int col,
    char ***out, size_t *n)
{
	struct json_object *arr = NULL;
	size_t i, len = 0;
	char **items;

	if (!PQgetisnull(res, row, col))
		arr = json_tokener_parse(PQgetvalue(res, row, col));
	if (arr != NULL && json_object_is_type(arr, json_type_array))
		len = json_object_array_length(arr);
	items = arena_calloc(a, len + 1, sizeof(*items));
	*n = 0;
	for (i = 0; i < len; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		if (json_object_is_type(v, json_type_string))
			items[(*n)++] = arena_strdup(a, json_object_get_string(v));
	}
	items[*n] = NULL;
	*out = items;
	if (arr != NULL)
		json_object_put(arr);
}

char *
pgrow_json_array(struct arena *a, const char *const *items, size_t n)
{
	struct buf b;
	char *s;
	size_t i;

	buf_init(&b);
	buf_putc(&b, '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		buf_json_str(&b, items[i]);
	}
	buf_putc(&b, ']');
	s = arena_strdup(a, b.data);
	buf_cleanup(&b);
	return s;
}
