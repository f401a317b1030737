/* store.h - SQL of the message worker: contacts, conversations, messages.
 *
 * Every function runs inside the caller's transaction (db_begin with the
 * event's tenant), so row-level security scopes every statement.
 * Idempotency lives here: an inbound mid is stored once per channel
 * (message_keys), and the reply to an inbound message is created once
 * ("reply:<inbound id>").
 */
#ifndef GACP_MESSENGER_STORE_H
#define GACP_MESSENGER_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "common/err.h"
#include "flow/flow.h"

struct arena;
struct db;

struct mxs_conversation {
	const char         *id;
	const char         *contact_id;
	const char         *status;        /* bot | handoff | closed */
	struct json_object *state;         /* owned by the arena */
};

struct mxs_message {
	const char *id;
	const char *created_at;            /* timestamptz text (partition key) */
	const char *status;
	const char *text;                  /* stored text (may be NULL) */
	const char *payload_json;          /* stored payload object */
	bool        created;               /* inserted now (not a redelivery) */
};

/* Upsert the contact and its conversation, and lock the conversation row
 * (FOR UPDATE): events of one conversation are handled one at a time. */
int mxs_conversation_lock(struct db *db, struct arena *a, const char *tenant_id,
    const char *channel_id, const char *psid, struct mxs_conversation *out,
    struct gacp_err *err);

/* What the NLU made of a message, stored with it (all may be NULL). */
struct mxs_understanding {
	const char *intent;
	float       confidence;
	const char *entities_json;
	const char *language;
};

/* Store an inbound message once per (channel, mid), with the time of the
 * event and what the NLU made of it; on redelivery returns the stored one
 * with created = false (and changes nothing). */
int mxs_inbound_store(struct db *db, struct arena *a, const char *tenant_id,
    const char *channel_id, const struct mxs_conversation *conv,
    const char *mid, const char *kind, const char *text,
    const char *payload_json, int64_t event_ms,
    const struct mxs_understanding *nlu, struct mxs_message *out,
    struct gacp_err *err);

/* The reply already made to an inbound message, if any (out->id NULL). */
int mxs_reply_find(struct db *db, struct arena *a, const char *tenant_id,
    const char *channel_id, const char *inbound_id, struct mxs_message *out,
    struct gacp_err *err);
/* Create the bot's reply (status pending). */
int mxs_reply_create(struct db *db, struct arena *a, const char *tenant_id,
    const char *channel_id, const struct mxs_conversation *conv,
    const char *inbound_id, const char *text, const char *payload_json,
    const char *intent, const char *language, struct mxs_message *out,
    struct gacp_err *err);
/* Outcome of a send: status sent/failed/skipped, error JSON or NULL,
 * latency from inbound stored to Send API accepted. */
int mxs_reply_finish(struct db *db, struct arena *a, const char *tenant_id,
    const struct mxs_message *m, const char *status, const char *error_json,
    long latency_ms, struct gacp_err *err);

/* Mark a pending reply 'sending', committed right before its Send API
 * call; *claimed is false when it was no longer
 * pending (another worker took it).  Back to 'pending' with
 * mxs_reply_unsend() when the call failed without delivering. */
int mxs_reply_mark_sending(struct db *db, struct arena *a,
    const char *tenant_id, const struct mxs_message *m, bool *claimed,
    struct gacp_err *err);
int mxs_reply_unsend(struct db *db, struct arena *a, const char *tenant_id,
    const struct mxs_message *m, struct gacp_err *err);

/* The conversation after a turn; inbound: the turn stored a new message
 * from the person (last_inbound_at moves too). */
int mxs_conversation_save(struct db *db, struct arena *a, const char *tenant_id,
    const struct mxs_conversation *conv, const char *status,
    struct json_object *state, const char *language, bool inbound,
    struct gacp_err *err);

/* The tenant's responses (rows live in the arena). */
int mxs_responses_load(struct db *db, struct arena *a, const char *tenant_id,
    struct flow_response **out, size_t *n, struct gacp_err *err);
int mxs_response_advance(struct db *db, struct arena *a, const char *tenant_id,
    const char *response_id, struct gacp_err *err);

/* Channel data for sending: status and the sealed page token. */
int mxs_channel_send_info(struct db *db, struct arena *a, const char *tenant_id,
    const char *channel_id, const char **status, const char **token_enc,
    struct gacp_err *err);
int mxs_channel_mark_reauth(struct db *db, struct arena *a,
    const char *tenant_id, const char *channel_id, const char *error_json,
    struct gacp_err *err);

#endif
