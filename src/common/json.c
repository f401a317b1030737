/* json.c - strict JSON parsing and typed accessors (see json.h). */
#include "common/json.h"
#include "common/arena.h"
#include "common/utf8.h"

#include <string.h>

static void
put_json(void *p)
{
	json_object_put(p);
}

int
json_parse_strict(const char *text, size_t len, int max_depth,
    struct json_object **out, struct gacp_err *err)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	enum json_tokener_error jerr;
	size_t off, i;
	int rc = GACP_EINVAL;

	*out = NULL;
	if (len == 0)
		return gacp_err_set(err, GACP_EINVAL, "invalid_json",
		    "request body is empty; a JSON document is required");
	if (len > (size_t)INT32_MAX)
		return gacp_err_set(err, GACP_ETOOBIG, "payload_too_large",
		    "JSON document too large");
	/* json-c's JSON_TOKENER_VALIDATE_UTF8 lets overlong forms (C0 AF),
	 * UTF-8-encoded surrogates and code points above U+10FFFF through
	 * (found by tests/fuzz/fuzz-json); PostgreSQL would then refuse the
	 * text.  JSON text is strict UTF-8 (RFC 8259 §8.1) and never holds a
	 * raw NUL, so check the whole document first. */
	if (!utf8_valid(text, len))
		return gacp_err_set(err, GACP_EINVAL, "invalid_json",
		    "request body is not valid UTF-8 JSON text");
	tok = json_tokener_new_ex(max_depth);
	if (tok == NULL)
		return gacp_err_set(err, GACP_EINTERNAL, "internal",
		    "cannot allocate JSON parser");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		/* Everything was read and json-c still waits: a top-level
		 * number or literal ("42", "true") ends only at the end of
		 * the input, so say it has ended (found by fuzz-json). */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		off = len;
		if (jerr != json_tokener_success) {
			gacp_err_set(err, GACP_EINVAL, "invalid_json",
			    "JSON document is truncated");
			goto out;
		}
	}
	if (jerr != json_tokener_success) {
		gacp_err_set(err, GACP_EINVAL, "invalid_json",
		    "invalid JSON at offset %zu: %s", off,
		    json_tokener_error_desc(jerr));
		goto out;
	}
	/* Only white space may follow the document. */
	for (i = off; i < len; i++) {
		char c = text[i];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			gacp_err_set(err, GACP_EINVAL, "invalid_json",
			    "unexpected data after the JSON value at offset %zu", i);
			goto out;
		}
	}
	*out = obj;
	obj = NULL;
	rc = GACP_OK;
out:
	json_object_put(obj);
	json_tokener_free(tok);
	return rc;
}

int
json_parse_arena(struct arena *a, const char *text, size_t len,
    struct json_object **out, struct gacp_err *err)
{
	int rc = json_parse_strict(text, len, JSON_MAX_DEPTH, out, err);
	if (rc == GACP_OK)
		arena_defer(a, put_json, *out);
	return rc;
}

void
json_arena_own(struct arena *a, struct json_object *obj)
{
	arena_defer(a, put_json, obj);
}

const char *
json_get_str(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	/* "\u0000" is valid JSON but would silently cut the C string
	 * ("hel\u0000lo" was parsed as "hel"): such a value is refused
	 * like one of the wrong type (bad-input catalogue, doc/bad-input.md). */
	if ((size_t)json_object_get_string_len(v) !=
	    strlen(json_object_get_string(v)))
		return NULL;
	return json_object_get_string(v);
}

bool
json_get_int64(struct json_object *obj, const char *key, int64_t *out)
{
	struct json_object *v;

	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

bool
json_get_bool(struct json_object *obj, const char *key, bool *out)
{
	struct json_object *v;

	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return false;
	*out = json_object_get_boolean(v);
	return true;
}

static struct json_object *
get_typed(struct json_object *obj, const char *key, enum json_type t)
{
	struct json_object *v;

	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, t))
		return NULL;
	return v;
}

struct json_object *
json_get_obj(struct json_object *obj, const char *key)
{
	return get_typed(obj, key, json_type_object);
}

struct json_object *
json_get_array(struct json_object *obj, const char *key)
{
	return get_typed(obj, key, json_type_array);
}

const char *
json_compact(struct json_object *obj)
{
	return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
}
