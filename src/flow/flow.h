/* flow.h - the dialogue engine: from an NLU result to the bot's reply.
 *
 * Pure: the caller loads the tenant's responses and the conversation state
 * and persists what flow_decide() returns.  Rules, in order:
 *   - a conversation handed off to a human gets no bot reply;
 *   - a quick-reply or postback payload "/intent" names the intent directly
 *     (Rasa's convention), skipping NLU;
 *   - an active form (slot filling) takes the entity it waits for; another
 *     confident intent cancels the form; after max_turns unanswered
 *     prompts the form gives up with the fallback response;
 *   - the handoff intent switches the conversation to an agent;
 *   - below the confidence threshold the intent is nlu_fallback;
 *   - a response with required slots asks for each missing one
 *     (its "utter_ask_<slot>" prompt) before answering;
 *   - templates are chosen at random or round-robin, and {name}
 *     placeholders are filled from slots and entities.
 * Responses are matched on intent and language, then intent in English,
 * then any language.
 */
#ifndef GACP_FLOW_FLOW_H
#define GACP_FLOW_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "common/err.h"

struct arena;

#define FLOW_FALLBACK_INTENT "nlu_fallback"
#define FLOW_DEFAULT_HANDOFF_INTENT "human_handoff"

struct flow_response {
	const char         *id;
	const char         *intent;
	const char         *language;
	struct json_object *templates;       /* array of strings */
	struct json_object *quick_replies;   /* array of {title, payload} */
	const char         *selection;       /* "random" | "round_robin" */
	int                 rr_next;
	struct json_object *required_slots;  /* [{slot, entity, prompt}] */
	int                 max_turns;
};

struct flow_input {
	const char         *conversation_status;  /* bot | handoff | closed */
	struct json_object *state;                /* object or NULL */
	const char         *payload;              /* quick reply / postback */
	const char         *intent;               /* NLU decision (may be fallback) */
	float               confidence;
	struct json_object *entities;             /* [{entity, value}] or NULL */
	const char         *language;             /* "th", "en", … */
	const char         *handoff_intent;       /* NULL: default */
	unsigned int        random;               /* for random selection */
};

struct flow_output {
	bool                reply;            /* false: stay silent */
	const char         *text;             /* arena string */
	struct json_object *quick_replies;    /* borrowed, may be NULL */
	struct json_object *state;            /* new state (owned by arena) */
	bool                handoff;          /* switch conversation to agent */
	const char         *intent;           /* intent acted on */
	const struct flow_response *used;     /* response chosen, or NULL */
	int                 rr_used;          /* template index used */
};

int flow_decide(const struct flow_input *in, const struct flow_response *rs,
    size_t nrs, struct arena *a, struct flow_output *out,
    struct gacp_err *err);

/* Replace {name} with values from slots, then entities (objects of
 * name → string); unknown names are left as they are. */
char *flow_render(struct arena *a, const char *tmpl, struct json_object *slots,
    struct json_object *entities);

#endif
