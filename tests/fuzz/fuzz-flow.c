/* fuzz-flow.c - libFuzzer target: the dialogue engine (flow/flow.c).
 *
 * The input is a JSON object describing one turn:
 *   {"status": "bot", "state": {...}, "payload": "/intent", "intent": "x",
 *    "confidence": 0.9, "entities": [{"entity", "value"}...],
 *    "language": "th", "handoff": "human_handoff", "random": 3,
 *    "responses": [{"id", "intent", "language", "templates": [...],
 *                   "quick_replies": [...], "selection", "rr_next",
 *                   "required_slots": [{slot, entity, prompt}...],
 *                   "max_turns"}...],
 *    "render": {"template": "...", "slots": {...}, "entities": {...}}}
 * Responses that the responses table's constraints would refuse (intent
 * and language format, templates a non-empty array, quick replies and
 * slots arrays, selection, max_turns 1..10) are dropped, as they can never
 * be loaded; everything else may be any JSON, since conversation state is
 * a jsonb column and entities carry what users typed.
 * Checked beyond "no crash": the result is 0 or a "no_response" error; a
 * conversation not in "bot" status gets no reply; a reply has UTF-8 text,
 * a response from the list and a template index within its templates;
 * the new state is an object with a "slots" object that serialises to
 * JSON our strict parser accepts; a template without '{' renders as
 * itself and every rendering is valid UTF-8.
 */
#include "common/arena.h"
#include "common/err.h"
#include "common/json.h"
#include "common/utf8.h"
#include "flow/flow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RESPONSES 32

static int
matches(const char *s, size_t max, int lower_only)
{
	size_t n = s ? strlen(s) : 0, i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'a' && c <= 'z')
			continue;
		if (lower_only || !((c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '/' || c == '-'))
			return 0;
	}
	return 1;
}

/* One row as mxs_responses_load() would build it, or 0 when the table's
 * CHECK constraints would have refused the row. */
static int
response_of(struct json_object *o, struct flow_response *r)
{
	struct json_object *v;
	int64_t n;

	memset(r, 0, sizeof(*r));
	r->id = json_get_str(o, "id");
	r->intent = json_get_str(o, "intent");
	r->language = json_get_str(o, "language");
	r->selection = json_get_str(o, "selection");
	if (r->id == NULL)
		r->id = "00000000-0000-4000-8000-00000000000r";
	if (r->selection == NULL)
		r->selection = "random";
	if (!matches(r->intent, 100, 0) || !matches(r->language, 2, 1) ||
	    strlen(r->language) != 2 ||
	    (strcmp(r->selection, "random") != 0 &&
	    strcmp(r->selection, "round_robin") != 0))
		return 0;
	if ((r->templates = json_get_array(o, "templates")) == NULL ||
	    json_object_array_length(r->templates) == 0)
		return 0;
	r->quick_replies = json_get_array(o, "quick_replies");
	if (json_object_object_get_ex(o, "quick_replies", &v) &&
	    (r->quick_replies == NULL ||
	    json_object_array_length(r->quick_replies) > 13))
		return 0;
	r->required_slots = json_get_array(o, "required_slots");
	if (json_object_object_get_ex(o, "required_slots", &v) &&
	    r->required_slots == NULL)
		return 0;
	r->max_turns = 3;
	if (json_get_int64(o, "max_turns", &n)) {
		if (n < 1 || n > 10)
			return 0;
		r->max_turns = (int)n;
	}
	if (json_get_int64(o, "rr_next", &n))
		r->rr_next = (int)n;
	return 1;
}

static void
check_utf8(const char *s)
{
	if (s == NULL || (s[0] != '\0' && !utf8_valid(s, strlen(s))))
		abort();
}

static void
check_render(struct arena *a, struct json_object *spec)
{
	const char *tmpl = json_get_str(spec, "template");
	struct json_object *slots = json_get_obj(spec, "slots");
	struct json_object *ents = json_get_obj(spec, "entities");
	const char *out;

	if (tmpl == NULL)
		return;
	out = flow_render(a, tmpl, slots, ents);
	check_utf8(out);
	if (strchr(tmpl, '{') == NULL && strcmp(out, tmpl) != 0)
		abort();
}

static void
check_output(const struct flow_input *in, const struct flow_response *rs,
    size_t nrs, const struct flow_output *out)
{
	struct json_object *again = NULL, *slots;
	struct gacp_err err;
	const char *js;

	if (out->intent == NULL || out->state == NULL ||
	    !json_object_is_type(out->state, json_type_object) ||
	    !json_object_object_get_ex(out->state, "slots", &slots) ||
	    !json_object_is_type(slots, json_type_object))
		abort();
	if (in->conversation_status != NULL &&
	    strcmp(in->conversation_status, "bot") != 0 &&
	    (out->reply || out->handoff))
		abort();
	if (out->reply) {
		check_utf8(out->text);
		if (out->used == NULL || out->used < rs || out->used >= rs + nrs)
			abort();
		if (out->rr_used >= 0 && (size_t)out->rr_used >=
		    json_object_array_length(out->used->templates))
			abort();
	}
	js = json_compact(out->state);
	if (json_parse_strict(js, strlen(js), 2 * JSON_MAX_DEPTH, &again,
	    &err) != GACP_OK || !json_object_is_type(again, json_type_object))
		abort();
	json_object_put(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flow_response rs[MAX_RESPONSES];
	struct json_object *root = NULL, *list;
	struct flow_input in;
	struct flow_output out;
	struct gacp_err err;
	struct arena a;
	size_t nrs = 0, i;
	int64_t n;
	double conf;
	int rc;

	arena_init(&a, 4096);
	if (json_parse_arena(&a, (const char *)data, size, &root, &err) !=
	    GACP_OK || !json_object_is_type(root, json_type_object))
		goto out;
	memset(&in, 0, sizeof(in));
	in.conversation_status = json_get_str(root, "status");
	in.state = json_get_obj(root, "state");
	in.payload = json_get_str(root, "payload");
	in.intent = json_get_str(root, "intent");
	in.entities = json_get_array(root, "entities");
	in.language = json_get_str(root, "language");
	in.handoff_intent = json_get_str(root, "handoff");
	if (json_object_object_get_ex(root, "confidence", &list)) {
		conf = json_object_get_double(list);
		in.confidence = (float)conf;
	}
	if (json_get_int64(root, "random", &n))
		in.random = (unsigned int)n;
	if ((list = json_get_array(root, "responses")) != NULL)
		for (i = 0; i < json_object_array_length(list) &&
		    nrs < MAX_RESPONSES; i++)
			nrs += (size_t)response_of(
			    json_object_array_get_idx(list, i), &rs[nrs]);

	rc = flow_decide(&in, rs, nrs, &a, &out, &err);
	if (rc != GACP_OK) {
		if (strcmp(err.code, "no_response") != 0)
			abort();
	} else {
		check_output(&in, rs, nrs, &out);
	}
	check_render(&a, json_get_obj(root, "render") ?
	    json_get_obj(root, "render") : root);
out:
	arena_cleanup(&a);
	return 0;
}
