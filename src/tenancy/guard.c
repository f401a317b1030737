/* guard.c - rate limits, deny-list, revocations and lockout in Redis (see guard.h). */
#include "tenancy/guard.h"
#include "common/arena.h"
#include "store/cache.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* KEYS[1] jti deny key, KEYS[2..] counters; ARGV[1] 1 to check the deny
 * key, ARGV[2] window seconds, ARGV[i + 1] the limit of KEYS[i].
 * Returns {verdict, retry_after}.  The counters are not written to the
 * AOF (REPL_NONE): Redis runs with appendfsync always for the event queue,
 * and a per-request fsync for a one-minute counter cost ~0.6 ms of every
 * authenticated request; a counter lost in a restart only restarts its
 * window.  The deny-list, revocations and lockouts stay durable. */
static const char request_script[] =
	"redis.set_repl(redis.REPL_NONE)\n"
	"if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then\n"
	"  return {1, 0}\n"
	"end\n"
	"for i = 2, #KEYS do\n"
	"  local n = redis.call('INCR', KEYS[i])\n"
	"  if n == 1 then redis.call('EXPIRE', KEYS[i], ARGV[2]) end\n"
	"  if n > tonumber(ARGV[i + 1]) then\n"
	"    local ttl = redis.call('TTL', KEYS[i])\n"
	"    if ttl < 0 then redis.call('EXPIRE', KEYS[i], ARGV[2]); ttl = tonumber(ARGV[2]) end\n"
	"    if ttl < 1 then ttl = 1 end\n"
	"    return {3, ttl}\n"
	"  end\n"
	"end\n"
	"return {0, 0}\n";

/* KEYS[1] the user's set of live jtis; ARGV[1] jti, ARGV[2] seconds. */
static const char track_script[] =
	"redis.call('SADD', KEYS[1], ARGV[1])\n"
	"redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
	"return 1\n";

/* KEYS[1] the user's set of live jtis; ARGV[1] the deny-key prefix (same
 * hash tag, so the same Cluster slot), ARGV[2] seconds.  Denies every
 * jti in the set, then forgets the set; returns how many. */
static const char revoke_script[] =
	"local jtis = redis.call('SMEMBERS', KEYS[1])\n"
	"for _, j in ipairs(jtis) do\n"
	"  redis.call('SET', ARGV[1] .. j, '1', 'EX', ARGV[2])\n"
	"end\n"
	"redis.call('DEL', KEYS[1])\n"
	"return #jtis\n";

/* KEYS[1] failure counter, KEYS[2] lock; ARGV[1] threshold, ARGV[2]
 * seconds.  Returns 1 when this failure locked the name. */
static const char fail_script[] =
	"local n = redis.call('INCR', KEYS[1])\n"
	"if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end\n"
	"if n >= tonumber(ARGV[1]) then\n"
	"  redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])\n"
	"  redis.call('DEL', KEYS[1])\n"
	"  return 1\n"
	"end\n"
	"return 0\n";

static int
eval(struct cache *c, struct arena *a, const char *script, int nkeys,
    const char *const *keys, int nargs, const char *const *args,
    redisReply **out, struct gacp_err *err)
{
	const char *vals[16];
	int n = 0, i;

	if (nkeys + nargs > (int)(sizeof(vals) / sizeof(vals[0])))
		return gacp_err_set(err, GACP_EINTERNAL, "internal",
		    "too many script arguments");
	for (i = 0; i < nkeys; i++)
		vals[n++] = keys[i];
	for (i = 0; i < nargs; i++)
		vals[n++] = args[i];
	return cache_eval(c, a, script, nkeys, (size_t)n, vals, NULL, out, err);
}

static int
pair_reply(const redisReply *r, long long *first, long long *second,
    struct gacp_err *err)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER)
		return gacp_err_set(err, GACP_EINTERNAL, "internal",
		    "unexpected reply from the rate limiter");
	*first = r->element[0]->integer;
	*second = r->element[1]->integer;
	return GACP_OK;
}

int
guard_request(struct cache *c, struct arena *a, const struct guard_request *r,
    enum guard_verdict *verdict, int64_t *retry_after_s, struct gacp_err *err)
{
	const char *keys[3], *args[4];
	char win[16], tlim[24], klim[24];
	redisReply *reply;
	long long v, retry;
	int nkeys = 2, rc;

	*verdict = GUARD_OK;
	*retry_after_s = 0;
	snprintf(win, sizeof(win), "%d", GUARD_WINDOW_S);
	snprintf(tlim, sizeof(tlim), "%ld", r->tenant_limit);
	snprintf(klim, sizeof(klim), "%ld", r->api_key_limit);
	keys[0] = arena_sprintf(a, "gacp:{%s}:jti:%s", r->tenant_id,
	    r->jti ? r->jti : "-");
	keys[1] = arena_sprintf(a, "gacp:{%s}:rl:tenant", r->tenant_id);
	args[0] = r->jti ? "1" : "0";
	args[1] = win;
	args[2] = tlim;
	if (r->api_key_id != NULL) {
		keys[2] = arena_sprintf(a, "gacp:{%s}:rl:key:%s", r->tenant_id,
		    r->api_key_id);
		args[3] = klim;
		nkeys = 3;
	}
	rc = eval(c, a, request_script, nkeys, keys, nkeys + 1, args, &reply,
	    err);
	if (rc != GACP_OK)
		return rc;
	if ((rc = pair_reply(reply, &v, &retry, err)) != GACP_OK)
		return rc;
	*verdict = (enum guard_verdict)v;
	*retry_after_s = retry;
	return GACP_OK;
}

int
guard_ip(struct cache *c, struct arena *a, const char *client_addr,
    long limit, bool *limited, int64_t *retry_after_s, struct gacp_err *err)
{
	const char *keys[2], *args[3];
	char win[16], lim[24];
	redisReply *reply;
	long long v, retry;
	int rc;

	*limited = false;
	*retry_after_s = 0;
	snprintf(win, sizeof(win), "%d", GUARD_WINDOW_S);
	snprintf(lim, sizeof(lim), "%ld", limit);
	/* The deny key is not checked ("0"); it only fills KEYS[1]. */
	keys[0] = keys[1] = arena_sprintf(a, "gacp:{ip:%s}:rl:auth",
	    client_addr ? client_addr : "unknown");
	args[0] = "0";
	args[1] = win;
	args[2] = lim;
	rc = eval(c, a, request_script, 2, keys, 3, args, &reply, err);
	if (rc != GACP_OK)
		return rc;
	if ((rc = pair_reply(reply, &v, &retry, err)) != GACP_OK)
		return rc;
	*limited = v == GUARD_RATE_LIMITED;
	*retry_after_s = retry;
	return GACP_OK;
}

int
guard_deny_jti(struct cache *c, struct arena *a, const char *tenant_id,
    const char *jti, int64_t ttl_s, struct gacp_err *err)
{
	redisReply *reply;
	char ttl[24];

	snprintf(ttl, sizeof(ttl), "%lld", (long long)(ttl_s > 0 ? ttl_s : 1));
	return cache_command(c, a, &reply, err, "SET gacp:{%s}:jti:%s 1 EX %s",
	    tenant_id, jti, ttl);
}

int
guard_track_jti(struct cache *c, struct arena *a, const char *tenant_id,
    const char *user_id, const char *jti, int64_t ttl_s, struct gacp_err *err)
{
	const char *keys[1], *args[2];
	char ttl[24];
	redisReply *reply;

	snprintf(ttl, sizeof(ttl), "%lld", (long long)(ttl_s > 0 ? ttl_s : 1));
	keys[0] = arena_sprintf(a, "gacp:{%s}:ujti:%s", tenant_id, user_id);
	args[0] = jti;
	args[1] = ttl;
	return eval(c, a, track_script, 1, keys, 2, args, &reply, err);
}

int
guard_revoke_user(struct cache *c, struct arena *a, const char *tenant_id,
    const char *user_id, int64_t ttl_s, struct gacp_err *err)
{
	const char *keys[1], *args[2];
	char ttl[24];
	redisReply *reply;

	snprintf(ttl, sizeof(ttl), "%lld", (long long)(ttl_s > 0 ? ttl_s : 1));
	keys[0] = arena_sprintf(a, "gacp:{%s}:ujti:%s", tenant_id, user_id);
	args[0] = arena_sprintf(a, "gacp:{%s}:jti:", tenant_id);
	args[1] = ttl;
	return eval(c, a, revoke_script, 1, keys, 2, args, &reply, err);
}

/* Lockout keys use the lower-cased name (names are unique that way); the
 * caller passes only names of the username format, so no key injection. */
static char *
lock_key(struct arena *a, const char *tenant_id, const char *username,
    const char *kind)
{
	char *name = arena_strdup(a, username), *p;

	for (p = name; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return arena_sprintf(a, "gacp:{%s}:login:%s:%s", tenant_id, kind, name);
}

int
guard_is_locked(struct cache *c, struct arena *a, const char *tenant_id,
    const char *username, bool *locked, struct gacp_err *err)
{
	redisReply *reply;
	int rc;

	*locked = false;
	rc = cache_command(c, a, &reply, err, "EXISTS %s",
	    lock_key(a, tenant_id, username, "locked"));
	if (rc == GACP_OK)
		*locked = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
	return rc;
}

int
guard_login_failed(struct cache *c, struct arena *a, const char *tenant_id,
    const char *username, long threshold, int64_t lock_s, bool *locked_now,
    struct gacp_err *err)
{
	const char *keys[2], *args[2];
	char th[24], secs[24];
	redisReply *reply;
	int rc;

	*locked_now = false;
	snprintf(th, sizeof(th), "%ld", threshold);
	snprintf(secs, sizeof(secs), "%lld", (long long)lock_s);
	keys[0] = lock_key(a, tenant_id, username, "failures");
	keys[1] = lock_key(a, tenant_id, username, "locked");
	args[0] = th;
	args[1] = secs;
	rc = eval(c, a, fail_script, 2, keys, 2, args, &reply, err);
	if (rc == GACP_OK)
		*locked_now = reply->type == REDIS_REPLY_INTEGER &&
		    reply->integer == 1;
	return rc;
}

int
guard_login_succeeded(struct cache *c, struct arena *a, const char *tenant_id,
    const char *username, struct gacp_err *err)
{
	redisReply *reply;

	return cache_command(c, a, &reply, err, "DEL %s",
	    lock_key(a, tenant_id, username, "failures"));
}

int
guard_unlock(struct cache *c, struct arena *a, const char *tenant_id,
    const char *username, bool *was_locked, struct gacp_err *err)
{
	redisReply *reply;
	int rc;

	*was_locked = false;
	rc = cache_command(c, a, &reply, err, "DEL %s %s",
	    lock_key(a, tenant_id, username, "locked"),
	    lock_key(a, tenant_id, username, "failures"));
	if (rc == GACP_OK)
		*was_locked = reply->type == REDIS_REPLY_INTEGER &&
		    reply->integer > 0;
	return rc;
}
