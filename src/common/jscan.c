/* jscan.c - strict JSON scanned into a flat token array (see jscan.h). */
#include "common/jscan.h"
#include "common/arena.h"
#include "common/json.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct scanner {
	const char       *p;
	size_t            len;
	size_t            pos;
	struct arena     *a;
	struct jscan_tok *tok;
	uint32_t          ntok;
	uint32_t          cap;
	struct gacp_err  *err;
};

/* Bytes that end the fast loop over a string's content: the closing
 * quote, a backslash and the control characters RFC 8259 forbids raw. */
static const unsigned char string_stop[256] = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
	[0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
	[0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
	[0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
	[0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
	[0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

static int
fail(struct scanner *s, const char *what)
{
	return gacp_err_set(s->err, GACP_EINVAL, "invalid_json",
	    "invalid JSON at offset %zu: %s", s->pos, what);
}

static void
skip_ws(struct scanner *s)
{
	while (s->pos < s->len) {
		char c = s->p[s->pos];
		if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
			return;
		s->pos++;
	}
}

static uint32_t
push(struct scanner *s, enum jscan_type type, size_t start)
{
	struct jscan_tok *t;

	if (s->ntok == s->cap) {
		uint32_t cap = s->cap * 2;
		struct jscan_tok *grown = arena_alloc(s->a, cap * sizeof(*grown));

		memcpy(grown, s->tok, s->ntok * sizeof(*grown));
		s->tok = grown;
		s->cap = cap;
	}
	t = &s->tok[s->ntok];
	t->start = (uint32_t)start;
	t->end = (uint32_t)start;
	t->next = s->ntok + 1;
	t->count = 0;
	t->type = (uint8_t)type;
	t->flags = 0;
	return s->ntok++;
}

/* At the opening quote: record a string token, leave pos after the
 * closing quote. */
static int
scan_string(struct scanner *s)
{
	const unsigned char *p = (const unsigned char *)s->p;
	size_t i = s->pos + 1, start = i;
	uint8_t flags = 0;
	uint32_t t;

	for (;;) {
		while (i < s->len && !string_stop[p[i]])
			i++;
		if (i >= s->len) {
			s->pos = i;
			return fail(s, "unterminated string");
		}
		if (p[i] == '"')
			break;
		if (p[i] != '\\') {
			s->pos = i;
			return fail(s, "control character in a string "
			    "(write it as an escape)");
		}
		flags = JSCAN_ESCAPED;
		if (i + 1 >= s->len) {
			s->pos = i;
			return fail(s, "unterminated string");
		}
		switch (p[i + 1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			i += 2;
			break;
		case 'u':
			if (i + 6 > s->len || util_hex_value((char)p[i + 2]) < 0 ||
			    util_hex_value((char)p[i + 3]) < 0 ||
			    util_hex_value((char)p[i + 4]) < 0 ||
			    util_hex_value((char)p[i + 5]) < 0) {
				s->pos = i;
				return fail(s, "\\u must be followed by 4 hex digits");
			}
			i += 6;
			break;
		default:
			s->pos = i;
			return fail(s, "invalid escape in a string");
		}
	}
	t = push(s, JSCAN_STRING, start);
	s->tok[t].end = (uint32_t)i;
	s->tok[t].flags = flags;
	s->pos = i + 1;
	return GACP_OK;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* At *i one digit or more must follow (what names the place if not);
 * *i is left after the last. */
static int
skip_digits(struct scanner *s, size_t *i, const char *what)
{
	if (*i >= s->len || !is_digit(s->p[*i])) {
		s->pos = *i;
		return fail(s, what);
	}
	while (*i < s->len && is_digit(s->p[*i]))
		(*i)++;
	return GACP_OK;
}

/* A number too large for a double (1e999, or 400 digits) is refused,
 * as json_parse_strict() refuses json-c's infinity; checked only when
 * it could happen. */
static bool
finite_number(struct arena *a, const char *text, size_t n)
{
	char small[64], *copy = n < sizeof(small) ? small : arena_alloc(a, n + 1);
	double d;

	memcpy(copy, text, n);
	copy[n] = '\0';
	d = strtod(copy, NULL);
	return isfinite(d);
}

static int
scan_number(struct scanner *s)
{
	size_t start = s->pos, i = s->pos, digits;
	uint8_t flags = 0;
	uint32_t t;

	if (i < s->len && s->p[i] == '-')
		i++;
	if (i < s->len && s->p[i] == '0')
		i++;
	else if (i < s->len && s->p[i] >= '1' && s->p[i] <= '9')
		while (i < s->len && is_digit(s->p[i]))
			i++;
	else {
		s->pos = i;
		return fail(s, "invalid number");
	}
	digits = i - start;
	if (i < s->len && s->p[i] == '.') {
		flags = JSCAN_FRACTION;
		i++;
		if (skip_digits(s, &i,
		    "a digit must follow the decimal point") != GACP_OK)
			return GACP_EINVAL;
	}
	if (i < s->len && (s->p[i] == 'e' || s->p[i] == 'E')) {
		flags = JSCAN_FRACTION;
		i++;
		if (i < s->len && (s->p[i] == '+' || s->p[i] == '-'))
			i++;
		if (skip_digits(s, &i, "a digit must follow the exponent") != GACP_OK)
			return GACP_EINVAL;
	}
	if ((flags || digits > 300) && !finite_number(s->a, s->p + start, i - start)) {
		s->pos = start;
		return gacp_err_set(s->err, GACP_EINVAL, "invalid_json",
		    "invalid JSON: a number is not finite or out of range "
		    "(NaN, Infinity, 1e999)");
	}
	t = push(s, JSCAN_NUMBER, start);
	s->tok[t].end = (uint32_t)i;
	s->tok[t].flags = flags;
	s->pos = i;
	return GACP_OK;
}

static int
scan_literal(struct scanner *s)
{
	static const struct { const char *word; size_t n; enum jscan_type type; }
	    words[] = { { "true", 4, JSCAN_TRUE }, { "false", 5, JSCAN_FALSE },
	    { "null", 4, JSCAN_NULL } };
	size_t k;
	uint32_t t;

	for (k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
		if (s->p[s->pos] != words[k].word[0])
			continue;
		if (s->len - s->pos < words[k].n ||
		    memcmp(s->p + s->pos, words[k].word, words[k].n) != 0)
			break;
		t = push(s, words[k].type, s->pos);
		s->pos += words[k].n;
		s->tok[t].end = (uint32_t)s->pos;
		return GACP_OK;
	}
	return fail(s, "unexpected character");
}

/* The code unit of a \u escape's four (already checked) hex digits. */
static uint32_t
hex4(const char *p)
{
	return (uint32_t)(util_hex_value(p[0]) << 12 | util_hex_value(p[1]) << 8 |
	    util_hex_value(p[2]) << 4 | util_hex_value(p[3]));
}

/* Decode the escapes of text[start, end) into out (room for end - start
 * bytes: no escape decodes to more bytes than it is written with). */
static size_t
decode(const char *text, size_t start, size_t end, char *out)
{
	size_t i = start, n = 0;

	while (i < end) {
		uint32_t cp;

		if (text[i] != '\\') {
			out[n++] = text[i++];
			continue;
		}
		switch (text[i + 1]) {
		case 'b': out[n++] = '\b'; i += 2; continue;
		case 'f': out[n++] = '\f'; i += 2; continue;
		case 'n': out[n++] = '\n'; i += 2; continue;
		case 'r': out[n++] = '\r'; i += 2; continue;
		case 't': out[n++] = '\t'; i += 2; continue;
		case 'u': break;
		default: out[n++] = text[i + 1]; i += 2; continue;
		}
		cp = hex4(text + i + 2);
		i += 6;
		if (cp >= 0xd800 && cp <= 0xdbff && i + 6 <= end &&
		    text[i] == '\\' && text[i + 1] == 'u') {
			uint32_t lo = hex4(text + i + 2);
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
		}
		if (cp >= 0xd800 && cp <= 0xdfff)
			cp = 0xfffd;   /* unpaired surrogate, as json-c */
		if (cp < 0x80)
			out[n++] = (char)cp;
		else if (cp < 0x800) {
			out[n++] = (char)(0xc0 | cp >> 6);
			out[n++] = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			out[n++] = (char)(0xe0 | cp >> 12);
			out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
			out[n++] = (char)(0x80 | (cp & 0x3f));
		} else {
			out[n++] = (char)(0xf0 | cp >> 18);
			out[n++] = (char)(0x80 | (cp >> 12 & 0x3f));
			out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
			out[n++] = (char)(0x80 | (cp & 0x3f));
		}
	}
	return n;
}

/* The length of a decoded key as json-c sees it.  json-c keeps object
 * keys as C strings, so "a\u0000b" is the key "a" to it: to
 * json_parse_strict() {"a\u0000b":1,"a\u0000c":2} has a duplicate key
 * and json_object_object_get_ex(obj, "a") finds the first member.  Keys
 * are compared up to a NUL here too, so no document is read one way by
 * jscan and another by json-c (found by tests/unit/test_jscan.c).  Only
 * an escape can put a NUL in a key: the text holds no raw one. */
static size_t
key_len(const char *key, size_t n)
{
	const char *nul = memchr(key, '\0', n);

	return nul != NULL ? (size_t)(nul - key) : n;
}

struct key_view {
	const char *p;
	size_t      n;
};

static struct key_view
key_of(struct scanner *s, uint32_t k)
{
	const struct jscan_tok *t = &s->tok[k];
	struct key_view v = { s->p + t->start, t->end - t->start };

	if (t->flags & JSCAN_ESCAPED) {
		char *out = arena_alloc(s->a, v.n + 1);
		v.n = key_len(out, decode(s->p, t->start, t->end, out));
		v.p = out;
	}
	return v;
}

static bool
keys_equal(struct key_view x, struct key_view y)
{
	return x.n == y.n && memcmp(x.p, y.p, x.n) == 0;
}

static int
compare_keys(const void *a, const void *b)
{
	const struct key_view *x = a, *y = b;
	size_t n = x->n < y->n ? x->n : y->n;
	int c = memcmp(x->p, y->p, n);

	if (c != 0)
		return c;
	return x->n < y->n ? -1 : x->n > y->n;
}

/* RFC 8259 leaves duplicate names undefined and parsers disagree on
 * which one wins; a request that two readers could see differently is
 * refused.  Small objects compare pairwise; large ones sort their keys
 * so a body of 100,000 keys costs n log n, not n squared. */
static int
check_duplicates(struct scanner *s, uint32_t obj)
{
	uint32_t n = s->tok[obj].count, k, i, j;
	struct key_view *keys;

	if (n < 2)
		return GACP_OK;
	keys = arena_alloc(s->a, n * sizeof(*keys));
	for (i = 0, k = obj + 1; i < n; i++, k = s->tok[k + 1].next)
		keys[i] = key_of(s, k);
	if (n <= 8) {
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (keys_equal(keys[i], keys[j]))
					goto duplicate;
		return GACP_OK;
	}
	qsort(keys, n, sizeof(*keys), compare_keys);
	for (i = 1; i < n; i++)
		if (keys_equal(keys[i - 1], keys[i]))
			goto duplicate;
	return GACP_OK;
duplicate:
	return gacp_err_set(s->err, GACP_EINVAL, "invalid_json",
	    "invalid JSON: duplicate key in an object");
}

int
jscan_parse(struct arena *a, const char *text, size_t len, int max_depth,
    struct jscan *out, struct gacp_err *err)
{
	struct scanner s = { .p = text, .len = len, .a = a, .err = err };
	uint32_t *open, cur;
	int depth = 0, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = json_check_text(text, len, err)) != GACP_OK)
		return rc;
	/* The open-container stack is max_depth entries of the arena: a
	 * caller's absurd limit must not become an absurd allocation. */
	if (max_depth < 1)
		max_depth = 1;
	if (max_depth > JSCAN_DEPTH_LIMIT)
		max_depth = JSCAN_DEPTH_LIMIT;
	s.cap = 32;
	s.tok = arena_alloc(a, s.cap * sizeof(*s.tok));
	open = arena_alloc(a, (size_t)max_depth * sizeof(*open));

	for (;;) {
		/* A value starts here. */
		skip_ws(&s);
		if (s.pos >= len)
			return fail(&s, "the document is truncated");
		if (depth >= max_depth)
			return fail(&s, "nesting too deep");
		switch (s.p[s.pos]) {
		case '{':
		case '[':
			cur = push(&s, s.p[s.pos] == '{' ? JSCAN_OBJECT :
			    JSCAN_ARRAY, s.pos);
			open[depth++] = cur;
			s.pos++;
			skip_ws(&s);
			if (s.pos < len && s.p[s.pos] ==
			    (s.tok[cur].type == JSCAN_OBJECT ? '}' : ']'))
				goto close;
			if (s.tok[cur].type == JSCAN_OBJECT)
				goto key;
			continue;
		case '"':
			rc = scan_string(&s);
			break;
		case '-': case '0': case '1': case '2': case '3': case '4':
		case '5': case '6': case '7': case '8': case '9':
			rc = scan_number(&s);
			break;
		default:
			rc = scan_literal(&s);
			break;
		}
		if (rc != GACP_OK)
			return rc;
	after_value:
		if (depth == 0)
			break;
		cur = open[depth - 1];
		s.tok[cur].count++;
		skip_ws(&s);
		if (s.pos >= len)
			return fail(&s, "the document is truncated");
		if (s.p[s.pos] == ',') {
			s.pos++;
			if (s.tok[cur].type == JSCAN_OBJECT)
				goto key;
			continue;
		}
		if (s.p[s.pos] != (s.tok[cur].type == JSCAN_OBJECT ? '}' : ']'))
			return fail(&s, s.tok[cur].type == JSCAN_OBJECT ?
			    "expected ',' or '}' after an object member" :
			    "expected ',' or ']' after an array element");
	close:
		s.pos++;
		s.tok[cur].end = (uint32_t)s.pos;
		s.tok[cur].next = s.ntok;
		depth--;
		if (s.tok[cur].type == JSCAN_OBJECT &&
		    (rc = check_duplicates(&s, cur)) != GACP_OK)
			return rc;
		goto after_value;
	key:
		skip_ws(&s);
		if (s.pos >= len)
			return fail(&s, "the document is truncated");
		if (s.p[s.pos] != '"')
			return fail(&s, "an object key must be a string in "
			    "double quotes");
		if ((rc = scan_string(&s)) != GACP_OK)
			return rc;
		skip_ws(&s);
		if (s.pos >= len || s.p[s.pos] != ':')
			return fail(&s, "expected ':' after an object key");
		s.pos++;
	}
	skip_ws(&s);
	if (s.pos != len)
		return gacp_err_set(err, GACP_EINVAL, "invalid_json",
		    "unexpected data after the JSON value at offset %zu", s.pos);
	out->text = text;
	out->len = len;
	out->tok = s.tok;
	out->ntok = s.ntok;
	return GACP_OK;
}

uint32_t
jscan_member(const struct jscan *js, uint32_t obj, const char *key)
{
	size_t klen = strlen(key);
	uint32_t k, i, n;

	if (!jscan_is(js, obj, JSCAN_OBJECT))
		return JSCAN_NONE;
	n = js->tok[obj].count;
	for (i = 0, k = obj + 1; i < n; i++, k = js->tok[k + 1].next) {
		const struct jscan_tok *t = &js->tok[k];
		size_t n_raw = t->end - t->start;

		if (!(t->flags & JSCAN_ESCAPED)) {
			if (n_raw == klen &&
			    memcmp(js->text + t->start, key, klen) == 0)
				return k + 1;
		} else {
			/* Decoding never lengthens, so most keys decode on the
			 * stack.  A longer one goes to the heap: no name we
			 * look up is that long, but "\u0000" can end it early,
			 * where json-c ends it. */
			char small[256];
			char *buf = n_raw <= sizeof(small) ? small : malloc(n_raw);
			bool match;

			if (buf == NULL)
				continue;
			match = key_len(buf, decode(js->text, t->start, t->end,
			    buf)) == klen && memcmp(buf, key, klen) == 0;
			if (buf != small)
				free(buf);
			if (match)
				return k + 1;
		}
	}
	return JSCAN_NONE;
}

uint32_t
jscan_first(const struct jscan *js, uint32_t arr)
{
	if (!jscan_is(js, arr, JSCAN_ARRAY) || js->tok[arr].count == 0)
		return JSCAN_NONE;
	return arr + 1;
}

uint32_t
jscan_next(const struct jscan *js, uint32_t arr, uint32_t i)
{
	if (!jscan_is(js, arr, JSCAN_ARRAY) || i >= js->ntok ||
	    js->tok[i].next >= js->tok[arr].next)
		return JSCAN_NONE;
	return js->tok[i].next;
}

char *
jscan_string(const struct jscan *js, uint32_t i, struct arena *a, size_t *len)
{
	const struct jscan_tok *t;
	size_t n;
	char *out;

	if (!jscan_is(js, i, JSCAN_STRING))
		return NULL;
	t = &js->tok[i];
	out = arena_alloc(a, (size_t)(t->end - t->start) + 1);
	if (t->flags & JSCAN_ESCAPED)
		n = decode(js->text, t->start, t->end, out);
	else {
		n = t->end - t->start;
		memcpy(out, js->text + t->start, n);
	}
	out[n] = '\0';
	if (len != NULL)
		*len = n;
	return out;
}

bool
jscan_int64(const struct jscan *js, uint32_t i, int64_t *out)
{
	const struct jscan_tok *t;
	const char *p;
	size_t k, n;
	bool neg;
	uint64_t v = 0, limit;

	if (!jscan_is(js, i, JSCAN_NUMBER) || (js->tok[i].flags & JSCAN_FRACTION))
		return false;
	t = &js->tok[i];
	p = js->text + t->start;
	n = t->end - t->start;
	neg = p[0] == '-';
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (k = neg; k < n; k++) {
		unsigned d = (unsigned)(p[k] - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

bool
jscan_truthy(const struct jscan *js, uint32_t i)
{
	const struct jscan_tok *t;
	char buf[64], *copy;
	size_t n;
	bool nonzero;

	if (i >= js->ntok)
		return false;
	t = &js->tok[i];
	switch (t->type) {
	case JSCAN_TRUE:
		return true;
	case JSCAN_STRING:
		return t->end > t->start;
	case JSCAN_NUMBER:
		n = t->end - t->start;
		if (!(t->flags & JSCAN_FRACTION)) {
			/* An integer is zero only when all its digits are. */
			for (; n > 0; n--)
				if (js->text[t->start + n - 1] > '0')
					return true;
			return false;
		}
		copy = n < sizeof(buf) ? buf : malloc(n + 1);
		if (copy == NULL)
			return true;   /* out of memory: "set" is the safe side for is_echo */
		memcpy(copy, js->text + t->start, n);
		copy[n] = '\0';
		nonzero = strtod(copy, NULL) != 0.0;
		if (copy != buf)
			free(copy);
		return nonzero;
	default:
		return false;
	}
}

const char *
jscan_raw(const struct jscan *js, uint32_t i, size_t *len)
{
	const struct jscan_tok *t;

	if (i >= js->ntok) {
		*len = 0;
		return NULL;
	}
	t = &js->tok[i];
	if (t->type == JSCAN_STRING) {
		*len = (size_t)(t->end - t->start) + 2;
		return js->text + t->start - 1;
	}
	*len = t->end - t->start;
	return js->text + t->start;
}
