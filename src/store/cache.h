/* cache.h - the process's Redis connection (hiredis).
 *
 * Like db.h: one connection per process, opened lazily, dropped on any
 * transport error and re-opened by the next call; every call bounded by a
 * socket timeout, so Redis being down gives GACP_EUNAVAIL quickly.
 * Replies are owned by the arena (freeReplyObject at reset).
 */
#ifndef GACP_STORE_CACHE_H
#define GACP_STORE_CACHE_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "common/err.h"

struct arena;
struct metrics;

struct cache {
	redisContext   *ctx;
	char           *host;         /* host name/address, or NULL for unix */
	char           *unix_path;    /* unix socket path, or NULL */
	int             port;
	int             timeout_ms;   /* connect and per-command timeout */
	char           *password;     /* AUTH secret, or NULL */
	struct metrics *metrics;
};

/* password (may be NULL) is copied; it is sent with AUTH on connect. */
void cache_init(struct cache *c, const char *host, int port,
    const char *unix_path, const char *password, int timeout_ms,
    struct metrics *metrics);
void cache_cleanup(struct cache *c);
int  cache_connect(struct cache *c, struct gacp_err *err);
/* PING round trip. */
int  cache_ping(struct cache *c, struct arena *a, struct gacp_err *err);
/* Run one command given as argv (binary-safe).  *out owned by the arena.
 * Errors: GACP_EUNAVAIL (transport; connection dropped), GACP_EINTERNAL
 * when Redis answered an error reply (*out is still set to it). */
int  cache_commandv(struct cache *c, struct arena *a, int argc,
    const char **argv, const size_t *argvlen, redisReply **out,
    struct gacp_err *err);
/* printf-style command (redisCommand formats: %s, %b, %d …). */
int  cache_command(struct cache *c, struct arena *a, redisReply **out,
    struct gacp_err *err, const char *fmt, ...);

#endif
