/* dialogue.c - one conversational turn, shared by every channel (see dialogue.h). */
#include "messenger/dialogue.h"
#include "app/models.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "flow/flow.h"
#include "nlu/parse.h"
#include "store/db.h"

#include <string.h>

static void
put_json(void *p)
{
	json_object_put(p);
}

/* NLU of the event's text: intent, confidence, entities (JSON), language. */
static void
understand(struct mx_dialogue *d, struct arena *a, const struct mx_inbound *ev,
    const char **intent, float *confidence, struct json_object **entities,
    const char **language)
{
	const struct nlu_model *model = NULL;
	const char *text = ev->text;
	struct gacp_err err;
	struct buf out;
	struct json_object *res, *v, *i;
	int64_t t0;

	*intent = FLOW_FALLBACK_INTENT;
	*confidence = 0;
	*entities = NULL;
	*language = NULL;
	if (text == NULL || text[0] == '\0')
		return;
	gacp_err_clear(&err);
	if (models_get(d->models, ev->tenant_id, &model, &err) != GACP_OK) {
		log_msg(LOG_WARN, "nlu_model_unavailable", "tenant %s: %s",
		    ev->tenant_id, err.msg);
		return;
	}
	t0 = util_mono_us();
	if (nlu_parse(d->parser, model, text, strlen(text), NULL, &err) != GACP_OK)
		return;
	buf_init(&out);
	nlu_parse_json(d->parser, model, text, strlen(text), &out);
	d->parse_us = util_mono_us() - t0;
	metrics_observe(d->metrics, d->parse_hist, d->parse_us);
	res = json_tokener_parse(out.data);
	buf_cleanup(&out);
	if (res == NULL)
		return;
	arena_defer(a, put_json, res);
	if (json_object_object_get_ex(res, "intent", &i)) {
		if (json_object_object_get_ex(i, "name", &v))
			*intent = json_object_get_string(v);
		if (json_object_object_get_ex(i, "confidence", &v))
			*confidence = (float)json_object_get_double(v);
	}
	if (json_object_object_get_ex(res, "entities", &v))
		*entities = v;
	*language = json_get_str(res, "language");
}

static char *
inbound_payload(struct arena *a, const struct mx_inbound *ev)
{
	struct buf b;
	char *s;

	buf_init(&b);
	buf_puts(&b, "{\"payload\":");
	buf_json_str(&b, ev->payload);
	if (ev->attachments != NULL) {
		buf_puts(&b, ",\"attachments\":");
		buf_puts(&b, json_compact(ev->attachments));
	}
	buf_putc(&b, '}');
	s = arena_strndup(a, b.data, b.len);
	buf_cleanup(&b);
	return s;
}

static char *
reply_payload(struct arena *a, struct json_object *quick_replies)
{
	if (quick_replies == NULL)
		return arena_strdup(a, "{}");
	return arena_sprintf(a, "{\"quick_replies\":%s}", json_compact(quick_replies));
}

int
mx_dialogue_turn(struct mx_dialogue *d, struct arena *a,
    const struct mx_inbound *ev, struct mxs_message *reply,
    struct gacp_err *err)
{
	struct db *db = d->db;
	struct mxs_conversation conv;
	struct mxs_message in;
	struct mxs_understanding nlu;
	struct flow_response *rs = NULL;
	struct flow_input fin;
	struct flow_output fout;
	struct json_object *entities = NULL;
	const char *intent, *language;
	float confidence;
	size_t nrs = 0;
	unsigned int rnd = 0;
	int rc;

	memset(reply, 0, sizeof(*reply));
	d->parse_us = 0;
	/* The NLU first, outside the transaction: it needs no database, and
	 * its result is stored with the message in the same INSERT.  A
	 * redelivered event parses for nothing (tens of microseconds) rather
	 * than every event paying a separate UPDATE. */
	understand(d, a, ev, &intent, &confidence, &entities, &language);
	nlu.intent = intent;
	nlu.confidence = confidence;
	nlu.entities_json = entities ? json_compact(entities) : NULL;
	nlu.language = language;
	if ((rc = db_begin(db, a, ev->tenant_id, err)) != GACP_OK)
		return rc;
	if ((rc = mxs_conversation_lock(db, a, ev->tenant_id, ev->channel_id,
	    ev->psid, &conv, err)) != GACP_OK ||
	    (rc = mxs_inbound_store(db, a, ev->tenant_id, ev->channel_id, &conv,
	    ev->mid, ev->kind, ev->text, inbound_payload(a, ev), ev->timestamp_ms,
	    &nlu, &in, err)) != GACP_OK)
		goto fail;
	/* Redelivered: the message and everything its turn did were
	 * committed together, so the turn is done; hand back its reply (if
	 * it made one) for delivery. */
	if (!in.created) {
		if ((rc = mxs_reply_find(db, a, ev->tenant_id, ev->channel_id,
		    in.id, reply, err)) != GACP_OK)
			goto fail;
		return db_commit(db, a, err);
	}
	if ((rc = mxs_responses_load(db, a, ev->tenant_id, &rs, &nrs, err)) != GACP_OK)
		goto fail;
	memset(&fin, 0, sizeof(fin));
	(void)util_random(&rnd, sizeof(rnd));
	fin.conversation_status = conv.status;
	fin.state = conv.state;
	fin.payload = ev->payload;
	fin.intent = intent;
	fin.confidence = confidence;
	fin.entities = entities;
	fin.language = language;
	fin.handoff_intent = d->handoff_intent;
	fin.random = rnd;
	if ((rc = flow_decide(&fin, rs, nrs, a, &fout, err)) != GACP_OK)
		goto fail;
	if (fout.reply && (rc = mxs_reply_create(db, a, ev->tenant_id,
	    ev->channel_id, &conv, in.id, fout.text,
	    reply_payload(a, fout.quick_replies), fout.intent, language, reply,
	    err)) != GACP_OK)
		goto fail;
	if (fout.used != NULL && fout.rr_used >= 0 && fout.used->selection != NULL &&
	    strcmp(fout.used->selection, "round_robin") == 0 &&
	    (rc = mxs_response_advance(db, a, ev->tenant_id, fout.used->id,
	    err)) != GACP_OK)
		goto fail;
	if ((rc = mxs_conversation_save(db, a, ev->tenant_id, &conv,
	    fout.handoff ? "handoff" : conv.status, fout.state, language,
	    true, err)) != GACP_OK)
		goto fail;
	return db_commit(db, a, err);
fail:
	db_rollback(db, a);
	return rc;
}

