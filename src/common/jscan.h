/* jscan.h - strict JSON scanned into one flat token array, no tree.
 *
 * json_parse_strict() (json.h) builds a json-c tree: one malloc'd object
 * per value and a hash table per object, then frees them all.  That is
 * right for the API's request bodies, but the Messenger webhook reads a
 * handful of fields out of every event at ingest rate and passes the
 * rest on untouched.  jscan checks the same document in one pass and
 * records each value as a token (offsets into the text) in the caller's
 * arena; strings are decoded only when asked for.
 *
 * What it accepts: RFC 8259 JSON text in strict UTF-8, at most max_depth
 * levels of nesting (a value inside max_depth containers is refused, as
 * json-c counts), no duplicate key in an object (compared after decoding
 * escapes, and up to a "\u0000" as json-c compares them), numbers that
 * are finite as a double.  That is the contract of json_parse_strict()
 * with these differences, all stricter and all from RFC 8259 where
 * json-c 0.16 is lenient: a raw control character (U+0000..U+001F)
 * inside a string; a decimal point without a digit after it ("1.",
 * "1.e5"); a leading zero json-c lets through ("00", "-01", "00.5"; it
 * refuses "01"); "-.5"; an integer too large for a double (json-c
 * clamps it to UINT64_MAX or INT64_MIN).  Apart from that, json-c
 * decodes an escaped pair for U+xD800..U+xDFFF of planes 1 to 16
 * ("\ud837\udc05") as U+FFFD; jscan decodes it right.
 * tests/unit/test_jscan.c and tests/fuzz/fuzz-jscan.c hold the two
 * parsers to this (tests/unit/jscan_diff.c).
 *
 * Layout: tokens in document order.  An object's token is followed by
 * its members, each a key token (a string) and the value's tokens; an
 * array's by its elements.  tok[i].next is the index just past value i
 * and everything inside it, so siblings are found without a walk.
 */
#ifndef GACP_JSCAN_H
#define GACP_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct arena;

enum jscan_type {
	JSCAN_OBJECT = 1,
	JSCAN_ARRAY,
	JSCAN_STRING,
	JSCAN_NUMBER,
	JSCAN_TRUE,
	JSCAN_FALSE,
	JSCAN_NULL,
};

#define JSCAN_NONE UINT32_MAX
/* max_depth above this is taken as this. */
#define JSCAN_DEPTH_LIMIT 4096

/* flags */
#define JSCAN_ESCAPED  0x1u   /* string: holds a backslash escape */
#define JSCAN_FRACTION 0x2u   /* number: has a fraction or an exponent */

struct jscan_tok {
	uint32_t start;   /* string: first byte after the quote; others: first byte */
	uint32_t end;     /* string: the closing quote; others: one past the last byte */
	uint32_t next;    /* index of the token after this value and its contents */
	uint32_t count;   /* object: members; array: elements; else 0 */
	uint8_t  type;    /* enum jscan_type */
	uint8_t  flags;
};

struct jscan {
	const char       *text;
	size_t            len;
	struct jscan_tok *tok;    /* tok[0] is the document's value */
	uint32_t          ntok;
};

/* Scan len bytes of text (which must stay alive with the result) into
 * *out, tokens allocated in a.  Errors: GACP_EINVAL, code "invalid_json",
 * a message naming the problem and its byte offset; GACP_ETOOBIG,
 * "payload_too_large", for text over 2 GiB. */
int jscan_parse(struct arena *a, const char *text, size_t len, int max_depth,
    struct jscan *out, struct gacp_err *err);

static inline bool
jscan_is(const struct jscan *js, uint32_t i, enum jscan_type t)
{
	return i < js->ntok && js->tok[i].type == t;
}

/* The value of key in object obj, or JSCAN_NONE (also when obj is not
 * an object).  Keys are compared after decoding their escapes and, as
 * json-c compares them, only up to a "\u0000" in them. */
uint32_t jscan_member(const struct jscan *js, uint32_t obj, const char *key);
/* First element of array arr and the one after element i, or JSCAN_NONE. */
uint32_t jscan_first(const struct jscan *js, uint32_t arr);
uint32_t jscan_next(const struct jscan *js, uint32_t arr, uint32_t i);

/* String i decoded into the arena, NUL-terminated; *len (may be NULL)
 * gets its length, which is more than strlen() when it holds "\u0000".
 * An unpaired surrogate escape decodes to U+FFFD, as json-c does.
 * NULL when i is not a string. */
char *jscan_string(const struct jscan *js, uint32_t i, struct arena *a,
    size_t *len);
/* Number i as an integer: false unless it is written without fraction
 * or exponent and fits in int64_t. */
bool jscan_int64(const struct jscan *js, uint32_t i, int64_t *out);
/* json-c's json_object_get_boolean(): true, a non-zero number or a
 * non-empty string. */
bool jscan_truthy(const struct jscan *js, uint32_t i);
/* The bytes of value i as written (for a string, with its quotes). */
const char *jscan_raw(const struct jscan *js, uint32_t i, size_t *len);

#endif
