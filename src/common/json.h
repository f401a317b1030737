/* json.h - strict JSON parsing of outside input and typed field access.
 *
 * Wraps json-c: bounded nesting depth, UTF-8 validated, nothing but white
 * space allowed after the value.  Objects returned are owned by the caller
 * (json_object_put), usually by registering them with arena_defer().
 */
#ifndef GACP_JSON_H
#define GACP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/err.h"

struct arena;

#define JSON_MAX_DEPTH 32

/* What every parser of outside JSON checks first: not empty, at most
 * 2 GiB, strict UTF-8 (errors as json_parse_strict's; jscan.h uses it). */
int json_check_text(const char *text, size_t len, struct gacp_err *err);

/* Parse len bytes.  Errors: GACP_EINVAL with code "invalid_json" and a
 * message naming the problem and offset. */
int json_parse_strict(const char *text, size_t len, int max_depth,
    struct json_object **out, struct gacp_err *err);
/* Same, with the result owned by the arena (freed at reset). */
int json_parse_arena(struct arena *a, const char *text, size_t len,
    struct json_object **out, struct gacp_err *err);

/* Release obj (may be NULL) when the arena is reset. */
void json_arena_own(struct arena *a, struct json_object *obj);

/* Field accessors: NULL / false when the key is absent or of another type;
 * json_get_str also gives NULL for a string holding a NUL ("\u0000"). */
const char *json_get_str(struct json_object *obj, const char *key);
bool        json_get_int64(struct json_object *obj, const char *key,
    int64_t *out);
bool        json_get_bool(struct json_object *obj, const char *key, bool *out);
struct json_object *json_get_obj(struct json_object *obj, const char *key);
struct json_object *json_get_array(struct json_object *obj, const char *key);
/* Serialise obj compactly; the string belongs to obj. */
const char *json_compact(struct json_object *obj);

#endif
