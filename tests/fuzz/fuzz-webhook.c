/* fuzz-webhook.c - libFuzzer target: Messenger webhook payloads (messenger/webhook.c).
 *
 * Any bytes go through the same path as POST /webhooks/messenger: the
 * strict JSON scanner (jscan), mx_webhook_pages() (before the signature check) and
 * mx_webhook_events() (after it), then mx_event_to_json() for the queue.
 * Checked beyond "no crash":
 *   - the page ids are distinct numeric strings and every event's page id
 *     is one of them; pages and events stay within MX_MAX_*;
 *   - every event has a numeric psid, a non-empty mid, a known kind, and
 *     text/payload that are valid UTF-8 of at most MX_MAX_TEXT_BYTES;
 *   - every queued record parses again (json-c and our strict parser) and
 *     carries the event's fields unchanged.
 */
#include "common/arena.h"
#include "common/err.h"
#include "common/jscan.h"
#include "common/json.h"
#include "common/utf8.h"
#include "messenger/webhook.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
numeric(const char *s)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 32)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
page_listed(const struct mx_batch *pages, const char *id)
{
	size_t i;

	for (i = 0; i < pages->npages; i++)
		if (strcmp(pages->page_ids[i], id) == 0)
			return 1;
	return 0;
}

/* The queued field key must hold exactly want (a JSON null for NULL). */
static void
check_field(struct json_object *rec, const char *key, const char *want)
{
	struct json_object *v;

	if (!json_object_object_get_ex(rec, key, &v))
		abort();
	if (want == NULL) {
		if (v != NULL)
			abort();
		return;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), want) != 0)
		abort();
}

static void
check_text(const char *s)
{
	if (s != NULL && (strlen(s) > MX_MAX_TEXT_BYTES ||
	    !utf8_valid(s, strlen(s))))
		abort();
}

static void
check_event(struct arena *a, const struct mx_batch *pages,
    const struct mx_event *ev)
{
	static const char *kinds[] = { "text", "quick_reply", "postback",
	    "attachment" };
	struct json_object *rec = NULL, *v;
	struct json_tokener *tok;
	struct gacp_err err;
	const char *js;
	size_t len;

	if (!numeric(ev->page_id) || !page_listed(pages, ev->page_id) ||
	    !numeric(ev->psid) || ev->mid == NULL || ev->mid[0] == '\0' ||
	    (unsigned)ev->kind > MX_ATTACHMENT)
		abort();
	check_text(ev->text);
	check_text(ev->payload);
	if ((ev->kind == MX_QUICK_REPLY || ev->kind == MX_POSTBACK) &&
	    ev->payload == NULL)
		abort();

	js = mx_event_to_json(a, ev, "00000000-0000-4000-8000-000000000001",
	    "chan\"nel\\1", 1700000000000000LL);
	len = strlen(js);
	/* json-c, as the worker reads it, must take the whole record... */
	tok = json_tokener_new_ex(JSON_MAX_DEPTH + 8);
	rec = json_tokener_parse_ex(tok, js, (int)len);
	if (rec == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len)
		abort();
	json_tokener_free(tok);
	/* ...and so must our strict parser. */
	json_object_put(rec);
	if (json_parse_strict(js, len, JSON_MAX_DEPTH + 8, &rec, &err) !=
	    GACP_OK || !json_object_is_type(rec, json_type_object))
		abort();
	check_field(rec, "page_id", ev->page_id);
	check_field(rec, "psid", ev->psid);
	check_field(rec, "mid", ev->mid);
	check_field(rec, "text", ev->text);
	check_field(rec, "payload", ev->payload);
	check_field(rec, "kind", kinds[ev->kind]);
	check_field(rec, "channel_id", "chan\"nel\\1");
	if (!json_object_object_get_ex(rec, "timestamp_ms", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) != ev->timestamp_ms)
		abort();
	if ((ev->attachments != NULL) !=
	    json_object_object_get_ex(rec, "attachments", &v))
		abort();
	/* Passed on as received: one JSON array. */
	if (ev->attachments != NULL && !json_object_is_type(v, json_type_array))
		abort();
	json_object_put(rec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jscan root;
	struct mx_batch pages, events;
	struct gacp_err err;
	struct arena a;
	size_t i, j;

	arena_init(&a, 4096);
	if (jscan_parse(&a, (const char *)data, size, JSON_MAX_DEPTH, &root,
	    &err) != GACP_OK)
		goto out;
	memset(&pages, 0, sizeof(pages));
	gacp_err_clear(&err);
	if (mx_webhook_pages(&root, &a, &pages, &err) != GACP_OK) {
		if (strcmp(err.code, "invalid_webhook") != 0)
			abort();
		goto out;
	}
	if (pages.npages == 0 || pages.npages > MX_MAX_ENTRIES)
		abort();
	for (i = 0; i < pages.npages; i++) {
		if (!numeric(pages.page_ids[i]))
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(pages.page_ids[i], pages.page_ids[j]) == 0)
				abort();
	}
	memset(&events, 0, sizeof(events));
	if (mx_webhook_events(&root, &a, &events, &err) != GACP_OK) {
		if (strcmp(err.code, "invalid_webhook") != 0)
			abort();
		goto out;
	}
	if (events.nevents > MX_MAX_EVENTS)
		abort();
	for (i = 0; i < events.nevents; i++)
		check_event(&a, &pages, &events.events[i]);
out:
	arena_cleanup(&a);
	return 0;
}
