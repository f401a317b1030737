/* cache.c - lazy, reconnecting, time-bounded Redis connection (cache.h). */
#include "store/cache.h"
#include "common/arena.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "http/metrics.h"

#include <stdarg.h>
#include <string.h>
#include <sys/time.h>

void
cache_init(struct cache *c, const char *host, int port, const char *unix_path,
    const char *password, int timeout_ms, struct metrics *metrics)
{
	memset(c, 0, sizeof(*c));
	c->host = host ? xstrdup(host) : NULL;
	c->unix_path = (unix_path && unix_path[0]) ? xstrdup(unix_path) : NULL;
	c->port = port;
	c->password = (password && password[0]) ? xstrdup(password) : NULL;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
	c->metrics = metrics;
}

static void
drop(struct cache *c)
{
	if (c->ctx != NULL)
		redisFree(c->ctx);
	c->ctx = NULL;
}

void
cache_cleanup(struct cache *c)
{
	if (c == NULL)
		return;
	drop(c);
	free(c->host);
	free(c->unix_path);
	if (c->password != NULL)
		explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	c->host = c->unix_path = c->password = NULL;
}

int
cache_connect(struct cache *c, struct gacp_err *err)
{
	struct timeval tv;

	if (c->ctx != NULL && c->ctx->err == 0)
		return GACP_OK;
	drop(c);
	tv.tv_sec = c->timeout_ms / 1000;
	tv.tv_usec = (c->timeout_ms % 1000) * 1000;
	if (c->unix_path != NULL)
		c->ctx = redisConnectUnixWithTimeout(c->unix_path, tv);
	else
		c->ctx = redisConnectWithTimeout(c->host ? c->host : "127.0.0.1",
		    c->port, tv);
	metrics_counter_add(c->metrics, MC_REDIS_RECONNECTS, 1);
	if (c->ctx == NULL || c->ctx->err != 0 ||
	    redisSetTimeout(c->ctx, tv) != REDIS_OK) {
		log_msg(LOG_WARN, "redis_connect_failed", "%s",
		    c->ctx ? c->ctx->errstr : "out of memory");
		metrics_counter_add(c->metrics, MC_REDIS_ERRORS, 1);
		drop(c);
		return gacp_err_set(err, GACP_EUNAVAIL, "dependency_unavailable",
		    "redis unavailable");
	}
	if (c->password != NULL) {
		redisReply *r = redisCommand(c->ctx, "AUTH %s", c->password);
		int ok = r != NULL && r->type == REDIS_REPLY_STATUS;
		if (r != NULL)
			freeReplyObject(r);
		if (!ok) {
			log_msg(LOG_ERROR, "redis_auth_failed",
			    "AUTH refused or no answer");
			metrics_counter_add(c->metrics, MC_REDIS_ERRORS, 1);
			drop(c);
			return gacp_err_set(err, GACP_EUNAVAIL,
			    "dependency_unavailable", "redis unavailable");
		}
	}
	return GACP_OK;
}

static void
free_reply(void *p)
{
	freeReplyObject(p);
}

static int
finish(struct cache *c, struct arena *a, redisReply *reply, redisReply **out,
    struct gacp_err *err)
{
	if (reply == NULL) {
		log_msg(LOG_WARN, "redis_command_failed", "%s",
		    c->ctx ? c->ctx->errstr : "no connection");
		metrics_counter_add(c->metrics, MC_REDIS_ERRORS, 1);
		drop(c);
		return gacp_err_set(err, GACP_EUNAVAIL, "dependency_unavailable",
		    "redis unavailable");
	}
	arena_defer(a, free_reply, reply);
	*out = reply;
	if (reply->type == REDIS_REPLY_ERROR) {
		log_msg(LOG_WARN, "redis_error_reply", "%s", reply->str);
		metrics_counter_add(c->metrics, MC_REDIS_ERRORS, 1);
		/* LOADING/MASTERDOWN/READONLY: the server is not usable yet. */
		if (strncmp(reply->str, "LOADING", 7) == 0 ||
		    strncmp(reply->str, "MASTERDOWN", 10) == 0 ||
		    strncmp(reply->str, "READONLY", 8) == 0) {
			drop(c);
			return gacp_err_set(err, GACP_EUNAVAIL,
			    "dependency_unavailable", "redis unavailable");
		}
		return gacp_err_set(err, GACP_EINTERNAL, "internal",
		    "redis error");
	}
	return GACP_OK;
}

/* A connection that sat idle while Redis restarted fails on first use
 * with EOF (the server closed it, so the command was never run): retry that
 * case once on a fresh connection. */
static int
stale(struct cache *c, int reused, redisReply *reply)
{
	return reply == NULL && reused && c->ctx != NULL &&
	    c->ctx->err == REDIS_ERR_EOF;
}

int
cache_commandv(struct cache *c, struct arena *a, int argc, const char **argv,
    const size_t *argvlen, redisReply **out, struct gacp_err *err)
{
	int rc, reused = c->ctx != NULL;
	redisReply *reply;

	*out = NULL;
	if ((rc = cache_connect(c, err)) != GACP_OK)
		return rc;
	reply = redisCommandArgv(c->ctx, argc, argv, argvlen);
	if (stale(c, reused, reply)) {
		drop(c);
		if ((rc = cache_connect(c, err)) != GACP_OK)
			return rc;
		reply = redisCommandArgv(c->ctx, argc, argv, argvlen);
	}
	return finish(c, a, reply, out, err);
}

int
cache_command(struct cache *c, struct arena *a, redisReply **out,
    struct gacp_err *err, const char *fmt, ...)
{
	va_list ap;
	redisReply *reply;
	int rc, reused = c->ctx != NULL;

	*out = NULL;
	if ((rc = cache_connect(c, err)) != GACP_OK)
		return rc;
	va_start(ap, fmt);
	reply = redisvCommand(c->ctx, fmt, ap);
	va_end(ap);
	if (stale(c, reused, reply)) {
		drop(c);
		if ((rc = cache_connect(c, err)) != GACP_OK)
			return rc;
		va_start(ap, fmt);
		reply = redisvCommand(c->ctx, fmt, ap);
		va_end(ap);
	}
	return finish(c, a, reply, out, err);
}

int
cache_ping(struct cache *c, struct arena *a, struct gacp_err *err)
{
	redisReply *r;
	return cache_command(c, a, &r, err, "PING");
}
