/* jscan_diff.h - jscan held to json_parse_strict(), for the unit tests
 * (test_jscan.c) and the fuzz target (tests/fuzz/fuzz-jscan.c).
 *
 * Both parsers read the same bytes.  They must accept and refuse the
 * same documents, except where jscan is stricter on purpose: RFC 8259
 * forbids what json-c lets through.  Each such refusal is recognised
 * twice, by the message jscan gives and by the construct being in the
 * text where that message points, so a new disagreement cannot hide
 * behind a known one.  jscan accepting what json_parse_strict() refuses
 * is always a mismatch.
 *
 * For a document both accept, the json-c tree and the jscan tokens are
 * walked side by side: same types (json-c int or double is
 * JSCAN_NUMBER, int exactly when jscan saw no fraction or exponent),
 * same keys in the same order, same array lengths, byte-equal decoded
 * strings, same numbers, same truthiness; every accessor is run on
 * every token, including member lookups by each key.
 *
 * json-c 0.16 misdecodes one kind of escape: it tests a decoded
 * surrogate pair with its surrogate macros, which look only at the low
 * 16 bits, so a character U+xD800..U+xDFFF of planes 1 to 16 written as
 * a pair ("\ud836\udc00" is U+1D800, "\ud837\udc05" U+1DC05) comes
 * out as U+FFFD or swallows the escape after it (found by fuzz-jscan).
 * jscan decodes them right.  A text holding such a pair is compared
 * twice over instead: jscan must read it exactly as it reads the text
 * with those pairs written as raw UTF-8, and that text goes through the
 * whole comparison above (json-c reads raw UTF-8 right).
 */
#ifndef GACP_TESTS_JSCAN_DIFF_H
#define GACP_TESTS_JSCAN_DIFF_H

#include <stdbool.h>
#include <stddef.h>

/* Where jscan refuses what json_parse_strict() accepts, by design. */
enum jscan_stricter {
	JSCAN_STRICTER_NONE = 0,
	JSCAN_STRICTER_CONTROL,       /* raw U+0000..U+001F inside a string */
	JSCAN_STRICTER_POINT,         /* '.' without a digit after it: "1.", "1.e5" */
	JSCAN_STRICTER_LEADING_ZERO,  /* "00", "-01", "00.5" (json-c refuses "01" only) */
	JSCAN_STRICTER_MINUS_POINT,   /* "-.5" */
	JSCAN_STRICTER_HUGE_INTEGER,  /* an integer past a double's range; json-c
	                               * clamps it to UINT64_MAX or INT64_MIN */
};

struct jscan_diff {
	int                 rc_json;   /* json_parse_strict()'s result */
	int                 rc_jscan;  /* jscan_parse()'s result */
	enum jscan_stricter stricter;  /* when only jscan refused: why */
	bool                misread;   /* escapes json-c misdecodes were
	                                * compared as raw UTF-8 (below) */
	unsigned long       ntok;      /* tokens of an accepted document */
	char                what[320]; /* the first mismatch, "" when none */
};

/* Prototypes */
/* Parse len bytes of text with both parsers at max_depth and compare.
 * True when they agree (a documented stricter refusal counts as
 * agreeing; d->stricter says which), false with d->what naming the
 * first difference. */
bool        jscan_diff_run(const char *text, size_t len, int max_depth,
                struct jscan_diff *d);
/* A short name of a stricter case ("control character in a string"). */
const char *jscan_stricter_name(enum jscan_stricter c);

#endif
