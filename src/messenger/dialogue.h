/* dialogue.h - one conversational turn, shared by every channel.
 *
 * In one transaction bound to the tenant: upsert the contact and lock its
 * conversation (one turn at a time per conversation), store the inbound
 * message once per (channel, message id), run NLU on it, let the flow
 * engine decide, create the bot's reply once (status pending) and save the
 * conversation's state.  Delivering the reply is the channel's business:
 * gacp-worker sends it through the Messenger Send API; the REST channel
 * returns it in the HTTP response.  A redelivered message returns the
 * reply made the first time, so nothing is done twice.
 */
#ifndef GACP_MESSENGER_DIALOGUE_H
#define GACP_MESSENGER_DIALOGUE_H

#include <stdint.h>
#include <json-c/json.h>

#include "common/err.h"
#include "http/metrics.h"
#include "messenger/store.h"

struct arena;
struct db;
struct models;
struct nlu_parser;

struct mx_dialogue {
	struct db         *db;
	struct models     *models;          /* tenants' NLU models */
	struct nlu_parser *parser;
	const char        *handoff_intent;  /* NULL: "human_handoff" */
	struct metrics    *metrics;         /* or NULL */
	enum metrics_histogram parse_hist;  /* where NLU time is recorded */
	int64_t            parse_us;        /* out: the last turn's NLU time
	                                     * (0 when nothing was parsed) */
};

struct mx_inbound {
	const char         *tenant_id;
	const char         *channel_id;
	const char         *psid;          /* sender id on the channel */
	const char         *mid;           /* message id (idempotency) */
	const char         *kind;          /* text, quick_reply, postback, attachment */
	const char         *text;
	const char         *payload;
	int64_t             timestamp_ms;
	struct json_object *attachments;   /* or NULL */
};

/* Run one turn.  *reply describes the bot's reply (reply->id NULL when
 * the bot stays silent, e.g. handed off); reply->status "pending" means
 * it still has to be delivered.  Errors: those of the stores
 * (GACP_EUNAVAIL …) and of the flow engine; nothing is committed then. */
int mx_dialogue_turn(struct mx_dialogue *d, struct arena *a,
    const struct mx_inbound *in, struct mxs_message *reply,
    struct gacp_err *err);

#endif
