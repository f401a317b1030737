/* conversation_store.h - SQL for conversations and their messages as the REST API and the agent-reply path need them.
 *
 * Runs in the caller's transaction bound to the tenant (row-level
 * security); rows live in the arena.  A conversation row carries its
 * contact's PSID and its channel's type, status and page, because every
 * caller needs them.  The messaging window (24 hours after the person's
 * last message, Messenger Platform policy) is computed by the database
 * clock, the same clock that stamped last_inbound_at.  Errors:
 * GACP_ENOTFOUND ("not_found"), GACP_ECONFLICT ("version_conflict") and
 * the db_exec() errors.
 */
#ifndef GACP_MESSENGER_CONVERSATION_STORE_H
#define GACP_MESSENGER_CONVERSATION_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "messenger/store.h"

struct arena;
struct db;

struct conversation_row {
	char    *id;
	char    *channel_id;
	char    *channel_type;      /* messenger | rest */
	char    *channel_status;    /* active | needs_reauth | disabled | removed */
	char    *page_id;           /* NULL for the REST channel */
	char    *contact_id;
	char    *psid;              /* the person's id on the channel */
	char    *status;            /* bot | handoff | closed */
	char    *state;             /* JSON object text (slots, form) */
	char    *language;          /* may be NULL */
	char    *last_inbound_at;   /* RFC 3339 or NULL */
	char    *last_message_at;
	char    *handoff_at;        /* may be NULL */
	char    *window_ends_at;    /* last_inbound_at + 24 h, or NULL */
	char    *created_at;
	char    *updated_at;
	bool     window_open;       /* a plain RESPONSE may be sent now */
	int64_t  last_inbound_ms;   /* epoch ms, 0 if never */
	int64_t  version;
	int64_t  activity_us;       /* last_message_at: the list cursor key */
};

struct message_row {
	char    *id;
	char    *conversation_id;
	char    *direction;         /* in | out */
	char    *sender;            /* contact | bot | agent */
	char    *kind;              /* text | quick_reply | postback | attachment */
	char    *text;              /* may be NULL */
	char    *payload;           /* JSON object text */
	char    *intent;            /* may be NULL */
	char    *confidence;        /* decimal text or NULL */
	char    *entities;          /* JSON array text or NULL */
	char    *language;
	char    *status;            /* received | pending | sent | failed | skipped */
	char    *error;             /* JSON object text or NULL */
	char    *external_id;       /* the channel's message id (mid) */
	char    *reply_to;
	char    *event_at;
	char    *sent_at;
	char    *latency_ms;        /* integer text or NULL */
	char    *metadata;          /* JSON object text */
	char    *created_at;
	int64_t  created_us;        /* partition key and cursor key */
};

/* Prototypes */

/* Most recent activity first, after the cursor (after_us < 0: from the
 * newest).  status NULL: any; since (RFC 3339) NULL: any time, else only
 * conversations with a message at or after it. */
int conversation_store_list(struct db *db, struct arena *a,
        const char *status, const char *since, int64_t after_us,
        const char *after_id, int limit, struct conversation_row **rows,
        size_t *n, struct gacp_err *err);
/* lock: SELECT … FOR UPDATE of the conversation row. */
int conversation_store_get(struct db *db, struct arena *a, const char *id,
        bool lock, struct conversation_row **out, struct gacp_err *err);
/* Set status (bot, handoff); handoff_at is stamped when it becomes
 * handoff.  version < 0: any. */
int conversation_store_set_status(struct db *db, struct arena *a,
        const char *id, int64_t version, const char *status,
        const char *updated_by, struct conversation_row **out,
        struct gacp_err *err);
/* Messages of a conversation by (created_at, direction, id), oldest
 * first unless newest_first, after the cursor row (created_at as
 * after_us, after_id; after_us < 0: from the start).  A person's message
 * and the bot's reply share created_at; "in" sorts before "out". */
int conversation_store_messages(struct db *db, struct arena *a,
        const char *conversation_id, bool newest_first, int64_t after_us,
        const char *after_id, int limit, struct message_row **rows,
        size_t *n, struct gacp_err *err);
/* Store an agent's outbound text message (status pending) in the
 * conversation and stamp its last_message_at.  metadata: JSON text. */
int conversation_store_agent_message(struct db *db, struct arena *a,
        const char *tenant_id, const struct conversation_row *conv,
        const char *text, const char *metadata, struct message_row **out,
        struct gacp_err *err);
/* Mark a still-pending message failed with error (JSON text). */
int conversation_store_message_fail(struct db *db, struct arena *a,
        const struct message_row *m, const char *error_json,
        struct gacp_err *err);
/* For gacp-worker: the agent's outbound message id, created at epoch
 * microseconds created_us, in the shape deliver() sends.  GACP_ENOTFOUND
 * when there is no such message. */
int conversation_store_outbound(struct db *db, struct arena *a,
        const char *tenant_id, const char *message_id, int64_t created_us,
        struct mxs_message *out, struct gacp_err *err);

#endif
