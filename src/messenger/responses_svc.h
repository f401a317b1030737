/* responses_svc.h - the bot's responses as one REST document: read the whole set, replace it atomically.
 *
 * A response is what the flow engine says for an intent in a language:
 * templates (one chosen at random or round-robin), optional quick
 * replies, and an optional slot-filling form (required_slots with a
 * prompt each, max_turns prompts before giving up).  PUT replaces the
 * tenant's whole set from JSON or from a Rasa domain file (responses: and
 * forms:, as gacpctl responses import reads it): every row is validated
 * first and any problem is a 422 with one field error per problem and
 * nothing written; otherwise the set is replaced in the caller's
 * transaction (never committed here) and the change audited.
 */
#ifndef GACP_MESSENGER_RESPONSES_SVC_H
#define GACP_MESSENGER_RESPONSES_SVC_H

#include <stddef.h>

#include <json-c/json.h>

#include "common/err.h"

struct svc;
struct response_row;

/* Prototypes */

int responses_list(struct svc *s, struct response_row **rows, size_t *n,
        struct gacp_err *err);
/* body: {"responses": [{intent, language, templates[], quick_replies?[],
 * selection?, required_slots?[], max_turns?}]}; the read-only members
 * GET shows (id, created_at, updated_at, version) are ignored, so a GET
 * document can be PUT back.  *rows: the set afterwards. */
int responses_replace_json(struct svc *s, struct json_object *body,
        struct response_row **rows, size_t *n, struct gacp_err *err);
/* text: a Rasa domain file (YAML, len bytes). */
int responses_replace_yaml(struct svc *s, const char *text, size_t len,
        struct response_row **rows, size_t *n, struct gacp_err *err);
/* The JSON representation (new object, the caller owns it). */
struct json_object *responses_render(const struct response_row *r);

#endif
