/* routes.c - every endpoint of gacp-api.fcgi with its security level.
 *
 * Read this table to know who may call what.  Order matters only between
 * patterns that could both match; literal routes come first.
 */
#include "app/routes.h"
#include "api/api.h"

const struct route gacp_routes[] = {
	/* method, pattern, handler, security, permission, metrics name */
	{ HTTP_GET, "/health",  api_health,  SEC_PUBLIC, NULL, "health" },
	{ HTTP_GET, "/ready",   api_ready,   SEC_PUBLIC, NULL, "ready" },
	{ HTTP_GET, "/version", api_version, SEC_PUBLIC, NULL, "version" },
	{ HTTP_GET, "/metrics", api_metrics, SEC_PUBLIC, NULL, "metrics" },

	/* NLU: ours and Rasa's drop-in endpoints. */
	{ HTTP_POST, "/v1/nlu/parse", api_nlu_parse, SEC_AUTHORIZED,
	    "nlu:read", "nlu_parse" },
	{ HTTP_POST, "/model/parse", api_nlu_parse, SEC_AUTHORIZED,
	    "nlu:read", "rasa_model_parse" },
	{ HTTP_GET, "/status", api_nlu_status, SEC_AUTHORIZED,
	    "nlu:read", "rasa_status" },

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
