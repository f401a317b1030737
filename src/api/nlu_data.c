/* nlu_data.c - /v1/nlu/examples, /v1/nlu/entities, /v1/nlu/import, /v1/nlu/export: the caller's tenant's training data. */
#include "api/nlu_api.h"
#include "api/api_svc.h"
#include "nlu/parse.h"
#include "tenancy/render.h"
#include "training/trainset.h"

#include <string.h>
#include <strings.h>

static struct json_object *
stored_array(const char *text)
{
	struct json_object *o = text ? json_tokener_parse(text) : NULL;

	if (o != NULL && !json_object_is_type(o, json_type_array)) {
		json_object_put(o);
		o = NULL;
	}
	return o ? o : json_object_new_array();
}

static struct json_object *
render_example(const struct nlu_example_row *e)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", render_str(e->id));
	json_object_object_add(o, "text", render_str(e->text));
	json_object_object_add(o, "intent", render_str(e->intent));
	json_object_object_add(o, "language", render_str(e->language));
	json_object_object_add(o, "entities", stored_array(e->entities));
	json_object_object_add(o, "created_at", render_str(e->created_at));
	json_object_object_add(o, "updated_at", render_str(e->updated_at));
	json_object_object_add(o, "created_by", render_str(e->created_by));
	json_object_object_add(o, "version", json_object_new_int64(e->version));
	return o;
}

static struct json_object *
render_definition(const struct nlu_entity_row *e)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", render_str(e->id));
	json_object_object_add(o, "kind", render_str(e->kind));
	json_object_object_add(o, "name", render_str(e->name));
	json_object_object_add(o, "elements", stored_array(e->elements));
	json_object_object_add(o, "created_at", render_str(e->created_at));
	json_object_object_add(o, "updated_at", render_str(e->updated_at));
	json_object_object_add(o, "version", json_object_new_int64(e->version));
	return o;
}

/* The process's language identifier (the parser's text front end), or
 * NULL when it cannot be made: languages are then "und". */
static struct nlu_text *
language_id(struct request_ctx *rc)
{
	struct nlu_parser *p;
	struct gacp_err err;

	gacp_err_clear(&err);
	p = api_nlu_parser(rc, &err);
	return p ? &p->sc.text : NULL;
}

/* ---- examples ----------------------------------------------------------- */

void
api_nlu_examples_create(struct request_ctx *rc)
{
	struct json_object *body = api_body(rc, false), *items;
	struct nlu_example_row *rows;
	struct gacp_err err;
	struct svc s;
	size_t n, i;
	bool many;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (trainset_examples_create(&s, language_id(rc), body, &rows, &n,
	    &many, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	if (!many) {
		api_done(rc, &s, 201, api_own(rc, render_example(&rows[0])));
		return;
	}
	items = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(items, render_example(&rows[i]));
	api_done(rc, &s, 201, api_list(rc, items, NULL));
}

void
api_nlu_examples_list(struct request_ctx *rc)
{
	struct nlu_example_row *rows;
	struct json_object *items;
	struct gacp_err err;
	struct page pg;
	struct svc s;
	char *next;
	size_t n, i;

	api_svc(rc, &s);
	if (!api_page(rc, &s, false, &pg))
		return;
	if (trainset_examples_list(&s, &pg, http_request_query(&rc->req,
	    "intent"), http_request_query(&rc->req, "language"), &rows, &n,
	    &next, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	items = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(items, render_example(&rows[i]));
	api_done(rc, &s, 200, api_list(rc, items, next));
}

void
api_nlu_examples_get(struct request_ctx *rc)
{
	struct nlu_example_row *e;
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	if (trainset_examples_get(&s, http_request_path_param(&rc->req, "id"),
	    &e, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 200, api_own(rc, render_example(e)));
}

void
api_nlu_examples_delete(struct request_ctx *rc)
{
	api_delete(rc, trainset_examples_delete);
}

/* DELETE /v1/nlu/examples?intent=NAME: every example of one intent. */
void
api_nlu_examples_delete_many(struct request_ctx *rc)
{
	struct json_object *o;
	struct gacp_err err;
	struct svc s;
	int64_t deleted;

	api_svc(rc, &s);
	if (trainset_examples_delete_intent(&s, http_request_query(&rc->req,
	    "intent"), &deleted, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	o = api_own(rc, json_object_new_object());
	json_object_object_add(o, "deleted", json_object_new_int64(deleted));
	api_done(rc, &s, 200, o);
}

/* ---- entity definitions ------------------------------------------------- */

void
api_nlu_entities_create(struct request_ctx *rc)
{
	struct json_object *body = api_body(rc, false);
	struct nlu_entity_row *e;
	struct gacp_err err;
	struct svc s;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (trainset_entities_create(&s, body, &e, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 201, api_own(rc, render_definition(e)));
}

void
api_nlu_entities_list(struct request_ctx *rc)
{
	struct nlu_entity_row *rows;
	struct json_object *items;
	struct gacp_err err;
	struct page pg;
	struct svc s;
	char *next;
	size_t n, i;

	api_svc(rc, &s);
	if (!api_page(rc, &s, false, &pg))
		return;
	if (trainset_entities_list(&s, &pg, http_request_query(&rc->req,
	    "kind"), &rows, &n, &next, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	items = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(items, render_definition(&rows[i]));
	api_done(rc, &s, 200, api_list(rc, items, next));
}

void
api_nlu_entities_get(struct request_ctx *rc)
{
	struct nlu_entity_row *e;
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	if (trainset_entities_get(&s, http_request_path_param(&rc->req, "id"),
	    &e, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 200, api_own(rc, render_definition(e)));
}

void
api_nlu_entities_update(struct request_ctx *rc)
{
	struct json_object *body = api_body(rc, false);
	struct nlu_entity_row *e;
	struct gacp_err err;
	struct svc s;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (trainset_entities_update(&s, http_request_path_param(&rc->req,
	    "id"), body, &e, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 200, api_own(rc, render_definition(e)));
}

void
api_nlu_entities_delete(struct request_ctx *rc)
{
	api_delete(rc, trainset_entities_delete);
}

/* ---- import and export -------------------------------------------------- */

/* The media type of Content-Type (parameters ignored) is one of types. */
static bool
media_type_is(const char *content_type, const char *const *types)
{
	size_t len;

	if (content_type == NULL)
		return false;
	len = strcspn(content_type, "; \t");
	for (; *types != NULL; types++)
		if (strlen(*types) == len &&
		    strncasecmp(content_type, *types, len) == 0)
			return true;
	return false;
}

static struct json_object *
counts(const struct nlu_sync_counts *c, size_t total)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "total", json_object_new_int64((int64_t)total));
	json_object_object_add(o, "inserted", json_object_new_int64(c->inserted));
	json_object_object_add(o, "updated", json_object_new_int64(c->updated));
	json_object_object_add(o, "deleted", json_object_new_int64(c->deleted));
	json_object_object_add(o, "unchanged",
	    json_object_new_int64(c->unchanged));
	return o;
}

/* POST /v1/nlu/import[?mode=replace|merge] with a Rasa NLU YAML or JSON
 * body. */
void
api_nlu_import(struct request_ctx *rc)
{
	static const char *const yaml[] = { "application/x-yaml",
	    "application/yaml", "text/yaml", "text/x-yaml", NULL };
	static const char *const json[] = { "application/json", NULL };
	struct trainset_import_report rep;
	enum trainset_format fmt;
	struct json_object *o, *ex;
	struct gacp_err err;
	struct svc s;

	if (media_type_is(rc->req.content_type, yaml)) {
		fmt = TRAINSET_RASA_YAML;
	} else if (media_type_is(rc->req.content_type, json)) {
		fmt = TRAINSET_RASA_JSON;
	} else {
		api_error(rc, 415, "unsupported_media_type", "Content-Type must "
		    "be application/x-yaml or text/yaml (Rasa NLU YAML) or "
		    "application/json (Rasa NLU JSON)");
		return;
	}
	api_svc(rc, &s);
	if (trainset_import(&s, language_id(rc), fmt, rc->req.body,
	    rc->req.body_len, http_request_query(&rc->req, "mode"), &rep,
	    &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	o = api_own(rc, json_object_new_object());
	json_object_object_add(o, "mode", json_object_new_string(
	    rep.replace ? "replace" : "merge"));
	ex = counts(&rep.ex, rep.examples);
	json_object_object_add(ex, "duplicates_ignored",
	    json_object_new_int64((int64_t)rep.duplicates_ignored));
	json_object_object_add(o, "examples", ex);
	json_object_object_add(o, "entities", counts(&rep.ent, rep.definitions));
	api_done(rc, &s, 200, o);
}

/* GET /v1/nlu/export: Rasa NLU YAML, importable as it is. */
void
api_nlu_export(struct request_ctx *rc)
{
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	buf_reset(rc->resp.body);
	if (trainset_export(&s, rc->resp.body, &err) != GACP_OK ||
	    svc_commit(&s, &err) != GACP_OK) {
		buf_reset(rc->resp.body);
		api_fail(rc, &s, &err);
		return;
	}
	rc->resp.status = 200;
	rc->resp.content_type = "application/x-yaml; charset=utf-8";
}
