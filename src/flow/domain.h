/* domain.h - importing bot responses from a Rasa domain file (YAML).
 *
 * Reads `responses:` (utter_<intent>: [{text, buttons?, condition?}]) and
 * `forms:` (<intent>_form: {required_slots: [slot…]}).  A variation's
 * language is its condition on the slot "language" (value th/en…), or
 * "en" without one.  utter_ask_<slot> supplies a form's prompt for <slot>
 * in each language.  buttons [{title, payload}] become quick replies.
 * The result is one row per intent and language, as the responses table
 * holds them.
 */
#ifndef GACP_FLOW_DOMAIN_H
#define GACP_FLOW_DOMAIN_H

#include <stddef.h>
#include <json-c/json.h>

#include "common/err.h"

struct domain_row {
	char               *intent;
	char               *language;
	struct json_object *templates;       /* array of strings */
	struct json_object *quick_replies;   /* array of {title, payload} */
	struct json_object *required_slots;  /* [{slot, entity, prompt}] */
};

struct domain {
	struct domain_row *rows;
	size_t             n;
};

/* Parse len bytes of YAML.  Errors: GACP_EINVAL "invalid_domain" with the
 * line of the problem. */
int  domain_parse(const char *text, size_t len, struct domain *out,
    struct gacp_err *err);
void domain_cleanup(struct domain *d);

#endif
