/* json.c - strict JSON parsing and typed accessors (see json.h). */
#include "common/json.h"
#include "common/arena.h"
#include "common/utf8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void
put_json(void *p)
{
	json_object_put(p);
}

/* Key occurrences of every object of the (already valid) text, in the
 * order the objects open: each key is followed by exactly one ':' outside
 * a string, so counting those per innermost open object is enough.
 * Returns the number of objects, -1 when out of memory, or -2 when the
 * text is not strict JSON after all: json-c's strict mode still takes a
 * single-quoted object key ({']':1}, found by fuzz-webhook), whose
 * brackets this scan would count as structure. */
static long
count_object_keys(const char *text, size_t len, int max_depth,
    size_t **counts_out)
{
	size_t *counts = NULL, n = 0, nobj = 0, i;
	long *stack = NULL;	/* index into counts, or -1 for an array */
	int depth = 0;
	bool in_str = false, esc = false;

	*counts_out = NULL;
	for (i = 0; i < len; i++) {
		if (in_str) {
			if (esc)
				esc = false;
			else if (text[i] == '\\')
				esc = true;
			else if (text[i] == '"')
				in_str = false;
		} else if (text[i] == '"')
			in_str = true;
		else if (text[i] == '{')
			nobj++;
		else if (text[i] == '\'')
			return -2;
	}
	if (nobj == 0)
		return 0;
	counts = calloc(nobj, sizeof *counts);
	stack = calloc((size_t)max_depth + 2, sizeof *stack);
	if (counts == NULL || stack == NULL) {
		free(counts);
		free(stack);
		return -1;
	}
	in_str = esc = false;
	for (i = 0; i < len; i++) {
		char c = text[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			break;
		case '{':
		case '[':
			/* json-c refused anything deeper than max_depth. */
			if (depth <= max_depth)
				stack[depth] = c == '{' ? (long)n++ : -1;
			depth++;
			break;
		case '}':
		case ']':
			/* Cannot happen once quotes are as above; never index
			 * with a negative depth all the same. */
			if (depth == 0) {
				free(stack);
				free(counts);
				return -2;
			}
			depth--;
			break;
		case ':':
			if (depth > 0 && depth <= max_depth + 1 &&
			    stack[depth - 1] >= 0)
				counts[stack[depth - 1]]++;
			break;
		default:
			break;
		}
	}
	free(stack);
	*counts_out = counts;
	return (long)n;
}

/* Walk the parsed value in document order: an object holding fewer
 * members than the text gave it keys had a duplicate (json-c keeps the
 * last one); a double that is not finite came from NaN, Infinity or a
 * number out of range (1e999).  Objects before the first one with a
 * duplicate are the same in the text and the tree, so comparing the
 * counts in that order finds the first duplicate. */
static int
check_value(struct json_object *v, const size_t *counts, size_t n,
    size_t *next, struct gacp_err *err)
{
	size_t i, len;
	int rc;

	switch (json_object_get_type(v)) {
	case json_type_double:
		if (!isfinite(json_object_get_double(v)))
			return gacp_err_set(err, GACP_EINVAL, "invalid_json",
			    "invalid JSON: a number is not finite or out of "
			    "range (NaN, Infinity, 1e999)");
		return GACP_OK;
	case json_type_object:
		if (*next >= n || counts[*next] !=
		    (size_t)json_object_object_length(v))
			return gacp_err_set(err, GACP_EINVAL, "invalid_json",
			    "invalid JSON: duplicate key in an object");
		(*next)++;
		{
			json_object_object_foreach(v, key, member) {
				(void)key;
				rc = check_value(member, counts, n, next, err);
				if (rc != GACP_OK)
					return rc;
			}
		}
		return GACP_OK;
	case json_type_array:
		len = json_object_array_length(v);
		for (i = 0; i < len; i++) {
			rc = check_value(json_object_array_get_idx(v, i),
			    counts, n, next, err);
			if (rc != GACP_OK)
				return rc;
		}
		return GACP_OK;
	default:
		return GACP_OK;
	}
}

int
json_check_text(const char *text, size_t len, struct gacp_err *err)
{
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
	 * raw NUL, so the whole document is checked once, before any parse:
	 * strings then need no check of their own. */
	if (!utf8_valid(text, len))
		return gacp_err_set(err, GACP_EINVAL, "invalid_json",
		    "request body is not valid UTF-8 JSON text");
	return GACP_OK;
}

int
json_parse_strict(const char *text, size_t len, int max_depth,
    struct json_object **out, struct gacp_err *err)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	enum json_tokener_error jerr;
	size_t off, i, next = 0, *counts = NULL;
	long nobj;
	int rc;

	*out = NULL;
	if ((rc = json_check_text(text, len, err)) != GACP_OK)
		return rc;
	rc = GACP_EINVAL;
	tok = json_tokener_new_ex(max_depth);
	if (tok == NULL)
		return gacp_err_set(err, GACP_EINTERNAL, "internal",
		    "cannot allocate JSON parser");
	/* No JSON_TOKENER_VALIDATE_UTF8: utf8_valid() above is stricter,
	 * and json-c's check would only read the text a second time. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
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
	/* json-c keeps the last of duplicate keys and accepts NaN and
	 * Infinity even in strict mode; both are refused here (RFC 8259
	 * §4 and §6; doc/bad-input.md). */
	nobj = count_object_keys(text, off, max_depth, &counts);
	if (nobj == -2) {
		gacp_err_set(err, GACP_EINVAL, "invalid_json",
		    "invalid JSON: a string or key is not in double quotes");
		goto out;
	}
	if (nobj < 0) {
		gacp_err_set(err, GACP_EINTERNAL, "internal",
		    "cannot allocate JSON checker");
		goto out;
	}
	if (check_value(obj, counts, (size_t)nobj, &next, err) != GACP_OK)
		goto out;
	*out = obj;
	obj = NULL;
	rc = GACP_OK;
out:
	free(counts);
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
