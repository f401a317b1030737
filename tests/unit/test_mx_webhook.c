/* test_mx_webhook.c - unit tests of Messenger webhook payload reading (messenger/webhook.c). */
#include "tests.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/jscan.h"
#include "common/json.h"
#include "messenger/webhook.h"

#include <stdio.h>
#include <string.h>

/* Scan body and read its events; returns mx_webhook_events()'s result. */
static int
events_of(struct arena *a, const char *body, struct mx_batch *batch,
    struct gacp_err *err)
{
	struct jscan js;

	memset(batch, 0, sizeof(*batch));
	gacp_err_clear(err);
	CU_ASSERT_EQUAL_FATAL(jscan_parse(a, body, strlen(body), JSON_MAX_DEPTH,
	    &js, err), GACP_OK);
	return mx_webhook_events(&js, a, batch, err);
}

/* Found by fuzz-webhook: a postback with "mid": "" kept the empty mid, so
 * every such tap shared one deduplication key.  It now gets the same
 * synthesised mid as a postback without one; an oversized mid is
 * refused. */
static void
test_postback_mid(void)
{
	static const char body[] = "{\"object\":\"page\",\"entry\":[{\"id\":\"1\","
	    "\"messaging\":[{\"sender\":{\"id\":\"2\"},\"timestamp\":3,"
	    "\"postback\":{\"payload\":\"/x\",\"mid\":\"\"}},"
	    "{\"sender\":{\"id\":\"2\"},\"timestamp\":4,"
	    "\"postback\":{\"payload\":\"/y\"}}]}]}";
	struct mx_batch batch;
	struct gacp_err err;
	struct arena a;
	char big[700], *oversized;

	arena_init(&a, 4096);
	CU_ASSERT_EQUAL_FATAL(events_of(&a, body, &batch, &err), GACP_OK);
	CU_ASSERT_EQUAL_FATAL(batch.nevents, 2);
	CU_ASSERT_STRING_EQUAL(batch.events[0].mid, "pb:2:3");
	CU_ASSERT_STRING_EQUAL(batch.events[1].mid, "pb:2:4");

	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	oversized = arena_sprintf(&a, "{\"object\":\"page\",\"entry\":[{\"id\":"
	    "\"1\",\"messaging\":[{\"sender\":{\"id\":\"2\"},\"timestamp\":3,"
	    "\"postback\":{\"payload\":\"/x\",\"mid\":\"%s\"}}]}]}", big);
	CU_ASSERT_EQUAL(events_of(&a, oversized, &batch, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "invalid_webhook");
	arena_cleanup(&a);
}

/* Every entry and every messaging event of a batch, each kind, and the
 * events that need no answer counted as ignored. */
static void
test_batch_kinds(void)
{
	static const char body[] = "{\"object\":\"page\",\"entry\":["
	    "{\"id\":\"10\",\"time\":1,\"messaging\":["
	    "{\"sender\":{\"id\":\"7\"},\"recipient\":{\"id\":\"10\"},\"timestamp\":100,"
	    "\"message\":{\"mid\":\"m1\",\"text\":\"caf\\u00e9 \\ud83c\\udf3f\"}},"
	    "{\"sender\":{\"id\":\"7\"},\"timestamp\":101,\"message\":{\"mid\":\"m2\","
	    "\"text\":\"Yes\",\"quick_reply\":{\"payload\":\"YES\"}}},"
	    "{\"sender\":{\"id\":\"7\"},\"timestamp\":102,\"message\":{\"mid\":\"m3\","
	    "\"attachments\": [ {\"type\":\"image\",\"payload\":{\"url\":\"https:\\/\\/x\"}} ]}},"
	    "{\"sender\":{\"id\":\"10\"},\"timestamp\":103,\"message\":{\"mid\":\"m4\","
	    "\"is_echo\":true,\"text\":\"bot said\"}},"
	    "{\"sender\":{\"id\":\"7\"},\"timestamp\":104,\"delivery\":{\"mids\":[\"m1\"]}},"
	    "{\"sender\":{\"id\":\"7\"},\"timestamp\":105,\"read\":{\"watermark\":1}}]},"
	    "{\"id\":\"11\",\"time\":2,\"standby\":[{\"sender\":{\"id\":\"8\"}},{}],"
	    "\"messaging\":[{\"sender\":{\"id\":\"9\"},\"timestamp\":200,"
	    "\"postback\":{\"title\":\"Start\",\"payload\":\"GET_STARTED\",\"mid\":\"p1\"}}]}]}";
	struct mx_batch pages, batch;
	struct gacp_err err;
	struct jscan js;
	struct arena a;
	struct json_object *rec;
	char *rec_text;

	arena_init(&a, 4096);
	CU_ASSERT_EQUAL_FATAL(jscan_parse(&a, body, strlen(body), JSON_MAX_DEPTH,
	    &js, &err), GACP_OK);
	CU_ASSERT_EQUAL_FATAL(mx_webhook_pages(&js, &a, &pages, &err), GACP_OK);
	CU_ASSERT_EQUAL_FATAL(pages.npages, 2);
	CU_ASSERT_STRING_EQUAL(pages.page_ids[0], "10");
	CU_ASSERT_STRING_EQUAL(pages.page_ids[1], "11");

	CU_ASSERT_EQUAL_FATAL(events_of(&a, body, &batch, &err), GACP_OK);
	CU_ASSERT_EQUAL_FATAL(batch.nevents, 4);
	/* echo, delivery, read and two standby events */
	CU_ASSERT_EQUAL(batch.nignored, 5);
	CU_ASSERT_EQUAL(batch.events[0].kind, MX_TEXT);
	CU_ASSERT_STRING_EQUAL(batch.events[0].text, "caf\xc3\xa9 \xf0\x9f\x8c\xbf");
	CU_ASSERT_STRING_EQUAL(batch.events[0].psid, "7");
	CU_ASSERT_STRING_EQUAL(batch.events[0].page_id, "10");
	CU_ASSERT_EQUAL(batch.events[0].timestamp_ms, 100);
	CU_ASSERT_EQUAL(batch.events[1].kind, MX_QUICK_REPLY);
	CU_ASSERT_STRING_EQUAL(batch.events[1].payload, "YES");
	CU_ASSERT_EQUAL(batch.events[2].kind, MX_ATTACHMENT);
	CU_ASSERT_PTR_NULL(batch.events[2].text);
	CU_ASSERT_EQUAL_FATAL(batch.events[2].attachments_len,
	    strlen("[ {\"type\":\"image\",\"payload\":{\"url\":\"https:\\/\\/x\"}} ]"));
	CU_ASSERT_EQUAL(memcmp(batch.events[2].attachments, "[ {\"type\"", 9), 0);
	CU_ASSERT_EQUAL(batch.events[3].kind, MX_POSTBACK);
	CU_ASSERT_STRING_EQUAL(batch.events[3].page_id, "11");
	CU_ASSERT_STRING_EQUAL(batch.events[3].payload, "GET_STARTED");
	CU_ASSERT_STRING_EQUAL(batch.events[3].text, "Start");
	CU_ASSERT_STRING_EQUAL(batch.events[3].mid, "p1");

	/* The queued record carries the attachments as one JSON array. */
	rec_text = mx_event_to_json(&a, &batch.events[2], "t", "c", 5);
	CU_ASSERT_EQUAL_FATAL(json_parse_arena(&a, rec_text, strlen(rec_text),
	    &rec, &err), GACP_OK);
	CU_ASSERT_EQUAL(json_object_array_length(json_get_array(rec,
	    "attachments")), 1);
	CU_ASSERT_STRING_EQUAL(json_get_str(json_object_object_get(
	    json_object_array_get_idx(json_get_array(rec, "attachments"), 0),
	    "payload"), "url"), "https://x");
	CU_ASSERT_STRING_EQUAL(json_get_str(rec, "kind"), "attachment");
	arena_cleanup(&a);
}

/* Refused bodies: each with code invalid_webhook and nothing read. */
static void
test_refused(void)
{
	static const struct { const char *body, *msg; } cases[] = {
		{ "[]", "must be a JSON object" },
		{ "{\"object\":\"user\",\"entry\":[{\"id\":\"1\"}]}", "\"page\"" },
		{ "{\"object\":\"page\",\"entry\":[]}", "non-empty array" },
		{ "{\"object\":\"page\",\"entry\":{}}", "non-empty array" },
		{ "{\"object\":\"page\",\"entry\":[{\"id\":1}]}", "numeric page id" },
		{ "{\"object\":\"page\",\"entry\":[{\"id\":\"1x\"}]}", "numeric page id" },
		{ "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":{}}]}",
		  "must be an array" },
		{ "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":[3]}]}",
		  "must be an object" },
		{ "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":[{"
		  "\"sender\":{\"id\":\"2\"},\"timestamp\":1.5,\"message\":{\"mid\":\"m\","
		  "\"text\":\"x\"}}]}]}", "timestamp" },
		{ "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":[{"
		  "\"sender\":{\"id\":\"2\"},\"timestamp\":99999999999999999999,"
		  "\"message\":{\"mid\":\"m\",\"text\":\"x\"}}]}]}", "timestamp" },
		{ "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":[{"
		  "\"sender\":{\"id\":\"2\"},\"timestamp\":1,\"message\":{\"text\":\"x\"}}]}]}",
		  "without a mid" },
		{ "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":[{"
		  "\"sender\":{\"id\":\"2\"},\"timestamp\":1,\"message\":{\"mid\":\"m\"}}]}]}",
		  "neither text nor attachments" },
		/* A NUL would cut the text short in C: refused, and named. */
		{ "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":[{"
		  "\"sender\":{\"id\":\"2\"},\"timestamp\":1,\"message\":{\"mid\":\"m\","
		  "\"text\":\"a\\u0000b\",\"attachments\":[]}}]}]}", "\"text\" holds a NUL" },
		{ "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":[{"
		  "\"sender\":{\"id\":\"2\\u0000\"},\"timestamp\":1,\"message\":{\"mid\":\"m\","
		  "\"text\":\"x\"}}]}]}", "\"id\" holds a NUL" },
		{ "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":[{"
		  "\"sender\":{\"id\":\"2\"},\"timestamp\":1,\"postback\":{\"title\":\"x\"}}]}]}",
		  "postback without a payload" },
	};
	struct mx_batch batch;
	struct gacp_err err;
	struct arena a;
	size_t i;

	arena_init(&a, 4096);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = events_of(&a, cases[i].body, &batch, &err);

		CU_ASSERT_EQUAL(rc, GACP_EINVAL);
		CU_ASSERT_STRING_EQUAL(err.code, "invalid_webhook");
		if (strstr(err.msg, cases[i].msg) == NULL) {
			fprintf(stderr, "case %zu: \"%s\" lacks \"%s\"\n", i,
			    err.msg, cases[i].msg);
			CU_FAIL("error message does not name the problem");
		}
		arena_reset(&a);
	}
	arena_cleanup(&a);
}

/* is_echo read as json-c's boolean did: anything true-ish is an echo. */
static void
test_echo_truthy(void)
{
	static const struct { const char *v; size_t ignored; } cases[] = {
		{ "true", 1 }, { "1", 1 }, { "\"yes\"", 1 }, { "0.5", 1 },
		{ "false", 0 }, { "0", 0 }, { "null", 0 }, { "\"\"", 0 },
		{ "-0.0", 0 }, { "[]", 0 },
	};
	struct mx_batch batch;
	struct gacp_err err;
	struct arena a;
	size_t i;

	arena_init(&a, 4096);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body = arena_sprintf(&a, "{\"object\":\"page\",\"entry\":[{"
		    "\"id\":\"1\",\"messaging\":[{\"sender\":{\"id\":\"2\"},"
		    "\"timestamp\":1,\"message\":{\"mid\":\"m\",\"text\":\"x\","
		    "\"is_echo\":%s}}]}]}", cases[i].v);

		CU_ASSERT_EQUAL_FATAL(events_of(&a, body, &batch, &err), GACP_OK);
		CU_ASSERT_EQUAL(batch.nignored, cases[i].ignored);
		CU_ASSERT_EQUAL(batch.nevents, 1 - cases[i].ignored);
		arena_reset(&a);
	}
	arena_cleanup(&a);
}

static const struct test_case cases[] = {
	{ "postback mid empty or oversized", test_postback_mid },
	{ "batched entries, every kind, ignored events", test_batch_kinds },
	{ "malformed events refused with a named reason", test_refused },
	{ "is_echo taken as json-c's boolean", test_echo_truthy },
	{ NULL, NULL }
};

void
test_mx_webhook_register(void)
{
	tests_add_suite("mx_webhook", cases);
}
