/* cache.c - per-process configuration cache and master-key reload (see cache.h). */
#include "sysconfig/cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/context.h"
#include "common/arena.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "security/crypto.h"
#include "store/db.h"
#include "store/pgrow.h"
#include "sysconfig/svc.h"
#include "tenancy/audit.h"
#include "tenancy/tenancy.h"

#define CACHE_SLOTS 256

struct entry {
	bool             used;
	int64_t          loaded_us;
	char            *tenant_id;      /* asked for */
	char            *environment;
	char            *key;
	bool             found;
	enum syscfg_type type;
	bool             is_encrypted;
	bool             from_platform;
	char            *row_tenant;     /* owner of the row (AAD) */
	char            *row_id;
	char            *value;          /* canonical text or envelope */
	int64_t          version;
};

struct syscfg_cache {
	int64_t      check_us;
	int64_t      ttl_us;
	int64_t      last_check_us;
	long long    seen_version;       /* -1: not yet read */
	struct entry slots[CACHE_SLOTS];
	size_t       next;               /* round-robin victim */
	char         platform_id[37];    /* "" until looked up */
	/* master key file identity when last loaded */
	bool         have_key_stat;
	dev_t        key_dev;
	ino_t        key_ino;
	off_t        key_size;
	struct timespec key_mtime;
};

static void
entry_clear(struct entry *e)
{
	free(e->tenant_id);
	free(e->environment);
	free(e->key);
	free(e->row_tenant);
	free(e->row_id);
	if (e->value != NULL) {
		explicit_bzero(e->value, strlen(e->value));
		free(e->value);
	}
	memset(e, 0, sizeof(*e));
}

struct syscfg_cache *
syscfg_cache_new(int64_t check_us, int64_t ttl_us)
{
	struct syscfg_cache *c = xcalloc(1, sizeof(*c));

	c->check_us = check_us;
	c->ttl_us = ttl_us;
	c->seen_version = -1;
	return c;
}

void
syscfg_cache_clear(struct syscfg_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < CACHE_SLOTS; i++)
		entry_clear(&c->slots[i]);
}

void
syscfg_cache_free(struct syscfg_cache *c)
{
	if (c == NULL)
		return;
	syscfg_cache_clear(c);
	free(c);
}

static void
reload_keys(struct gacp_ctx *app, struct syscfg_cache *c)
{
	const char *path = config_get(&app->cfg, "security.master_key_file",
	    NULL);
	struct keyring *kr = NULL;
	struct gacp_err err;
	struct stat st;

	if (path == NULL || stat(path, &st) == -1)
		return;
	if (c->have_key_stat && st.st_dev == c->key_dev &&
	    st.st_ino == c->key_ino && st.st_size == c->key_size &&
	    st.st_mtim.tv_sec == c->key_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == c->key_mtime.tv_nsec)
		return;
	if (c->have_key_stat || app->master_keys == NULL) {
		gacp_err_clear(&err);
		if (crypto_keyring_load(path, &kr, &err) != GACP_OK) {
			log_msg(LOG_WARN, "master_keys_reload_failed",
			    "keeping the previous keyring: %s: %s", err.code,
			    err.msg);
			return;
		}
		keyring_free(app->master_keys);
		app->master_keys = kr;
		if (c->have_key_stat)
			log_msg(LOG_INFO, "master_keys_reloaded",
			    "current key %s", keyring_current(kr)->kid);
	}
	/* The first look only records what gacp_ctx_init loaded. */
	c->have_key_stat = true;
	c->key_dev = st.st_dev;
	c->key_ino = st.st_ino;
	c->key_size = st.st_size;
	c->key_mtime = st.st_mtim;
}

void
syscfg_cache_tick(struct gacp_ctx *app)
{
	struct syscfg_cache *c = app->config_cache;
	struct gacp_err err;
	redisReply *r = NULL;
	int64_t now = util_mono_us();
	long long v;

	if (c == NULL || now - c->last_check_us < c->check_us)
		return;
	c->last_check_us = now;
	reload_keys(app, c);
	gacp_err_clear(&err);
	if (cache_command(&app->cache, &app->arena, &r, &err, "GET %s",
	    SYSCFG_VERSION_KEY) != GACP_OK || r == NULL)
		return;   /* Redis down: the TTL still bounds staleness */
	v = r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
	if (v != c->seen_version) {
		if (c->seen_version != -1)
			syscfg_cache_clear(c);
		c->seen_version = v;
	}
}

static int
platform_id(struct gacp_ctx *app, struct arena *a, struct syscfg_cache *c,
    struct gacp_err *err)
{
	PGresult *res, *off;
	int rc;

	if (c->platform_id[0] != '\0')
		return GACP_OK;
	if ((rc = db_set_platform_admin(&app->db, a, err)) != GACP_OK)
		return rc;
	rc = db_exec(&app->db, a, "SELECT id::text FROM tenants WHERE"
	    " is_platform AND NOT is_deleted ORDER BY created_at LIMIT 1", 0,
	    NULL, &res, err);
	/* The caller's transaction goes on: give the flag back. */
	if (rc == GACP_OK)
		rc = db_exec(&app->db, a, "SELECT set_config("
		    "'app.platform_admin', '', true)", 0, NULL, &off, err);
	if (rc == GACP_OK && PQntuples(res) == 1)
		snprintf(c->platform_id, sizeof(c->platform_id), "%s",
		    PQgetvalue(res, 0, 0));
	return rc;
}

/* Find the row: the tenant's, else the platform's.  Outside a
 * transaction it runs its own; inside one (bound to tenant_id, e.g. a
 * request's) it re-binds for the platform lookup and binds back. */
static int
lookup(struct gacp_ctx *app, struct arena *a, const char *tenant_id,
    const char *environment, const char *key, struct entry *e,
    struct gacp_err *err)
{
	const char *p[2] = { environment, key };
	const char *sql = "SELECT tenant_id::text, id::text, config_type,"
	    " is_encrypted, config_value, version FROM system_config"
	    " WHERE environment = $1 AND config_key = $2 AND NOT is_deleted";
	struct syscfg_cache *c = app->config_cache;
	bool own = !app->db.in_tx;
	PGresult *res = NULL;
	int rc;

	if (own && (rc = db_begin(&app->db, a, tenant_id, err)) != GACP_OK)
		return rc;
	if ((rc = db_exec(&app->db, a, sql, 2, p, &res, err)) != GACP_OK)
		goto out;
	if (PQntuples(res) == 0) {
		res = NULL;
		if ((rc = platform_id(app, a, c, err)) != GACP_OK)
			goto out;
		if (c->platform_id[0] != '\0' &&
		    strcmp(c->platform_id, tenant_id) != 0) {
			if ((rc = db_set_tenant(&app->db, a, c->platform_id,
			    err)) != GACP_OK)
				goto out;
			rc = db_exec(&app->db, a, sql, 2, p, &res, err);
			if (rc == GACP_OK)
				rc = db_set_tenant(&app->db, a, tenant_id, err);
			if (rc != GACP_OK)
				goto out;
		}
		e->from_platform = res != NULL && PQntuples(res) == 1;
	}
	if (res != NULL && PQntuples(res) == 1) {
		e->found = true;
		e->row_tenant = xstrdup(PQgetvalue(res, 0, 0));
		e->row_id = xstrdup(PQgetvalue(res, 0, 1));
		(void)syscfg_type_from_string(PQgetvalue(res, 0, 2), &e->type);
		e->is_encrypted = pgrow_bool(res, 0, 3);
		e->value = xstrdup(PQgetvalue(res, 0, 4));
		e->version = pgrow_int64(res, 0, 5);
	}
	if (own)
		rc = db_commit(&app->db, a, err);
out:
	if (rc != GACP_OK && own)
		db_rollback(&app->db, a);
	return rc;
}

/* A sealed value that does not open: logged always, and audited in the
 * row's tenant when no caller's transaction is open (an event written in
 * one would roll back with it). */
static void
unreadable(struct gacp_ctx *app, struct arena *a, const struct entry *e,
    const char *environment, const char *key, const struct gacp_err *cause)
{
	struct principal who;
	struct audit_event ev;
	struct json_object *d;
	struct gacp_err err;
	struct svc s;

	log_msg(LOG_ERROR, SYSCFG_ERR_UNREADABLE, "config %s (%s) of tenant %s "
	    "does not open: %s", key, environment, e->row_tenant, cause->code);
	if (app->db.in_tx)
		return;
	memset(&who, 0, sizeof(who));
	who.kind = PRINCIPAL_SYSTEM;
	snprintf(who.id, sizeof(who.id), "%s", app->program ? app->program :
	    "process");
	svc_init(&s, app, a, &who, NULL, NULL);
	d = json_object_new_object();
	json_arena_own(a, d);
	json_object_object_add(d, "config_key", json_object_new_string(key));
	json_object_object_add(d, "environment",
	    json_object_new_string(environment));
	json_object_object_add(d, "reason", json_object_new_string(cause->code));
	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = e->row_tenant;
	ev.action = "config.secret_unreadable";
	ev.outcome = "failure";
	ev.resource_type = "config";
	ev.resource_id = e->row_id;
	ev.details = d;
	gacp_err_clear(&err);
	if (svc_begin(&s, e->row_tenant, &err) != GACP_OK ||
	    audit_record(&s, &ev, &err) != GACP_OK ||
	    svc_commit(&s, &err) != GACP_OK) {
		svc_rollback(&s);
		log_msg(LOG_ERROR, "audit_failed", "%s: %s", err.code, err.msg);
	}
}

int
syscfg_cache_get(struct gacp_ctx *app, struct arena *a, const char *tenant_id,
    const char *environment, const char *key, struct syscfg_value *out,
    struct gacp_err *err)
{
	struct syscfg_cache *c = app->config_cache;
	struct entry *e = NULL, fresh;
	int64_t now = util_mono_us();
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return gacp_err_set(err, GACP_EINTERNAL, "no_config_cache",
		    "the configuration cache is not set up");
	syscfg_cache_tick(app);
	for (i = 0; i < CACHE_SLOTS; i++) {
		struct entry *s = &c->slots[i];

		if (s->used && strcmp(s->tenant_id, tenant_id) == 0 &&
		    strcmp(s->environment, environment) == 0 &&
		    strcmp(s->key, key) == 0) {
			if (now - s->loaded_us < c->ttl_us)
				e = s;
			else
				entry_clear(s);
			break;
		}
	}
	if (e == NULL) {
		memset(&fresh, 0, sizeof(fresh));
		if ((rc = lookup(app, a, tenant_id, environment, key, &fresh,
		    err)) != GACP_OK) {
			entry_clear(&fresh);
			return rc;
		}
		e = &c->slots[c->next];
		c->next = (c->next + 1) % CACHE_SLOTS;
		entry_clear(e);
		*e = fresh;
		e->used = true;
		e->loaded_us = now;
		e->tenant_id = xstrdup(tenant_id);
		e->environment = xstrdup(environment);
		e->key = xstrdup(key);
	}
	if (!e->found)
		return GACP_OK;
	out->found = true;
	out->type = e->type;
	out->from_platform = e->from_platform;
	out->version = e->version;
	if (!e->is_encrypted) {
		out->text = arena_strdup(a, e->value);
		return GACP_OK;
	}
	if ((rc = syscfg_open(app->master_keys, a, e->row_tenant, e->row_id,
	    environment, key, e->value, &out->text, err)) != GACP_OK) {
		memset(out, 0, sizeof(*out));
		unreadable(app, a, e, environment, key, err);
		return gacp_err_set(err, GACP_ECONFLICT, SYSCFG_ERR_UNREADABLE,
		    "the stored value of %s cannot be decrypted", key);
	}
	return GACP_OK;
}

long long
syscfg_get_int(struct gacp_ctx *app, struct arena *a, const char *tenant_id,
    const char *environment, const char *key, long long def)
{
	struct syscfg_value v;
	struct gacp_err err;

	gacp_err_clear(&err);
	if (syscfg_cache_get(app, a, tenant_id, environment, key, &v, &err) !=
	    GACP_OK) {
		log_msg(LOG_WARN, "config_read_failed", "%s: %s: %s", key,
		    err.code, err.msg);
		return def;
	}
	if (!v.found || v.type != SYSCFG_INTEGER)
		return def;
	return atoll(v.text);
}

bool
syscfg_get_bool(struct gacp_ctx *app, struct arena *a, const char *tenant_id,
    const char *environment, const char *key, bool def)
{
	struct syscfg_value v;
	struct gacp_err err;

	gacp_err_clear(&err);
	if (syscfg_cache_get(app, a, tenant_id, environment, key, &v, &err) !=
	    GACP_OK) {
		log_msg(LOG_WARN, "config_read_failed", "%s: %s: %s", key,
		    err.code, err.msg);
		return def;
	}
	if (!v.found || v.type != SYSCFG_BOOLEAN)
		return def;
	return strcmp(v.text, "true") == 0;
}

const char *
syscfg_get_str(struct gacp_ctx *app, struct arena *a, const char *tenant_id,
    const char *environment, const char *key, const char *def)
{
	struct syscfg_value v;
	struct gacp_err err;

	gacp_err_clear(&err);
	if (syscfg_cache_get(app, a, tenant_id, environment, key, &v, &err) !=
	    GACP_OK) {
		log_msg(LOG_WARN, "config_read_failed", "%s: %s: %s", key,
		    err.code, err.msg);
		return def;
	}
	if (!v.found || v.type != SYSCFG_STRING)
		return def;
	return v.text;
}
