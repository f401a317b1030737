/* health.c - liveness, readiness, version and metrics endpoints. */
#include "api/api.h"
#include "common/json.h"
#include "http/metrics.h"

#include <string.h>

/* GET /health: the process is alive.  No dependency calls, so load
 * balancers can poll it cheaply and it stays up while PostgreSQL is down. */
void
api_health(struct request_ctx *rc)
{
	http_response_json(&rc->resp, 200, "{\"status\":\"ok\"}");
}

/* GET /ready: can this process serve real traffic?  One round trip to each
 * store, each bounded by its timeout. */
void
api_ready(struct request_ctx *rc)
{
	struct gacp_err db_err, cache_err;
	int db_ok, cache_ok;
	struct buf details;
	char msg[96];

	gacp_err_clear(&db_err);
	gacp_err_clear(&cache_err);
	db_ok = db_ping(&rc->app->db, &db_err) == GACP_OK;
	cache_ok = cache_ping(&rc->app->cache, rc->arena, &cache_err) == GACP_OK;
	if (db_ok && cache_ok) {
		http_response_json(&rc->resp, 200, "{\"status\":\"ready\","
		    "\"checks\":{\"postgres\":\"ok\",\"redis\":\"ok\"}}");
		return;
	}
	snprintf(msg, sizeof(msg), "%s%s%s unavailable",
	    db_ok ? "" : "postgres", (!db_ok && !cache_ok) ? " and " : "",
	    cache_ok ? "" : "redis");
	buf_init(&details);
	buf_printf(&details, "{\"postgres\":\"%s\",\"redis\":\"%s\"}",
	    db_ok ? "ok" : "unavailable", cache_ok ? "ok" : "unavailable");
	http_response_error(&rc->resp, 503, "dependency_unavailable", msg,
	    rc->req.request_id, details.data);
	buf_cleanup(&details);
	http_response_header(&rc->resp, "Retry-After", "1");
}

/* GET /version: ours, in the shape Rasa clients expect from GET /version. */
void
api_version(struct request_ctx *rc)
{
	http_response_json(&rc->resp, 200, "{\"name\":\"" PACKAGE_NAME "\","
	    "\"version\":\"" PACKAGE_VERSION "\","
	    "\"minimum_compatible_version\":\"" PACKAGE_VERSION "\"}");
}

/* GET /metrics: Prometheus text format, summed over all processes. */
void
api_metrics(struct request_ctx *rc)
{
	if (rc->app->metrics == NULL) {
		api_error(rc, 503, "metrics_unavailable",
		    "metrics are not configured (server.metrics_file)");
		return;
	}
	buf_reset(rc->resp.body);
	metrics_render(rc->app->metrics, rc->app->routes, rc->app->nroutes,
	    rc->resp.body);
	rc->resp.status = 200;
	rc->resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
}
