/* response_store.h - SQL for the bot's responses of the bound tenant (row-level security applies).
 *
 * Runs in the caller's transaction; rows live in the arena.  The set is
 * replaced as a whole: rows whose (intent, language) is no longer in the
 * set are soft-deleted, the others inserted or updated in place (an
 * unchanged row keeps its version and round-robin position).  gacp-worker
 * loads responses on every turn, so a committed replacement answers the
 * next message.
 */
#ifndef GACP_MESSENGER_RESPONSE_STORE_H
#define GACP_MESSENGER_RESPONSE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct arena;
struct db;

struct response_row {
	char    *id;
	char    *intent;
	char    *language;
	char    *templates;        /* JSON array text */
	char    *quick_replies;    /* JSON array text */
	char    *selection;        /* random | round_robin */
	char    *required_slots;   /* JSON array text */
	int64_t  max_turns;
	char    *created_at;
	char    *updated_at;
	int64_t  version;
};

/* Prototypes */

/* Every live response, by intent then language. */
int response_store_list(struct db *db, struct arena *a,
        struct response_row **rows, size_t *n, struct gacp_err *err);
/* Make the live set exactly rows_json: a JSON array of objects {intent,
 * language, templates, quick_replies, selection, required_slots,
 * max_turns}, already validated and without duplicate (intent, language).
 * *removed counts the rows soft-deleted. */
int response_store_replace(struct db *db, struct arena *a,
        const char *tenant_id, const char *rows_json, const char *actor,
        int64_t *removed, struct gacp_err *err);

#endif
