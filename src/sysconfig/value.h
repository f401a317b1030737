/* value.h - typed configuration values and their validation rules (pure, no I/O).
 *
 * A configuration value has one of five types (string, json, boolean,
 * integer, float) and optional rules {min, max, min_length, max_length,
 * pattern, enum}.  Values arrive from outside (REST bodies, gacpctl) either
 * as a JSON string in the seed's text form ("42") or as a native JSON value
 * of the type (42); both give one canonical text, which is what is stored
 * (and sealed when encrypted), and a typed JSON value, which is what reads
 * return.
 *
 * Every problem is reported, not only the first, through a report callback
 * as {field, code, message}: the service turns them into the 422
 * validation_failed details.  Codes (stable):
 *   value:  invalid_type, too_large, below_min, above_max, too_short,
 *           too_long, pattern_mismatch, pattern_too_complex, not_in_enum;
 *   rules:  invalid_rules, unknown_rule, rule_not_applicable, invalid_rule,
 *           invalid_pattern, rule_conflict.
 *
 * Which rules apply: string takes min_length, max_length (in characters),
 * pattern (PCRE2, UTF mode, must match the whole value) and enum; integer
 * and float take min, max and enum; boolean and json take none (a boolean
 * has two values; a json value is checked by its consumer).
 */
#ifndef GACP_SYSCONFIG_VALUE_H
#define GACP_SYSCONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define SYSCFG_VALUE_MAX     (64 * 1024)  /* bytes of canonical text */
#define SYSCFG_PATTERN_MAX   512          /* bytes of a pattern */
#define SYSCFG_ENUM_MAX      100          /* members of an enum */
#define SYSCFG_MATCH_LIMIT   100000       /* PCRE2 backtracking bound */

enum syscfg_type {
	SYSCFG_STRING,
	SYSCFG_JSON,
	SYSCFG_BOOLEAN,
	SYSCFG_INTEGER,
	SYSCFG_FLOAT,
};

/* Where problems go.  add() receives the field ("config_value",
 * "validation_rules.max"), a stable code and a short message; n counts. */
struct syscfg_report {
	void  (*add)(void *ctx, const char *field, const char *code,
	            const char *msg);
	void   *ctx;
	size_t  n;
};

/* A numeric bound kept exactly: integers as int64, others as double. */
struct syscfg_bound {
	bool    set;
	bool    is_int;
	int64_t i;
	double  d;
};

struct syscfg_rules {
	struct syscfg_bound min, max;
	bool                has_min_length, has_max_length;
	int64_t             min_length, max_length;
	char               *pattern;      /* heap copy, or NULL */
	void               *re;           /* compiled pcre2_code, or NULL */
	struct json_object *enum_values;  /* own reference, or NULL */
};

/* Prototypes */

bool        syscfg_type_from_string(const char *s, enum syscfg_type *out);
const char *syscfg_type_name(enum syscfg_type t);

/* Parse and check a rules object for type t (obj NULL or {}: no rules).
 * Problems are reported under "validation_rules[.<rule>]"; returns true
 * when there were none.  out is always initialised; release it with
 * syscfg_rules_free() either way. */
bool syscfg_rules_parse(struct json_object *obj, enum syscfg_type t,
         struct syscfg_rules *out, struct syscfg_report *r);
void syscfg_rules_free(struct syscfg_rules *rules);
/* The rules as a JSON object to store (new reference; {} when none). */
struct json_object *syscfg_rules_json(const struct syscfg_rules *rules);

/* Read a given value (JSON string in text form, or a native JSON value)
 * as type t.  On success *canon_out is the canonical text (heap, free) and
 * true is returned; on failure problems are reported under
 * "config_value" and *canon_out is NULL. */
bool syscfg_value_parse(enum syscfg_type t, struct json_object *given,
         char **canon_out, struct syscfg_report *r);
/* The typed JSON value of canonical text (new reference), or NULL when
 * text is not valid for t (stored data written by something else) or is
 * the json value null (json-c's null is the NULL object). */
struct json_object *syscfg_typed(enum syscfg_type t, const char *text);
/* Check canonical text against rules; each violation is reported under
 * "config_value".  Returns true when there was none. */
bool syscfg_value_check(enum syscfg_type t, const struct syscfg_rules *rules,
         const char *canon, struct syscfg_report *r);

/* The configuration key format: 1..128 of [A-Za-z0-9_.:-], starting with
 * a letter or digit. */
bool syscfg_key_ok(const char *key);
/* development | staging | production */
bool syscfg_environment_ok(const char *env);

#endif
