/* trainset.h - a tenant's NLU training data: examples and entity definitions, Rasa import and export.
 *
 * Examples are {text, intent, language, entities}: plain text of 1..2,000
 * characters, an intent name (no white space, not "nlu_fallback"), an ISO
 * 639 language code (detected with the engine's language identifier when
 * the client gives none) and entity annotations {start, end, entity,
 * value, role?, group?} with start/end in code points, end exclusive, as
 * Rasa counts them.  Entity definitions are Rasa's regex, lookup and
 * synonym entries, each a kind, a name and a list of strings ("elements";
 * a synonym's name is the canonical value, its elements the surface forms).
 *
 * Import replaces the tenant's training data by default (mode "replace":
 * afterwards the data is exactly the file's, unchanged examples keep their
 * ids) or merges it (mode "merge": new texts are added, a text already
 * present takes the file's intent and annotations, entity definitions get
 * the union of their elements, nothing is deleted).  It is all or nothing:
 * every problem found is listed in one 422 and nothing is written.
 *
 * Services act in s->tenant_id inside the caller's transaction, record an
 * audit event with every change and never commit.  Validation problems are
 * field errors (422 "validation_failed").
 */
#ifndef GACP_TRAINING_TRAINSET_H
#define GACP_TRAINING_TRAINSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/buf.h"
#include "common/err.h"
#include "store/nlu_store.h"

struct arena;
struct db;
struct nlu_dataset;
struct nlu_text;
struct page;
struct svc;

#define TRAINSET_TEXT_MAX_CHARS     2000
#define TRAINSET_INTENT_MAX_CHARS   100
#define TRAINSET_ENTITY_MAX_CHARS   64
#define TRAINSET_VALUE_MAX_CHARS    500
#define TRAINSET_ANNOTATIONS_MAX    64
#define TRAINSET_POST_MAX           1000    /* examples per POST */
#define TRAINSET_ELEMENTS_MAX       10000   /* strings per definition */
#define TRAINSET_ELEMENT_MAX_CHARS  200
#define TRAINSET_PATTERN_MAX_CHARS  1000
#define TRAINSET_IMPORT_MAX         100000  /* examples per import */
#define TRAINSET_ERRORS_MAX         100     /* problems listed per 422 */

enum trainset_format {
	TRAINSET_RASA_YAML = 1,
	TRAINSET_RASA_JSON = 2,
};

struct trainset_import_report {
	bool                   replace;
	size_t                 examples;            /* in the file, deduplicated */
	size_t                 duplicates_ignored;  /* same text, same intent */
	size_t                 definitions;         /* entity definitions */
	struct nlu_sync_counts ex;
	struct nlu_sync_counts ent;
};

/* Prototypes */

/* body: one example {text, intent, language?, entities?} or
 * {"examples": [up to TRAINSET_POST_MAX of them]}; *many tells which.
 * lid (the caller's language identifier scratch) detects missing
 * languages.  *rows (arena) in request order.  A text that is already an
 * example, or appears twice, is a field error. */
int trainset_examples_create(struct svc *s, struct nlu_text *lid,
        struct json_object *body, struct nlu_example_row **rows, size_t *n,
        bool *many, struct gacp_err *err);
/* intent/language filters may be NULL; invalid ones are field errors. */
int trainset_examples_list(struct svc *s, const struct page *pg,
        const char *intent, const char *language,
        struct nlu_example_row **rows, size_t *n, char **next_cursor,
        struct gacp_err *err);
int trainset_examples_get(struct svc *s, const char *id,
        struct nlu_example_row **out, struct gacp_err *err);
int trainset_examples_delete(struct svc *s, const char *id,
        struct gacp_err *err);
/* Delete every example of intent (required: a field error when NULL). */
int trainset_examples_delete_intent(struct svc *s, const char *intent,
        int64_t *deleted, struct gacp_err *err);

/* body: {kind, name, elements[]}.  Regex patterns must compile (PCRE2, as
 * the engine compiles them); a synonym's surface form may belong to one
 * canonical value only.  An existing kind+name is GACP_ECONFLICT. */
int trainset_entities_create(struct svc *s, struct json_object *body,
        struct nlu_entity_row **out, struct gacp_err *err);
/* kind may be NULL (all kinds). */
int trainset_entities_list(struct svc *s, const struct page *pg,
        const char *kind, struct nlu_entity_row **rows, size_t *n,
        char **next_cursor, struct gacp_err *err);
int trainset_entities_get(struct svc *s, const char *id,
        struct nlu_entity_row **out, struct gacp_err *err);
/* body: {elements[], version}: replace the elements (optimistic lock). */
int trainset_entities_update(struct svc *s, const char *id,
        struct json_object *body, struct nlu_entity_row **out,
        struct gacp_err *err);
int trainset_entities_delete(struct svc *s, const char *id,
        struct gacp_err *err);

/* Import body (len bytes) in fmt; mode is "replace" (NULL: the default)
 * or "merge".  All or nothing (see above). */
int trainset_import(struct svc *s, struct nlu_text *lid,
        enum trainset_format fmt, const char *body, size_t len,
        const char *mode, struct trainset_import_report *rep,
        struct gacp_err *err);
/* The tenant's training data as Rasa NLU YAML, appended to out. */
int trainset_export(struct svc *s, struct buf *out, struct gacp_err *err);

/* Load the training data of the tenant db's transaction is bound to into
 * ds (initialised, empty) in a canonical order, and its SHA-256
 * (nlu_dataset_digest) as hex into hash_hex.  Used by the export and by
 * gacp-nlu reload, on whichever connection it is given. */
int trainset_load(struct db *db, struct arena *a, struct nlu_dataset *ds,
        char hash_hex[65], struct gacp_err *err);

#endif
