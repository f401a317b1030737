/* agent.c - self-registration thread of the platform's processes (see agent.h). */
#include "registry/agent.h"
#include "common/arena.h"
#include "common/config.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "store/db.h"
#include "store/registry_store.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#define NIL_TENANT "00000000-0000-0000-0000-000000000000"
/* The agent's own queries must not hold up a graceful stop for long. */
#define AGENT_QUERY_TIMEOUT_MS 3000
/* How long a stopping process waits for the agent to deregister. */
#define AGENT_STOP_WAIT_S      8

struct registry_agent {
	pthread_t       thread;
	pthread_mutex_t lock;
	pthread_cond_t  wake;
	bool            stop;             /* under lock */

	struct db       db;               /* the agent's own connection */
	struct arena    arena;
	struct service_new entry;         /* strings below own the texts */
	char           *name, *type, *host, *endpoint, *version, *env, *config;
	char            actor[320];       /* "gacp-api@host:pid" */
	int             ttl_s;
	long long       grace_s;
	char            id[37];           /* "" until registered */
	char            audit_tenant[37]; /* platform tenant, found once */
	bool            failing;          /* last cycle failed (log once) */
};

static int
audit(struct registry_agent *ag, const char *action,
    const struct service_row *r, struct gacp_err *err)
{
	const char *p[6];
	PGresult *res;
	struct json_object *d = json_object_new_object();
	int rc;

	json_object_object_add(d, "service_name",
	    json_object_new_string(r->service_name));
	json_object_object_add(d, "service_type",
	    json_object_new_string(r->service_type));
	json_object_object_add(d, "host", json_object_new_string(r->host));
	json_object_object_add(d, "port", json_object_new_int(r->port));
	json_object_object_add(d, "pid", json_object_new_int((int)getpid()));
	p[0] = ag->audit_tenant;
	p[1] = ag->actor;
	p[2] = action;
	p[3] = r->id;
	p[4] = arena_strdup(&ag->arena, json_object_to_json_string_ext(d,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(d);
	p[5] = NULL;
	rc = db_exec(&ag->db, &ag->arena, "INSERT INTO audit_log (tenant_id,"
	    " actor_type, actor_id, action, resource_type, resource_id,"
	    " details) VALUES ($1::uuid, 'system', $2, $3, 'service', $4,"
	    " $5::jsonb)", 5, p, &res, err);
	return rc;
}

/* BEGIN in the platform scope, bound to the platform tenant (for the
 * audit rows; the nil tenant before one exists). */
static int
begin(struct registry_agent *ag, struct gacp_err *err)
{
	int rc;

	if ((rc = db_begin(&ag->db, &ag->arena, NULL, err)) != GACP_OK)
		return rc;
	if ((rc = db_set_platform_admin(&ag->db, &ag->arena, err)) != GACP_OK)
		return rc;
	if (ag->audit_tenant[0] == '\0') {
		rc = registry_store_platform_tenant(&ag->db, &ag->arena,
		    ag->audit_tenant, err);
		if (rc == GACP_ENOTFOUND) {
			snprintf(ag->audit_tenant, sizeof(ag->audit_tenant),
			    "%s", NIL_TENANT);
			rc = GACP_OK;
		}
		if (rc != GACP_OK)
			return rc;
	}
	return db_set_tenant(&ag->db, &ag->arena, ag->audit_tenant, err);
}

static int
do_register(struct registry_agent *ag, struct gacp_err *err)
{
	struct service_row *r;
	int rc;

	if ((rc = registry_store_insert(&ag->db, &ag->arena, &ag->entry, &r,
	    err)) != GACP_OK)
		return rc;
	if ((rc = audit(ag, "service.register", r, err)) != GACP_OK)
		return rc;
	snprintf(ag->id, sizeof(ag->id), "%s", r->id);
	return GACP_OK;
}

/* One round: register (or re-register an entry someone removed), or
 * heartbeat; then prune the long dead.  One transaction. */
static int
cycle(struct registry_agent *ag, struct gacp_err *err)
{
	struct service_row *r;
	char registered[37];
	long pruned = 0;
	int rc;

	registered[0] = '\0';
	if ((rc = begin(ag, err)) != GACP_OK)
		goto out;
	if (ag->id[0] != '\0') {
		rc = registry_store_heartbeat(&ag->db, &ag->arena, ag->id, &r,
		    err);
		if (rc == GACP_ENOTFOUND) {
			log_msg(LOG_WARN, "registry_entry_gone", "registry "
			    "entry %s was removed; registering again", ag->id);
			ag->id[0] = '\0';
			rc = GACP_OK;
		}
		if (rc != GACP_OK)
			goto out;
	}
	if (ag->id[0] == '\0') {
		if ((rc = do_register(ag, err)) != GACP_OK)
			goto out;
		snprintf(registered, sizeof(registered), "%s", ag->id);
	}
	if ((rc = registry_store_prune(&ag->db, &ag->arena, ag->grace_s,
	    ag->audit_tenant, ag->actor, &pruned, err)) != GACP_OK)
		goto out;
	rc = db_commit(&ag->db, &ag->arena, err);
out:
	if (rc != GACP_OK) {
		db_rollback(&ag->db, &ag->arena);
		/* A registration that did not commit did not happen. */
		if (registered[0] != '\0')
			ag->id[0] = '\0';
		return rc;
	}
	if (registered[0] != '\0')
		log_msg(LOG_INFO, "registry_registered", "registered as %s "
		    "(%s, ttl %ds)", registered, ag->actor, ag->ttl_s);
	if (pruned > 0)
		log_msg(LOG_INFO, "registry_pruned", "pruned %ld expired "
		    "registry entries", pruned);
	return GACP_OK;
}

static void
deregister(struct registry_agent *ag)
{
	struct service_row *r;
	struct gacp_err err;
	int rc;

	if (ag->id[0] == '\0')
		return;
	gacp_err_clear(&err);
	if ((rc = begin(ag, &err)) == GACP_OK &&
	    (rc = registry_store_delete(&ag->db, &ag->arena, ag->id, &r,
	    &err)) == GACP_OK &&
	    (rc = audit(ag, "service.deregister", r, &err)) == GACP_OK)
		rc = db_commit(&ag->db, &ag->arena, &err);
	if (rc == GACP_OK) {
		log_msg(LOG_INFO, "registry_deregistered", "deregistered %s",
		    ag->id);
	} else if (rc != GACP_ENOTFOUND) {
		/* The entry expires by its TTL instead. */
		log_msg(LOG_WARN, "registry_deregister_failed",
		    "cannot deregister %s: %s", ag->id, err.msg);
	}
	db_rollback(&ag->db, &ag->arena);
	arena_reset(&ag->arena);
}

static void *
run(void *arg)
{
	struct registry_agent *ag = arg;
	struct gacp_err err;
	struct timespec until;
	int interval_s = ag->ttl_s / 3 > 0 ? ag->ttl_s / 3 : 1;

	for (;;) {
		pthread_mutex_lock(&ag->lock);
		if (ag->stop) {
			pthread_mutex_unlock(&ag->lock);
			break;
		}
		pthread_mutex_unlock(&ag->lock);

		gacp_err_clear(&err);
		if (cycle(ag, &err) != GACP_OK) {
			if (!ag->failing)
				log_msg(LOG_WARN, "registry_unavailable",
				    "cannot register/heartbeat (%s: %s); "
				    "retrying every %ds", err.code, err.msg,
				    interval_s);
			ag->failing = true;
		} else if (ag->failing) {
			log_msg(LOG_INFO, "registry_recovered",
			    "registry reachable again");
			ag->failing = false;
		}
		arena_reset(&ag->arena);

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += interval_s;
		pthread_mutex_lock(&ag->lock);
		while (!ag->stop && pthread_cond_timedwait(&ag->wake,
		    &ag->lock, &until) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&ag->lock);
	}
	deregister(ag);
	return NULL;
}

static char *
config_json(const struct registry_agent_info *info)
{
	struct json_object *o = json_object_new_object();
	char *text;

	json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
	if (info->socket != NULL)
		json_object_object_add(o, "socket",
		    json_object_new_string(info->socket));
	if (info->extra_key != NULL && info->extra_value != NULL)
		json_object_object_add(o, info->extra_key,
		    json_object_new_string(info->extra_value));
	text = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

static void
agent_free(struct registry_agent *ag)
{
	db_cleanup(&ag->db);
	arena_cleanup(&ag->arena);
	pthread_cond_destroy(&ag->wake);
	pthread_mutex_destroy(&ag->lock);
	free(ag->name);
	free(ag->type);
	free(ag->host);
	free(ag->endpoint);
	free(ag->version);
	free(ag->env);
	free(ag->config);
	free(ag);
}

struct registry_agent *
registry_agent_start(const struct config *cfg,
    const struct registry_agent_info *info)
{
	struct registry_agent *ag;
	sigset_t all, old;
	const char *env;
	char host[256];
	long long ttl, timeout;
	int rc;

	if (!config_get_bool(cfg, "registry.enabled", true))
		return NULL;
	ttl = config_get_int(cfg, "registry.ttl_s", 30);
	if (ttl < 3 || ttl > 86400) {
		log_msg(LOG_WARN, "registry_config", "registry.ttl_s %lld is "
		    "out of 3..86400; using 30", ttl);
		ttl = 30;
	}
	env = config_get(cfg, "registry.environment", "production");
	if (strcmp(env, "development") != 0 && strcmp(env, "staging") != 0 &&
	    strcmp(env, "production") != 0) {
		log_msg(LOG_WARN, "registry_config", "registry.environment "
		    "must be development, staging or production; using "
		    "production");
		env = "production";
	}
	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';

	ag = xcalloc(1, sizeof(*ag));
	pthread_mutex_init(&ag->lock, NULL);
	/* Realtime deadlines (the default clock): a clock step only makes
	 * one heartbeat early or late. */
	pthread_cond_init(&ag->wake, NULL);
	arena_init(&ag->arena, 16384);
	timeout = config_get_int(cfg, "database.query_timeout_ms", 5000);
	db_init(&ag->db, config_get(cfg, "database.conninfo",
	    "dbname=gacp user=gacp_app connect_timeout=2"),
	    (int)(timeout < AGENT_QUERY_TIMEOUT_MS ? timeout :
	    AGENT_QUERY_TIMEOUT_MS), NULL);
	ag->name = xstrdup(info->service_name);
	ag->type = xstrdup(info->service_type);
	ag->host = xstrdup(host);
	ag->endpoint = info->health_check_endpoint ?
	    xstrdup(info->health_check_endpoint) : NULL;
	ag->version = xstrdup(PACKAGE_VERSION);
	ag->env = xstrdup(env);
	ag->config = config_json(info);
	ag->ttl_s = (int)ttl;
	ag->grace_s = config_get_int(cfg, "registry.prune_after_s", 600);
	if (ag->grace_s < 0)
		ag->grace_s = 600;
	snprintf(ag->actor, sizeof(ag->actor), "%.40s@%.255s:%ld", info->service_name,
	    host, (long)getpid());
	ag->entry.service_name = ag->name;
	ag->entry.service_type = ag->type;
	ag->entry.host = ag->host;
	ag->entry.port = info->port;
	ag->entry.health_check_endpoint = ag->endpoint;
	ag->entry.version = ag->version;
	ag->entry.environment = ag->env;
	ag->entry.weight = 100;
	ag->entry.service_config = ag->config;
	ag->entry.ttl_seconds = ag->ttl_s;
	ag->entry.self_registered = true;
	ag->entry.registered_by = ag->actor;

	/* Signals stay with the main thread: SIGTERM must interrupt its
	 * accept(), never land here. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&ag->thread, NULL, run, ag);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_msg(LOG_WARN, "registry_agent_failed", "cannot start the "
		    "registry agent: %s", strerror(rc));
		agent_free(ag);
		return NULL;
	}
	return ag;
}

void
registry_agent_stop(struct registry_agent *ag)
{
	struct timespec until;
	int rc;

	if (ag == NULL)
		return;
	pthread_mutex_lock(&ag->lock);
	ag->stop = true;
	pthread_cond_signal(&ag->wake);
	pthread_mutex_unlock(&ag->lock);
	/* Bounded: a database that hangs (a connect to an unreachable host
	 * without connect_timeout) must not hold up the process's exit.  The
	 * thread is then left to die with the process, its entry to expire. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += AGENT_STOP_WAIT_S;
	rc = pthread_timedjoin_np(ag->thread, NULL, &until);
	if (rc != 0) {
		log_msg(LOG_WARN, "registry_stop_timeout", "registry agent did "
		    "not finish within %ds; the entry will expire by its TTL",
		    AGENT_STOP_WAIT_S);
		return;
	}
	agent_free(ag);
}
