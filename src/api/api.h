/* api.h - helpers shared by the REST handlers and the handler prototypes.
 *
 * Handlers (src/api/<resource>.c) read rc->req, call services, and answer
 * with api_json()/api_error*(); they never write SQL or raw HTTP.
 */
#ifndef GACP_API_H
#define GACP_API_H

#include <json-c/json.h>

#include "app/context.h"

/* Error envelope with a formatted message. */
void api_error(struct request_ctx *rc, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Error envelope from a service error (status chosen from err->result). */
void api_error_from(struct request_ctx *rc, const struct gacp_err *err);
/* HTTP status for a result code. */
int  api_status_for(int result);
/* Serialise obj as the response body with status. */
void api_json(struct request_ctx *rc, int status, struct json_object *obj);
/* Parse the request body as a JSON object.  On failure the error response
 * (415 wrong content type, 400 invalid_json) is written and NULL returned.
 * The object belongs to the request arena. */
struct json_object *api_body_object(struct request_ctx *rc);

/* health.c */
void api_health(struct request_ctx *rc);
void api_ready(struct request_ctx *rc);
void api_version(struct request_ctx *rc);
void api_metrics(struct request_ctx *rc);

/* analytics.c */
void api_analytics_summary(struct request_ctx *rc);
void api_analytics_timeseries(struct request_ctx *rc);
void api_analytics_intents(struct request_ctx *rc);
void api_analytics_export(struct request_ctx *rc);

/* services.c: the service registry and the system health aggregate. */
void api_services_create(struct request_ctx *rc);
void api_services_list(struct request_ctx *rc);
void api_services_heartbeat(struct request_ctx *rc);
void api_services_delete(struct request_ctx *rc);
void api_system_health(struct request_ctx *rc);

/* nlu.c */
struct nlu_parser;
/* The process's NLU parser, made at first use; NULL with err on failure. */
struct nlu_parser *api_nlu_parser(struct request_ctx *rc, struct gacp_err *err);
void api_nlu_parse(struct request_ctx *rc);
void api_nlu_status(struct request_ctx *rc);

/* webhooks.c */
void api_webhook_verify(struct request_ctx *rc);
void api_webhook_receive(struct request_ctx *rc);
/* restchannel.c */
void api_rest_webhook(struct request_ctx *rc);

/* auth.c */
void api_auth_login(struct request_ctx *rc);
void api_auth_refresh(struct request_ctx *rc);
void api_auth_logout(struct request_ctx *rc);
void api_auth_me(struct request_ctx *rc);
/* tenants.c */
void api_tenants_create(struct request_ctx *rc);
void api_tenants_list(struct request_ctx *rc);
void api_tenants_get(struct request_ctx *rc);
void api_tenants_update(struct request_ctx *rc);
void api_tenants_delete(struct request_ctx *rc);
/* users.c */
void api_users_create(struct request_ctx *rc);
void api_users_list(struct request_ctx *rc);
void api_users_get(struct request_ctx *rc);
void api_users_update(struct request_ctx *rc);
void api_users_delete(struct request_ctx *rc);
void api_users_password(struct request_ctx *rc);
void api_users_unlock(struct request_ctx *rc);
/* apikeys.c */
void api_apikeys_create(struct request_ctx *rc);
void api_apikeys_list(struct request_ctx *rc);
void api_apikeys_get(struct request_ctx *rc);
void api_apikeys_revoke(struct request_ctx *rc);
/* audit.c */
void api_audit_list(struct request_ctx *rc);

/* config.c */
void api_config_list(struct request_ctx *rc);
void api_config_get(struct request_ctx *rc);
void api_config_put(struct request_ctx *rc);
void api_config_delete(struct request_ctx *rc);

/* channels.c */
void api_channels_create(struct request_ctx *rc);
void api_channels_list(struct request_ctx *rc);
void api_channels_get(struct request_ctx *rc);
void api_channels_update(struct request_ctx *rc);
void api_channels_delete(struct request_ctx *rc);
/* conversations.c */
void api_conversations_list(struct request_ctx *rc);
void api_conversations_get(struct request_ctx *rc);
void api_conversations_messages(struct request_ctx *rc);
void api_conversations_reply(struct request_ctx *rc);
void api_conversations_handoff(struct request_ctx *rc);
void api_conversations_resume(struct request_ctx *rc);
/* responses.c */
void api_responses_list(struct request_ctx *rc);
void api_responses_replace(struct request_ctx *rc);

#endif
