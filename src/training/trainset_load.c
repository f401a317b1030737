/* trainset_load.c - a tenant's stored training data as an engine dataset, with its hash (see trainset.h).
 *
 * Apart from trainset.c so that gacp-nlu reload links it without the REST
 * services.
 */
#include "training/trainset.h"
#include "common/arena.h"
#include "common/json.h"
#include "common/util.h"
#include "nlu/data.h"
#include "store/nlu_store.h"

#include <string.h>

static char *
opt_dup(struct arena *a, const char *s)
{
	return s != NULL ? arena_strdup(a, s) : NULL;
}

/* The stored annotations of one example into ds. */
static int
load_example(struct arena *a, struct nlu_dataset *ds,
    const struct nlu_example_row *r, struct gacp_err *err)
{
	struct nlu_ent_ann anns[TRAINSET_ANNOTATIONS_MAX];
	struct json_object *arr = json_tokener_parse(r->entities);
	size_t i, n = 0;
	int rc;

	memset(anns, 0, sizeof(anns));
	if (arr != NULL && json_object_is_type(arr, json_type_array))
		n = json_object_array_length(arr);
	if (n > TRAINSET_ANNOTATIONS_MAX)
		n = TRAINSET_ANNOTATIONS_MAX;
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		int64_t v;

		anns[i].start = json_get_int64(o, "start", &v) ? (uint32_t)v : 0;
		anns[i].end = json_get_int64(o, "end", &v) ? (uint32_t)v : 0;
		anns[i].entity = opt_dup(a, json_get_str(o, "entity"));
		anns[i].value = opt_dup(a, json_get_str(o, "value"));
		anns[i].role = opt_dup(a, json_get_str(o, "role"));
		anns[i].group = opt_dup(a, json_get_str(o, "group"));
	}
	rc = nlu_dataset_add(ds, r->text, r->intent, anns, n, err);
	if (arr != NULL)
		json_object_put(arr);
	return rc;
}

int
trainset_load(struct db *db, struct arena *a, struct nlu_dataset *ds,
    char hash_hex[65], struct gacp_err *err)
{
	struct nlu_example_row *ex;
	struct nlu_entity_row *en;
	unsigned char digest[32];
	size_t n_ex, n_en, i, k;
	int rc;

	hash_hex[0] = '\0';
	if ((rc = nlu_store_examples_all(db, a, &ex, &n_ex, err)) != GACP_OK ||
	    (rc = nlu_store_entities_all(db, a, &en, &n_en, err)) != GACP_OK)
		return rc;
	for (i = 0; i < n_ex; i++)
		if (load_example(a, ds, &ex[i], err) != GACP_OK)
			return gacp_err_set(err, GACP_EINTERNAL, "internal",
			    "stored example %s does not load", ex[i].id);
	for (i = 0; i < n_en; i++) {
		char **items;
		size_t n;
		struct json_object *arr = json_tokener_parse(en[i].elements);

		n = arr != NULL && json_object_is_type(arr, json_type_array) ?
		    json_object_array_length(arr) : 0;
		items = arena_calloc(a, n + 1, sizeof(*items));
		for (k = 0; k < n; k++)
			items[k] = arena_strdup(a, json_object_get_string(
			    json_object_array_get_idx(arr, k)));
		if (arr != NULL)
			json_object_put(arr);
		for (k = 0; k < n; k++) {
			if (strcmp(en[i].kind, "synonym") == 0)
				nlu_dataset_add_synonym(ds, items[k], en[i].name);
			else if (strcmp(en[i].kind, "regex") == 0)
				nlu_dataset_add_regex(ds, en[i].name, items[k]);
			else
				nlu_dataset_add_lookup(ds, en[i].name, items[k]);
		}
	}
	nlu_dataset_digest(ds, digest);
	util_hex(digest, sizeof(digest), hash_hex);
	return GACP_OK;
}
