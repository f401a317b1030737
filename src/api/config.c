/* config.c - /v1/config: typed, validated, optionally encrypted system configuration. */
#include "api/api_svc.h"
#include "sysconfig/svc.h"

#include <string.h>

static const char *
q(struct request_ctx *rc, const char *name)
{
	return http_request_query(&rc->req, name);
}

static const char *
key_param(struct request_ctx *rc)
{
	return http_request_path_param(&rc->req, "key");
}

void
api_config_list(struct request_ctx *rc)
{
	struct syscfg_row *rows;
	struct json_object *items;
	struct gacp_err err;
	struct svc s;
	size_t n, i;

	api_svc(rc, &s);
	if (q(rc, "reveal") != NULL)
		svc_field_error(&s, "reveal", "not_applicable", "secrets are "
		    "revealed one at a time: GET /v1/config/{key}?reveal=true");
	if (syscfg_list(&s, q(rc, "scope"), q(rc, "environment"),
	    q(rc, "category"), &rows, &n, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	items = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(items, syscfg_render(&rows[i], NULL));
	api_done(rc, &s, 200, api_list(rc, items, NULL));
}

void
api_config_get(struct request_ctx *rc)
{
	const char *reveal = q(rc, "reveal");
	struct syscfg_row *row;
	struct gacp_err err;
	struct svc s;
	char *plain = NULL;

	api_svc(rc, &s);
	if (reveal != NULL && strcmp(reveal, "true") != 0 &&
	    strcmp(reveal, "false") != 0)
		svc_field_error(&s, "reveal", "invalid_type",
		    "reveal is true or false");
	if (syscfg_get(&s, q(rc, "scope"), q(rc, "environment"), key_param(rc),
	    reveal != NULL && strcmp(reveal, "true") == 0, &row, &plain,
	    &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 200, api_own(rc, syscfg_render(row, plain)));
	if (plain != NULL)
		explicit_bzero(plain, strlen(plain));
}

void
api_config_put(struct request_ctx *rc)
{
	struct json_object *body = api_body(rc, false);
	struct syscfg_row *row;
	struct gacp_err err;
	struct svc s;
	bool created;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (syscfg_put(&s, q(rc, "scope"), q(rc, "environment"), key_param(rc),
	    body, &row, &created, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, created ? 201 : 200,
	    api_own(rc, syscfg_render(row, NULL)));
	if (rc->resp.status < 300)
		syscfg_bump(rc->app, rc->arena);
}

void
api_config_delete(struct request_ctx *rc)
{
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	if (syscfg_delete(&s, q(rc, "scope"), q(rc, "environment"),
	    key_param(rc), q(rc, "version"), &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 204, NULL);
	if (rc->resp.status < 300)
		syscfg_bump(rc->app, rc->arena);
}
