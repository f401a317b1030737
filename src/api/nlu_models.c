/* nlu_models.c - /v1/nlu/models: the caller's tenant's trained model versions, and rolling back or forward. */
#include "api/nlu_api.h"
#include "api/api_svc.h"
#include "tenancy/render.h"
#include "training/versions.h"

#include <stdio.h>
#include <string.h>

/* Seconds to the millisecond (a real column holds no more). */
static struct json_object *
seconds(double s)
{
	char text[32];

	if (s < 0)
		return NULL;
	snprintf(text, sizeof(text), "%.3f", s);
	return json_object_new_double_s(s, text);
}

static struct json_object *
render_model(const struct nlu_model_row *m)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", render_str(m->id));
	json_object_object_add(o, "version", json_object_new_int64(m->version));
	json_object_object_add(o, "language", render_str(m->language));
	json_object_object_add(o, "status", render_str(m->status));
	json_object_object_add(o, "active", json_object_new_boolean(
	    strcmp(m->status, "active") == 0));
	json_object_object_add(o, "checksum", render_str(m->checksum));
	json_object_object_add(o, "file", render_str(m->path));
	json_object_object_add(o, "size_bytes",
	    json_object_new_int64(m->size_bytes));
	json_object_object_add(o, "metrics", render_stored_json(m->metrics));
	json_object_object_add(o, "training_data_hash",
	    render_str(m->training_data_hash));
	json_object_object_add(o, "train_seconds", seconds(m->train_seconds));
	json_object_object_add(o, "reason", render_str(m->reason));
	json_object_object_add(o, "activated_at", render_str(m->activated_at));
	json_object_object_add(o, "created_at", render_str(m->created_at));
	return o;
}

/* GET /v1/nlu/models: newest first, with the active version named. */
void
api_nlu_models_list(struct request_ctx *rc)
{
	struct nlu_model_row *rows, *active;
	struct json_object *items, *o;
	struct gacp_err err;
	struct page pg;
	struct svc s;
	char *next;
	size_t n, i;

	api_svc(rc, &s);
	if (!api_page(rc, &s, false, &pg))
		return;
	if (versions_list(&s, &pg, &rows, &n, &next, &err) != GACP_OK ||
	    versions_active(&s, &active, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	items = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(items, render_model(&rows[i]));
	o = api_list(rc, items, next);
	json_object_object_add(o, "active_version", active ?
	    json_object_new_int64(active->version) : NULL);
	api_done(rc, &s, 200, o);
}

void
api_nlu_models_get(struct request_ctx *rc)
{
	struct nlu_model_row *m;
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	if (versions_get(&s, http_request_path_param(&rc->req, "id"), &m,
	    &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 200, api_own(rc, render_model(m)));
}

/* POST /v1/nlu/models/{id}/activate: publish that version (roll back or
 * forward); every process serves it within a second. */
void
api_nlu_models_activate(struct request_ctx *rc)
{
	struct nlu_model_row *m, *prev;
	struct json_object *o;
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	if (versions_activate(&s, http_request_path_param(&rc->req, "id"), &m,
	    &prev, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	o = api_own(rc, render_model(m));
	json_object_object_add(o, "previous_version", prev ?
	    json_object_new_int64(prev->version) : NULL);
	api_done(rc, &s, 200, o);
}
