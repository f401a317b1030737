/* queue.c - Redis Stream inbound queue (see queue.h). */
#include "messenger/queue.h"
#include "common/arena.h"
#include "common/util.h"
#include "store/cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEYS[1..n]: dedupe keys; ARGV[1]: ttl; ARGV[2..n+1]: payloads.
 * Returns a status per item: 1 queued, 0 duplicate. */
static const char enqueue_script[] =
    "local out = {}\n"
    "for i = 1, #KEYS do\n"
    "  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) then\n"
    "    redis.call('XADD', '" MXQ_STREAM "', '*', 'e', ARGV[i + 1])\n"
    "    out[i] = 1\n"
    "  else\n"
    "    out[i] = 0\n"
    "  end\n"
    "end\n"
    "return out\n";

const char *
mxq_dedupe_key(struct arena *a, const char *tenant_id, const char *channel_id,
    const char *mid)
{
	return arena_sprintf(a, "gacp:{%s}:mid:%s:%s", tenant_id, channel_id, mid);
}

int
mxq_enqueue(struct cache *c, struct arena *a, const struct mxq_item *items,
    size_t n, size_t *queued, size_t *duplicates, struct gacp_err *err)
{
	size_t nargs = 1 + 2 * n, i;
	const char **args = arena_alloc(a, nargs * sizeof(*args));
	char ttl[24];
	redisReply *r;
	int rc;

	*queued = *duplicates = 0;
	if (n == 0)
		return GACP_OK;
	snprintf(ttl, sizeof(ttl), "%d", MXQ_DEDUPE_TTL_S);
	for (i = 0; i < n; i++)
		args[i] = items[i].dedupe_key;
	args[n] = ttl;
	for (i = 0; i < n; i++)
		args[n + 1 + i] = items[i].payload;
	rc = cache_eval(c, a, enqueue_script, (int)n, nargs, args, NULL, &r,
	    err);
	if (rc != GACP_OK)
		return rc == GACP_EUNAVAIL ? rc : gacp_err_set(err, GACP_EUNAVAIL,
		    "queue_unavailable", "the event queue did not accept the events");
	if (r->type != REDIS_REPLY_ARRAY || r->elements != n)
		return gacp_err_set(err, GACP_EUNAVAIL, "queue_unavailable",
		    "unexpected answer from the event queue");
	for (i = 0; i < n; i++) {
		if (r->element[i]->type == REDIS_REPLY_INTEGER &&
		    r->element[i]->integer == 1)
			(*queued)++;
		else
			(*duplicates)++;
	}
	return GACP_OK;
}

int
mxq_ensure_group(struct cache *c, struct arena *a, struct gacp_err *err)
{
	redisReply *r;
	struct gacp_err e2;
	int rc;

	gacp_err_clear(&e2);
	/* Ask first, so the normal case logs no BUSYGROUP error reply. */
	rc = cache_command(c, a, &r, &e2, "XINFO GROUPS %s", MXQ_STREAM);
	if (rc == GACP_OK && r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
		size_t i, f;
		for (i = 0; i < r->elements; i++) {
			redisReply *g = r->element[i];
			for (f = 0; g->type == REDIS_REPLY_ARRAY && f + 1 < g->elements; f += 2)
				if (strcmp(g->element[f]->str, "name") == 0 &&
				    strcmp(g->element[f + 1]->str, MXQ_GROUP) == 0)
					return GACP_OK;
		}
	}
	if (rc == GACP_EUNAVAIL) {
		if (err)
			*err = e2;
		return rc;
	}
	rc = cache_command(c, a, &r, &e2, "XGROUP CREATE %s %s 0 MKSTREAM",
	    MXQ_STREAM, MXQ_GROUP);
	if (rc == GACP_OK)
		return GACP_OK;
	/* BUSYGROUP: it exists already, which is what we want. */
	if (r != NULL && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, "BUSYGROUP", 9) == 0)
		return GACP_OK;
	if (err)
		*err = e2;
	return rc;
}

/* Parse [[id, [field, value, …]], …] into entries. */
static size_t
parse_entries(struct arena *a, redisReply *list, struct mxq_entry *out,
    size_t max)
{
	size_t i, n = 0;

	for (i = 0; list != NULL && list->type == REDIS_REPLY_ARRAY &&
	    i < list->elements && n < max; i++) {
		redisReply *e = list->element[i], *fields;
		size_t f;

		if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING)
			continue;
		fields = e->element[1];
		out[n].id = arena_strdup(a, e->element[0]->str);
		out[n].payload = NULL;
		out[n].deliveries = 1;
		for (f = 0; fields->type == REDIS_REPLY_ARRAY &&
		    f + 1 < fields->elements; f += 2)
			if (strcmp(fields->element[f]->str, "e") == 0)
				out[n].payload = fields->element[f + 1]->str;
		/* A deleted entry (trimmed) has nil fields: skip it but
		 * keep its id so the caller can ack it. */
		if (out[n].payload == NULL)
			out[n].payload = "";
		n++;
	}
	return n;
}

int
mxq_read(struct cache *c, struct arena *a, const char *consumer, int count,
    int block_ms, struct mxq_entry **out, size_t *n, struct gacp_err *err)
{
	redisReply *r;
	int rc;

	*n = 0;
	*out = arena_calloc(a, (size_t)count, sizeof(**out));
	/* BLOCK 0 would wait for ever: 0 or less asks without waiting. */
	if (block_ms > 0)
		rc = cache_command(c, a, &r, err,
		    "XREADGROUP GROUP %s %s COUNT %d BLOCK %d STREAMS %s >",
		    MXQ_GROUP, consumer, count, block_ms, MXQ_STREAM);
	else
		rc = cache_command(c, a, &r, err,
		    "XREADGROUP GROUP %s %s COUNT %d STREAMS %s >",
		    MXQ_GROUP, consumer, count, MXQ_STREAM);
	if (rc != GACP_OK)
		return rc;
	if (r->type == REDIS_REPLY_NIL || r->type != REDIS_REPLY_ARRAY ||
	    r->elements == 0)
		return GACP_OK;
	/* [[stream, [entries…]]] */
	if (r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements == 2)
		*n = parse_entries(a, r->element[0]->element[1], *out,
		    (size_t)count);
	return GACP_OK;
}

int
mxq_autoclaim(struct cache *c, struct arena *a, const char *consumer,
    long long min_idle_ms, int count, const char *cursor,
    char next_cursor[MXQ_ID_MAX], struct mxq_entry **out, size_t *n,
    struct gacp_err *err)
{
	redisReply *r;
	int rc;

	*n = 0;
	snprintf(next_cursor, MXQ_ID_MAX, "0-0");
	*out = arena_calloc(a, (size_t)count, sizeof(**out));
	rc = cache_command(c, a, &r, err,
	    "XAUTOCLAIM %s %s %s %lld %s COUNT %d", MXQ_STREAM, MXQ_GROUP,
	    consumer, min_idle_ms, cursor && cursor[0] ? cursor : "0-0", count);
	if (rc != GACP_OK)
		return rc;
	if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2) {
		/* [next cursor, [entries…], [deleted ids…]] */
		if (r->element[0]->type == REDIS_REPLY_STRING &&
		    r->element[0]->len < MXQ_ID_MAX)
			snprintf(next_cursor, MXQ_ID_MAX, "%s", r->element[0]->str);
		*n = parse_entries(a, r->element[1], *out, (size_t)count);
	}
	return GACP_OK;
}

int
mxq_delivery_counts(struct cache *c, struct arena *a,
    struct mxq_entry *entries, size_t n, struct gacp_err *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		redisReply *r;
		int rc = cache_command(c, a, &r, err, "XPENDING %s %s %s %s 1",
		    MXQ_STREAM, MXQ_GROUP, entries[i].id, entries[i].id);
		if (rc != GACP_OK)
			return rc;
		/* [[id, consumer, idle_ms, deliveries]] */
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
		    r->element[0]->type == REDIS_REPLY_ARRAY &&
		    r->element[0]->elements == 4)
			entries[i].deliveries = r->element[0]->element[3]->integer;
	}
	return GACP_OK;
}

int
mxq_ack(struct cache *c, struct arena *a, const char *id, struct gacp_err *err)
{
	redisReply *r;

	return cache_command(c, a, &r, err, "XACK %s %s %s", MXQ_STREAM,
	    MXQ_GROUP, id);
}

/* EVAL script with nkeys keys then the other arguments (NULL-terminated
 * list vals), in one round trip. */
/* vals: NULL-terminated, the nkeys keys first. */
static int
eval(struct cache *c, struct arena *a, const char *script, int nkeys,
    const char *const *vals, redisReply **r, struct gacp_err *err)
{
	size_t n = 0;

	while (vals[n] != NULL)
		n++;
	return cache_eval(c, a, script, nkeys, n, vals, NULL, r, err);
}

/* KEYS: stream, dead letters; ARGV: group, id, payload, error,
 * deliveries.  Ack first: only an entry still pending moves. */
static const char deadletter_script[] =
    "if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end\n"
    "redis.call('XADD', KEYS[2], '*', 'e', ARGV[3], 'error', ARGV[4],\n"
    "  'source_id', ARGV[2], 'deliveries', ARGV[5])\n"
    "return 1\n";

int
mxq_deadletter(struct cache *c, struct arena *a, const struct mxq_entry *e,
    const char *error, struct gacp_err *err)
{
	redisReply *r;
	char deliveries[24];
	const char *vals[8];
	int rc;

	snprintf(deliveries, sizeof(deliveries), "%lld", e->deliveries);
	vals[0] = MXQ_STREAM;
	vals[1] = MXQ_DEADLETTER;
	vals[2] = MXQ_GROUP;
	vals[3] = e->id;
	vals[4] = e->payload;
	vals[5] = error;
	vals[6] = deliveries;
	vals[7] = NULL;
	if ((rc = eval(c, a, deadletter_script, 2, vals, &r, err)) != GACP_OK)
		return rc;
	if (r->type != REDIS_REPLY_INTEGER || r->integer != 1)
		return gacp_err_set(err, GACP_ENOTFOUND, "entry_not_pending",
		    "entry %s is no longer pending", e->id);
	return GACP_OK;
}

/* KEYS[1]: stream.  The floor of every group is the oldest entry it still
 * needs: its oldest pending entry, else the one after its last delivered
 * id; entries below the lowest floor are acknowledged by all. */
static const char trim_script[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "local groups = redis.call('XINFO', 'GROUPS', KEYS[1])\n"
    "if #groups == 0 then return 0 end\n"
    "local function parse(id)\n"
    "  local ms, seq = string.match(id, '^(%d+)-(%d+)$')\n"
    "  return ms, seq\n"
    "end\n"
    "local function less(x, y)\n"
    "  local xm, xs = parse(x)\n"
    "  local ym, ys = parse(y)\n"
    "  if #xm ~= #ym then return #xm < #ym end\n"
    "  if xm ~= ym then return xm < ym end\n"
    "  if #xs ~= #ys then return #xs < #ys end\n"
    "  return xs < ys\n"
    "end\n"
    "local keep = nil\n"
    "for _, g in ipairs(groups) do\n"
    "  local f = {}\n"
    "  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end\n"
    "  local ms, seq = parse(f['last-delivered-id'])\n"
    "  local floor\n"
    "  if #seq < 15 then floor = ms .. '-' .. (tonumber(seq) + 1)\n"
    "  else floor = f['last-delivered-id'] end\n"
    "  if f['pending'] > 0 then\n"
    "    local p = redis.call('XPENDING', KEYS[1], f['name'])\n"
    "    if p[2] and less(p[2], floor) then floor = p[2] end\n"
    "  end\n"
    "  if keep == nil or less(floor, keep) then keep = floor end\n"
    "end\n"
    "return redis.call('XTRIM', KEYS[1], 'MINID', keep)\n";

int
mxq_trim(struct cache *c, struct arena *a, long long *trimmed,
    struct gacp_err *err)
{
	const char *vals[] = { MXQ_STREAM, NULL };
	redisReply *r;
	int rc;

	*trimmed = 0;
	if ((rc = eval(c, a, trim_script, 1, vals, &r, err)) != GACP_OK)
		return rc;
	if (r->type == REDIS_REPLY_INTEGER)
		*trimmed = r->integer;
	return GACP_OK;
}

/* KEYS[1]: stream; ARGV: group, max idle ms, self. */
static const char reap_script[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "local cs = redis.pcall('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])\n"
    "if type(cs) ~= 'table' or cs.err then return 0 end\n"
    "local max_idle = tonumber(ARGV[2])\n"
    "local n = 0\n"
    "for _, c in ipairs(cs) do\n"
    "  local f = {}\n"
    "  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end\n"
    "  if f['pending'] == 0 and f['idle'] > max_idle and f['name'] ~= ARGV[3] then\n"
    "    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "return n\n";

int
mxq_reap_consumers(struct cache *c, struct arena *a, const char *self,
    long long max_idle_ms, long long *removed, struct gacp_err *err)
{
	char idle[24];
	const char *vals[5];
	redisReply *r;
	int rc;

	*removed = 0;
	snprintf(idle, sizeof(idle), "%lld", max_idle_ms);
	vals[0] = MXQ_STREAM;
	vals[1] = MXQ_GROUP;
	vals[2] = idle;
	vals[3] = self;
	vals[4] = NULL;
	if ((rc = eval(c, a, reap_script, 1, vals, &r, err)) != GACP_OK)
		return rc;
	if (r->type == REDIS_REPLY_INTEGER)
		*removed = r->integer;
	return GACP_OK;
}

const char *
mxq_hold_key(struct arena *a, const char *tenant_id, const char *channel_id,
    const char *psid)
{
	return arena_sprintf(a, "gacp:{%s}:hold:%s:%s", tenant_id, channel_id,
	    psid);
}

/* "<timestamp_ms> <entry id>" */
static int
hold_parse(const char *v, long long *ts, const char **id)
{
	char *end;

	*ts = strtoll(v, &end, 10);
	if (end == v || *end != ' ')
		return -1;
	*id = end + 1;
	return 0;
}

int
mxq_hold_check(struct cache *c, struct arena *a, const char *key,
    long long timestamp_ms, const char *entry_id, int *held,
    struct gacp_err *err)
{
	const char *id;
	long long ts;
	redisReply *r;
	int rc;

	*held = 0;
	if ((rc = cache_command(c, a, &r, err, "GET %s", key)) != GACP_OK)
		return rc;
	if (r->type != REDIS_REPLY_STRING || hold_parse(r->str, &ts, &id) != 0)
		return GACP_OK;
	/* An event older than the holder goes first: it was due before. */
	*held = strcmp(id, entry_id) != 0 && ts <= timestamp_ms;
	return GACP_OK;
}

/* KEYS[1]: hold; ARGV: value, timestamp, ttl ms.  An earlier holder
 * stays; the same holder gets a fresh TTL. */
static const char hold_set_script[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v and v ~= ARGV[1] then\n"
    "  local ts = tonumber(string.match(v, '^(%d+) '))\n"
    "  if ts and ts < tonumber(ARGV[2]) then return 0 end\n"
    "end\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])\n"
    "return 1\n";

int
mxq_hold_set(struct cache *c, struct arena *a, const char *key,
    long long timestamp_ms, const char *entry_id, long long ttl_ms,
    struct gacp_err *err)
{
	char ts[24], ttl[24];
	const char *vals[5];
	redisReply *r;

	snprintf(ts, sizeof(ts), "%lld", timestamp_ms);
	snprintf(ttl, sizeof(ttl), "%lld", ttl_ms > 0 ? ttl_ms : 1);
	vals[0] = key;
	vals[1] = arena_sprintf(a, "%lld %s", timestamp_ms, entry_id);
	vals[2] = ts;
	vals[3] = ttl;
	vals[4] = NULL;
	return eval(c, a, hold_set_script, 1, vals, &r, err);
}

/* KEYS[1]: hold; ARGV[1]: entry id. */
static const char hold_release_script[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v and string.match(v, '^%d+ (.*)$') == ARGV[1] then\n"
    "  return redis.call('DEL', KEYS[1])\n"
    "end\n"
    "return 0\n";

int
mxq_hold_release(struct cache *c, struct arena *a, const char *key,
    const char *entry_id, struct gacp_err *err)
{
	const char *vals[] = { key, entry_id, NULL };
	redisReply *r;

	return eval(c, a, hold_release_script, 1, vals, &r, err);
}

int
mxq_defer(struct cache *c, struct arena *a, const char *consumer,
    const struct mxq_entry *e, struct gacp_err *err)
{
	redisReply *r;

	return cache_command(c, a, &r, err,
	    "XCLAIM %s %s %s 0 %s RETRYCOUNT %lld JUSTID", MXQ_STREAM,
	    MXQ_GROUP, consumer, e->id,
	    e->deliveries > 1 ? e->deliveries - 1 : 0LL);
}

/* Milliseconds part of a stream entry id "<ms>-<seq>". */
static long long
id_ms(const char *id)
{
	return id != NULL ? strtoll(id, NULL, 10) : 0;
}

static long long
age_ms(long long since_ms)
{
	long long now_ms = util_wall_us() / 1000;

	return now_ms > since_ms ? now_ms - since_ms : 0;
}

int
mxq_stats(struct cache *c, struct arena *a, struct mxq_stats *st,
    struct gacp_err *err)
{
	const char *last_delivered = NULL;
	long long oldest_ms = 0;
	redisReply *r;
	size_t i, f;
	int rc, have_group = 0;

	memset(st, 0, sizeof(*st));
	if ((rc = cache_command(c, a, &r, err, "XLEN %s", MXQ_STREAM)) != GACP_OK)
		return rc;
	st->length = r->integer;
	if ((rc = cache_command(c, a, &r, err, "XLEN %s", MXQ_DEADLETTER)) !=
	    GACP_OK)
		return rc;
	st->deadletter = r->integer;
	if (st->length == 0) {
		/* Trimmed empty, the usual state of an idle queue: nothing
		 * waits, but the group and its consumers are still there
		 * (returning here left the consumers gauge at 0 whenever the
		 * workers had caught up: the flaky integration check). */
		if ((rc = cache_command(c, a, &r, err, "EXISTS %s",
		    MXQ_STREAM)) != GACP_OK)
			return rc;
		if (r->type != REDIS_REPLY_INTEGER || r->integer == 0)
			return GACP_OK;   /* no stream yet */
	}
	if ((rc = cache_command(c, a, &r, err, "XINFO GROUPS %s", MXQ_STREAM)) !=
	    GACP_OK)
		return rc;
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		redisReply *g = r->element[i];
		int mine = 0;
		long long lag = -1, pending = 0, consumers = 0;
		const char *ld = NULL;

		for (f = 0; g->type == REDIS_REPLY_ARRAY && f + 1 < g->elements;
		    f += 2) {
			const char *k = g->element[f]->str;
			redisReply *v = g->element[f + 1];
			if (k == NULL)
				continue;
			if (strcmp(k, "name") == 0 && v->type == REDIS_REPLY_STRING)
				mine = strcmp(v->str, MXQ_GROUP) == 0;
			else if (strcmp(k, "consumers") == 0)
				consumers = v->integer;
			else if (strcmp(k, "pending") == 0)
				pending = v->integer;
			else if (strcmp(k, "lag") == 0 &&
			    v->type == REDIS_REPLY_INTEGER)
				lag = v->integer;
			else if (strcmp(k, "last-delivered-id") == 0 &&
			    v->type == REDIS_REPLY_STRING)
				ld = arena_strdup(a, v->str);
		}
		if (!mine)
			continue;
		have_group = 1;
		st->consumers = consumers;
		st->pending = pending;
		st->lag = lag >= 0 ? lag : 0;
		last_delivered = ld;
	}
	if (st->length == 0 && st->pending == 0)
		return GACP_OK;   /* nothing waits: no age, no lag */
	if (st->pending > 0) {
		/* [count, smallest id, greatest id, consumers] */
		rc = cache_command(c, a, &r, err, "XPENDING %s %s", MXQ_STREAM,
		    MXQ_GROUP);
		if (rc != GACP_OK)
			return rc;
		if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
		    r->element[1]->type == REDIS_REPLY_STRING)
			oldest_ms = id_ms(r->element[1]->str);
	}
	/* The first entry no worker has read yet (all of them without the
	 * group).  Its id is later than any pending one unless a pending
	 * entry was claimed back, so take the smaller. */
	rc = have_group && last_delivered != NULL ?
	    cache_command(c, a, &r, err, "XRANGE %s (%s + COUNT 1", MXQ_STREAM,
	    last_delivered) :
	    cache_command(c, a, &r, err, "XRANGE %s - + COUNT 1", MXQ_STREAM);
	if (rc != GACP_OK)
		return rc;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements >= 1 &&
	    r->element[0]->element[0]->type == REDIS_REPLY_STRING) {
		long long first = id_ms(r->element[0]->element[0]->str);
		if (oldest_ms == 0 || first < oldest_ms)
			oldest_ms = first;
		if (!have_group)
			st->lag = st->length;
		else if (st->lag == 0)
			st->lag = 1;   /* Redis could not count it (nil lag) */
	}
	if (oldest_ms > 0)
		st->oldest_age_ms = age_ms(oldest_ms);
	return GACP_OK;
}

/* Token bucket in one hash {t: tokens, ts: last refill ms}.  Tokens may go
 * negative: each caller reserves its slot and waits its turn, so callers
 * are paced in arrival order.  The bucket is not written to the AOF
 * (REPL_NONE): with appendfsync always every logged write costs an fsync
 * on the send path, and a bucket lost in a restart only starts full. */
static const char pace_script[] =
    "redis.set_repl(redis.REPL_NONE)\n"
    "local rate = tonumber(ARGV[1])\n"
    "local burst = tonumber(ARGV[2])\n"
    "local now = tonumber(ARGV[3])\n"
    "local b = redis.call('HMGET', KEYS[1], 't', 'ts')\n"
    "local tokens = tonumber(b[1]) or burst\n"
    "local ts = tonumber(b[2]) or now\n"
    "if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000) end\n"
    "tokens = tokens - 1\n"
    "local wait = 0\n"
    "if tokens < 0 then wait = math.ceil(-tokens * 1000 / rate) end\n"
    "redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(math.max(now, ts)))\n"
    "redis.call('PEXPIRE', KEYS[1], 60000)\n"
    "return wait\n";

int
mxq_pace(struct cache *c, struct arena *a, const char *tenant_id,
    const char *page_id, int rate_per_s, int burst, long *wait_ms,
    struct gacp_err *err)
{
	char key[160], rate[16], cap[16], now[24];
	const char *vals[5];
	redisReply *r;
	int rc;

	*wait_ms = 0;
	snprintf(key, sizeof(key), "gacp:{%s}:pace:%s", tenant_id, page_id);
	snprintf(rate, sizeof(rate), "%d", rate_per_s > 0 ? rate_per_s : 250);
	snprintf(cap, sizeof(cap), "%d", burst > 0 ? burst : 250);
	snprintf(now, sizeof(now), "%lld", (long long)(util_wall_us() / 1000));
	vals[0] = key;
	vals[1] = rate;
	vals[2] = cap;
	vals[3] = now;
	vals[4] = NULL;
	rc = eval(c, a, pace_script, 1, vals, &r, err);
	if (rc != GACP_OK)
		return rc;
	if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
		*wait_ms = (long)r->integer;
	return GACP_OK;
}

/* KEYS[1]: stream; ARGV: group, consumer, id. */
static const char touch_script[] =
    "local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)\n"
    "if #p == 1 and p[1][2] == ARGV[2] then\n"
    "  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

int
mxq_touch(struct cache *c, struct arena *a, const char *consumer,
    const char *id, int *owned, struct gacp_err *err)
{
	const char *vals[] = { MXQ_STREAM, MXQ_GROUP, consumer, id, NULL };
	redisReply *r;
	int rc;

	*owned = 0;
	if ((rc = eval(c, a, touch_script, 1, vals, &r, err)) != GACP_OK)
		return rc;
	*owned = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	return GACP_OK;
}
