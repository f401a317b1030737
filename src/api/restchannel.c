/* restchannel.c - Rasa's generic REST channel: POST /webhooks/rest/webhook.
 *
 * {"sender": "…", "message": "…"} from a website widget or a test,
 * authenticated by API key like any API call; the message goes through the
 * same dialogue turn as a Messenger message (stored, NLU, flow engine,
 * reply stored) and the bot's replies come back in the response, in
 * Rasa's shape: [{"recipient_id": "…", "text": "…", "buttons": […]?}].
 */
#include "api/api.h"
#include "common/json.h"
#include "common/utf8.h"
#include "common/util.h"
#include "messenger/dialogue.h"
#include "messenger/store.h"
#include "nlu/parse.h"
#include "sysconfig/cache.h"

#include <stdio.h>
#include <string.h>

#define REST_MAX_TEXT_CHARS 2000

/* The tenant's REST channel, created on first use. */
static int
rest_channel(struct request_ctx *rc, char id[37], struct gacp_err *err)
{
	struct db *db = &rc->app->db;
	const char *p[1] = { rc->tenant_id };
	PGresult *res;
	int rc2;

	if ((rc2 = db_begin(db, rc->arena, rc->tenant_id, err)) != GACP_OK)
		return rc2;
	rc2 = db_exec(db, rc->arena, "INSERT INTO channels (tenant_id, type, "
	    "name) VALUES ($1, 'rest', 'REST channel') ON CONFLICT DO NOTHING",
	    1, p, &res, err);
	if (rc2 == GACP_OK)
		rc2 = db_exec(db, rc->arena, "SELECT id FROM channels WHERE "
		    "tenant_id = $1 AND type = 'rest' AND NOT is_deleted", 1, p,
		    &res, err);
	if (rc2 == GACP_OK && PQntuples(res) != 1)
		rc2 = gacp_err_set(err, GACP_EINTERNAL, "internal",
		    "REST channel missing");
	if (rc2 == GACP_OK) {
		snprintf(id, 37, "%s", PQgetvalue(res, 0, 0));
		rc2 = db_commit(db, rc->arena, err);
	} else {
		db_rollback(db, rc->arena);
	}
	return rc2;
}

static bool
sender_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 128)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || strchr("_.@:-", c) != NULL))
			return false;
	}
	return true;
}

void
api_rest_webhook(struct request_ctx *rc)
{
	struct json_object *body = api_body_object(rc), *out, *msg, *payload, *qr;
	struct mx_dialogue d;
	struct mx_inbound in;
	struct mxs_message reply;
	struct gacp_err err;
	char channel_id[37], mid[37];
	const char *sender, *text;
	int64_t started_us = util_wall_us();

	if (body == NULL)
		return;
	gacp_err_clear(&err);
	sender = json_get_str(body, "sender");
	text = json_get_str(body, "message");
	if (sender == NULL || !sender_ok(sender)) {
		api_error(rc, 422, "validation_failed", "\"sender\" must be 1..128 "
		    "characters of letters, digits and _.@:-");
		return;
	}
	if (text == NULL || text[0] == '\0' ||
	    utf8_count(text, strlen(text)) > REST_MAX_TEXT_CHARS) {
		api_error(rc, 422, "validation_failed",
		    "\"message\" must be a string of 1..%d characters",
		    REST_MAX_TEXT_CHARS);
		return;
	}
	if (rest_channel(rc, channel_id, &err) != GACP_OK) {
		api_error_from(rc, &err);
		return;
	}
	memset(&d, 0, sizeof(d));
	d.db = &rc->app->db;
	d.models = rc->app->models;
	d.parser = api_nlu_parser(rc, &err);
	/* As the worker does: the tenant's (or platform's) system
	 * configuration first, then gacp.conf. */
	d.handoff_intent = syscfg_get_str(rc->app, rc->arena, rc->tenant_id,
	    config_get(&rc->app->cfg, "config.environment", "production"),
	    "flow.handoff_intent", config_get(&rc->app->cfg,
	    "flow.handoff_intent", NULL));
	d.metrics = rc->app->metrics;
	d.parse_hist = MH_NLU_PARSE_REST;
	if (d.parser == NULL) {
		api_error_from(rc, &err);
		return;
	}
	util_uuid_v4(mid);
	memset(&in, 0, sizeof(in));
	in.tenant_id = rc->tenant_id;
	in.channel_id = channel_id;
	in.psid = sender;
	in.mid = mid;
	in.kind = "text";
	in.text = text;
	in.timestamp_ms = started_us / 1000;
	if (mx_dialogue_turn(&d, rc->arena, &in, &reply, &err) != GACP_OK) {
		api_error_from(rc, &err);
		return;
	}
	out = json_object_new_array();
	json_arena_own(rc->arena, out);
	if (reply.id != NULL) {
		/* Delivered by this very response. */
		if (db_begin(d.db, rc->arena, rc->tenant_id, &err) != GACP_OK ||
		    mxs_reply_finish(d.db, rc->arena, rc->tenant_id, &reply, "sent",
		    NULL, (long)((util_wall_us() - started_us) / 1000), &err) != GACP_OK ||
		    db_commit(d.db, rc->arena, &err) != GACP_OK) {
			db_rollback(d.db, rc->arena);
			api_error_from(rc, &err);
			return;
		}
		msg = json_object_new_object();
		json_object_object_add(msg, "recipient_id", json_object_new_string(sender));
		json_object_object_add(msg, "text", json_object_new_string(
		    reply.text ? reply.text : ""));
		payload = json_tokener_parse(reply.payload_json ? reply.payload_json : "{}");
		if (payload != NULL && json_object_object_get_ex(payload, "quick_replies", &qr) &&
		    json_object_array_length(qr) > 0)
			json_object_object_add(msg, "buttons", json_object_get(qr));
		json_object_put(payload);
		json_object_array_add(out, msg);
	}
	api_json(rc, 200, out);
}
