/* nlu_store.h - SQL for a tenant's NLU training data and model versions.
 *
 * Tables of sql/0008_nlu.sql.  Every call runs in the caller's transaction,
 * which must be bound to the tenant (row-level security shows no other
 * rows); the tenant id parameters only fill tenant_id on INSERT.  Rows are
 * copied into the arena.  JSON columns (entities, elements, metrics) come
 * back as compact JSON text.  Batches travel as one jsonb parameter, so a
 * thousand examples are one round trip and still fully parameterised.
 *
 * Errors: GACP_ENOTFOUND ("not_found"), GACP_ECONFLICT ("conflict", unique
 * violations such as a text already present) and the db_exec() errors.
 */
#ifndef GACP_STORE_NLU_STORE_H
#define GACP_STORE_NLU_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct arena;
struct db;

struct nlu_example_row {
	char    *id;
	char    *text;
	char    *intent;
	char    *language;
	char    *entities;       /* JSON array text */
	char    *created_at;     /* RFC 3339 */
	char    *updated_at;
	char    *created_by;     /* user id or NULL */
	int64_t  version;
	int64_t  created_us;     /* cursor key */
};

struct nlu_entity_row {
	char    *id;
	char    *kind;           /* regex | lookup | synonym */
	char    *name;
	char    *elements;       /* JSON array of strings */
	char    *created_at;
	char    *updated_at;
	int64_t  version;
	int64_t  created_us;
};

struct nlu_model_row {
	char    *id;
	int64_t  version;
	char    *language;
	char    *status;         /* candidate | active | rejected | retired */
	char    *checksum;       /* hex SHA-256 of the payload */
	char    *path;           /* relative to paths.model_dir */
	int64_t  size_bytes;
	char    *metrics;        /* JSON object text */
	char    *training_data_hash;
	double   train_seconds;  /* < 0 when unknown */
	char    *reason;         /* why rejected, or NULL */
	char    *activated_at;   /* RFC 3339 or NULL */
	char    *created_at;
	int64_t  created_us;
};

/* Counts of a bulk synchronisation (import). */
struct nlu_sync_counts {
	int64_t inserted;
	int64_t updated;
	int64_t deleted;
	int64_t unchanged;
};

/* What a new model row records (gacp-nlu reload). */
struct nlu_model_new {
	int64_t     version;
	const char *language;
	const char *status;
	const char *checksum;
	const char *path;
	int64_t     size_bytes;
	const char *metrics;     /* JSON object text */
	const char *training_data_hash;
	double      train_seconds;
	const char *reason;      /* may be NULL */
};

/* Prototypes */

/* ---- examples ---- */

/* Insert the examples of items_json, a JSON array of {id, text, intent,
 * language, entities}; *rows gets them back in the same order.  A text
 * already present is GACP_ECONFLICT. */
int nlu_store_examples_insert(struct db *db, struct arena *a,
        const char *tenant_id, const char *items_json, const char *actor,
        struct nlu_example_row **rows, size_t *n, struct gacp_err *err);
/* Which of texts_json (JSON array of strings) are live examples already:
 * *found is an arena array of *n texts. */
int nlu_store_examples_existing(struct db *db, struct arena *a,
        const char *texts_json, char ***found, size_t *n,
        struct gacp_err *err);
/* A page by (created_at, id); intent/language filter when not NULL. */
int nlu_store_examples_list(struct db *db, struct arena *a,
        const char *intent, const char *language, int64_t after_us,
        const char *after_id, int limit, struct nlu_example_row **rows,
        size_t *n, struct gacp_err *err);
int nlu_store_example_get(struct db *db, struct arena *a, const char *id,
        struct nlu_example_row **out, struct gacp_err *err);
/* Soft-delete one live example; GACP_ENOTFOUND if there is none. */
int nlu_store_example_delete(struct db *db, struct arena *a, const char *id,
        const char *actor, struct gacp_err *err);
/* Soft-delete every live example of intent; *deleted counts them. */
int nlu_store_examples_delete_intent(struct db *db, struct arena *a,
        const char *intent, const char *actor, int64_t *deleted,
        struct gacp_err *err);
/* Every live example, ordered by intent then text (training, export). */
int nlu_store_examples_all(struct db *db, struct arena *a,
        struct nlu_example_row **rows, size_t *n, struct gacp_err *err);
/* Make the live examples match items_json (array of {text, intent,
 * language, entities}, texts unique): add new texts, update changed ones
 * and, when replace, soft-delete the texts not in it. */
int nlu_store_examples_sync(struct db *db, struct arena *a,
        const char *tenant_id, const char *items_json, bool replace,
        const char *actor, struct nlu_sync_counts *c, struct gacp_err *err);

/* ---- entity definitions ---- */

int nlu_store_entity_insert(struct db *db, struct arena *a,
        const char *tenant_id, const char *kind, const char *name,
        const char *elements_json, const char *actor,
        struct nlu_entity_row **out, struct gacp_err *err);
int nlu_store_entity_get(struct db *db, struct arena *a, const char *id,
        struct nlu_entity_row **out, struct gacp_err *err);
/* A page by (created_at, id), of one kind when kind is not NULL. */
int nlu_store_entities_list(struct db *db, struct arena *a, const char *kind,
        int64_t after_us, const char *after_id, int limit,
        struct nlu_entity_row **rows, size_t *n, struct gacp_err *err);
/* Replace the elements if the row is still at version; GACP_ECONFLICT
 * ("version_conflict") when it moved on. */
int nlu_store_entity_update(struct db *db, struct arena *a, const char *id,
        int64_t version, const char *elements_json, const char *actor,
        struct nlu_entity_row **out, struct gacp_err *err);
int nlu_store_entity_delete(struct db *db, struct arena *a, const char *id,
        const char *actor, struct gacp_err *err);
/* A live synonym definition other than exclude_id (may be NULL) that
 * already lists one of the strings of elements_json: its name and that
 * string into *name and *element, both NULL when there is none. */
int nlu_store_synonym_clash(struct db *db, struct arena *a,
        const char *exclude_id, const char *elements_json, char **name,
        char **element, struct gacp_err *err);
/* Every live definition, ordered by kind then name. */
int nlu_store_entities_all(struct db *db, struct arena *a,
        struct nlu_entity_row **rows, size_t *n, struct gacp_err *err);
/* Make the live definitions match items_json (array of {kind, name,
 * elements}, (kind, name) unique).  replace: the set becomes exactly
 * items_json; merge: existing (kind, name) get the union of elements,
 * others are added, none are deleted. */
int nlu_store_entities_sync(struct db *db, struct arena *a,
        const char *tenant_id, const char *items_json, bool replace,
        const char *actor, struct nlu_sync_counts *c, struct gacp_err *err);

/* ---- model versions ---- */

/* Serialise model changes of the bound tenant until the transaction ends
 * (a transaction-scoped advisory lock). */
int nlu_store_models_lock(struct db *db, struct arena *a,
        const char *tenant_id, struct gacp_err *err);
/* Newest first, a page by (created_at, id) descending. */
int nlu_store_models_list(struct db *db, struct arena *a, int64_t before_us,
        const char *before_id, int limit, struct nlu_model_row **rows,
        size_t *n, struct gacp_err *err);
int nlu_store_model_get(struct db *db, struct arena *a, const char *id,
        struct nlu_model_row **out, struct gacp_err *err);
/* The active version of language; *out NULL when none. */
int nlu_store_model_active(struct db *db, struct arena *a,
        const char *language, struct nlu_model_row **out,
        struct gacp_err *err);
/* The highest version; *out NULL when the tenant has none. */
int nlu_store_model_latest(struct db *db, struct arena *a,
        struct nlu_model_row **out, struct gacp_err *err);
int nlu_store_model_insert(struct db *db, struct arena *a,
        const char *tenant_id, const struct nlu_model_new *m,
        struct nlu_model_row **out, struct gacp_err *err);
/* Soft-delete the versions past the newest `keep` that are not active;
 * their file paths (relative to paths.model_dir) into *paths (arena),
 * *n of them, for the caller to remove once the transaction commits. */
int nlu_store_models_prune(struct db *db, struct arena *a, int keep,
        char ***paths, size_t *n, struct gacp_err *err);
/* Make id the active version of its language: the active one becomes
 * retired.  actor may be NULL (gacp-nlu reload). */
int nlu_store_model_activate(struct db *db, struct arena *a, const char *id,
        const char *actor, struct nlu_model_row **out, struct gacp_err *err);

#endif
