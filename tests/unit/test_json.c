/* test_json.c - unit tests of strict JSON parsing and accessors (common/json.c). */
#include "tests.h"
#include "common/arena.h"
#include "common/json.h"

#include <string.h>

/* Parse len bytes with the default depth; returns the result code and
 * leaves the object (or NULL) in *out. */
static int
parse(const char *text, size_t len, struct json_object **out,
    struct gacp_err *err)
{
	gacp_err_clear(err);
	return json_parse_strict(text, len, JSON_MAX_DEPTH, out, err);
}

static void
check_invalid(const char *text, size_t len)
{
	struct json_object *obj = NULL;
	struct gacp_err err;

	CU_ASSERT_EQUAL(parse(text, len, &obj, &err), GACP_EINVAL);
	CU_ASSERT_PTR_NULL(obj);
	CU_ASSERT_STRING_EQUAL(err.code, "invalid_json");
}

/* The message of the error the default parse gives for text. */
static const char *
err_message_of(const char *text)
{
	static struct gacp_err err;
	struct json_object *obj = NULL;

	if (parse(text, strlen(text), &obj, &err) == GACP_OK) {
		json_object_put(obj);
		return "";
	}
	return err.msg;
}

static void
test_object(void)
{
	const char *text = "{\"name\":\"demo\",\"n\":42,\"ok\":true,"
	    "\"obj\":{\"x\":1},\"list\":[1,2],\"none\":null}";
	struct json_object *obj = NULL;
	struct gacp_err err;
	int64_t n = 0;
	bool b = false;

	CU_ASSERT_EQUAL_FATAL(parse(text, strlen(text), &obj, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(json_get_str(obj, "name"), "demo");
	CU_ASSERT(json_get_int64(obj, "n", &n));
	CU_ASSERT_EQUAL(n, 42);
	CU_ASSERT(json_get_bool(obj, "ok", &b));
	CU_ASSERT(b);
	CU_ASSERT_PTR_NOT_NULL(json_get_obj(obj, "obj"));
	CU_ASSERT_PTR_NOT_NULL(json_get_array(obj, "list"));
	/* Wrong type or absent: NULL / false, never a conversion. */
	CU_ASSERT_PTR_NULL(json_get_str(obj, "n"));
	CU_ASSERT_FALSE(json_get_int64(obj, "name", &n));
	CU_ASSERT_FALSE(json_get_bool(obj, "n", &b));
	CU_ASSERT_PTR_NULL(json_get_obj(obj, "list"));
	CU_ASSERT_PTR_NULL(json_get_array(obj, "obj"));
	CU_ASSERT_PTR_NULL(json_get_str(obj, "none"));
	CU_ASSERT_PTR_NULL(json_get_str(obj, "missing"));
	CU_ASSERT_PTR_NULL(json_get_str(NULL, "name"));
	CU_ASSERT_PTR_NULL(json_get_str(json_get_array(obj, "list"), "name"));
	json_object_put(obj);
}

static void
test_top_level_scalars(void)
{
	struct json_object *obj = NULL;
	struct gacp_err err;

	/* Regression (fuzz-json): a number or literal at the very end of the
	 * input was reported as a truncated document. */
	CU_ASSERT_EQUAL_FATAL(parse("42", 2, &obj, &err), GACP_OK);
	CU_ASSERT_EQUAL(json_object_get_int64(obj), 42);
	json_object_put(obj);
	CU_ASSERT_EQUAL_FATAL(parse("true", 4, &obj, &err), GACP_OK);
	CU_ASSERT(json_object_get_boolean(obj));
	json_object_put(obj);
	CU_ASSERT_EQUAL_FATAL(parse("-1.5e3", 6, &obj, &err), GACP_OK);
	CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(obj), -1500.0, 1e-9);
	json_object_put(obj);
	CU_ASSERT_EQUAL_FATAL(parse(" 7 \n", 4, &obj, &err), GACP_OK);
	CU_ASSERT_EQUAL(json_object_get_int64(obj), 7);
	json_object_put(obj);
	CU_ASSERT_EQUAL(parse("null", 4, &obj, &err), GACP_OK);
	CU_ASSERT_PTR_NULL(obj);
	CU_ASSERT_EQUAL_FATAL(parse("\"s\"", 3, &obj, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(json_object_get_string(obj), "s");
	json_object_put(obj);
	/* Only the given length counts, whatever follows in memory. */
	CU_ASSERT_EQUAL_FATAL(parse("12345", 2, &obj, &err), GACP_OK);
	CU_ASSERT_EQUAL(json_object_get_int64(obj), 12);
	json_object_put(obj);
}

static void
test_truncated_and_trailing(void)
{
	struct json_object *obj = NULL;
	struct gacp_err err;

	CU_ASSERT_EQUAL(parse("{\"a\":1", 6, &obj, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "JSON document is truncated");
	CU_ASSERT_EQUAL(parse("tru", 3, &obj, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "JSON document is truncated");
	CU_ASSERT_EQUAL(parse("[1,", 3, &obj, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(parse("{} x", 4, &obj, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "invalid_json");
	CU_ASSERT_EQUAL(parse("{}  \n x", 7, &obj, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(parse("4 2", 3, &obj, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(parse("{}{}", 4, &obj, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(parse("{} \t\r\n", 6, &obj, &err), GACP_OK);
	json_object_put(obj);
	check_invalid("", 0);
	check_invalid("   ", 3);
	check_invalid("{\"a\":1,}", 8);
	check_invalid("[01]", 4);
}

/* json-c's strict mode still takes a single-quoted object key; its
 * brackets once sent the duplicate-key scan below depth 0 (fuzz-webhook). */
static void
test_single_quotes_refused(void)
{
	struct json_object *obj = NULL;
	struct gacp_err err;

	check_invalid("{']':\"\"}", 8);
	check_invalid("[{']]':{}}]", 11);
	check_invalid("{'a':1}", 7);
	check_invalid("['a']", 5);
	CU_ASSERT_STRING_EQUAL(err_message_of("{'k':2}"),
	    "invalid JSON: a string or key is not in double quotes");
	/* A quote inside a string is only text. */
	CU_ASSERT_EQUAL_FATAL(parse("{\"it's\":\"'{]\"}", 14, &obj, &err),
	    GACP_OK);
	CU_ASSERT_STRING_EQUAL(json_object_get_string(
	    json_object_object_get(obj, "it's")), "'{]");
	json_object_put(obj);
}

static void
test_invalid_utf8_refused(void)
{
	/* Regression (fuzz-json): json-c's own UTF-8 check accepts these, and
	 * PostgreSQL would refuse them later. */
	check_invalid("\"\xc0\xaf\"", 4);                 /* overlong '/' */
	check_invalid("{\"t\":\"\xc0\xa9\"}", 10);
	check_invalid("\"\xed\xa0\x80\"", 5);             /* surrogate */
	check_invalid("\"\xf4\x90\x80\x80\"", 6);         /* > U+10FFFF */
	check_invalid("\"\xe2\x82\"", 4);                 /* truncated */
	check_invalid("\"\xff\"", 3);
	check_invalid("{\"a\":\"x\"}\0", 10);              /* raw NUL */
	check_invalid("{\"a\":\"x\0y\"}", 11);
}

static void
test_valid_utf8_accepted(void)
{
	const char *text = "{\"s\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\","
	    "\"e\":\"\\u00e9\\ud83d\\ude00\"}";
	struct json_object *obj = NULL;
	struct gacp_err err;

	CU_ASSERT_EQUAL_FATAL(parse(text, strlen(text), &obj, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(json_get_str(obj, "s"),
	    "caf\xc3\xa9 \xf0\x9f\x98\x80");
	CU_ASSERT_STRING_EQUAL(json_get_str(obj, "e"),
	    "\xc3\xa9\xf0\x9f\x98\x80");
	json_object_put(obj);
}

static void
test_depth_limit(void)
{
	char deep[400];
	struct json_object *obj = NULL;
	struct gacp_err err;
	size_t i, d;

	for (d = 0; d < 2; d++) {
		size_t levels = d == 0 ? 8 : 150;
		for (i = 0; i < levels; i++) {
			deep[i] = '[';
			deep[2 * levels - 1 - i] = ']';
		}
		gacp_err_clear(&err);
		obj = NULL;
		if (d == 0) {
			CU_ASSERT_EQUAL(json_parse_strict(deep, 2 * levels,
			    JSON_MAX_DEPTH, &obj, &err), GACP_OK);
			json_object_put(obj);
		} else {
			CU_ASSERT_EQUAL(json_parse_strict(deep, 2 * levels,
			    JSON_MAX_DEPTH, &obj, &err), GACP_EINVAL);
			CU_ASSERT_STRING_EQUAL(err.code, "invalid_json");
		}
	}
}

static void
test_arena_owns_object(void)
{
	struct json_object *obj = NULL;
	struct gacp_err err;
	struct arena a;

	arena_init(&a, 256);
	CU_ASSERT_EQUAL_FATAL(json_parse_arena(&a, "{\"k\":[1]}", 9, &obj,
	    &err), GACP_OK);
	json_object_get(obj);                  /* our own reference */
	arena_reset(&a);                       /* drops the arena's */
	CU_ASSERT_EQUAL(json_object_put(obj), 1);   /* last one: freed */
	/* A failed parse registers nothing. */
	CU_ASSERT_EQUAL(json_parse_arena(&a, "{", 1, &obj, &err), GACP_EINVAL);
	CU_ASSERT_PTR_NULL(a.cleanups);
	arena_cleanup(&a);
}

static void
test_compact(void)
{
	const char *text = "{ \"u\" : \"a/b\", \"n\" : [ 1 , 2 ] }";
	struct json_object *obj = NULL;
	struct gacp_err err;

	CU_ASSERT_EQUAL_FATAL(parse(text, strlen(text), &obj, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(json_compact(obj), "{\"u\":\"a/b\",\"n\":[1,2]}");
	json_object_put(obj);
}

/* "\u0000" inside a string would cut it short as a C string: refused by
 * json_get_str (bad-input catalogue: NUL bytes). */
static void
test_nul_in_string(void)
{
	const char *text = "{\"a\":\"hel\\u0000lo\",\"b\":\"ok\"}";
	struct json_object *obj = NULL;
	struct gacp_err err;

	CU_ASSERT_EQUAL_FATAL(parse(text, strlen(text), &obj, &err), GACP_OK);
	CU_ASSERT_PTR_NULL(json_get_str(obj, "a"));
	CU_ASSERT_STRING_EQUAL(json_get_str(obj, "b"), "ok");
	json_object_put(obj);
}

/* json-c keeps the last of duplicate keys; the strict parser refuses
 * them at any depth, also when spelt differently ("\u0061" is "a"), and
 * still accepts the same key in different objects and ':' in strings. */
static void
test_duplicate_keys(void)
{
	static const char *bad[] = {
		"{\"text\":\"hello\",\"text\":\"x\"}",
		"{\"a\":1,\"\\u0061\":2}",
		"{\"o\":{\"k\":1,\"k\":1}}",
		"[{\"a\":1},{\"b\":[{\"c\":{},\"c\":[]}]}]",
		/* The dropped first value holds objects of its own. */
		"{\"a\":{\"x\":{\"y\":1}},\"b\":2,\"a\":{\"z\":3}}",
	};
	static const char *good[] = {
		"{\"a\":1,\"b\":{\"a\":1},\"c\":[{\"a\":1},{\"a\":2}]}",
		"{\"a:b\":\"c:d\",\"e\\\":\":\"{\\\"\"}",
		"{}",
		"[[],{},{\"\":1}]",
	};
	struct json_object *obj = NULL;
	struct gacp_err err;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		check_invalid(bad[i], strlen(bad[i]));
		CU_ASSERT_PTR_NOT_NULL(strstr(err_message_of(bad[i]),
		    "duplicate key"));
	}
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		CU_ASSERT_EQUAL(parse(good[i], strlen(good[i]), &obj, &err),
		    GACP_OK);
		json_object_put(obj);
		obj = NULL;
	}
}

/* NaN and Infinity are not JSON (RFC 8259 §6) but json-c accepts them
 * even in strict mode; a number too large for a double becomes one. */
static void
test_non_finite_numbers(void)
{
	static const char *bad[] = {
		"{\"threshold\":NaN}", "{\"a\":Infinity}", "[-Infinity]",
		"{\"max\":1e999}", "[-1e400]", "NaN",
	};
	struct json_object *obj = NULL;
	struct gacp_err err;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		check_invalid(bad[i], strlen(bad[i]));
		CU_ASSERT_PTR_NOT_NULL(strstr(err_message_of(bad[i]),
		    "not finite"));
	}
	CU_ASSERT_EQUAL(parse("[1e308,-2.5e-300,0]", 19, &obj, &err), GACP_OK);
	json_object_put(obj);
}

static const struct test_case cases[] = {
	{ "object and accessors", test_object },
	{ "top-level scalars", test_top_level_scalars },
	{ "truncated and trailing", test_truncated_and_trailing },
	{ "invalid UTF-8 refused", test_invalid_utf8_refused },
	{ "valid UTF-8 accepted", test_valid_utf8_accepted },
	{ "depth limit", test_depth_limit },
	{ "arena owns object", test_arena_owns_object },
	{ "compact", test_compact },
	{ "NUL inside a string refused", test_nul_in_string },
	{ "duplicate keys refused", test_duplicate_keys },
	{ "NaN, Infinity, out of range refused", test_non_finite_numbers },
	{ "single-quoted strings and keys refused", test_single_quotes_refused },
	{ NULL, NULL }
};

void
test_json_register(void)
{
	tests_add_suite("json", cases);
}
