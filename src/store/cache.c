/* cache.c - lazy, reconnecting, time-bounded Redis connection (cache.h). */
#include "store/cache.h"
#include "common/arena.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "http/metrics.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <limits.h>

#include <openssl/evp.h>
#include <poll.h>
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

static void
free_secret(char **p)
{
	if (*p != NULL)
		explicit_bzero(*p, strlen(*p));
	free(*p);
	*p = NULL;
}

void
cache_sentinels_free(struct cache_sentinel *s, size_t n)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < n; i++)
		free(s[i].host);
	free(s);
}

void
cache_cleanup(struct cache *c)
{
	if (c == NULL)
		return;
	drop(c);
	free(c->host);
	free(c->unix_path);
	free_secret(&c->password);
	free_secret(&c->sentinel_password);
	cache_sentinels_free(c->sentinels, c->nsentinels);
	free(c->master_name);
	c->sentinels = NULL;
	c->nsentinels = 0;
	c->host = c->unix_path = c->master_name = NULL;
}

/* One "host:port" or "[v6]:port" item of len bytes at p. */
static int
parse_sentinel(const char *p, size_t len, struct cache_sentinel *out,
    struct gacp_err *err)
{
	const char *colon, *host = p;
	size_t hostlen;
	char portbuf[8], *end;
	long port;

	while (len > 0 && isspace((unsigned char)*p)) {
		p++;
		len--;
		host = p;
	}
	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	if (len == 0)
		return gacp_err_set(err, GACP_EINVAL, "invalid_config",
		    "redis.sentinels: empty item");
	colon = NULL;
	for (size_t i = len; i > 0; i--)
		if (p[i - 1] == ':') {
			colon = p + i - 1;
			break;
		}
	if (colon == NULL)
		return gacp_err_set(err, GACP_EINVAL, "invalid_config",
		    "redis.sentinels: \"%.*s\" has no :port", (int)len, p);
	hostlen = (size_t)(colon - p);
	if (hostlen >= 2 && p[0] == '[' && p[hostlen - 1] == ']') {
		host = p + 1;
		hostlen -= 2;
	} else if (memchr(p, ':', hostlen) != NULL) {
		return gacp_err_set(err, GACP_EINVAL, "invalid_config",
		    "redis.sentinels: write an IPv6 address as [addr]:port");
	}
	if (hostlen == 0 || hostlen > 255 || memchr(host, ']', hostlen) ||
	    memchr(host, '[', hostlen))
		return gacp_err_set(err, GACP_EINVAL, "invalid_config",
		    "redis.sentinels: bad host in \"%.*s\"", (int)len, p);
	len -= (size_t)(colon + 1 - p);
	if (len == 0 || len >= sizeof(portbuf))
		return gacp_err_set(err, GACP_EINVAL, "invalid_config",
		    "redis.sentinels: bad port");
	memcpy(portbuf, colon + 1, len);
	portbuf[len] = '\0';
	if (!isdigit((unsigned char)portbuf[0]))
		return gacp_err_set(err, GACP_EINVAL, "invalid_config",
		    "redis.sentinels: bad port \"%s\"", portbuf);
	port = strtol(portbuf, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return gacp_err_set(err, GACP_EINVAL, "invalid_config",
		    "redis.sentinels: bad port \"%s\"", portbuf);
	out->host = xmalloc(hostlen + 1);
	memcpy(out->host, host, hostlen);
	out->host[hostlen] = '\0';
	out->port = (int)port;
	return GACP_OK;
}

int
cache_sentinels_parse(const char *list, struct cache_sentinel **out,
    size_t *n, struct gacp_err *err)
{
	struct cache_sentinel *s;
	const char *p, *comma;
	size_t count = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (list == NULL || list[0] == '\0')
		return gacp_err_set(err, GACP_EINVAL, "invalid_config",
		    "redis.sentinels is empty");
	s = xcalloc(CACHE_MAX_SENTINELS, sizeof(*s));
	for (p = list;; p = comma + 1) {
		comma = strchr(p, ',');
		if (count == CACHE_MAX_SENTINELS) {
			rc = gacp_err_set(err, GACP_EINVAL, "invalid_config",
			    "redis.sentinels: more than %d addresses",
			    CACHE_MAX_SENTINELS);
			goto fail;
		}
		rc = parse_sentinel(p, comma ? (size_t)(comma - p) : strlen(p),
		    &s[count], err);
		if (rc != GACP_OK)
			goto fail;
		count++;
		if (comma == NULL)
			break;
	}
	*out = s;
	*n = count;
	return GACP_OK;
fail:
	cache_sentinels_free(s, count);
	return rc;
}

int
cache_use_sentinels(struct cache *c, const char *list,
    const char *master_name, const char *password, struct gacp_err *err)
{
	struct cache_sentinel *s;
	size_t n;
	int rc;

	if (master_name == NULL || master_name[0] == '\0' ||
	    strlen(master_name) > 128 || strpbrk(master_name, " \t\r\n"))
		return gacp_err_set(err, GACP_EINVAL, "invalid_config",
		    "redis.master_name must be a name without spaces");
	if ((rc = cache_sentinels_parse(list, &s, &n, err)) != GACP_OK)
		return rc;
	drop(c);
	cache_sentinels_free(c->sentinels, c->nsentinels);
	free(c->master_name);
	free_secret(&c->sentinel_password);
	c->sentinels = s;
	c->nsentinels = n;
	c->master_name = xstrdup(master_name);
	c->sentinel_password = (password && password[0]) ?
	    xstrdup(password) : NULL;
	return GACP_OK;
}

static int
reply_is_str(const redisReply *r)
{
	return r != NULL && (r->type == REDIS_REPLY_STRING ||
	    r->type == REDIS_REPLY_STATUS) && r->str != NULL;
}

int
cache_sentinel_master_parse(const redisReply *r, char *host, size_t hostsz,
    int *port, struct gacp_err *err)
{
	char portbuf[8], *end;
	long v;

	if (r == NULL)
		return gacp_err_set(err, GACP_EUNAVAIL, "dependency_unavailable",
		    "no answer from sentinel");
	if (r->type == REDIS_REPLY_NIL)
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "sentinel does not know that master");
	if (r->type == REDIS_REPLY_ERROR)
		return gacp_err_set(err, GACP_EINVAL, "sentinel_error",
		    "sentinel answered an error");
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    !reply_is_str(r->element[0]) || !reply_is_str(r->element[1]) ||
	    r->element[0]->len == 0 || r->element[0]->len >= hostsz ||
	    memchr(r->element[0]->str, '\0', r->element[0]->len) != NULL ||
	    r->element[1]->len == 0 || r->element[1]->len >= sizeof(portbuf))
		return gacp_err_set(err, GACP_EINVAL, "sentinel_error",
		    "unexpected sentinel reply");
	memcpy(portbuf, r->element[1]->str, r->element[1]->len);
	portbuf[r->element[1]->len] = '\0';
	if (!isdigit((unsigned char)portbuf[0]))
		return gacp_err_set(err, GACP_EINVAL, "sentinel_error",
		    "unexpected sentinel reply");
	v = strtol(portbuf, &end, 10);
	if (*end != '\0' || v < 1 || v > 65535)
		return gacp_err_set(err, GACP_EINVAL, "sentinel_error",
		    "unexpected sentinel reply");
	memcpy(host, r->element[0]->str, r->element[0]->len);
	host[r->element[0]->len] = '\0';
	*port = (int)v;
	return GACP_OK;
}

int
cache_role_is_master(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
	    reply_is_str(r->element[0]) && r->element[0]->len == 6 &&
	    memcmp(r->element[0]->str, "master", 6) == 0;
}

static struct timeval
timeout_tv(const struct cache *c)
{
	struct timeval tv;

	tv.tv_sec = c->timeout_ms / 1000;
	tv.tv_usec = (c->timeout_ms % 1000) * 1000;
	return tv;
}

/* AUTH on a fresh connection; 0 when accepted. */
static int
auth(redisContext *ctx, const char *password)
{
	redisReply *r = redisCommand(ctx, "AUTH %s", password);
	int ok = r != NULL && r->type == REDIS_REPLY_STATUS;

	if (r != NULL)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

/* Ask one Sentinel for the master's address.  0 and host/port filled, or -1
 * (logged) when this Sentinel cannot say. */
static int
ask_sentinel(struct cache *c, const struct cache_sentinel *s, char *host,
    size_t hostsz, int *port)
{
	struct timeval tv = timeout_tv(c);
	struct gacp_err e;
	redisContext *ctx;
	redisReply *r = NULL;
	int rc = -1;

	ctx = redisConnectWithTimeout(s->host, s->port, tv);
	if (ctx == NULL || ctx->err != 0 ||
	    redisSetTimeout(ctx, tv) != REDIS_OK) {
		log_msg(LOG_WARN, "redis_sentinel_unreachable", "%s:%d: %s",
		    s->host, s->port, ctx ? ctx->errstr : "out of memory");
		goto out;
	}
	if (c->sentinel_password != NULL &&
	    auth(ctx, c->sentinel_password) != 0) {
		log_msg(LOG_ERROR, "redis_sentinel_auth_failed", "%s:%d",
		    s->host, s->port);
		goto out;
	}
	r = redisCommand(ctx, "SENTINEL get-master-addr-by-name %s",
	    c->master_name);
	if (cache_sentinel_master_parse(r, host, hostsz, port, &e) != GACP_OK) {
		log_msg(LOG_WARN, "redis_sentinel_no_master", "%s:%d: %s",
		    s->host, s->port, r == NULL ? ctx->errstr : e.msg);
		goto out;
	}
	rc = 0;
out:
	if (r != NULL)
		freeReplyObject(r);
	if (ctx != NULL)
		redisFree(ctx);
	return rc;
}

/* Walk the Sentinels until one names the master; the one that answered
 * moves to the front, so the next reconnect asks it first (the order the
 * Sentinel client guidelines recommend). */
static int
discover(struct cache *c, char *host, size_t hostsz, int *port)
{
	size_t i;

	for (i = 0; i < c->nsentinels; i++) {
		if (ask_sentinel(c, &c->sentinels[i], host, hostsz, port) != 0)
			continue;
		if (i > 0) {
			struct cache_sentinel t = c->sentinels[i];
			memmove(&c->sentinels[1], &c->sentinels[0],
			    i * sizeof(c->sentinels[0]));
			c->sentinels[0] = t;
		}
		return 0;
	}
	return -1;
}

static int
unavailable(struct cache *c, struct gacp_err *err)
{
	metrics_counter_add(c->metrics, MC_REDIS_ERRORS, 1);
	drop(c);
	return gacp_err_set(err, GACP_EUNAVAIL, "dependency_unavailable",
	    "redis unavailable");
}

int
cache_connect(struct cache *c, struct gacp_err *err)
{
	struct timeval tv = timeout_tv(c);
	char master[256];
	int master_port = 0;

	if (c->ctx != NULL && c->ctx->err == 0)
		return GACP_OK;
	drop(c);
	metrics_counter_add(c->metrics, MC_REDIS_RECONNECTS, 1);
	if (c->nsentinels > 0) {
		if (discover(c, master, sizeof(master), &master_port) != 0) {
			log_msg(LOG_WARN, "redis_connect_failed",
			    "no sentinel named a master for %s",
			    c->master_name);
			return unavailable(c, err);
		}
		c->ctx = redisConnectWithTimeout(master, master_port, tv);
	} else if (c->unix_path != NULL)
		c->ctx = redisConnectUnixWithTimeout(c->unix_path, tv);
	else
		c->ctx = redisConnectWithTimeout(c->host ? c->host : "127.0.0.1",
		    c->port, tv);
	if (c->ctx == NULL || c->ctx->err != 0 ||
	    redisSetTimeout(c->ctx, tv) != REDIS_OK) {
		log_msg(LOG_WARN, "redis_connect_failed", "%s",
		    c->ctx ? c->ctx->errstr : "out of memory");
		return unavailable(c, err);
	}
	if (c->password != NULL && auth(c->ctx, c->password) != 0) {
		log_msg(LOG_ERROR, "redis_auth_failed",
		    "AUTH refused or no answer");
		return unavailable(c, err);
	}
	if (c->nsentinels > 0) {
		/* Sentinel's view may be stale for a moment around a failover:
		 * a demoted master would take our reads and refuse writes. */
		redisReply *r = redisCommand(c->ctx, "ROLE");
		int ok = cache_role_is_master(r);

		if (r != NULL)
			freeReplyObject(r);
		if (!ok) {
			log_msg(LOG_WARN, "redis_not_master",
			    "%s:%d named by sentinel is not a master",
			    master, master_port);
			return unavailable(c, err);
		}
		log_msg(LOG_INFO, "redis_master", "%s %s:%d", c->master_name,
		    master, master_port);
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
		/* LOADING/MASTERDOWN: the server is not usable yet;
		 * READONLY, or UNBLOCKED (a blocked XREADGROUP ended by a role
		 * change): it is a replica now, the master is elsewhere — with
		 * Sentinel, the next connect asks where. */
		if (strncmp(reply->str, "LOADING", 7) == 0 ||
		    strncmp(reply->str, "MASTERDOWN", 10) == 0 ||
		    strncmp(reply->str, "READONLY", 8) == 0 ||
		    strncmp(reply->str, "UNBLOCKED", 9) == 0) {
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
 * case once on a fresh connection.  Over a unix socket the write itself
 * fails first, with EPIPE: nothing reached a server then either (found by
 * the integration suite, scripts/test stage 3: the first request of each
 * process after a Redis restart answered 503). */
static int
stale(struct cache *c, int reused, redisReply *reply)
{
	return reply == NULL && reused && c->ctx != NULL &&
	    (c->ctx->err == REDIS_ERR_EOF || (c->ctx->err == REDIS_ERR_IO &&
	    strcmp(c->ctx->errstr, strerror(EPIPE)) == 0));
}

/* Sends the command appended to ctx and waits for its reply; NULL with
 * ctx->err set on a transport failure or after timeout_ms without an
 * answer.  hiredis' own redisCommand() waits for the reply inside read(),
 * and a reader asleep in read() on a unix socket is also woken when Redis
 * drains the request from the socket (the kernel's write-space wake-up
 * does not look at what the sleeper waits for), so each round trip cost a
 * spurious wake-up and a second sleep: 4.3 voluntary context switches per
 * webhook request in the FastCGI processes against 2.4 per /health
 * (bench/webhook's load).  poll() for POLLIN is woken by the reply alone. */
static redisReply *
await_reply(redisContext *ctx, int timeout_ms)
{
	void *reply = NULL;
	int done = 0, n;
	int64_t deadline = util_mono_us() + (int64_t)timeout_ms * 1000, left;

	do {
		if (redisBufferWrite(ctx, &done) != REDIS_OK)
			return NULL;
	} while (!done);
	for (;;) {
		struct pollfd pfd = { .fd = ctx->fd, .events = POLLIN };

		if (redisGetReplyFromReader(ctx, &reply) != REDIS_OK)
			return NULL;
		if (reply != NULL)
			return reply;
		/* A signal (SIGTERM of a graceful stop) interrupts poll():
		 * wait on for what is left of the timeout, not a new one. */
		left = deadline - util_mono_us();
		n = left > 0 ? poll(&pfd, 1, (int)((left + 999) / 1000)) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* Worded as hiredis reports its own read timeout. */
			ctx->err = REDIS_ERR_IO;
			snprintf(ctx->errstr, sizeof(ctx->errstr), "%s",
			    strerror(n == 0 ? EAGAIN : errno));
			return NULL;
		}
		if (redisBufferRead(ctx) != REDIS_OK)
			return NULL;
	}
}

static redisReply *
roundtrip_argv(redisContext *ctx, int argc, const char **argv,
    const size_t *argvlen, int timeout_ms)
{
	if (redisAppendCommandArgv(ctx, argc, argv, argvlen) != REDIS_OK)
		return NULL;
	return await_reply(ctx, timeout_ms);
}

static redisReply *
roundtrip_fmt(redisContext *ctx, int timeout_ms, const char *fmt, va_list ap)
{
	if (redisvAppendCommand(ctx, fmt, ap) != REDIS_OK)
		return NULL;
	return await_reply(ctx, timeout_ms);
}

/* One argv command on a connected context, with the stale-connection
 * retry; the reply (NULL on a transport failure) is the caller's. */
static int
send_argv(struct cache *c, int argc, const char **argv, const size_t *argvlen,
    redisReply **reply, struct gacp_err *err)
{
	int rc, reused = c->ctx != NULL;

	*reply = NULL;
	if ((rc = cache_connect(c, err)) != GACP_OK)
		return rc;
	*reply = roundtrip_argv(c->ctx, argc, argv, argvlen, c->timeout_ms);
	if (stale(c, reused, *reply)) {
		drop(c);
		if ((rc = cache_connect(c, err)) != GACP_OK)
			return rc;
		*reply = roundtrip_argv(c->ctx, argc, argv, argvlen, c->timeout_ms);
	}
	return GACP_OK;
}

int
cache_commandv(struct cache *c, struct arena *a, int argc, const char **argv,
    const size_t *argvlen, redisReply **out, struct gacp_err *err)
{
	redisReply *reply;
	int rc;

	*out = NULL;
	if ((rc = send_argv(c, argc, argv, argvlen, &reply, err)) != GACP_OK)
		return rc;
	return finish(c, a, reply, out, err);
}

/* The script's SHA-1 in hex, computed once per process; NULL when the
 * table is full or the digest failed (the caller sends EVAL then). */
static const char *
script_sha1(struct cache *c, const char *body)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	struct cache_script *s;
	size_t k;

	for (k = 0; k < c->nscripts; k++)
		if (c->scripts[k].body == body)
			return c->scripts[k].sha1;
	if (c->nscripts == CACHE_MAX_SCRIPTS)
		return NULL;
	if (EVP_Digest(body, strlen(body), md, &mdlen, EVP_sha1(), NULL) != 1 ||
	    mdlen != 20)
		return NULL;
	s = &c->scripts[c->nscripts++];
	s->body = body;
	for (i = 0; i < mdlen; i++) {
		s->sha1[2 * i] = hex[md[i] >> 4];
		s->sha1[2 * i + 1] = hex[md[i] & 0xf];
	}
	s->sha1[40] = '\0';
	return s->sha1;
}

int
cache_eval(struct cache *c, struct arena *a, const char *script, int nkeys,
    size_t nargs, const char *const *args, const size_t *lens,
    redisReply **out, struct gacp_err *err)
{
	size_t argc = nargs + 3, i;
	const char **argv = arena_alloc(a, argc * sizeof(*argv));
	size_t *argvlen = arena_alloc(a, argc * sizeof(*argvlen));
	const char *sha = script_sha1(c, script);
	redisReply *reply;
	char nk[16];
	int rc;

	*out = NULL;
	if (nkeys < 0 || (size_t)nkeys > nargs || argc > INT_MAX)
		return gacp_err_set(err, GACP_EINTERNAL, "internal",
		    "bad script arguments");
	snprintf(nk, sizeof(nk), "%d", nkeys);
	argv[0] = sha ? "EVALSHA" : "EVAL";
	argv[1] = sha ? sha : script;
	argv[2] = nk;
	for (i = 0; i < nargs; i++) {
		argv[3 + i] = args[i];
		argvlen[3 + i] = lens ? lens[i] : strlen(args[i]);
	}
	for (i = 0; i < 3; i++)
		argvlen[i] = strlen(argv[i]);
	if ((rc = send_argv(c, (int)argc, argv, argvlen, &reply, err)) != GACP_OK)
		return rc;
	if (sha != NULL && reply != NULL && reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(reply);
		argv[0] = "EVAL";
		argv[1] = script;
		argvlen[0] = 4;
		argvlen[1] = strlen(script);
		if ((rc = send_argv(c, (int)argc, argv, argvlen, &reply,
		    err)) != GACP_OK)
			return rc;
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
	reply = roundtrip_fmt(c->ctx, c->timeout_ms, fmt, ap);
	va_end(ap);
	if (stale(c, reused, reply)) {
		drop(c);
		if ((rc = cache_connect(c, err)) != GACP_OK)
			return rc;
		va_start(ap, fmt);
		reply = roundtrip_fmt(c->ctx, c->timeout_ms, fmt, ap);
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
