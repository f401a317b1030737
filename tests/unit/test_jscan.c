/* test_jscan.c - unit tests of the flat JSON scanner (common/jscan.c),
 * alone and against json_parse_strict(), whose contract it keeps. */
#include "tests.h"
#include "jscan_diff.h"
#include "common/arena.h"
#include "common/jscan.h"
#include "common/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A literal's length, NULs inside it included. */
#define LIT(s) (s), (sizeof(s) - 1)

static struct arena a;

/* Scan with the default depth into *js (arena a). */
static int
scan(const char *text, size_t len, struct jscan *js, struct gacp_err *err)
{
	memset(js, 0xa5, sizeof(*js));   /* jscan_parse must set it all */
	gacp_err_clear(err);
	return jscan_parse(&a, text, len, JSON_MAX_DEPTH, js, err);
}

/* jscan refuses text as invalid_json and leaves no tokens. */
static void
check_refused(const char *text, size_t len)
{
	struct gacp_err err;
	struct jscan js;
	int rc;

	arena_init(&a, 1024);
	if ((rc = scan(text, len, &js, &err)) != GACP_EINVAL)
		fprintf(stderr, "\naccepted: %.*s\n", (int)len, text);
	CU_ASSERT_EQUAL(rc, GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "invalid_json");
	CU_ASSERT_PTR_NULL(js.tok);
	CU_ASSERT_EQUAL(js.ntok, 0);
	arena_cleanup(&a);
}

static void
check_accepted(const char *text, size_t len)
{
	struct gacp_err err;
	struct jscan js;
	int rc;

	arena_init(&a, 1024);
	if ((rc = scan(text, len, &js, &err)) != GACP_OK)
		fprintf(stderr, "\nrefused: %.*s: %s\n", (int)len, text, err.msg);
	CU_ASSERT_EQUAL(rc, GACP_OK);
	CU_ASSERT(js.ntok > 0);
	CU_ASSERT_EQUAL(js.tok[0].next, js.ntok);
	arena_cleanup(&a);
}

/* Both parsers agree on text (a documented stricter refusal counts),
 * and the stricter case is the one expected. */
static void
check_same(const char *text, size_t len, enum jscan_stricter want)
{
	struct jscan_diff d;
	bool same = jscan_diff_run(text, len, JSON_MAX_DEPTH, &d);

	if (!same || d.stricter != want)
		fprintf(stderr, "\n%.*s: %s (stricter: %s)\n", (int)len, text,
		    d.what, jscan_stricter_name(d.stricter));
	CU_ASSERT(same);
	CU_ASSERT_EQUAL(d.stricter, want);
}

/* The message jscan gives for text. */
static const char *
message_of(const char *text, size_t len)
{
	static struct gacp_err err;
	struct jscan js;

	arena_init(&a, 1024);
	if (scan(text, len, &js, &err) == GACP_OK)
		err.msg[0] = '\0';
	arena_cleanup(&a);
	return err.msg;
}

/* "<n nested open><leaf><n close>" for arrays ("[" "]") or objects
 * ({"a": }), malloc'd; *len gets its length. */
static char *
nested(size_t n, bool objects, const char *leaf, size_t *len)
{
	const char *open = objects ? "{\"a\":" : "[", *close = objects ? "}" : "]";
	size_t no = strlen(open), nl = strlen(leaf), i, p = 0;
	char *s = malloc(n * (no + 1) + nl + 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (i = 0; i < n; i++, p += no)
		memcpy(s + p, open, no);
	memcpy(s + p, leaf, nl);
	p += nl;
	for (i = 0; i < n; i++)
		s[p++] = close[0];
	s[p] = '\0';
	*len = p;
	return s;
}

/* An object of n keys "k0".."k<n-1>", the last key replaced by dup when
 * dup is not NULL; malloc'd. */
static char *
many_keys(size_t n, const char *dup, size_t *len)
{
	size_t cap = n * 24 + 64, p = 0, i;
	char *s = malloc(cap);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	s[p++] = '{';
	for (i = 0; i < n; i++) {
		if (dup != NULL && i == n - 1)
			p += (size_t)snprintf(s + p, cap - p, "%s\"%s\":%zu",
			    i ? "," : "", dup, i);
		else
			p += (size_t)snprintf(s + p, cap - p, "%s\"k%zu\":%zu",
			    i ? "," : "", i, i);
	}
	s[p++] = '}';
	s[p] = '\0';
	*len = p;
	return s;
}

static void
test_grammar_accepted(void)
{
	static const char *good[] = {
		"{}", "[]", "\"\"", "0", "-0", "1", "-1", "42", "true", "false",
		"null", "12.5", "-0.5", "0.0", "1e5", "1E5", "1e+5", "1e-5",
		"-2.5E-3", "6.02214076e23", "123456789012345678",
		"-9223372036854775808", "18446744073709551615",
		"{\"a\":{\"b\":{\"c\":[1,[2,[3,{}]]]}}}",
		"[[],[[]],{},{\"\":[]},[{}]]",
		"[\"\\\"\", \"\\\\\", \"\\/\", \"\\b\", \"\\f\", \"\\n\", \"\\r\", "
		    "\"\\t\", \"\\u0041\", \"\\u00e9\", \"\\u00E9\", "
		    "\"\\ud83d\\ude00\"]",
		" \t\n\r{ \"a\" : [ 1 , 2 ] , \"b\" : null } \r\n\t ",
		"\n[\n]\n",
		"{\"caf\xc3\xa9\":\"\xf0\x9f\x98\x80 \xe2\x82\xac\"}",
		"1e-999", "-1e-999", "0e999", "1e308", "-1.7976931348623157e308",
		"[true,false,null,0,\"\",{},[]]",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		check_accepted(good[i], strlen(good[i]));
		check_same(good[i], strlen(good[i]), JSCAN_STRICTER_NONE);
	}
}

static void
test_grammar_refused(void)
{
	static const struct { const char *text; size_t len; } bad[] = {
		{ LIT("") }, { LIT(" ") }, { LIT(" \t\r\n ") },
		{ LIT("[1,]") }, { LIT("{\"a\":1,}") }, { LIT("[,1]") },
		{ LIT("[1,,2]") }, { LIT("{,}") },
		{ LIT("01") }, { LIT("[01]") }, { LIT("00") }, { LIT("-01") },
		{ LIT("[-00]") }, { LIT("00.5") },
		{ LIT("1.") }, { LIT("[1.]") }, { LIT("1.e5") }, { LIT("-0.") },
		{ LIT(".5") }, { LIT("-.5") }, { LIT("+1") }, { LIT("-") },
		{ LIT("1e") }, { LIT("1e+") }, { LIT("1E-") }, { LIT("0x10") },
		{ LIT("1_000") }, { LIT("1.5.") }, { LIT("1e5e5") },
		{ LIT("\"\\x\"") }, { LIT("\"\\'\"") }, { LIT("\"\\U0041\"") },
		{ LIT("\"\\u12\"") }, { LIT("\"\\u12G4\"") }, { LIT("\"\\u\"") },
		{ LIT("\"abc") }, { LIT("\"abc\\\"") }, { LIT("\"a\\") },
		{ LIT("\"a\x01" "b\"") }, { LIT("\"a\tb\"") }, { LIT("\"a\nb\"") },
		{ LIT("\"\x1f\"") }, { LIT("{\"k\x0a\":1}") },
		{ LIT("{'a':1}") }, { LIT("['a']") }, { LIT("'a'") },
		{ LIT("{a:1}") }, { LIT("{1:2}") }, { LIT("{\"a\" 1}") },
		{ LIT("{\"a\"::1}") }, { LIT("{\"a\":}") }, { LIT("[1 2]") },
		{ LIT("{} x") }, { LIT("{}{}") }, { LIT("1 2") }, { LIT("[]]") },
		{ LIT("{\"a\":1}}") }, { LIT("[1]x") }, { LIT("nulll") },
		{ LIT("tru") }, { LIT("nul") }, { LIT("True") }, { LIT("NULL") },
		{ LIT("[") }, { LIT("{") }, { LIT("{\"a\"") }, { LIT("{\"a\":") },
		{ LIT("[1,") },
		/* Invalid UTF-8: overlong, encoded surrogate, above U+10FFFF,
		 * truncated, stray bytes, a raw NUL, a byte order mark. */
		{ LIT("\"\xc0\xaf\"") }, { LIT("\"\xe0\x80\xaf\"") },
		{ LIT("\"\xed\xa0\x80\"") }, { LIT("\"\xed\xbf\xbf\"") },
		{ LIT("\"\xf4\x90\x80\x80\"") }, { LIT("\"\xf5\x80\x80\x80\"") },
		{ LIT("\"\xe2\x82\"") }, { LIT("\"\xff\"") }, { LIT("\"\x80\"") },
		{ LIT("{\"a\":\"x\0y\"}") }, { LIT("{}\0") },
		{ LIT("\xef\xbb\xbf{}") },
		/* White space RFC 8259 does not list. */
		{ LIT("\f1") }, { LIT("\v[]") }, { LIT("[1\f]") },
		/* Not finite as a double. */
		{ LIT("NaN") }, { LIT("Infinity") }, { LIT("-Infinity") },
		{ LIT("[nan]") }, { LIT("1e999") }, { LIT("-1e999") },
		{ LIT("{\"x\":1e400}") }, { LIT("2e308") },
		{ LIT("/* c */ 1") }, { LIT("[1] // c") },
	};
	char big[402];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_refused(bad[i].text, bad[i].len);
	/* A 400-digit integer is infinite as a double. */
	big[0] = '9';
	memset(big + 1, '0', 399);
	check_refused(big, 400);
	big[0] = '-';
	big[1] = '9';
	memset(big + 2, '0', 399);
	check_refused(big, 401);
	/* 300 digits (1e299) are finite. */
	big[0] = '1';
	memset(big + 1, '0', 299);
	check_accepted(big, 300);
}

static void
test_messages(void)
{
	struct gacp_err err;
	struct jscan js;
	static const char tiny[] = "{}";

	CU_ASSERT_STRING_EQUAL(message_of(LIT("")),
	    "request body is empty; a JSON document is required");
	CU_ASSERT_STRING_EQUAL(message_of(LIT("[1,]")),
	    "invalid JSON at offset 3: unexpected character");
	CU_ASSERT_STRING_EQUAL(message_of(LIT("[1 2]")),
	    "invalid JSON at offset 3: expected ',' or ']' after an array "
	    "element");
	CU_ASSERT_STRING_EQUAL(message_of(LIT("{\"a\":1 2}")),
	    "invalid JSON at offset 7: expected ',' or '}' after an object "
	    "member");
	CU_ASSERT_STRING_EQUAL(message_of(LIT("{} x")),
	    "unexpected data after the JSON value at offset 3");
	CU_ASSERT_STRING_EQUAL(message_of(LIT("\"a\x01\"")),
	    "invalid JSON at offset 2: control character in a string (write "
	    "it as an escape)");
	CU_ASSERT_STRING_EQUAL(message_of(LIT("[1.]")),
	    "invalid JSON at offset 3: a digit must follow the decimal point");
	CU_ASSERT_STRING_EQUAL(message_of(LIT("\"\\u12\"")),
	    "invalid JSON at offset 1: \\u must be followed by 4 hex digits");
	CU_ASSERT_STRING_EQUAL(message_of(LIT("[\"abc")),
	    "invalid JSON at offset 5: unterminated string");
	CU_ASSERT_STRING_EQUAL(message_of(LIT("{\"a\":1,\"a\":2}")),
	    "invalid JSON: duplicate key in an object");
	CU_ASSERT_STRING_EQUAL(message_of(LIT("\"\xc0\xaf\"")),
	    "request body is not valid UTF-8 JSON text");
	CU_ASSERT_PTR_NOT_NULL(strstr(message_of(LIT("[1e999]")),
	    "not finite"));
	CU_ASSERT_STRING_EQUAL(message_of(LIT("[[")),
	    "invalid JSON at offset 2: the document is truncated");
	/* Only len bytes count, whatever follows them in memory. */
	arena_init(&a, 1024);
	CU_ASSERT_EQUAL_FATAL(scan("12345", 2, &js, &err), GACP_OK);
	CU_ASSERT_EQUAL(js.tok[0].end, 2);
	CU_ASSERT_EQUAL(scan("[1]x", 3, &js, &err), GACP_OK);
	CU_ASSERT_EQUAL(scan("\"ab\"", 3, &js, &err), GACP_EINVAL);
	/* Over 2 GiB: refused before a byte is read. */
	CU_ASSERT_EQUAL(scan(tiny, (size_t)INT32_MAX + 1, &js, &err),
	    GACP_ETOOBIG);
	CU_ASSERT_STRING_EQUAL(err.code, "payload_too_large");
	CU_ASSERT_PTR_NULL(js.tok);
	arena_cleanup(&a);
}

/* Depth as json_parse_strict() counts it: a value inside max_depth
 * containers is refused, an empty container at that depth is not. */
static void
test_depth(void)
{
	static const struct { size_t n; bool objects; const char *leaf;
	    bool ok; } cases[] = {
		{ 32, false, "", true }, { 33, false, "", false },
		{ 31, false, "1", true }, { 32, false, "1", false },
		{ 31, true, "1", true }, { 32, true, "1", false },
		{ 31, true, "{}", true }, { 32, true, "{}", false },
		{ 31, true, "[]", true }, { 100, false, "", false },
		{ 1000, true, "1", false },
	};
	struct json_object *obj;
	struct gacp_err err;
	struct jscan js;
	size_t i, len;
	char *s;
	int depth;

	arena_init(&a, 1024);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = nested(cases[i].n, cases[i].objects, cases[i].leaf, &len);
		obj = NULL;
		CU_ASSERT_EQUAL(json_parse_strict(s, len, JSON_MAX_DEPTH, &obj,
		    &err) == GACP_OK, cases[i].ok);
		json_object_put(obj);
		CU_ASSERT_EQUAL(scan(s, len, &js, &err) == GACP_OK,
		    cases[i].ok);
		if (!cases[i].ok)
			CU_ASSERT_PTR_NOT_NULL(strstr(err.msg,
			    "nesting too deep"));
		check_same(s, len, JSCAN_STRICTER_NONE);
		free(s);
	}
	/* Every small limit, both parsers, around its edge. */
	for (depth = 1; depth <= 5; depth++) {
		for (i = 0; i <= (size_t)depth + 1; i++) {
			struct jscan_diff d;

			s = nested(i, i % 2 == 0, i % 3 ? "1" : "[]", &len);
			CU_ASSERT(jscan_diff_run(s, len, depth, &d));
			CU_ASSERT_EQUAL(d.rc_jscan == GACP_OK,
			    d.rc_json == GACP_OK);
			free(s);
		}
	}
	/* A limit below 1 is taken as 1, as json-c takes it. */
	CU_ASSERT_EQUAL(jscan_parse(&a, LIT("[]"), 0, &js, &err), GACP_OK);
	CU_ASSERT_EQUAL(jscan_parse(&a, LIT("[1]"), 0, &js, &err),
	    GACP_EINVAL);
	CU_ASSERT_EQUAL(jscan_parse(&a, LIT("7"), -5, &js, &err), GACP_OK);
	arena_cleanup(&a);
}

static void
test_duplicates_small(void)
{
	static const struct { const char *text; size_t len; } bad[] = {
		{ LIT("{\"a\":1,\"a\":2}") },
		{ LIT("{\"a\":1,\"b\":2,\"a\":3}") },
		{ LIT("{\"\":1,\"\":2}") },
		/* Equal only once decoded. */
		{ LIT("{\"a\":1,\"\\u0061\":2}") },
		{ LIT("{\"\\u0061\":1,\"\\u0061\":2}") },
		{ LIT("{\"\xc3\xa9\":1,\"\\u00e9\":2}") },
		{ LIT("{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}") },
		{ LIT("{\"\\/\":1,\"/\":2}") },
		/* Unpaired surrogates all decode to U+FFFD. */
		{ LIT("{\"\\ud800\":1,\"\\udc00\":2}") },
		/* json-c keeps a key as a C string, cut at "\u0000": these
		 * are duplicates to json_parse_strict(), and to jscan. */
		{ LIT("{\"a\\u0000b\":1,\"a\\u0000c\":2}") },
		{ LIT("{\"a\\u0000\":1,\"a\":2}") },
		{ LIT("{\"\\u0000\":1,\"\":2}") },
		/* 8 keys, the pairwise path: first and last equal. */
		{ LIT("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
		    "\"a\":8}") },
		/* 9 keys, the sorted path. */
		{ LIT("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
		    "\"h\":8,\"\\u0065\":9}") },
		/* Deep inside, after values holding objects of their own. */
		{ LIT("[{\"a\":1},{\"b\":[{\"c\":{},\"c\":[]}]}]") },
		{ LIT("{\"a\":{\"x\":{\"y\":1}},\"b\":2,\"a\":{\"z\":3}}") },
	};
	static const struct { const char *text; size_t len; } good[] = {
		{ LIT("{\"a\":1,\"b\":{\"a\":1},\"c\":[{\"a\":1},{\"a\":2}]}") },
		{ LIT("{\"a\":1,\"A\":2,\"a \":3,\" a\":4}") },
		{ LIT("{\"a\\u0000b\":1,\"ab\":2}") },
		{ LIT("{\"\\ud800\":1,\"\\ud800\\udc00\":2}") },
		{ LIT("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
		    "\"h\":8}") },
		{ LIT("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
		    "\"h\":8,\"i\":9}") },
		{ LIT("{\"ab\":1,\"a\":2,\"abc\":3,\"b\":4,\"ba\":5,\"\":6,"
		    "\"aa\":7,\"aab\":8,\"abb\":9,\"a\\\"\":10}") },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		check_refused(bad[i].text, bad[i].len);
		CU_ASSERT_STRING_EQUAL(message_of(bad[i].text, bad[i].len),
		    "invalid JSON: duplicate key in an object");
		check_same(bad[i].text, bad[i].len, JSCAN_STRICTER_NONE);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		check_accepted(good[i].text, good[i].len);
		check_same(good[i].text, good[i].len, JSCAN_STRICTER_NONE);
	}
}

/* 100,000 keys are sorted, not compared pairwise: 5e9 comparisons would
 * take seconds, the sort takes milliseconds. */
static void
test_duplicates_many(void)
{
	struct gacp_err err;
	struct jscan js;
	clock_t t0;
	double cpu_s;
	size_t len;
	char *s;

	arena_init(&a, 1 << 20);
	s = many_keys(100000, NULL, &len);
	t0 = clock();
	CU_ASSERT_EQUAL(scan(s, len, &js, &err), GACP_OK);
	cpu_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
	CU_ASSERT(cpu_s < 1.0);
	CU_ASSERT_EQUAL(js.tok[0].count, 100000);
	CU_ASSERT_EQUAL(js.ntok, 200001);
	CU_ASSERT_EQUAL(jscan_member(&js, 0, "k99999"), 200000);
	free(s);
	/* The last key repeats the first. */
	s = many_keys(100000, "k0", &len);
	t0 = clock();
	CU_ASSERT_EQUAL(scan(s, len, &js, &err), GACP_EINVAL);
	cpu_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
	CU_ASSERT(cpu_s < 1.0);
	CU_ASSERT_STRING_EQUAL(err.msg,
	    "invalid JSON: duplicate key in an object");
	free(s);
	/* ... or repeats one in the middle, spelt with an escape. */
	s = many_keys(100000, "k5\\u0030000", &len);
	CU_ASSERT_EQUAL(scan(s, len, &js, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "invalid_json");
	check_same(s, len, JSCAN_STRICTER_NONE);
	free(s);
	arena_cleanup(&a);
}

static void
test_layout(void)
{
	static const char text[] =
	    "{\"a\":[1,{\"b\":null}],\"c\":\"x\",\"d\":{},\"e\":-2.5e1}";
	static const struct { uint8_t type; uint32_t next, count; } want[] = {
		{ JSCAN_OBJECT, 13, 4 },   /* 0 */
		{ JSCAN_STRING, 2, 0 },    /* 1 "a" */
		{ JSCAN_ARRAY, 7, 2 },     /* 2 */
		{ JSCAN_NUMBER, 4, 0 },    /* 3 1 */
		{ JSCAN_OBJECT, 7, 1 },    /* 4 */
		{ JSCAN_STRING, 6, 0 },    /* 5 "b" */
		{ JSCAN_NULL, 7, 0 },      /* 6 */
		{ JSCAN_STRING, 8, 0 },    /* 7 "c" */
		{ JSCAN_STRING, 9, 0 },    /* 8 "x" */
		{ JSCAN_STRING, 10, 0 },   /* 9 "d" */
		{ JSCAN_OBJECT, 11, 0 },   /* 10 {} */
		{ JSCAN_STRING, 12, 0 },   /* 11 "e" */
		{ JSCAN_NUMBER, 13, 0 },   /* 12 -2.5e1 */
	};
	struct gacp_err err;
	struct jscan js;
	size_t i, len;
	const char *raw;

	arena_init(&a, 1024);
	CU_ASSERT_EQUAL_FATAL(scan(LIT(text), &js, &err), GACP_OK);
	CU_ASSERT_EQUAL_FATAL(js.ntok, sizeof(want) / sizeof(want[0]));
	CU_ASSERT_PTR_EQUAL(js.text, text);
	CU_ASSERT_EQUAL(js.len, sizeof(text) - 1);
	for (i = 0; i < js.ntok; i++) {
		CU_ASSERT_EQUAL(js.tok[i].type, want[i].type);
		CU_ASSERT_EQUAL(js.tok[i].next, want[i].next);
		CU_ASSERT_EQUAL(js.tok[i].count, want[i].count);
	}
	/* Offsets: a string's exclude its quotes. */
	CU_ASSERT_EQUAL(js.tok[0].start, 0);
	CU_ASSERT_EQUAL(js.tok[0].end, sizeof(text) - 1);
	CU_ASSERT_EQUAL(js.tok[1].start, 2);
	CU_ASSERT_EQUAL(js.tok[1].end, 3);
	CU_ASSERT_EQUAL(js.tok[3].flags, 0);
	CU_ASSERT_EQUAL(js.tok[12].flags, JSCAN_FRACTION);
	raw = jscan_raw(&js, 2, &len);
	CU_ASSERT_EQUAL(len, strlen("[1,{\"b\":null}]"));
	CU_ASSERT_NSTRING_EQUAL(raw, "[1,{\"b\":null}]", len);
	/* Siblings by `next`: the members' values of the top object. */
	CU_ASSERT_EQUAL(js.tok[2].next + 1, 8);
	CU_ASSERT(jscan_is(&js, 10, JSCAN_OBJECT));
	CU_ASSERT_FALSE(jscan_is(&js, 10, JSCAN_ARRAY));
	CU_ASSERT_FALSE(jscan_is(&js, 13, JSCAN_OBJECT));
	/* A scalar document is one token. */
	CU_ASSERT_EQUAL_FATAL(scan(LIT(" \"s\" "), &js, &err), GACP_OK);
	CU_ASSERT_EQUAL(js.ntok, 1);
	CU_ASSERT_EQUAL(js.tok[0].type, JSCAN_STRING);
	CU_ASSERT_EQUAL(js.tok[0].next, 1);
	/* The token array grows past its first 32 entries. */
	CU_ASSERT_EQUAL_FATAL(scan(LIT("[0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,"
	    "8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9]"), &js, &err),
	    GACP_OK);
	CU_ASSERT_EQUAL(js.ntok, 41);
	CU_ASSERT_EQUAL(js.tok[0].count, 40);
	CU_ASSERT_EQUAL(js.tok[40].start, 79);
	arena_cleanup(&a);
}

static void
test_member(void)
{
	static const char text[] = "{\"id\":1,\"t\\u0065xt\":\"hi\","
	    "\"o\":{\"id\":2},\"a\\u0000b\":3,\"\":4}";
	struct json_object *obj = NULL, *v;
	struct gacp_err err;
	struct jscan js;
	uint32_t o, m;
	int64_t n;
	char *key, *doc;
	size_t i, len;

	arena_init(&a, 1024);
	CU_ASSERT_EQUAL_FATAL(scan(LIT(text), &js, &err), GACP_OK);
	m = jscan_member(&js, 0, "id");
	CU_ASSERT_EQUAL(m, 2);
	CU_ASSERT(jscan_int64(&js, m, &n) && n == 1);
	/* An escaped key matches its decoded name. */
	m = jscan_member(&js, 0, "text");
	CU_ASSERT(jscan_is(&js, m, JSCAN_STRING));
	CU_ASSERT_STRING_EQUAL(jscan_string(&js, m, &a, NULL), "hi");
	CU_ASSERT_EQUAL(jscan_member(&js, 0, "t\\u0065xt"), JSCAN_NONE);
	CU_ASSERT_EQUAL(jscan_member(&js, 0, ""), js.ntok - 1);
	/* Absent, also as a prefix or an extension of a key. */
	CU_ASSERT_EQUAL(jscan_member(&js, 0, "missing"), JSCAN_NONE);
	CU_ASSERT_EQUAL(jscan_member(&js, 0, "i"), JSCAN_NONE);
	CU_ASSERT_EQUAL(jscan_member(&js, 0, "idx"), JSCAN_NONE);
	/* Only the object's own members, not those of a nested one. */
	o = jscan_member(&js, 0, "o");
	CU_ASSERT(jscan_is(&js, o, JSCAN_OBJECT));
	m = jscan_member(&js, o, "id");
	CU_ASSERT(jscan_int64(&js, m, &n) && n == 2);
	CU_ASSERT_EQUAL(jscan_member(&js, o, "text"), JSCAN_NONE);
	/* As json-c: a key is a C string, "a\u0000b" answers to "a". */
	m = jscan_member(&js, 0, "a");
	CU_ASSERT(jscan_int64(&js, m, &n) && n == 3);
	CU_ASSERT_EQUAL_FATAL(json_parse_strict(LIT(text), JSON_MAX_DEPTH,
	    &obj, &err), GACP_OK);
	CU_ASSERT(json_object_object_get_ex(obj, "a", &v));
	CU_ASSERT_EQUAL(json_object_get_int64(v), 3);
	json_object_put(obj);
	/* Not an object, or no token at all. */
	CU_ASSERT_EQUAL(jscan_member(&js, 2, "id"), JSCAN_NONE);
	CU_ASSERT_EQUAL(jscan_member(&js, 1, "id"), JSCAN_NONE);
	CU_ASSERT_EQUAL(jscan_member(&js, js.ntok, "id"), JSCAN_NONE);
	CU_ASSERT_EQUAL(jscan_member(&js, JSCAN_NONE, "id"), JSCAN_NONE);
	CU_ASSERT_EQUAL_FATAL(scan(LIT("[{\"id\":1}]"), &js, &err), GACP_OK);
	CU_ASSERT_EQUAL(jscan_member(&js, 0, "id"), JSCAN_NONE);
	CU_ASSERT_EQUAL(jscan_member(&js, 1, "id"), 3);
	/* A key escaped past 256 bytes (the heap path): 60 "\u0061" and a
	 * "b", and one cut short by a "\u0000" at its start. */
	key = malloc(60 * 6 + 1);
	doc = malloc(2 * 60 * 6 + 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(key);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	for (i = 0; i < 60; i++)
		memcpy(key + 6 * i, "\\u0061", 6);
	key[360] = '\0';
	len = (size_t)snprintf(doc, 2 * 60 * 6 + 64, "{\"%sb\":1,\"x\\u0000%s\":2}",
	    key, key);
	CU_ASSERT_EQUAL_FATAL(scan(doc, len, &js, &err), GACP_OK);
	memset(key, 'a', 60);
	key[60] = 'b';
	key[61] = '\0';
	CU_ASSERT_EQUAL(jscan_member(&js, 0, key), 2);
	key[60] = '\0';
	CU_ASSERT_EQUAL(jscan_member(&js, 0, key), JSCAN_NONE);
	CU_ASSERT_EQUAL(jscan_member(&js, 0, "x"), 4);
	check_same(doc, len, JSCAN_STRICTER_NONE);
	free(doc);
	free(key);
	arena_cleanup(&a);
}

static void
test_iteration(void)
{
	struct gacp_err err;
	struct jscan js;
	uint32_t e, seen[8];
	size_t n = 0;

	arena_init(&a, 1024);
	CU_ASSERT_EQUAL_FATAL(scan(LIT("[1,[2,3],{\"x\":[]},\"s\",[],4]"), &js,
	    &err), GACP_OK);
	for (e = jscan_first(&js, 0); e != JSCAN_NONE && n < 8;
	    e = jscan_next(&js, 0, e))
		seen[n++] = e;
	CU_ASSERT_EQUAL_FATAL(n, 6);
	CU_ASSERT_EQUAL(js.tok[0].count, 6);
	CU_ASSERT(jscan_is(&js, seen[0], JSCAN_NUMBER));
	CU_ASSERT(jscan_is(&js, seen[1], JSCAN_ARRAY));
	CU_ASSERT(jscan_is(&js, seen[2], JSCAN_OBJECT));
	CU_ASSERT(jscan_is(&js, seen[3], JSCAN_STRING));
	CU_ASSERT(jscan_is(&js, seen[4], JSCAN_ARRAY));
	CU_ASSERT(jscan_is(&js, seen[5], JSCAN_NUMBER));
	CU_ASSERT_EQUAL(seen[2], seen[1] + 3);
	/* The inner array: two elements, then nothing. */
	e = jscan_first(&js, seen[1]);
	CU_ASSERT_EQUAL(e, seen[1] + 1);
	e = jscan_next(&js, seen[1], e);
	CU_ASSERT_EQUAL(e, seen[1] + 2);
	CU_ASSERT_EQUAL(jscan_next(&js, seen[1], e), JSCAN_NONE);
	/* Empty arrays, non-arrays, indices past the end. */
	CU_ASSERT_EQUAL(jscan_first(&js, seen[4]), JSCAN_NONE);
	CU_ASSERT_EQUAL(jscan_first(&js, jscan_member(&js, seen[2], "x")),
	    JSCAN_NONE);
	CU_ASSERT_EQUAL(jscan_first(&js, seen[2]), JSCAN_NONE);
	CU_ASSERT_EQUAL(jscan_first(&js, seen[0]), JSCAN_NONE);
	CU_ASSERT_EQUAL(jscan_first(&js, js.ntok), JSCAN_NONE);
	CU_ASSERT_EQUAL(jscan_next(&js, 0, seen[5]), JSCAN_NONE);
	CU_ASSERT_EQUAL(jscan_next(&js, 0, js.ntok), JSCAN_NONE);
	CU_ASSERT_EQUAL(jscan_next(&js, seen[2], seen[2] + 1), JSCAN_NONE);
	CU_ASSERT_EQUAL_FATAL(scan(LIT("[]"), &js, &err), GACP_OK);
	CU_ASSERT_EQUAL(jscan_first(&js, 0), JSCAN_NONE);
	arena_cleanup(&a);
}

/* jscan_string of the document (one string) is want (n bytes), and so is
 * json-c's string. */
static void
check_decoded(const char *text, size_t tlen, const char *want, size_t n)
{
	struct json_object *obj = NULL;
	struct gacp_err err;
	struct jscan js;
	size_t len = 0;
	char *s;

	CU_ASSERT_EQUAL_FATAL(scan(text, tlen, &js, &err), GACP_OK);
	s = jscan_string(&js, 0, &a, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(len, n);
	CU_ASSERT(memcmp(s, want, n) == 0);
	CU_ASSERT_EQUAL(s[len], '\0');
	CU_ASSERT_EQUAL_FATAL(json_parse_strict(text, tlen, JSON_MAX_DEPTH,
	    &obj, &err), GACP_OK);
	CU_ASSERT_EQUAL((size_t)json_object_get_string_len(obj), n);
	CU_ASSERT(memcmp(json_object_get_string(obj), want, n) == 0);
	json_object_put(obj);
	/* No length wanted: still the string. */
	CU_ASSERT_PTR_NOT_NULL(jscan_string(&js, 0, &a, NULL));
}

static void
test_string_decoding(void)
{
	struct gacp_err err;
	struct jscan js;
	size_t len = 99;

	arena_init(&a, 1024);
	check_decoded(LIT("\"plain\""), LIT("plain"));
	check_decoded(LIT("\"\""), LIT(""));
	check_decoded(LIT("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""),
	    LIT("\"\\/\b\f\n\r\t"));
	check_decoded(LIT("\"\\u0041\\u00e9\\u00E9\\u20ac\\uFFFF\""),
	    LIT("A\xc3\xa9\xc3\xa9\xe2\x82\xac\xef\xbf\xbf"));
	check_decoded(LIT("\"\\u007f\\u0080\\u07ff\\u0800\""),
	    LIT("\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80"));
	/* A surrogate pair is one 4-byte character. */
	check_decoded(LIT("\"\\ud83d\\ude00\""), LIT("\xf0\x9f\x98\x80"));
	check_decoded(LIT("\"\\uD800\\uDC00\\uDBFF\\uDFFF\""),
	    LIT("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"));
	/* Unpaired surrogates: U+FFFD each, as json-c gives. */
	check_decoded(LIT("\"\\ud800\""), LIT("\xef\xbf\xbd"));
	check_decoded(LIT("\"\\ud800x\""), LIT("\xef\xbf\xbdx"));
	check_decoded(LIT("\"\\udc00\""), LIT("\xef\xbf\xbd"));
	check_decoded(LIT("\"\\udc00\\ud800\""), LIT("\xef\xbf\xbd\xef\xbf\xbd"));
	check_decoded(LIT("\"\\ud800\\n\""), LIT("\xef\xbf\xbd\n"));
	check_decoded(LIT("\"\\ud800\\u0041\""), LIT("\xef\xbf\xbd" "A"));
	check_decoded(LIT("\"\\ud800\\ud800\\udc00\""),
	    LIT("\xef\xbf\xbd\xf0\x90\x80\x80"));
	/* Raw UTF-8 passes through. */
	check_decoded(LIT("\"caf\xc3\xa9 \xf0\x9f\x98\x80\""),
	    LIT("caf\xc3\xa9 \xf0\x9f\x98\x80"));
	/* "\u0000" is a byte of the string: longer than strlen() says. */
	check_decoded(LIT("\"a\\u0000b\""), LIT("a\0b"));
	CU_ASSERT_EQUAL_FATAL(scan(LIT("\"hel\\u0000lo\""), &js, &err),
	    GACP_OK);
	CU_ASSERT_EQUAL(strlen(jscan_string(&js, 0, &a, &len)), 3);
	CU_ASSERT_EQUAL(len, 6);
	/* Not a string: NULL, *len untouched. */
	CU_ASSERT_EQUAL_FATAL(scan(LIT("[1,null,{}]"), &js, &err), GACP_OK);
	len = 99;
	CU_ASSERT_PTR_NULL(jscan_string(&js, 0, &a, &len));
	CU_ASSERT_PTR_NULL(jscan_string(&js, 1, &a, &len));
	CU_ASSERT_PTR_NULL(jscan_string(&js, 2, &a, &len));
	CU_ASSERT_PTR_NULL(jscan_string(&js, js.ntok, &a, &len));
	CU_ASSERT_EQUAL(len, 99);
	/* A key is a string token too. */
	CU_ASSERT_EQUAL_FATAL(scan(LIT("{\"k\\u00e9\":1}"), &js, &err),
	    GACP_OK);
	CU_ASSERT_STRING_EQUAL(jscan_string(&js, 1, &a, NULL), "k\xc3\xa9");
	CU_ASSERT_EQUAL(js.tok[1].flags, JSCAN_ESCAPED);
	arena_cleanup(&a);
}

static void
test_int64(void)
{
	static const struct { const char *text; bool ok; int64_t v; } cases[] = {
		{ "0", true, 0 }, { "-0", true, 0 }, { "7", true, 7 },
		{ "-42", true, -42 },
		{ "9223372036854775807", true, INT64_MAX },
		{ "-9223372036854775808", true, INT64_MIN },
		{ "9223372036854775808", false, 0 },
		{ "-9223372036854775809", false, 0 },
		{ "18446744073709551615", false, 0 },
		{ "99999999999999999999", false, 0 },
		{ "1.0", false, 0 }, { "1e2", false, 0 }, { "1E0", false, 0 },
		{ "-0.0", false, 0 }, { "10e-1", false, 0 },
		{ "\"1\"", false, 0 }, { "true", false, 0 }, { "null", false, 0 },
		{ "[1]", false, 0 },
	};
	struct gacp_err err;
	struct jscan js;
	int64_t v;
	size_t i;

	arena_init(&a, 1024);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(scan(cases[i].text, strlen(cases[i].text),
		    &js, &err), GACP_OK);
		v = 12345;
		CU_ASSERT_EQUAL(jscan_int64(&js, 0, &v), cases[i].ok);
		CU_ASSERT_EQUAL(v, cases[i].ok ? cases[i].v : 12345);
		check_same(cases[i].text, strlen(cases[i].text),
		    JSCAN_STRICTER_NONE);
	}
	CU_ASSERT_FALSE(jscan_int64(&js, js.ntok, &v));
	arena_cleanup(&a);
}

static void
test_truthy(void)
{
	static const struct { const char *text; bool truthy; } cases[] = {
		{ "true", true }, { "false", false }, { "null", false },
		{ "0", false }, { "-0", false }, { "0.0", false },
		{ "-0.0", false }, { "0e5", false }, { "1e-999", false },
		{ "-1e-999", false }, { "0.000", false },
		{ "1", true }, { "-1", true }, { "10", true }, { "0.5", true },
		{ "1e-300", true }, { "-2.5E3", true },
		{ "\"x\"", true }, { "\"\"", false }, { "\"\\u0000\"", true },
		{ "\"0\"", true }, { "\"false\"", true },
		{ "{}", false }, { "[]", false }, { "[1]", false },
		{ "{\"a\":1}", false },
	};
	struct json_object *obj;
	struct gacp_err err;
	struct jscan js;
	size_t i;

	arena_init(&a, 1024);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(scan(cases[i].text, strlen(cases[i].text),
		    &js, &err), GACP_OK);
		CU_ASSERT_EQUAL(jscan_truthy(&js, 0), cases[i].truthy);
		/* ... which is json_object_get_boolean(). */
		obj = NULL;
		CU_ASSERT_EQUAL_FATAL(json_parse_strict(cases[i].text,
		    strlen(cases[i].text), JSON_MAX_DEPTH, &obj, &err), GACP_OK);
		CU_ASSERT_EQUAL(json_object_get_boolean(obj) != 0,
		    cases[i].truthy);
		json_object_put(obj);
	}
	/* A long fraction (past the 64-byte buffer) and a long zero. */
	CU_ASSERT_EQUAL_FATAL(scan(LIT("0.0000000000000000000000000000000000000"
	    "000000000000000000000000000000000000001"), &js, &err), GACP_OK);
	CU_ASSERT(jscan_truthy(&js, 0));
	CU_ASSERT_EQUAL_FATAL(scan(LIT("0.0000000000000000000000000000000000000"
	    "000000000000000000000000000000000000000"), &js, &err), GACP_OK);
	CU_ASSERT_FALSE(jscan_truthy(&js, 0));
	CU_ASSERT_FALSE(jscan_truthy(&js, js.ntok));
	arena_cleanup(&a);
}

static void
test_raw(void)
{
	static const char text[] = " { \"s\" : \"a\\\"b\" , \"n\" : -1.5e3 ,"
	    " \"o\" : { \"x\" : [ 1 , 2 ] } , \"t\" : true } ";
	struct gacp_err err;
	struct jscan js;
	const char *raw;
	size_t len;

	arena_init(&a, 1024);
	CU_ASSERT_EQUAL_FATAL(scan(LIT(text), &js, &err), GACP_OK);
	raw = jscan_raw(&js, jscan_member(&js, 0, "s"), &len);
	CU_ASSERT_EQUAL(len, 6);
	CU_ASSERT_NSTRING_EQUAL(raw, "\"a\\\"b\"", len);
	raw = jscan_raw(&js, 1, &len);       /* the key, quoted */
	CU_ASSERT_EQUAL(len, 3);
	CU_ASSERT_NSTRING_EQUAL(raw, "\"s\"", len);
	raw = jscan_raw(&js, jscan_member(&js, 0, "n"), &len);
	CU_ASSERT_EQUAL(len, 6);
	CU_ASSERT_NSTRING_EQUAL(raw, "-1.5e3", len);
	raw = jscan_raw(&js, jscan_member(&js, 0, "o"), &len);
	CU_ASSERT_EQUAL(len, strlen("{ \"x\" : [ 1 , 2 ] }"));
	CU_ASSERT_NSTRING_EQUAL(raw, "{ \"x\" : [ 1 , 2 ] }", len);
	raw = jscan_raw(&js, jscan_member(&js, jscan_member(&js, 0, "o"), "x"),
	    &len);
	CU_ASSERT_NSTRING_EQUAL(raw, "[ 1 , 2 ]", len);
	CU_ASSERT_EQUAL(len, 9);
	raw = jscan_raw(&js, jscan_member(&js, 0, "t"), &len);
	CU_ASSERT_NSTRING_EQUAL(raw, "true", len);
	CU_ASSERT_EQUAL(len, 4);
	/* The whole document, without the white space around it. */
	raw = jscan_raw(&js, 0, &len);
	CU_ASSERT_PTR_EQUAL(raw, text + 1);
	CU_ASSERT_EQUAL(len, sizeof(text) - 3);
	CU_ASSERT_PTR_NULL(jscan_raw(&js, js.ntok, &len));
	CU_ASSERT_EQUAL(len, 0);
	arena_cleanup(&a);
}

/* A Messenger webhook body: batched entries, attachments, escapes. */
static const char webhook[] =
    "{\"object\":\"page\",\"entry\":[{\"id\":\"1234567890\",\"time\":"
    "1700000000000,\"messaging\":[{\"sender\":{\"id\":\"2468\"},"
    "\"recipient\":{\"id\":\"1234567890\"},\"timestamp\":1700000000001,"
    "\"message\":{\"mid\":\"m_AbC-123_\\u00e9\",\"text\":\"Hello \\\"bot\\\""
    "\\n\\ud83d\\ude00 caf\xc3\xa9\",\"quick_reply\":{\"payload\":"
    "\"BOOK\\/1\"}}}]},{\"id\":\"1234567890\",\"time\":1700000000002,"
    "\"messaging\":[{\"sender\":{\"id\":\"1357\"},\"recipient\":{\"id\":"
    "\"1234567890\"},\"timestamp\":1700000000003,\"message\":{\"mid\":"
    "\"m_2\",\"attachments\":[{\"type\":\"image\",\"payload\":{\"url\":"
    "\"https:\\/\\/example.com\\/a.jpg?x=1&y=2\"}},{\"type\":\"location\","
    "\"payload\":{\"coordinates\":{\"lat\":48.8566,\"long\":-2.35e0}}}],"
    "\"is_echo\":false}},{\"sender\":{\"id\":\"1357\"},\"recipient\":"
    "{\"id\":\"1234567890\"},\"timestamp\":1700000000004,\"postback\":"
    "{\"title\":\"Start\",\"payload\":\"GET_STARTED\",\"mid\":\"m_3\"}}]}]}";

static void
test_webhook_body(void)
{
	struct gacp_err err;
	struct jscan js;
	uint32_t entry, e, ev, msg, att;
	size_t n = 0;
	int64_t t;

	arena_init(&a, 4096);
	CU_ASSERT_EQUAL_FATAL(scan(LIT(webhook), &js, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(jscan_string(&js, jscan_member(&js, 0, "object"),
	    &a, NULL), "page");
	entry = jscan_member(&js, 0, "entry");
	CU_ASSERT_EQUAL(js.tok[entry].count, 2);
	for (e = jscan_first(&js, entry); e != JSCAN_NONE;
	    e = jscan_next(&js, entry, e))
		n += js.tok[jscan_member(&js, e, "messaging")].count;
	CU_ASSERT_EQUAL(n, 3);
	e = jscan_first(&js, entry);
	ev = jscan_first(&js, jscan_member(&js, e, "messaging"));
	CU_ASSERT(jscan_int64(&js, jscan_member(&js, ev, "timestamp"), &t));
	CU_ASSERT_EQUAL(t, 1700000000001LL);
	msg = jscan_member(&js, ev, "message");
	CU_ASSERT_STRING_EQUAL(jscan_string(&js, jscan_member(&js, msg, "text"),
	    &a, NULL), "Hello \"bot\"\n\xf0\x9f\x98\x80 caf\xc3\xa9");
	CU_ASSERT_STRING_EQUAL(jscan_string(&js, jscan_member(&js, msg, "mid"),
	    &a, NULL), "m_AbC-123_\xc3\xa9");
	e = jscan_next(&js, entry, e);
	ev = jscan_first(&js, jscan_member(&js, e, "messaging"));
	msg = jscan_member(&js, ev, "message");
	CU_ASSERT_FALSE(jscan_truthy(&js, jscan_member(&js, msg, "is_echo")));
	att = jscan_member(&js, msg, "attachments");
	CU_ASSERT_EQUAL(js.tok[att].count, 2);
	CU_ASSERT_STRING_EQUAL(jscan_string(&js, jscan_member(&js,
	    jscan_member(&js, jscan_first(&js, att), "payload"), "url"), &a,
	    NULL), "https://example.com/a.jpg?x=1&y=2");
	ev = jscan_next(&js, jscan_member(&js, e, "messaging"), ev);
	CU_ASSERT(jscan_is(&js, jscan_member(&js, ev, "postback"),
	    JSCAN_OBJECT));
	CU_ASSERT_EQUAL(jscan_member(&js, ev, "message"), JSCAN_NONE);
	check_same(LIT(webhook), JSCAN_STRICTER_NONE);
	arena_cleanup(&a);
}

/* The cases where jscan refuses what json_parse_strict() accepts, each
 * named: RFC 8259 forbids them, json-c lets them through. */
static void
test_stricter_cases(void)
{
	static const struct { const char *text; size_t len;
	    enum jscan_stricter why; } cases[] = {
		/* The two jscan.h documents. */
		{ LIT("\"a\x01\""), JSCAN_STRICTER_CONTROL },
		{ LIT("{\"k\":\"tab\there\"}"), JSCAN_STRICTER_CONTROL },
		{ LIT("[\"\n\"]"), JSCAN_STRICTER_CONTROL },
		{ LIT("1."), JSCAN_STRICTER_POINT },
		{ LIT("[-0.]"), JSCAN_STRICTER_POINT },
		{ LIT("{\"a\":1.}"), JSCAN_STRICTER_POINT },
		/* The same rule where json-c's number goes on: "1.e5". */
		{ LIT("1.e5"), JSCAN_STRICTER_POINT },
		{ LIT("[0.E+1]"), JSCAN_STRICTER_POINT },
		/* json-c refuses "01" but not a leading zero worth zero or
		 * one after a minus sign. */
		{ LIT("00"), JSCAN_STRICTER_LEADING_ZERO },
		{ LIT("[00]"), JSCAN_STRICTER_LEADING_ZERO },
		{ LIT("-01"), JSCAN_STRICTER_LEADING_ZERO },
		{ LIT("{\"a\":-00}"), JSCAN_STRICTER_LEADING_ZERO },
		{ LIT("00.5"), JSCAN_STRICTER_LEADING_ZERO },
		{ LIT("-.5"), JSCAN_STRICTER_MINUS_POINT },
		{ LIT("[-.5e3]"), JSCAN_STRICTER_MINUS_POINT },
	};
	struct json_object *obj;
	struct gacp_err err;
	char big[403];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		obj = NULL;
		CU_ASSERT_EQUAL(json_parse_strict(cases[i].text, cases[i].len,
		    JSON_MAX_DEPTH, &obj, &err), GACP_OK);
		json_object_put(obj);
		check_refused(cases[i].text, cases[i].len);
		check_same(cases[i].text, cases[i].len, cases[i].why);
	}
	/* An integer past a double's range: json-c clamps it to UINT64_MAX
	 * or INT64_MIN and accepts it. */
	big[0] = '[';
	big[1] = '9';
	memset(big + 2, '0', 399);
	big[401] = ']';
	obj = NULL;
	CU_ASSERT_EQUAL(json_parse_strict(big, 402, JSON_MAX_DEPTH, &obj, &err),
	    GACP_OK);
	CU_ASSERT_EQUAL(json_object_get_int64(json_object_array_get_idx(obj,
	    0)), INT64_MAX);
	json_object_put(obj);
	check_refused(big, 402);
	check_same(big, 402, JSCAN_STRICTER_HUGE_INTEGER);
	/* Negative: json-c gives INT64_MIN.  "-9" and 399 zeros. */
	memmove(big + 2, big + 1, 401);
	big[1] = '-';
	check_refused(big, 403);
	check_same(big, 403, JSCAN_STRICTER_HUGE_INTEGER);
	/* A zero of 400 digits is a leading zero first. */
	big[2] = '0';
	check_same(big, 403, JSCAN_STRICTER_LEADING_ZERO);
}

/* json-c 0.16 misdecodes an escaped pair for U+xD800..U+xDFFF of planes
 * 1 to 16 (its surrogate tests look at the low 16 bits only; found by
 * fuzz-jscan: "\ud837\udc05" is U+1DC05, json-c gives U+FFFD).  jscan
 * decodes them as it decodes any pair; the comparison reads such a text
 * with the pairs written as raw UTF-8 (jscan_diff.h). */
static void
test_jsonc_misread_pairs(void)
{
	static const struct { const char *text; size_t len; bool ok; } docs[] = {
		{ LIT("\"\\ud837\\udc05\""), true },
		{ LIT("[\"\\udc05\\ud837\\udc05\"]"), true },
		{ LIT("\"\\ud836\\udc00\\udc00\""), true },
		{ LIT("\"\\ud876\\udfff\\n\""), true },
		{ LIT("\"\\udbb7\\udc00\""), true },
		/* Distinct keys to jscan, both U+FFFD to json-c. */
		{ LIT("{\"\\ud836\\udc00\":1,\"\\ud836\\udc01\":2}"), true },
		/* The same key to jscan, escaped and raw. */
		{ LIT("{\"\\ud836\\udc00\":1,\"\xf0\x9d\xa0\x80\":2}"), false },
		/* An escaped backslash: no pair. */
		{ LIT("[\"\\\\ud837\\udc05\"]"), true },
	};
	struct gacp_err err;
	struct jscan_diff d;
	struct jscan js;
	size_t i, len;
	char *s;

	arena_init(&a, 1024);
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		CU_ASSERT_EQUAL(scan(docs[i].text, docs[i].len, &js, &err) ==
		    GACP_OK, docs[i].ok);
		CU_ASSERT(jscan_diff_run(docs[i].text, docs[i].len,
		    JSON_MAX_DEPTH, &d));
		CU_ASSERT_EQUAL(d.misread, i != 7);
		CU_ASSERT_EQUAL(d.stricter, JSCAN_STRICTER_NONE);
	}
	CU_ASSERT_EQUAL_FATAL(scan(LIT("\"\\ud837\\udc05\""), &js, &err),
	    GACP_OK);
	s = jscan_string(&js, 0, &a, &len);
	CU_ASSERT_EQUAL(len, 4);
	CU_ASSERT(memcmp(s, "\xf0\x9d\xb0\x85", 4) == 0);
	CU_ASSERT_EQUAL_FATAL(scan(LIT("\"\\ud836\\udc00\\udc00\""), &js,
	    &err), GACP_OK);
	s = jscan_string(&js, 0, &a, &len);
	CU_ASSERT_EQUAL(len, 7);
	CU_ASSERT(memcmp(s, "\xf0\x9d\xa0\x80\xef\xbf\xbd", 7) == 0);
	arena_cleanup(&a);
}

/* Both parsers on varied documents: same verdict (the stricter cases
 * apart, see above), and for each accepted one the same tree. */
static void
test_differential(void)
{
	static const struct { const char *text; size_t len; } docs[] = {
		{ LIT("{}") }, { LIT("[]") }, { LIT("0") }, { LIT("-0") },
		{ LIT("\"\"") }, { LIT("null") }, { LIT("true") },
		{ LIT("false") }, { LIT("  [ ]  ") }, { LIT("1.5") },
		{ LIT("-1.5e-7") }, { LIT("1E400") }, { LIT("1e-400") },
		{ LIT("123456789012345678901234567890") },
		{ LIT("-9223372036854775809") }, { LIT("18446744073709551616") },
		{ LIT("[1,2,3]") }, { LIT("[[[]]]") }, { LIT("[{},{}]") },
		{ LIT("{\"a\":[]}") }, { LIT("{\"a\":{\"b\":{}}}") },
		{ LIT("{\"a\":1,\"b\":\"2\",\"c\":[3],\"d\":{\"e\":4}}") },
		{ LIT("{\"z\":1,\"a\":2,\"m\":3}") },
		{ LIT("{\"\":\"\"}") },
		{ LIT("[\"\\u0000\",\"a\\u0000\"]") },
		{ LIT("{\"k\\u0000x\":\"v\\u0000w\"}") },
		{ LIT("[\"\\ud800\",\"\\udfff\",\"\\ud83d\\ude00\"]") },
		{ LIT("[\"\\ud800\\ud800\",\"\\udbff\\udfff\"]") },
		{ LIT("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"") },
		{ LIT("\"\xe4\xb8\xad\xe6\x96\x87\"") },
		{ LIT("{\"a\":1,\"a\":1}") },
		{ LIT("{\"a\":1,\"\\u0061\":1}") },
		{ LIT("[1,]") }, { LIT("{,}") }, { LIT("[") }, { LIT("]") },
		{ LIT("{\"a\"}") }, { LIT("{\"a\":1 \"b\":2}") },
		{ LIT("01") }, { LIT("+1") }, { LIT(".5") }, { LIT("1e") },
		{ LIT("--1") }, { LIT("1-") }, { LIT("0x1") },
		{ LIT("\"\\x41\"") }, { LIT("\"\\u00g0\"") },
		{ LIT("\"unterminated") }, { LIT("'s'") }, { LIT("{'k':1}") },
		{ LIT("{']':1}") }, { LIT("[{']]':{}}]") },
		{ LIT("NaN") }, { LIT("-Infinity") }, { LIT("[1e999]") },
		{ LIT("tru") }, { LIT("truex") }, { LIT("nulls") },
		{ LIT("{} {}") }, { LIT("[] x") }, { LIT("\"\xc0\xaf\"") },
		{ LIT("\"\xed\xa0\x80\"") }, { LIT("\"\xf4\x90\x80\x80\"") },
		{ LIT("[1,\"\0\"]") }, { LIT("\xef\xbb\xbf[]") },
		{ LIT("\f[]") }, { LIT("/**/[]") }, { LIT("[1]//") },
		{ LIT("{\"a\":[1,{\"b\":[2,{\"c\":\"d\"}]}],\"e\":null}") },
		{ LIT(" { \"x\" : -0.0 , \"y\" : 1e+2 , \"z\" : 0E-0 } ") },
		{ LIT("[true,false,null,0,0.0,\"\",{},[]]") },
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		check_same(docs[i].text, docs[i].len, JSCAN_STRICTER_NONE);
	CU_ASSERT(sizeof(docs) / sizeof(docs[0]) >= 60);
}

/* A caller's huge max_depth is capped (JSCAN_DEPTH_LIMIT), not turned
 * into a huge allocation; the cap itself is enforced. */
static void
test_depth_cap(void)
{
	struct gacp_err err;
	struct jscan js;
	struct arena ar;
	char *deep;
	size_t n = JSCAN_DEPTH_LIMIT + 1, i;

	arena_init(&ar, 4096);
	gacp_err_clear(&err);
	CU_ASSERT_EQUAL(jscan_parse(&ar, "[[1]]", 5, INT32_MAX, &js, &err), GACP_OK);
	deep = arena_alloc(&ar, 2 * n);
	for (i = 0; i < n; i++) {
		deep[i] = '[';
		deep[n + i] = ']';
	}
	CU_ASSERT_EQUAL(jscan_parse(&ar, deep, 2 * n, INT32_MAX, &js, &err),
	    GACP_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nesting too deep"));
	CU_ASSERT_EQUAL(jscan_parse(&ar, deep + 1, 2 * n - 2, INT32_MAX, &js,
	    &err), GACP_OK);
	arena_cleanup(&ar);
}

static const struct test_case cases[] = {
	{ "RFC 8259 grammar accepted", test_grammar_accepted },
	{ "malformed text refused", test_grammar_refused },
	{ "error messages and lengths", test_messages },
	{ "depth as json_parse_strict", test_depth },
	{ "a huge max_depth is capped", test_depth_cap },
	{ "duplicate keys, small objects", test_duplicates_small },
	{ "duplicate keys, 100,000 keys", test_duplicates_many },
	{ "token layout", test_layout },
	{ "jscan_member", test_member },
	{ "jscan_first and jscan_next", test_iteration },
	{ "jscan_string decoding", test_string_decoding },
	{ "jscan_int64", test_int64 },
	{ "jscan_truthy", test_truthy },
	{ "jscan_raw", test_raw },
	{ "Messenger webhook body", test_webhook_body },
	{ "stricter than json-c, by name", test_stricter_cases },
	{ "pairs json-c misdecodes", test_jsonc_misread_pairs },
	{ "differential against json_parse_strict", test_differential },
	{ NULL, NULL }
};

void
test_jscan_register(void)
{
	tests_add_suite("jscan", cases);
}
