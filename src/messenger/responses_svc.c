/* responses_svc.c - the responses document: validation of every row, atomic replacement, audit (see responses_svc.h). */
#include "messenger/responses_svc.h"
#include "common/arena.h"
#include "common/json.h"
#include "common/utf8.h"
#include "flow/domain.h"
#include "messenger/fields.h"
#include "messenger/response_store.h"
#include "tenancy/audit.h"
#include "tenancy/tenancy.h"

#include <stdio.h>
#include <string.h>

#define RESPONSES_MAX        4096  /* rows in one set (as domain.c) */
#define TEMPLATES_MAX        50
#define QUICK_REPLIES_MAX    13    /* Messenger's limit */
#define QUICK_TITLE_MAX      20    /* characters; Messenger cuts longer */
#define QUICK_PAYLOAD_MAX    1000
#define SLOTS_MAX            10
#define FIELD_ERRORS_MAX     100   /* stop validating after this many */

static void
put_json(void *p)
{
	json_object_put(p);
}

static struct json_object *
own(struct svc *s, struct json_object *o)
{
	arena_defer(s->a, put_json, o);
	return o;
}

static bool
too_many_errors(const struct svc *s)
{
	return s->field_errors != NULL &&
	    json_object_array_length(s->field_errors) >= FIELD_ERRORS_MAX;
}

static const char *
field(struct svc *s, const char *prefix, const char *name)
{
	return arena_sprintf(s->a, "%s.%s", prefix, name);
}

/* ^[A-Za-z0-9<extra>]{1,max}$ */
static bool
name_ok(const char *v, size_t max, const char *extra)
{
	size_t i, n = strlen(v);

	if (n < 1 || n > max)
		return false;
	for (i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(extra, c) != NULL))
			return false;
	}
	return true;
}

/* A member that must be a string of a given format. */
static const char *
name_member(struct svc *s, struct json_object *item, const char *key,
    const char *fname, size_t max, const char *extra, const char *what)
{
	struct json_object *v;

	if (!json_object_object_get_ex(item, key, &v) || v == NULL) {
		svc_field_error(s, fname, "required", "is required");
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) !=
	    strlen(json_object_get_string(v)) ||
	    !name_ok(json_object_get_string(v), max, extra)) {
		svc_field_error(s, fname, "invalid_format", "%s", what);
		return NULL;
	}
	return json_object_get_string(v);
}

static bool
only_members(struct svc *s, struct json_object *obj, const char *prefix,
    const char *const *allowed)
{
	bool ok = true;
	size_t i;

	json_object_object_foreach(obj, key, val) {
		(void)val;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			svc_field_error(s, arena_sprintf(s->a, "%s.%.40s",
			    prefix, key), "unknown_field",
			    "is not a field of a response");
			ok = false;
		}
	}
	return ok;
}

/* An optional array member of at most max items; NULL if absent. */
static struct json_object *
array_member(struct svc *s, struct json_object *item, const char *key,
    const char *fname, size_t min, size_t max, bool *bad)
{
	struct json_object *v;
	size_t n;

	*bad = false;
	if (!json_object_object_get_ex(item, key, &v) || v == NULL) {
		if (min > 0) {
			svc_field_error(s, fname, "required", "is required");
			*bad = true;
		}
		return NULL;
	}
	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) < min || n > max) {
		svc_field_error(s, fname, "invalid_type",
		    "must be an array of %zu to %zu items", min, max);
		*bad = true;
		return NULL;
	}
	return v;
}

static struct json_object *
check_templates(struct svc *s, struct json_object *item, const char *prefix)
{
	const char *fname = field(s, prefix, "templates");
	struct json_object *arr, *out;
	size_t i, n;
	bool bad;

	if ((arr = array_member(s, item, "templates", fname, 1, TEMPLATES_MAX,
	    &bad)) == NULL)
		return NULL;
	out = json_object_new_array();
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		const char *t = mx_field_text(s, json_object_array_get_idx(arr, i),
		    arena_sprintf(s->a, "%s[%zu]", fname, i), MX_TEXT_MAX_CHARS);
		if (t != NULL)
			json_object_array_add(out, json_object_new_string(t));
	}
	return out;
}

static struct json_object *
check_quick_replies(struct svc *s, struct json_object *item,
    const char *prefix, bool *bad)
{
	static const char *const allowed[] = { "title", "payload", NULL };
	const char *fname = field(s, prefix, "quick_replies");
	struct json_object *arr, *out = json_object_new_array();
	size_t i, n;

	if ((arr = array_member(s, item, "quick_replies", fname, 0,
	    QUICK_REPLIES_MAX, bad)) == NULL)
		return out;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct json_object *q = json_object_array_get_idx(arr, i), *v;
		const char *qf = arena_sprintf(s->a, "%s[%zu]", fname, i);
		const char *title, *payload;

		if (!json_object_is_type(q, json_type_object)) {
			svc_field_error(s, qf, "invalid_type",
			    "must be an object {title, payload}");
			continue;
		}
		only_members(s, q, qf, allowed);
		json_object_object_get_ex(q, "title", &v);
		title = mx_field_text(s, v, field(s, qf, "title"),
		    QUICK_TITLE_MAX);
		v = NULL;
		json_object_object_get_ex(q, "payload", &v);
		payload = mx_field_text(s, v, field(s, qf, "payload"),
		    QUICK_PAYLOAD_MAX);
		if (title != NULL && payload != NULL) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "title",
			    json_object_new_string(title));
			json_object_object_add(o, "payload",
			    json_object_new_string(payload));
			json_object_array_add(out, o);
		}
	}
	return out;
}

static struct json_object *
check_slots(struct svc *s, struct json_object *item, const char *prefix,
    bool *bad)
{
	static const char *const allowed[] = { "slot", "entity", "prompt",
	    NULL };
	static const char *what = "1 to 64 of A-Z a-z 0-9 _";
	const char *fname = field(s, prefix, "required_slots");
	struct json_object *arr, *out = json_object_new_array(), *seen;
	size_t i, n;

	if ((arr = array_member(s, item, "required_slots", fname, 0, SLOTS_MAX,
	    bad)) == NULL)
		return out;
	seen = own(s, json_object_new_object());
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(arr, i), *v = NULL;
		const char *rf = arena_sprintf(s->a, "%s[%zu]", fname, i);
		const char *slot, *entity = NULL, *prompt;

		if (!json_object_is_type(r, json_type_object)) {
			svc_field_error(s, rf, "invalid_type",
			    "must be an object {slot, entity?, prompt}");
			continue;
		}
		only_members(s, r, rf, allowed);
		slot = name_member(s, r, "slot", field(s, rf, "slot"), 64, "_",
		    what);
		if (svc_body_has(r, "entity"))
			entity = name_member(s, r, "entity",
			    field(s, rf, "entity"), 64, "_", what);
		json_object_object_get_ex(r, "prompt", &v);
		prompt = mx_field_text(s, v, field(s, rf, "prompt"),
		    MX_TEXT_MAX_CHARS);
		if (slot != NULL && json_object_object_get_ex(seen, slot, NULL)) {
			svc_field_error(s, field(s, rf, "slot"), "duplicate",
			    "names a slot already required");
			continue;
		}
		if (slot != NULL)
			json_object_object_add(seen, slot, NULL);
		if (slot == NULL || prompt == NULL)
			continue;
		v = json_object_new_object();
		json_object_object_add(v, "slot", json_object_new_string(slot));
		json_object_object_add(v, "entity",
		    json_object_new_string(entity ? entity : slot));
		json_object_object_add(v, "prompt", json_object_new_string(prompt));
		json_object_array_add(out, v);
	}
	return out;
}

/* Validate one response; append its normalised form to rows. */
static void
check_row(struct svc *s, struct json_object *item, const char *prefix,
    struct json_object *rows, struct json_object *keys)
{
	static const char *const allowed[] = { "intent", "language",
	    "templates", "quick_replies", "selection", "required_slots",
	    "max_turns", "id", "created_at", "updated_at", "version", NULL };
	static const char *const selections[] = { "random", "round_robin",
	    NULL };
	struct json_object *templates, *quick, *slots, *v, *row;
	const char *intent, *language, *selection = "random", *key;
	int64_t max_turns = 3;
	bool bad_quick = false, bad_slots = false;

	if (!json_object_is_type(item, json_type_object)) {
		svc_field_error(s, prefix, "invalid_type", "must be an object");
		return;
	}
	only_members(s, item, prefix, allowed);
	intent = name_member(s, item, "intent", field(s, prefix, "intent"), 100,
	    "_./-", "1 to 100 of A-Z a-z 0-9 _ . / -");
	language = name_member(s, item, "language",
	    field(s, prefix, "language"), 2, "", "a two-letter language code");
	if (language != NULL && (language[0] < 'a' || language[0] > 'z' ||
	    strlen(language) != 2 || language[1] < 'a' || language[1] > 'z')) {
		svc_field_error(s, field(s, prefix, "language"),
		    "invalid_format", "a two-letter language code in lower case");
		language = NULL;
	}
	templates = own(s, check_templates(s, item, prefix));
	quick = own(s, check_quick_replies(s, item, prefix, &bad_quick));
	slots = own(s, check_slots(s, item, prefix, &bad_slots));
	if (json_object_object_get_ex(item, "selection", &v) && v != NULL) {
		selection = json_object_is_type(v, json_type_string) ?
		    json_object_get_string(v) : "";
		if (!mx_field_one_of(s, field(s, prefix, "selection"),
		    selection, selections))
			selection = NULL;
	}
	if (json_object_object_get_ex(item, "max_turns", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_int) ||
		    json_object_get_int64(v) < 1 || json_object_get_int64(v) > 10)
			svc_field_error(s, field(s, prefix, "max_turns"),
			    "out_of_range", "must be an integer from 1 to 10");
		else
			max_turns = json_object_get_int64(v);
	}
	if (intent == NULL || language == NULL)
		return;
	key = arena_sprintf(s->a, "%s\n%s", intent, language);
	if (json_object_object_get_ex(keys, key, NULL)) {
		svc_field_error(s, prefix, "duplicate", "intent %s in language "
		    "%s appears more than once", intent, language);
		return;
	}
	json_object_object_add(keys, key, NULL);
	if (templates == NULL || bad_quick || bad_slots || selection == NULL)
		return;
	row = json_object_new_object();
	json_object_object_add(row, "intent", json_object_new_string(intent));
	json_object_object_add(row, "language", json_object_new_string(language));
	json_object_object_add(row, "templates", json_object_get(templates));
	json_object_object_add(row, "quick_replies", json_object_get(quick));
	json_object_object_add(row, "selection", json_object_new_string(selection));
	json_object_object_add(row, "required_slots", json_object_get(slots));
	json_object_object_add(row, "max_turns", json_object_new_int64(max_turns));
	json_object_array_add(rows, row);
}

/* Write the validated set, audit it, and read it back. */
static int
replace(struct svc *s, struct json_object *rows, const char *source,
    struct response_row **out, size_t *n, struct gacp_err *err)
{
	struct audit_event ev;
	struct json_object *d;
	int64_t removed = 0;
	int rc;

	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if ((rc = response_store_replace(&s->app->db, s->a, s->tenant_id,
	    json_compact(rows), svc_actor_uuid(s), &removed, err)) != GACP_OK)
		return rc;
	d = own(s, json_object_new_object());
	json_object_object_add(d, "source", json_object_new_string(source));
	json_object_object_add(d, "count",
	    json_object_new_int64((int64_t)json_object_array_length(rows)));
	json_object_object_add(d, "removed", json_object_new_int64(removed));
	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = s->tenant_id;
	ev.action = "responses.replace";
	ev.resource_type = "responses";
	ev.details = d;
	if ((rc = audit_record(s, &ev, err)) != GACP_OK)
		return rc;
	return response_store_list(&s->app->db, s->a, out, n, err);
}

int
responses_list(struct svc *s, struct response_row **rows, size_t *n,
    struct gacp_err *err)
{
	return response_store_list(&s->app->db, s->a, rows, n, err);
}

int
responses_replace_json(struct svc *s, struct json_object *body,
    struct response_row **out, size_t *n, struct gacp_err *err)
{
	static const char *const allowed[] = { "responses", NULL };
	struct json_object *arr, *rows, *keys;
	size_t i, len;

	svc_body_only(s, body, allowed);
	if (!json_object_object_get_ex(body, "responses", &arr) || arr == NULL) {
		svc_field_error(s, "responses", "required", "is required");
		return svc_check_fields(s, err);
	}
	if (!json_object_is_type(arr, json_type_array) ||
	    (len = json_object_array_length(arr)) > RESPONSES_MAX) {
		svc_field_error(s, "responses", "invalid_type",
		    "must be an array of at most %d responses", RESPONSES_MAX);
		return svc_check_fields(s, err);
	}
	rows = own(s, json_object_new_array());
	keys = own(s, json_object_new_object());
	for (i = 0; i < len && !too_many_errors(s); i++)
		check_row(s, json_object_array_get_idx(arr, i),
		    arena_sprintf(s->a, "responses[%zu]", i), rows, keys);
	return replace(s, rows, "json", out, n, err);
}

int
responses_replace_yaml(struct svc *s, const char *text, size_t len,
    struct response_row **out, size_t *n, struct gacp_err *err)
{
	struct json_object *rows, *keys;
	struct domain d;
	struct gacp_err perr;
	size_t i;
	int rc;

	if (!utf8_valid(text, len) || strlen(text) != len) {
		svc_field_error(s, "body", "invalid_characters",
		    "the domain file must be UTF-8 text");
		return svc_check_fields(s, err);
	}
	gacp_err_clear(&perr);
	if (domain_parse(text, len, &d, &perr) != GACP_OK) {
		svc_field_error(s, "body", perr.code, "%s", perr.msg);
		return svc_check_fields(s, err);
	}
	rows = own(s, json_object_new_array());
	keys = own(s, json_object_new_object());
	for (i = 0; i < d.n && !too_many_errors(s); i++) {
		struct domain_row *r = &d.rows[i];
		struct json_object *item = own(s, json_object_new_object());

		json_object_object_add(item, "intent",
		    json_object_new_string(r->intent));
		json_object_object_add(item, "language",
		    json_object_new_string(r->language));
		json_object_object_add(item, "templates",
		    json_object_get(r->templates));
		json_object_object_add(item, "quick_replies",
		    json_object_get(r->quick_replies));
		json_object_object_add(item, "required_slots",
		    json_object_get(r->required_slots));
		check_row(s, item, arena_sprintf(s->a, "responses.utter_%.60s[%.8s]",
		    r->intent, r->language), rows, keys);
	}
	domain_cleanup(&d);
	rc = replace(s, rows, "yaml", out, n, err);
	return rc;
}

struct json_object *
responses_render(const struct response_row *r)
{
	struct json_object *o = json_object_new_object();
	struct json_object *t = r->templates ? json_tokener_parse(r->templates) : NULL;
	struct json_object *q = r->quick_replies ?
	    json_tokener_parse(r->quick_replies) : NULL;
	struct json_object *sl = r->required_slots ?
	    json_tokener_parse(r->required_slots) : NULL;

	json_object_object_add(o, "id", json_object_new_string(r->id));
	json_object_object_add(o, "intent", json_object_new_string(r->intent));
	json_object_object_add(o, "language", json_object_new_string(r->language));
	json_object_object_add(o, "templates", t ? t : json_object_new_array());
	json_object_object_add(o, "quick_replies", q ? q : json_object_new_array());
	json_object_object_add(o, "selection", json_object_new_string(r->selection));
	json_object_object_add(o, "required_slots",
	    sl ? sl : json_object_new_array());
	json_object_object_add(o, "max_turns", json_object_new_int64(r->max_turns));
	json_object_object_add(o, "created_at", json_object_new_string(r->created_at));
	json_object_object_add(o, "updated_at", json_object_new_string(r->updated_at));
	json_object_object_add(o, "version", json_object_new_int64(r->version));
	return o;
}
