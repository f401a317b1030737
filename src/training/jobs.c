/* jobs.c - running training jobs in Redis (jobs.h). */
#include "training/jobs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "store/cache.h"

static int	 refresh(struct cache *, struct arena *, const char *,
		    const char *, struct gacp_err *);
static void	*heartbeat_main(void *);

int
jobs_redis_load(struct jobs_redis *r, const struct config *cfg,
    struct gacp_err *err)
{
	memset(r, 0, sizeof(*r));
	r->host = config_get(cfg, "redis.host", "127.0.0.1");
	r->port = (int)config_get_int(cfg, "redis.port", 6379);
	r->unix_path = config_get(cfg, "redis.unix_socket", NULL);
	if (r->unix_path != NULL && r->unix_path[0] == '\0')
		r->unix_path = NULL;
	r->timeout_ms = (int)config_get_int(cfg, "redis.timeout_ms", 1000);
	r->sentinels = config_get(cfg, "redis.sentinels", NULL);
	if (r->sentinels != NULL && r->sentinels[0] == '\0')
		r->sentinels = NULL;
	r->master_name = config_get(cfg, "redis.master_name", "gacp");
	if (config_get(cfg, "redis.password_file", NULL) != NULL &&
	    (r->own_password = config_read_file(cfg, "redis.password_file",
	    NULL, err)) == NULL)
		return err ? err->result : GACP_EIO;
	r->password = r->own_password;
	if (r->sentinels != NULL &&
	    config_get(cfg, "redis.sentinel_password_file", NULL) != NULL &&
	    (r->own_sentinel_password = config_read_file(cfg,
	    "redis.sentinel_password_file", NULL, err)) == NULL) {
		jobs_redis_cleanup(r);
		return err ? err->result : GACP_EIO;
	}
	r->sentinel_password = r->own_sentinel_password;
	return GACP_OK;
}

void
jobs_redis_cleanup(struct jobs_redis *r)
{
	if (r->own_password != NULL)
		explicit_bzero(r->own_password, strlen(r->own_password));
	if (r->own_sentinel_password != NULL)
		explicit_bzero(r->own_sentinel_password,
		    strlen(r->own_sentinel_password));
	free(r->own_password);
	free(r->own_sentinel_password);
	r->own_password = r->own_sentinel_password = NULL;
	r->password = r->sentinel_password = NULL;
}

void
jobs_key(const char *tenant_id, char *out, size_t size)
{
	/* The tenant in a hash tag, as the other per-tenant keys: one slot
	 * per tenant on a cluster. */
	snprintf(out, size, "gacp:{%s}:nlu:training", tenant_id);
}

/* (Re)score the job JOBS_TTL_MS ahead and keep the key alive as long. */
static int
refresh(struct cache *c, struct arena *a, const char *tenant_id,
    const char *id, struct gacp_err *err)
{
	char key[96];
	redisReply *r;
	long long lapse = util_wall_us() / 1000 + JOBS_TTL_MS;
	int rc;

	jobs_key(tenant_id, key, sizeof(key));
	if ((rc = cache_command(c, a, &r, err, "ZADD %s %lld %s", key, lapse,
	    id)) != GACP_OK)
		return rc;
	return cache_command(c, a, &r, err, "PEXPIRE %s %d", key,
	    JOBS_TTL_MS);
}

static void *
heartbeat_main(void *arg)
{
	struct training_job *j = arg;
	struct cache c;
	struct arena a;
	struct timespec until;
	struct gacp_err err;

	cache_init(&c, j->redis.host, j->redis.port, j->redis.unix_path,
	    j->redis.password, j->redis.timeout_ms, NULL);
	arena_init(&a, 4096);
	gacp_err_clear(&err);
	if (j->redis.sentinels != NULL && cache_use_sentinels(&c,
	    j->redis.sentinels, j->redis.master_name,
	    j->redis.sentinel_password, &err) != GACP_OK)
		log_msg(LOG_WARN, "nlu_training_heartbeat_failed",
		    "tenant %s: %s", j->tenant_id, err.msg);
	pthread_mutex_lock(&j->mu);
	while (!j->stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += JOBS_HEARTBEAT_MS / 1000;
		until.tv_nsec += (long)(JOBS_HEARTBEAT_MS % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!j->stop && pthread_cond_timedwait(&j->cv, &j->mu,
		    &until) != ETIMEDOUT)
			;
		if (j->stop)
			break;
		pthread_mutex_unlock(&j->mu);
		gacp_err_clear(&err);
		/* A missed beat is retried at the next one; the entry only
		 * lapses after JOBS_TTL_MS without any. */
		if (refresh(&c, &a, j->tenant_id, j->id, &err) != GACP_OK)
			log_msg(LOG_WARN, "nlu_training_heartbeat_failed",
			    "tenant %s: %s", j->tenant_id, err.msg);
		arena_reset(&a);
		pthread_mutex_lock(&j->mu);
	}
	pthread_mutex_unlock(&j->mu);
	arena_cleanup(&a);
	cache_cleanup(&c);
	return NULL;
}

int
jobs_begin(struct training_job *j, struct cache *c, struct arena *a,
    const struct jobs_redis *r, const char *tenant_id, struct gacp_err *err)
{
	static unsigned long seq;
	char host[64];
	int rc;

	memset(j, 0, sizeof(*j));
	snprintf(j->tenant_id, sizeof(j->tenant_id), "%s", tenant_id);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(j->id, sizeof(j->id), "%s:%ld:%lu", host, (long)getpid(),
	    ++seq);
	if ((rc = refresh(c, a, j->tenant_id, j->id, err)) != GACP_OK)
		return rc;
	j->registered = true;
	if (r == NULL)
		return GACP_OK;
	j->host = r->host ? xstrdup(r->host) : NULL;
	j->unix_path = r->unix_path ? xstrdup(r->unix_path) : NULL;
	j->password = r->password ? xstrdup(r->password) : NULL;
	j->sentinels = r->sentinels ? xstrdup(r->sentinels) : NULL;
	j->master_name = r->master_name ? xstrdup(r->master_name) : NULL;
	j->sentinel_password = r->sentinel_password ?
	    xstrdup(r->sentinel_password) : NULL;
	j->redis = *r;
	j->redis.host = j->host;
	j->redis.unix_path = j->unix_path;
	j->redis.password = j->password;
	j->redis.sentinels = j->sentinels;
	j->redis.master_name = j->master_name;
	j->redis.sentinel_password = j->sentinel_password;
	j->redis.own_password = j->redis.own_sentinel_password = NULL;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	if (pthread_create(&j->thread, NULL, heartbeat_main, j) != 0) {
		/* Registered without a heartbeat: it lapses after
		 * JOBS_TTL_MS, which undercounts a long run but never
		 * leaves a phantom job. */
		log_msg(LOG_WARN, "nlu_training_heartbeat_failed",
		    "tenant %s: cannot start the heartbeat thread", tenant_id);
		pthread_mutex_destroy(&j->mu);
		pthread_cond_destroy(&j->cv);
		return GACP_OK;
	}
	j->running = true;
	return GACP_OK;
}

void
jobs_end(struct training_job *j, struct cache *c, struct arena *a)
{
	char key[96];
	redisReply *r;
	struct gacp_err err;

	if (j->running) {
		pthread_mutex_lock(&j->mu);
		j->stop = true;
		pthread_cond_signal(&j->cv);
		pthread_mutex_unlock(&j->mu);
		pthread_join(j->thread, NULL);
		pthread_mutex_destroy(&j->mu);
		pthread_cond_destroy(&j->cv);
		j->running = false;
	}
	if (j->registered) {
		gacp_err_clear(&err);
		jobs_key(j->tenant_id, key, sizeof(key));
		if (cache_command(c, a, &r, &err, "ZREM %s %s", key, j->id) !=
		    GACP_OK)
			log_msg(LOG_WARN, "nlu_training_unregister_failed",
			    "tenant %s: %s (the entry lapses by itself)",
			    j->tenant_id, err.msg);
		j->registered = false;
	}
	free(j->host);
	if (j->password != NULL)
		explicit_bzero(j->password, strlen(j->password));
	free(j->password);
	free(j->unix_path);
	if (j->sentinel_password != NULL)
		explicit_bzero(j->sentinel_password,
		    strlen(j->sentinel_password));
	free(j->sentinel_password);
	free(j->sentinels);
	free(j->master_name);
	j->host = j->password = j->unix_path = NULL;
	j->sentinels = j->master_name = j->sentinel_password = NULL;
}

int
jobs_count(struct cache *c, struct arena *a, const char *tenant_id,
    long long *out, struct gacp_err *err)
{
	char key[96];
	redisReply *r;
	int rc;

	*out = 0;
	jobs_key(tenant_id, key, sizeof(key));
	if ((rc = cache_command(c, a, &r, err, "ZCOUNT %s (%lld +inf", key,
	    (long long)(util_wall_us() / 1000))) != GACP_OK)
		return rc;
	if (r->type != REDIS_REPLY_INTEGER)
		return gacp_err_set(err, GACP_EINTERNAL, "internal",
		    "unexpected reply to ZCOUNT");
	*out = r->integer;
	return GACP_OK;
}
