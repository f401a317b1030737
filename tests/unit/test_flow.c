/* test_flow.c - unit tests of the dialogue engine on malformed state, entities and responses (flow/flow.c). */
#include "tests.h"
#include "common/arena.h"
#include "common/json.h"
#include "flow/flow.h"

#include <string.h>

/* Parse a JSON text that the test knows is valid. */
static struct json_object *
js(struct arena *a, const char *text)
{
	struct json_object *o = NULL;
	struct gacp_err err;

	CU_ASSERT_EQUAL_FATAL(json_parse_arena(a, text, strlen(text), &o, &err),
	    GACP_OK);
	return o;
}

/* An English response of intent with these templates and, if not NULL,
 * required slots (both JSON texts); three turns to fill them. */
static void
response(struct arena *a, struct flow_response *r, const char *intent,
    const char *templates, const char *required_slots)
{
	memset(r, 0, sizeof(*r));
	r->intent = intent;
	r->language = "en";
	r->templates = js(a, templates);
	r->required_slots = required_slots ? js(a, required_slots) : NULL;
	r->max_turns = 3;
}

/* Found by fuzz-flow: a null slot value crashed flow_render (a NULL
 * string appended); now the placeholder stays as written. */
static void
test_render_null_values(void)
{
	struct arena a;
	struct json_object *slots, *ents;

	arena_init(&a, 1024);
	slots = js(&a, "{\"name\":null,\"crop\":\"hemp\"}");
	ents = js(&a, "{\"area\":null,\"n\":2}");
	CU_ASSERT_STRING_EQUAL(flow_render(&a, "{name} {crop} {area} {n} {}",
	    slots, ents), "{name} hemp {area} 2 {}");
	CU_ASSERT_STRING_EQUAL(flow_render(&a, NULL, slots, ents), "");
	arena_cleanup(&a);
}

/* Found by fuzz-flow: null entity names and values, null slot names,
 * a null form and a null template all crashed flow_decide. */
static void
test_decide_null_inputs(void)
{
	struct arena a;
	struct flow_response rs[2];
	struct flow_input in;
	struct flow_output out;
	struct gacp_err err;

	arena_init(&a, 4096);
	response(&a, &rs[0], "apply", "[\"ok {crop}\"]",
	    "[{\"slot\":null,\"entity\":null,\"prompt\":null},"
	    "{\"slot\":\"crop\",\"prompt\":\"Which crop?\"}]");
	response(&a, &rs[1], "nlu_fallback", "[null]", NULL);

	memset(&in, 0, sizeof(in));
	in.conversation_status = "bot";
	in.intent = "apply";
	in.confidence = 0.9f;
	in.language = "en";
	in.entities = js(&a, "[{\"entity\":null,\"value\":\"x\"},"
	    "{\"entity\":\"crop\",\"value\":null}]");
	CU_ASSERT_EQUAL_FATAL(flow_decide(&in, rs, 2, &a, &out, &err), GACP_OK);
	CU_ASSERT_TRUE(out.reply);
	CU_ASSERT_STRING_EQUAL(out.text, "Which crop?");

	/* A null form is no form; the fallback's only template is null. */
	in.intent = "greet";
	in.entities = NULL;
	in.state = js(&a, "{\"form\":null,\"slots\":{}}");
	CU_ASSERT_EQUAL(flow_decide(&in, rs, 2, &a, &out, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "no_response");
	arena_cleanup(&a);
}

/* Found by fuzz-flow: a stored turn count of INT32_MAX (json-c clamps
 * larger numbers to it) overflowed when the form counted one more turn.
 * It now ends the form like any count past max_turns; a negative count
 * starts from zero. */
static void
test_decide_turns_out_of_range(void)
{
	struct arena a;
	struct flow_response rs[2];
	struct flow_input in;
	struct flow_output out;
	struct gacp_err err;
	struct json_object *turns;

	arena_init(&a, 4096);
	response(&a, &rs[0], "apply", "[\"ok {crop}\"]",
	    "[{\"slot\":\"crop\",\"prompt\":\"Which crop?\"}]");
	response(&a, &rs[1], "nlu_fallback", "[\"Sorry?\"]", NULL);

	memset(&in, 0, sizeof(in));
	in.conversation_status = "bot";
	in.intent = "nlu_fallback";
	in.confidence = 0.1f;
	in.language = "en";
	in.state = js(&a, "{\"form\":\"apply\",\"turns\":2147483647,"
	    "\"slots\":{}}");
	CU_ASSERT_EQUAL_FATAL(flow_decide(&in, rs, 2, &a, &out, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(out.intent, "nlu_fallback");
	CU_ASSERT_STRING_EQUAL(out.text, "Sorry?");
	CU_ASSERT_FALSE(json_object_object_get_ex(out.state, "form", NULL));

	in.state = js(&a, "{\"form\":\"apply\",\"turns\":"
	    "188888888888888888888888,\"slots\":{}}");
	CU_ASSERT_EQUAL_FATAL(flow_decide(&in, rs, 2, &a, &out, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(out.text, "Sorry?");

	in.state = js(&a, "{\"form\":\"apply\",\"turns\":-5,\"slots\":{}}");
	CU_ASSERT_EQUAL_FATAL(flow_decide(&in, rs, 2, &a, &out, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(out.text, "Which crop?");
	CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(out.state, "turns",
	    &turns));
	CU_ASSERT_EQUAL(json_object_get_int(turns), 1);
	arena_cleanup(&a);
}

static const struct test_case cases[] = {
	{ "render with null values", test_render_null_values },
	{ "decide with null inputs", test_decide_null_inputs },
	{ "decide with a turn count out of range", test_decide_turns_out_of_range },
	{ NULL, NULL }
};

void
test_flow_register(void)
{
	tests_add_suite("flow", cases);
}
