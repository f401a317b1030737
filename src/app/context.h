/* context.h - the per-process context and the per-request context.
 *
 * struct gacp_ctx is the one owner of everything long-lived in a process:
 * configuration, the PostgreSQL and Redis connections, the metrics slot, the
 * request arena and the reusable response buffers.  It is built once at
 * start-up by gacp_ctx_init() and torn down by gacp_ctx_cleanup(); nothing
 * else in the process is mutable and global.
 *
 * struct request_ctx lives for one request; handlers receive it.
 */
#ifndef GACP_APP_CONTEXT_H
#define GACP_APP_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/err.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "store/cache.h"
#include "store/db.h"

struct metrics;
struct keyring;
struct mx_channel_cache;
struct models;
struct nlu_parser;
struct password_hasher;
struct principal;
struct syscfg_cache;

struct gacp_ctx {
	const char         *program;       /* "gacp-api", "gacp-worker", … */
	struct config       cfg;
	struct db           db;
	struct cache        cache;
	struct metrics     *metrics;       /* NULL when not configured */
	const struct route *routes;        /* the const route table */
	size_t              nroutes;
	size_t              max_body_bytes;
	struct arena        arena;         /* per-request, reset after each */
	struct buf          body;          /* response body, reused */
	struct buf          out;           /* serialised response, reused */
	int64_t             started_us;    /* wall clock at start */
	struct keyring     *master_keys;   /* secrets-at-rest envelope keys
	                                    * (security.master_key_file), or
	                                    * NULL when not configured */
	struct mx_channel_cache *channel_cache; /* webhook page lookups */
	struct keyring     *jwt_keys;      /* access-token signing keys
	                                    * (security.jwt_keys_file), or
	                                    * NULL when not configured */
	struct password_hasher *hasher;    /* bcrypt; made at first use
	                                    * (tenancy_hasher), else NULL */
	struct models      *models;        /* tenants' NLU models (models.h) */
	struct nlu_parser  *parser;        /* NLU scratch; made at first use */
	struct syscfg_cache *config_cache; /* system configuration and the
	                                    * master-key reload
	                                    * (sysconfig/cache.h) */
};

struct request_ctx {
	struct gacp_ctx       *app;
	struct arena          *arena;
	struct http_request    req;
	struct http_response   resp;
	const struct route    *route;
	const char            *tenant_id;  /* once authenticated, else NULL */
	const char            *actor_id;   /* user or API key id, else NULL */
	const struct principal *principal; /* the authenticated caller
	                                    * (tenancy/tenancy.h), else NULL */
};

/* Load configuration (config_path NULL: config_default_path()), open logs
 * and the metrics slot, and prepare (not open) the store connections.
 * Returns 0 or an error with err filled. */
int  gacp_ctx_init(struct gacp_ctx *app, const char *program,
    const char *config_path, const struct route *routes, size_t nroutes,
    struct gacp_err *err);
void gacp_ctx_cleanup(struct gacp_ctx *app);

#endif
