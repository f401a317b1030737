/* conversations_svc.h - conversations as a REST resource: list, read, messages, handoff/resume, agent replies.
 *
 * Every function acts in s->tenant_id inside the caller's transaction
 * bound to it.  Rules:
 *   - lists are newest activity first (last_message_at); a conversation
 *     that gets a message while a client pages moves to the front, so it
 *     is seen again on the next poll from the first page, never twice in
 *     one pass;
 *   - messages of a conversation are oldest first ("order=newest" turns
 *     that round): by created_at, a person's message before the reply
 *     made in the same transaction, then id;
 *   - handoff sets status "handoff" (the flow engine then stays silent),
 *     resume sets "bot"; both are no-ops when already there, and take an
 *     optional version (409 "version_conflict" when stale);
 *   - an agent reply is stored (sender agent, status pending), committed,
 *     then queued on gacp:inbound as an "agent_reply" entry that
 *     gacp-worker delivers through the Send API like a bot reply.  It is
 *     refused for a REST-channel conversation (409 "unsupported_channel"),
 *     a channel that is not active (409 "channel_unavailable") and outside
 *     Messenger's 24-hour window after the person's last message
 *     ("outside_window": a plain RESPONSE is not allowed there, a message
 *     tag would be).  If the queue cannot take it, the message is marked
 *     failed and the call fails with 503 "queue_unavailable".
 * Other tenants' conversations are not found (404).
 */
#ifndef GACP_MESSENGER_CONVERSATIONS_SVC_H
#define GACP_MESSENGER_CONVERSATIONS_SVC_H

#include <stddef.h>

#include <json-c/json.h>

#include "common/err.h"

struct svc;
struct page;
struct conversation_row;
struct message_row;

/* Prototypes */

/* status, since: query texts or NULL (validated: field errors). */
int conversations_list(struct svc *s, const char *status, const char *since,
        const struct page *pg, struct conversation_row **rows, size_t *n,
        char **next_cursor, struct gacp_err *err);
int conversations_get(struct svc *s, const char *id,
        struct conversation_row **out, struct gacp_err *err);
/* order: "oldest" (default, NULL) or "newest". */
int conversations_messages(struct svc *s, const char *id, const char *order,
        const struct page *pg, struct message_row **rows, size_t *n,
        char **next_cursor, struct gacp_err *err);
/* body: {version?}. */
int conversations_handoff(struct svc *s, const char *id,
        struct json_object *body, struct conversation_row **out,
        struct gacp_err *err);
int conversations_resume(struct svc *s, const char *id,
        struct json_object *body, struct conversation_row **out,
        struct gacp_err *err);
/* body: {text}.  Commits the caller's transaction (the message must be
 * visible before the worker reads the queue entry). */
int conversations_reply(struct svc *s, const char *id,
        struct json_object *body, struct message_row **out,
        struct gacp_err *err);

/* JSON representations (new objects, the caller owns them). */
struct json_object *conversations_render(const struct conversation_row *c);
struct json_object *conversations_render_message(const struct message_row *m);

#endif
