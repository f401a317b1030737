/* queue.h - the durable inbound queue: a Redis Stream with a consumer group.
 *
 * The webhook enqueues; gacp-worker consumes.  Deduplication by message id
 * and the XADD happen in one Lua script, so an event is either recorded as
 * seen AND queued, or neither (a dedupe key set without the event queued
 * would make Facebook's retry look like a duplicate and lose the message).
 * Redis runs with AOF (appendfsync always in the local stack), so an event
 * acknowledged with 200 survives a Redis restart.
 *
 * Keys: stream "gacp:inbound", dead letters "gacp:deadletter", dedupe
 * "gacp:{<tenant>}:mid:<channel>:<mid>" (24 h).  The script touches keys of
 * several tenants' slots, so Redis Cluster would need per-tenant streams;
 * doc/scaling.md says how.
 */
#ifndef GACP_MESSENGER_QUEUE_H
#define GACP_MESSENGER_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct arena;
struct cache;

#define MXQ_STREAM      "gacp:inbound"
#define MXQ_DEADLETTER  "gacp:deadletter"
#define MXQ_GROUP       "workers"
#define MXQ_DEDUPE_TTL_S 86400

struct mxq_item {
	const char *dedupe_key;   /* see mxq_dedupe_key() */
	const char *payload;      /* JSON event (webhook.h mx_event_to_json) */
};

/* Key for a message id of a channel of a tenant (arena string). */
const char *mxq_dedupe_key(struct arena *a, const char *tenant_id,
    const char *channel_id, const char *mid);

/* Enqueue n items atomically per item (dedupe + XADD in one script run,
 * all items in one round trip).  *queued and *duplicates count the
 * outcome.  Errors: GACP_EUNAVAIL when Redis cannot be reached or did not
 * confirm: the caller must answer 5xx so Facebook retries. */
int mxq_enqueue(struct cache *c, struct arena *a, const struct mxq_item *items,
    size_t n, size_t *queued, size_t *duplicates, struct gacp_err *err);

struct mxq_entry {
	const char *id;           /* stream entry id */
	const char *payload;
	long long   deliveries;   /* times delivered (1 on first read) */
};

/* Create the consumer group if missing (MKSTREAM). */
int mxq_ensure_group(struct cache *c, struct arena *a, struct gacp_err *err);
/* Read up to count new entries for consumer, blocking up to block_ms
 * (0 or less: only what is there now). */
int mxq_read(struct cache *c, struct arena *a, const char *consumer,
    int count, int block_ms, struct mxq_entry **out, size_t *n,
    struct gacp_err *err);
/* Reset the idle time of an entry this consumer still owns (a long
 * Send API retry), so XAUTOCLAIM does not hand it to another worker
 * meanwhile; an entry another consumer took already is left alone.
 * *owned says which. */
int mxq_touch(struct cache *c, struct arena *a, const char *consumer,
    const char *id, int *owned, struct gacp_err *err);
/* Claim entries idle for more than min_idle_ms (their worker died),
 * scanning the pending list from cursor (a stream id, "0-0" for its
 * start).  Redis looks at no more than 10 x count pending entries per
 * call, so the caller keeps the cursor Redis hands back in next_cursor
 * (size MXQ_ID_MAX) and passes it to the next call: restarting at 0-0
 * every time would never reach an entry behind a long pending list. */
#define MXQ_ID_MAX 48
int mxq_autoclaim(struct cache *c, struct arena *a, const char *consumer,
    long long min_idle_ms, int count, const char *cursor,
    char next_cursor[MXQ_ID_MAX], struct mxq_entry **out, size_t *n,
    struct gacp_err *err);
/* Fill deliveries of entries from XPENDING. */
int mxq_delivery_counts(struct cache *c, struct arena *a,
    struct mxq_entry *entries, size_t n, struct gacp_err *err);
int mxq_ack(struct cache *c, struct arena *a, const char *id,
    struct gacp_err *err);
/* Move an entry to the dead-letter stream with its error and ack it, in
 * one script run: never both in the dead letters and pending (retried
 * and dead), never acked and lost.  GACP_ENOTFOUND (nothing moved) when
 * the entry is no longer pending: another worker claimed and finished it. */
int mxq_deadletter(struct cache *c, struct arena *a,
    const struct mxq_entry *e, const char *error, struct gacp_err *err);
/* Trim entries every consumer group has acknowledged: XTRIM MINID at the
 * oldest entry some group still needs (its oldest pending one, else the
 * first after its last delivered one), computed and applied in one
 * script run, so an unacknowledged entry is never trimmed.  No group: no
 * trim.  *trimmed: entries removed. */
int mxq_trim(struct cache *c, struct arena *a, long long *trimmed,
    struct gacp_err *err);
/* Remove consumers of the worker group that own no pending entry and
 * have been idle longer than max_idle_ms (workers that exited: each
 * process registers a consumer of its own), except `self`; checked and
 * deleted in one script run, so a consumer that owns entries (XGROUP
 * DELCONSUMER would drop them from the pending list) is never removed.
 * *removed: consumers deleted. */
int mxq_reap_consumers(struct cache *c, struct arena *a, const char *self,
    long long max_idle_ms, long long *removed, struct gacp_err *err);

/* Conversation order.  An event that failed and waits to be retried
 * "holds" its conversation: later events of the same conversation are
 * deferred (left pending) until it succeeds or is dead-lettered, so they
 * never overtake it.  The hold is a key per conversation holding the
 * failed event's timestamp and entry id, with a TTL (a lost worker or a
 * forgotten hold cannot stop a conversation for longer than that). */
const char *mxq_hold_key(struct arena *a, const char *tenant_id,
    const char *channel_id, const char *psid);
/* *held: another, earlier (by timestamp) event holds the conversation. */
int mxq_hold_check(struct cache *c, struct arena *a, const char *key,
    long long timestamp_ms, const char *entry_id, int *held,
    struct gacp_err *err);
/* Hold the conversation for this event (keeps an earlier holder). */
int mxq_hold_set(struct cache *c, struct arena *a, const char *key,
    long long timestamp_ms, const char *entry_id, long long ttl_ms,
    struct gacp_err *err);
/* Release the hold if this event holds it. */
int mxq_hold_release(struct cache *c, struct arena *a, const char *key,
    const char *entry_id, struct gacp_err *err);
/* Leave a deferred entry pending with consumer, its idle time restarted
 * and its delivery count set back by one: waiting behind a failed event
 * is not a failure of its own (max_deliveries counts failures). */
int mxq_defer(struct cache *c, struct arena *a, const char *consumer,
    const struct mxq_entry *e, struct gacp_err *err);
/* Token bucket per page shared by all workers (Redis): take one send
 * token; *wait_ms is how long to wait before sending (0: now). */
int mxq_pace(struct cache *c, struct arena *a, const char *tenant_id,
    const char *page_id, int rate_per_s, int burst, long *wait_ms,
    struct gacp_err *err);
/* The queue seen from the worker group, for /metrics.  A few O(1) or
 * O(log n) commands; entry ids carry Redis' clock, so ages assume the
 * hosts' clocks agree. */
struct mxq_stats {
	long long length;           /* entries in the stream (acked or not) */
	long long pending;          /* delivered to a worker, not acked */
	long long lag;              /* not yet delivered to any worker */
	long long oldest_age_ms;    /* oldest pending or undelivered; 0: none */
	long long consumers;        /* consumers known to the group */
	long long deadletter;       /* entries in the dead-letter stream */
};
int mxq_stats(struct cache *c, struct arena *a, struct mxq_stats *st,
    struct gacp_err *err);

#endif
