/* jscan_diff.c - jscan held to json_parse_strict() (see jscan_diff.h). */
#include "jscan_diff.h"

#include "common/arena.h"
#include "common/err.h"
#include "common/jscan.h"
#include "common/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct walk {
	const struct jscan *js;
	struct arena       *a;
	struct jscan_diff  *d;
	uint32_t            seen;   /* tokens visited, keys included */
};

/* Record the first difference; returns false for `return mismatch()`. */
static bool mismatch(struct jscan_diff *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool
mismatch(struct jscan_diff *d, const char *fmt, ...)
{
	va_list ap;

	if (d->what[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(d->what, sizeof(d->what), fmt, ap);
		va_end(ap);
	}
	return false;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A byte that can stand inside a number before its last digit. */
static bool
number_byte(char c)
{
	return is_digit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' ||
	    c == '-';
}

/* The byte offset jscan put into its message ("... at offset N..."). */
static bool
error_offset(const char *msg, size_t len, size_t *off)
{
	const char *p = strstr(msg, "at offset ");
	char *end;
	unsigned long long v;

	if (p == NULL)
		return false;
	p += strlen("at offset ");
	if (!is_digit(*p))
		return false;
	v = strtoull(p, &end, 10);
	if (v > len)
		return false;
	*off = (size_t)v;
	return true;
}

/* Whether text holds, outside strings, an integer literal (no fraction,
 * no exponent) that is infinite as a double. */
static bool
huge_integer(const char *text, size_t len)
{
	size_t i = 0, start, j;
	bool in_str = false;

	while (i < len) {
		char c = text[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			i++;
			continue;
		}
		if (c == '"') {
			in_str = true;
			i++;
			continue;
		}
		if (!is_digit(c) && c != '-') {
			i++;
			continue;
		}
		start = i;
		j = c == '-' ? i + 1 : i;
		while (j < len && is_digit(text[j]))
			j++;
		if (j - start > 300 && (start == 0 || !number_byte(text[start - 1])) &&
		    (j == len || (text[j] != '.' && text[j] != 'e' &&
		    text[j] != 'E'))) {
			char *copy = malloc(j - start + 1);
			bool inf;

			if (copy == NULL)
				abort();
			memcpy(copy, text + start, j - start);
			copy[j - start] = '\0';
			inf = isinf(strtod(copy, NULL));
			free(copy);
			if (inf)
				return true;
		}
		i = j > start ? j : start + 1;
	}
	return false;
}

/* Which documented stricter case jscan's refusal (message msg) of a
 * document json_parse_strict() accepted is, checked against the text;
 * JSCAN_STRICTER_NONE when it is none of them. */
static enum jscan_stricter
stricter_case(const char *text, size_t len, const char *msg)
{
	size_t off = 0, prev;
	bool at = error_offset(msg, len, &off);

	if (at && strstr(msg, "control character in a string") != NULL &&
	    off < len && (unsigned char)text[off] < 0x20)
		return JSCAN_STRICTER_CONTROL;
	if (at && strstr(msg, "a digit must follow the decimal point") != NULL &&
	    off >= 2 && text[off - 1] == '.' && is_digit(text[off - 2]) &&
	    (off == len || !is_digit(text[off])))
		return JSCAN_STRICTER_POINT;
	if (at && strstr(msg, "invalid number") != NULL && off >= 1 &&
	    off < len && text[off] == '.' && text[off - 1] == '-')
		return JSCAN_STRICTER_MINUS_POINT;
	/* jscan took "0" or "-0" as the whole number and stopped at the
	 * digit after it. */
	if (at && (strstr(msg, "unexpected data after the JSON value") != NULL ||
	    strstr(msg, "expected ',' or ']' after an array element") != NULL ||
	    strstr(msg, "expected ',' or '}' after an object member") != NULL) &&
	    off >= 1 && off < len && is_digit(text[off]) &&
	    text[off - 1] == '0') {
		if (off == 1)
			return JSCAN_STRICTER_LEADING_ZERO;
		prev = off - 2;
		if (text[prev] == '-') {
			if (prev == 0)
				return JSCAN_STRICTER_LEADING_ZERO;
			prev--;
		}
		if (!number_byte(text[prev]))
			return JSCAN_STRICTER_LEADING_ZERO;
	}
	if (strstr(msg, "not finite") != NULL && huge_integer(text, len))
		return JSCAN_STRICTER_HUGE_INTEGER;
	return JSCAN_STRICTER_NONE;
}

const char *
jscan_stricter_name(enum jscan_stricter c)
{
	switch (c) {
	case JSCAN_STRICTER_CONTROL:
		return "control character in a string";
	case JSCAN_STRICTER_POINT:
		return "decimal point without a digit after it";
	case JSCAN_STRICTER_LEADING_ZERO:
		return "leading zero";
	case JSCAN_STRICTER_MINUS_POINT:
		return "minus sign before a decimal point";
	case JSCAN_STRICTER_HUGE_INTEGER:
		return "integer beyond a double's range";
	default:
		return "none";
	}
}

/* The accessors of another type give nothing for token i. */
static bool
check_other_accessors(struct walk *w, uint32_t i, enum jscan_type type)
{
	const struct jscan *js = w->js;
	int64_t n;

	if (type != JSCAN_OBJECT && jscan_member(js, i, "") != JSCAN_NONE)
		return mismatch(w->d, "jscan_member on token %u of type %d", i,
		    (int)type);
	if (type != JSCAN_ARRAY && (jscan_first(js, i) != JSCAN_NONE ||
	    jscan_next(js, i, i + 1) != JSCAN_NONE))
		return mismatch(w->d, "jscan_first/next on token %u of type %d",
		    i, (int)type);
	if (type != JSCAN_STRING && jscan_string(js, i, w->a, NULL) != NULL)
		return mismatch(w->d, "jscan_string on token %u of type %d", i,
		    (int)type);
	if (type != JSCAN_NUMBER && jscan_int64(js, i, &n))
		return mismatch(w->d, "jscan_int64 on token %u of type %d", i,
		    (int)type);
	return true;
}

/* String token i against the bytes json-c gave (want, n).  json-c keeps
 * an object key as a C string, so a key is compared only up to the
 * first NUL it decodes to (is_key). */
static bool
check_string(struct walk *w, uint32_t i, const char *want, size_t n,
    bool is_key)
{
	const struct jscan_tok *t = &w->js->tok[i];
	const char *raw, *nul, *what = is_key ? "key" : "value";
	size_t len, cmp, rawlen;
	char *s;

	if (t->type != JSCAN_STRING)
		return mismatch(w->d, "%s token %u: type %d, json-c a string",
		    what, i, t->type);
	s = jscan_string(w->js, i, w->a, &len);
	if (s == NULL)
		return mismatch(w->d, "%s token %u: jscan_string NULL", what, i);
	cmp = len;
	if (is_key && (nul = memchr(s, '\0', len)) != NULL)
		cmp = (size_t)(nul - s);
	if (cmp != n || memcmp(s, want, n) != 0 || s[len] != '\0')
		return mismatch(w->d, "%s token %u: decoded %zu bytes, json-c "
		    "%zu (\"%.40s\")", what, i, cmp, n, want);
	raw = jscan_raw(w->js, i, &rawlen);
	if (raw != w->js->text + t->start - 1 ||
	    rawlen != (size_t)(t->end - t->start) + 2 || raw[0] != '"' ||
	    raw[rawlen - 1] != '"')
		return mismatch(w->d, "%s token %u: jscan_raw is not the quoted "
		    "string", what, i);
	if (((t->flags & JSCAN_ESCAPED) != 0) !=
	    (memchr(raw + 1, '\\', rawlen - 2) != NULL))
		return mismatch(w->d, "%s token %u: JSCAN_ESCAPED is wrong",
		    what, i);
	if (!(t->flags & JSCAN_ESCAPED) && len != rawlen - 2)
		return mismatch(w->d, "%s token %u: unescaped yet decoded to "
		    "another length", what, i);
	if (jscan_truthy(w->js, i) != (len > 0))
		return mismatch(w->d, "%s token %u: truthiness", what, i);
	return check_other_accessors(w, i, JSCAN_STRING);
}

static bool
check_number(struct walk *w, struct json_object *v, uint32_t i)
{
	const struct jscan_tok *t = &w->js->tok[i];
	size_t rawlen;
	const char *raw = jscan_raw(w->js, i, &rawlen);
	char *copy;
	int64_t n;
	double dj, dc;

	if (t->type != JSCAN_NUMBER)
		return mismatch(w->d, "token %u: type %d, json-c a number", i,
		    t->type);
	copy = arena_strndup(w->a, raw, rawlen);
	if (json_object_is_type(v, json_type_int)) {
		if (t->flags & JSCAN_FRACTION)
			return mismatch(w->d, "token %u (%.40s): json-c an "
			    "integer, jscan a fraction", i, copy);
		if (jscan_int64(w->js, i, &n)) {
			if (n != json_object_get_int64(v))
				return mismatch(w->d, "token %u (%.40s): "
				    "jscan_int64 %lld, json-c %lld", i, copy,
				    (long long)n,
				    (long long)json_object_get_int64(v));
		} else if (json_object_get_int64(v) != INT64_MAX &&
		    json_object_get_int64(v) != INT64_MIN)
			/* Out of int64_t: json-c clamps, jscan says no. */
			return mismatch(w->d, "token %u (%.40s): jscan_int64 "
			    "refused %lld", i, copy,
			    (long long)json_object_get_int64(v));
	} else {
		if (!(t->flags & JSCAN_FRACTION))
			return mismatch(w->d, "token %u (%.40s): json-c a double, "
			    "jscan no fraction", i, copy);
		if (jscan_int64(w->js, i, &n))
			return mismatch(w->d, "token %u (%.40s): jscan_int64 "
			    "took a fraction", i, copy);
		dj = strtod(copy, NULL);
		dc = json_object_get_double(v);
		if (dj != dc || signbit(dj) != signbit(dc))
			return mismatch(w->d, "token %u (%.40s): %g, json-c %g",
			    i, copy, dj, dc);
	}
	if (jscan_truthy(w->js, i) != (json_object_get_boolean(v) != 0))
		return mismatch(w->d, "token %u (%.40s): truthiness", i, copy);
	return check_other_accessors(w, i, JSCAN_NUMBER);
}

static bool walk_value(struct walk *w, struct json_object *v, uint32_t i);

static bool
walk_array(struct walk *w, struct json_object *v, uint32_t i)
{
	const struct jscan *js = w->js;
	size_t n = json_object_array_length(v), k;
	uint32_t e = jscan_first(js, i), after = i + 1;

	if (js->tok[i].count != n)
		return mismatch(w->d, "array token %u: %u elements, json-c %zu",
		    i, js->tok[i].count, n);
	for (k = 0; k < n; k++) {
		if (e != after)
			return mismatch(w->d, "array token %u: element %zu at "
			    "%u, expected %u", i, k, e, after);
		if (!walk_value(w, json_object_array_get_idx(v, k), e))
			return false;
		after = js->tok[e].next;
		e = jscan_next(js, i, e);
	}
	if (e != JSCAN_NONE)
		return mismatch(w->d, "array token %u: jscan_next past the last "
		    "element gave %u", i, e);
	if (js->tok[i].next != after)
		return mismatch(w->d, "array token %u: next %u, contents end "
		    "at %u", i, js->tok[i].next, after);
	return true;
}

static bool
walk_object(struct walk *w, struct json_object *v, uint32_t i)
{
	static const char *probes[] = { "", "text", "id", "mid", "entry",
	    "messaging", "a" };
	const struct jscan *js = w->js;
	size_t n = (size_t)json_object_object_length(v), k;
	uint32_t at = i + 1;
	struct json_object *x;

	if (js->tok[i].count != n)
		return mismatch(w->d, "object token %u: %u members, json-c %zu",
		    i, js->tok[i].count, n);
	{
		json_object_object_foreach(v, key, val) {
			if (at + 1 >= js->ntok || at >= js->tok[i].next)
				return mismatch(w->d, "object token %u: member "
				    "\"%.40s\" past its end", i, key);
			/* json-c's key is a C string: it ends at a
			 * "\u0000", so compare up to there. */
			w->seen++;
			if (!check_string(w, at, key, strlen(key), true))
				return false;
			if (jscan_member(js, i, key) != at + 1)
				return mismatch(w->d, "object token %u: "
				    "jscan_member(\"%.40s\") gave %u, not %u", i,
				    key, jscan_member(js, i, key), at + 1);
			if (!walk_value(w, val, at + 1))
				return false;
			at = js->tok[at + 1].next;
		}
	}
	if (js->tok[i].next != at)
		return mismatch(w->d, "object token %u: next %u, members end "
		    "at %u", i, js->tok[i].next, at);
	for (k = 0; k < sizeof(probes) / sizeof(probes[0]); k++)
		if (json_object_object_get_ex(v, probes[k], &x) !=
		    (jscan_member(js, i, probes[k]) != JSCAN_NONE))
			return mismatch(w->d, "object token %u: member \"%s\" "
			    "present for one parser only", i, probes[k]);
	return true;
}

/* Value token i against json-c's v; checks the token's extent and
 * every accessor, then its contents. */
static bool
walk_value(struct walk *w, struct json_object *v, uint32_t i)
{
	const struct jscan *js = w->js;
	const struct jscan_tok *t;
	const char *raw;
	size_t rawlen;
	enum json_type type = json_object_get_type(v);

	if (i >= js->ntok)
		return mismatch(w->d, "token %u past the last (%u)", i,
		    js->ntok);
	t = &js->tok[i];
	w->seen++;
	if (t->start > t->end || t->end > js->len || t->next <= i ||
	    t->next > js->ntok)
		return mismatch(w->d, "token %u: extent [%u, %u) next %u out "
		    "of bounds", i, t->start, t->end, t->next);
	raw = jscan_raw(js, i, &rawlen);
	if (raw == NULL)
		return mismatch(w->d, "token %u: jscan_raw NULL", i);
	if (t->type != JSCAN_OBJECT && t->type != JSCAN_ARRAY &&
	    (t->next != i + 1 || t->count != 0))
		return mismatch(w->d, "scalar token %u: next %u count %u", i,
		    t->next, t->count);
	switch (type) {
	case json_type_null:
		if (t->type != JSCAN_NULL || rawlen != 4 ||
		    memcmp(raw, "null", 4) != 0)
			return mismatch(w->d, "token %u: type %d, json-c null",
			    i, t->type);
		if (jscan_truthy(js, i))
			return mismatch(w->d, "token %u: null is truthy", i);
		return check_other_accessors(w, i, JSCAN_NULL);
	case json_type_boolean:
		if (json_object_get_boolean(v) ? t->type != JSCAN_TRUE ||
		    rawlen != 4 || memcmp(raw, "true", 4) != 0 :
		    t->type != JSCAN_FALSE || rawlen != 5 ||
		    memcmp(raw, "false", 5) != 0)
			return mismatch(w->d, "token %u: type %d, json-c %s", i,
			    t->type, json_object_get_boolean(v) ? "true" :
			    "false");
		if (jscan_truthy(js, i) != (json_object_get_boolean(v) != 0))
			return mismatch(w->d, "token %u: truthiness", i);
		return check_other_accessors(w, i, (enum jscan_type)t->type);
	case json_type_int:
	case json_type_double:
		return check_number(w, v, i);
	case json_type_string:
		return check_string(w, i, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), false);
	case json_type_array:
		if (t->type != JSCAN_ARRAY || raw[0] != '[' ||
		    raw[rawlen - 1] != ']')
			return mismatch(w->d, "token %u: type %d, json-c an "
			    "array", i, t->type);
		if (jscan_truthy(js, i))
			return mismatch(w->d, "token %u: array is truthy", i);
		if (!check_other_accessors(w, i, JSCAN_ARRAY))
			return false;
		return walk_array(w, v, i);
	case json_type_object:
		if (t->type != JSCAN_OBJECT || raw[0] != '{' ||
		    raw[rawlen - 1] != '}')
			return mismatch(w->d, "token %u: type %d, json-c an "
			    "object", i, t->type);
		if (jscan_truthy(js, i))
			return mismatch(w->d, "token %u: object is truthy", i);
		if (!check_other_accessors(w, i, JSCAN_OBJECT))
			return false;
		return walk_object(w, v, i);
	default:
		return mismatch(w->d, "token %u: json-c type %d", i, (int)type);
	}
}

static int
hex4(const char *p, size_t avail)
{
	int v = 0, k, h;

	if (avail < 4)
		return -1;
	for (k = 0; k < 4; k++) {
		char c = p[k];

		if (c >= '0' && c <= '9')
			h = c - '0';
		else if (c >= 'a' && c <= 'f')
			h = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			h = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* text with every escaped surrogate pair json-c misdecodes (see
 * jscan_diff.h) written as raw UTF-8 instead, malloc'd, *n its length;
 * NULL when text holds none.  Strings are found as jscan finds them. */
static char *
misread_pairs_as_raw(const char *text, size_t len, size_t *n)
{
	char *out = malloc(len + 1);
	size_t i = 0, o = 0;
	bool in_str = false, found = false;
	int hi, lo;
	uint32_t cp;

	if (out == NULL)
		abort();
	while (i < len) {
		if (text[i] == '"' || (!in_str || text[i] != '\\')) {
			if (text[i] == '"')
				in_str = !in_str;
			out[o++] = text[i++];
			continue;
		}
		/* A backslash inside a string. */
		if (i + 1 >= len || text[i + 1] != 'u') {
			out[o++] = text[i++];
			if (i < len)
				out[o++] = text[i++];
			continue;
		}
		hi = hex4(text + i + 2, len - i - 2);
		if (hi >= 0xd800 && hi <= 0xdbff && i + 12 <= len &&
		    text[i + 6] == '\\' && text[i + 7] == 'u' &&
		    (lo = hex4(text + i + 8, len - i - 8)) >= 0xdc00 &&
		    lo <= 0xdfff) {
			cp = 0x10000 + ((uint32_t)(hi - 0xd800) << 10) +
			    (uint32_t)(lo - 0xdc00);
			if ((cp & 0xf800) == 0xd800) {
				out[o++] = (char)(0xf0 | cp >> 18);
				out[o++] = (char)(0x80 | (cp >> 12 & 0x3f));
				out[o++] = (char)(0x80 | (cp >> 6 & 0x3f));
				out[o++] = (char)(0x80 | (cp & 0x3f));
				found = true;
			} else {
				memcpy(out + o, text + i, 12);
				o += 12;
			}
			i += 12;
			continue;
		}
		out[o++] = text[i++];   /* "\u", its digits follow as text */
		out[o++] = text[i++];
	}
	if (!found) {
		free(out);
		return NULL;
	}
	*n = o;
	return out;
}

/* jscan reads text (len) and raw (rlen, the same with misdecoded pairs
 * as raw UTF-8) alike: same verdict, same tokens, same strings. */
static bool
same_to_jscan(const char *text, size_t len, const char *raw, size_t rlen,
    int max_depth, struct jscan_diff *d)
{
	struct gacp_err e1, e2;
	struct jscan j1, j2;
	struct arena a;
	uint32_t i;
	size_t n1, n2;
	char *s1, *s2;
	bool ok = false;

	arena_init(&a, 4096);
	if ((jscan_parse(&a, text, len, max_depth, &j1, &e1) == GACP_OK) !=
	    (jscan_parse(&a, raw, rlen, max_depth, &j2, &e2) == GACP_OK)) {
		mismatch(d, "escaped pairs and raw UTF-8 read differently");
		goto out;
	}
	if (j1.ntok != j2.ntok) {
		mismatch(d, "escaped pairs: %u tokens, raw UTF-8 %u", j1.ntok,
		    j2.ntok);
		goto out;
	}
	for (i = 0; i < j1.ntok; i++) {
		if (j1.tok[i].type != j2.tok[i].type ||
		    j1.tok[i].next != j2.tok[i].next ||
		    j1.tok[i].count != j2.tok[i].count) {
			mismatch(d, "escaped pairs: token %u differs", i);
			goto out;
		}
		s1 = jscan_string(&j1, i, &a, &n1);
		s2 = jscan_string(&j2, i, &a, &n2);
		if ((s1 == NULL) != (s2 == NULL) || (s1 != NULL &&
		    (n1 != n2 || memcmp(s1, s2, n1) != 0))) {
			mismatch(d, "escaped pairs: string token %u decodes "
			    "other than its raw UTF-8", i);
			goto out;
		}
	}
	ok = true;
out:
	arena_cleanup(&a);
	return ok;
}

bool
jscan_diff_run(const char *text, size_t len, int max_depth,
    struct jscan_diff *d)
{
	struct json_object *obj = NULL;
	struct gacp_err ec, ej;
	struct jscan js;
	struct arena a;
	struct walk w;
	bool ok = false;

	char *raw;
	size_t rlen;

	memset(d, 0, sizeof(*d));
	if ((raw = misread_pairs_as_raw(text, len, &rlen)) != NULL) {
		ok = same_to_jscan(text, len, raw, rlen, max_depth, d) &&
		    jscan_diff_run(raw, rlen, max_depth, d);
		d->misread = true;
		free(raw);
		return ok;
	}
	gacp_err_clear(&ec);
	gacp_err_clear(&ej);
	arena_init(&a, 4096);
	d->rc_json = json_parse_strict(text, len, max_depth, &obj, &ec);
	d->rc_jscan = jscan_parse(&a, text, len, max_depth, &js, &ej);
	if (d->rc_jscan != GACP_OK) {
		if (js.tok != NULL || js.ntok != 0 || js.text != NULL)
			mismatch(d, "a refused document left tokens behind");
		else if (!(d->rc_jscan == GACP_EINVAL &&
		    strcmp(ej.code, "invalid_json") == 0) &&
		    !(d->rc_jscan == GACP_ETOOBIG &&
		    strcmp(ej.code, "payload_too_large") == 0))
			mismatch(d, "refused with %d \"%s\"", d->rc_jscan,
			    ej.code);
		else if (d->rc_json == GACP_OK &&
		    (d->stricter = stricter_case(text, len, ej.msg)) ==
		    JSCAN_STRICTER_NONE)
			mismatch(d, "jscan refused (%s), json_parse_strict "
			    "accepted", ej.msg);
		else
			ok = true;
		goto out;
	}
	if (d->rc_json != GACP_OK) {
		mismatch(d, "jscan accepted, json_parse_strict refused (%s)",
		    ec.msg);
		goto out;
	}
	d->ntok = js.ntok;
	if (js.text != text || js.len != len || js.ntok == 0 ||
	    js.tok[0].next != js.ntok) {
		mismatch(d, "document: %u tokens, the first's next %u", js.ntok,
		    js.ntok > 0 ? js.tok[0].next : 0);
		goto out;
	}
	w.js = &js;
	w.a = &a;
	w.d = d;
	w.seen = 0;
	if (!walk_value(&w, obj, 0))
		goto out;
	if (w.seen != js.ntok) {
		mismatch(d, "the walk saw %u tokens of %u", w.seen, js.ntok);
		goto out;
	}
	if (jscan_is(&js, js.ntok, JSCAN_NULL) ||
	    jscan_string(&js, js.ntok, &a, NULL) != NULL ||
	    jscan_member(&js, js.ntok, "") != JSCAN_NONE ||
	    jscan_first(&js, js.ntok) != JSCAN_NONE || jscan_truthy(&js,
	    js.ntok)) {
		mismatch(d, "an accessor took the index past the last token");
		goto out;
	}
	ok = true;
out:
	json_object_put(obj);
	arena_cleanup(&a);
	return ok;
}
