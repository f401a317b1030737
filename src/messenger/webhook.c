/* webhook.c - Messenger webhook payload validation and event extraction. */
#include "messenger/webhook.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/utf8.h"

#include <string.h>

/* Reading one request's body: the scanned text and the arena strings
 * are decoded into.  nul_key remembers a string field that held a NUL:
 * str_field() gives NULL for it, and the error then names the real
 * problem instead of a "missing" field. */
struct reader {
	const struct jscan *js;
	struct arena       *a;
	const char         *nul_key;
};

static int
invalid(const struct reader *r, struct gacp_err *err, const char *what)
{
	if (r->nul_key != NULL)
		return gacp_err_set(err, GACP_EINVAL, "invalid_webhook",
		    "\"%s\" holds a NUL character (\\u0000)", r->nul_key);
	return gacp_err_set(err, GACP_EINVAL, "invalid_webhook", "%s", what);
}

static const char *
str_field(struct reader *r, uint32_t obj, const char *key)
{
	uint32_t v = jscan_member(r->js, obj, key);
	size_t len;
	char *s;

	if ((s = jscan_string(r->js, v, r->a, &len)) == NULL)
		return NULL;
	if (strlen(s) != len) {
		r->nul_key = key;
		return NULL;
	}
	return s;
}

static int
numeric_id(const char *s)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 32)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* The entry array of the envelope, or JSCAN_NONE with *rc set. */
static uint32_t
entries_of(struct reader *r, struct gacp_err *err, int *rc)
{
	const char *object;
	uint32_t entry;

	*rc = GACP_OK;
	if (!jscan_is(r->js, 0, JSCAN_OBJECT)) {
		*rc = invalid(r, err, "webhook body must be a JSON object");
		return JSCAN_NONE;
	}
	object = str_field(r, 0, "object");
	if (object == NULL || strcmp(object, "page") != 0) {
		*rc = invalid(r, err, "webhook object must be \"page\"");
		return JSCAN_NONE;
	}
	entry = jscan_member(r->js, 0, "entry");
	if (!jscan_is(r->js, entry, JSCAN_ARRAY) ||
	    r->js->tok[entry].count == 0 ||
	    r->js->tok[entry].count > MX_MAX_ENTRIES) {
		*rc = invalid(r, err, "webhook entry must be a non-empty array "
		    "of at most 1000 entries");
		return JSCAN_NONE;
	}
	return entry;
}

int
mx_webhook_pages(const struct jscan *body, struct arena *a,
    struct mx_batch *batch, struct gacp_err *err)
{
	struct reader r = { body, a, NULL };
	uint32_t entries, e;
	size_t j;
	int rc;

	memset(batch, 0, sizeof(*batch));
	if ((entries = entries_of(&r, err, &rc)) == JSCAN_NONE)
		return rc;
	batch->page_ids = arena_calloc(a, body->tok[entries].count,
	    sizeof(*batch->page_ids));
	for (e = jscan_first(body, entries); e != JSCAN_NONE;
	    e = jscan_next(body, entries, e)) {
		const char *id = str_field(&r, e, "id");

		if (!numeric_id(id))
			return invalid(&r, err,
			    "every entry needs a numeric page id");
		for (j = 0; j < batch->npages; j++)
			if (strcmp(batch->page_ids[j], id) == 0)
				break;
		if (j == batch->npages)
			batch->page_ids[batch->npages++] = id;
	}
	return GACP_OK;
}

/* Events that need no answer. */
static int
ignorable(const struct jscan *js, uint32_t ev)
{
	uint32_t msg;

	if (jscan_member(js, ev, "delivery") != JSCAN_NONE ||
	    jscan_member(js, ev, "read") != JSCAN_NONE ||
	    jscan_member(js, ev, "reaction") != JSCAN_NONE ||
	    jscan_member(js, ev, "optin") != JSCAN_NONE)
		return 1;
	/* Any true-ish is_echo, as json-c's boolean reading took it: not
	 * answering the page's own message is the safe side. */
	msg = jscan_member(js, ev, "message");
	return msg != JSCAN_NONE &&
	    jscan_truthy(js, jscan_member(js, msg, "is_echo"));
}

static int
text_ok(const char *s)
{
	size_t n;

	if (s == NULL)
		return 1;
	n = strlen(s);
	return n <= MX_MAX_TEXT_BYTES && utf8_valid(s, n);
}

static int
parse_event(struct reader *r, uint32_t ev, const char *page_id,
    struct mx_event *out, struct gacp_err *err)
{
	const struct jscan *js = r->js;
	uint32_t msg, pb, att;

	memset(out, 0, sizeof(*out));
	out->page_id = page_id;
	out->psid = str_field(r, jscan_member(js, ev, "sender"), "id");
	if (!numeric_id(out->psid))
		return invalid(r, err,
		    "messaging event without a numeric sender.id");
	if (!jscan_int64(js, jscan_member(js, ev, "timestamp"),
	    &out->timestamp_ms))
		return invalid(r, err, "messaging event without a timestamp "
		    "(an integer of milliseconds)");

	if (jscan_is(js, (msg = jscan_member(js, ev, "message")),
	    JSCAN_OBJECT)) {
		out->mid = str_field(r, msg, "mid");
		if (out->mid == NULL || out->mid[0] == '\0' ||
		    strlen(out->mid) > 512)
			return invalid(r, err, "message without a mid");
		out->text = str_field(r, msg, "text");
		out->kind = MX_TEXT;
		if ((out->payload = str_field(r, jscan_member(js, msg,
		    "quick_reply"), "payload")) != NULL)
			out->kind = MX_QUICK_REPLY;
		if (jscan_is(js, (att = jscan_member(js, msg, "attachments")),
		    JSCAN_ARRAY)) {
			out->attachments = jscan_raw(js, att,
			    &out->attachments_len);
			if (out->text == NULL)
				out->kind = MX_ATTACHMENT;
		}
		if (out->text == NULL && out->attachments == NULL)
			return invalid(r, err,
			    "message has neither text nor attachments");
	} else if (jscan_is(js, (pb = jscan_member(js, ev, "postback")),
	    JSCAN_OBJECT)) {
		out->kind = MX_POSTBACK;
		out->payload = str_field(r, pb, "payload");
		out->text = str_field(r, pb, "title");
		out->mid = str_field(r, pb, "mid");
		if (out->payload == NULL)
			return invalid(r, err, "postback without a payload");
		/* Older postbacks carry no mid: the sender and timestamp
		 * identify the tap uniquely for deduplication.  An empty mid
		 * counts as none, or every such tap would share one key and
		 * all but the first be dropped as redeliveries (found by
		 * fuzz-webhook). */
		if (out->mid != NULL && strlen(out->mid) > 512)
			return invalid(r, err, "postback mid is too long");
		if (out->mid == NULL || out->mid[0] == '\0')
			out->mid = arena_sprintf(r->a, "pb:%s:%lld", out->psid,
			    (long long)out->timestamp_ms);
	} else {
		return 1;   /* an event type we do not handle: ignored */
	}
	/* A field that held a NUL and was optional (a text beside
	 * attachments, a postback title) is refused all the same. */
	if (r->nul_key != NULL)
		return invalid(r, err, "");
	if (!text_ok(out->text) || !text_ok(out->payload))
		return invalid(r, err, "text is not valid UTF-8 or too long");
	return GACP_OK;
}

int
mx_webhook_events(const struct jscan *body, struct arena *a,
    struct mx_batch *batch, struct gacp_err *err)
{
	struct reader r = { body, a, NULL };
	uint32_t entries, e, messaging, standby, ev;
	size_t cap = 0;
	int rc;

	if ((entries = entries_of(&r, err, &rc)) == JSCAN_NONE)
		return rc;
	batch->events = NULL;
	batch->nevents = batch->nignored = 0;
	for (e = jscan_first(body, entries); e != JSCAN_NONE;
	    e = jscan_next(body, entries, e)) {
		const char *page_id = str_field(&r, e, "id");

		if (!numeric_id(page_id))
			return invalid(&r, err,
			    "every entry needs a numeric page id");
		/* standby[]: another app owns the thread (handover protocol). */
		if (jscan_is(body, (standby = jscan_member(body, e, "standby")),
		    JSCAN_ARRAY))
			batch->nignored += body->tok[standby].count;
		if ((messaging = jscan_member(body, e, "messaging")) == JSCAN_NONE)
			continue;
		if (!jscan_is(body, messaging, JSCAN_ARRAY))
			return invalid(&r, err, "entry.messaging must be an array");
		for (ev = jscan_first(body, messaging); ev != JSCAN_NONE;
		    ev = jscan_next(body, messaging, ev)) {
			if (!jscan_is(body, ev, JSCAN_OBJECT))
				return invalid(&r, err,
				    "messaging event must be an object");
			if (ignorable(body, ev)) {
				batch->nignored++;
				continue;
			}
			if (batch->nevents >= MX_MAX_EVENTS)
				return invalid(&r, err,
				    "more than 1000 events in one request");
			if (batch->nevents == cap) {
				struct mx_event *grown;
				cap = cap ? cap * 4 : 4;
				grown = arena_alloc(a, cap * sizeof(*grown));
				if (batch->nevents)
					memcpy(grown, batch->events,
					    batch->nevents * sizeof(*grown));
				batch->events = grown;
			}
			rc = parse_event(&r, ev, page_id,
			    &batch->events[batch->nevents], err);
			if (rc < 0)
				return rc;
			if (rc > 0)
				batch->nignored++;
			else
				batch->nevents++;
		}
	}
	return GACP_OK;
}

char *
mx_event_to_json(struct arena *a, const struct mx_event *ev,
    const char *tenant_id, const char *channel_id, int64_t received_us)
{
	static const char *kinds[] = { "text", "quick_reply", "postback",
	    "attachment" };
	struct buf b;
	char *out;

	buf_init(&b);
	buf_puts(&b, "{\"tenant_id\":");
	buf_json_str(&b, tenant_id);
	buf_puts(&b, ",\"channel_id\":");
	buf_json_str(&b, channel_id);
	buf_puts(&b, ",\"page_id\":");
	buf_json_str(&b, ev->page_id);
	buf_puts(&b, ",\"psid\":");
	buf_json_str(&b, ev->psid);
	buf_printf(&b, ",\"timestamp_ms\":%lld,\"received_us\":%lld,\"kind\":\"%s\"",
	    (long long)ev->timestamp_ms, (long long)received_us, kinds[ev->kind]);
	buf_puts(&b, ",\"mid\":");
	buf_json_str(&b, ev->mid);
	buf_puts(&b, ",\"text\":");
	buf_json_str(&b, ev->text);
	buf_puts(&b, ",\"payload\":");
	buf_json_str(&b, ev->payload);
	if (ev->attachments != NULL) {
		/* As received: jscan checked it is strict JSON. */
		buf_puts(&b, ",\"attachments\":");
		buf_append(&b, ev->attachments, ev->attachments_len);
	}
	buf_putc(&b, '}');
	out = arena_strndup(a, b.data, b.len);
	buf_cleanup(&b);
	return out;
}
