/* webhook.c - Messenger webhook payload validation and event extraction. */
#include "messenger/webhook.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/utf8.h"

#include <string.h>

static int
invalid(struct gacp_err *err, const char *what)
{
	return gacp_err_set(err, GACP_EINVAL, "invalid_webhook", "%s", what);
}

static const char *
str_field(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
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

static struct json_object *
entries_of(struct json_object *root, struct gacp_err *err, int *rc)
{
	struct json_object *entry;
	const char *object;

	*rc = GACP_OK;
	if (!json_object_is_type(root, json_type_object)) {
		*rc = invalid(err, "webhook body must be a JSON object");
		return NULL;
	}
	object = str_field(root, "object");
	if (object == NULL || strcmp(object, "page") != 0) {
		*rc = invalid(err, "webhook object must be \"page\"");
		return NULL;
	}
	if (!json_object_object_get_ex(root, "entry", &entry) ||
	    !json_object_is_type(entry, json_type_array) ||
	    json_object_array_length(entry) == 0 ||
	    json_object_array_length(entry) > MX_MAX_ENTRIES) {
		*rc = invalid(err, "webhook entry must be a non-empty array "
		    "of at most 1000 entries");
		return NULL;
	}
	return entry;
}

int
mx_webhook_pages(struct json_object *root, struct arena *a,
    struct mx_batch *batch, struct gacp_err *err)
{
	struct json_object *entries;
	size_t i, j, n;
	int rc;

	memset(batch, 0, sizeof(*batch));
	if ((entries = entries_of(root, err, &rc)) == NULL)
		return rc;
	n = json_object_array_length(entries);
	batch->page_ids = arena_calloc(a, n, sizeof(*batch->page_ids));
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(entries, i);
		const char *id = json_object_is_type(e, json_type_object) ?
		    str_field(e, "id") : NULL;

		if (!numeric_id(id))
			return invalid(err, "every entry needs a numeric page id");
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
ignorable(struct json_object *ev)
{
	struct json_object *msg, *v;

	if (json_object_object_get_ex(ev, "delivery", &v) ||
	    json_object_object_get_ex(ev, "read", &v) ||
	    json_object_object_get_ex(ev, "reaction", &v) ||
	    json_object_object_get_ex(ev, "optin", &v))
		return 1;
	if (json_object_object_get_ex(ev, "message", &msg) &&
	    json_object_object_get_ex(msg, "is_echo", &v) &&
	    json_object_get_boolean(v))
		return 1;
	return 0;
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
parse_event(struct json_object *ev, const char *page_id, struct arena *a,
    struct mx_event *out, struct gacp_err *err)
{
	struct json_object *sender, *ts, *msg, *pb, *qr, *att;

	memset(out, 0, sizeof(*out));
	out->page_id = page_id;
	if (!json_object_object_get_ex(ev, "sender", &sender) ||
	    (out->psid = str_field(sender, "id")) == NULL ||
	    !numeric_id(out->psid))
		return invalid(err, "messaging event without a numeric sender.id");
	if (!json_object_object_get_ex(ev, "timestamp", &ts) ||
	    !json_object_is_type(ts, json_type_int))
		return invalid(err, "messaging event without a timestamp");
	out->timestamp_ms = json_object_get_int64(ts);

	if (json_object_object_get_ex(ev, "message", &msg) &&
	    json_object_is_type(msg, json_type_object)) {
		out->mid = str_field(msg, "mid");
		if (out->mid == NULL || out->mid[0] == '\0' || strlen(out->mid) > 512)
			return invalid(err, "message without a mid");
		out->text = str_field(msg, "text");
		out->kind = MX_TEXT;
		if (json_object_object_get_ex(msg, "quick_reply", &qr) &&
		    (out->payload = str_field(qr, "payload")) != NULL)
			out->kind = MX_QUICK_REPLY;
		if (json_object_object_get_ex(msg, "attachments", &att) &&
		    json_object_is_type(att, json_type_array)) {
			out->attachments = att;
			if (out->text == NULL)
				out->kind = MX_ATTACHMENT;
		}
		if (out->text == NULL && out->attachments == NULL)
			return invalid(err, "message has neither text nor attachments");
	} else if (json_object_object_get_ex(ev, "postback", &pb) &&
	    json_object_is_type(pb, json_type_object)) {
		out->kind = MX_POSTBACK;
		out->payload = str_field(pb, "payload");
		out->text = str_field(pb, "title");
		out->mid = str_field(pb, "mid");
		if (out->payload == NULL)
			return invalid(err, "postback without a payload");
		/* Older postbacks carry no mid: the sender and timestamp
		 * identify the tap uniquely for deduplication.  An empty mid
		 * counts as none, or every such tap would share one key and
		 * all but the first be dropped as redeliveries (found by
		 * fuzz-webhook). */
		if (out->mid != NULL && strlen(out->mid) > 512)
			return invalid(err, "postback mid is too long");
		if (out->mid == NULL || out->mid[0] == '\0')
			out->mid = arena_sprintf(a, "pb:%s:%lld", out->psid,
			    (long long)out->timestamp_ms);
	} else {
		return 1;   /* an event type we do not handle: ignored */
	}
	if (!text_ok(out->text) || !text_ok(out->payload))
		return invalid(err, "text is not valid UTF-8 or too long");
	return GACP_OK;
}

int
mx_webhook_events(struct json_object *root, struct arena *a,
    struct mx_batch *batch, struct gacp_err *err)
{
	struct json_object *entries, *messaging, *standby;
	size_t i, j, n, cap = 0;
	int rc;

	if ((entries = entries_of(root, err, &rc)) == NULL)
		return rc;
	batch->events = NULL;
	batch->nevents = batch->nignored = 0;
	n = json_object_array_length(entries);
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(entries, i);
		const char *page_id = str_field(e, "id");

		if (!numeric_id(page_id))
			return invalid(err, "every entry needs a numeric page id");
		/* standby[]: another app owns the thread (handover protocol). */
		if (json_object_object_get_ex(e, "standby", &standby) &&
		    json_object_is_type(standby, json_type_array))
			batch->nignored += json_object_array_length(standby);
		if (!json_object_object_get_ex(e, "messaging", &messaging))
			continue;
		if (!json_object_is_type(messaging, json_type_array))
			return invalid(err, "entry.messaging must be an array");
		for (j = 0; j < json_object_array_length(messaging); j++) {
			struct json_object *ev = json_object_array_get_idx(messaging, j);

			if (!json_object_is_type(ev, json_type_object))
				return invalid(err, "messaging event must be an object");
			if (ignorable(ev)) {
				batch->nignored++;
				continue;
			}
			if (batch->nevents >= MX_MAX_EVENTS)
				return invalid(err, "more than 1000 events in one request");
			if (batch->nevents == cap) {
				struct mx_event *grown;
				cap = cap ? cap * 4 : 4;
				grown = arena_alloc(a, cap * sizeof(*grown));
				if (batch->nevents)
					memcpy(grown, batch->events,
					    batch->nevents * sizeof(*grown));
				batch->events = grown;
			}
			rc = parse_event(ev, page_id, a,
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
		buf_puts(&b, ",\"attachments\":");
		buf_puts(&b, json_object_to_json_string_ext(ev->attachments,
		    JSON_C_TO_STRING_PLAIN));
	}
	buf_putc(&b, '}');
	out = arena_strndup(a, b.data, b.len);
	buf_cleanup(&b);
	return out;
}
