/* health.c - liveness, readiness, version and metrics endpoints. */
#include "api/api.h"
#include "common/json.h"
#include "app/models.h"
#include "common/log.h"
#include "http/metrics.h"
#include "messenger/queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tenants described by gacp_nlu_active_model_version: one series each, so
 * a platform with thousands of tenants does not swamp Prometheus; the
 * count of all of them is gacp_nlu_active_models. */
#define METRICS_MAX_MODEL_SERIES 100

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

/* Queue gauges, read from Redis now: the queue is shared by every worker
 * host, so no process has it in its counters.  A handful of cheap
 * commands, each bounded by redis.timeout_ms; when Redis does not answer
 * gacp_queue_stats_up is 0 and the queue series are left out (an alert
 * on absent data beats a made-up zero). */
static void
render_queue(struct request_ctx *rc, struct buf *out)
{
	struct mxq_stats st;
	struct gacp_err err;
	int ok;

	gacp_err_clear(&err);
	ok = mxq_stats(&rc->app->cache, rc->arena, &st, &err) == GACP_OK;
	if (!ok)
		log_msg(LOG_WARN, "metrics_queue_unavailable", "%s: %s", err.code,
		    err.msg);
	metrics_render_family(out, "gacp_queue_stats_up", "gauge",
	    "1 when the queue gauges below were read from Redis in this scrape.");
	metrics_render_sample(out, "gacp_queue_stats_up", "", ok);
	if (!ok)
		return;
	metrics_render_family(out, "gacp_inbound_queue_length", "gauge",
	    "Entries in the gacp:inbound stream, handled or not (trimmed once "
	    "acknowledged).");
	metrics_render_sample(out, "gacp_inbound_queue_length", "",
	    (double)st.length);
	metrics_render_family(out, "gacp_inbound_queue_pending", "gauge",
	    "Events delivered to a worker and not yet acknowledged.");
	metrics_render_sample(out, "gacp_inbound_queue_pending", "",
	    (double)st.pending);
	metrics_render_family(out, "gacp_inbound_queue_undelivered", "gauge",
	    "Events no worker has read yet.");
	metrics_render_sample(out, "gacp_inbound_queue_undelivered", "",
	    (double)st.lag);
	metrics_render_family(out, "gacp_inbound_queue_oldest_age_seconds",
	    "gauge", "Age of the oldest event not yet acknowledged (pending or "
	    "undelivered); 0 when none waits.");
	metrics_render_sample(out, "gacp_inbound_queue_oldest_age_seconds", "",
	    (double)st.oldest_age_ms / 1000.0);
	metrics_render_family(out, "gacp_inbound_queue_consumers", "gauge",
	    "Consumers registered in the worker group (live and idle).");
	metrics_render_sample(out, "gacp_inbound_queue_consumers", "",
	    (double)st.consumers);
	metrics_render_family(out, "gacp_deadletter_queue_length", "gauge",
	    "Events in the gacp:deadletter stream (gacpctl deadletter list).");
	metrics_render_sample(out, "gacp_deadletter_queue_length", "",
	    (double)st.deadletter);
}

/* The model version each tenant serves, from the model directory (what
 * every process maps within nlu.model_check_ms of a publish). */
static void
render_models(struct request_ctx *rc, struct buf *out)
{
	struct models_active *act;
	size_t n, total, i;

	if (rc->app->models == NULL)
		return;
	act = models_scan_active(rc->app->models, METRICS_MAX_MODEL_SERIES, &n,
	    &total);
	metrics_render_family(out, "gacp_nlu_active_models", "gauge",
	    "Tenants with a published NLU model.");
	metrics_render_sample(out, "gacp_nlu_active_models", "", (double)total);
	metrics_render_family(out, "gacp_nlu_active_model_version", "gauge",
	    "Version of the NLU model published for a tenant (0: file matches "
	    "no version); the first 100 tenants by id.");
	for (i = 0; i < n; i++) {
		char labels[64];
		snprintf(labels, sizeof(labels), "tenant=\"%s\"", act[i].tenant_id);
		metrics_render_sample(out, "gacp_nlu_active_model_version", labels,
		    (double)act[i].version);
	}
	free(act);
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
	render_queue(rc, rc->resp.body);
	render_models(rc, rc->resp.body);
	rc->resp.status = 200;
	rc->resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
}
