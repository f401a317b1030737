/* test_buf.c - unit tests of the growable buffer and JSON escaping (common/buf.c). */
#include "tests.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void
test_init_empty(void)
{
	struct buf b;

	buf_init(&b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b.data);
	CU_ASSERT_STRING_EQUAL(b.data, "");
	CU_ASSERT_EQUAL(b.len, 0);
	CU_ASSERT(b.cap > 0);
	buf_cleanup(&b);
	CU_ASSERT_PTR_NULL(b.data);
	buf_cleanup(&b);      /* twice is harmless */
	buf_cleanup(NULL);
}

static void
test_growth(void)
{
	struct buf b;
	size_t i, n = 100000;
	int ok = 1;

	buf_init(&b);
	for (i = 0; i < n; i++)
		buf_putc(&b, (char)('a' + i % 26));
	CU_ASSERT_EQUAL(b.len, n);
	CU_ASSERT(b.cap >= n + 1);
	CU_ASSERT_EQUAL(b.data[n], '\0');
	for (i = 0; i < n; i++)
		if (b.data[i] != (char)('a' + i % 26))
			ok = 0;
	CU_ASSERT(ok);
	buf_cleanup(&b);
}

static void
test_append_binary(void)
{
	struct buf b;
	char big[3000];

	buf_init(&b);
	buf_append(&b, "a\0b", 3);
	CU_ASSERT_EQUAL(b.len, 3);
	CU_ASSERT_EQUAL(memcmp(b.data, "a\0b", 4), 0);
	buf_append(&b, "", 0);
	CU_ASSERT_EQUAL(b.len, 3);
	memset(big, 'z', sizeof(big));
	buf_append(&b, big, sizeof(big));   /* one append larger than cap */
	CU_ASSERT_EQUAL(b.len, 3 + sizeof(big));
	CU_ASSERT_EQUAL(b.data[b.len - 1], 'z');
	CU_ASSERT_EQUAL(b.data[b.len], '\0');
	buf_puts(&b, "!");
	CU_ASSERT_EQUAL(b.data[b.len - 1], '!');
	buf_cleanup(&b);
}

static void
test_reset_keeps_capacity(void)
{
	struct buf b;
	size_t cap;
	char *data;

	buf_init(&b);
	buf_reserve(&b, 10000);
	cap = b.cap;
	CU_ASSERT(cap >= 10001);
	buf_puts(&b, "some text");
	data = b.data;
	buf_reset(&b);
	CU_ASSERT_EQUAL(b.len, 0);
	CU_ASSERT_STRING_EQUAL(b.data, "");
	CU_ASSERT_EQUAL(b.cap, cap);
	CU_ASSERT_PTR_EQUAL(b.data, data);
	buf_reserve(&b, 100);   /* already room: no reallocation */
	CU_ASSERT_PTR_EQUAL(b.data, data);
	buf_cleanup(&b);
}

static void
test_printf(void)
{
	struct buf b;
	char big[1000];

	buf_init(&b);
	buf_printf(&b, "%d %s", 7, "seven");
	buf_printf(&b, "|%05.1f|", 2.25);
	CU_ASSERT_STRING_EQUAL(b.data, "7 seven|002.2|");
	CU_ASSERT_EQUAL(b.len, strlen("7 seven|002.2|"));
	/* Output longer than the remaining capacity takes the grow path. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_printf(&b, "[%s]", big);
	CU_ASSERT_EQUAL(b.len, strlen("7 seven|002.2|") + sizeof(big) + 1);
	CU_ASSERT_EQUAL(b.data[b.len - 1], ']');
	CU_ASSERT_EQUAL(b.data[b.len], '\0');
	CU_ASSERT_EQUAL(strlen(b.data), b.len);
	buf_printf(&b, "%s", "");
	CU_ASSERT_EQUAL(strlen(b.data), b.len);
	buf_cleanup(&b);
}

static void
test_printf_exact_fit(void)
{
	struct buf b;
	size_t room, i;

	/* Fill so that the formatted text needs exactly the free space
	 * (without or with the NUL): both sides of the boundary. */
	for (i = 0; i < 3; i++) {
		char fill[600];

		buf_init(&b);
		room = b.cap - b.len - 1;
		memset(fill, 'f', room - 1 + i);
		fill[room - 1 + i] = '\0';
		buf_printf(&b, "%s", fill);
		CU_ASSERT_EQUAL(b.len, room - 1 + i);
		CU_ASSERT_EQUAL(strlen(b.data), b.len);
		buf_cleanup(&b);
	}
}

static void
test_steal(void)
{
	struct buf b;
	char *s;

	buf_init(&b);
	buf_puts(&b, "owned");
	s = buf_steal(&b);
	CU_ASSERT_STRING_EQUAL(s, "owned");
	/* Left owning nothing: a caller that drops it leaks nothing. */
	CU_ASSERT_EQUAL(b.len, 0);
	CU_ASSERT_EQUAL(b.cap, 0);
	CU_ASSERT_PTR_NULL(b.data);
	buf_reset(&b);
	buf_puts(&b, "again");
	CU_ASSERT_STRING_EQUAL(b.data, "again");
	CU_ASSERT_PTR_NOT_EQUAL(b.data, s);
	free(buf_steal(&b));
	buf_printf(&b, "%d", 42);   /* printf right after a steal */
	CU_ASSERT_STRING_EQUAL(b.data, "42");
	free(s);
	buf_cleanup(&b);
}

/* Expected JSON rendering of the given bytes. */
static void
check_json(const char *in, size_t len, const char *want)
{
	struct buf b;

	buf_init(&b);
	buf_json_strn(&b, in, len);
	CU_ASSERT_STRING_EQUAL(b.data, want);
	CU_ASSERT(utf8_valid(b.data, b.len));
	buf_cleanup(&b);
}

static void
test_json_plain_and_quotes(void)
{
	check_json("", 0, "\"\"");
	check_json("hello", 5, "\"hello\"");
	check_json("say \"hi\"", 8, "\"say \\\"hi\\\"\"");
	check_json("back\\slash", 10, "\"back\\\\slash\"");
	check_json("/path/", 6, "\"/path/\"");   /* '/' needs no escape */
}

static void
test_json_control_chars(void)
{
	check_json("a\nb\rc\td", 7, "\"a\\nb\\rc\\td\"");
	check_json("\x01", 1, "\"\\u0001\"");
	check_json("\x1f", 1, "\"\\u001f\"");
	check_json("\x7f", 1, "\"\\u007f\"");
	check_json("\b\f", 2, "\"\\u0008\\u000c\"");
	check_json("a\0b", 3, "\"a\\u0000b\"");   /* embedded NUL */
	check_json(" ~", 2, "\" ~\"");            /* printable edges */
}

static void
test_json_valid_utf8_kept(void)
{
	check_json("caf\xc3\xa9", 5, "\"caf\xc3\xa9\"");
	check_json("\xe2\x82\xac", 3, "\"\xe2\x82\xac\"");           /* € */
	check_json("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");   /* 😀 */
	check_json("\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"");   /* U+10FFFF */
}

static void
test_json_invalid_utf8_replaced(void)
{
	check_json("\xff", 1, "\"\\ufffd\"");
	check_json("a\x80z", 3, "\"a\\ufffdz\"");
	/* Overlong '/' : each byte replaced. */
	check_json("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");
	/* Surrogate U+D800. */
	check_json("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");
	/* Above U+10FFFF. */
	check_json("\xf4\x90\x80\x80", 4,
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* Truncated € at the end; the valid prefix survives. */
	check_json("ok\xe2\x82", 4, "\"ok\\ufffd\\ufffd\"");
	/* A truncated sequence followed by valid text resynchronises. */
	check_json("\xe2\x82" "A\xc3\xa9", 5, "\"\\ufffd\\ufffdA\xc3\xa9\"");
}

static void
test_json_null_and_cstring(void)
{
	struct buf b;

	buf_init(&b);
	buf_json_str(&b, NULL);
	CU_ASSERT_STRING_EQUAL(b.data, "null");
	buf_reset(&b);
	buf_json_str(&b, "x\"y");
	CU_ASSERT_STRING_EQUAL(b.data, "\"x\\\"y\"");
	buf_cleanup(&b);
}

/* xorshift32: deterministic bytes for the round-trip property test. */
static uint32_t
next_rand(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

static void
test_json_random_bytes_parse_back(void)
{
	uint32_t seed = 0x12345678;
	int round, bad_json = 0, bad_roundtrip = 0;

	for (round = 0; round < 2000; round++) {
		char in[64];
		size_t len = next_rand(&seed) % sizeof(in), i;
		struct json_object *obj = NULL;
		struct buf b;

		for (i = 0; i < len; i++)
			in[i] = (char)next_rand(&seed);
		buf_init(&b);
		buf_json_strn(&b, in, len);
		/* Whatever the input, the output is one valid JSON string. */
		if (json_parse_strict(b.data, b.len, 4, &obj, NULL) != 0 ||
		    !json_object_is_type(obj, json_type_string)) {
			bad_json++;
		} else if (utf8_valid(in, len)) {
			/* Valid text (no NUL) survives unchanged. */
			if ((size_t)json_object_get_string_len(obj) != len ||
			    memcmp(json_object_get_string(obj), in, len) != 0)
				bad_roundtrip++;
		}
		json_object_put(obj);
		buf_cleanup(&b);
	}
	CU_ASSERT_EQUAL(bad_json, 0);
	CU_ASSERT_EQUAL(bad_roundtrip, 0);
}

static void
test_json_text_roundtrip(void)
{
	const char *texts[] = {
		"plain", "tab\there", "quote\"and\\slash", "\x01\x02\x1f\x7f",
		"\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", "\xe0\xb8\xaa\xe0\xb8\xa7",
		"\xf0\x9f\x91\x8d ok", "",
	};
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct json_object *obj = NULL;
		struct buf b;

		buf_init(&b);
		buf_json_str(&b, texts[i]);
		CU_ASSERT_EQUAL_FATAL(json_parse_strict(b.data, b.len, 4, &obj,
		    NULL), 0);
		CU_ASSERT_STRING_EQUAL(json_object_get_string(obj), texts[i]);
		json_object_put(obj);
		buf_cleanup(&b);
	}
}

static const struct test_case cases[] = {
	{ "init empty", test_init_empty },
	{ "growth", test_growth },
	{ "append binary", test_append_binary },
	{ "reset keeps capacity", test_reset_keeps_capacity },
	{ "printf", test_printf },
	{ "printf exact fit", test_printf_exact_fit },
	{ "steal", test_steal },
	{ "json plain and quotes", test_json_plain_and_quotes },
	{ "json control chars", test_json_control_chars },
	{ "json valid utf8 kept", test_json_valid_utf8_kept },
	{ "json invalid utf8 replaced", test_json_invalid_utf8_replaced },
	{ "json NULL and C string", test_json_null_and_cstring },
	{ "json random bytes parse back", test_json_random_bytes_parse_back },
	{ "json text round trip", test_json_text_roundtrip },
	{ NULL, NULL }
};

void
test_buf_register(void)
{
	tests_add_suite("buf", cases);
}
