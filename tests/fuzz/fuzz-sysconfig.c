/* fuzz-sysconfig.c - libFuzzer target: configuration values and validation rules from outside (sysconfig/value.c).
 *
 * The first byte picks the type; the rest is a JSON document as a PUT
 * /v1/config body carries it: its "config_value" goes to
 * syscfg_value_parse() and its "validation_rules" to syscfg_rules_parse()
 * (PCRE2 compile of a pattern, enum checks), then the value is checked
 * against the rules.  Invariants: an accepted value's canonical text has a
 * typed value of its type and parses again to the same text; accepted
 * rules serialise to rules that are accepted again.
 */
#include "common/json.h"
#include "sysconfig/value.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct syscfg_report r = { NULL, NULL, 0 };
	struct syscfg_rules rules, again;
	struct json_object *body = NULL, *value = NULL, *rj = NULL, *typed;
	struct json_object *round = NULL, *text_json;
	struct gacp_err err;
	enum syscfg_type t;
	char *canon = NULL, *canon2 = NULL;
	bool rules_ok;

	if (size < 1)
		return 0;
	t = (enum syscfg_type)(data[0] % 5);
	if (json_parse_strict((const char *)data + 1, size - 1, JSON_MAX_DEPTH,
	    &body, &err) != GACP_OK)
		return 0;
	if (!json_object_is_type(body, json_type_object)) {
		json_object_put(body);
		return 0;
	}
	(void)json_object_object_get_ex(body, "config_value", &value);
	(void)json_object_object_get_ex(body, "validation_rules", &rj);

	rules_ok = syscfg_rules_parse(rj, t, &rules, &r);
	if (rules_ok) {
		struct json_object *out = syscfg_rules_json(&rules);

		r.n = 0;
		if (!syscfg_rules_parse(out, t, &again, &r))
			abort();
		syscfg_rules_free(&again);
		json_object_put(out);
	}
	if (value != NULL && syscfg_value_parse(t, value, &canon, &r)) {
		typed = syscfg_typed(t, canon);
		if (typed == NULL && !(t == SYSCFG_JSON &&
		    strcmp(canon, "null") == 0))
			abort();
		json_object_put(typed);
		/* The canonical text, given again as text, is a fixed point. */
		text_json = json_object_new_string(canon);
		if (!syscfg_value_parse(t, text_json, &canon2, &r) ||
		    strcmp(canon, canon2) != 0)
			abort();
		json_object_put(text_json);
		if (rules_ok)
			(void)syscfg_value_check(t, &rules, canon, &r);
	}
	free(canon);
	free(canon2);
	syscfg_rules_free(&rules);
	json_object_put(round);
	json_object_put(body);
	return 0;
}
