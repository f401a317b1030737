/* metrics.h - Prometheus metrics summed across pre-forked processes.
 *
 * Every process owns one slot of a shared memory file (mmap MAP_SHARED) and
 * increments only its own slot, so recording costs a few relaxed atomic adds
 * and no system call.  GET /metrics, served by any process, sums every slot.
 * A slot is claimed by pid; a slot of a dead process is taken over with its
 * counts, so totals never go backwards (Prometheus counters must not).
 *
 * The file layout depends on the route table; a process that finds a file
 * of another layout replaces it with a new one (processes still mapping the
 * old one keep it until they exit).
 */
#ifndef GACP_HTTP_METRICS_H
#define GACP_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "http/request.h"

struct buf;
struct route;

/* Process-wide counters that are not per route.  Names and help texts are
 * in metrics.c; keep both lists in the same order. */
enum metrics_counter {
	MC_DB_ERRORS = 0,        /* gacp_db_errors_total */
	MC_REDIS_ERRORS,         /* gacp_redis_errors_total */
	MC_DB_RECONNECTS,        /* gacp_db_reconnects_total */
	MC_REDIS_RECONNECTS,     /* gacp_redis_reconnects_total */
	/* gacp_webhook_events_total{result=…} */
	MC_WEBHOOK_RECEIVED,
	MC_WEBHOOK_DUPLICATE,
	MC_WEBHOOK_IGNORED,      /* echo, delivery, read, standby */
	MC_WEBHOOK_REJECTED_SIGNATURE,
	MC_WEBHOOK_REJECTED_UNKNOWN_PAGE,
	MC_WEBHOOK_REJECTED_INVALID,
	MC_WEBHOOK_REJECTED_SUSPENDED,
	MC_WEBHOOK_STORE_FAILED,
	/* gacp_worker_events_total{result=…} */
	MC_WORKER_PROCESSED,
	MC_WORKER_FAILED,
	MC_WORKER_DEADLETTERED,
	MC_WORKER_DEFERRED,      /* waits behind a failed event of its conversation */
	/* gacp_queue_maintenance_total{action=…} */
	MC_QUEUE_TRIMMED,        /* acknowledged entries trimmed */
	MC_QUEUE_CONSUMERS_REAPED,
	/* gacp_send_api_calls_total{outcome=…} */
	MC_SEND_OK,
	MC_SEND_RETRY,
	MC_SEND_FAILED,
	MC_SEND_REAUTH,
	/* gacp_nlu_model_loads_total{result=…}: a process mapping a newly
	 * published model file, or refusing it (corrupt, unreadable). */
	MC_NLU_MODEL_LOADED,
	MC_NLU_MODEL_REFUSED,
	MC_COUNTER_COUNT
};

/* Histograms that are not per route.  Names, labels and buckets are in
 * metrics.c (hist_info); same order. */
enum metrics_histogram {
	/* gacp_nlu_parse_duration_seconds{source=…}: one NLU parse of a
	 * text, from model in hand to result (JSON rendering included). */
	MH_NLU_PARSE_API = 0,    /* POST /v1/nlu/parse, /model/parse */
	MH_NLU_PARSE_WORKER,     /* gacp-worker, Messenger events */
	MH_NLU_PARSE_REST,       /* REST channel, synchronous turn */
	/* gacp_worker_event_duration_seconds: one queued event, read to
	 * acknowledged (or failed). */
	MH_WORKER_EVENT,
	/* gacp_worker_stage_duration_seconds{stage=…}: where an event's time
	 * goes, webhook to acknowledgement, stage by stage (gacp-worker.c,
	 * struct event_times): */
	MH_STAGE_QUEUED,         /* stored by the webhook → read by a worker */
	MH_STAGE_WAITING,        /* read → its turn (behind its batch) */
	MH_STAGE_TURN,           /* NLU, flow and the turn's transaction */
	MH_STAGE_PACE,           /* Send API pacing (per-page token bucket) */
	MH_STAGE_CLAIM,          /* transaction claiming the reply */
	MH_STAGE_SEND_API,       /* the Send API call, retries included */
	MH_STAGE_FINISH,         /* transaction recording the outcome */
	MH_STAGE_ACK,            /* XACK */
	/* gacp_worker_event_latency_seconds: stored by the webhook →
	 * acknowledged by the worker (the reply sent, when there is one). */
	MH_WORKER_LATENCY,
	MH_HISTOGRAM_COUNT
};

struct metrics;

/* Open (create if needed) the shared file at path with room for nslots
 * processes and nroutes routes, and claim a slot for this process.
 * Returns NULL with err filled when the file cannot be used. */
struct metrics *metrics_open(const char *path, unsigned nslots,
    size_t nroutes, struct gacp_err *err);
void metrics_close(struct metrics *m);

/* Record one request.  route_index == nroutes means "no route matched"
 * (then method tells which).  duration in microseconds. */
void metrics_observe_request(struct metrics *m, size_t route_index,
    enum http_method method, int status, int64_t duration_us);
void metrics_counter_add(struct metrics *m, enum metrics_counter c,
    uint64_t n);
/* Record one observation (microseconds) in histogram h. */
void metrics_observe(struct metrics *m, enum metrics_histogram h,
    int64_t duration_us);

/* Render the Prometheus text exposition format (0.0.4) into out. */
void metrics_render(const struct metrics *m, const struct route *routes,
    size_t nroutes, struct buf *out);

/* Helpers for values read at scrape time (gauges), in the same format:
 * metrics_render_family() writes the HELP and TYPE lines of a family once;
 * metrics_render_sample() one sample, labels "" or `a="b",c="d"` (label
 * values must need no escaping: ids, fixed words). */
void metrics_render_family(struct buf *out, const char *name,
    const char *type, const char *help);
void metrics_render_sample(struct buf *out, const char *name,
    const char *labels, double value);

#endif
