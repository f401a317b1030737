/* conversations_svc.c - conversations: filters, handoff/resume, agent replies through the queue (see conversations_svc.h). */
#include "messenger/conversations_svc.h"
#include "common/arena.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "messenger/conversation_store.h"
#include "messenger/fields.h"
#include "messenger/queue.h"
#include "tenancy/audit.h"
#include "tenancy/tenancy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
record(struct svc *s, const char *action, const char *conversation_id,
    struct json_object *d, struct gacp_err *err)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = s->tenant_id;
	ev.action = action;
	ev.resource_type = "conversation";
	ev.resource_id = conversation_id;
	ev.details = d;
	return audit_record(s, &ev, err);
}

static int
get_valid(struct svc *s, const char *id, bool lock,
    struct conversation_row **out, struct gacp_err *err)
{
	char cid[TENANCY_UUID_LEN + 1];

	if (id == NULL || !tenancy_uuid_norm(id, cid))
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such conversation");
	return conversation_store_get(&s->app->db, s->a, cid, lock, out, err);
}

int
conversations_list(struct svc *s, const char *status, const char *since,
    const struct page *pg, struct conversation_row **rows, size_t *n,
    char **next_cursor, struct gacp_err *err)
{
	static const char *const statuses[] = { "bot", "handoff", "closed",
	    NULL };
	int rc;

	*next_cursor = NULL;
	mx_field_one_of(s, "status", status, statuses);
	mx_field_datetime(s, "since", since);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	rc = conversation_store_list(&s->app->db, s->a, status, since,
	    pg->after_us, pg->after_us < 0 ? NULL : pg->after_id, pg->limit,
	    rows, n, err);
	if (rc == GACP_OK && *n == (size_t)pg->limit)
		*next_cursor = svc_cursor_key(s, (*rows)[*n - 1].activity_us,
		    (*rows)[*n - 1].id);
	return rc;
}

int
conversations_get(struct svc *s, const char *id,
    struct conversation_row **out, struct gacp_err *err)
{
	return get_valid(s, id, false, out, err);
}

int
conversations_messages(struct svc *s, const char *id, const char *order,
    const struct page *pg, struct message_row **rows, size_t *n,
    char **next_cursor, struct gacp_err *err)
{
	static const char *const orders[] = { "oldest", "newest", NULL };
	struct conversation_row *conv;
	bool newest;
	int rc;

	*next_cursor = NULL;
	if ((rc = get_valid(s, id, false, &conv, err)) != GACP_OK)
		return rc;
	mx_field_one_of(s, "order", order, orders);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	newest = order != NULL && strcmp(order, "newest") == 0;
	rc = conversation_store_messages(&s->app->db, s->a, conv->id, newest,
	    pg->after_us, pg->after_us < 0 ? NULL : pg->after_id, pg->limit,
	    rows, n, err);
	if (rc == GACP_OK && *n == (size_t)pg->limit)
		*next_cursor = svc_cursor_key(s, (*rows)[*n - 1].created_us,
		    (*rows)[*n - 1].id);
	return rc;
}

/* Move the conversation to status; a no-op when it is there already. */
static int
set_status(struct svc *s, const char *id, struct json_object *body,
    const char *status, const char *action, struct conversation_row **out,
    struct gacp_err *err)
{
	static const char *const allowed[] = { "version", NULL };
	struct conversation_row *cur;
	struct json_object *d;
	int64_t version = -1;
	int rc;

	/* Locked: a worker turn in progress finishes first, and its save
	 * cannot overwrite the new status with the one it read. */
	if ((rc = get_valid(s, id, true, &cur, err)) != GACP_OK)
		return rc;
	svc_body_only(s, body, allowed);
	if (svc_body_has(body, "version"))
		svc_body_version(s, body, &version);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if (version >= 0 && version != cur->version)
		return gacp_err_set(err, GACP_ECONFLICT, "version_conflict",
		    "the conversation changed since you read it; reload it");
	if (strcmp(cur->status, status) == 0) {
		*out = cur;
		return GACP_OK;
	}
	if ((rc = conversation_store_set_status(&s->app->db, s->a, cur->id,
	    version, status, svc_actor_uuid(s), out, err)) != GACP_OK)
		return rc;
	d = svc_details(s);
	json_object_object_add(d, "status_from", json_object_new_string(cur->status));
	json_object_object_add(d, "status", json_object_new_string(status));
	return record(s, action, cur->id, d, err);
}

int
conversations_handoff(struct svc *s, const char *id, struct json_object *body,
    struct conversation_row **out, struct gacp_err *err)
{
	return set_status(s, id, body, "handoff", "conversation.handoff", out,
	    err);
}

int
conversations_resume(struct svc *s, const char *id, struct json_object *body,
    struct conversation_row **out, struct gacp_err *err)
{
	return set_status(s, id, body, "bot", "conversation.resume", out, err);
}

/* {"agent": {"type": "user", "id": "…"}}: who wrote the message. */
static const char *
agent_metadata(struct svc *s)
{
	struct json_object *m = svc_details(s), *agent = json_object_new_object();

	json_object_object_add(agent, "type",
	    json_object_new_string(principal_actor_type(s->who)));
	json_object_object_add(agent, "id", s->who->id[0] ?
	    json_object_new_string(s->who->id) : NULL);
	json_object_object_add(m, "agent", agent);
	return arena_strdup(s->a, json_compact(m));
}

/* The queue entry gacp-worker turns into a Send API call: the fields of
 * a webhook event it needs (tenant, channel, page, psid, a unique mid,
 * the person's last message time for the window) plus the message. */
static const char *
reply_entry(struct svc *s, const struct conversation_row *conv,
    const struct message_row *m)
{
	struct json_object *e = svc_details(s);

	json_object_object_add(e, "kind", json_object_new_string("agent_reply"));
	json_object_object_add(e, "tenant_id", json_object_new_string(s->tenant_id));
	json_object_object_add(e, "channel_id",
	    json_object_new_string(conv->channel_id));
	json_object_object_add(e, "page_id", conv->page_id ?
	    json_object_new_string(conv->page_id) : NULL);
	json_object_object_add(e, "psid", json_object_new_string(conv->psid));
	json_object_object_add(e, "mid",
	    json_object_new_string(arena_sprintf(s->a, "agent:%s", m->id)));
	json_object_object_add(e, "message_id", json_object_new_string(m->id));
	json_object_object_add(e, "message_created_us",
	    json_object_new_int64(m->created_us));
	json_object_object_add(e, "timestamp_ms",
	    json_object_new_int64(conv->last_inbound_ms));
	json_object_object_add(e, "received_us",
	    json_object_new_int64(util_wall_us()));
	return arena_strdup(s->a, json_compact(e));
}

/* Queue the committed message; if Redis will not take it, mark it
 * failed so it does not look pending forever. */
static int
enqueue_reply(struct svc *s, const struct conversation_row *conv,
    struct message_row *m, struct gacp_err *err)
{
	struct mxq_item item;
	struct gacp_err ferr;
	size_t queued = 0, dupes = 0;
	int rc;

	item.payload = reply_entry(s, conv, m);
	item.dedupe_key = mxq_dedupe_key(s->a, s->tenant_id, conv->channel_id,
	    arena_sprintf(s->a, "agent:%s", m->id));
	rc = mxq_enqueue(&s->app->cache, s->a, &item, 1, &queued, &dupes, err);
	if (rc == GACP_OK)
		return GACP_OK;
	log_msg(LOG_ERROR, "agent_reply_not_queued", "tenant %s message %s: "
	    "%s", s->tenant_id, m->id, err->msg);
	gacp_err_clear(&ferr);
	if (svc_begin(s, s->tenant_id, &ferr) == GACP_OK) {
		if (conversation_store_message_fail(&s->app->db, s->a, m,
		    "{\"reason\":\"queue_unavailable\"}", &ferr) == GACP_OK)
			svc_commit(s, &ferr);
		else
			svc_rollback(s);
	}
	return gacp_err_set(err, GACP_EUNAVAIL, "queue_unavailable",
	    "the reply could not be queued for delivery; send it again");
}

int
conversations_reply(struct svc *s, const char *id, struct json_object *body,
    struct message_row **out, struct gacp_err *err)
{
	static const char *const allowed[] = { "text", NULL };
	struct conversation_row *conv;
	struct json_object *v = NULL, *d;
	const char *text;
	int rc;

	if ((rc = get_valid(s, id, true, &conv, err)) != GACP_OK)
		return rc;
	svc_body_only(s, body, allowed);
	json_object_object_get_ex(body, "text", &v);
	text = mx_field_text(s, v, "text", MX_TEXT_MAX_CHARS);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if (strcmp(conv->channel_type, "messenger") != 0)
		return gacp_err_set(err, GACP_ECONFLICT, "unsupported_channel",
		    "agents reply on Messenger conversations; a REST channel "
		    "client only receives the bot's answers to its requests");
	if (strcmp(conv->channel_status, "active") != 0)
		return gacp_err_set(err, GACP_ECONFLICT, "channel_unavailable",
		    "the channel is %s", conv->channel_status);
	/* Messenger Platform policy: a standard RESPONSE only within 24
	 * hours of the person's last message; later needs a message tag. */
	if (!conv->window_open)
		return gacp_err_set(err, GACP_EINVAL, "outside_window",
		    "the person's last message is more than 24 hours old; "
		    "Messenger allows only tagged messages now");
	if ((rc = conversation_store_agent_message(&s->app->db, s->a,
	    s->tenant_id, conv, text, agent_metadata(s), out, err)) != GACP_OK)
		return rc;
	d = svc_details(s);
	json_object_object_add(d, "message_id", json_object_new_string((*out)->id));
	json_object_object_add(d, "text_bytes", json_object_new_int64(
	    (int64_t)json_object_get_string_len(v)));
	if ((rc = record(s, "conversation.agent_reply", conv->id, d, err)) !=
	    GACP_OK || (rc = svc_commit(s, err)) != GACP_OK)
		return rc;
	return enqueue_reply(s, conv, *out, err);
}

/* ---- representations ---------------------------------------------------- */

static struct json_object *
str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *
stored_json(const char *text)
{
	return text ? json_tokener_parse(text) : NULL;
}

struct json_object *
conversations_render(const struct conversation_row *c)
{
	struct json_object *o = json_object_new_object();
	struct json_object *contact = json_object_new_object();
	struct json_object *channel = json_object_new_object();
	struct json_object *window = json_object_new_object();
	struct json_object *state = stored_json(c->state);

	json_object_object_add(channel, "id", str_or_null(c->channel_id));
	json_object_object_add(channel, "type", str_or_null(c->channel_type));
	json_object_object_add(channel, "status", str_or_null(c->channel_status));
	json_object_object_add(contact, "id", str_or_null(c->contact_id));
	json_object_object_add(contact, "psid", str_or_null(c->psid));
	json_object_object_add(window, "open",
	    json_object_new_boolean(c->window_open));
	json_object_object_add(window, "ends_at", str_or_null(c->window_ends_at));
	json_object_object_add(o, "id", str_or_null(c->id));
	json_object_object_add(o, "channel", channel);
	json_object_object_add(o, "contact", contact);
	json_object_object_add(o, "status", str_or_null(c->status));
	json_object_object_add(o, "language", str_or_null(c->language));
	json_object_object_add(o, "state", state ? state : json_object_new_object());
	json_object_object_add(o, "reply_window", window);
	json_object_object_add(o, "last_inbound_at", str_or_null(c->last_inbound_at));
	json_object_object_add(o, "last_message_at", str_or_null(c->last_message_at));
	json_object_object_add(o, "handoff_at", str_or_null(c->handoff_at));
	json_object_object_add(o, "created_at", str_or_null(c->created_at));
	json_object_object_add(o, "updated_at", str_or_null(c->updated_at));
	json_object_object_add(o, "version", json_object_new_int64(c->version));
	return o;
}

struct json_object *
conversations_render_message(const struct message_row *m)
{
	struct json_object *o = json_object_new_object();
	struct json_object *payload = stored_json(m->payload);
	struct json_object *metadata = stored_json(m->metadata);

	json_object_object_add(o, "id", str_or_null(m->id));
	json_object_object_add(o, "conversation_id", str_or_null(m->conversation_id));
	json_object_object_add(o, "direction", str_or_null(m->direction));
	json_object_object_add(o, "sender", str_or_null(m->sender));
	json_object_object_add(o, "kind", str_or_null(m->kind));
	json_object_object_add(o, "text", str_or_null(m->text));
	json_object_object_add(o, "payload",
	    payload ? payload : json_object_new_object());
	json_object_object_add(o, "intent", str_or_null(m->intent));
	/* As PostgreSQL printed it (shortest exact form), not %.17g. */
	json_object_object_add(o, "confidence", m->confidence ?
	    json_object_new_double_s(strtod(m->confidence, NULL),
	    m->confidence) : NULL);
	json_object_object_add(o, "entities", stored_json(m->entities));
	json_object_object_add(o, "language", str_or_null(m->language));
	json_object_object_add(o, "status", str_or_null(m->status));
	json_object_object_add(o, "error", stored_json(m->error));
	json_object_object_add(o, "external_id", str_or_null(m->external_id));
	json_object_object_add(o, "reply_to", str_or_null(m->reply_to));
	json_object_object_add(o, "event_at", str_or_null(m->event_at));
	json_object_object_add(o, "sent_at", str_or_null(m->sent_at));
	json_object_object_add(o, "latency_ms", m->latency_ms ?
	    json_object_new_int64(strtoll(m->latency_ms, NULL, 10)) : NULL);
	json_object_object_add(o, "metadata",
	    metadata ? metadata : json_object_new_object());
	json_object_object_add(o, "created_at", str_or_null(m->created_at));
	return o;
}
