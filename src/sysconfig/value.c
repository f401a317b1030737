/* value.c - typed configuration values and validation rules (see value.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "sysconfig/value.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "common/json.h"
#include "common/utf8.h"
#include "common/xmalloc.h"

static const char *const type_names[] = {
	[SYSCFG_STRING] = "string",
	[SYSCFG_JSON] = "json",
	[SYSCFG_BOOLEAN] = "boolean",
	[SYSCFG_INTEGER] = "integer",
	[SYSCFG_FLOAT] = "float",
};

static void report(struct syscfg_report *r, const char *field,
		    const char *code, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));

static void
report(struct syscfg_report *r, const char *field, const char *code,
    const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->n++;
	if (r->add != NULL)
		r->add(r->ctx, field, code, msg);
}

bool
syscfg_type_from_string(const char *s, enum syscfg_type *out)
{
	size_t i;

	for (i = 0; s != NULL && i < sizeof(type_names) / sizeof(*type_names);
	    i++)
		if (strcmp(s, type_names[i]) == 0) {
			*out = (enum syscfg_type)i;
			return true;
		}
	return false;
}

const char *
syscfg_type_name(enum syscfg_type t)
{
	if ((size_t)t >= sizeof(type_names) / sizeof(*type_names))
		return "unknown";
	return type_names[t];
}

bool
syscfg_key_ok(const char *key)
{
	size_t i, n;

	if (key == NULL || (n = strlen(key)) == 0 || n > 128)
		return false;
	for (i = 0; i < n; i++) {
		char c = key[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != ':' &&
		    c != '-')))
			return false;
	}
	return true;
}

bool
syscfg_environment_ok(const char *env)
{
	return env != NULL && (strcmp(env, "development") == 0 ||
	    strcmp(env, "staging") == 0 || strcmp(env, "production") == 0);
}

/* Strict decimal integer: -?(0|[1-9][0-9]*) within int64. */
static bool
parse_int(const char *s, int64_t *out)
{
	const char *p = s;
	char *end;
	long long v;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0'))
		return false;
	for (; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

/* A finite decimal number in JSON's number syntax (no hex, inf, nan,
 * white space or leading '+'). */
static bool
parse_float(const char *s, double *out)
{
	const char *p = s;
	char *end;
	double v;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p != '\0'; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' ||
		    *p == 'E' || *p == '-' || *p == '+'))
			return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE || *end != '\0' || !isfinite(v))
		return false;
	*out = v;
	return true;
}

static char *
float_text(double v)
{
	char buf[64];

	/* Shortest text that reads back as the same double. */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return xstrdup(buf);
}

/* The number a JSON int/double holds; false for other types. */
static bool
json_number(struct json_object *o, bool *is_int, int64_t *i, double *d)
{
	if (json_object_is_type(o, json_type_int)) {
		const char *text = json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN);

		/* json-c clamps values beyond int64; its text does not lie. */
		if (!parse_int(text, i))
			return false;
		*is_int = true;
		*d = (double)*i;
		return true;
	}
	if (json_object_is_type(o, json_type_double)) {
		*d = json_object_get_double(o);
		if (!isfinite(*d))
			return false;
		*is_int = false;
		return true;
	}
	return false;
}

bool
syscfg_value_parse(enum syscfg_type t, struct json_object *given,
    char **canon_out, struct syscfg_report *r)
{
	const char *s = NULL;
	struct json_object *parsed = NULL;
	struct gacp_err err;
	char buf[32];
	int64_t i;
	double d;
	bool is_int;

	*canon_out = NULL;
	if (given == NULL) {
		report(r, "config_value", "required", "a value is required");
		return false;
	}
	if (json_object_is_type(given, json_type_string)) {
		s = json_object_get_string(given);
		if ((size_t)json_object_get_string_len(given) != strlen(s)) {
			report(r, "config_value", "invalid_type",
			    "text may not contain NUL characters");
			return false;
		}
		if (strlen(s) > SYSCFG_VALUE_MAX) {
			report(r, "config_value", "too_large",
			    "values are at most %d bytes", SYSCFG_VALUE_MAX);
			return false;
		}
	}
	switch (t) {
	case SYSCFG_STRING:
		if (s == NULL)
			break;
		*canon_out = xstrdup(s);
		return true;
	case SYSCFG_INTEGER:
		if (s != NULL ? parse_int(s, &i) :
		    (json_number(given, &is_int, &i, &d) && is_int)) {
			snprintf(buf, sizeof(buf), "%" PRId64, i);
			*canon_out = xstrdup(buf);
			return true;
		}
		break;
	case SYSCFG_FLOAT:
		if (s != NULL ? parse_float(s, &d) :
		    json_number(given, &is_int, &i, &d)) {
			*canon_out = float_text(d);
			return true;
		}
		break;
	case SYSCFG_BOOLEAN:
		if (s != NULL && (strcmp(s, "true") == 0 ||
		    strcmp(s, "false") == 0)) {
			*canon_out = xstrdup(s);
			return true;
		}
		if (s == NULL && json_object_is_type(given, json_type_boolean)) {
			*canon_out = xstrdup(json_object_get_boolean(given) ?
			    "true" : "false");
			return true;
		}
		break;
	case SYSCFG_JSON:
		if (s != NULL) {
			gacp_err_clear(&err);
			if (json_parse_strict(s, strlen(s), JSON_MAX_DEPTH,
			    &parsed, &err) != GACP_OK) {
				report(r, "config_value", "invalid_type",
				    "not valid JSON text: %s", err.msg);
				return false;
			}
			given = parsed;
		}
		*canon_out = xstrdup(json_object_to_json_string_ext(given,
		    JSON_C_TO_STRING_PLAIN));
		json_object_put(parsed);
		if (strlen(*canon_out) > SYSCFG_VALUE_MAX) {
			free(*canon_out);
			*canon_out = NULL;
			report(r, "config_value", "too_large",
			    "values are at most %d bytes", SYSCFG_VALUE_MAX);
			return false;
		}
		return true;
	}
	report(r, "config_value", "invalid_type", "not a valid %s%s",
	    syscfg_type_name(t), t == SYSCFG_FLOAT ? " (a finite number)" :
	    t == SYSCFG_INTEGER ? " (a whole number within 64 bits)" : "");
	return false;
}

struct json_object *
syscfg_typed(enum syscfg_type t, const char *text)
{
	struct json_object *o = NULL;
	struct gacp_err err;
	int64_t i;
	double d;

	if (text == NULL)
		return NULL;
	switch (t) {
	case SYSCFG_STRING:
		return json_object_new_string(text);
	case SYSCFG_INTEGER:
		return parse_int(text, &i) ? json_object_new_int64(i) : NULL;
	case SYSCFG_FLOAT:
		return parse_float(text, &d) ? json_object_new_double(d) : NULL;
	case SYSCFG_BOOLEAN:
		if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0)
			return json_object_new_boolean(text[0] == 't');
		return NULL;
	case SYSCFG_JSON:
		gacp_err_clear(&err);
		if (json_parse_strict(text, strlen(text), JSON_MAX_DEPTH, &o,
		    &err) != GACP_OK)
			return NULL;
		return o;   /* NULL for "null": json-c's JSON null */
	}
	return NULL;
}

static bool
applies(enum syscfg_type t, const char *rule)
{
	if (strcmp(rule, "min") == 0 || strcmp(rule, "max") == 0)
		return t == SYSCFG_INTEGER || t == SYSCFG_FLOAT;
	if (strcmp(rule, "min_length") == 0 || strcmp(rule, "max_length") == 0 ||
	    strcmp(rule, "pattern") == 0)
		return t == SYSCFG_STRING;
	if (strcmp(rule, "enum") == 0)
		return t == SYSCFG_STRING || t == SYSCFG_INTEGER ||
		    t == SYSCFG_FLOAT;
	return false;
}

static void
parse_bound(struct json_object *v, const char *name, struct syscfg_bound *b,
    struct syscfg_report *r)
{
	char field[40];

	snprintf(field, sizeof(field), "validation_rules.%s", name);
	if (!json_number(v, &b->is_int, &b->i, &b->d)) {
		report(r, field, "invalid_rule", "%s must be a finite number",
		    name);
		return;
	}
	b->set = true;
}

static void
parse_length(struct json_object *v, const char *name, bool *has,
    int64_t *out, struct syscfg_report *r)
{
	char field[40];
	bool is_int;
	double d;

	snprintf(field, sizeof(field), "validation_rules.%s", name);
	if (!json_number(v, &is_int, out, &d) || !is_int || *out < 0 ||
	    *out > SYSCFG_VALUE_MAX) {
		report(r, field, "invalid_rule",
		    "%s must be a whole number from 0 to %d", name,
		    SYSCFG_VALUE_MAX);
		return;
	}
	*has = true;
}

static void
parse_pattern(struct json_object *v, struct syscfg_rules *out,
    struct syscfg_report *r)
{
	const char *field = "validation_rules.pattern";
	PCRE2_UCHAR msg[120];
	PCRE2_SIZE off;
	const char *p;
	pcre2_code *re;
	int ec;

	if (!json_object_is_type(v, json_type_string) ||
	    (p = json_object_get_string(v)) == NULL ||
	    (size_t)json_object_get_string_len(v) != strlen(p)) {
		report(r, field, "invalid_rule", "pattern must be a string");
		return;
	}
	if (strlen(p) == 0 || strlen(p) > SYSCFG_PATTERN_MAX) {
		report(r, field, "invalid_rule",
		    "pattern must be 1 to %d bytes", SYSCFG_PATTERN_MAX);
		return;
	}
	/* Anchored at both ends: the whole value must match, as a validation
	 * rule means it (a partial match would accept "x1" for [0-9]). */
	re = pcre2_compile((PCRE2_SPTR)p, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED | PCRE2_ENDANCHORED |
	    PCRE2_NEVER_BACKSLASH_C, &ec, &off, NULL);
	if (re == NULL) {
		pcre2_get_error_message(ec, msg, sizeof(msg));
		report(r, field, "invalid_pattern",
		    "does not compile at offset %zu: %s", (size_t)off,
		    (const char *)msg);
		return;
	}
	out->pattern = xstrdup(p);
	out->re = re;
}

static void
parse_enum(struct json_object *v, enum syscfg_type t,
    struct syscfg_rules *out, struct syscfg_report *r)
{
	const char *field = "validation_rules.enum";
	size_t i, n;

	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) == 0 || n > SYSCFG_ENUM_MAX) {
		report(r, field, "invalid_rule",
		    "enum must be an array of 1 to %d values", SYSCFG_ENUM_MAX);
		return;
	}
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		bool is_int, ok;
		int64_t iv;
		double d;

		if (t == SYSCFG_STRING)
			ok = json_object_is_type(e, json_type_string);
		else if (t == SYSCFG_INTEGER)
			ok = json_number(e, &is_int, &iv, &d) && is_int;
		else
			ok = json_number(e, &is_int, &iv, &d);
		if (!ok) {
			report(r, field, "invalid_rule",
			    "enum member %zu is not a %s", i,
			    syscfg_type_name(t));
			return;
		}
	}
	out->enum_values = json_object_get(v);
}

static int
bound_cmp(const struct syscfg_bound *a, const struct syscfg_bound *b)
{
	if (a->is_int && b->is_int)
		return a->i < b->i ? -1 : a->i > b->i;
	return a->d < b->d ? -1 : a->d > b->d;
}

bool
syscfg_rules_parse(struct json_object *obj, enum syscfg_type t,
    struct syscfg_rules *out, struct syscfg_report *r)
{
	size_t before = r->n;

	memset(out, 0, sizeof(*out));
	if (obj == NULL || json_object_is_type(obj, json_type_null))
		return true;
	if (!json_object_is_type(obj, json_type_object)) {
		report(r, "validation_rules", "invalid_rules",
		    "validation_rules must be an object");
		return false;
	}
	json_object_object_foreach(obj, key, v) {
		char field[160];

		snprintf(field, sizeof(field), "validation_rules.%.120s", key);
		if (strcmp(key, "min") != 0 && strcmp(key, "max") != 0 &&
		    strcmp(key, "min_length") != 0 &&
		    strcmp(key, "max_length") != 0 &&
		    strcmp(key, "pattern") != 0 && strcmp(key, "enum") != 0) {
			report(r, field, "unknown_rule", "rules are min, max, "
			    "min_length, max_length, pattern and enum");
			continue;
		}
		if (!applies(t, key)) {
			report(r, field, "rule_not_applicable",
			    "%s does not apply to %s values", key,
			    syscfg_type_name(t));
			continue;
		}
		if (strcmp(key, "min") == 0)
			parse_bound(v, key, &out->min, r);
		else if (strcmp(key, "max") == 0)
			parse_bound(v, key, &out->max, r);
		else if (strcmp(key, "min_length") == 0)
			parse_length(v, key, &out->has_min_length,
			    &out->min_length, r);
		else if (strcmp(key, "max_length") == 0)
			parse_length(v, key, &out->has_max_length,
			    &out->max_length, r);
		else if (strcmp(key, "pattern") == 0)
			parse_pattern(v, out, r);
		else
			parse_enum(v, t, out, r);
	}
	if (out->min.set && out->max.set && bound_cmp(&out->min, &out->max) > 0)
		report(r, "validation_rules", "rule_conflict",
		    "min is greater than max");
	if (out->has_min_length && out->has_max_length &&
	    out->min_length > out->max_length)
		report(r, "validation_rules", "rule_conflict",
		    "min_length is greater than max_length");
	/* An integer type with a fractional bound would be a trap. */
	if (t == SYSCFG_INTEGER && ((out->min.set && !out->min.is_int) ||
	    (out->max.set && !out->max.is_int)))
		report(r, "validation_rules", "invalid_rule",
		    "bounds of an integer must be whole numbers");
	return r->n == before;
}

void
syscfg_rules_free(struct syscfg_rules *rules)
{
	if (rules == NULL)
		return;
	free(rules->pattern);
	pcre2_code_free(rules->re);
	json_object_put(rules->enum_values);
	memset(rules, 0, sizeof(*rules));
}

static struct json_object *
bound_json(const struct syscfg_bound *b)
{
	return b->is_int ? json_object_new_int64(b->i) :
	    json_object_new_double(b->d);
}

struct json_object *
syscfg_rules_json(const struct syscfg_rules *rules)
{
	struct json_object *o = json_object_new_object();

	if (rules->min.set)
		json_object_object_add(o, "min", bound_json(&rules->min));
	if (rules->max.set)
		json_object_object_add(o, "max", bound_json(&rules->max));
	if (rules->has_min_length)
		json_object_object_add(o, "min_length",
		    json_object_new_int64(rules->min_length));
	if (rules->has_max_length)
		json_object_object_add(o, "max_length",
		    json_object_new_int64(rules->max_length));
	if (rules->pattern != NULL)
		json_object_object_add(o, "pattern",
		    json_object_new_string(rules->pattern));
	if (rules->enum_values != NULL)
		json_object_object_add(o, "enum",
		    json_object_get(rules->enum_values));
	return o;
}

static bool
in_enum(enum syscfg_type t, const struct json_object *values,
    const char *canon)
{
	size_t i, n = json_object_array_length(values);
	int64_t vi = 0, ei;
	double vd = 0, ed;
	bool is_int;

	if (t == SYSCFG_INTEGER)
		(void)parse_int(canon, &vi);
	else if (t == SYSCFG_FLOAT)
		(void)parse_float(canon, &vd);
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(values, i);

		if (t == SYSCFG_STRING) {
			if (json_object_is_type(e, json_type_string) &&
			    strcmp(json_object_get_string(e), canon) == 0)
				return true;
		} else if (json_number(e, &is_int, &ei, &ed)) {
			if (t == SYSCFG_INTEGER ? (is_int && ei == vi) : ed == vd)
				return true;
		}
	}
	return false;
}

static void
bound_text(const struct syscfg_bound *b, char *out, size_t n)
{
	if (b->is_int)
		snprintf(out, n, "%" PRId64, b->i);
	else
		snprintf(out, n, "%.17g", b->d);
}

static void
check_bounds(enum syscfg_type t, const struct syscfg_rules *rules,
    const char *canon, struct syscfg_report *r)
{
	struct syscfg_bound v;
	char text[64];

	memset(&v, 0, sizeof(v));
	if (t == SYSCFG_INTEGER) {
		v.is_int = true;
		(void)parse_int(canon, &v.i);
		v.d = (double)v.i;
	} else {
		(void)parse_float(canon, &v.d);
	}
	if (rules->min.set && bound_cmp(&v, &rules->min) < 0) {
		bound_text(&rules->min, text, sizeof(text));
		report(r, "config_value", "below_min", "must be at least %s",
		    text);
	}
	if (rules->max.set && bound_cmp(&v, &rules->max) > 0) {
		bound_text(&rules->max, text, sizeof(text));
		report(r, "config_value", "above_max", "must be at most %s",
		    text);
	}
}

bool
syscfg_value_check(enum syscfg_type t, const struct syscfg_rules *rules,
    const char *canon, struct syscfg_report *r)
{
	size_t before = r->n;

	if (rules == NULL || canon == NULL)
		return true;
	if (t == SYSCFG_INTEGER || t == SYSCFG_FLOAT)
		check_bounds(t, rules, canon, r);
	if (t == SYSCFG_STRING) {
		size_t chars = utf8_count(canon, strlen(canon));

		if (rules->has_min_length && chars < (size_t)rules->min_length)
			report(r, "config_value", "too_short",
			    "must be at least %" PRId64 " characters",
			    rules->min_length);
		if (rules->has_max_length && chars > (size_t)rules->max_length)
			report(r, "config_value", "too_long",
			    "must be at most %" PRId64 " characters",
			    rules->max_length);
		if (rules->re != NULL) {
			pcre2_match_data *md = pcre2_match_data_create(1, NULL);
			pcre2_match_context *mc = pcre2_match_context_create(NULL);
			int m;

			pcre2_set_match_limit(mc, SYSCFG_MATCH_LIMIT);
			pcre2_set_depth_limit(mc, SYSCFG_MATCH_LIMIT / 10);
			m = pcre2_match(rules->re, (PCRE2_SPTR)canon,
			    strlen(canon), 0, 0, md, mc);
			if (m == PCRE2_ERROR_MATCHLIMIT ||
			    m == PCRE2_ERROR_DEPTHLIMIT)
				report(r, "config_value", "pattern_too_complex",
				    "the pattern needs too much backtracking on "
				    "this value");
			else if (m < 0)
				report(r, "config_value", "pattern_mismatch",
				    "does not match the pattern");
			pcre2_match_data_free(md);
			pcre2_match_context_free(mc);
		}
	}
	if (rules->enum_values != NULL && !in_enum(t, rules->enum_values, canon))
		report(r, "config_value", "not_in_enum",
		    "must be one of the enum values");
	return r->n == before;
}
