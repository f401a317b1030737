/* test_config_values.c - typed configuration values and validation rules (src/sysconfig/value.c). */
#include "tests.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sysconfig/value.h"

/* Collects reported problems as "field:code" lines. */
struct sink {
	char   text[2048];
	size_t n;
};

static void
collect(void *ctx, const char *field, const char *code, const char *msg)
{
	struct sink *s = ctx;
	size_t len = strlen(s->text);

	(void)msg;
	snprintf(s->text + len, sizeof(s->text) - len, "%s:%s\n", field, code);
	s->n++;
}

static bool
has(const struct sink *s, const char *line)
{
	char want[200];

	snprintf(want, sizeof(want), "%s\n", line);
	return strstr(s->text, want) != NULL;
}

static struct syscfg_report
report_to(struct sink *s)
{
	struct syscfg_report r = { collect, s, 0 };

	memset(s, 0, sizeof(*s));
	return r;
}

/* Parse a value given as JSON text (json is e.g. "\"42\"" or "42"). */
static char *
parse(enum syscfg_type t, const char *json, struct sink *s)
{
	struct json_object *o = json_tokener_parse(json);
	struct syscfg_report r = report_to(s);
	char *canon = NULL;

	(void)syscfg_value_parse(t, o, &canon, &r);
	json_object_put(o);
	return canon;
}

static void
test_types_and_canonical_text(void)
{
	struct sink s;
	char *c;

	c = parse(SYSCFG_INTEGER, "\"42\"", &s);
	CU_ASSERT_STRING_EQUAL(c ? c : "", "42");
	free(c);
	c = parse(SYSCFG_INTEGER, "-7", &s);
	CU_ASSERT_STRING_EQUAL(c ? c : "", "-7");
	free(c);
	c = parse(SYSCFG_FLOAT, "\"0.25\"", &s);
	CU_ASSERT_STRING_EQUAL(c ? c : "", "0.25");
	free(c);
	c = parse(SYSCFG_FLOAT, "3", &s);
	CU_ASSERT_STRING_EQUAL(c ? c : "", "3");
	free(c);
	c = parse(SYSCFG_BOOLEAN, "true", &s);
	CU_ASSERT_STRING_EQUAL(c ? c : "", "true");
	free(c);
	c = parse(SYSCFG_BOOLEAN, "\"false\"", &s);
	CU_ASSERT_STRING_EQUAL(c ? c : "", "false");
	free(c);
	c = parse(SYSCFG_JSON, "\"{\\\"a\\\": [1, 2]}\"", &s);
	CU_ASSERT_STRING_EQUAL(c ? c : "", "{\"a\":[1,2]}");
	free(c);
	c = parse(SYSCFG_JSON, "{\"b\": null}", &s);
	CU_ASSERT_STRING_EQUAL(c ? c : "", "{\"b\":null}");
	free(c);
	c = parse(SYSCFG_STRING, "\"สวัสดี\"", &s);
	CU_ASSERT_STRING_EQUAL(c ? c : "", "สวัสดี");
	free(c);
	CU_ASSERT_EQUAL(s.n, 0);
}

static void
test_wrong_types(void)
{
	static const struct { enum syscfg_type t; const char *json; } bad[] = {
		{ SYSCFG_INTEGER, "\"4x\"" }, { SYSCFG_INTEGER, "\"1.5\"" },
		{ SYSCFG_INTEGER, "1.5" }, { SYSCFG_INTEGER, "\"+1\"" },
		{ SYSCFG_INTEGER, "\" 1\"" }, { SYSCFG_INTEGER, "\"01\"" },
		{ SYSCFG_INTEGER, "\"9223372036854775808\"" },
		{ SYSCFG_INTEGER, "true" }, { SYSCFG_INTEGER, "\"\"" },
		{ SYSCFG_FLOAT, "\"nan\"" }, { SYSCFG_FLOAT, "\"inf\"" },
		{ SYSCFG_FLOAT, "\"0x10\"" }, { SYSCFG_FLOAT, "\"1e999\"" },
		{ SYSCFG_FLOAT, "\"1,5\"" }, { SYSCFG_BOOLEAN, "\"yes\"" },
		{ SYSCFG_BOOLEAN, "1" }, { SYSCFG_BOOLEAN, "\"TRUE\"" },
		{ SYSCFG_JSON, "\"{oops\"" }, { SYSCFG_JSON, "\"[1] x\"" },
		{ SYSCFG_STRING, "12" }, { SYSCFG_STRING, "\"a\\u0000b\"" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct sink s;
		char *c = parse(bad[i].t, bad[i].json, &s);

		CU_ASSERT_PTR_NULL(c);
		CU_ASSERT_TRUE(has(&s, "config_value:invalid_type"));
		if (c != NULL || !has(&s, "config_value:invalid_type"))
			fprintf(stderr, "accepted %s as %s\n", bad[i].json,
			    syscfg_type_name(bad[i].t));
		free(c);
	}
}

static void
test_typed_value(void)
{
	struct json_object *o;

	o = syscfg_typed(SYSCFG_INTEGER, "42");
	CU_ASSERT_TRUE(json_object_is_type(o, json_type_int) &&
	    json_object_get_int64(o) == 42);
	json_object_put(o);
	o = syscfg_typed(SYSCFG_FLOAT, "2.5");
	CU_ASSERT_TRUE(json_object_is_type(o, json_type_double) &&
	    json_object_get_double(o) == 2.5);
	json_object_put(o);
	o = syscfg_typed(SYSCFG_BOOLEAN, "false");
	CU_ASSERT_TRUE(json_object_is_type(o, json_type_boolean) &&
	    !json_object_get_boolean(o));
	json_object_put(o);
	o = syscfg_typed(SYSCFG_JSON, "[1,{\"a\":true}]");
	CU_ASSERT_TRUE(json_object_is_type(o, json_type_array));
	json_object_put(o);
	/* json-c's JSON null is the NULL object. */
	CU_ASSERT_PTR_NULL(syscfg_typed(SYSCFG_JSON, "null"));
	/* Stored text that is not of its type is not made up. */
	CU_ASSERT_PTR_NULL(syscfg_typed(SYSCFG_INTEGER, "4.2"));
	CU_ASSERT_PTR_NULL(syscfg_typed(SYSCFG_BOOLEAN, "maybe"));
	CU_ASSERT_PTR_NULL(syscfg_typed(SYSCFG_JSON, "{"));
	CU_ASSERT_PTR_NULL(syscfg_typed(SYSCFG_STRING, NULL));
}

/* Rules from JSON text for type t; true when they parsed cleanly. */
static bool
rules(enum syscfg_type t, const char *json, struct syscfg_rules *out,
    struct sink *s)
{
	struct json_object *o = json_tokener_parse(json);
	struct syscfg_report r = report_to(s);
	bool ok = syscfg_rules_parse(o, t, out, &r);

	json_object_put(o);
	return ok;
}

static bool
check(enum syscfg_type t, const struct syscfg_rules *ru, const char *canon,
    struct sink *s)
{
	struct syscfg_report r = report_to(s);

	return syscfg_value_check(t, ru, canon, &r);
}

static void
test_numeric_rules(void)
{
	struct syscfg_rules ru;
	struct sink s;

	CU_ASSERT_TRUE(rules(SYSCFG_INTEGER, "{\"min\":1,\"max\":10,"
	    "\"enum\":[2,4,10]}", &ru, &s));
	CU_ASSERT_TRUE(check(SYSCFG_INTEGER, &ru, "4", &s));
	CU_ASSERT_TRUE(check(SYSCFG_INTEGER, &ru, "10", &s));
	CU_ASSERT_FALSE(check(SYSCFG_INTEGER, &ru, "0", &s));
	CU_ASSERT_TRUE(has(&s, "config_value:below_min"));
	CU_ASSERT_TRUE(has(&s, "config_value:not_in_enum"));
	CU_ASSERT_EQUAL(s.n, 2);   /* every reason, not only the first */
	CU_ASSERT_FALSE(check(SYSCFG_INTEGER, &ru, "11", &s));
	CU_ASSERT_TRUE(has(&s, "config_value:above_max"));
	CU_ASSERT_FALSE(check(SYSCFG_INTEGER, &ru, "3", &s));
	CU_ASSERT_TRUE(has(&s, "config_value:not_in_enum"));
	syscfg_rules_free(&ru);

	/* Integers beyond 2^53 compare exactly. */
	CU_ASSERT_TRUE(rules(SYSCFG_INTEGER, "{\"max\":9007199254740993}", &ru,
	    &s));
	CU_ASSERT_TRUE(check(SYSCFG_INTEGER, &ru, "9007199254740993", &s));
	CU_ASSERT_FALSE(check(SYSCFG_INTEGER, &ru, "9007199254740994", &s));
	syscfg_rules_free(&ru);

	CU_ASSERT_TRUE(rules(SYSCFG_FLOAT, "{\"min\":0.5,\"max\":1,"
	    "\"enum\":[0.5,1]}", &ru, &s));
	CU_ASSERT_TRUE(check(SYSCFG_FLOAT, &ru, "1", &s));
	CU_ASSERT_FALSE(check(SYSCFG_FLOAT, &ru, "0.25", &s));
	CU_ASSERT_TRUE(has(&s, "config_value:below_min"));
	syscfg_rules_free(&ru);
}

static void
test_string_rules(void)
{
	struct syscfg_rules ru;
	struct sink s;

	CU_ASSERT_TRUE(rules(SYSCFG_STRING, "{\"min_length\":2,\"max_length\":4,"
	    "\"pattern\":\"[a-zก-๙]+\"}", &ru, &s));
	/* Lengths count characters, not bytes: 3 Thai letters = 9 bytes. */
	CU_ASSERT_TRUE(check(SYSCFG_STRING, &ru, "กขค", &s));
	CU_ASSERT_TRUE(check(SYSCFG_STRING, &ru, "abcd", &s));
	CU_ASSERT_FALSE(check(SYSCFG_STRING, &ru, "a", &s));
	CU_ASSERT_TRUE(has(&s, "config_value:too_short"));
	CU_ASSERT_FALSE(check(SYSCFG_STRING, &ru, "abcde", &s));
	CU_ASSERT_TRUE(has(&s, "config_value:too_long"));
	/* The pattern must match the whole value. */
	CU_ASSERT_FALSE(check(SYSCFG_STRING, &ru, "ab1", &s));
	CU_ASSERT_TRUE(has(&s, "config_value:pattern_mismatch"));
	CU_ASSERT_FALSE(check(SYSCFG_STRING, &ru, "1ab", &s));
	syscfg_rules_free(&ru);

	CU_ASSERT_TRUE(rules(SYSCFG_STRING, "{\"enum\":[\"th\",\"en\"]}", &ru,
	    &s));
	CU_ASSERT_TRUE(check(SYSCFG_STRING, &ru, "th", &s));
	CU_ASSERT_FALSE(check(SYSCFG_STRING, &ru, "fr", &s));
	CU_ASSERT_TRUE(has(&s, "config_value:not_in_enum"));
	syscfg_rules_free(&ru);

	/* Catastrophic backtracking is stopped, and reported as such. */
	CU_ASSERT_TRUE(rules(SYSCFG_STRING, "{\"pattern\":\"(a+)+b\"}", &ru,
	    &s));
	CU_ASSERT_FALSE(check(SYSCFG_STRING, &ru,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac", &s));
	CU_ASSERT_TRUE(has(&s, "config_value:pattern_too_complex") ||
	    has(&s, "config_value:pattern_mismatch"));
	syscfg_rules_free(&ru);
}

static void
test_bad_rules(void)
{
	struct syscfg_rules ru;
	struct sink s;

	CU_ASSERT_FALSE(rules(SYSCFG_STRING, "[1]", &ru, &s));
	CU_ASSERT_TRUE(has(&s, "validation_rules:invalid_rules"));
	syscfg_rules_free(&ru);
	CU_ASSERT_FALSE(rules(SYSCFG_STRING, "{\"maximum\":1,\"min\":1,"
	    "\"pattern\":\"(\",\"max_length\":-1}", &ru, &s));
	CU_ASSERT_TRUE(has(&s, "validation_rules.maximum:unknown_rule"));
	CU_ASSERT_TRUE(has(&s, "validation_rules.min:rule_not_applicable"));
	CU_ASSERT_TRUE(has(&s, "validation_rules.pattern:invalid_pattern"));
	CU_ASSERT_TRUE(has(&s, "validation_rules.max_length:invalid_rule"));
	syscfg_rules_free(&ru);
	CU_ASSERT_FALSE(rules(SYSCFG_INTEGER, "{\"min\":5,\"max\":1}", &ru, &s));
	CU_ASSERT_TRUE(has(&s, "validation_rules:rule_conflict"));
	syscfg_rules_free(&ru);
	CU_ASSERT_FALSE(rules(SYSCFG_INTEGER, "{\"min\":0.5}", &ru, &s));
	CU_ASSERT_TRUE(has(&s, "validation_rules:invalid_rule"));
	syscfg_rules_free(&ru);
	CU_ASSERT_FALSE(rules(SYSCFG_INTEGER, "{\"enum\":[1,\"2\"]}", &ru, &s));
	CU_ASSERT_TRUE(has(&s, "validation_rules.enum:invalid_rule"));
	syscfg_rules_free(&ru);
	CU_ASSERT_FALSE(rules(SYSCFG_STRING, "{\"enum\":[]}", &ru, &s));
	syscfg_rules_free(&ru);
	CU_ASSERT_FALSE(rules(SYSCFG_BOOLEAN, "{\"enum\":[true]}", &ru, &s));
	CU_ASSERT_TRUE(has(&s, "validation_rules.enum:rule_not_applicable"));
	syscfg_rules_free(&ru);
	CU_ASSERT_FALSE(rules(SYSCFG_STRING, "{\"min_length\":3,"
	    "\"max_length\":2}", &ru, &s));
	CU_ASSERT_TRUE(has(&s, "validation_rules:rule_conflict"));
	syscfg_rules_free(&ru);
	/* No rules at all is fine. */
	CU_ASSERT_TRUE(rules(SYSCFG_JSON, "{}", &ru, &s));
	syscfg_rules_free(&ru);
}

static void
test_rules_round_trip(void)
{
	struct syscfg_rules ru, again;
	struct json_object *o;
	struct sink s;
	const char *text;

	CU_ASSERT_TRUE(rules(SYSCFG_STRING, "{\"max_length\":9,"
	    "\"pattern\":\"x+\",\"enum\":[\"x\",\"xx\"]}", &ru, &s));
	o = syscfg_rules_json(&ru);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	CU_ASSERT_TRUE(rules(SYSCFG_STRING, text, &again, &s));
	CU_ASSERT_TRUE(again.has_max_length && again.max_length == 9);
	CU_ASSERT_STRING_EQUAL(again.pattern ? again.pattern : "", "x+");
	json_object_put(o);
	syscfg_rules_free(&ru);
	syscfg_rules_free(&again);
}

static void
test_keys_and_environments(void)
{
	CU_ASSERT_TRUE(syscfg_key_ok("smtp.password"));
	CU_ASSERT_TRUE(syscfg_key_ok("A1:b_c-d"));
	CU_ASSERT_FALSE(syscfg_key_ok(""));
	CU_ASSERT_FALSE(syscfg_key_ok(".hidden"));
	CU_ASSERT_FALSE(syscfg_key_ok("a/b"));
	CU_ASSERT_FALSE(syscfg_key_ok("a b"));
	CU_ASSERT_FALSE(syscfg_key_ok(NULL));
	{
		char k[130];

		memset(k, 'a', 129);
		k[129] = '\0';
		CU_ASSERT_FALSE(syscfg_key_ok(k));
		k[128] = '\0';
		CU_ASSERT_TRUE(syscfg_key_ok(k));
	}
	CU_ASSERT_TRUE(syscfg_environment_ok("staging"));
	CU_ASSERT_FALSE(syscfg_environment_ok("prod"));
	CU_ASSERT_FALSE(syscfg_environment_ok(NULL));
}

void
test_config_values_register(void)
{
	static const struct test_case cases[] = {
		{ "every type parses to one canonical text",
		    test_types_and_canonical_text },
		{ "wrong types are invalid_type", test_wrong_types },
		{ "typed values have their JSON type", test_typed_value },
		{ "min, max, enum on numbers (exact int64)", test_numeric_rules },
		{ "min/max_length in characters, whole-value pattern, enum, "
		    "backtracking bound", test_string_rules },
		{ "bad rules are reported, each", test_bad_rules },
		{ "rules survive storage", test_rules_round_trip },
		{ "key and environment formats", test_keys_and_environments },
		{ NULL, NULL },
	};

	tests_add_suite("config_values", cases);
}
