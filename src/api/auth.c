/* auth.c - /v1/auth: login, refresh, logout, me. */
#include "api/api_svc.h"
#include "tenancy/auth.h"

static struct json_object *
tokens_json(struct request_ctx *rc, const struct auth_tokens *t)
{
	struct json_object *o = api_own(rc, json_object_new_object());

	json_object_object_add(o, "access_token",
	    json_object_new_string(t->access_token));
	json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(o, "expires_in",
	    json_object_new_int64(t->expires_in_s));
	json_object_object_add(o, "refresh_token",
	    json_object_new_string(t->refresh_token));
	json_object_object_add(o, "refresh_expires_in",
	    json_object_new_int64(t->refresh_expires_in_s));
	return o;
}

/* Login and refresh: a body in, a token pair out. */
static void
issue_tokens(struct request_ctx *rc, int (*issue)(struct svc *,
    struct json_object *, struct auth_tokens *, struct gacp_err *))
{
	struct json_object *body = api_body(rc, false);
	struct auth_tokens t;
	struct gacp_err err;
	struct svc s;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (issue(&s, body, &t, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_json(rc, 200, tokens_json(rc, &t));
}

void
api_auth_login(struct request_ctx *rc)
{
	issue_tokens(rc, auth_login);
}

void
api_auth_refresh(struct request_ctx *rc)
{
	issue_tokens(rc, auth_refresh);
}

void
api_auth_logout(struct request_ctx *rc)
{
	struct json_object *body = api_body(rc, true);
	struct gacp_err err;
	struct svc s;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (auth_logout(&s, body, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 204, NULL);
}

void
api_auth_me(struct request_ctx *rc)
{
	struct json_object *me;
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	if (auth_me(&s, &me, &err) != GACP_OK) {
		api_fail(rc, &s, &err);
		return;
	}
	api_json(rc, 200, me);
}
