/* data_json.c - Rasa JSON training data ("rasa_nlu_data", json-c).
 *
 * Keys read: common_examples [{text, intent, entities: [{start, end,
 * value, entity, role?, group?}]}], regex_features [{name, pattern}],
 * lookup_tables [{name, elements: [..]}] and entity_synonyms [{value,
 * synonyms: [..]}].  Entity offsets are characters (code points), as in
 * Rasa's Python strings.
 */
#include "nlu/data.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/utf8.h"
#include "common/xmalloc.h"

static const char *str_val(struct json_object *);
static const char *str_of(struct json_object *, const char *);
static struct json_object *arr_of(struct json_object *, const char *);
static int	load_examples(struct nlu_dataset *, struct json_object *,
		    struct gacp_err *);

/* The string v holds, or NULL when v is not a string or not UTF-8:
 * json-c lets invalid UTF-8 and "\u0000" through, and such text counts
 * as missing (found by fuzz-rasa: an entity value and a synonym that
 * were not UTF-8 reached the dataset). */
static const char *
str_val(struct json_object *v)
{
	if (!json_object_is_type(v, json_type_string) ||
	    !utf8_valid(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v)))
		return NULL;
	return json_object_get_string(v);
}

static const char *
str_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return str_val(v);
}

static struct json_object *
arr_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

static int
load_examples(struct nlu_dataset *ds, struct json_object *arr,
    struct gacp_err *err)
{
	size_t i, k, n = json_object_array_length(arr);
	int rc;

	for (i = 0; i < n; i++) {
		struct json_object *ex = json_object_array_get_idx(arr, i);
		struct json_object *ents = arr_of(ex, "entities");
		const char *text = str_of(ex, "text");
		const char *intent = str_of(ex, "intent");
		struct nlu_ent_ann *ann = NULL;
		size_t n_ann = ents ? json_object_array_length(ents) : 0;

		if (text == NULL || intent == NULL)
			return gacp_err_set(err, GACP_EINVAL, "nlu_bad_json",
			    "common_examples[%zu] needs text and intent", i);
		if (n_ann > 0)
			ann = xcalloc(n_ann, sizeof(*ann));
		for (k = 0; k < n_ann; k++) {
			struct json_object *e = json_object_array_get_idx(ents,
			    k), *v;
			int64_t start = -1, end = -1;

			if (json_object_object_get_ex(e, "start", &v) &&
			    json_object_is_type(v, json_type_int))
				start = json_object_get_int64(v);
			if (json_object_object_get_ex(e, "end", &v) &&
			    json_object_is_type(v, json_type_int))
				end = json_object_get_int64(v);
			if (start < 0 || end < 0 || start > UINT32_MAX ||
			    end > UINT32_MAX) {
				start = end = 0;   /* refused by add() */
			}
			ann[k].start = (uint32_t)start;
			ann[k].end = (uint32_t)end;
			/* Borrowed pointers: add() copies them. */
			ann[k].entity = (char *)(uintptr_t)str_of(e, "entity");
			ann[k].value = (char *)(uintptr_t)str_of(e, "value");
			ann[k].role = (char *)(uintptr_t)str_of(e, "role");
			ann[k].group = (char *)(uintptr_t)str_of(e, "group");
		}
		rc = nlu_dataset_add(ds, text, intent, ann, n_ann, err);
		free(ann);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
nlu_dataset_load_json(struct nlu_dataset *ds, const char *buf, size_t len,
    struct gacp_err *err)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root = NULL, *data, *arr;
	size_t i, k, n;
	int rc = GACP_EINVAL;

	root = json_tokener_parse_ex(tok, buf, (int)(len > (size_t)INT32_MAX ?
	    INT32_MAX : len));
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		rc = gacp_err_set(err, GACP_EINVAL, "nlu_bad_json",
		    "training data is not a JSON object (%s)",
		    json_tokener_error_desc(json_tokener_get_error(tok)));
		goto out;
	}
	if (!json_object_object_get_ex(root, "rasa_nlu_data", &data))
		data = root;
	if ((arr = arr_of(data, "common_examples")) != NULL) {
		rc = load_examples(ds, arr, err);
		if (rc != 0)
			goto out;
	}
	if ((arr = arr_of(data, "regex_features")) != NULL) {
		n = json_object_array_length(arr);
		for (i = 0; i < n; i++) {
			struct json_object *r = json_object_array_get_idx(arr, i);
			const char *name = str_of(r, "name");
			const char *pat = str_of(r, "pattern");

			if (name == NULL || pat == NULL) {
				rc = gacp_err_set(err, GACP_EINVAL,
				    "nlu_bad_json", "regex_features[%zu] needs "
				    "name and pattern", i);
				goto out;
			}
			nlu_dataset_add_regex(ds, name, pat);
		}
	}
	if ((arr = arr_of(data, "lookup_tables")) != NULL) {
		n = json_object_array_length(arr);
		for (i = 0; i < n; i++) {
			struct json_object *l = json_object_array_get_idx(arr, i);
			struct json_object *el = arr_of(l, "elements");
			const char *name = str_of(l, "name");

			if (name == NULL || el == NULL) {
				rc = gacp_err_set(err, GACP_EINVAL,
				    "nlu_bad_json", "lookup_tables[%zu] needs "
				    "name and an elements list", i);
				goto out;
			}
			for (k = 0; k < json_object_array_length(el); k++) {
				const char *v = str_val(
				    json_object_array_get_idx(el, k));
				if (v != NULL)
					nlu_dataset_add_lookup(ds, name, v);
			}
		}
	}
	if ((arr = arr_of(data, "entity_synonyms")) != NULL) {
		n = json_object_array_length(arr);
		for (i = 0; i < n; i++) {
			struct json_object *s = json_object_array_get_idx(arr, i);
			struct json_object *syn = arr_of(s, "synonyms");
			const char *value = str_of(s, "value");

			if (value == NULL || syn == NULL) {
				rc = gacp_err_set(err, GACP_EINVAL,
				    "nlu_bad_json", "entity_synonyms[%zu] needs "
				    "value and synonyms", i);
				goto out;
			}
			for (k = 0; k < json_object_array_length(syn); k++) {
				const char *v = str_val(
				    json_object_array_get_idx(syn, k));
				if (v != NULL)
					nlu_dataset_add_synonym(ds, v, value);
			}
		}
	}
	rc = 0;
out:
	json_object_put(root);
	json_tokener_free(tok);
	return rc;
}
