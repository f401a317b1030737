/* test_utf8.c - unit tests of strict UTF-8 decoding (common/utf8.c). */
#include "tests.h"
#include "common/utf8.h"

#include <string.h>

/* Decode the whole literal; returns utf8_decode's length. */
static size_t
dec(const char *s, size_t len, uint32_t *cp)
{
	*cp = 0xdeadbeef;
	return utf8_decode(s, len, cp);
}

static void
test_ascii(void)
{
	uint32_t cp;

	CU_ASSERT_EQUAL(dec("A", 1, &cp), 1);
	CU_ASSERT_EQUAL(cp, 'A');
	CU_ASSERT_EQUAL(dec("\x7f", 1, &cp), 1);
	CU_ASSERT_EQUAL(cp, 0x7f);
	CU_ASSERT_EQUAL(dec("", 0, &cp), 0);   /* nothing to decode */
}

static void
test_boundaries(void)
{
	static const struct {
		const char *s;
		size_t      len;
		uint32_t    cp;
	} ok[] = {
		{ "\xc2\x80", 2, 0x80 },
		{ "\xdf\xbf", 2, 0x7ff },
		{ "\xe0\xa0\x80", 3, 0x800 },
		{ "\xed\x9f\xbf", 3, 0xd7ff },        /* last before surrogates */
		{ "\xee\x80\x80", 3, 0xe000 },        /* first after them */
		{ "\xef\xbf\xbd", 3, 0xfffd },
		{ "\xef\xbf\xbf", 3, 0xffff },
		{ "\xf0\x90\x80\x80", 4, 0x10000 },
		{ "\xf4\x8f\xbf\xbf", 4, 0x10ffff },
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint32_t cp;
		char enc[4];

		CU_ASSERT_EQUAL(dec(ok[i].s, ok[i].len, &cp), ok[i].len);
		CU_ASSERT_EQUAL(cp, ok[i].cp);
		CU_ASSERT_EQUAL(utf8_encode(ok[i].cp, enc), ok[i].len);
		CU_ASSERT_EQUAL(memcmp(enc, ok[i].s, ok[i].len), 0);
		CU_ASSERT(utf8_valid(ok[i].s, ok[i].len));
	}
}

static void
test_overlongs_rejected(void)
{
	uint32_t cp;

	CU_ASSERT_EQUAL(dec("\xc0\x80", 2, &cp), 0);          /* NUL */
	CU_ASSERT_EQUAL(dec("\xc0\xaf", 2, &cp), 0);          /* '/' */
	CU_ASSERT_EQUAL(dec("\xc1\xbf", 2, &cp), 0);
	CU_ASSERT_EQUAL(dec("\xe0\x80\x80", 3, &cp), 0);
	CU_ASSERT_EQUAL(dec("\xe0\x80\xaf", 3, &cp), 0);
	CU_ASSERT_EQUAL(dec("\xe0\x9f\xbf", 3, &cp), 0);      /* U+07FF */
	CU_ASSERT_EQUAL(dec("\xf0\x80\x80\x80", 4, &cp), 0);
	CU_ASSERT_EQUAL(dec("\xf0\x8f\xbf\xbf", 4, &cp), 0);  /* U+FFFF */
	CU_ASSERT_EQUAL(cp, 0xdeadbeef);                       /* untouched */
	CU_ASSERT_FALSE(utf8_valid("a\xc0\xafz", 4));
}

static void
test_surrogates_rejected(void)
{
	uint32_t cp;
	char out[4];

	CU_ASSERT_EQUAL(dec("\xed\xa0\x80", 3, &cp), 0);      /* U+D800 */
	CU_ASSERT_EQUAL(dec("\xed\xaf\xbf", 3, &cp), 0);      /* U+DBFF */
	CU_ASSERT_EQUAL(dec("\xed\xb0\x80", 3, &cp), 0);      /* U+DC00 */
	CU_ASSERT_EQUAL(dec("\xed\xbf\xbf", 3, &cp), 0);      /* U+DFFF */
	/* CESU-8 pair for U+1F600 is two surrogates: invalid. */
	CU_ASSERT_FALSE(utf8_valid("\xed\xa0\xbd\xed\xb8\x80", 6));
	CU_ASSERT_EQUAL(utf8_encode(0xd800, out), 0);
	CU_ASSERT_EQUAL(utf8_encode(0xdfff, out), 0);
}

static void
test_above_max_rejected(void)
{
	uint32_t cp;
	char out[4];
	int lead;

	CU_ASSERT_EQUAL(dec("\xf4\x90\x80\x80", 4, &cp), 0);  /* U+110000 */
	CU_ASSERT_EQUAL(dec("\xf7\xbf\xbf\xbf", 4, &cp), 0);
	/* Lead bytes that can never start a sequence. */
	for (lead = 0xf5; lead <= 0xff; lead++) {
		char s[4] = { (char)lead, '\x80', '\x80', '\x80' };
		CU_ASSERT_EQUAL(dec(s, 4, &cp), 0);
	}
	CU_ASSERT_EQUAL(utf8_encode(0x110000, out), 0);
	CU_ASSERT_EQUAL(utf8_encode(0xffffffff, out), 0);
}

static void
test_truncated_and_bad_continuation(void)
{
	uint32_t cp;

	CU_ASSERT_EQUAL(dec("\xc3", 1, &cp), 0);
	CU_ASSERT_EQUAL(dec("\xe2\x82", 2, &cp), 0);
	CU_ASSERT_EQUAL(dec("\xf0\x9f\x98", 3, &cp), 0);
	/* The length limit is honoured even when more bytes follow. */
	CU_ASSERT_EQUAL(dec("\xe2\x82\xac", 2, &cp), 0);
	CU_ASSERT_EQUAL(dec("\xe2\x82\xac", 3, &cp), 3);
	CU_ASSERT_EQUAL(cp, 0x20ac);
	/* A continuation byte that is not one. */
	CU_ASSERT_EQUAL(dec("\xe2\x28\xa1", 3, &cp), 0);
	CU_ASSERT_EQUAL(dec("\xc3\x28", 2, &cp), 0);
	CU_ASSERT_EQUAL(dec("\xf0\x9f\xc0\x80", 4, &cp), 0);
	/* Lone continuation bytes. */
	CU_ASSERT_EQUAL(dec("\x80", 1, &cp), 0);
	CU_ASSERT_EQUAL(dec("\xbf", 1, &cp), 0);
	CU_ASSERT_FALSE(utf8_valid("abc\xe2\x82", 5));
}

static void
test_nul(void)
{
	uint32_t cp;

	/* NUL decodes (it is valid UTF-8) but utf8_valid refuses it: outside
	 * text with NUL bytes would be cut short by C string functions. */
	CU_ASSERT_EQUAL(dec("\0", 1, &cp), 1);
	CU_ASSERT_EQUAL(cp, 0);
	CU_ASSERT_FALSE(utf8_valid("a\0b", 3));
	CU_ASSERT_FALSE(utf8_valid("\0", 1));
	CU_ASSERT(utf8_valid("ab", 2));
	CU_ASSERT(utf8_valid("", 0));
}

static void
test_valid_prefix(void)
{
	CU_ASSERT_EQUAL(utf8_valid_prefix("\xc3\xa9x", 3), 2);
	CU_ASSERT_EQUAL(utf8_valid_prefix("x", 1), 1);
	CU_ASSERT_EQUAL(utf8_valid_prefix("\xff", 1), 0);
	CU_ASSERT_EQUAL(utf8_valid_prefix("", 0), 0);
}

static void
test_count(void)
{
	/* h é l l o € 😀 */
	const char *s = "h\xc3\xa9llo\xe2\x82\xac\xf0\x9f\x98\x80";

	CU_ASSERT_EQUAL(utf8_count(s, strlen(s)), 7);
	CU_ASSERT_EQUAL(utf8_count("", 0), 0);
	/* Invalid bytes count one each, so the count always terminates. */
	CU_ASSERT_EQUAL(utf8_count("a\xff\xfe" "b", 4), 4);
	CU_ASSERT_EQUAL(utf8_count("\xe2\x82", 2), 2);
}

/* Every scalar value encodes and decodes back to itself. */
static void
test_encode_decode_all_scalars(void)
{
	uint32_t c;
	unsigned long bad = 0;

	for (c = 0; c <= 0x10ffff; c++) {
		char out[4];
		uint32_t back = 0;
		size_t n;

		if (c >= 0xd800 && c <= 0xdfff)
			continue;
		n = utf8_encode(c, out);
		if (n != (c < 0x80 ? 1u : c < 0x800 ? 2u : c < 0x10000 ? 3u : 4u) ||
		    utf8_decode(out, n, &back) != n || back != c)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* Every 2- and 3-byte sequence is accepted exactly when it is the shortest
 * encoding of a non-surrogate scalar value. */
static void
test_exhaustive_short_sequences(void)
{
	unsigned long mismatches = 0;
	unsigned a, b, c;

	for (a = 0x80; a <= 0xff; a++) {
		for (b = 0; b <= 0xff; b++) {
			char s[2] = { (char)a, (char)b };
			uint32_t cp, ref = ((a & 0x1f) << 6) | (b & 0x3f);
			int want = a >= 0xc0 && a <= 0xdf && (b & 0xc0) == 0x80 &&
			    ref >= 0x80;
			size_t n = utf8_decode(s, 2, &cp);

			if (want ? (n != 2 || cp != ref) : n == 2)
				mismatches++;
		}
	}
	for (a = 0xe0; a <= 0xef; a++) {
		for (b = 0; b <= 0xff; b++) {
			for (c = 0; c <= 0xff; c++) {
				char s[3] = { (char)a, (char)b, (char)c };
				uint32_t cp, ref = ((a & 0x0f) << 12) |
				    ((b & 0x3f) << 6) | (c & 0x3f);
				int want = (b & 0xc0) == 0x80 &&
				    (c & 0xc0) == 0x80 && ref >= 0x800 &&
				    (ref < 0xd800 || ref > 0xdfff);
				size_t n = utf8_decode(s, 3, &cp);

				if (want ? (n != 3 || cp != ref) : n != 0)
					mismatches++;
			}
		}
	}
	CU_ASSERT_EQUAL(mismatches, 0);
}

static const struct test_case cases[] = {
	{ "ascii", test_ascii },
	{ "boundaries", test_boundaries },
	{ "overlongs rejected", test_overlongs_rejected },
	{ "surrogates rejected", test_surrogates_rejected },
	{ "above U+10FFFF rejected", test_above_max_rejected },
	{ "truncated and bad continuation", test_truncated_and_bad_continuation },
	{ "NUL", test_nul },
	{ "valid prefix", test_valid_prefix },
	{ "count", test_count },
	{ "encode/decode all scalars", test_encode_decode_all_scalars },
	{ "exhaustive 2/3-byte sequences", test_exhaustive_short_sequences },
	{ NULL, NULL }
};

void
test_utf8_register(void)
{
	tests_add_suite("utf8", cases);
}
