/* test_mx_rest.c - unit tests of the Messenger REST services' checks that need no database: field checks (messenger/fields.c) and the rejection of invalid response sets (messenger/responses_svc.c).
 *
 * An invalid set is refused before any SQL runs, so the services can be
 * called here with no process context behind the svc (s.app is NULL: a
 * database call would crash the test, which is the point).
 */
#include "tests.h"
#include "fixture.h"
#include "common/arena.h"
#include "common/config.h"
#include "common/json.h"
#include "messenger/fields.h"
#include "messenger/responses_svc.h"
#include "tenancy/tenancy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct json_object *
parse(struct fixture *f, const char *text)
{
	struct json_object *o = NULL;
	struct gacp_err err;

	CU_ASSERT_EQUAL_FATAL(json_parse_arena(&f->a, text, strlen(text), &o,
	    &err), GACP_OK);
	return o;
}

/* ---- fields.c ------------------------------------------------------------ */

static void
test_text(void)
{
	struct fixture f;
	struct json_object *v;
	char *thai;
	size_t i;

	fixture_init(&f);
	CU_ASSERT_PTR_NULL(mx_field_text(&f.s, NULL, "text", 10));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "text", "required"));
	v = parse(&f, "42");
	CU_ASSERT_PTR_NULL(mx_field_text(&f.s, v, "n", 10));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "n", "invalid_type"));
	v = parse(&f, "\"\"");
	CU_ASSERT_PTR_NULL(mx_field_text(&f.s, v, "empty", 10));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "empty", "required"));
	v = parse(&f, "\"a\\u0000b\"");
	CU_ASSERT_PTR_NULL(mx_field_text(&f.s, v, "nul", 10));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "nul", "invalid_characters"));
	v = parse(&f, "\"bell\\u0007\"");
	CU_ASSERT_PTR_NULL(mx_field_text(&f.s, v, "bell", 10));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "bell", "invalid_characters"));
	v = parse(&f, "\"del\\u007f\"");
	CU_ASSERT_PTR_NULL(mx_field_text(&f.s, v, "del", 10));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "del", "invalid_characters"));
	CU_ASSERT_EQUAL(fixture_nerrors(&f.s), 6);

	/* Line breaks and tabs belong in messages. */
	v = parse(&f, "\"line 1\\r\\nline\\t2\"");
	CU_ASSERT_STRING_EQUAL(mx_field_text(&f.s, v, "ok", 20),
	    "line 1\r\nline\t2");
	/* Characters, not bytes: 5 Thai characters are 15 bytes. */
	v = parse(&f, "\"สวัสดี\"");
	CU_ASSERT_PTR_NOT_NULL(mx_field_text(&f.s, v, "thai", 6));
	CU_ASSERT_PTR_NULL(mx_field_text(&f.s, v, "thai5", 5));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "thai5", "too_long"));
	thai = malloc(3 * MX_TEXT_MAX_CHARS + 3);
	thai[0] = '"';
	for (i = 0; i < MX_TEXT_MAX_CHARS; i++)
		memcpy(thai + 1 + 3 * i, "ก", 3);
	strcpy(thai + 1 + 3 * MX_TEXT_MAX_CHARS, "\"");
	v = parse(&f, thai);
	CU_ASSERT_PTR_NOT_NULL(mx_field_text(&f.s, v, "max", MX_TEXT_MAX_CHARS));
	CU_ASSERT_PTR_NULL(mx_field_text(&f.s, v, "over", MX_TEXT_MAX_CHARS - 1));
	free(thai);
	CU_ASSERT_EQUAL(fixture_nerrors(&f.s), 8);
	/* Invalid UTF-8 (json-c makes such strings from raw bytes). */
	v = json_object_new_string_len("caf\xc3", 4);
	CU_ASSERT_PTR_NULL(mx_field_text(&f.s, v, "utf8", 10));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "utf8", "invalid_characters"));
	json_object_put(v);
	fixture_cleanup(&f);
}

static void
test_datetime(void)
{
	static const char *good[] = { "2024-02-29T00:00:00Z",
	    "2000-02-29T23:59:59.5+07:00", "2026-12-31T12:00:00-03:30", NULL };
	static const char *bad[] = { "2026-02-29T00:00:00Z",
	    "2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-01-31",
	    "2026-01-31 12:00:00Z", "0000-01-01T00:00:00Z", "", NULL };
	struct fixture f;
	size_t i;

	fixture_init(&f);
	CU_ASSERT_TRUE(mx_field_datetime(&f.s, "since", NULL));
	for (i = 0; good[i] != NULL; i++)
		CU_ASSERT_TRUE(mx_field_datetime(&f.s, "since", good[i]));
	CU_ASSERT_EQUAL(fixture_nerrors(&f.s), 0);
	for (i = 0; bad[i] != NULL; i++)
		CU_ASSERT_FALSE(mx_field_datetime(&f.s, "since", bad[i]));
	CU_ASSERT_EQUAL(fixture_nerrors(&f.s), i);
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "since", "invalid_format"));
	fixture_cleanup(&f);
}

static void
test_one_of_and_metadata(void)
{
	static const char *const statuses[] = { "bot", "handoff", NULL };
	struct fixture f;
	struct json_object *body, *e;
	char big[9000];

	fixture_init(&f);
	CU_ASSERT_TRUE(mx_field_one_of(&f.s, "status", NULL, statuses));
	CU_ASSERT_TRUE(mx_field_one_of(&f.s, "status", "handoff", statuses));
	CU_ASSERT_FALSE(mx_field_one_of(&f.s, "status", "Bot", statuses));
	CU_ASSERT_EQUAL_FATAL(fixture_nerrors(&f.s), 1);
	e = json_object_array_get_idx(f.s.field_errors, 0);
	CU_ASSERT_STRING_EQUAL(json_get_str(e, "message"),
	    "must be one of: bot, handoff");

	body = parse(&f, "{\"metadata\":{\"b\":1,\"a\":[true]}}");
	CU_ASSERT_STRING_EQUAL(mx_field_metadata(&f.s, body, "metadata"),
	    "{\"b\":1,\"a\":[true]}");
	body = parse(&f, "{\"metadata\":null}");
	CU_ASSERT_PTR_NULL(mx_field_metadata(&f.s, body, "metadata"));
	body = parse(&f, "{\"metadata\":\"x\"}");
	CU_ASSERT_PTR_NULL(mx_field_metadata(&f.s, body, "metadata"));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "metadata", "invalid_type"));
	snprintf(big, sizeof(big), "{\"metadata\":{\"k\":\"%08200d\"}}", 0);
	body = parse(&f, big);
	CU_ASSERT_PTR_NULL(mx_field_metadata(&f.s, body, "metadata"));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "metadata", "too_long"));
	CU_ASSERT_EQUAL(fixture_nerrors(&f.s), 3);
	fixture_cleanup(&f);
}

/* ---- responses_svc.c ----------------------------------------------------- */

/* Replace with an invalid set: must be validation_failed, no SQL. */
static void
expect_rejected_json(struct fixture *f, const char *text)
{
	struct response_row *rows = NULL;
	struct gacp_err err;
	size_t n = 0;

	gacp_err_clear(&err);
	CU_ASSERT_EQUAL(responses_replace_json(&f->s, parse(f, text), &rows,
	    &n, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "validation_failed");
	CU_ASSERT_PTR_NULL(rows);
}

static void
test_responses_limits(void)
{
	struct fixture f;
	char *text;
	size_t i, len;

	fixture_init(&f);
	expect_rejected_json(&f, "{\"responses\":{}}");
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "responses", "invalid_type"));
	fixture_cleanup(&f);

	fixture_init(&f);
	expect_rejected_json(&f, "{\"responses\":[7,{\"intent\":\"%0101d\"}]}");
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "responses[0]", "invalid_type"));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "responses[1].intent", "invalid_format"));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "responses[1].language", "required"));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "responses[1].templates", "required"));
	fixture_cleanup(&f);

	/* 51 templates, 14 quick replies, 11 slots: one past each limit. */
	fixture_init(&f);
	text = malloc(16384);
	len = (size_t)sprintf(text, "{\"responses\":[{\"intent\":\"a\","
	    "\"language\":\"en\",\"templates\":[");
	for (i = 0; i < 51; i++)
		len += (size_t)sprintf(text + len, "%s\"t\"", i ? "," : "");
	len += (size_t)sprintf(text + len, "]},{\"intent\":\"b\",\"language\":"
	    "\"en\",\"templates\":[\"t\"],\"quick_replies\":[");
	for (i = 0; i < 14; i++)
		len += (size_t)sprintf(text + len, "%s{\"title\":\"q\","
		    "\"payload\":\"/q\"}", i ? "," : "");
	len += (size_t)sprintf(text + len, "]},{\"intent\":\"c\",\"language\":"
	    "\"en\",\"templates\":[\"t\"],\"required_slots\":[");
	for (i = 0; i < 11; i++)
		len += (size_t)sprintf(text + len, "%s{\"slot\":\"s%zu\","
		    "\"prompt\":\"?\"}", i ? "," : "", i);
	sprintf(text + len, "]}]}");
	expect_rejected_json(&f, text);
	free(text);
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "responses[0].templates", "invalid_type"));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "responses[1].quick_replies",
	    "invalid_type"));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "responses[2].required_slots",
	    "invalid_type"));
	CU_ASSERT_EQUAL(fixture_nerrors(&f.s), 3);
	fixture_cleanup(&f);

	/* Slot and entity names, quick-reply members. */
	fixture_init(&f);
	expect_rejected_json(&f, "{\"responses\":[{\"intent\":\"a\","
	    "\"language\":\"en\",\"templates\":[\"t\"],\"required_slots\":"
	    "[{\"slot\":\"the date\",\"entity\":\"d-t\",\"prompt\":\"?\"},"
	    "\"date\"],\"quick_replies\":[{\"title\":\"t\",\"payload\":\"p\","
	    "\"image_url\":\"x\"},{\"title\":\"t\"}],\"max_turns\":2.5}]}");
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "responses[0].required_slots[0].slot",
	    "invalid_format"));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "responses[0].required_slots[0].entity",
	    "invalid_format"));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "responses[0].required_slots[1]",
	    "invalid_type"));
	CU_ASSERT_TRUE(fixture_has_error(&f.s,
	    "responses[0].quick_replies[0].image_url", "unknown_field"));
	CU_ASSERT_TRUE(fixture_has_error(&f.s,
	    "responses[0].quick_replies[1].payload", "required"));
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "responses[0].max_turns",
	    "out_of_range"));
	fixture_cleanup(&f);
}

static void
test_responses_error_cap(void)
{
	struct fixture f;
	char *text;
	size_t i, len;

	/* Thousands of bad rows give a bounded list of problems. */
	fixture_init(&f);
	text = malloc(4096 * 8 + 64);
	len = (size_t)sprintf(text, "{\"responses\":[");
	for (i = 0; i < 4096; i++)
		len += (size_t)sprintf(text + len, "%s{}", i ? "," : "");
	sprintf(text + len, "]}");
	expect_rejected_json(&f, text);
	CU_ASSERT_TRUE(fixture_nerrors(&f.s) >= 100);
	CU_ASSERT_TRUE(fixture_nerrors(&f.s) < 110);
	fixture_cleanup(&f);

	/* One row more than a set may hold. */
	fixture_init(&f);
	len = (size_t)sprintf(text, "{\"responses\":[");
	for (i = 0; i < 4097; i++)
		len += (size_t)sprintf(text + len, "%s{}", i ? "," : "");
	sprintf(text + len, "]}");
	expect_rejected_json(&f, text);
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "responses", "invalid_type"));
	CU_ASSERT_EQUAL(fixture_nerrors(&f.s), 1);
	fixture_cleanup(&f);
	free(text);
}

static void
test_responses_yaml_rejected(void)
{
	static const char no_prompt[] =
	    "responses:\n"
	    "  utter_schedule_inspection:\n"
	    "    - text: Booked for {date}.\n"
	    "forms:\n"
	    "  schedule_inspection_form:\n"
	    "    required_slots:\n"
	    "      - date\n";
	static const char bad_button[] =
	    "responses:\n"
	    "  utter_greet:\n"
	    "    - text: Hello\n"
	    "      buttons:\n"
	    "        - title: A button title far too long for Messenger\n"
	    "          payload: /greet\n";
	struct response_row *rows = NULL;
	struct gacp_err err;
	struct fixture f;
	size_t n = 0;

	fixture_init(&f);
	CU_ASSERT_EQUAL(responses_replace_yaml(&f.s, "responses: [\xff]", 14,
	    &rows, &n, &err), GACP_EINVAL);
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "body", "invalid_characters"));
	fixture_cleanup(&f);

	fixture_init(&f);
	CU_ASSERT_EQUAL(responses_replace_yaml(&f.s, "intents: [greet]\n", 17,
	    &rows, &n, &err), GACP_EINVAL);
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "body", "invalid_domain"));
	fixture_cleanup(&f);

	fixture_init(&f);
	CU_ASSERT_EQUAL(responses_replace_yaml(&f.s, no_prompt,
	    sizeof(no_prompt) - 1, &rows, &n, &err), GACP_EINVAL);
	CU_ASSERT_TRUE(fixture_has_error(&f.s, "body", "invalid_domain"));
	fixture_cleanup(&f);

	fixture_init(&f);
	CU_ASSERT_EQUAL(responses_replace_yaml(&f.s, bad_button,
	    sizeof(bad_button) - 1, &rows, &n, &err), GACP_EINVAL);
	CU_ASSERT_TRUE(fixture_has_error(&f.s,
	    "responses.utter_greet[en].quick_replies[0].title", "too_long"));
	CU_ASSERT_PTR_NULL(rows);
	fixture_cleanup(&f);
}

void
test_mx_rest_register(void)
{
	static const struct test_case cases[] = {
		{ "message text checks", test_text },
		{ "RFC 3339 date-times of real days", test_datetime },
		{ "one-of values and metadata objects", test_one_of_and_metadata },
		{ "response set limits and formats", test_responses_limits },
		{ "a huge invalid set gives a bounded error list",
		    test_responses_error_cap },
		{ "invalid domain files", test_responses_yaml_rejected },
		{ NULL, NULL },
	};

	tests_add_suite("mx_rest", cases);
}
