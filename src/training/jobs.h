/* jobs.h - running training jobs, registered in Redis so GET /status can count them.
 *
 * Each tenant has one sorted set, gacp:{<tenant_id>}:nlu:training, whose
 * members are job ids ("<host>:<pid>:<n>") scored with the time (ms since
 * the epoch) at which the registration lapses.  A job is registered when
 * a trainer starts on the tenant's data and removed when it finishes; in
 * between a heartbeat thread pushes the lapse time JOBS_TTL_MS ahead every
 * JOBS_HEARTBEAT_MS.  A trainer that dies (killed, host lost) stops the
 * heartbeat, and its entry stops counting at most JOBS_TTL_MS later: the
 * count is ZCOUNT over scores in the future, so a stale member never
 * counts even before anything removes it, and the key itself expires
 * JOBS_TTL_MS after the last heartbeat of any job.
 *
 * The heartbeat thread owns its own Redis connection (a hiredis context
 * must not be shared between threads); the caller's connection is used
 * only for the registration and the removal, from the caller's thread.
 * Redis being unavailable never fails a training run: registration errors
 * are returned so the caller can log them, and the run goes on
 * unregistered.
 */
#ifndef GACP_TRAINING_JOBS_H
#define GACP_TRAINING_JOBS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

struct arena;
struct cache;
struct config;

/* A registration stops counting this long after its last heartbeat. */
#define JOBS_TTL_MS       30000
#define JOBS_HEARTBEAT_MS 10000

/* How the heartbeat thread connects (copied; see store/cache.h). */
struct jobs_redis {
	const char *host;
	int         port;
	const char *unix_path;
	const char *password;      /* may be NULL */
	int         timeout_ms;
	/* Sentinel discovery as cache_use_sentinels; sentinels NULL: none. */
	const char *sentinels;
	const char *master_name;
	const char *sentinel_password;
	/* secrets read by jobs_redis_load (freed by jobs_redis_cleanup) */
	char       *own_password, *own_sentinel_password;
};

/* One registered job. */
struct training_job {
	char            tenant_id[37];
	char            id[96];
	bool            registered;
	/* heartbeat thread */
	bool            running;
	bool            stop;
	pthread_t       thread;
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	struct jobs_redis redis;
	char           *host, *unix_path, *password;  /* owned copies */
	char           *sentinels, *master_name, *sentinel_password;
};

/* Prototypes */

/* The redis.* settings of gacp.conf(5) (host, port, unix_socket,
 * password_file, timeout_ms, sentinels, master_name,
 * sentinel_password_file), secrets read from their files; r's strings
 * point into cfg or into r.  Error when a secret file cannot be read. */
int  jobs_redis_load(struct jobs_redis *r, const struct config *cfg,
         struct gacp_err *err);
void jobs_redis_cleanup(struct jobs_redis *r);

/* Register a job of tenant_id through c and start its heartbeat (r names
 * the server for the heartbeat's own connection; NULL: no heartbeat, the
 * registration then lapses after JOBS_TTL_MS).  On error j is left
 * unregistered (jobs_end is still safe to call). */
int  jobs_begin(struct training_job *j, struct cache *c, struct arena *a,
         const struct jobs_redis *r, const char *tenant_id,
         struct gacp_err *err);
/* Stop the heartbeat and remove the registration (best effort: an entry
 * that cannot be removed lapses by itself).  Safe on a job whose
 * jobs_begin failed. */
void jobs_end(struct training_job *j, struct cache *c, struct arena *a);

/* Jobs of tenant_id registered and not lapsed. */
int  jobs_count(struct cache *c, struct arena *a, const char *tenant_id,
         long long *out, struct gacp_err *err);

/* Redis key of a tenant's jobs (static storage is not used: out must hold
 * at least 80 bytes). */
void jobs_key(const char *tenant_id, char *out, size_t size);

#endif
