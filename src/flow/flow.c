/* flow.c - the dialogue engine (see flow.h). */
#include "flow/flow.h"
#include "common/arena.h"
#include "common/buf.h"

#include <string.h>

static void
put_json(void *p)
{
	json_object_put(p);
}

static const struct flow_response *
find(const struct flow_response *rs, size_t n, const char *intent,
    const char *lang)
{
	size_t i;

	for (i = 0; lang != NULL && i < n; i++)
		if (strcmp(rs[i].intent, intent) == 0 &&
		    strcmp(rs[i].language, lang) == 0)
			return &rs[i];
	for (i = 0; i < n; i++)
		if (strcmp(rs[i].intent, intent) == 0 &&
		    strcmp(rs[i].language, "en") == 0)
			return &rs[i];
	for (i = 0; i < n; i++)
		if (strcmp(rs[i].intent, intent) == 0)
			return &rs[i];
	return NULL;
}

/* Entities array [{entity, value}] → object entity → first value. */
static struct json_object *
entity_map(struct arena *a, struct json_object *entities)
{
	struct json_object *map = json_object_new_object();
	size_t i;

	arena_defer(a, put_json, map);
	if (entities == NULL || !json_object_is_type(entities, json_type_array))
		return map;
	for (i = 0; i < json_object_array_length(entities); i++) {
		struct json_object *e = json_object_array_get_idx(entities, i), *n, *v;
		/* A null name or value is skipped (json_object_get_string()
		 * gives NULL for them; found by fuzz-flow). */
		if (json_object_object_get_ex(e, "entity", &n) &&
		    json_object_object_get_ex(e, "value", &v) &&
		    n != NULL && v != NULL &&
		    !json_object_object_get_ex(map, json_object_get_string(n), NULL))
			json_object_object_add(map, json_object_get_string(n),
			    json_object_new_string(json_object_get_string(v)));
	}
	return map;
}

char *
flow_render(struct arena *a, const char *tmpl, struct json_object *slots,
    struct json_object *entities)
{
	struct buf b;
	const char *p = tmpl;
	char *out;

	buf_init(&b);
	while (p != NULL && *p != '\0') {
		const char *close;
		if (*p == '{' && (close = strchr(p + 1, '}')) != NULL &&
		    close - p - 1 > 0 && close - p - 1 < 64) {
			char name[64];
			struct json_object *v = NULL;
			memcpy(name, p + 1, (size_t)(close - p - 1));
			name[close - p - 1] = '\0';
			/* A null value does not fill the placeholder. */
			if ((slots && json_object_object_get_ex(slots, name, &v) &&
			    v != NULL) || (entities &&
			    json_object_object_get_ex(entities, name, &v) &&
			    v != NULL)) {
				buf_puts(&b, json_object_get_string(v));
				p = close + 1;
				continue;
			}
		}
		buf_putc(&b, *p++);
	}
	out = arena_strndup(a, b.data, b.len);
	buf_cleanup(&b);
	return out;
}

static const char *
pick(const struct flow_response *r, unsigned int random, int *index)
{
	size_t n = json_object_array_length(r->templates);
	size_t i;

	if (n == 0)
		return NULL;
	if (r->selection != NULL && strcmp(r->selection, "round_robin") == 0)
		i = (size_t)(r->rr_next < 0 ? 0 : r->rr_next) % n;
	else
		i = random % n;
	*index = (int)i;
	return json_object_get_string(json_object_array_get_idx(r->templates, i));
}

/* Prompt for the first required slot not yet in slots, or NULL. */
static struct json_object *
missing_slot(const struct flow_response *r, struct json_object *slots)
{
	size_t i;

	if (r->required_slots == NULL)
		return NULL;
	for (i = 0; i < json_object_array_length(r->required_slots); i++) {
		struct json_object *s = json_object_array_get_idx(r->required_slots, i), *name;
		if (json_object_object_get_ex(s, "slot", &name) && name != NULL &&
		    !json_object_object_get_ex(slots, json_object_get_string(name), NULL))
			return s;
	}
	return NULL;
}

/* Copy entities named by the response's slots into slots. */
static void
fill_slots(const struct flow_response *r, struct json_object *slots,
    struct json_object *ents)
{
	size_t i;

	if (r->required_slots == NULL)
		return;
	for (i = 0; i < json_object_array_length(r->required_slots); i++) {
		struct json_object *s = json_object_array_get_idx(r->required_slots, i);
		struct json_object *name, *entity, *v;
		const char *ent;

		if (!json_object_object_get_ex(s, "slot", &name) || name == NULL)
			continue;
		ent = json_object_object_get_ex(s, "entity", &entity) &&
		    entity != NULL ? json_object_get_string(entity) :
		    json_object_get_string(name);
		if (json_object_object_get_ex(ents, ent, &v) && v != NULL)
			json_object_object_add(slots, json_object_get_string(name),
			    json_object_new_string(json_object_get_string(v)));
	}
}

static void
answer(struct flow_output *out, struct arena *a, const struct flow_response *r,
    const char *text_tmpl, struct json_object *slots, struct json_object *ents)
{
	out->reply = true;
	out->used = r;
	out->text = flow_render(a, text_tmpl, slots, ents);
	out->quick_replies = r->quick_replies != NULL &&
	    json_object_array_length(r->quick_replies) > 0 ? r->quick_replies : NULL;
}

int
flow_decide(const struct flow_input *in, const struct flow_response *rs,
    size_t nrs, struct arena *a, struct flow_output *out, struct gacp_err *err)
{
	const char *handoff = in->handoff_intent ? in->handoff_intent :
	    FLOW_DEFAULT_HANDOFF_INTENT;
	struct json_object *state, *slots, *form, *ents, *turns_o;
	const char *intent = in->intent ? in->intent : FLOW_FALLBACK_INTENT;
	const struct flow_response *r;
	const char *tmpl;
	int turns = 0;

	memset(out, 0, sizeof(*out));
	out->rr_used = -1;
	state = json_object_new_object();
	arena_defer(a, put_json, state);
	out->state = state;
	if (in->state != NULL && json_object_is_type(in->state, json_type_object)) {
		json_object_object_foreach(in->state, k, v)
			json_object_object_add(state, k, json_object_get(v));
	}
	if (!json_object_object_get_ex(state, "slots", &slots) ||
	    !json_object_is_type(slots, json_type_object)) {
		slots = json_object_new_object();
		json_object_object_add(state, "slots", slots);
	}
	if (in->language != NULL)
		json_object_object_add(slots, "language",
		    json_object_new_string(in->language));
	ents = entity_map(a, in->entities);

	if (in->conversation_status != NULL &&
	    strcmp(in->conversation_status, "bot") != 0) {
		out->intent = intent;
		return GACP_OK;       /* an agent has the conversation */
	}
	if (in->payload != NULL && in->payload[0] == '/' && in->payload[1] != '\0') {
		size_t len = strcspn(in->payload + 1, "{ ");
		intent = arena_strndup(a, in->payload + 1, len);
	}

	/* An active form waits for a slot. */
	if (json_object_object_get_ex(state, "form", &form) && form != NULL &&
	    (r = find(rs, nrs, json_object_get_string(form), in->language)) != NULL) {
		bool other = strcmp(intent, FLOW_FALLBACK_INTENT) != 0 &&
		    strcmp(intent, json_object_get_string(form)) != 0;
		fill_slots(r, slots, ents);
		if (missing_slot(r, slots) == NULL) {
			intent = json_object_get_string(form);
		} else if (!other) {
			if (json_object_object_get_ex(state, "turns", &turns_o))
				turns = json_object_get_int(turns_o);
			/* The stored count is read as untrusted: json-c clamps
			 * a huge one to INT32_MAX, and counting past the limit
			 * would overflow (found by fuzz-flow). */
			if (turns < 0)
				turns = 0;
			if (turns < r->max_turns)
				turns++;
			if (turns >= r->max_turns) {
				json_object_object_del(state, "form");
				json_object_object_del(state, "turns");
				intent = FLOW_FALLBACK_INTENT;
			} else {
				struct json_object *s = missing_slot(r, slots), *p;
				json_object_object_add(state, "turns",
				    json_object_new_int(turns));
				out->intent = json_object_get_string(form);
				if (json_object_object_get_ex(s, "prompt", &p)) {
					answer(out, a, r, json_object_get_string(p),
					    slots, ents);
					out->quick_replies = NULL;
				}
				return GACP_OK;
			}
		}
		json_object_object_del(state, "form");
		json_object_object_del(state, "turns");
	}

	out->intent = intent;
	if (strcmp(intent, handoff) == 0)
		out->handoff = true;
	r = find(rs, nrs, intent, in->language);
	if (r == NULL) {
		out->intent = FLOW_FALLBACK_INTENT;
		r = find(rs, nrs, FLOW_FALLBACK_INTENT, in->language);
	}
	if (r == NULL)
		return gacp_err_set(err, GACP_ENOTFOUND, "no_response",
		    "no response for intent %s and no nlu_fallback response",
		    intent);
	fill_slots(r, slots, ents);
	{
		struct json_object *s = missing_slot(r, slots), *p;
		if (s != NULL && json_object_object_get_ex(s, "prompt", &p)) {
			json_object_object_add(state, "form",
			    json_object_new_string(r->intent));
			json_object_object_add(state, "turns", json_object_new_int(0));
			answer(out, a, r, json_object_get_string(p), slots, ents);
			out->quick_replies = NULL;
			return GACP_OK;
		}
	}
	tmpl = pick(r, in->random, &out->rr_used);
	if (tmpl == NULL)
		return gacp_err_set(err, GACP_EINVAL, "no_response",
		    "response for %s has no template", r->intent);
	answer(out, a, r, tmpl, slots, ents);
	/* Slots of a completed form are consumed. */
	if (r->required_slots != NULL) {
		size_t i;
		for (i = 0; i < json_object_array_length(r->required_slots); i++) {
			struct json_object *sn;
			if (json_object_object_get_ex(json_object_array_get_idx(
			    r->required_slots, i), "slot", &sn))
				json_object_object_del(slots,
				    json_object_get_string(sn));
		}
	}
	return GACP_OK;
}
