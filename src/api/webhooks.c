/* webhooks.c - the Messenger webhook: subscription handshake and events.
 *
 * Must stay fast and must never lose an event: verify, parse, dedupe,
 * enqueue durably, answer.  Everything slow happens in gacp-worker.
 * Order of checks on POST (Meta's "Webhooks for Messenger" security
 * guidance): the only thing read before the signature is checked is
 * entry[].id, to find the channel and its app secret.
 */
#include "api/api.h"
#include "common/jscan.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "http/metrics.h"
#include "messenger/channel.h"
#include "messenger/queue.h"
#include "messenger/webhook.h"
#include "security/crypto.h"

#include <ctype.h>
#include <string.h>

/* GET /webhooks/messenger?hub.mode=subscribe&hub.verify_token=…&hub.challenge=… */
void
api_webhook_verify(struct request_ctx *rc)
{
	const char *mode = http_request_query(&rc->req, "hub.mode");
	const char *token = http_request_query(&rc->req, "hub.verify_token");
	const char *challenge = http_request_query(&rc->req, "hub.challenge");
	char tenant_id[37], tenant_status[16];
	struct gacp_err err;
	size_t i, n;

	gacp_err_clear(&err);
	if (mode == NULL || strcmp(mode, "subscribe") != 0 || token == NULL ||
	    token[0] == '\0' || challenge == NULL) {
		api_error(rc, 403, "verification_failed",
		    "hub.mode=subscribe, hub.verify_token and hub.challenge are required");
		return;
	}
	/* The challenge is echoed back: accept only what Facebook sends
	 * (digits and letters), never markup. */
	n = strlen(challenge);
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)challenge[i]) && challenge[i] != '-' &&
		    challenge[i] != '_')
			break;
	if (n == 0 || n > 256 || i != n) {
		api_error(rc, 403, "verification_failed", "malformed hub.challenge");
		return;
	}
	if (mx_channel_by_verify_token(&rc->app->db, rc->arena, token, tenant_id,
	    tenant_status, &err) != GACP_OK) {
		if (err.result == GACP_EUNAVAIL)
			api_error_from(rc, &err);
		else
			api_error(rc, 403, "verification_failed",
			    "verify token does not match");
		return;
	}
	if (strcmp(tenant_status, "active") != 0) {
		api_error(rc, 403, "tenant_suspended", "the tenant is suspended");
		return;
	}
	rc->tenant_id = arena_strdup(rc->arena, tenant_id);
	http_response_text(&rc->resp, 200, challenge);
}

static void
reject(struct request_ctx *rc, enum metrics_counter c, int status,
    const char *code, const char *msg)
{
	metrics_counter_add(rc->app->metrics, c, 1);
	api_error(rc, status, code, "%s", msg);
}

/* POST /webhooks/messenger */
void
api_webhook_receive(struct request_ctx *rc)
{
	struct gacp_ctx *app = rc->app;
	const char *sig = http_request_header(&rc->req, "X-Hub-Signature-256");
	struct jscan body;
	struct mx_batch batch;
	struct mx_channel *channels;
	struct mxq_item *items;
	struct gacp_err err;
	size_t i, j, queued = 0, dupes = 0;

	gacp_err_clear(&err);
	if (sig == NULL || sig[0] == '\0') {
		reject(rc, MC_WEBHOOK_REJECTED_SIGNATURE, 401, "missing_signature",
		    "X-Hub-Signature-256 header is required");
		return;
	}
	/* jscan, not a json-c tree: the same strict checks without a
	 * malloc per value (messenger/webhook.h). */
	if (jscan_parse(rc->arena, rc->req.body, rc->req.body_len,
	    JSON_MAX_DEPTH, &body, &err) != GACP_OK) {
		reject(rc, MC_WEBHOOK_REJECTED_INVALID, 400, "invalid_json", err.msg);
		return;
	}
	if (mx_webhook_pages(&body, rc->arena, &batch, &err) != GACP_OK) {
		reject(rc, MC_WEBHOOK_REJECTED_INVALID, 400, err.code, err.msg);
		return;
	}
	channels = arena_calloc(rc->arena, batch.npages, sizeof(*channels));
	for (i = 0; i < batch.npages; i++) {
		if (mx_channel_by_page(app->channel_cache, &app->db,
		    app->master_keys, batch.page_ids[i], &channels[i],
		    &err) != GACP_OK) {
			if (err.result == GACP_EUNAVAIL) {
				metrics_counter_add(app->metrics,
				    MC_WEBHOOK_STORE_FAILED, 1);
				api_error_from(rc, &err);
			} else if (err.result == GACP_ENOTFOUND &&
			    strcmp(err.code, "unknown_page") == 0) {
				reject(rc, MC_WEBHOOK_REJECTED_UNKNOWN_PAGE, 403,
				    "unknown_page", "no channel for this page");
			} else {
				log_msg(LOG_ERROR, "channel_secret_unreadable",
				    "page %s: %s", batch.page_ids[i], err.msg);
				reject(rc, MC_WEBHOOK_STORE_FAILED, 500,
				    "secret_unreadable",
				    "the channel's secret cannot be read");
			}
			return;
		}
		/* One signature covers the body: every page in it must be
		 * verified by the same app secret. */
		if (i > 0 && (channels[i].app_secret_len != channels[0].app_secret_len ||
		    !crypto_ct_equal(channels[i].app_secret, channels[0].app_secret,
		    channels[0].app_secret_len))) {
			reject(rc, MC_WEBHOOK_REJECTED_SIGNATURE, 403, "bad_signature",
			    "entries belong to apps with different secrets");
			return;
		}
	}
	if (crypto_hmac_sha256_hex_verify(channels[0].app_secret,
	    channels[0].app_secret_len, rc->req.body, rc->req.body_len, sig,
	    &err) != GACP_OK) {
		reject(rc, MC_WEBHOOK_REJECTED_SIGNATURE, 403, "bad_signature",
		    "X-Hub-Signature-256 does not match the body");
		return;
	}
	rc->tenant_id = arena_strdup(rc->arena, channels[0].tenant_id);
	for (i = 0; i < batch.npages; i++) {
		if (strcmp(channels[i].tenant_status, "active") != 0) {
			reject(rc, MC_WEBHOOK_REJECTED_SUSPENDED, 403,
			    "tenant_suspended", "the tenant is suspended");
			return;
		}
		if (strcmp(channels[i].status, "disabled") == 0) {
			reject(rc, MC_WEBHOOK_REJECTED_SUSPENDED, 403,
			    "channel_disabled", "the channel is disabled");
			return;
		}
	}
	if (mx_webhook_events(&body, rc->arena, &batch, &err) != GACP_OK) {
		reject(rc, MC_WEBHOOK_REJECTED_INVALID, 400, err.code, err.msg);
		return;
	}
	items = arena_calloc(rc->arena, batch.nevents ? batch.nevents : 1,
	    sizeof(*items));
	for (i = 0; i < batch.nevents; i++) {
		const struct mx_event *ev = &batch.events[i];
		for (j = 0; j < batch.npages; j++)
			if (strcmp(channels[j].page_id, ev->page_id) == 0)
				break;
		items[i].dedupe_key = mxq_dedupe_key(rc->arena,
		    channels[j].tenant_id, channels[j].id, ev->mid);
		items[i].payload = mx_event_to_json(rc->arena, ev,
		    channels[j].tenant_id, channels[j].id, util_wall_us());
	}
	if (mxq_enqueue(&app->cache, rc->arena, items, batch.nevents, &queued,
	    &dupes, &err) != GACP_OK) {
		/* Not stored: never 200, so Facebook delivers it again. */
		metrics_counter_add(app->metrics, MC_WEBHOOK_STORE_FAILED,
		    batch.nevents);
		api_error(rc, 503, "queue_unavailable",
		    "events could not be stored; retry");
		http_response_header(&rc->resp, "Retry-After", "1");
		return;
	}
	metrics_counter_add(app->metrics, MC_WEBHOOK_RECEIVED, queued);
	metrics_counter_add(app->metrics, MC_WEBHOOK_DUPLICATE, dupes);
	metrics_counter_add(app->metrics, MC_WEBHOOK_IGNORED, batch.nignored);
	http_response_text(&rc->resp, 200, "EVENT_RECEIVED");
}
