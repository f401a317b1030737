/* webhook.h - reading Messenger webhook payloads (pure; no I/O).
 *
 * Facebook POSTs {"object":"page","entry":[{"id":PAGE_ID,"time":…,
 * "messaging":[EVENT…]} …]}; one request may batch many entries and many
 * events per entry (up to 1,000), and every one must be handled (a known
 * client bug handles only the first).  This module validates that shape,
 * lists the page ids (all the webhook may read before the signature is
 * checked) and turns each messaging event into a struct mx_event.
 * Echoes of the page's own messages, delivery and read receipts and
 * standby[] events are counted as ignored: answering an echo would make
 * the bot talk to itself.
 *
 * The body is read with jscan (common/jscan.h), not a json-c tree: the
 * webhook takes a few fields of every event at ingest rate, and building
 * and freeing a tree per request was the largest share of its own work
 * (bench/webhook).  Strings are decoded copies in the arena; attachments
 * are the array's bytes as received (valid strict JSON), passed on to the
 * queue untouched.  A string field holding "\u0000" is refused: a NUL
 * would silently cut it short in C and PostgreSQL refuses it in text.
 */
#ifndef GACP_MESSENGER_WEBHOOK_H
#define GACP_MESSENGER_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include "common/err.h"
#include "common/jscan.h"

struct arena;

#define MX_MAX_ENTRIES 1000
#define MX_MAX_EVENTS  1000
#define MX_MAX_TEXT_BYTES (8 * 2000)   /* 2,000 characters of up to 4 bytes */

enum mx_kind {
	MX_TEXT = 0,      /* message.text */
	MX_QUICK_REPLY,   /* message.quick_reply.payload (text too) */
	MX_POSTBACK,      /* postback.payload (button) */
	MX_ATTACHMENT,    /* message.attachments without text */
};

struct mx_event {
	const char         *page_id;       /* entry.id == recipient.id */
	const char         *psid;          /* sender.id */
	int64_t             timestamp_ms;  /* event timestamp (ordering) */
	const char         *mid;           /* message id, or synthesised */
	enum mx_kind        kind;
	const char         *text;          /* may be NULL */
	const char         *payload;       /* quick reply / postback payload */
	const char         *attachments;   /* the array's JSON text, or NULL */
	size_t              attachments_len;
};

struct mx_batch {
	const char     **page_ids;    /* distinct, in order of appearance */
	size_t           npages;
	struct mx_event *events;
	size_t           nevents;
	size_t           nignored;    /* echo, delivery, read, standby, unknown */
};

/* Validate the envelope and list distinct page ids.  Errors (GACP_EINVAL,
 * code "invalid_webhook"): not an object, object != "page", entry missing,
 * empty or over MX_MAX_ENTRIES, an entry without a numeric string id. */
int mx_webhook_pages(const struct jscan *body, struct arena *a,
    struct mx_batch *batch, struct gacp_err *err);
/* Extract every messaging event of every entry (call after the signature
 * was verified).  A malformed event is an error for the whole request
 * (nothing is enqueued), so Facebook's retry cannot half-apply it. */
int mx_webhook_events(const struct jscan *body, struct arena *a,
    struct mx_batch *batch, struct gacp_err *err);
/* Serialise one event for the queue: a compact JSON object with the
 * tenant and channel it was routed to and the receive time. */
char *mx_event_to_json(struct arena *a, const struct mx_event *ev,
    const char *tenant_id, const char *channel_id, int64_t received_us);

#endif
