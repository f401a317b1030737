/* store.c - worker SQL (see store.h).  Parameterised statements only. */
#include "messenger/store.h"
#include "common/arena.h"
#include "common/json.h"
#include "store/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
put_json(void *p)
{
	json_object_put(p);
}

int
mxs_conversation_lock(struct db *db, struct arena *a, const char *tenant_id,
    const char *channel_id, const char *psid, struct mxs_conversation *out,
    struct gacp_err *err)
{
	const char *p[3] = { tenant_id, channel_id, psid };
	PGresult *res;
	int rc, col;

	memset(out, 0, sizeof(*out));
	/* One round trip for what took three (PostgreSQL's time per event
	 * is mostly per statement, doc/operations.md): upsert the contact,
	 * create the conversation if it is new (n) or lock the existing one
	 * (l: the statement's snapshot sees a conversation that existed
	 * before it, and FOR UPDATE waits for and re-reads a row another
	 * transaction holds).  A conversation that another transaction
	 * created and committed after this statement's snapshot is in
	 * neither: then the plain locking read below, whose new snapshot
	 * sees it. */
	rc = db_exec(db, a, "WITH c AS (INSERT INTO contacts (tenant_id, "
	    "channel_id, psid) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, "
	    "channel_id, psid) DO UPDATE SET last_seen_at = now() RETURNING id), "
	    "n AS (INSERT INTO conversations (tenant_id, channel_id, contact_id) "
	    "SELECT $1, $2, id FROM c ON CONFLICT (tenant_id, channel_id, "
	    "contact_id) DO NOTHING RETURNING id, status, state), "
	    "l AS (SELECT v.id, v.status, v.state FROM conversations v JOIN c ON "
	    "v.contact_id = c.id WHERE v.tenant_id = $1 AND v.channel_id = $2 "
	    "FOR UPDATE OF v) "
	    "SELECT c.id, x.id, x.status, x.state::text FROM c LEFT JOIN "
	    "(SELECT id, status, state FROM n UNION ALL "
	    "SELECT id, status, state FROM l) x ON true", 3, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) < 1)
		return gacp_err_set(err, GACP_EINTERNAL, "internal",
		    "contact upsert returned no row");
	out->contact_id = arena_strdup(a, PQgetvalue(res, 0, 0));
	col = 1;                            /* id, status, state from here */
	if (PQgetisnull(res, 0, 1)) {
		const char *q[3] = { tenant_id, channel_id, out->contact_id };
		rc = db_exec(db, a, "SELECT id, status, state::text FROM "
		    "conversations WHERE tenant_id = $1 AND channel_id = $2 AND "
		    "contact_id = $3 FOR UPDATE", 3, q, &res, err);
		if (rc != GACP_OK)
			return rc;
		col = 0;
	}
	if (PQntuples(res) != 1)
		return gacp_err_set(err, GACP_EINTERNAL, "internal",
		    "%d conversation rows for one contact", PQntuples(res));
	out->id = arena_strdup(a, PQgetvalue(res, 0, col));
	out->status = arena_strdup(a, PQgetvalue(res, 0, col + 1));
	out->state = json_tokener_parse(PQgetvalue(res, 0, col + 2));
	arena_defer(a, put_json, out->state);
	return GACP_OK;
}

static void
fill_message(struct arena *a, PGresult *res, struct mxs_message *out,
    bool created)
{
	out->id = arena_strdup(a, PQgetvalue(res, 0, 0));
	out->created_at = arena_strdup(a, PQgetvalue(res, 0, 1));
	out->status = arena_strdup(a, PQgetvalue(res, 0, 2));
	out->text = PQgetisnull(res, 0, 3) ? NULL :
	    arena_strdup(a, PQgetvalue(res, 0, 3));
	out->payload_json = arena_strdup(a, PQgetvalue(res, 0, 4));
	out->created = created;
}

static int
find_by_key(struct db *db, struct arena *a, const char *tenant_id,
    const char *channel_id, const char *key, struct mxs_message *out,
    struct gacp_err *err)
{
	const char *p[3] = { tenant_id, channel_id, key };
	PGresult *res;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = db_exec(db, a, "SELECT m.id, m.created_at::text, m.status, m.text, "
	    "m.payload::text FROM "
	    "message_keys k JOIN messages m ON m.tenant_id = k.tenant_id AND "
	    "m.created_at = k.message_at AND m.id = k.message_id WHERE "
	    "k.tenant_id = $1 AND k.channel_id = $2 AND k.external_id = $3",
	    3, p, &res, err);
	if (rc == GACP_OK && PQntuples(res) == 1)
		fill_message(a, res, out, false);
	return rc;
}

/* The values of a new message, in insert_message's parameter order. */
enum {
	MV_TENANT, MV_CONVERSATION, MV_CHANNEL, MV_CONTACT, MV_DIRECTION,
	MV_SENDER, MV_EXTERNAL_ID, MV_REPLY_TO, MV_KIND, MV_TEXT, MV_PAYLOAD,
	MV_STATUS, MV_EVENT_MS, MV_INTENT, MV_CONFIDENCE, MV_ENTITIES,
	MV_LANGUAGE, MV_COUNT
};

static int
insert_message(struct db *db, struct arena *a, const char *tenant_id,
    const char *channel_id, const char *key, const char *const vals[MV_COUNT],
    struct mxs_message *out, struct gacp_err *err)
{
	const char *p[3 + MV_COUNT];
	PGresult *res;
	int rc, i;

	/* One statement: the key row first, and the message only if the key
	 * is new.  A concurrent duplicate blocks on the key and then finds
	 * the winner's message (find_by_key) instead of inserting a second
	 * one.  The message takes the key's id and time, so both rows carry
	 * the same now() (the transaction's start). */
	p[0] = tenant_id;
	p[1] = channel_id;
	p[2] = key;
	for (i = 0; i < MV_COUNT; i++)
		p[3 + i] = vals[i];
	rc = db_exec(db, a, "WITH k AS (INSERT INTO message_keys (tenant_id, "
	    "channel_id, external_id, message_id, message_at) VALUES ($1, $2, "
	    "$3, gen_random_uuid(), now()) ON CONFLICT DO NOTHING RETURNING "
	    "message_id, message_at) "
	    "INSERT INTO messages (id, created_at, tenant_id, conversation_id, "
	    "channel_id, contact_id, direction, sender, external_id, reply_to, "
	    "kind, text, payload, status, event_at, intent, confidence, "
	    "entities, language) SELECT k.message_id, k.message_at, $4::uuid, "
	    "$5::uuid, $6::uuid, $7::uuid, $8::text, $9::text, $10::text, "
	    "$11::uuid, $12::text, $13::text, coalesce($14::jsonb, '{}'::jsonb), "
	    "$15::text, to_timestamp($16::numeric / 1000), $17::text, "
	    "$18::real, $19::jsonb, $20::text FROM k RETURNING id, "
	    "created_at::text, status, text, payload::text",
	    3 + MV_COUNT, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) == 0)
		return find_by_key(db, a, tenant_id, channel_id, key, out, err);
	fill_message(a, res, out, true);
	return GACP_OK;
}

/* The values every message of a conversation shares; the rest NULL. */
static void
message_vals(const char *vals[MV_COUNT], const char *tenant_id,
    const char *channel_id, const struct mxs_conversation *conv)
{
	int i;

	for (i = 0; i < MV_COUNT; i++)
		vals[i] = NULL;
	vals[MV_TENANT] = tenant_id;
	vals[MV_CONVERSATION] = conv->id;
	vals[MV_CHANNEL] = channel_id;
	vals[MV_CONTACT] = conv->contact_id;
}

int
mxs_inbound_store(struct db *db, struct arena *a, const char *tenant_id,
    const char *channel_id, const struct mxs_conversation *conv,
    const char *mid, const char *kind, const char *text,
    const char *payload_json, int64_t event_ms,
    const struct mxs_understanding *nlu, struct mxs_message *out,
    struct gacp_err *err)
{
	char event[32], conf[32];
	const char *vals[MV_COUNT];

	snprintf(event, sizeof(event), "%lld", (long long)event_ms);
	snprintf(conf, sizeof(conf), "%.6f", (double)nlu->confidence);
	message_vals(vals, tenant_id, channel_id, conv);
	vals[MV_DIRECTION] = "in";
	vals[MV_SENDER] = "contact";
	vals[MV_EXTERNAL_ID] = mid;
	vals[MV_KIND] = kind;
	vals[MV_TEXT] = text;
	vals[MV_PAYLOAD] = payload_json;
	vals[MV_STATUS] = "received";
	vals[MV_EVENT_MS] = event;
	vals[MV_INTENT] = nlu->intent;
	vals[MV_CONFIDENCE] = nlu->intent != NULL ? conf : NULL;
	vals[MV_ENTITIES] = nlu->entities_json;
	vals[MV_LANGUAGE] = nlu->language;
	return insert_message(db, a, tenant_id, channel_id, mid, vals, out, err);
}

int
mxs_reply_find(struct db *db, struct arena *a, const char *tenant_id,
    const char *channel_id, const char *inbound_id, struct mxs_message *out,
    struct gacp_err *err)
{
	const char *key = arena_sprintf(a, "reply:%s", inbound_id);
	return find_by_key(db, a, tenant_id, channel_id, key, out, err);
}

int
mxs_reply_create(struct db *db, struct arena *a, const char *tenant_id,
    const char *channel_id, const struct mxs_conversation *conv,
    const char *inbound_id, const char *text, const char *payload_json,
    const char *intent, const char *language, struct mxs_message *out,
    struct gacp_err *err)
{
	const char *key = arena_sprintf(a, "reply:%s", inbound_id);
	const char *vals[MV_COUNT];

	message_vals(vals, tenant_id, channel_id, conv);
	vals[MV_DIRECTION] = "out";
	vals[MV_SENDER] = "bot";
	vals[MV_REPLY_TO] = inbound_id;
	vals[MV_KIND] = "text";
	vals[MV_TEXT] = text;
	vals[MV_PAYLOAD] = payload_json;
	vals[MV_STATUS] = "pending";
	vals[MV_INTENT] = intent;
	vals[MV_LANGUAGE] = language;
	return insert_message(db, a, tenant_id, channel_id, key, vals, out, err);
}

int
mxs_reply_finish(struct db *db, struct arena *a, const char *tenant_id,
    const struct mxs_message *m, const char *status, const char *error_json,
    long latency_ms, struct gacp_err *err)
{
	char latency[24];
	const char *p[6];
	PGresult *res;

	snprintf(latency, sizeof(latency), "%ld", latency_ms);
	p[0] = tenant_id;
	p[1] = m->created_at;
	p[2] = m->id;
	p[3] = status;
	p[4] = error_json;
	p[5] = strcmp(status, "sent") == 0 ? latency : NULL;
	return db_exec(db, a, "UPDATE messages SET status = $4, error = $5::jsonb, "
	    "latency_ms = $6, sent_at = CASE WHEN $4 = 'sent' THEN now() END "
	    "WHERE tenant_id = $1 AND created_at = $2 AND id = $3", 6, p, &res,
	    err);
}

int
mxs_reply_mark_sending(struct db *db, struct arena *a, const char *tenant_id,
    const struct mxs_message *m, bool *claimed, struct gacp_err *err)
{
	const char *p[3] = { tenant_id, m->created_at, m->id };
	PGresult *res;
	int rc;

	*claimed = false;
	rc = db_exec(db, a, "UPDATE messages SET status = 'sending' WHERE "
	    "tenant_id = $1 AND created_at = $2 AND id = $3 AND status = "
	    "'pending'", 3, p, &res, err);
	if (rc == GACP_OK)
		*claimed = atoi(PQcmdTuples(res)) == 1;
	return rc;
}

int
mxs_reply_unsend(struct db *db, struct arena *a, const char *tenant_id,
    const struct mxs_message *m, struct gacp_err *err)
{
	const char *p[3] = { tenant_id, m->created_at, m->id };
	PGresult *res;

	return db_exec(db, a, "UPDATE messages SET status = 'pending' WHERE "
	    "tenant_id = $1 AND created_at = $2 AND id = $3 AND status = "
	    "'sending'", 3, p, &res, err);
}

int
mxs_conversation_save(struct db *db, struct arena *a, const char *tenant_id,
    const struct mxs_conversation *conv, const char *status,
    struct json_object *state, const char *language, bool inbound,
    struct gacp_err *err)
{
	const char *p[6];
	PGresult *res;

	p[0] = tenant_id;
	p[1] = conv->id;
	p[2] = status;
	p[3] = json_compact(state);
	p[4] = language;
	p[5] = inbound ? "t" : "f";
	return db_exec(db, a, "UPDATE conversations SET status = $3, state = "
	    "$4::jsonb, language = coalesce($5, language), last_message_at = "
	    "now(), last_inbound_at = CASE WHEN $6::boolean THEN now() ELSE "
	    "last_inbound_at END, handoff_at = CASE WHEN $3 = 'handoff' AND "
	    "status <> 'handoff' THEN now() ELSE handoff_at END WHERE "
	    "tenant_id = $1 AND id = $2", 6, p, &res, err);
}

int
mxs_responses_load(struct db *db, struct arena *a, const char *tenant_id,
    struct flow_response **out, size_t *n, struct gacp_err *err)
{
	const char *p[1] = { tenant_id };
	PGresult *res;
	int rc, i;

	*out = NULL;
	*n = 0;
	rc = db_exec(db, a, "SELECT id, intent, language, templates::text, "
	    "quick_replies::text, selection, rr_next, required_slots::text, "
	    "max_turns FROM responses WHERE tenant_id = $1 AND NOT is_deleted",
	    1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*out = arena_calloc(a, (size_t)PQntuples(res) + 1, sizeof(**out));
	for (i = 0; i < PQntuples(res); i++) {
		struct flow_response *r = &(*out)[i];
		r->id = arena_strdup(a, PQgetvalue(res, i, 0));
		r->intent = arena_strdup(a, PQgetvalue(res, i, 1));
		r->language = arena_strdup(a, PQgetvalue(res, i, 2));
		r->templates = json_tokener_parse(PQgetvalue(res, i, 3));
		r->quick_replies = json_tokener_parse(PQgetvalue(res, i, 4));
		r->selection = arena_strdup(a, PQgetvalue(res, i, 5));
		r->rr_next = atoi(PQgetvalue(res, i, 6));
		r->required_slots = json_tokener_parse(PQgetvalue(res, i, 7));
		r->max_turns = atoi(PQgetvalue(res, i, 8));
		arena_defer(a, put_json, r->templates);
		arena_defer(a, put_json, r->quick_replies);
		arena_defer(a, put_json, r->required_slots);
	}
	*n = (size_t)PQntuples(res);
	return GACP_OK;
}

int
mxs_response_advance(struct db *db, struct arena *a, const char *tenant_id,
    const char *response_id, struct gacp_err *err)
{
	const char *p[2] = { tenant_id, response_id };
	PGresult *res;

	return db_exec(db, a, "UPDATE responses SET rr_next = rr_next + 1 "
	    "WHERE tenant_id = $1 AND id = $2", 2, p, &res, err);
}

int
mxs_channel_send_info(struct db *db, struct arena *a, const char *tenant_id,
    const char *channel_id, const char **status, const char **token_enc,
    struct gacp_err *err)
{
	const char *p[2] = { tenant_id, channel_id };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "SELECT status, page_access_token_enc FROM channels "
	    "WHERE tenant_id = $1 AND id = $2 AND NOT is_deleted", 2, p, &res,
	    err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) != 1)
		return gacp_err_set(err, GACP_ENOTFOUND, "channel_missing",
		    "the channel was removed");
	*status = arena_strdup(a, PQgetvalue(res, 0, 0));
	*token_enc = arena_strdup(a, PQgetvalue(res, 0, 1));
	return GACP_OK;
}

int
mxs_channel_mark_reauth(struct db *db, struct arena *a, const char *tenant_id,
    const char *channel_id, const char *error_json, struct gacp_err *err)
{
	const char *p[3] = { tenant_id, channel_id, error_json };
	PGresult *res;

	return db_exec(db, a, "UPDATE channels SET status = 'needs_reauth', "
	    "last_error = $3::jsonb WHERE tenant_id = $1 AND id = $2 AND "
	    "status = 'active'", 3, p, &res, err);
}
