/* trainset.c - NLU training data services: validation, CRUD, import, export (see trainset.h). */
#include "training/trainset.h"
#include "common/arena.h"
#include "common/json.h"
#include "common/utf8.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "nlu/data.h"
#include "nlu/entities.h"
#include "nlu/model.h"
#include "nlu/text.h"
#include "store/db.h"
#include "store/nlu_store.h"
#include "tenancy/audit.h"
#include "tenancy/tenancy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One entity annotation while it is checked, from JSON or a loaded file. */
struct ann {
	int64_t     start;
	int64_t     end;
	const char *entity;
	const char *value;      /* NULL: the annotated text */
	const char *role;
	const char *group;
};

/* Field errors of a large input are capped (TRAINSET_ERRORS_MAX) so a
 * broken file gives a readable answer, not a megabyte of details. */
struct problems {
	struct svc *s;
	size_t      count;
};

static void	put_json(void *);
static void	problem(struct problems *, const char *, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static void	problems_close(struct problems *);
static bool	name_ok(const char *, size_t, const char *);
static bool	lang_ok(const char *);
static const char *detect_lang(struct nlu_text *, const char *);
static const char *actor(const struct svc *);
static char	*cp_substr(struct arena *, const char *, int64_t, int64_t);
static const char *obj_str(struct problems *, struct json_object *,
		    const char *, const char *, size_t, bool);
static bool	obj_only(struct problems *, struct json_object *, const char *,
		    const char *const *);
static struct json_object *check_anns(struct problems *, const char *,
		    const char *, struct ann *, size_t);
static bool	json_anns(struct problems *, const char *, struct json_object *,
		    struct arena *, struct ann **, size_t *);
static struct json_object *check_example(struct problems *, struct nlu_text *,
		    const char *, const char *, const char *, const char *,
		    struct ann *, size_t);
static int	record(struct svc *, const char *, const char *, const char *,
		    struct json_object *, struct gacp_err *);
static bool	kind_ok(const char *);
static struct json_object *check_elements(struct problems *, const char *,
		    const char *, struct json_object *);
static bool	check_definition_name(struct problems *, const char *,
		    const char *, const char *);
static int	synonym_clash(struct svc *, struct problems *, const char *,
		    const char *, struct json_object *, struct gacp_err *);

static void
put_json(void *p)
{
	json_object_put(p);
}

static void
problem(struct problems *p, const char *field, const char *code,
    const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (++p->count > TRAINSET_ERRORS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	svc_field_error(p->s, field, code, "%s", msg);
}

static void
problems_close(struct problems *p)
{
	if (p->count > TRAINSET_ERRORS_MAX)
		svc_field_error(p->s, "body", "too_many_problems",
		    "%zu more problems not listed",
		    p->count - TRAINSET_ERRORS_MAX);
}

/* 1..max characters of UTF-8 without white space, control characters or
 * any of the bytes in banned (annotation syntax). */
static bool
name_ok(const char *s, size_t max, const char *banned)
{
	size_t i, len;

	if (s == NULL || (len = strlen(s)) == 0 || !utf8_valid(s, len) ||
	    utf8_count(s, len) > max)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f || strchr(banned, (char)c) != NULL)
			return false;
	}
	/* U+00A0 and the other Unicode spaces read as blanks too. */
	return strstr(s, "\xc2\xa0") == NULL && strstr(s, "\xe2\x80\x80") ==
	    NULL && strstr(s, "\xe3\x80\x80") == NULL;
}

/* Entity, role and group names appear inside Rasa's "[text](entity)"
 * syntax on export, so they cannot hold its punctuation. */
#define ENTITY_BANNED "[](){}:\"'"

static bool
lang_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0, i;

	if (n < 2 || n > 3)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 'a' || s[i] > 'z')
			return false;
	return true;
}

/* The engine's language identifier: "th", "en", another ISO 639-1 code,
 * or "und" (no letters; also without an identifier). */
static const char *
detect_lang(struct nlu_text *lid, const char *text)
{
	const char *lang;

	if (lid == NULL || nlu_text_process(lid, text, strlen(text), NULL) !=
	    GACP_OK)
		return "und";
	lang = nlu_text_lang(lid);
	return lang_ok(lang) ? lang : "und";
}

/* created_by/updated_by: the user or key id; NULL for system actors. */
static const char *
actor(const struct svc *s)
{
	if (s->who->kind != PRINCIPAL_USER && s->who->kind != PRINCIPAL_API_KEY)
		return NULL;
	return util_uuid_valid(s->who->id) ? s->who->id : NULL;
}

/* Code points [start, end) of text as an arena string. */
static char *
cp_substr(struct arena *a, const char *text, int64_t start, int64_t end)
{
	size_t len = strlen(text), i = 0, b0 = 0;
	int64_t cp = 0;

	while (i < len && cp < end) {
		if (cp == start)
			b0 = i;
		i += utf8_valid_prefix(text + i, len - i);
		cp++;
	}
	return arena_strndup(a, text + b0, i - b0);
}

/* o[key] as text of 1..max characters; a field error (named
 * prefix+key) and NULL when absent (and required), mistyped or bad. */
static const char *
obj_str(struct problems *p, struct json_object *o, const char *prefix,
    const char *key, size_t max, bool required)
{
	struct json_object *v = NULL;
	char field[96];
	const char *str;
	size_t len;

	snprintf(field, sizeof(field), "%s%s", prefix, key);
	if (!json_object_object_get_ex(o, key, &v) || v == NULL) {
		if (required)
			problem(p, field, "required", "is required");
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		problem(p, field, "invalid_type", "must be a string");
		return NULL;
	}
	str = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (strlen(str) != len) {
		problem(p, field, "invalid_characters",
		    "must not contain NUL characters");
		return NULL;
	}
	if (len == 0) {
		problem(p, field, "required", "must not be empty");
		return NULL;
	}
	if (utf8_valid(str, len) && utf8_count(str, len) > max) {
		problem(p, field, "too_long", "must be at most %zu characters",
		    max);
		return NULL;
	}
	if (!tenancy_text_ok(str, len, max)) {
		problem(p, field, "invalid_characters",
		    "must be UTF-8 text without control characters");
		return NULL;
	}
	return str;
}

static bool
obj_only(struct problems *p, struct json_object *o, const char *prefix,
    const char *const *allowed)
{
	bool ok = true;
	size_t i;

	json_object_object_foreach(o, key, val) {
		(void)val;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			char field[96];
			snprintf(field, sizeof(field), "%s%.40s", prefix, key);
			problem(p, field, "unknown_field",
			    "is not a field of this request");
			ok = false;
		}
	}
	return ok;
}

/* Check annotations of text and return their canonical JSON array (sorted
 * by start, value filled in), or NULL after recording problems. */
static struct json_object *
check_anns(struct problems *p, const char *prefix, const char *text,
    struct ann *v, size_t n)
{
	struct arena *a = p->s->a;
	struct json_object *arr;
	int64_t n_cp = (int64_t)utf8_count(text, strlen(text));
	size_t i, j, before = p->count;
	char field[96];

	if (n > TRAINSET_ANNOTATIONS_MAX) {
		snprintf(field, sizeof(field), "%sentities", prefix);
		problem(p, field, "too_many", "at most %d annotations",
		    TRAINSET_ANNOTATIONS_MAX);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		snprintf(field, sizeof(field), "%sentities[%zu]", prefix, i);
		if (v[i].start < 0 || v[i].end <= v[i].start || v[i].end > n_cp)
			problem(p, field, "out_of_range", "start and end must "
			    "satisfy 0 <= start < end <= %lld (code points of "
			    "text)", (long long)n_cp);
		if (!name_ok(v[i].entity, TRAINSET_ENTITY_MAX_CHARS,
		    ENTITY_BANNED))
			problem(p, field, "invalid_entity", "entity must be a "
			    "name of 1 to %d characters without spaces or "
			    "[](){}:\"'", TRAINSET_ENTITY_MAX_CHARS);
		if (v[i].value != NULL && !tenancy_text_ok(v[i].value,
		    strlen(v[i].value), TRAINSET_VALUE_MAX_CHARS))
			problem(p, field, "invalid_value", "value must be text "
			    "of 1 to %d characters", TRAINSET_VALUE_MAX_CHARS);
		if ((v[i].role != NULL && !name_ok(v[i].role,
		    TRAINSET_ENTITY_MAX_CHARS, ENTITY_BANNED)) ||
		    (v[i].group != NULL && !name_ok(v[i].group,
		    TRAINSET_ENTITY_MAX_CHARS, ENTITY_BANNED)))
			problem(p, field, "invalid_name", "role and group must "
			    "be names like entity");
		for (j = 0; j < i; j++)
			if (v[i].start < v[j].end && v[j].start < v[i].end)
				problem(p, field, "overlapping", "overlaps "
				    "annotation %zu", j);
	}
	if (p->count != before)
		return NULL;
	/* Insertion sort by start: at most TRAINSET_ANNOTATIONS_MAX. */
	for (i = 1; i < n; i++) {
		struct ann t = v[i];
		for (j = i; j > 0 && v[j - 1].start > t.start; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
	arr = json_object_new_array();
	arena_defer(a, put_json, arr);
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		const char *value = v[i].value ? v[i].value :
		    cp_substr(a, text, v[i].start, v[i].end);

		json_object_object_add(o, "start",
		    json_object_new_int64(v[i].start));
		json_object_object_add(o, "end", json_object_new_int64(v[i].end));
		json_object_object_add(o, "entity",
		    json_object_new_string(v[i].entity));
		json_object_object_add(o, "value", json_object_new_string(value));
		if (v[i].role != NULL)
			json_object_object_add(o, "role",
			    json_object_new_string(v[i].role));
		if (v[i].group != NULL)
			json_object_object_add(o, "group",
			    json_object_new_string(v[i].group));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* The "entities" member of a posted example as annotations. */
static bool
json_anns(struct problems *p, const char *prefix, struct json_object *arr,
    struct arena *a, struct ann **out, size_t *n)
{
	static const char *const allowed[] = { "start", "end", "entity",
	    "value", "role", "group", NULL };
	size_t i, before = p->count, len;
	char field[96];

	*out = NULL;
	*n = 0;
	if (arr == NULL)
		return true;
	snprintf(field, sizeof(field), "%sentities", prefix);
	if (!json_object_is_type(arr, json_type_array)) {
		problem(p, field, "invalid_type",
		    "must be an array of annotations");
		return false;
	}
	len = json_object_array_length(arr);
	if (len > TRAINSET_ANNOTATIONS_MAX) {
		problem(p, field, "too_many", "at most %d annotations",
		    TRAINSET_ANNOTATIONS_MAX);
		return false;
	}
	*out = arena_calloc(a, len + 1, sizeof(**out));
	for (i = 0; i < len; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i), *v;
		struct ann *x = &(*out)[i];
		char pre[96];

		snprintf(pre, sizeof(pre), "%sentities[%zu].", prefix, i);
		if (!json_object_is_type(o, json_type_object)) {
			problem(p, field, "invalid_type", "every annotation "
			    "must be an object {start, end, entity, value?}");
			continue;
		}
		obj_only(p, o, pre, allowed);
		x->start = x->end = -1;
		if (json_object_object_get_ex(o, "start", &v) &&
		    json_object_is_type(v, json_type_int))
			x->start = json_object_get_int64(v);
		else
			problem(p, pre, "invalid_type",
			    "start must be an integer");
		if (json_object_object_get_ex(o, "end", &v) &&
		    json_object_is_type(v, json_type_int))
			x->end = json_object_get_int64(v);
		else
			problem(p, pre, "invalid_type", "end must be an integer");
		x->entity = obj_str(p, o, pre, "entity",
		    TRAINSET_ENTITY_MAX_CHARS, true);
		x->value = obj_str(p, o, pre, "value", TRAINSET_VALUE_MAX_CHARS,
		    false);
		x->role = obj_str(p, o, pre, "role", TRAINSET_ENTITY_MAX_CHARS,
		    false);
		x->group = obj_str(p, o, pre, "group", TRAINSET_ENTITY_MAX_CHARS,
		    false);
	}
	*n = len;
	return p->count == before;
}

/* Check one example and return its stored form {text, intent, language,
 * entities}, or NULL after recording problems.  text/intent may be NULL
 * when reading them already failed (then only the rest is checked). */
static struct json_object *
check_example(struct problems *p, struct nlu_text *lid, const char *prefix,
    const char *text, const char *intent, const char *language,
    struct ann *anns, size_t n_anns)
{
	struct json_object *o, *ents = NULL;
	size_t before = p->count;
	char field[96];

	if (text != NULL && !tenancy_text_ok(text, strlen(text),
	    TRAINSET_TEXT_MAX_CHARS)) {
		snprintf(field, sizeof(field), "%stext", prefix);
		problem(p, field, "invalid_text", "must be UTF-8 text of 1 to %d "
		    "characters without control characters",
		    TRAINSET_TEXT_MAX_CHARS);
		text = NULL;
	}
	/* Rasa's format has no escapes: "[x](y)" in a text would come back
	 * from an export as an annotation. */
	if (text != NULL && (strstr(text, "](") != NULL ||
	    strstr(text, "]{") != NULL)) {
		snprintf(field, sizeof(field), "%stext", prefix);
		problem(p, field, "ambiguous_text", "must not contain \"](\" or "
		    "\"]{\", which Rasa's format reads as an annotation");
		text = NULL;
	}
	if (intent != NULL && (!name_ok(intent, TRAINSET_INTENT_MAX_CHARS, "")
	    || strcmp(intent, NLU_FALLBACK_INTENT) == 0)) {
		snprintf(field, sizeof(field), "%sintent", prefix);
		problem(p, field, "invalid_intent", "must be a name of 1 to %d "
		    "characters without spaces, and not %s",
		    TRAINSET_INTENT_MAX_CHARS, NLU_FALLBACK_INTENT);
	}
	if (language != NULL && !lang_ok(language)) {
		snprintf(field, sizeof(field), "%slanguage", prefix);
		problem(p, field, "invalid_language",
		    "must be an ISO 639 code such as th or en");
	}
	if (text != NULL)
		ents = check_anns(p, prefix, text, anns, n_anns);
	if (p->count != before || text == NULL || intent == NULL)
		return NULL;
	o = json_object_new_object();
	arena_defer(p->s->a, put_json, o);
	json_object_object_add(o, "text", json_object_new_string(text));
	json_object_object_add(o, "intent", json_object_new_string(intent));
	json_object_object_add(o, "language", json_object_new_string(
	    language ? language : detect_lang(lid, text)));
	json_object_object_add(o, "entities", json_object_get(ents));
	return o;
}

static int
record(struct svc *s, const char *action, const char *type, const char *id,
    struct json_object *d, struct gacp_err *err)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = s->tenant_id;
	ev.action = action;
	ev.resource_type = type;
	ev.resource_id = id;
	ev.details = d;
	return audit_record(s, &ev, err);
}

/* ---- examples ----------------------------------------------------------- */

/* Distinct intents of items (at most 20), for the audit trail. */
static struct json_object *
intents_of(struct json_object *items)
{
	struct json_object *out = json_object_new_array();
	size_t i, j, n = json_object_array_length(items);

	for (i = 0; i < n && json_object_array_length(out) < 20; i++) {
		const char *in = json_get_str(json_object_array_get_idx(items,
		    i), "intent");
		for (j = 0; j < json_object_array_length(out); j++)
			if (strcmp(json_object_get_string(
			    json_object_array_get_idx(out, j)), in) == 0)
				break;
		if (j == json_object_array_length(out))
			json_object_array_add(out, json_object_new_string(in));
	}
	return out;
}

int
trainset_examples_create(struct svc *s, struct nlu_text *lid,
    struct json_object *body, struct nlu_example_row **rows, size_t *n,
    bool *many, struct gacp_err *err)
{
	static const char *const one[] = { "text", "intent", "language",
	    "entities", NULL };
	static const char *const outer[] = { "examples", NULL };
	struct problems p = { s, 0 };
	struct json_object *input, *items, *texts, *d;
	char **found;
	size_t i, j, count, n_found;
	int rc;

	*rows = NULL;
	*n = 0;
	*many = svc_body_has(body, "examples");
	if (*many) {
		obj_only(&p, body, "", outer);
		input = json_get_array(body, "examples");
		if (input == NULL || json_object_array_length(input) == 0 ||
		    json_object_array_length(input) > TRAINSET_POST_MAX) {
			problem(&p, "examples", "invalid_type", "must be an array "
			    "of 1 to %d examples", TRAINSET_POST_MAX);
			return svc_check_fields(s, err);
		}
	} else {
		input = json_object_new_array();
		arena_defer(s->a, put_json, input);
		json_object_array_add(input, json_object_get(body));
	}
	count = json_object_array_length(input);
	items = json_object_new_array();
	arena_defer(s->a, put_json, items);
	texts = json_object_new_array();
	arena_defer(s->a, put_json, texts);
	for (i = 0; i < count; i++) {
		struct json_object *o = json_object_array_get_idx(input, i), *ex;
		const char *text, *intent, *language;
		struct ann *anns;
		size_t n_anns;
		char prefix[48];
		char id[37];

		if (*many)
			snprintf(prefix, sizeof(prefix), "examples[%zu].", i);
		else
			prefix[0] = '\0';
		if (!json_object_is_type(o, json_type_object)) {
			problem(&p, *many ? "examples" : "body", "invalid_type",
			    "every example must be an object");
			continue;
		}
		obj_only(&p, o, prefix, one);
		text = obj_str(&p, o, prefix, "text", TRAINSET_TEXT_MAX_CHARS,
		    true);
		intent = obj_str(&p, o, prefix, "intent",
		    TRAINSET_INTENT_MAX_CHARS, true);
		language = obj_str(&p, o, prefix, "language", 3, false);
		if (!json_anns(&p, prefix, json_object_object_get_ex(o,
		    "entities", NULL) ? json_object_object_get(o, "entities") :
		    NULL, s->a, &anns, &n_anns))
			continue;
		ex = check_example(&p, lid, prefix, text, intent, language, anns,
		    n_anns);
		if (ex == NULL)
			continue;
		for (j = 0; j < json_object_array_length(items); j++)
			if (strcmp(json_get_str(json_object_array_get_idx(items,
			    j), "text"), text) == 0)
				break;
		if (j < json_object_array_length(items)) {
			char field[48];
			snprintf(field, sizeof(field), "%stext", prefix);
			problem(&p, field, "duplicate", "the same text appears "
			    "earlier in this request");
			continue;
		}
		util_uuid_v4(id);
		json_object_object_add(ex, "id", json_object_new_string(id));
		json_object_array_add(items, json_object_get(ex));
		json_object_array_add(texts, json_object_new_string(text));
	}
	problems_close(&p);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if ((rc = nlu_store_examples_existing(&s->app->db, s->a,
	    json_compact(texts), &found, &n_found, err)) != GACP_OK)
		return rc;
	for (i = 0; i < n_found; i++)
		for (j = 0; j < count; j++)
			if (strcmp(json_object_get_string(
			    json_object_array_get_idx(texts, j)), found[i]) == 0) {
				char field[48];
				if (*many)
					snprintf(field, sizeof(field),
					    "examples[%zu].text", j);
				else
					snprintf(field, sizeof(field), "text");
				problem(&p, field, "duplicate", "an example with "
				    "this text exists already (delete it to "
				    "change its intent)");
			}
	problems_close(&p);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if ((rc = nlu_store_examples_insert(&s->app->db, s->a, s->tenant_id,
	    json_compact(items), actor(s), rows, n, err)) != GACP_OK)
		return rc;
	d = svc_details(s);
	json_object_object_add(d, "count", json_object_new_int64((int64_t)*n));
	json_object_object_add(d, "intents", intents_of(items));
	return record(s, "nlu_example.create", "nlu_example",
	    *n == 1 ? (*rows)[0].id : NULL, d, err);
}

int
trainset_examples_list(struct svc *s, const struct page *pg,
    const char *intent, const char *language, struct nlu_example_row **rows,
    size_t *n, char **next_cursor, struct gacp_err *err)
{
	int rc;

	*next_cursor = NULL;
	if (intent != NULL && !name_ok(intent, TRAINSET_INTENT_MAX_CHARS, ""))
		svc_field_error(s, "intent", "invalid_intent",
		    "must be an intent name");
	if (language != NULL && !lang_ok(language))
		svc_field_error(s, "language", "invalid_language",
		    "must be an ISO 639 code such as th or en");
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	rc = nlu_store_examples_list(&s->app->db, s->a, intent, language,
	    pg->after_us, pg->after_us < 0 ? NULL : pg->after_id, pg->limit,
	    rows, n, err);
	if (rc == GACP_OK && *n == (size_t)pg->limit)
		*next_cursor = svc_cursor_key(s, (*rows)[*n - 1].created_us,
		    (*rows)[*n - 1].id);
	return rc;
}

int
trainset_examples_get(struct svc *s, const char *id,
    struct nlu_example_row **out, struct gacp_err *err)
{
	char eid[TENANCY_UUID_LEN + 1];

	if (id == NULL || !tenancy_uuid_norm(id, eid))
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such example");
	return nlu_store_example_get(&s->app->db, s->a, eid, out, err);
}

int
trainset_examples_delete(struct svc *s, const char *id, struct gacp_err *err)
{
	struct nlu_example_row *e;
	struct json_object *d;
	int rc;

	if ((rc = trainset_examples_get(s, id, &e, err)) != GACP_OK ||
	    (rc = nlu_store_example_delete(&s->app->db, s->a, e->id, actor(s),
	    err)) != GACP_OK)
		return rc;
	d = svc_details(s);
	json_object_object_add(d, "intent", json_object_new_string(e->intent));
	return record(s, "nlu_example.delete", "nlu_example", e->id, d, err);
}

int
trainset_examples_delete_intent(struct svc *s, const char *intent,
    int64_t *deleted, struct gacp_err *err)
{
	struct json_object *d;
	int rc;

	*deleted = 0;
	if (intent == NULL)
		svc_field_error(s, "intent", "required", "name the intent whose "
		    "examples to delete (DELETE /v1/nlu/examples/{id} deletes "
		    "one)");
	else if (!name_ok(intent, TRAINSET_INTENT_MAX_CHARS, ""))
		svc_field_error(s, "intent", "invalid_intent",
		    "must be an intent name");
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if ((rc = nlu_store_examples_delete_intent(&s->app->db, s->a, intent,
	    actor(s), deleted, err)) != GACP_OK)
		return rc;
	d = svc_details(s);
	json_object_object_add(d, "intent", json_object_new_string(intent));
	json_object_object_add(d, "count", json_object_new_int64(*deleted));
	return record(s, "nlu_example.delete_intent", "nlu_example", NULL, d,
	    err);
}

/* ---- entity definitions ------------------------------------------------- */

static bool
kind_ok(const char *k)
{
	return k != NULL && (strcmp(k, "regex") == 0 ||
	    strcmp(k, "lookup") == 0 || strcmp(k, "synonym") == 0);
}

/* Whether pattern compiles as the engine compiles regexes (PCRE2, UTF,
 * caseless); the engine's message into msg otherwise. */
static bool
pattern_compiles(const char *pattern, char *msg, size_t msglen)
{
	struct nlu_dataset ds;
	struct nlu_entities *ents = NULL;
	struct gacp_err e;
	bool ok;

	nlu_dataset_init(&ds);
	nlu_dataset_add_regex(&ds, "check", pattern);
	gacp_err_clear(&e);
	ok = nlu_entities_new(&ds, &ents, &e) == GACP_OK;
	if (!ok)
		snprintf(msg, msglen, "%s", e.msg);
	nlu_entities_free(ents);
	nlu_dataset_cleanup(&ds);
	return ok;
}

/* A definition's name: an entity name for regex and lookup, the canonical
 * value (any text) for a synonym. */
static bool
check_definition_name(struct problems *p, const char *field, const char *kind,
    const char *name)
{
	if (strcmp(kind, "synonym") == 0) {
		if (tenancy_text_ok(name, strlen(name),
		    TRAINSET_ELEMENT_MAX_CHARS))
			return true;
		problem(p, field, "invalid_name", "a synonym's name is its "
		    "canonical value: text of 1 to %d characters",
		    TRAINSET_ELEMENT_MAX_CHARS);
		return false;
	}
	if (name_ok(name, TRAINSET_ENTITY_MAX_CHARS, ENTITY_BANNED))
		return true;
	problem(p, field, "invalid_name", "must be an entity name of 1 to %d "
	    "characters without spaces or [](){}:\"'",
	    TRAINSET_ENTITY_MAX_CHARS);
	return false;
}

/* The elements of a kind's definition as a JSON array of distinct strings
 * (arena-owned), or NULL after recording problems. */
static struct json_object *
check_elements(struct problems *p, const char *prefix, const char *kind,
    struct json_object *arr)
{
	size_t i, j, n, before = p->count;
	size_t max = strcmp(kind, "regex") == 0 ? TRAINSET_PATTERN_MAX_CHARS :
	    TRAINSET_ELEMENT_MAX_CHARS;
	struct json_object *out;
	char field[96];

	snprintf(field, sizeof(field), "%selements", prefix);
	if (arr == NULL || !json_object_is_type(arr, json_type_array) ||
	    (n = json_object_array_length(arr)) == 0 ||
	    n > TRAINSET_ELEMENTS_MAX) {
		problem(p, field, "invalid_type", "must be an array of 1 to %d "
		    "strings", TRAINSET_ELEMENTS_MAX);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		const char *str;
		char msg[GACP_ERR_MSG_LEN];

		snprintf(field, sizeof(field), "%selements[%zu]", prefix, i);
		if (!json_object_is_type(v, json_type_string) ||
		    strlen(str = json_object_get_string(v)) !=
		    (size_t)json_object_get_string_len(v) ||
		    !tenancy_text_ok(str, strlen(str), max)) {
			problem(p, field, "invalid_element", "must be text of 1 "
			    "to %zu characters without control characters",
			    max);
			continue;
		}
		for (j = 0; j < i; j++)
			if (strcmp(str, json_object_get_string(
			    json_object_array_get_idx(arr, j))) == 0)
				break;
		if (j < i) {
			problem(p, field, "duplicate", "repeats elements[%zu]",
			    j);
			continue;
		}
		if (strcmp(kind, "regex") == 0 &&
		    !pattern_compiles(str, msg, sizeof(msg)))
			problem(p, field, "invalid_regex", "%s", msg);
	}
	if (p->count != before)
		return NULL;
	out = json_object_get(arr);
	arena_defer(p->s->a, put_json, out);
	return out;
}

/* A surface form of a synonym may map to one canonical value only. */
static int
synonym_clash(struct svc *s, struct problems *p, const char *exclude_id,
    const char *field, struct json_object *elements, struct gacp_err *err)
{
	char *name, *element;
	int rc;

	if ((rc = nlu_store_synonym_clash(&s->app->db, s->a, exclude_id,
	    json_compact(elements), &name, &element, err)) != GACP_OK)
		return rc;
	if (name != NULL)
		problem(p, field, "synonym_conflict", "\"%.60s\" is already a "
		    "synonym of \"%.60s\"", element, name);
	return GACP_OK;
}

int
trainset_entities_create(struct svc *s, struct json_object *body,
    struct nlu_entity_row **out, struct gacp_err *err)
{
	static const char *const allowed[] = { "kind", "name", "elements",
	    NULL };
	struct problems p = { s, 0 };
	struct json_object *elements = NULL, *d;
	const char *kind, *name;
	int rc;

	obj_only(&p, body, "", allowed);
	kind = obj_str(&p, body, "", "kind", 16, true);
	name = obj_str(&p, body, "", "name", TRAINSET_ELEMENT_MAX_CHARS, true);
	if (kind != NULL && !kind_ok(kind)) {
		problem(&p, "kind", "invalid_kind",
		    "must be regex, lookup or synonym");
		kind = NULL;
	}
	if (kind != NULL && name != NULL)
		check_definition_name(&p, "name", kind, name);
	if (kind != NULL)
		elements = check_elements(&p, "", kind,
		    json_object_object_get(body, "elements"));
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if (strcmp(kind, "synonym") == 0 && ((rc = synonym_clash(s, &p, NULL,
	    "elements", elements, err)) != GACP_OK ||
	    (rc = svc_check_fields(s, err)) != GACP_OK))
		return rc;
	rc = nlu_store_entity_insert(&s->app->db, s->a, s->tenant_id, kind,
	    name, json_compact(elements), actor(s), out, err);
	if (rc == GACP_ECONFLICT)
		return gacp_err_set(err, GACP_ECONFLICT, "conflict", "a %s "
		    "definition named \"%.60s\" exists already; change its "
		    "elements with PATCH", kind, name);
	if (rc != GACP_OK)
		return rc;
	d = svc_details(s);
	json_object_object_add(d, "kind", json_object_new_string(kind));
	json_object_object_add(d, "name", json_object_new_string(name));
	json_object_object_add(d, "elements", json_object_new_int64(
	    (int64_t)json_object_array_length(elements)));
	return record(s, "nlu_entity.create", "nlu_entity", (*out)->id, d, err);
}

int
trainset_entities_list(struct svc *s, const struct page *pg, const char *kind,
    struct nlu_entity_row **rows, size_t *n, char **next_cursor,
    struct gacp_err *err)
{
	int rc;

	*next_cursor = NULL;
	if (kind != NULL && !kind_ok(kind))
		svc_field_error(s, "kind", "invalid_kind",
		    "must be regex, lookup or synonym");
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	rc = nlu_store_entities_list(&s->app->db, s->a, kind, pg->after_us,
	    pg->after_us < 0 ? NULL : pg->after_id, pg->limit, rows, n, err);
	if (rc == GACP_OK && *n == (size_t)pg->limit)
		*next_cursor = svc_cursor_key(s, (*rows)[*n - 1].created_us,
		    (*rows)[*n - 1].id);
	return rc;
}

int
trainset_entities_get(struct svc *s, const char *id,
    struct nlu_entity_row **out, struct gacp_err *err)
{
	char eid[TENANCY_UUID_LEN + 1];

	if (id == NULL || !tenancy_uuid_norm(id, eid))
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such entity definition");
	return nlu_store_entity_get(&s->app->db, s->a, eid, out, err);
}

int
trainset_entities_update(struct svc *s, const char *id,
    struct json_object *body, struct nlu_entity_row **out,
    struct gacp_err *err)
{
	static const char *const allowed[] = { "elements", "version", NULL };
	struct problems p = { s, 0 };
	struct nlu_entity_row *cur;
	struct json_object *elements, *d;
	int64_t version = 0;
	int rc;

	if ((rc = trainset_entities_get(s, id, &cur, err)) != GACP_OK)
		return rc;
	obj_only(&p, body, "", allowed);
	svc_body_version(s, body, &version);
	elements = check_elements(&p, "", cur->kind,
	    json_object_object_get(body, "elements"));
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if (strcmp(cur->kind, "synonym") == 0 && ((rc = synonym_clash(s, &p,
	    cur->id, "elements", elements, err)) != GACP_OK ||
	    (rc = svc_check_fields(s, err)) != GACP_OK))
		return rc;
	if ((rc = nlu_store_entity_update(&s->app->db, s->a, cur->id, version,
	    json_compact(elements), actor(s), out, err)) != GACP_OK)
		return rc;
	d = svc_details(s);
	json_object_object_add(d, "kind", json_object_new_string(cur->kind));
	json_object_object_add(d, "name", json_object_new_string(cur->name));
	json_object_object_add(d, "elements", json_object_new_int64(
	    (int64_t)json_object_array_length(elements)));
	return record(s, "nlu_entity.update", "nlu_entity", cur->id, d, err);
}

int
trainset_entities_delete(struct svc *s, const char *id, struct gacp_err *err)
{
	struct nlu_entity_row *cur;
	struct json_object *d;
	int rc;

	if ((rc = trainset_entities_get(s, id, &cur, err)) != GACP_OK ||
	    (rc = nlu_store_entity_delete(&s->app->db, s->a, cur->id, actor(s),
	    err)) != GACP_OK)
		return rc;
	d = svc_details(s);
	json_object_object_add(d, "kind", json_object_new_string(cur->kind));
	json_object_object_add(d, "name", json_object_new_string(cur->name));
	return record(s, "nlu_entity.delete", "nlu_entity", cur->id, d, err);
}

/* ---- import and export -------------------------------------------------- */

/* By text, ties in file order (the array is contiguous, so address order
 * is file order): the first occurrence of a text wins. */
static int
cmp_example_text(const void *a, const void *b)
{
	const struct nlu_example *x = *(const struct nlu_example *const *)a;
	const struct nlu_example *y = *(const struct nlu_example *const *)b;
	int c = strcmp(x->text, y->text);

	return c != 0 ? c : (x > y) - (x < y);
}

/* The examples of ds as stored items, checked, deduplicated by text. */
static struct json_object *
import_examples(struct problems *p, struct nlu_text *lid,
    const struct nlu_dataset *ds, size_t *duplicates)
{
	struct json_object *items = json_object_new_array();
	const struct nlu_example **order;
	char *skip = xcalloc(ds->n_ex + 1, 1);
	size_t i, k;

	arena_defer(p->s->a, put_json, items);
	*duplicates = 0;
	/* Sorting by text finds duplicates in n log n (imports may hold
	 * tens of thousands of examples). */
	order = xmalloc((ds->n_ex + 1) * sizeof(*order));
	for (i = 0; i < ds->n_ex; i++)
		order[i] = &ds->ex[i];
	qsort(order, ds->n_ex, sizeof(*order), cmp_example_text);
	for (k = 1; k < ds->n_ex; k++) {
		const struct nlu_example *a = order[k - 1], *b = order[k];
		size_t at = (size_t)(b - ds->ex);
		char field[48];

		if (strcmp(a->text, b->text) != 0)
			continue;
		skip[at] = 1;
		if (strcmp(a->intent, b->intent) == 0) {
			(*duplicates)++;
			continue;
		}
		snprintf(field, sizeof(field), "examples[%zu].intent", at);
		problem(p, field, "conflicting_intent", "\"%.60s\" is an example "
		    "of both %.40s and %.40s", b->text, a->intent, b->intent);
	}
	for (i = 0; i < ds->n_ex; i++) {
		const struct nlu_example *e = &ds->ex[i];
		struct ann anns[TRAINSET_ANNOTATIONS_MAX];
		struct json_object *o;
		char prefix[48];

		if (skip[i])
			continue;
		snprintf(prefix, sizeof(prefix), "examples[%zu].", i);
		if (e->n_ents > TRAINSET_ANNOTATIONS_MAX) {
			problem(p, prefix, "too_many", "\"%.60s\" has more than "
			    "%d annotations", e->text, TRAINSET_ANNOTATIONS_MAX);
			continue;
		}
		for (k = 0; k < e->n_ents; k++) {
			anns[k].start = e->ents[k].start;
			anns[k].end = e->ents[k].end;
			anns[k].entity = e->ents[k].entity;
			anns[k].value = e->ents[k].value;
			anns[k].role = e->ents[k].role;
			anns[k].group = e->ents[k].group;
		}
		o = check_example(p, lid, prefix, e->text, e->intent, NULL, anns,
		    e->n_ents);
		if (o != NULL)
			json_object_array_add(items, json_object_get(o));
	}
	free(order);
	free(skip);
	return items;
}

/* Append s to the JSON array of strings arr unless it is there. */
static void
add_unique(struct json_object *arr, const char *s)
{
	size_t i, n = json_object_array_length(arr);

	for (i = 0; i < n; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(arr,
		    i)), s) == 0)
			return;
	json_object_array_add(arr, json_object_new_string(s));
}

/* The definition {kind, name, elements} of items, made when missing. */
static struct json_object *
definition(struct svc *s, struct json_object *items, const char *kind,
    const char *name)
{
	struct json_object *o;
	size_t i, n = json_object_array_length(items);

	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(items, i);
		if (strcmp(json_get_str(o, "kind"), kind) == 0 &&
		    strcmp(json_get_str(o, "name"), name) == 0)
			return o;
	}
	(void)s;
	o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string(kind));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "elements", json_object_new_array());
	json_object_array_add(items, o);
	return o;
}

/* The synonyms, regexes and lookups of ds as definitions, checked. */
static struct json_object *
import_definitions(struct problems *p, const struct nlu_dataset *ds)
{
	struct svc *s = p->s;
	struct json_object *items = json_object_new_array();
	size_t i, k, before;

	arena_defer(s->a, put_json, items);
	for (i = 0; i < ds->n_syn; i++)
		add_unique(json_object_object_get(definition(s, items,
		    "synonym", ds->syn[i].canonical), "elements"),
		    ds->syn[i].text);
	for (i = 0; i < ds->n_rx; i++)
		add_unique(json_object_object_get(definition(s, items, "regex",
		    ds->rx[i].name), "elements"), ds->rx[i].pattern);
	for (i = 0; i < ds->n_lk; i++)
		for (k = 0; k < ds->lk[i].n_values; k++)
			add_unique(json_object_object_get(definition(s, items,
			    "lookup", ds->lk[i].name), "elements"),
			    ds->lk[i].values[k]);
	for (i = 0; i < json_object_array_length(items); i++) {
		struct json_object *o = json_object_array_get_idx(items, i);
		const char *kind = json_get_str(o, "kind");
		char prefix[48];

		snprintf(prefix, sizeof(prefix), "%s[%.40s].", kind,
		    json_get_str(o, "name"));
		before = p->count;
		check_definition_name(p, prefix, kind, json_get_str(o, "name"));
		if (p->count == before)
			check_elements(p, prefix, kind,
			    json_object_object_get(o, "elements"));
	}
	return items;
}

/* Merge: existing definitions keep their elements and gain the file's;
 * a file's surface form already mapped to another canonical value is a
 * problem.  Definitions of the file only are left as they are. */
static int
merge_definitions(struct problems *p, struct json_object *items,
    struct gacp_err *err)
{
	struct svc *s = p->s;
	struct nlu_entity_row *rows;
	struct json_object **old;
	size_t n, i, j, k, m;
	int rc;

	if ((rc = nlu_store_entities_all(&s->app->db, s->a, &rows, &n, err)) !=
	    GACP_OK)
		return rc;
	/* Each stored list parsed once, whatever the size of the file. */
	old = arena_calloc(s->a, n + 1, sizeof(*old));
	for (j = 0; j < n; j++) {
		old[j] = json_tokener_parse(rows[j].elements);
		if (old[j] == NULL)
			old[j] = json_object_new_array();
		arena_defer(s->a, put_json, old[j]);
	}
	for (i = 0; i < json_object_array_length(items); i++) {
		struct json_object *o = json_object_array_get_idx(items, i);
		const char *kind = json_get_str(o, "kind");
		const char *name = json_get_str(o, "name");
		struct json_object *el = json_object_object_get(o, "elements");
		bool synonym = strcmp(kind, "synonym") == 0;

		for (j = 0; j < n; j++) {
			if (strcmp(rows[j].kind, kind) != 0)
				continue;
			if (strcmp(rows[j].name, name) == 0) {
				/* Stored elements first, then the file's. */
				struct json_object *merged = json_object_new_array();
				for (k = 0; k < json_object_array_length(old[j]); k++)
					add_unique(merged, json_object_get_string(
					    json_object_array_get_idx(old[j], k)));
				for (k = 0; k < json_object_array_length(el); k++)
					add_unique(merged, json_object_get_string(
					    json_object_array_get_idx(el, k)));
				json_object_object_add(o, "elements", merged);
				el = merged;
				continue;
			}
			if (!synonym)
				continue;
			for (k = 0; k < json_object_array_length(old[j]); k++) {
				const char *v = json_object_get_string(
				    json_object_array_get_idx(old[j], k));
				for (m = 0; m < json_object_array_length(el); m++)
					if (strcmp(v, json_object_get_string(
					    json_object_array_get_idx(el, m))) == 0)
						problem(p, "synonym",
						    "synonym_conflict", "\"%.60s\" "
						    "is already a synonym of "
						    "\"%.60s\"", v, rows[j].name);
			}
		}
	}
	return GACP_OK;
}

static struct json_object *
counts_json(const struct nlu_sync_counts *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "inserted", json_object_new_int64(c->inserted));
	json_object_object_add(o, "updated", json_object_new_int64(c->updated));
	json_object_object_add(o, "deleted", json_object_new_int64(c->deleted));
	json_object_object_add(o, "unchanged",
	    json_object_new_int64(c->unchanged));
	return o;
}

int
trainset_import(struct svc *s, struct nlu_text *lid, enum trainset_format fmt,
    const char *body, size_t len, const char *mode,
    struct trainset_import_report *rep, struct gacp_err *err)
{
	struct problems p = { s, 0 };
	struct nlu_dataset ds;
	struct json_object *examples, *defs, *d;
	struct gacp_err lerr;
	int rc;

	memset(rep, 0, sizeof(*rep));
	nlu_dataset_init(&ds);
	gacp_err_clear(&lerr);
	rep->replace = mode == NULL || strcmp(mode, "replace") == 0;
	if (!rep->replace && strcmp(mode, "merge") != 0)
		problem(&p, "mode", "invalid_mode", "must be replace or merge");
	rc = fmt == TRAINSET_RASA_JSON ?
	    nlu_dataset_load_json(&ds, body, len, &lerr) :
	    nlu_dataset_load_yaml(&ds, body, len, &lerr);
	if (rc != GACP_OK) {
		problem(&p, "body", lerr.code[0] ? lerr.code : "invalid_data",
		    "%s", lerr.msg);
		rc = svc_check_fields(s, err);
		goto out;
	}
	if (ds.n_ex > TRAINSET_IMPORT_MAX) {
		problem(&p, "body", "too_many", "more than %d examples",
		    TRAINSET_IMPORT_MAX);
		rc = svc_check_fields(s, err);
		goto out;
	}
	examples = import_examples(&p, lid, &ds, &rep->duplicates_ignored);
	defs = import_definitions(&p, &ds);
	if (p.count == 0 && !rep->replace &&
	    (rc = merge_definitions(&p, defs, err)) != GACP_OK)
		goto out;
	problems_close(&p);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		goto out;
	rep->examples = json_object_array_length(examples);
	rep->definitions = json_object_array_length(defs);
	if ((rc = nlu_store_examples_sync(&s->app->db, s->a, s->tenant_id,
	    json_compact(examples), rep->replace, actor(s), &rep->ex, err)) !=
	    GACP_OK ||
	    (rc = nlu_store_entities_sync(&s->app->db, s->a, s->tenant_id,
	    json_compact(defs), rep->replace, actor(s), &rep->ent, err)) !=
	    GACP_OK)
		goto out;
	d = svc_details(s);
	json_object_object_add(d, "format", json_object_new_string(
	    fmt == TRAINSET_RASA_JSON ? "rasa_json" : "rasa_yaml"));
	json_object_object_add(d, "mode", json_object_new_string(
	    rep->replace ? "replace" : "merge"));
	json_object_object_add(d, "examples", counts_json(&rep->ex));
	json_object_object_add(d, "entities", counts_json(&rep->ent));
	rc = record(s, "nlu_data.import", "nlu_data", NULL, d, err);
out:
	nlu_dataset_cleanup(&ds);
	return rc;
}

int
trainset_export(struct svc *s, struct buf *out, struct gacp_err *err)
{
	struct nlu_dataset ds;
	char hash[65];
	int rc;

	nlu_dataset_init(&ds);
	rc = trainset_load(&s->app->db, s->a, &ds, hash, err);
	if (rc == GACP_OK)
		nlu_dataset_to_yaml(&ds, out);
	nlu_dataset_cleanup(&ds);
	return rc;
}
