/* cache.h - the process's Redis connection (hiredis).
 *
 * Like db.h: one connection per process, opened lazily, dropped on any
 * transport error and re-opened by the next call; every call bounded by a
 * socket timeout, so Redis being down gives GACP_EUNAVAIL quickly.
 * Replies are owned by the arena (freeReplyObject at reset).
 *
 * With Sentinel (cache_use_sentinels): every (re)connect first asks the
 * Sentinels, in order, for the current master of the monitored set
 * (SENTINEL get-master-addr-by-name) and then checks with ROLE that the
 * server it reached really is a master, so after a failover the next
 * connect finds the promoted replica.  A reply that shows the server is no
 * longer a writable master (READONLY, UNBLOCKED by a role change,
 * MASTERDOWN, LOADING) drops the connection like a transport error does.
 */
#ifndef GACP_STORE_CACHE_H
#define GACP_STORE_CACHE_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "common/err.h"

struct arena;
struct metrics;

/* One Sentinel address (redis.sentinels). */
struct cache_sentinel {
	char           *host;
	int             port;
};

#define CACHE_MAX_SENTINELS 16

#define CACHE_MAX_SCRIPTS 16   /* distinct scripts one process runs */

struct cache {
	redisContext   *ctx;
	char           *host;         /* host name/address, or NULL for unix */
	char           *unix_path;    /* unix socket path, or NULL */
	int             port;
	int             timeout_ms;   /* connect and per-command timeout */
	char           *password;     /* AUTH secret, or NULL */
	struct metrics *metrics;
	/* Sentinel discovery; nsentinels == 0 means host/port are used as is. */
	struct cache_sentinel *sentinels;  /* the one that answered first */
	size_t          nsentinels;
	char           *master_name;       /* the monitored set's name */
	char           *sentinel_password; /* Sentinel's own AUTH, or NULL */
	/* SHA-1 of each Lua script this process has run (cache_eval), found
	 * by the script's address: scripts are static strings. */
	struct cache_script {
		const char *body;
		char        sha1[41];
	}               scripts[CACHE_MAX_SCRIPTS];
	size_t          nscripts;
};

/* password (may be NULL) is copied; it is sent with AUTH on connect. */
void cache_init(struct cache *c, const char *host, int port,
    const char *unix_path, const char *password, int timeout_ms,
    struct metrics *metrics);
void cache_cleanup(struct cache *c);
/* Find the master through Sentinel from now on: list is
 * "host:port,host:port" (an IPv6 address in brackets, "[::1]:26379"),
 * master_name the monitored set's name, password (may be NULL) Sentinel's
 * own requirepass.  The master itself keeps the password of cache_init.
 * GACP_EINVAL "invalid_config" for a malformed list or name. */
int  cache_use_sentinels(struct cache *c, const char *list,
    const char *master_name, const char *password, struct gacp_err *err);
/* Parse a Sentinel list as above into *out (caller frees with
 * cache_sentinels_free).  Exposed for the unit tests. */
int  cache_sentinels_parse(const char *list, struct cache_sentinel **out,
    size_t *n, struct gacp_err *err);
void cache_sentinels_free(struct cache_sentinel *s, size_t n);
/* Read the answer to SENTINEL get-master-addr-by-name: a two-element
 * array (address, port).  A nil reply (the set is unknown to this
 * Sentinel) or anything else is GACP_ENOTFOUND / GACP_EINVAL. */
int  cache_sentinel_master_parse(const redisReply *r, char *host,
    size_t hostsz, int *port, struct gacp_err *err);
/* 1 when a ROLE reply says "master", else 0. */
int  cache_role_is_master(const redisReply *r);
int  cache_connect(struct cache *c, struct gacp_err *err);
/* PING round trip. */
int  cache_ping(struct cache *c, struct arena *a, struct gacp_err *err);
/* Run one command given as argv (binary-safe).  *out owned by the arena.
 * Errors: GACP_EUNAVAIL (transport; connection dropped), GACP_EINTERNAL
 * when Redis answered an error reply (*out is still set to it). */
int  cache_commandv(struct cache *c, struct arena *a, int argc,
    const char **argv, const size_t *argvlen, redisReply **out,
    struct gacp_err *err);
/* Run a Lua script (a static string: it is remembered by its address)
 * with EVALSHA, so the body is sent and hashed by Redis only when the
 * server does not have it yet (first use, or after a restart or failover
 * emptied its script cache: NOSCRIPT, then EVAL once, which runs and
 * loads it; NOSCRIPT means nothing ran, so the retry cannot run it
 * twice).  args: nkeys keys then the script's other arguments, nargs in
 * all; lens NULL for NUL-terminated args.  Answers and errors as
 * cache_commandv. */
int  cache_eval(struct cache *c, struct arena *a, const char *script,
    int nkeys, size_t nargs, const char *const *args, const size_t *lens,
    redisReply **out, struct gacp_err *err);
/* printf-style command (redisCommand formats: %s, %b, %d …). */
int  cache_command(struct cache *c, struct arena *a, redisReply **out,
    struct gacp_err *err, const char *fmt, ...);

#endif
