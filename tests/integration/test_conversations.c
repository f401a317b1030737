/* test_conversations.c - /v1/conversations through nginx with the real worker and the Graph API stand-in: the inbox, transcripts, handoff/resume, agent replies.
 *
 * Conversations come from signed webhooks for the demo page (each test
 * uses PSIDs and mids of its own), so the worker, the flow engine and the
 * stand-in ($GACP_VAR_DIR/graph-api.log) take part exactly as in
 * production.  A message "reached the person" when the stand-in logged a
 * Send API message call for the PSID and answered 200.  Tests wait by
 * polling with a deadline.
 */
#include "rest_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_MS 20000

static struct ru_cred demo;
static struct ru_tenant other;
static const char *page_id, *app_secret;

static bool
setup(void)
{
	static int state;

	if (state == 0) {
		page_id = getenv("DEMO_PAGE_ID");
		app_secret = getenv("DEMO_APP_SECRET");
		state = page_id != NULL && app_secret != NULL &&
		    ru_demo_key(&demo) && ru_make_tenant("conv", &other) ? 1 : -1;
	}
	return state == 1;
}

static void
new_psid(char out[32])
{
	ru_digits(out, 16);
}

static void
new_mid(char out[64])
{
	ru_unique("m_conv_", out, 64);
}

static bool
contains(const struct itest_response *r, const char *needle)
{
	return r->body != NULL && strstr(r->body, needle) != NULL;
}

/* Say text as psid and wait for the bot's answer; true if it came. */
static bool
say_and_wait_reply(const char *psid, const char *text)
{
	long mark = ru_graph_mark();
	char mid[64], *reply;

	new_mid(mid);
	if (ru_say(page_id, app_secret, psid, mid, text) != 200)
		return false;
	reply = ru_graph_wait(mark, psid, 1, WAIT_MS);
	free(reply);
	return reply != NULL;
}

/* The conversation of psid in the caller's inbox (its id into id), found
 * by paging the list of the last hour.  true if found. */
static bool
find_conversation(const struct ru_cred *cred, const char *psid, char id[37])
{
	struct itest_response r;
	char path[512], since[32], cursor[256] = "";
	time_t t = time(NULL) - 3600;
	struct tm tm;
	bool found = false, more = true;

	gmtime_r(&t, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	while (more && !found) {
		struct json_object *items, *e;
		size_t i;

		snprintf(path, sizeof(path), "/v1/conversations?since=%s&limit=50"
		    "%s%s", since, cursor[0] ? "&cursor=" : "", cursor);
		ru_call("GET", path, cred, NULL, NULL, &r);
		items = ru_json_at(&r, "items");
		for (i = 0; items && i < json_object_array_length(items); i++) {
			struct json_object *c, *p, *v;
			e = json_object_array_get_idx(items, i);
			if (json_object_object_get_ex(e, "contact", &c) &&
			    json_object_object_get_ex(c, "psid", &p) &&
			    strcmp(json_object_get_string(p), psid) == 0 &&
			    json_object_object_get_ex(e, "id", &v)) {
				snprintf(id, 37, "%s", json_object_get_string(v));
				found = true;
			}
		}
		more = r.status == 200 && ru_json_str(&r, "next_cursor") != NULL;
		if (more)
			snprintf(cursor, sizeof(cursor), "%s",
			    ru_json_str(&r, "next_cursor"));
		itest_response_free(&r);
	}
	return found;
}

/* GET the conversation's messages (oldest first) into r. */
static size_t
messages(const struct ru_cred *cred, const char *id, struct itest_response *r)
{
	char path[160];
	struct json_object *items;

	snprintf(path, sizeof(path), "/v1/conversations/%s/messages?limit=200",
	    id);
	ru_call("GET", path, cred, NULL, NULL, r);
	items = ru_json_at(r, "items");
	return items ? json_object_array_length(items) : 0;
}

/* Member k of message i of a messages response, or NULL. */
static const char *
msg_field(const struct itest_response *r, size_t i, const char *k)
{
	struct json_object *items = ru_json_at(r, "items"), *m, *v;

	if (items == NULL || i >= json_object_array_length(items))
		return NULL;
	m = json_object_array_get_idx(items, i);
	return json_object_object_get_ex(m, k, &v) && v != NULL ?
	    json_object_get_string(v) : NULL;
}

/* Wait until the conversation holds n messages. */
static bool
wait_messages(const char *id, size_t n)
{
	long long deadline = ru_now_ms() + WAIT_MS;
	struct itest_response r;
	size_t have;

	do {
		have = messages(&demo, id, &r);
		itest_response_free(&r);
		if (have >= n)
			return true;
		ru_sleep_ms(20);
	} while (ru_now_ms() < deadline);
	return false;
}

/* Wait until message i of the conversation has status. */
static bool
wait_status(const char *id, size_t i, const char *status)
{
	long long deadline = ru_now_ms() + WAIT_MS;
	struct itest_response r;
	const char *st;
	bool ok;

	do {
		messages(&demo, id, &r);
		st = msg_field(&r, i, "status");
		ok = st != NULL && strcmp(st, status) == 0;
		itest_response_free(&r);
		if (ok)
			return true;
		ru_sleep_ms(20);
	} while (ru_now_ms() < deadline);
	return false;
}

static long
post(const struct ru_cred *cred, const char *id, const char *what,
    const char *body, struct itest_response *r)
{
	char path[160];

	snprintf(path, sizeof(path), "/v1/conversations/%s/%s", id, what);
	ru_call("POST", path, cred, body, NULL, r);
	return r->status;
}

/* A fresh Messenger conversation the bot has answered once. */
static bool
new_conversation(char psid[32], char id[37])
{
	new_psid(psid);
	return say_and_wait_reply(psid, "hello") &&
	    find_conversation(&demo, psid, id);
}

/* ---- tests ------------------------------------------------------------- */

static void
test_query_validation(void)
{
	struct itest_response r;

	CU_ASSERT_FATAL(setup());
	ru_call("GET", "/v1/conversations?status=asleep&since=yesterday&"
	    "limit=201", &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "status", "invalid_value"));
	CU_ASSERT_TRUE(ru_field_error(&r, "since", "invalid_format"));
	CU_ASSERT_TRUE(ru_field_error(&r, "limit", "out_of_range"));
	itest_response_free(&r);
	/* Well-formed but not a day of the calendar. */
	ru_call("GET", "/v1/conversations?since=2026-02-29T00:00:00Z", &demo,
	    NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "since", "invalid_format"));
	itest_response_free(&r);
	ru_call("GET", "/v1/conversations?since=2028-02-29T00:00:00%2B07:00",
	    &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	ru_call("GET", "/v1/conversations?status=handoff&"
	    "since=2020-01-01T00:00:00Z", &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_FALSE(contains(&r, "\"status\":\"bot\""));
	itest_response_free(&r);
	ru_call("GET", "/v1/conversations/not-a-uuid", &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	itest_response_free(&r);
	ru_call("GET", "/v1/conversations/00000000-0000-4000-8000-000000000000/"
	    "messages", &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	itest_response_free(&r);
}

static void
test_conversation_and_transcript(void)
{
	struct itest_response r;
	char psid[32], id[37], path[512], cursor[256];

	CU_ASSERT_FATAL(setup());
	CU_ASSERT_FATAL(new_conversation(psid, id));
	snprintf(path, sizeof(path), "/v1/conversations/%s", id);
	ru_call("GET", path, &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	RU_ASSERT_STR(ru_json_str(&r, "status"), "bot");
	RU_ASSERT_STR(ru_json_str(&r, "contact.psid"), psid);
	RU_ASSERT_STR(ru_json_str(&r, "channel.type"), "messenger");
	CU_ASSERT_TRUE(json_object_get_boolean(ru_json_at(&r,
	    "reply_window.open")));
	CU_ASSERT_PTR_NOT_NULL(ru_json_str(&r, "reply_window.ends_at"));
	CU_ASSERT_PTR_NOT_NULL(ru_json_str(&r, "last_inbound_at"));
	CU_ASSERT_TRUE(ru_json_int(&r, "version") >= 1);
	itest_response_free(&r);

	/* Oldest first: the person's message, then the bot's answer. */
	CU_ASSERT_TRUE(wait_messages(id, 2));
	CU_ASSERT_EQUAL(messages(&demo, id, &r), 2);
	RU_ASSERT_STR(msg_field(&r, 0, "direction"), "in");
	RU_ASSERT_STR(msg_field(&r, 0, "sender"), "contact");
	RU_ASSERT_STR(msg_field(&r, 0, "text"), "hello");
	RU_ASSERT_STR(msg_field(&r, 1, "direction"), "out");
	RU_ASSERT_STR(msg_field(&r, 1, "sender"), "bot");
	RU_ASSERT_STR(msg_field(&r, 1, "status"), "sent");
	RU_ASSERT_STR(msg_field(&r, 1, "reply_to"),
	    msg_field(&r, 0, "id"));
	itest_response_free(&r);

	snprintf(path, sizeof(path), "/v1/conversations/%s/messages?limit=1", id);
	ru_call("GET", path, &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	RU_ASSERT_STR(msg_field(&r, 0, "direction"), "in");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ru_json_str(&r, "next_cursor"));
	snprintf(cursor, sizeof(cursor), "%s", ru_json_str(&r, "next_cursor"));
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/conversations/%s/messages?limit=1&"
	    "cursor=%s", id, cursor);
	ru_call("GET", path, &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	RU_ASSERT_STR(msg_field(&r, 0, "direction"), "out");
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/conversations/%s/messages?order=newest",
	    id);
	ru_call("GET", path, &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	RU_ASSERT_STR(msg_field(&r, 0, "direction"), "out");
	RU_ASSERT_STR(msg_field(&r, 1, "direction"), "in");
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/conversations/%s/messages?order=up", id);
	ru_call("GET", path, &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "order", "invalid_value"));
	itest_response_free(&r);
}

static void
test_handoff_agent_reply_resume(void)
{
	struct itest_response r;
	char psid[32], id[37], mid[64], *text;
	const char *agent_text = "Hi, this is Somchai from the GACP office. "
	    "Your inspection is confirmed.";
	long mark;
	size_t n;

	CU_ASSERT_FATAL(setup());
	CU_ASSERT_FATAL(new_conversation(psid, id));
	CU_ASSERT_TRUE(wait_messages(id, 2));

	/* Hand off: the bot stays silent. */
	CU_ASSERT_EQUAL(post(&demo, id, "handoff", NULL, &r), 200);
	RU_ASSERT_STR(ru_json_str(&r, "status"), "handoff");
	CU_ASSERT_PTR_NOT_NULL(ru_json_str(&r, "handoff_at"));
	itest_response_free(&r);
	CU_ASSERT_EQUAL(post(&demo, id, "handoff", "{}", &r), 200);
	RU_ASSERT_STR(ru_json_str(&r, "status"), "handoff");
	itest_response_free(&r);

	mark = ru_graph_mark();
	new_mid(mid);
	CU_ASSERT_EQUAL(ru_say(page_id, app_secret, psid, mid,
	    "how much is the fee?"), 200);
	/* The turn that stores the message is the one that would have made
	 * the reply: once the message is there, the bot has decided. */
	CU_ASSERT_TRUE(wait_messages(id, 3));
	ru_sleep_ms(300);
	n = messages(&demo, id, &r);
	CU_ASSERT_EQUAL(n, 3);
	RU_ASSERT_STR(msg_field(&r, 2, "text"), "how much is the fee?");
	itest_response_free(&r);
	CU_ASSERT_EQUAL(ru_graph_messages(mark, psid, NULL), 0);

	/* The agent answers; the worker delivers it. */
	mark = ru_graph_mark();
	{
		char body[512];
		snprintf(body, sizeof(body), "{\"text\":\"%s\"}", agent_text);
		CU_ASSERT_EQUAL(post(&demo, id, "messages", body, &r), 201);
	}
	RU_ASSERT_STR(ru_json_str(&r, "sender"), "agent");
	RU_ASSERT_STR(ru_json_str(&r, "direction"), "out");
	RU_ASSERT_STR(ru_json_str(&r, "text"), agent_text);
	RU_ASSERT_STR(ru_json_str(&r, "metadata.agent.type"), "api_key");
	itest_response_free(&r);
	text = ru_graph_wait(mark, psid, 1, WAIT_MS);
	CU_ASSERT_PTR_NOT_NULL(text);
	RU_ASSERT_STR(text, agent_text);
	free(text);
	CU_ASSERT_TRUE(wait_status(id, 3, "sent"));
	messages(&demo, id, &r);
	RU_ASSERT_STR(msg_field(&r, 3, "sender"), "agent");
	CU_ASSERT_PTR_NOT_NULL(msg_field(&r, 3, "sent_at"));
	itest_response_free(&r);
	/* Delivered once, even though nothing else happened meanwhile. */
	ru_sleep_ms(300);
	CU_ASSERT_EQUAL(ru_graph_messages(mark, psid, NULL), 1);

	/* Resume: the bot answers again. */
	CU_ASSERT_EQUAL(post(&demo, id, "resume", NULL, &r), 200);
	RU_ASSERT_STR(ru_json_str(&r, "status"), "bot");
	itest_response_free(&r);
	CU_ASSERT_TRUE(say_and_wait_reply(psid, "thank you"));
}

static void
test_stale_version_conflicts(void)
{
	struct itest_response r;
	char psid[32], id[37], body[64];
	int64_t version;

	CU_ASSERT_FATAL(setup());
	CU_ASSERT_FATAL(new_conversation(psid, id));
	CU_ASSERT_TRUE(wait_messages(id, 2));
	{
		char path[128];
		snprintf(path, sizeof(path), "/v1/conversations/%s", id);
		ru_call("GET", path, &demo, NULL, NULL, &r);
		version = ru_json_int(&r, "version");
		itest_response_free(&r);
	}
	CU_ASSERT_TRUE(version >= 1);
	snprintf(body, sizeof(body), "{\"version\":%lld}",
	    (long long)version + 5);
	CU_ASSERT_EQUAL(post(&demo, id, "handoff", body, &r), 409);
	RU_ASSERT_STR(itest_error_code(&r), "version_conflict");
	itest_response_free(&r);
	CU_ASSERT_EQUAL(post(&demo, id, "handoff", "{\"version\":\"1\"}", &r), 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "version", "invalid_type"));
	itest_response_free(&r);
	snprintf(body, sizeof(body), "{\"version\":%lld}", (long long)version);
	CU_ASSERT_EQUAL(post(&demo, id, "handoff", body, &r), 200);
	CU_ASSERT_EQUAL(ru_json_int(&r, "version"), version + 1);
	itest_response_free(&r);
	/* The same version again is stale now. */
	CU_ASSERT_EQUAL(post(&demo, id, "resume", body, &r), 409);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(post(&demo, id, "resume", NULL, &r), 200);
	itest_response_free(&r);
}

static void
test_agent_reply_validation(void)
{
	struct itest_response r;
	char psid[32], id[37], *body;
	size_t n;

	CU_ASSERT_FATAL(setup());
	CU_ASSERT_FATAL(new_conversation(psid, id));
	CU_ASSERT_TRUE(wait_messages(id, 2));
	CU_ASSERT_EQUAL(post(&demo, id, "messages", "{}", &r), 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "text", "required"));
	itest_response_free(&r);
	CU_ASSERT_EQUAL(post(&demo, id, "messages", "{\"text\":\"\",\"tag\":"
	    "\"HUMAN_AGENT\"}", &r), 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "text", "required"));
	CU_ASSERT_TRUE(ru_field_error(&r, "tag", "unknown_field"));
	itest_response_free(&r);
	CU_ASSERT_EQUAL(post(&demo, id, "messages", "{\"text\":42}", &r), 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "text", "invalid_type"));
	itest_response_free(&r);
	/* Messenger's 2,000-character limit. */
	body = malloc(2100);
	memcpy(body, "{\"text\":\"", 9);
	memset(body + 9, 'a', 2001);
	memcpy(body + 9 + 2001, "\"}", 3);
	CU_ASSERT_EQUAL(post(&demo, id, "messages", body, &r), 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "text", "too_long"));
	itest_response_free(&r);
	free(body);
	CU_ASSERT_EQUAL(post(&demo, id, "messages", "{\"text\":\"a\\u0007b\"}",
	    &r), 422);
	CU_ASSERT_TRUE(ru_field_error(&r, "text", "invalid_characters"));
	itest_response_free(&r);
	/* Nothing was stored by any of these. */
	n = messages(&demo, id, &r);
	CU_ASSERT_EQUAL(n, 2);
	itest_response_free(&r);
}

static void
test_outside_window(void)
{
	struct itest_response r;
	char psid[32], id[37], path[128];
	const char *p[1];
	PGconn *db;
	size_t n;

	CU_ASSERT_FATAL(setup());
	CU_ASSERT_FATAL(new_conversation(psid, id));
	CU_ASSERT_TRUE(wait_messages(id, 2));
	db = ru_db(getenv("DEMO_TENANT_ID"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	p[0] = id;
	CU_ASSERT_TRUE(ru_db_exec(db, "UPDATE conversations SET "
	    "last_inbound_at = now() - interval '25 hours' WHERE id = $1", 1, p));
	PQfinish(db);
	snprintf(path, sizeof(path), "/v1/conversations/%s", id);
	ru_call("GET", path, &demo, NULL, NULL, &r);
	CU_ASSERT_FALSE(json_object_get_boolean(ru_json_at(&r,
	    "reply_window.open")));
	itest_response_free(&r);
	CU_ASSERT_EQUAL(post(&demo, id, "messages", "{\"text\":\"Still there?\"}",
	    &r), 422);
	RU_ASSERT_STR(itest_error_code(&r), "outside_window");
	itest_response_free(&r);
	n = messages(&demo, id, &r);
	CU_ASSERT_EQUAL(n, 2);
	itest_response_free(&r);
}

static void
test_rest_channel_refuses_agent_reply(void)
{
	struct itest_response r;
	char sender[48], id[37], body[160];

	CU_ASSERT_FATAL(setup());
	ru_unique("web-visitor-", sender, sizeof(sender));
	snprintf(body, sizeof(body), "{\"sender\":\"%s\",\"message\":\"hello\"}",
	    sender);
	ru_call("POST", "/webhooks/rest/webhook", &demo, body, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	itest_response_free(&r);
	CU_ASSERT_FATAL(find_conversation(&demo, sender, id));
	{
		char path[128];
		snprintf(path, sizeof(path), "/v1/conversations/%s", id);
		ru_call("GET", path, &demo, NULL, NULL, &r);
		RU_ASSERT_STR(ru_json_str(&r, "channel.type"), "rest");
		itest_response_free(&r);
	}
	CU_ASSERT_EQUAL(post(&demo, id, "messages", "{\"text\":\"An agent\"}",
	    &r), 409);
	RU_ASSERT_STR(itest_error_code(&r), "unsupported_channel");
	itest_response_free(&r);
}

static void
test_other_tenant_gets_404(void)
{
	struct itest_response r;
	char psid[32], id[37], path[128];

	CU_ASSERT_FATAL(setup());
	CU_ASSERT_FATAL(new_conversation(psid, id));
	snprintf(path, sizeof(path), "/v1/conversations/%s", id);
	ru_call("GET", path, &other.owner, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/conversations/%s/messages", id);
	ru_call("GET", path, &other.owner, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(post(&other.owner, id, "handoff", NULL, &r), 404);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(post(&other.owner, id, "resume", NULL, &r), 404);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(post(&other.owner, id, "messages", "{\"text\":\"hi\"}",
	    &r), 404);
	itest_response_free(&r);
	ru_call("GET", "/v1/conversations?limit=200", &other.owner, NULL, NULL,
	    &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_FALSE(contains(&r, id));
	itest_response_free(&r);
	/* Still the demo tenant's, unchanged. */
	snprintf(path, sizeof(path), "/v1/conversations/%s", id);
	ru_call("GET", path, &demo, NULL, NULL, &r);
	RU_ASSERT_STR(ru_json_str(&r, "status"), "bot");
	itest_response_free(&r);
}

static void
test_audit_and_roles(void)
{
	struct itest_response r;
	struct ru_cred viewer, agent;
	char psid[32], id[37], path[160];

	CU_ASSERT_FATAL(setup());
	CU_ASSERT_FATAL(new_conversation(psid, id));
	CU_ASSERT_EQUAL(post(&demo, id, "handoff", NULL, &r), 200);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(post(&demo, id, "messages", "{\"text\":\"Hello from "
	    "the office\"}", &r), 201);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(post(&demo, id, "resume", NULL, &r), 200);
	itest_response_free(&r);
	ru_call("GET", "/v1/audit-log?limit=50", &demo, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_TRUE(contains(&r, "conversation.handoff"));
	CU_ASSERT_TRUE(contains(&r, "conversation.agent_reply"));
	CU_ASSERT_TRUE(contains(&r, "conversation.resume"));
	CU_ASSERT_TRUE(contains(&r, id));
	/* Who wrote it is recorded; what was written is not. */
	CU_ASSERT_FALSE(contains(&r, "Hello from the office"));
	itest_response_free(&r);

	/* Agents work conversations; viewers only read them. */
	CU_ASSERT_FATAL(ru_make_user(&other, "agent", &agent));
	CU_ASSERT_FATAL(ru_make_user(&other, "viewer", &viewer));
	ru_call("GET", "/v1/conversations", &agent, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	ru_call("GET", "/v1/conversations", &viewer, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	snprintf(path, sizeof(path), "/v1/conversations/%s/handoff", id);
	ru_call("POST", path, &viewer, "{}", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	itest_response_free(&r);
	ru_call("POST", path, &agent, "{}", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);     /* allowed, but not their tenant's */
	itest_response_free(&r);
}

void
itest_conversations_register(void)
{
	static const struct test_case cases[] = {
		{ "query and path validation", test_query_validation },
		{ "a Messenger conversation and its transcript",
		    test_conversation_and_transcript },
		{ "handoff silences the bot, agent reply delivered, resume",
		    test_handoff_agent_reply_resume },
		{ "stale version on handoff/resume is 409",
		    test_stale_version_conflicts },
		{ "agent reply validation, nothing stored",
		    test_agent_reply_validation },
		{ "agent reply outside the 24-hour window is 422",
		    test_outside_window },
		{ "REST-channel conversation refuses agent replies (409)",
		    test_rest_channel_refuses_agent_reply },
		{ "another tenant's conversation is 404",
		    test_other_tenant_gets_404 },
		{ "changes audited; agent and viewer permissions",
		    test_audit_and_roles },
		{ NULL, NULL },
	};

	tests_add_suite("conversations", cases);
}
