/* routes.c - every endpoint of gacp-api.fcgi with its security level.
 *
 * Read this table to know who may call what.  Order matters only between
 * patterns that could both match; literal routes come first.
 */
#include "app/routes.h"
#include "api/api.h"
#include "api/nlu_api.h"

const struct route gacp_routes[] = {
	/* method, pattern, handler, security, permission, metrics name */
	{ HTTP_GET, "/health",  api_health,  SEC_PUBLIC, NULL, "health" },
	{ HTTP_GET, "/ready",   api_ready,   SEC_PUBLIC, NULL, "ready" },
	{ HTTP_GET, "/version", api_version, SEC_PUBLIC, NULL, "version" },
	{ HTTP_GET, "/metrics", api_metrics, SEC_PUBLIC, NULL, "metrics" },

	/* Sessions.  login/refresh are PUBLIC but counted per client
	 * address (access.c); the others need a credential. */
	{ HTTP_POST, "/v1/auth/login",   api_auth_login,   SEC_PUBLIC, NULL,
	    "auth_login" },
	{ HTTP_POST, "/v1/auth/refresh", api_auth_refresh, SEC_PUBLIC, NULL,
	    "auth_refresh" },
	{ HTTP_POST, "/v1/auth/logout",  api_auth_logout,  SEC_AUTHENTICATED,
	    NULL, "auth_logout" },
	{ HTTP_GET,  "/v1/auth/me",      api_auth_me,      SEC_AUTHENTICATED,
	    NULL, "auth_me" },

	/* Tenants: platform administrators only. */
	{ HTTP_POST,   "/v1/tenants",      api_tenants_create,
	    SEC_ADMINISTRATIVE, "tenants:admin", "tenants_create" },
	{ HTTP_GET,    "/v1/tenants",      api_tenants_list,
	    SEC_ADMINISTRATIVE, "tenants:admin", "tenants_list" },
	{ HTTP_GET,    "/v1/tenants/{id}", api_tenants_get,
	    SEC_ADMINISTRATIVE, "tenants:admin", "tenants_get" },
	{ HTTP_PATCH,  "/v1/tenants/{id}", api_tenants_update,
	    SEC_ADMINISTRATIVE, "tenants:admin", "tenants_update" },
	{ HTTP_DELETE, "/v1/tenants/{id}", api_tenants_delete,
	    SEC_ADMINISTRATIVE, "tenants:admin", "tenants_delete" },

	/* Users of the caller's tenant.  Changing a password is open to
	 * every user for their own (with the current one); for others the
	 * service demands users:write. */
	{ HTTP_POST,   "/v1/users",      api_users_create, SEC_AUTHORIZED,
	    "users:write", "users_create" },
	{ HTTP_GET,    "/v1/users",      api_users_list,   SEC_AUTHORIZED,
	    "users:read", "users_list" },
	{ HTTP_GET,    "/v1/users/{id}", api_users_get,    SEC_AUTHORIZED,
	    "users:read", "users_get" },
	{ HTTP_PATCH,  "/v1/users/{id}", api_users_update, SEC_AUTHORIZED,
	    "users:write", "users_update" },
	{ HTTP_DELETE, "/v1/users/{id}", api_users_delete, SEC_AUTHORIZED,
	    "users:write", "users_delete" },
	{ HTTP_POST,   "/v1/users/{id}/password", api_users_password,
	    SEC_AUTHENTICATED, NULL, "users_password" },
	{ HTTP_POST,   "/v1/users/{id}/unlock",   api_users_unlock,
	    SEC_AUTHORIZED, "users:write", "users_unlock" },

	/* API keys.  Minting one reveals a secret: a recent login of an
	 * owner or admin (RESTRICTED), never another key. */
	{ HTTP_POST,   "/v1/api-keys",      api_apikeys_create, SEC_RESTRICTED,
	    "apikeys:write", "apikeys_create" },
	{ HTTP_GET,    "/v1/api-keys",      api_apikeys_list,   SEC_AUTHORIZED,
	    "apikeys:read", "apikeys_list" },
	{ HTTP_GET,    "/v1/api-keys/{id}", api_apikeys_get,    SEC_AUTHORIZED,
	    "apikeys:read", "apikeys_get" },
	{ HTTP_DELETE, "/v1/api-keys/{id}", api_apikeys_revoke, SEC_AUTHORIZED,
	    "apikeys:write", "apikeys_revoke" },

	/* The tenant's audit trail. */
	{ HTTP_GET, "/v1/audit-log", api_audit_list, SEC_AUTHORIZED,
	    "audit:read", "audit_list" },

	/* Analytics (gacp-analytics fills the tables). */
	{ HTTP_GET, "/v1/analytics/summary", api_analytics_summary,
	    SEC_AUTHORIZED, "analytics:read", "analytics_summary" },
	{ HTTP_GET, "/v1/analytics/timeseries", api_analytics_timeseries,
	    SEC_AUTHORIZED, "analytics:read", "analytics_timeseries" },
	{ HTTP_GET, "/v1/analytics/intents", api_analytics_intents,
	    SEC_AUTHORIZED, "analytics:read", "analytics_intents" },
	{ HTTP_GET, "/v1/analytics/export.csv", api_analytics_export,
	    SEC_AUTHORIZED, "analytics:read", "analytics_export" },

	/* Service registry (registry/registry.h).  Writes: services:admin
	 * from the platform tenant (platform admins, or a platform API key
	 * so scoped, for services heartbeating themselves).  Reads:
	 * services:read — platform admins, and tenants a platform admin
	 * granted the registry to (settings.service_registry_read). */
	{ HTTP_POST,   "/v1/services", api_services_create, SEC_AUTHORIZED,
	    "services:admin", "services_create" },
	{ HTTP_GET,    "/v1/services", api_services_list,   SEC_AUTHORIZED,
	    "services:read", "services_list" },
	{ HTTP_PUT,    "/v1/services/{id}/heartbeat", api_services_heartbeat,
	    SEC_AUTHORIZED, "services:admin", "services_heartbeat" },
	{ HTTP_DELETE, "/v1/services/{id}", api_services_delete,
	    SEC_AUTHORIZED, "services:admin", "services_delete" },
	{ HTTP_GET,    "/v1/system/health", api_system_health, SEC_AUTHORIZED,
	    "services:read", "system_health" },

	/* NLU: ours and Rasa's drop-in endpoints. */
	{ HTTP_POST, "/v1/nlu/parse", api_nlu_parse, SEC_AUTHORIZED,
	    "nlu:read", "nlu_parse" },
	{ HTTP_POST, "/model/parse", api_nlu_parse, SEC_AUTHORIZED,
	    "nlu:read", "rasa_model_parse" },
	{ HTTP_GET, "/status", api_nlu_status, SEC_AUTHORIZED,
	    "nlu:read", "rasa_status" },
	/* NLU training data and model versions of the caller's tenant;
	 * DELETE /v1/nlu/examples?intent=X empties one intent. */
	{ HTTP_GET,    "/v1/nlu/examples",      api_nlu_examples_list,
	    SEC_AUTHORIZED, "nlu:read", "nlu_examples_list" },
	{ HTTP_POST,   "/v1/nlu/examples",      api_nlu_examples_create,
	    SEC_AUTHORIZED, "nlu:write", "nlu_examples_create" },
	{ HTTP_DELETE, "/v1/nlu/examples",      api_nlu_examples_delete_many,
	    SEC_AUTHORIZED, "nlu:write", "nlu_examples_delete_many" },
	{ HTTP_GET,    "/v1/nlu/examples/{id}", api_nlu_examples_get,
	    SEC_AUTHORIZED, "nlu:read", "nlu_examples_get" },
	{ HTTP_DELETE, "/v1/nlu/examples/{id}", api_nlu_examples_delete,
	    SEC_AUTHORIZED, "nlu:write", "nlu_examples_delete" },
	{ HTTP_GET,    "/v1/nlu/entities",      api_nlu_entities_list,
	    SEC_AUTHORIZED, "nlu:read", "nlu_entities_list" },
	{ HTTP_POST,   "/v1/nlu/entities",      api_nlu_entities_create,
	    SEC_AUTHORIZED, "nlu:write", "nlu_entities_create" },
	{ HTTP_GET,    "/v1/nlu/entities/{id}", api_nlu_entities_get,
	    SEC_AUTHORIZED, "nlu:read", "nlu_entities_get" },
	{ HTTP_PATCH,  "/v1/nlu/entities/{id}", api_nlu_entities_update,
	    SEC_AUTHORIZED, "nlu:write", "nlu_entities_update" },
	{ HTTP_DELETE, "/v1/nlu/entities/{id}", api_nlu_entities_delete,
	    SEC_AUTHORIZED, "nlu:write", "nlu_entities_delete" },
	{ HTTP_POST,   "/v1/nlu/import",        api_nlu_import,
	    SEC_AUTHORIZED, "nlu:write", "nlu_import" },
	{ HTTP_GET,    "/v1/nlu/export",        api_nlu_export,
	    SEC_AUTHORIZED, "nlu:read", "nlu_export" },
	{ HTTP_GET,    "/v1/nlu/models",        api_nlu_models_list,
	    SEC_AUTHORIZED, "nlu:read", "nlu_models_list" },
	{ HTTP_GET,    "/v1/nlu/models/{id}",   api_nlu_models_get,
	    SEC_AUTHORIZED, "nlu:read", "nlu_models_get" },
	{ HTTP_POST,   "/v1/nlu/models/{id}/activate", api_nlu_models_activate,
	    SEC_AUTHORIZED, "nlu:write", "nlu_models_activate" },

	/* System configuration of the caller's tenant (?scope=platform: the
	 * platform-wide defaults, platform admins only).  Revealing a secret
	 * needs RESTRICTED, checked by the service for ?reveal=true. */
	{ HTTP_GET,    "/v1/config",       api_config_list,   SEC_AUTHORIZED,
	    "config:read", "config_list" },
	{ HTTP_GET,    "/v1/config/{key}", api_config_get,    SEC_AUTHORIZED,
	    "config:read", "config_get" },
	{ HTTP_PUT,    "/v1/config/{key}", api_config_put,    SEC_AUTHORIZED,
	    "config:write", "config_put" },
	{ HTTP_DELETE, "/v1/config/{key}", api_config_delete, SEC_AUTHORIZED,
	    "config:write", "config_delete" },

	/* Channels: the tenant's Messenger pages (and its REST channel).
	 * Secrets are write-only. */
	{ HTTP_POST,   "/v1/channels",      api_channels_create, SEC_AUTHORIZED,
	    "channels:write", "channels_create" },
	{ HTTP_GET,    "/v1/channels",      api_channels_list,   SEC_AUTHORIZED,
	    "channels:read", "channels_list" },
	{ HTTP_GET,    "/v1/channels/{id}", api_channels_get,    SEC_AUTHORIZED,
	    "channels:read", "channels_get" },
	{ HTTP_PATCH,  "/v1/channels/{id}", api_channels_update, SEC_AUTHORIZED,
	    "channels:write", "channels_update" },
	{ HTTP_DELETE, "/v1/channels/{id}", api_channels_delete, SEC_AUTHORIZED,
	    "channels:write", "channels_delete" },

	/* Conversations: the agents' inbox.  Replying, handing off and
	 * resuming the bot are conversations:reply. */
	{ HTTP_GET,  "/v1/conversations", api_conversations_list,
	    SEC_AUTHORIZED, "conversations:read", "conversations_list" },
	{ HTTP_GET,  "/v1/conversations/{id}", api_conversations_get,
	    SEC_AUTHORIZED, "conversations:read", "conversations_get" },
	{ HTTP_GET,  "/v1/conversations/{id}/messages",
	    api_conversations_messages, SEC_AUTHORIZED, "conversations:read",
	    "conversations_messages" },
	{ HTTP_POST, "/v1/conversations/{id}/messages",
	    api_conversations_reply, SEC_AUTHORIZED, "conversations:reply",
	    "conversations_reply" },
	{ HTTP_POST, "/v1/conversations/{id}/handoff",
	    api_conversations_handoff, SEC_AUTHORIZED, "conversations:reply",
	    "conversations_handoff" },
	{ HTTP_POST, "/v1/conversations/{id}/resume",
	    api_conversations_resume, SEC_AUTHORIZED, "conversations:reply",
	    "conversations_resume" },

	/* The bot's responses: one document per tenant. */
	{ HTTP_GET, "/v1/responses", api_responses_list, SEC_AUTHORIZED,
	    "responses:read", "responses_list" },
	{ HTTP_PUT, "/v1/responses", api_responses_replace, SEC_AUTHORIZED,
	    "responses:write", "responses_replace" },

	/* Messenger: authenticated by verify token / body signature. */
	{ HTTP_GET,  "/webhooks/messenger", api_webhook_verify,  SEC_WEBHOOK,
	    NULL, "webhook_verify" },
	{ HTTP_POST, "/webhooks/messenger", api_webhook_receive, SEC_WEBHOOK,
	    NULL, "webhook_receive" },
	/* Rasa's REST channel, for website widgets: an API call. */
	{ HTTP_POST, "/webhooks/rest/webhook", api_rest_webhook, SEC_AUTHORIZED,
	    "conversations:reply", "rest_webhook" },
};

const size_t gacp_nroutes = sizeof(gacp_routes) / sizeof(gacp_routes[0]);
