/* cache.h - the per-process configuration cache and the master-key reload.
 *
 * Processes (gacp-api.fcgi, gacp-worker) read system configuration through
 * this cache: the effective value of a key for a tenant and environment is
 * the tenant's row, else the platform tenant's (the platform-wide default).
 * Entries stay until the configuration changes: every write bumps the Redis
 * counter gacp:config:version (svc.h), and syscfg_cache_tick(), called once
 * per request or loop turn, reads that counter at most every check interval
 * (config.cache_check_ms, 250 ms) and empties the cache when it moved, so a
 * change is seen within a second.  If Redis is unreachable, entries still
 * expire after config.cache_ttl_ms (30 s).
 *
 * The same tick notices a rewritten master key file (gacpctl rotate-key,
 * by inode/size/mtime) and reloads the keyring, so a process can open
 * values re-sealed under a new key and seals new ones under it without a
 * restart.  A file that fails to load keeps the previous keyring (logged).
 *
 * Values of encrypted rows are cached sealed and opened on each get.
 */
#ifndef GACP_SYSCONFIG_CACHE_H
#define GACP_SYSCONFIG_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "sysconfig/value.h"

struct arena;
struct gacp_ctx;
struct syscfg_cache;

struct syscfg_value {
	bool             found;
	enum syscfg_type type;
	char            *text;           /* canonical text (arena), opened */
	bool             from_platform;  /* the platform-wide default */
	int64_t          version;        /* of the row */
};

/* Prototypes */

struct syscfg_cache *syscfg_cache_new(int64_t check_us, int64_t ttl_us);
void syscfg_cache_free(struct syscfg_cache *c);

/* The cheap per-request check described above. */
void syscfg_cache_tick(struct gacp_ctx *app);
/* Drop every entry (tests; a process that knows it changed something). */
void syscfg_cache_clear(struct syscfg_cache *c);

/* The effective value (out->found false when neither scope has the key).
 * Outside a transaction it runs its own, read-only; inside one, that
 * transaction must be bound to tenant_id (a request's is) and is left
 * bound to it.  Errors: db errors; GACP_ECONFLICT "secret_unreadable" when
 * a sealed value does not open (logged, and audited when it ran its own
 * transaction). */
int  syscfg_cache_get(struct gacp_ctx *app, struct arena *a,
         const char *tenant_id, const char *environment, const char *key,
         struct syscfg_value *out, struct gacp_err *err);

/* Typed helpers over syscfg_cache_get: def when absent, of another type,
 * or on any error (logged). */
long long syscfg_get_int(struct gacp_ctx *app, struct arena *a,
         const char *tenant_id, const char *environment, const char *key,
         long long def);
/* A string value (arena) or def. */
const char *syscfg_get_str(struct gacp_ctx *app, struct arena *a,
         const char *tenant_id, const char *environment, const char *key,
         const char *def);
bool      syscfg_get_bool(struct gacp_ctx *app, struct arena *a,
         const char *tenant_id, const char *environment, const char *key,
         bool def);

#endif
