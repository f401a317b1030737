/* fuzz-json.c - libFuzzer target: strict JSON parsing of request bodies (common/json.c).
 *
 * Any bytes go to json_parse_strict().  A document it accepts must
 * serialise (json_compact) to text that it accepts again and that
 * serialises to the same text: what we parse we can echo back.  The typed
 * accessors are run on the top-level object's members.
 */
#include "common/arena.h"
#include "common/json.h"
#include "common/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *obj = NULL, *again = NULL;
	struct gacp_err err;
	struct arena a;
	char *first;
	const char *text;

	if (json_parse_strict((const char *)data, size, JSON_MAX_DEPTH, &obj,
	    &err) != GACP_OK) {
		if (strcmp(err.code, "invalid_json") != 0 &&
		    strcmp(err.code, "payload_too_large") != 0)
			abort();
		return 0;
	}
	text = json_compact(obj);
	if (!utf8_valid(text, strlen(text)))
		abort();
	first = strdup(text);
	if (json_parse_strict(first, strlen(first), JSON_MAX_DEPTH + 1, &again,
	    &err) != GACP_OK)
		abort();
	if (strcmp(json_compact(again), first) != 0)
		abort();
	if (json_object_is_type(obj, json_type_object)) {
		json_object_object_foreach(obj, key, val) {
			int64_t i;
			bool b;

			(void)val;
			(void)json_get_str(obj, key);
			(void)json_get_int64(obj, key, &i);
			(void)json_get_bool(obj, key, &b);
			(void)json_get_obj(obj, key);
			(void)json_get_array(obj, key);
		}
	}
	json_object_put(again);
	json_object_put(obj);
	free(first);

	/* The arena-owned variant releases the object at reset. */
	arena_init(&a, 256);
	if (json_parse_arena(&a, (const char *)data, size, &obj, &err) != GACP_OK)
		abort();
	arena_cleanup(&a);
	return 0;
}
