/* guard.h - Redis-backed request guards: rate limits, the access-token deny-list, user revocations and login lockout.
 *
 * All state lives in Redis with a TTL, so nothing here needs cleaning up
 * and every process sees the same counters.  Keys carry the tenant as a
 * hash tag ("gacp:{<tenant>}:…") so the keys of one check stay in one
 * Redis Cluster slot; per-address keys use "{ip:<addr>}".
 *
 * Rate limits are fixed one-minute windows starting at the first request
 * (INCR + EXPIRE in one Lua script, so concurrent processes never lose an
 * increment); the answer to an exceeded limit carries the seconds until
 * the window ends, for Retry-After.
 *
 * Access tokens of a user are tracked (a set of jtis per user) so that a
 * change to the user can deny exactly the tokens issued so far.
 *
 * Every function needs Redis: GACP_EUNAVAIL when it is down, and callers
 * fail closed (503), never open — a dead Redis must not switch off the
 * deny-list or the lockout.
 */
#ifndef GACP_TENANCY_GUARD_H
#define GACP_TENANCY_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

struct arena;
struct cache;

#define GUARD_WINDOW_S 60

enum guard_verdict {
	GUARD_OK = 0,
	GUARD_JTI_DENIED = 1,   /* logged out, or its user was changed */
	GUARD_RATE_LIMITED = 3,
};

/* One authenticated request. */
struct guard_request {
	const char *tenant_id;
	long        tenant_limit;      /* per minute */
	const char *api_key_id;        /* NULL for user tokens */
	long        api_key_limit;     /* per minute, with api_key_id */
	const char *jti;               /* user tokens: deny-list check */
};

/* Prototypes */

/* Check the deny-list (tokens) and count the request
 * against the tenant's and the key's limits, in one round trip.
 * *retry_after_s is set for GUARD_RATE_LIMITED. */
int guard_request(struct cache *c, struct arena *a,
        const struct guard_request *r, enum guard_verdict *verdict,
        int64_t *retry_after_s, struct gacp_err *err);

/* Count one request of client_addr against limit per minute (the
 * authentication endpoints).  *limited and *retry_after_s as above. */
int guard_ip(struct cache *c, struct arena *a, const char *client_addr,
        long limit, bool *limited, int64_t *retry_after_s,
        struct gacp_err *err);

/* Deny an access token's jti for ttl_s seconds (its remaining life). */
int guard_deny_jti(struct cache *c, struct arena *a, const char *tenant_id,
        const char *jti, int64_t ttl_s, struct gacp_err *err);

/* Remember that jti was issued to user_id (for ttl_s seconds, the
 * token's life), so guard_revoke_user can find it.  Every issued access
 * token is tracked before it is handed out. */
int guard_track_jti(struct cache *c, struct arena *a, const char *tenant_id,
        const char *user_id, const char *jti, int64_t ttl_s,
        struct gacp_err *err);

/* Deny every tracked access token of user_id for ttl_s seconds (the
 * longest a token lives).  Used when a user is deleted, deactivated,
 * changes roles or password: exact, unlike a "revoked before" time, which
 * JWT's whole-second iat cannot place before or after a change made in
 * the same second as a login. */
int guard_revoke_user(struct cache *c, struct arena *a, const char *tenant_id,
        const char *user_id, int64_t ttl_s, struct gacp_err *err);

/* Lockout, per tenant and lower-cased username. */
int guard_is_locked(struct cache *c, struct arena *a, const char *tenant_id,
        const char *username, bool *locked, struct gacp_err *err);
/* Count a failure; at threshold the name is locked for lock_s seconds and
 * *locked_now is set (once, when it happens). */
int guard_login_failed(struct cache *c, struct arena *a,
        const char *tenant_id, const char *username, long threshold,
        int64_t lock_s, bool *locked_now, struct gacp_err *err);
/* Forget the failures after a successful login. */
int guard_login_succeeded(struct cache *c, struct arena *a,
        const char *tenant_id, const char *username, struct gacp_err *err);
/* Lift a lockout; *was_locked tells whether there was one. */
int guard_unlock(struct cache *c, struct arena *a, const char *tenant_id,
        const char *username, bool *was_locked, struct gacp_err *err);

#endif
