/* context.c - building and tearing down the per-process context. */
#include "app/context.h"
#include "common/log.h"
#include "http/metrics.h"
#include "common/xmalloc.h"
#include "security/crypto.h"
#include "security/keyring.h"
#include "security/password.h"
#include "security/token.h"
#include "messenger/channel.h"
#include "sysconfig/cache.h"
#include "app/models.h"
#include "nlu/parse.h"

#include <string.h>

#define DEFAULT_MAX_BODY_BYTES (1024 * 1024)

/* redis.sentinels set: the master is whichever the Sentinels name
 * (redis.master_name), with Sentinel's own password from
 * redis.sentinel_password_file when it has one. */
static int
use_sentinels(struct gacp_ctx *app, const struct config *cfg,
    struct gacp_err *err)
{
	char *password = NULL;
	int rc;

	if (config_get(cfg, "redis.sentinel_password_file", NULL) != NULL) {
		password = config_read_file(cfg, "redis.sentinel_password_file",
		    NULL, err);
		if (password == NULL)
			return err ? err->result : GACP_EIO;
	}
	rc = cache_use_sentinels(&app->cache, config_get(cfg, "redis.sentinels",
	    NULL), config_get(cfg, "redis.master_name", "gacp"), password, err);
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	return rc;
}

int
gacp_ctx_init(struct gacp_ctx *app, const char *program,
    const char *config_path, const struct route *routes, size_t nroutes,
    struct gacp_err *err)
{
	const struct config *cfg;
	const char *path = config_path ? config_path : config_default_path();
	const char *metrics_path;
	char *redis_password = NULL;
	int rc;

	memset(app, 0, sizeof(*app));
	app->program = program;
	app->routes = routes;
	app->nroutes = nroutes;
	arena_init(&app->arena, 64 * 1024);
	buf_init(&app->body);
	buf_init(&app->out);

	if ((rc = config_load(&app->cfg, path, false, err)) != GACP_OK)
		return rc;
	cfg = &app->cfg;
	if (log_sys_init(program, config_get(cfg, "log.error_log", NULL),
	    config_get(cfg, "log.access_log", NULL),
	    log_level_parse(config_get(cfg, "log.level", "info"))) != 0)
		return gacp_err_set(err, GACP_EIO, "log_unavailable",
		    "cannot open the log files named in %s", path);

	app->max_body_bytes = (size_t)config_get_int(cfg,
	    "server.max_body_bytes", DEFAULT_MAX_BODY_BYTES);
	metrics_path = config_get(cfg, "server.metrics_file", NULL);
	if (metrics_path != NULL && metrics_path[0] != '\0') {
		app->metrics = metrics_open(metrics_path,
		    (unsigned)config_get_int(cfg, "server.metrics_slots", 64),
		    nroutes, err);
		if (app->metrics == NULL)
			return err ? err->result : GACP_EIO;
	}
	db_init(&app->db, config_get(cfg, "database.conninfo",
	    "dbname=gacp user=gacp_app connect_timeout=2"),
	    (int)config_get_int(cfg, "database.query_timeout_ms", 5000),
	    app->metrics);
	db_set_prepare(&app->db, config_get_bool(cfg,
	    "database.prepared_statements", true));
	if (config_get(cfg, "redis.password_file", NULL) != NULL) {
		redis_password = config_read_file(cfg, "redis.password_file",
		    NULL, err);
		if (redis_password == NULL)
			return err ? err->result : GACP_EIO;
	}
	cache_init(&app->cache, config_get(cfg, "redis.host", "127.0.0.1"),
	    (int)config_get_int(cfg, "redis.port", 6379),
	    config_get(cfg, "redis.unix_socket", NULL), redis_password,
	    (int)config_get_int(cfg, "redis.timeout_ms", 1000), app->metrics);
	if (redis_password != NULL) {
		explicit_bzero(redis_password, strlen(redis_password));
		free(redis_password);
	}
	if (config_get(cfg, "redis.sentinels", NULL) != NULL &&
	    config_get(cfg, "redis.sentinels", NULL)[0] != '\0' &&
	    (rc = use_sentinels(app, cfg, err)) != GACP_OK)
		return rc;
	if (config_get(cfg, "security.master_key_file", NULL) != NULL &&
	    (rc = crypto_keyring_load(config_get(cfg, "security.master_key_file",
	    NULL), &app->master_keys, err)) != GACP_OK)
		return rc;
	if (config_get(cfg, "security.jwt_keys_file", NULL) != NULL &&
	    (rc = token_keyring_load(config_get(cfg, "security.jwt_keys_file",
	    NULL), &app->jwt_keys, err)) != GACP_OK)
		return rc;
	app->channel_cache = mx_channel_cache_new(1000 * config_get_int(cfg,
	    "messenger.channel_cache_ttl_ms", 5000));
	app->models = models_new(config_get(cfg, "paths.model_dir",
	    GACP_LOCALSTATEDIR "/lib/gacp/models"),
	    1000 * config_get_int(cfg, "nlu.model_check_ms", 1000));
	app->models->metrics = app->metrics;
	app->config_cache = syscfg_cache_new(1000 * config_get_int(cfg,
	    "config.cache_check_ms", 250), 1000 * config_get_int(cfg,
	    "config.cache_ttl_ms", 30000));
	app->started_us = 0;
	return GACP_OK;
}

void
gacp_ctx_cleanup(struct gacp_ctx *app)
{
	if (app == NULL)
		return;
	arena_cleanup(&app->arena);
	db_cleanup(&app->db);
	cache_cleanup(&app->cache);
	metrics_close(app->metrics);
	app->metrics = NULL;
	buf_cleanup(&app->body);
	buf_cleanup(&app->out);
	syscfg_cache_free(app->config_cache);
	app->config_cache = NULL;
	mx_channel_cache_free(app->channel_cache);
	app->channel_cache = NULL;
	models_free(app->models);
	app->models = NULL;
	if (app->parser != NULL)
		nlu_parser_cleanup(app->parser);
	free(app->parser);
	app->parser = NULL;
	keyring_free(app->jwt_keys);
	app->jwt_keys = NULL;
	password_hasher_cleanup(app->hasher);
	free(app->hasher);
	app->hasher = NULL;
	keyring_free(app->master_keys);
	app->master_keys = NULL;
	config_cleanup(&app->cfg);
	log_sys_cleanup();
}
