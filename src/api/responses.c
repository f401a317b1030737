/* responses.c - /v1/responses: the bot's answers, read and replaced as one document (JSON or a Rasa domain file). */
#include "api/api_svc.h"
#include "messenger/response_store.h"
#include "messenger/responses_svc.h"

#include <string.h>
#include <strings.h>

/* The media type of the request without parameters, compared to name. */
static bool
media_type_is(const struct request_ctx *rc, const char *name)
{
	const char *ct = rc->req.content_type;
	size_t n = strlen(name);

	if (ct == NULL || strncasecmp(ct, name, n) != 0)
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* Rasa domain files are YAML; there is no single registered name in
 * use (RFC 9512 registers application/yaml), so accept the usual ones. */
static bool
is_yaml(const struct request_ctx *rc)
{
	return media_type_is(rc, "application/yaml") ||
	    media_type_is(rc, "application/x-yaml") ||
	    media_type_is(rc, "text/yaml") || media_type_is(rc, "text/x-yaml");
}

static void
answer(struct request_ctx *rc, struct svc *s, struct response_row *rows,
    size_t n)
{
	struct json_object *o, *items = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(items, responses_render(&rows[i]));
	o = api_own(rc, json_object_new_object());
	json_object_object_add(o, "responses", items);
	api_done(rc, s, 200, o);
}

void
api_responses_list(struct request_ctx *rc)
{
	struct response_row *rows;
	struct gacp_err err;
	struct svc s;
	size_t n;

	api_svc(rc, &s);
	if (responses_list(&s, &rows, &n, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	answer(rc, &s, rows, n);
}

void
api_responses_replace(struct request_ctx *rc)
{
	struct response_row *rows;
	struct json_object *body;
	struct gacp_err err;
	struct svc s;
	size_t n;
	int rc2;

	if (is_yaml(rc)) {
		api_svc(rc, &s);
		rc2 = responses_replace_yaml(&s, rc->req.body, rc->req.body_len,
		    &rows, &n, &err);
	} else {
		if (!http_request_is_json(&rc->req)) {
			api_error(rc, 415, "unsupported_media_type",
			    "Content-Type must be application/json or "
			    "application/x-yaml (a Rasa domain file)");
			return;
		}
		if ((body = api_body(rc, false)) == NULL)
			return;
		api_svc(rc, &s);
		rc2 = responses_replace_json(&s, body, &rows, &n, &err);
	}
	if (rc2 != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	answer(rc, &s, rows, n);
}
