/* gacp-worker.c - the message worker: queue → conversation → NLU → flow →
 * Send API → persist → XACK.
 *
 * Consumes the Redis Stream gacp:inbound in consumer group "workers"; any
 * number of worker processes (--processes N, or several hosts) share it.
 * An entry is acknowledged only after the inbound message, the bot's
 * reply and the send outcome are committed.  Entries of a worker that
 * died are reclaimed with XAUTOCLAIM once idle for worker.claim_idle_ms;
 * an entry delivered worker.max_deliveries (5) times goes to the
 * dead-letter stream with its error (moved and acked in one script).
 * A process runs the turns of its batch one at a time and then puts the
 * batch's replies on the wire at once (send_replies(), libcurl multi);
 * it reads and handles its next batch while they are in flight, up to
 * worker.max_inflight calls, recording each outcome as its call ends.
 * Events of one conversation are serialised by a row lock on the
 * conversation and handled in timestamp order within a batch; an event
 * that failed holds its conversation (queue.h, mxq_hold_*) so later
 * events wait behind it instead of overtaking it.  Every claim period
 * each worker trims acknowledged entries and removes dead consumers
 * (maintain()).  Processing is idempotent (unique mid, one reply per
 * inbound message), so a redelivered event changes nothing.
 */
#include "app/context.h"
#include "app/models.h"
#include "app/routes.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "flow/flow.h"
#include "http/metrics.h"
#include "messenger/channel.h"
#include "messenger/conversation_store.h"
#include "messenger/dialogue.h"
#include "messenger/queue.h"
#include "messenger/sendapi.h"
#include "messenger/store.h"
#include "nlu/parse.h"
#include "registry/agent.h"
#include "sysconfig/cache.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORKER_MAX_PROCESSES 32
/* With calls in flight the queue is read without blocking and the calls
 * are polled this long when nothing came: a new event waits at most this
 * much behind the answers of earlier ones. */
#define SEND_POLL_MS 2
#define WINDOW_24H_MS (24LL * 3600 * 1000)

static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Where one event's time went (µs), for the stage histograms and the
 * event_slow log line: a stall in the tail of the end-to-end latency is
 * otherwise invisible (the event histogram shows that it was slow, not
 * whether Redis, PostgreSQL, the pacing or Facebook made it so).  The
 * webhook's receive time and the worker's clock are wall clocks, so
 * "queued" assumes the hosts' clocks agree (NTP); the rest is measured
 * on this process's monotonic clock. */
struct event_times {
	int64_t queued, waiting, turn, nlu, pace, claim, send_api, finish, ack;
};
/* Stages an event never reached stay at -1 and are not observed. */
#define STAGE_ADD(t, field, us) \
	((t)->field = ((t)->field < 0 ? 0 : (t)->field) + (us))

struct send_job;
struct batch;

struct worker {
	struct gacp_ctx       app;
	struct models        *models;
	struct nlu_parser     parser;
	struct mx_send_client send;
	char                  consumer[96];
	int                   batch;
	int                   block_ms;
	long long             claim_idle_ms;
	long long             consumer_max_idle_ms;
	int                   max_deliveries;
	int                   pace_rate;
	const char           *handoff_intent;
	long long             slow_event_ms;  /* event_slow log line; 0: off */
	struct event_times   *cur;            /* of the event being handled */
	int                   max_inflight;   /* Send API calls on the wire */
	struct send_job      *inflight;       /* their replies */
	struct event         *parked;         /* waiting for their
	                                       * conversation's call, in order */
	int                   nparked;
	struct batch         *batches;        /* read and not yet finished */
	struct batch         *spare;          /* a finished one, for reuse */
};

/* A batch's memory: its entries, events, replies and calls live until
 * the last of its calls has ended, which may be after later batches were
 * read and handled. */
struct batch {
	struct arena  arena;
	size_t        pending;     /* its calls still in flight */
	bool          handled;     /* handle_batch() is through with it */
	struct batch *next;
};

/* One queued event, parsed. */
struct event {
	struct mxq_entry   *entry;
	struct json_object *json;
	const char *tenant_id, *channel_id, *page_id, *psid, *mid, *kind;
	const char *text, *payload;
	int64_t     timestamp_ms, received_us;
	struct json_object *attachments;
	/* Its handling in the batch (handle_batch). */
	const char *hold;           /* its conversation's hold key */
	int64_t     start_us;       /* monotonic, when its turn came */
	int64_t     read_wall, read_mono;   /* when its batch was read */
	size_t      position;       /* in the sorted batch */
	size_t      nev;            /* events in its batch */
	struct event_times times;
	/* Parked behind its conversation's reply on the wire (park()). */
	struct batch *batch;
	struct event *next_parked;
	int64_t       touched_us;   /* its entry's idle time last reset */
};

/* The event being sent, for keep_claim(). */
struct claim_ref {
	struct worker      *w;
	struct arena       *a;
	const struct event *ev;
};

/* A stored reply (pending) that waits for the batch's Send API calls
 * (send_replies()): a process sends the replies of its batch at once
 * instead of waiting for Facebook's answer to one person before it sends
 * the next person's. */
struct send_job {
	struct event       *ev;
	struct mxs_message  reply;
	char               *token;      /* once claimed: the page token,
	                                 * scrubbed once sent */
	struct claim_ref    ref;
	size_t              nev;        /* events in its batch */
	struct batch       *batch;      /* whose memory it lives in */
	struct mx_send_call call;       /* on the wire until reply_sent() */
	struct send_job    *next_inflight;
	int64_t             touched_us; /* its entry's idle time last reset */
	long                delay_ms;   /* until its pacing slot */
};

/* The replies of a batch still to send (each job allocated on its own,
 * so the list can grow while earlier jobs are on the wire). */
struct send_jobs {
	struct send_job **job;
	size_t            n, cap;
};

static void
put_json(void *p)
{
	json_object_put(p);
}

static int
event_parse(struct arena *a, struct mxq_entry *e, struct event *ev)
{
	struct json_object *j, *v;

	memset(ev, 0, sizeof(*ev));
	ev->entry = e;
	j = json_tokener_parse(e->payload);
	if (j == NULL || !json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		return -1;
	}
	arena_defer(a, put_json, j);
	ev->json = j;
	ev->tenant_id = json_get_str(j, "tenant_id");
	ev->channel_id = json_get_str(j, "channel_id");
	ev->page_id = json_get_str(j, "page_id");
	ev->psid = json_get_str(j, "psid");
	ev->mid = json_get_str(j, "mid");
	ev->kind = json_get_str(j, "kind");
	ev->text = json_get_str(j, "text");
	ev->payload = json_get_str(j, "payload");
	json_get_int64(j, "timestamp_ms", &ev->timestamp_ms);
	json_get_int64(j, "received_us", &ev->received_us);
	if (json_object_object_get_ex(j, "attachments", &v))
		ev->attachments = v;
	if (ev->tenant_id == NULL || !util_uuid_valid(ev->tenant_id) ||
	    ev->channel_id == NULL || !util_uuid_valid(ev->channel_id) ||
	    ev->psid == NULL || ev->mid == NULL || ev->kind == NULL)
		return -1;
	return 0;
}

static int
by_timestamp(const void *x, const void *y)
{
	const struct event *a = x, *b = y;
	return (a->timestamp_ms > b->timestamp_ms) -
	    (a->timestamp_ms < b->timestamp_ms);
}

static char *
error_json(struct arena *a, const struct mx_send_result *r, const char *reason)
{
	struct buf b;
	char *s;

	buf_init(&b);
	buf_printf(&b, "{\"reason\":\"%s\",\"http_status\":%ld,\"code\":%d,"
	    "\"subcode\":%d,\"attempts\":%d,\"message\":", reason,
	    r->http_status, r->graph_code, r->graph_subcode, r->attempts);
	buf_json_str(&b, r->error);
	buf_putc(&b, '}');
	s = arena_strndup(a, b.data, b.len);
	buf_cleanup(&b);
	return s;
}

static int
finish_reply(struct worker *w, struct arena *a, const struct event *ev,
    const struct mxs_message *reply, const char *status, const char *err_json,
    long latency_ms, bool reauth, struct gacp_err *err)
{
	struct db *db = &w->app.db;
	int64_t t0 = util_mono_us();
	int rc;

	if ((rc = db_begin(db, a, ev->tenant_id, err)) != GACP_OK)
		goto out;
	rc = mxs_reply_finish(db, a, ev->tenant_id, reply, status, err_json,
	    latency_ms, err);
	if (rc == GACP_OK && reauth) {
		PGresult *res;
		const char *p[3] = { ev->tenant_id, ev->channel_id, err_json };
		rc = mxs_channel_mark_reauth(db, a, ev->tenant_id,
		    ev->channel_id, err_json, err);
		/* A revoked page token is a security event. */
		if (rc == GACP_OK)
			rc = db_exec(db, a, "INSERT INTO audit_log (tenant_id, "
			    "actor_type, action, outcome, resource_type, "
			    "resource_id, details) VALUES ($1, 'system', "
			    "'channel.needs_reauth', 'failure', 'channel', $2, "
			    "$3::jsonb)", 3, p, &res, err);
	}
	if (rc == GACP_OK)
		rc = db_commit(db, a, err);
	else
		db_rollback(db, a);
out:
	STAGE_ADD(w->cur, finish, util_mono_us() - t0);
	return rc;
}

/* Before each Send API retry: reset the entry's idle time while this
 * consumer still owns it, so a slow retry sequence is not mistaken for a
 * dead worker and handed to another one (which would find the reply
 * 'sending' and record it delivery_unknown).  Non-zero stops retrying
 * when another consumer took the entry already. */
static int
keep_claim(void *arg)
{
	struct claim_ref *ref = arg;
	struct gacp_err err;
	int owned = 1;

	gacp_err_clear(&err);
	if (ref->ev->entry == NULL)
		return 0;
	if (mxq_touch(&ref->w->app.cache, ref->a, ref->w->consumer,
	    ref->ev->entry->id, &owned, &err) != GACP_OK)
		return 0;           /* Redis hiccup: go on, the claim may hold */
	if (!owned)
		log_msg(LOG_WARN, "event_claim_lost", "entry %s: another "
		    "worker took it during Send API retries", ref->ev->entry->id);
	return owned ? 0 : 1;
}

/* A stored reply to send: into the batch's list (send_replies()). */
static int
reply_queue(struct arena *a, struct event *ev, const struct mxs_message *reply,
    struct send_jobs *jobs)
{
	struct send_job *job;

	if (jobs->n == jobs->cap) {
		struct send_job **grown;

		jobs->cap = jobs->cap ? 2 * jobs->cap : 8;
		grown = arena_calloc(a, jobs->cap, sizeof(*grown));
		if (jobs->n > 0)
			memcpy(grown, jobs->job, jobs->n * sizeof(*grown));
		jobs->job = grown;
	}
	job = arena_calloc(a, 1, sizeof(*job));
	jobs->job[jobs->n++] = job;
	job->ev = ev;
	job->reply = *reply;
	return GACP_OK;
}

/* Claim a reply for sending, right before the batch's calls: a pacing
 * slot (job->delay_ms: the call starts then; the reply is 'sending'
 * meanwhile, so a process killed in that wait records it
 * delivery_unknown although it never left), then one transaction that
 * reads the channel and marks the reply 'sending'.  Returns 0 with
 * job->token set once claimed, 0 without it once the reply's final
 * status is committed (channel gone, outside the window) or it is no
 * longer pending, or an error to retry the whole event later (the reply
 * stays pending). */
static int
deliver_claim(struct worker *w, struct arena *a, struct send_job *job,
    struct gacp_err *err)
{
	struct event *ev = job->ev;
	const struct mxs_message *reply = &job->reply;
	struct db *db = &w->app.db;
	const char *status = NULL, *token_enc = NULL;
	struct mx_send_result res;
	char *token = NULL;
	long wait_ms = 0;
	struct event_times *t = w->cur;
	bool claimed = false;
	int64_t t0 = util_mono_us();
	int rc;

	/* The page's pacing slot (reserved in the bucket): the call waits
	 * for it on the multi handle (start_delay_ms), not the process, so a
	 * page at its rate does not hold up other pages' replies. */
	if (mxq_pace(&w->app.cache, a, ev->tenant_id, ev->page_id ? ev->page_id :
	    ev->channel_id, w->pace_rate, w->pace_rate, &wait_ms, err) != GACP_OK) {
		wait_ms = 0;        /* Redis hiccup: unpaced rather than stuck */
		gacp_err_clear(err);
	}
	job->delay_ms = wait_ms > 0 ? wait_ms : 0;
	STAGE_ADD(t, pace, util_mono_us() - t0 + 1000LL * job->delay_ms);
	t0 = util_mono_us();
	/* One transaction reads the channel and claims the reply: the claim
	 * ('sending') is committed before the call, so if this process dies
	 * while the call is on the wire, whoever reclaims the event finds
	 * 'sending' and does not send a second copy (see reply_in_doubt()). */
	if ((rc = db_begin(db, a, ev->tenant_id, err)) != GACP_OK)
		return rc;
	rc = mxs_channel_send_info(db, a, ev->tenant_id, ev->channel_id, &status,
	    &token_enc, err);
	if (rc == GACP_ENOTFOUND || (rc == GACP_OK && strcmp(status, "active") != 0)) {
		db_rollback(db, a);
		memset(&res, 0, sizeof(res));
		snprintf(res.error, sizeof(res.error), "channel is %s",
		    rc == GACP_OK ? status : "removed");
		metrics_counter_add(w->app.metrics, MC_SEND_FAILED, 1);
		return finish_reply(w, a, ev, reply, "failed",
		    error_json(a, &res, "channel_unavailable"), 0, false, err);
	}
	if (rc != GACP_OK) {
		db_rollback(db, a);
		return rc;
	}
	/* Messenger's standard messaging window: a RESPONSE may only answer
	 * within 24 hours of the person's message. */
	if (util_wall_us() / 1000 - ev->timestamp_ms > WINDOW_24H_MS) {
		db_rollback(db, a);
		memset(&res, 0, sizeof(res));
		snprintf(res.error, sizeof(res.error), "older than 24 hours");
		return finish_reply(w, a, ev, reply, "skipped",
		    error_json(a, &res, "outside_window"), 0, false, err);
	}
	if ((rc = mx_channel_open(w->app.master_keys, a, ev->tenant_id,
	    ev->channel_id, "page_access_token", token_enc, &token, err)) != GACP_OK) {
		db_rollback(db, a);
		return rc;
	}
	rc = mxs_reply_mark_sending(db, a, ev->tenant_id, reply, &claimed, err);
	if (rc == GACP_OK)
		rc = db_commit(db, a, err);
	else
		db_rollback(db, a);
	STAGE_ADD(t, claim, util_mono_us() - t0);
	if (rc != GACP_OK || !claimed) {
		/* Not claimed: no longer pending, someone else has it. */
		explicit_bzero(token, strlen(token));
		return rc;
	}
	job->token = token;
	job->ref.w = w;
	job->ref.a = a;
	job->ref.ev = ev;
	return GACP_OK;
}

/* The quick replies stored with a reply (arena). */
static struct mx_quick_reply *
reply_quick_replies(struct arena *a, const struct mxs_message *reply,
    size_t *nqr)
{
	struct json_object *payload, *qr_json = NULL;
	struct mx_quick_reply *qr = NULL;
	size_t i;

	*nqr = 0;
	payload = json_tokener_parse(reply->payload_json ? reply->payload_json : "{}");
	arena_defer(a, put_json, payload);
	if (payload != NULL && json_object_object_get_ex(payload, "quick_replies",
	    &qr_json) && json_object_is_type(qr_json, json_type_array)) {
		*nqr = json_object_array_length(qr_json);
		qr = arena_calloc(a, *nqr ? *nqr : 1, sizeof(*qr));
		for (i = 0; i < *nqr; i++) {
			struct json_object *q = json_object_array_get_idx(qr_json, i);
			qr[i].title = json_get_str(q, "title");
			qr[i].payload = json_get_str(q, "payload");
			if (qr[i].title == NULL || qr[i].payload == NULL)
				*nqr = i;
		}
	}
	return qr;
}

/* Put a claimed reply back to pending (not sent): the event's retry
 * sends it.  If this update fails the reply stays 'sending' and is
 * reported, never doubled. */
static void
reply_unsend(struct worker *w, struct arena *a, const struct event *ev,
    const struct mxs_message *reply, struct gacp_err *err)
{
	struct db *db = &w->app.db;

	if (db_begin(db, a, ev->tenant_id, err) == GACP_OK) {
		if (mxs_reply_unsend(db, a, ev->tenant_id, reply, err) == GACP_OK)
			db_commit(db, a, err);
		else
			db_rollback(db, a);
	}
}

/* Record what the Send API made of a claimed reply; returns 0 once its
 * final status is committed, or an error to retry the whole event later
 * (the reply pending again). */
static int
deliver_outcome(struct worker *w, struct arena *a, const struct send_job *job,
    const struct mx_send_call *call, struct gacp_err *err)
{
	const struct event *ev = job->ev;
	const struct mx_send_result *res = &call->res;
	long latency_ms = ev->received_us > 0 ?
	    (long)((util_wall_us() - ev->received_us) / 1000) : 0;

	if (call->stopped && res->attempts == 0) {
		reply_unsend(w, a, ev, &job->reply, err);
		return gacp_err_set(err, GACP_EUNAVAIL, "claim_lost",
		    "another worker took the event before it was sent");
	}
	switch (res->outcome) {
	case MX_SEND_OK:
		metrics_counter_add(w->app.metrics, MC_SEND_OK, 1);
		return finish_reply(w, a, ev, &job->reply, "sent", NULL,
		    latency_ms, false, err);
	case MX_SEND_REAUTH:
		metrics_counter_add(w->app.metrics, MC_SEND_REAUTH, 1);
		log_msg(LOG_ERROR, "page_token_invalid", "tenant %s channel %s: "
		    "Graph code 190; channel marked needs_reauth", ev->tenant_id,
		    ev->channel_id);
		return finish_reply(w, a, ev, &job->reply, "failed",
		    error_json(a, res, "token_invalid"), 0, true, err);
	case MX_SEND_FAILED:
		metrics_counter_add(w->app.metrics, MC_SEND_FAILED, 1);
		return finish_reply(w, a, ev, &job->reply, "failed",
		    error_json(a, res, "permanent_error"), 0, false, err);
	case MX_SEND_RETRY:
	default:
		metrics_counter_add(w->app.metrics, MC_SEND_RETRY, 1);
		/* Not delivered (5xx, 429, throttling codes): pending again,
		 * so the retry of the event sends it. */
		reply_unsend(w, a, ev, &job->reply, err);
		return gacp_err_set(err, GACP_EUNAVAIL, "send_unavailable",
		    "Send API kept failing (HTTP %ld, code %d): %s",
		    res->http_status, res->graph_code, res->error);
	}
}

/* A reply found 'sending' when its event is processed again: the worker
 * that marked it died during the Send API call, and nothing tells whether
 * Facebook delivered it.  Sending again could make the person read it
 * twice; the reply is recorded as failed, reason delivery_unknown
 * (at most once, and visible to operators) instead. */
static int
reply_in_doubt(struct worker *w, struct arena *a, const struct event *ev,
    const struct mxs_message *reply, struct gacp_err *err)
{
	struct mx_send_result res;

	memset(&res, 0, sizeof(res));
	snprintf(res.error, sizeof(res.error), "the worker sending it stopped "
	    "during the Send API call; not sent again");
	log_msg(LOG_WARN, "reply_delivery_unknown", "tenant %s message %s",
	    ev->tenant_id, reply->id);
	metrics_counter_add(w->app.metrics, MC_SEND_FAILED, 1);
	return finish_reply(w, a, ev, reply, "failed",
	    error_json(a, &res, "delivery_unknown"), 0, false, err);
}

/* An agent's reply queued by POST /v1/conversations/{id}/messages (kind
 * "agent_reply", committed before it was queued): claimed and sent like
 * a bot reply while it is still pending; a message that is gone or final
 * needs nothing more. */
static int
deliver_agent_reply(struct worker *w, struct arena *a, struct event *ev,
    struct send_jobs *jobs, struct gacp_err *err)
{
	struct mxs_message msg;
	const char *message_id = json_get_str(ev->json, "message_id");
	int64_t created_us = 0;
	int rc;

	if (message_id == NULL || !util_uuid_valid(message_id) ||
	    !json_get_int64(ev->json, "message_created_us", &created_us))
		return gacp_err_set(err, GACP_EINVAL, "event_malformed",
		    "agent reply without message_id/message_created_us");
	if ((rc = db_begin(&w->app.db, a, ev->tenant_id, err)) != GACP_OK)
		return rc;
	rc = conversation_store_outbound(&w->app.db, a, ev->tenant_id,
	    message_id, created_us, &msg, err);
	db_rollback(&w->app.db, a);
	if (rc == GACP_ENOTFOUND)
		return GACP_OK;
	if (rc != GACP_OK)
		return rc;
	if (strcmp(msg.status, "sending") == 0)
		return reply_in_doubt(w, a, ev, &msg, err);
	if (strcmp(msg.status, "pending") != 0)
		return GACP_OK;
	return reply_queue(a, ev, &msg, jobs);
}

/* One event up to its stored reply, which is left in jobs for the
 * batch's Send API calls. */
static int
process(struct worker *w, struct arena *a, struct event *ev,
    struct send_jobs *jobs, struct gacp_err *err)
{
	struct mx_dialogue d;
	struct mx_inbound in;
	struct mxs_message reply;
	int64_t t0;
	int rc;

	if (strcmp(ev->kind, "agent_reply") == 0)
		return deliver_agent_reply(w, a, ev, jobs, err);
	d.db = &w->app.db;
	d.models = w->models;
	d.parser = &w->parser;
	/* A tenant may name its own handoff intent in its system
	 * configuration (or the platform for everyone); gacp.conf's
	 * flow.handoff_intent is the default.  Read through the cache. */
	d.handoff_intent = syscfg_get_str(&w->app, a, ev->tenant_id,
	    config_get(&w->app.cfg, "config.environment", "production"),
	    "flow.handoff_intent", w->handoff_intent);
	d.metrics = w->app.metrics;
	d.parse_hist = MH_NLU_PARSE_WORKER;
	memset(&in, 0, sizeof(in));
	in.tenant_id = ev->tenant_id;
	in.channel_id = ev->channel_id;
	in.psid = ev->psid;
	in.mid = ev->mid;
	in.kind = ev->kind;
	in.text = ev->text;
	in.payload = ev->payload;
	in.timestamp_ms = ev->timestamp_ms;
	in.attachments = ev->attachments;
	t0 = util_mono_us();
	rc = mx_dialogue_turn(&d, a, &in, &reply, err);
	STAGE_ADD(w->cur, turn, util_mono_us() - t0);
	STAGE_ADD(w->cur, nlu, d.parse_us);
	if (rc != GACP_OK)
		return rc;
	/* pending: just created, or redelivered after a send that did not
	 * complete; anything else is final (or the bot stays silent). */
	if (reply.id != NULL && strcmp(reply.status, "pending") == 0)
		return reply_queue(a, ev, &reply, jobs);
	if (reply.id != NULL && strcmp(reply.status, "sending") == 0)
		return reply_in_doubt(w, a, ev, &reply, err);
	return GACP_OK;
}

static double
stage_ms(int64_t us)
{
	return us < 0 ? 0.0 : (double)us / 1000.0;
}

/* Stage histograms of one event and, for a handled event that took
 * slow_event_ms or more from the webhook to its acknowledgement, one
 * event_slow line saying where the time went. */
static void
record_times(struct worker *w, const struct event *ev,
    const struct event_times *t, size_t position, size_t batch, bool handled)
{
	static const enum metrics_histogram hist[] = {
		MH_STAGE_QUEUED, MH_STAGE_WAITING, MH_STAGE_TURN, MH_STAGE_PACE,
		MH_STAGE_CLAIM, MH_STAGE_SEND_API, MH_STAGE_FINISH, MH_STAGE_ACK,
	};
	const int64_t us[] = {
		t->queued, t->waiting, t->turn, t->pace, t->claim, t->send_api,
		t->finish, t->ack,
	};
	int64_t latency;
	size_t i;

	_Static_assert(sizeof(hist) / sizeof(hist[0]) ==
	    sizeof(us) / sizeof(us[0]), "one histogram per stage");
	for (i = 0; i < sizeof(us) / sizeof(us[0]); i++)
		if (us[i] >= 0)
			metrics_observe(w->app.metrics, hist[i], us[i]);
	if (!handled || ev->received_us <= 0)
		return;
	latency = util_wall_us() - ev->received_us;
	if (latency < 0)
		latency = 0;
	metrics_observe(w->app.metrics, MH_WORKER_LATENCY, latency);
	if (w->slow_event_ms <= 0 || latency < w->slow_event_ms * 1000)
		return;
	log_msg(LOG_WARN, "event_slow", "entry %s tenant %s delivery %lld: "
	    "%.1f ms from webhook to acknowledged: queued %.1f, waiting %.1f "
	    "(position %zu of %zu), turn %.1f (nlu %.1f), pace %.1f, claim "
	    "%.1f, send_api %.1f, finish %.1f, ack %.1f ms", ev->entry->id,
	    ev->tenant_id, ev->entry->deliveries, (double)latency / 1000.0,
	    stage_ms(t->queued), stage_ms(t->waiting), position + 1, batch,
	    stage_ms(t->turn), stage_ms(t->nlu), stage_ms(t->pace),
	    stage_ms(t->claim), stage_ms(t->send_api), stage_ms(t->finish),
	    stage_ms(t->ack));
}

/* After an event was handled (rc, err): acknowledge it; or leave it
 * pending for its retry, holding its conversation; or, at the last
 * delivery, dead-letter it. */
static void
event_done(struct worker *w, struct arena *a, struct event *ev, size_t nev,
    int rc, struct gacp_err *err)
{
	struct event_times *t = &ev->times;

	if (rc == GACP_OK) {
		int64_t t_ack = util_mono_us();
		bool acked = mxq_ack(&w->app.cache, a, ev->entry->id,
		    err) == GACP_OK;

		t->ack = util_mono_us() - t_ack;
		if (acked)
			metrics_counter_add(w->app.metrics, MC_WORKER_PROCESSED, 1);
		record_times(w, ev, t, ev->position, nev, acked);
		/* Only a redelivered event can hold its conversation. */
		if (ev->entry->deliveries > 1)
			mxq_hold_release(&w->app.cache, a, ev->hold,
			    ev->entry->id, err);
		metrics_observe(w->app.metrics, MH_WORKER_EVENT,
		    util_mono_us() - ev->start_us);
		return;
	}
	metrics_observe(w->app.metrics, MH_WORKER_EVENT,
	    util_mono_us() - ev->start_us);
	record_times(w, ev, t, ev->position, nev, false);
	metrics_counter_add(w->app.metrics, MC_WORKER_FAILED, 1);
	log_msg(LOG_WARN, "event_failed", "entry %s (delivery %lld): %s: %s",
	    ev->entry->id, ev->entry->deliveries, err->code, err->msg);
	if (ev->entry->deliveries >= w->max_deliveries) {
		char *why = arena_sprintf(a, "%s: %s", err->code, err->msg);
		gacp_err_clear(err);
		if (mxq_deadletter(&w->app.cache, a, ev->entry, why,
		    err) == GACP_OK)
			metrics_counter_add(w->app.metrics,
			    MC_WORKER_DEADLETTERED, 1);
		/* Given up on: the conversation goes on without it. */
		mxq_hold_release(&w->app.cache, a, ev->hold, ev->entry->id, err);
		return;
	}
	/* Left pending: XAUTOCLAIM hands it out again after claim_idle_ms.
	 * Until then later events of the conversation wait; the hold
	 * outlives every retry, and expires if this event is lost some
	 * other way. */
	gacp_err_clear(err);
	if (mxq_hold_set(&w->app.cache, a, ev->hold, ev->timestamp_ms,
	    ev->entry->id, w->claim_idle_ms * (w->max_deliveries + 2),
	    err) != GACP_OK)
		log_msg(LOG_WARN, "hold_failed", "entry %s: %s: %s",
		    ev->entry->id, err->code, err->msg);
}

/* One reply's call has its result (mx_send_many's on_done, while the
 * batch's other calls may still be on the wire): record the outcome and
 * finish its event now, so a call that keeps failing does not hold back
 * the others' acknowledgements. */
static void
reply_sent(struct mx_send_call *call, void *arg)
{
	struct send_job *job = arg;
	struct worker *w = job->ref.w;
	struct arena *a = job->ref.a;
	struct event *ev = job->ev;
	struct gacp_err err;

	struct send_job **pp;

	w->cur = &ev->times;
	STAGE_ADD(w->cur, send_api, call->elapsed_us);
	explicit_bzero(job->token, strlen(job->token));
	gacp_err_clear(&err);
	event_done(w, a, ev, job->nev, deliver_outcome(w, a, job, call, &err),
	    &err);
	for (pp = &w->inflight; *pp != NULL; pp = &(*pp)->next_inflight)
		if (*pp == job) {
			*pp = job->next_inflight;
			break;
		}
	job->batch->pending--;
}

/* The batch's replies: each claimed (one short transaction each, so the
 * first claim is not held while the others' turns run), then put on the
 * wire (mx_send_start) without waiting for Facebook's answer; each
 * outcome is recorded and its event finished as its call ends
 * (reply_sent(), from mx_send_poll()), while the process goes on with
 * its next batch.  A process killed during the calls leaves every reply
 * on the wire 'sending' (at most worker.max_inflight): the retry records
 * each delivery_unknown rather than risk sending it twice. */
static void
send_replies(struct worker *w, struct batch *b, struct send_jobs *jobs,
    size_t nev)
{
	struct arena *a = &b->arena;
	struct mx_send_call lost;
	struct gacp_err err;
	size_t k;
	int rc;

	for (k = 0; k < jobs->n; k++) {
		struct send_job *job = jobs->job[k];
		struct mx_send_call *call = &job->call;
		struct event *ev = job->ev;
		struct mx_quick_reply *qr;
		size_t nqr;
		char *body;

		w->cur = &ev->times;
		job->ref.w = w;
		job->ref.a = a;
		job->ref.ev = ev;
		job->nev = nev;
		gacp_err_clear(&err);
		if ((rc = deliver_claim(w, a, job, &err)) != GACP_OK ||
		    job->token == NULL) {
			event_done(w, a, ev, nev, rc, &err);
			continue;
		}
		/* Pacing and the batch's other claims took time: still ours? */
		if (keep_claim(&job->ref) != 0) {
			explicit_bzero(job->token, strlen(job->token));
			memset(&lost, 0, sizeof(lost));
			lost.stopped = 1;
			gacp_err_clear(&err);
			event_done(w, a, ev, nev, deliver_outcome(w, a, job, &lost,
			    &err), &err);
			continue;
		}
		memset(call, 0, sizeof(*call));
		qr = reply_quick_replies(a, &job->reply, &nqr);
		body = mx_send_text_body(ev->psid, job->reply.text ?
		    job->reply.text : "", qr, nqr);
		call->body = arena_strdup(a, body);
		free(body);
		/* Slow answer: the typing indicator first. */
		if (ev->received_us > 0 &&
		    util_wall_us() - ev->received_us > 1000000) {
			char *typing = mx_send_action_body(ev->psid, "typing_on");

			call->first_body = arena_strdup(a, typing);
			free(typing);
		}
		call->access_token = job->token;
		call->start_delay_ms = job->delay_ms;
		call->before_next = keep_claim;
		call->before_next_arg = &job->ref;
		call->on_done = reply_sent;
		call->on_done_arg = job;
		job->batch = b;
		b->pending++;
		job->touched_us = util_mono_us();
		job->next_inflight = w->inflight;
		w->inflight = job;
		(void)mx_send_start(&w->send, call);
	}
	jobs->n = 0;
}

static bool
same_conversation(const struct event *x, const struct event *y)
{
	return strcmp(x->tenant_id, y->tenant_id) == 0 &&
	    strcmp(x->channel_id, y->channel_id) == 0 &&
	    strcmp(x->psid, y->psid) == 0;
}

/* Is a reply of ev's conversation on the wire? */
static bool
conversation_in_flight(const struct worker *w, const struct event *ev)
{
	const struct send_job *job;

	for (job = w->inflight; job != NULL; job = job->next_inflight)
		if (same_conversation(job->ev, ev))
			return true;
	return false;
}

/* One event's turn, up to its reply queued in jobs (or its end: no
 * reply, failed, deferred behind a failed event of its conversation). */
static void
turn_event(struct worker *w, struct batch *b, struct event *ev,
    struct send_jobs *jobs)
{
	struct arena *a = &b->arena;
	struct event_times *t = &ev->times;
	struct gacp_err err;
	int held = 0, rc;

	ev->hold = mxq_hold_key(a, ev->tenant_id, ev->channel_id, ev->psid);
	ev->start_us = util_mono_us();
	w->cur = t;
	memset(t, 0xff, sizeof(*t));        /* every stage -1 */
	t->queued = ev->received_us > 0 ? ev->read_wall - ev->received_us : -1;
	if (ev->received_us > 0 && t->queued < 0)
		t->queued = 0;              /* clocks of two hosts */
	t->waiting = ev->start_us - ev->read_mono;
	gacp_err_clear(&err);
	/* Conversation order: an earlier event of this conversation failed
	 * and waits for its retry; this one waits behind it (pending, handed
	 * out again with it after claim_idle_ms).  Without Redis nothing can
	 * be acknowledged anyway. */
	if (mxq_hold_check(&w->app.cache, a, ev->hold, ev->timestamp_ms,
	    ev->entry->id, &held, &err) != GACP_OK || held) {
		if (held) {
			metrics_counter_add(w->app.metrics, MC_WORKER_DEFERRED, 1);
			log_msg(LOG_INFO, "event_deferred", "entry %s waits "
			    "behind a failed event of its conversation",
			    ev->entry->id);
			gacp_err_clear(&err);
			mxq_defer(&w->app.cache, a, w->consumer, ev->entry, &err);
		}
		return;
	}
	rc = process(w, a, ev, jobs, &err);
	if (rc == GACP_OK && jobs->n > 0 && jobs->job[jobs->n - 1]->ev == ev)
		return;         /* queued: send_replies() finishes it */
	event_done(w, a, ev, ev->nev, rc, &err);
}

/* Is an event of ev's conversation parked ahead of stop (the whole list
 * when stop is NULL)? */
static bool
conversation_parked(const struct worker *w, const struct event *ev,
    const struct event *stop)
{
	const struct event *p;

	for (p = w->parked; p != NULL && p != stop; p = p->next_parked)
		if (same_conversation(p, ev))
			return true;
	return false;
}

/* Set ev aside until its conversation's reply on the wire has its
 * outcome (run_parked()): the process goes on with other people's
 * events meanwhile.  Its batch stays alive for it. */
static void
park(struct worker *w, struct batch *b, struct event *ev)
{
	struct event **pp = &w->parked;

	while (*pp != NULL)
		pp = &(*pp)->next_parked;
	ev->batch = b;
	ev->next_parked = NULL;
	ev->touched_us = util_mono_us();
	*pp = ev;
	w->nparked++;
	b->pending++;
}

/* A call can stay on the wire longer than worker.claim_idle_ms (a slow
 * answer; its retries reset the idle time themselves, keep_claim()):
 * every quarter of that period the entries of the calls in flight are
 * touched, so no other worker takes one for a dead worker's and records
 * its reply delivery_unknown while it is being sent. */
static void
touch_inflight(struct worker *w)
{
	int64_t now = util_mono_us();
	struct send_job *job;

	for (job = w->inflight; job != NULL; job = job->next_inflight) {
		if (now - job->touched_us < w->claim_idle_ms * 250)
			continue;
		job->touched_us = now;
		(void)keep_claim(&job->ref);
	}
}

/* Does this consumer still own the parked event's entry?  Resets its
 * idle time if so, so a long wait is not taken for a dead worker. */
static bool
parked_owned(struct worker *w, struct event *ev)
{
	struct gacp_err err;
	int owned = 1;

	gacp_err_clear(&err);
	ev->touched_us = util_mono_us();
	if (mxq_touch(&w->app.cache, &ev->batch->arena, w->consumer,
	    ev->entry->id, &owned, &err) != GACP_OK)
		return true;        /* Redis hiccup: the claim may hold */
	return owned != 0;
}

/* The parked events whose conversation has nothing on the wire any more
 * and no earlier event parked: their turns now, in the order parked.
 * One that waits on has its entry's idle time reset every quarter of
 * worker.claim_idle_ms; one whose entry another worker took meanwhile
 * is dropped (that worker handles it). */
static void
run_parked(struct worker *w)
{
	struct event **pp = &w->parked, *ev;
	int64_t now = util_mono_us();

	while ((ev = *pp) != NULL) {
		struct send_jobs jobs = { NULL, 0, 0 };
		struct batch *b = ev->batch;
		bool wait = conversation_in_flight(w, ev) ||
		    conversation_parked(w, ev, ev);

		if (wait && now - ev->touched_us < w->claim_idle_ms * 250) {
			pp = &ev->next_parked;
			continue;
		}
		if (!parked_owned(w, ev)) {
			log_msg(LOG_WARN, "event_claim_lost", "entry %s: another "
			    "worker took it while it waited for its "
			    "conversation's reply", ev->entry->id);
			*pp = ev->next_parked;
			w->nparked--;
			b->pending--;
			continue;
		}
		if (wait) {
			pp = &ev->next_parked;
			continue;
		}
		*pp = ev->next_parked;
		w->nparked--;
		turn_event(w, b, ev, &jobs);
		send_replies(w, b, &jobs, ev->nev);
		b->pending--;
	}
}

/* One batch: each event's turn in timestamp order (the database work is
 * one event at a time on this process's connection), then every reply
 * put on the wire at once (send_replies()).  An event of a conversation
 * whose reply is still to be sent (queued in this batch, or on the wire
 * from an earlier one) is parked until that reply has its outcome, so one
 * person's replies leave in order and its turn sees the first one's
 * outcome, while other people's events go on. */
static void
handle_batch(struct worker *w, struct batch *b, struct mxq_entry *entries,
    size_t n)
{
	int64_t read_wall = util_wall_us(), read_mono = util_mono_us();
	struct arena *a = &b->arena;
	struct event *evs = arena_calloc(a, n ? n : 1, sizeof(*evs));
	struct send_jobs jobs = { NULL, 0, 0 };
	size_t i, k, nev = 0;
	struct gacp_err err;

	for (i = 0; i < n; i++) {
		if (event_parse(a, &entries[i], &evs[nev]) != 0) {
			log_msg(LOG_ERROR, "event_malformed", "entry %s", entries[i].id);
			gacp_err_clear(&err);
			if (mxq_deadletter(&w->app.cache, a, &entries[i],
			    "malformed event", &err) == GACP_OK)
				metrics_counter_add(w->app.metrics,
				    MC_WORKER_DEADLETTERED, 1);
			continue;
		}
		nev++;
	}
	qsort(evs, nev, sizeof(*evs), by_timestamp);
	for (i = 0; i < nev && !stop_requested; i++) {
		struct event *ev = &evs[i];

		ev->read_wall = read_wall;
		ev->read_mono = read_mono;
		ev->position = i;
		ev->nev = nev;
		/* Earlier calls' answers, so their acknowledgements do not
		 * wait for this batch's turns. */
		mx_send_poll(&w->send, 0);
		for (k = 0; k < jobs.n; k++)
			if (same_conversation(jobs.job[k]->ev, ev))
				break;
		if (k < jobs.n)
			send_replies(w, b, &jobs, nev);
		if (conversation_in_flight(w, ev) ||
		    conversation_parked(w, ev, NULL)) {
			park(w, b, ev);
			continue;
		}
		turn_event(w, b, ev, &jobs);
	}
	/* Even when stopping: the batch's turns are committed, and their
	 * replies are due now. */
	send_replies(w, b, &jobs, nev);
}

/* Upkeep of the stream and its group, every claim period by every worker
 * (each run is one cheap script; running it twice is harmless). */
static void
maintain(struct worker *w, struct arena *a)
{
	struct gacp_err err;
	long long n = 0;

	gacp_err_clear(&err);
	if (mxq_trim(&w->app.cache, a, &n, &err) == GACP_OK)
		metrics_counter_add(w->app.metrics, MC_QUEUE_TRIMMED, (uint64_t)n);
	else
		log_msg(LOG_WARN, "queue_trim_failed", "%s: %s", err.code, err.msg);
	n = 0;
	gacp_err_clear(&err);
	if (mxq_reap_consumers(&w->app.cache, a, w->consumer,
	    w->consumer_max_idle_ms, &n, &err) != GACP_OK)
		log_msg(LOG_WARN, "consumer_reap_failed", "%s: %s", err.code,
		    err.msg);
	else if (n > 0) {
		metrics_counter_add(w->app.metrics, MC_QUEUE_CONSUMERS_REAPED,
		    (uint64_t)n);
		log_msg(LOG_INFO, "consumers_removed", "%lld idle consumer(s) "
		    "without pending entries removed", n);
	}
}

/* A batch to read into: the spare one if there is one. */
static struct batch *
batch_new(struct worker *w)
{
	struct batch *b = w->spare;

	if (b != NULL) {
		w->spare = NULL;
	} else {
		b = xcalloc(1, sizeof(*b));
		arena_init(&b->arena, 64 * 1024);
	}
	b->pending = 0;
	b->handled = false;
	b->next = w->batches;
	w->batches = b;
	return b;
}

/* Free the batches whose calls have all ended (keeping one to reuse). */
static void
batches_sweep(struct worker *w)
{
	struct batch **pp = &w->batches, *b;

	while ((b = *pp) != NULL) {
		if (!b->handled || b->pending > 0) {
			pp = &b->next;
			continue;
		}
		*pp = b->next;
		arena_reset(&b->arena);
		if (w->spare == NULL) {
			w->spare = b;
		} else {
			arena_cleanup(&b->arena);
			free(b);
		}
	}
}

/* How many events the next batch may take: at most max_inflight calls
 * on the wire, and each event (parked ones included) has at most one
 * reply, so a crash leaves at most that many in doubt. */
static int
room_left(const struct worker *w)
{
	int room = w->max_inflight - (int)mx_send_inflight(&w->send) -
	    w->nparked;

	return room < w->batch ? room : w->batch;
}

/* Nothing to do for a while (Redis down): the calls on the wire go on. */
static void
idle_wait(struct worker *w, int ms)
{
	if (mx_send_inflight(&w->send) > 0) {
		mx_send_poll(&w->send, ms);
	} else {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static int
run(struct worker *w)
{
	struct gacp_err err;
	int64_t last_claim = 0;
	char claim_cursor[MXQ_ID_MAX] = "0-0";
	bool claim_more = false;

	int need_group = 1;

	gacp_err_clear(&err);
	while (!stop_requested) {
		struct mxq_entry *entries;
		size_t n = 0;
		struct arena *a = &w->app.arena;
		struct batch *b;
		int room;

		/* Configuration changes and a rotated master key (the
		 * channels' sealed page tokens) are noticed here. */
		syscfg_cache_tick(&w->app);
		arena_reset(a);
		touch_inflight(w);
		run_parked(w);
		batches_sweep(w);
		/* (Re)create the group at start and after Redis errors: a
		 * Redis restored without the stream would have lost it. */
		if (need_group) {
			if (mxq_ensure_group(&w->app.cache, a, &err) != GACP_OK) {
				arena_reset(a);
				idle_wait(w, 1000);
				continue;
			}
			need_group = 0;
		}
		if ((room = room_left(w)) <= 0) {
			mx_send_poll(&w->send, 100);
			continue;
		}
		/* Every claim_idle_ms / 2, and right away again while the
		 * last claim came back full: after an outage thousands of
		 * entries can be waiting, and one batch per period would take
		 * them back at a few events a second. */
		if (claim_more || util_mono_us() - last_claim > w->claim_idle_ms * 500) {
			bool periodic = !claim_more;
			char next[MXQ_ID_MAX];
			int scans = 0;

			if (periodic)
				last_claim = util_mono_us();
			b = batch_new(w);
			/* The scan goes on where the last one stopped and
			 * wraps to the start when Redis says 0-0; a long
			 * pending list with nothing idle in this stretch is
			 * scanned on (a few calls), not left for next time. */
			do {
				n = 0;
				if (mxq_autoclaim(&w->app.cache, &b->arena,
				    w->consumer, w->claim_idle_ms, room,
				    claim_cursor, next, &entries, &n,
				    &err) != GACP_OK)
					snprintf(next, sizeof(next), "0-0");
				memcpy(claim_cursor, next, sizeof(claim_cursor));
			} while (n == 0 && strcmp(next, "0-0") != 0 && ++scans < 8);
			claim_more = n == (size_t)room;
			if (n > 0) {
				mxq_delivery_counts(&w->app.cache, &b->arena,
				    entries, n, &err);
				handle_batch(w, b, entries, n);
			}
			b->handled = true;
			if (periodic)
				maintain(w, a);
			arena_reset(a);
			if ((room = room_left(w)) <= 0)
				continue;
		}
		/* With calls in flight, only what is there now: their
		 * answers are waited for below instead. */
		n = 0;
		b = batch_new(w);
		if (mxq_read(&w->app.cache, &b->arena, w->consumer, room,
		    mx_send_inflight(&w->send) > 0 ? 0 : w->block_ms, &entries, &n,
		    &err) != GACP_OK) {
			b->handled = true;
			need_group = 1;
			idle_wait(w, 1000);
			continue;
		}
		if (n > 0)
			handle_batch(w, b, entries, n);
		b->handled = true;
		if (mx_send_inflight(&w->send) > 0)
			mx_send_poll(&w->send, n > 0 ? 0 : SEND_POLL_MS);
	}
	/* Stopping: the calls on the wire end (their timeouts and
	 * messenger.send_attempts bound it) and their outcomes are
	 * recorded, and the parked events' turns run as their way clears,
	 * so a stop leaves nothing in doubt. */
	while (mx_send_poll(&w->send, 100) > 0 || w->parked != NULL) {
		touch_inflight(w);
		run_parked(w);
	}
	batches_sweep(w);
	return 0;
}

static int
worker_init(struct worker *w, const char *config_path, struct gacp_err *err)
{
	const struct config *cfg;
	char host[64];
	int rc;

	memset(w, 0, sizeof(*w));
	if ((rc = gacp_ctx_init(&w->app, "gacp-worker", config_path, gacp_routes,
	    gacp_nroutes, err)) != GACP_OK)
		return rc;
	cfg = &w->app.cfg;
	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	snprintf(w->consumer, sizeof(w->consumer), "%s-%ld", host, (long)getpid());
	/* A process runs its batch's turns one after another, so the last
	 * of a batch waits for all the others while other processes may be
	 * idle: 4 (bench/webhook at 200 events/s, event_slow lines: the 16th
	 * of a batch of 16 waited 150-250 ms in a slowdown).  The batch is
	 * also how many Send API calls a process has on the wire at once
	 * (send_replies()): a larger one answers more events a second
	 * against a slow API (bench/sendapi, doc/operations.md). */
	w->batch = (int)config_get_int(cfg, "worker.batch", 4);
	if (w->batch < 1)
		w->batch = 1;
	/* Replies on the wire at once, across batches: a process turns
	 * events at about 7 ms each, so against Facebook's ~100-150 ms a
	 * call 16 keep it busy; each is one delivery_unknown if the process
	 * is killed (bench/sendapi, doc/operations.md). */
	w->max_inflight = (int)config_get_int(cfg, "worker.max_inflight", 16);
	if (w->max_inflight < 1)
		w->max_inflight = 1;
	w->block_ms = (int)config_get_int(cfg, "worker.block_ms", 1000);
	w->claim_idle_ms = config_get_int(cfg, "worker.claim_idle_ms", 30000);
	w->consumer_max_idle_ms = config_get_int(cfg,
	    "worker.consumer_max_idle_ms", 3600000);
	/* A live worker reads every block_ms; never call it dead sooner
	 * than a few claim periods. */
	if (w->consumer_max_idle_ms < 2 * w->claim_idle_ms)
		w->consumer_max_idle_ms = 2 * w->claim_idle_ms;
	/* A blocking XREADGROUP must not hit the socket timeout. */
	if (w->app.cache.timeout_ms < w->block_ms + 1000)
		w->app.cache.timeout_ms = w->block_ms + 1000;
	w->max_deliveries = (int)config_get_int(cfg, "worker.max_deliveries", 5);
	w->pace_rate = (int)config_get_int(cfg, "messenger.send_rate_per_page", 250);
	w->slow_event_ms = config_get_int(cfg, "worker.slow_event_ms", 1000);
	w->handoff_intent = config_get(cfg, "flow.handoff_intent",
	    FLOW_DEFAULT_HANDOFF_INTENT);
	w->models = models_new(config_get(cfg, "paths.model_dir", "/var/lib/gacp/models"),
	    1000 * config_get_int(cfg, "nlu.model_check_ms", 1000));
	w->models->metrics = w->app.metrics;
	if ((rc = nlu_parser_init(&w->parser, err)) != GACP_OK)
		return rc;
	return mx_send_client_init(&w->send, config_get(cfg,
	    "messenger.graph_base_url", "https://graph.facebook.com/v19.0"),
	    config_get_int(cfg, "messenger.connect_timeout_ms", 2000),
	    config_get_int(cfg, "messenger.timeout_ms", 10000),
	    (int)config_get_int(cfg, "messenger.send_attempts", 4), err);
}

static void
worker_cleanup(struct worker *w)
{
	struct batch *b;

	mx_send_client_cleanup(&w->send);
	while ((b = w->batches) != NULL) {
		w->batches = b->next;
		arena_cleanup(&b->arena);
		free(b);
	}
	if (w->spare != NULL) {
		arena_cleanup(&w->spare->arena);
		free(w->spare);
	}
	nlu_parser_cleanup(&w->parser);
	models_free(w->models);
	gacp_ctx_cleanup(&w->app);
}

static int
child_main(const char *config_path)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	struct registry_agent_info info;
	struct registry_agent *agent;
	struct gacp_err err;
	int rc;

	gacp_err_clear(&err);
	if (worker_init(w, config_path, &err) != GACP_OK) {
		fprintf(stderr, "gacp-worker: %s: %s\n", err.code, err.msg);
		worker_cleanup(w);
		free(w);
		return 1;
	}
	log_msg(LOG_INFO, "started", "consumer %s", w->consumer);
	memset(&info, 0, sizeof(info));
	info.service_name = "gacp-worker";
	info.service_type = "worker";
	info.extra_key = "consumer";
	info.extra_value = w->consumer;
	agent = registry_agent_start(&w->app.cfg, &info);
	rc = run(w);
	registry_agent_stop(agent);
	log_msg(LOG_INFO, "stopped", "consumer %s", w->consumer);
	worker_cleanup(w);
	free(w);
	return rc;
}

static void
write_pidfile(const char *path, pid_t *pids, int n)
{
	char tmp[4096];
	FILE *f;
	int i;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	fprintf(f, "%ld\n", (long)getpid());
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			fprintf(f, "%ld\n", (long)pids[i]);
	fclose(f);
	rename(tmp, path);
}

static pid_t
spawn(const char *config_path)
{
	pid_t pid = fork();

	if (pid == 0) {
		/* Die with the supervisor rather than linger unsupervised. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		_exit(child_main(config_path));
	}
	return pid;
}

int
main(int argc, char **argv)
{
	const char *config_path = NULL, *pidfile = NULL;
	struct sigaction sa;
	pid_t pids[WORKER_MAX_PROCESSES];
	int i, nproc = 1, daemonize = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config_path = argv[++i];
		else if (strcmp(argv[i], "--pidfile") == 0 && i + 1 < argc)
			pidfile = argv[++i];
		else if (strcmp(argv[i], "--processes") == 0 && i + 1 < argc)
			nproc = atoi(argv[++i]);
		else if (strcmp(argv[i], "--daemon") == 0)
			daemonize = 1;
		else {
			fprintf(stderr, "usage: gacp-worker [--config FILE] "
			    "[--processes N] [--pidfile FILE] [--daemon]\n");
			return 2;
		}
	}
	if (nproc < 1 || nproc > WORKER_MAX_PROCESSES) {
		fprintf(stderr, "gacp-worker: --processes must be 1..%d\n",
		    WORKER_MAX_PROCESSES);
		return 2;
	}
	if (daemonize && daemon(1, 1) != 0) {
		perror("daemon");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (nproc == 1 && !daemonize && pidfile == NULL)
		return child_main(config_path);
	/* Supervisor: keep nproc children running; SIGTERM stops them all. */
	for (i = 0; i < nproc; i++)
		pids[i] = spawn(config_path);
	if (pidfile)
		write_pidfile(pidfile, pids, nproc);
	while (!stop_requested) {
		int status;
		pid_t dead = waitpid(-1, &status, 0);
		if (dead < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < nproc && !stop_requested; i++) {
			if (pids[i] == dead) {
				sleep(1);    /* no tight crash loop */
				pids[i] = spawn(config_path);
				if (pidfile)
					write_pidfile(pidfile, pids, nproc);
			}
		}
	}
	for (i = 0; i < nproc; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	if (pidfile)
		unlink(pidfile);
	return 0;
}
