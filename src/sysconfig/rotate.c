/* rotate.c - master-key rotation and its status (see rotate.h). */
#include "sysconfig/rotate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/context.h"
#include "common/arena.h"
#include "common/log.h"
#include "messenger/channel.h"
#include "security/crypto.h"
#include "store/db.h"
#include "store/pgrow.h"
#include "sysconfig/svc.h"
#include "tenancy/audit.h"
#include "tenancy/tenancy.h"

#define FIRST_UUID "00000000-0000-0000-0000-000000000000"

/* Progress of one run. */
struct sweep {
	struct svc                     *s;
	const struct syscfg_rotate_opts *o;
	struct syscfg_rotate_result    *r;
	const char                     *kid;
	bool                            stopped;  /* max_batches reached */
};

static const char *
key_file(struct svc *s, struct gacp_err *err)
{
	const char *path = config_get(&s->app->cfg, "security.master_key_file",
	    NULL);

	if (path == NULL)
		gacp_err_set(err, GACP_EINVAL, "no_master_key",
		    "security.master_key_file is not set in the configuration");
	return path;
}

/* Every tenant id (platform scope), in id order. */
static int
tenant_ids(struct svc *s, PGresult **res, struct gacp_err *err)
{
	int rc;

	if ((rc = svc_begin(s, NULL, err)) != GACP_OK ||
	    (rc = db_set_platform_admin(&s->app->db, s->a, err)) != GACP_OK ||
	    (rc = db_exec(&s->app->db, s->a, "SELECT id::text, is_platform"
	    " FROM tenants ORDER BY id", 0, NULL, res, err)) != GACP_OK ||
	    (rc = svc_commit(s, err)) != GACP_OK)
		svc_rollback(s);
	return rc;
}

static int
audit(struct svc *s, const char *tenant_id, const char *action,
    const char *outcome, const char *resource_type, const char *resource_id,
    struct json_object *d, struct gacp_err *err)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = tenant_id;
	ev.action = action;
	ev.outcome = outcome;
	ev.resource_type = resource_type;
	ev.resource_id = resource_id;
	ev.details = d;
	return audit_record(s, &ev, err);
}

/* A transaction for one batch in tenant_id, marked as a rotation. */
static int
batch_begin(struct svc *s, const char *tenant_id, struct gacp_err *err)
{
	PGresult *res;
	int rc;

	if ((rc = svc_begin(s, tenant_id, err)) != GACP_OK)
		return rc;
	return db_exec(&s->app->db, s->a, "SELECT set_config("
	    "'app.key_rotation', 'on', true)", 0, NULL, &res, err);
}

static int
batch_end(struct sweep *w, long long resealed, long long unreadable,
    struct gacp_err *err)
{
	char n1[24], n2[24];
	const char *p[3] = { w->kid, n1, n2 };
	PGresult *res;
	int rc;

	snprintf(n1, sizeof(n1), "%lld", resealed);
	snprintf(n2, sizeof(n2), "%lld", unreadable);
	if ((rc = db_exec(&w->s->app->db, w->s->a, "UPDATE key_rotations SET"
	    " batches = batches + 1, rows_resealed = rows_resealed + $2::bigint,"
	    " rows_unreadable = rows_unreadable + $3::bigint WHERE kid = $1",
	    3, p, &res, err)) != GACP_OK)
		return rc;
	if ((rc = svc_commit(w->s, err)) != GACP_OK)
		return rc;
	w->r->batches++;
	w->r->resealed += resealed;
	w->r->unreadable += unreadable;
	if (w->o->max_batches > 0 && w->r->batches >= w->o->max_batches)
		w->stopped = true;
	return GACP_OK;
}

static int
unreadable_event(struct svc *s, const char *tenant_id, const char *type,
    const char *id, const char *field, const struct gacp_err *cause,
    struct gacp_err *err)
{
	struct json_object *d = svc_details(s);

	json_object_object_add(d, "field", json_object_new_string(field));
	json_object_object_add(d, "reason", json_object_new_string(cause->code));
	json_object_object_add(d, "during", json_object_new_string(
	    "key_rotation"));
	return audit(s, tenant_id, "config.secret_unreadable", "failure", type,
	    id, d, err);
}

/* What one table's sweep re-seals: the rows still under another key
 * (SELECT with $1 the new key id, $2 the last id done, $3 the batch size,
 * id first, ordered by id, locked), and how to re-seal one of them. */
struct sweep_table {
	const char *select_sql;
	/* Re-seal row i of res: *resealed or *unreadable set when so. */
	int (*row)(struct sweep *w, const char *tenant_id, PGresult *res,
	    int i, bool *resealed, bool *unreadable, struct gacp_err *err);
};

/* One tenant's rows of one table, in batches of one transaction each
 * (the batch counters are updated in the same transaction, so a resumed
 * run continues where a stopped one committed). */
static int
sweep_rows(struct sweep *w, const char *tenant_id, const struct sweep_table *t,
    struct gacp_err *err)
{
	struct svc *s = w->s;
	char after[37] = FIRST_UUID, limit[16];
	int rc = GACP_OK;

	snprintf(limit, sizeof(limit), "%d", w->o->batch_size);
	while (!w->stopped) {
		const char *p[3] = { w->kid, after, limit };
		long long done = 0, bad = 0;
		PGresult *res;
		int i, n;

		if ((rc = batch_begin(s, tenant_id, err)) != GACP_OK)
			break;
		if ((rc = db_exec(&s->app->db, s->a, t->select_sql, 3, p, &res,
		    err)) != GACP_OK)
			break;
		n = PQntuples(res);
		if (n == 0) {
			/* Nothing (left) here: not a batch of work. */
			rc = svc_commit(s, err);
			break;
		}
		for (i = 0; i < n; i++) {
			bool resealed = false, unreadable = false;

			snprintf(after, sizeof(after), "%s", PQgetvalue(res, i, 0));
			if ((rc = t->row(w, tenant_id, res, i, &resealed,
			    &unreadable, err)) != GACP_OK)
				goto out;
			done += resealed;
			bad += unreadable;
		}
		if ((rc = batch_end(w, done, bad, err)) != GACP_OK)
			break;
		if (n < w->o->batch_size)
			break;
	}
out:
	if (rc != GACP_OK)
		svc_rollback(s);
	return rc;
}

/* An encrypted configuration value: id, environment, key, value. */
static int
reseal_config_row(struct sweep *w, const char *tenant_id, PGresult *res,
    int i, bool *resealed, bool *unreadable, struct gacp_err *err)
{
	struct svc *s = w->s;
	const char *id = PQgetvalue(res, i, 0);
	const char *old = PQgetvalue(res, i, 3);
	struct gacp_err oerr;
	char *plain = NULL, *sealed = NULL;
	PGresult *ures;
	int rc;

	gacp_err_clear(&oerr);
	if (syscfg_open(s->app->master_keys, s->a, tenant_id, id,
	    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), old, &plain,
	    &oerr) != GACP_OK) {
		*unreadable = true;
		return unreadable_event(s, tenant_id, "config", id,
		    "config_value", &oerr, err);
	}
	rc = syscfg_seal(s->app->master_keys, tenant_id, id,
	    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), plain, &sealed, err);
	explicit_bzero(plain, strlen(plain));
	if (rc == GACP_OK) {
		const char *up[3] = { id, sealed, old };

		rc = db_exec(&s->app->db, s->a, "UPDATE system_config SET"
		    " config_value = $2 WHERE id = $1::uuid AND config_value = $3",
		    3, up, &ures, err);
	}
	free(sealed);
	*resealed = rc == GACP_OK;
	return rc;
}

/* Soft-deleted rows too: their ciphertext is still stored. */
static const struct sweep_table config_table = {
	"SELECT id::text, environment, config_key, config_value"
	" FROM system_config WHERE is_encrypted"
	" AND split_part(config_value, '.', 2) <> $1"
	" AND id > $2::uuid ORDER BY id LIMIT $3::int FOR UPDATE",
	reseal_config_row,
};

/* Re-seal one channel field if it is under another key; *out is the new
 * token (heap) or NULL when nothing is to do or it did not open. */
static int
reseal_channel_field(struct sweep *w, const char *tenant_id, const char *id,
    const char *field, const char *token, char **out, bool *unreadable,
    struct gacp_err *err)
{
	struct svc *s = w->s;
	struct gacp_err oerr;
	char *plain = NULL;
	int rc;

	*out = NULL;
	if (token == NULL || !crypto_envelope_needs_reseal(s->app->master_keys,
	    token))
		return GACP_OK;
	gacp_err_clear(&oerr);
	if (mx_channel_open(s->app->master_keys, s->a, tenant_id, id, field,
	    token, &plain, &oerr) != GACP_OK) {
		*unreadable = true;
		return unreadable_event(s, tenant_id, "channel", id, field, &oerr,
		    err);
	}
	rc = mx_channel_seal(s->app->master_keys, tenant_id, id, field, plain,
	    out, err);
	explicit_bzero(plain, strlen(plain));
	return rc;
}

/* A channel's secrets: id, app secret, page access token. */
static int
reseal_channel_row(struct sweep *w, const char *tenant_id, PGresult *res,
    int i, bool *resealed, bool *unreadable, struct gacp_err *err)
{
	struct svc *s = w->s;
	const char *id = PQgetvalue(res, i, 0);
	const char *secret = PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1);
	const char *token = PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
	char *ns = NULL, *nt = NULL;
	PGresult *ures;
	int rc;

	rc = reseal_channel_field(w, tenant_id, id, "app_secret", secret, &ns,
	    unreadable, err);
	if (rc == GACP_OK)
		rc = reseal_channel_field(w, tenant_id, id, "page_access_token",
		    token, &nt, unreadable, err);
	if (rc == GACP_OK && (ns != NULL || nt != NULL)) {
		const char *up[3] = { id, ns, nt };

		rc = db_exec(&s->app->db, s->a, "UPDATE channels SET"
		    " app_secret_enc = coalesce($2, app_secret_enc),"
		    " page_access_token_enc = coalesce($3, page_access_token_enc)"
		    " WHERE id = $1::uuid", 3, up, &ures, err);
		*resealed = rc == GACP_OK;
	}
	free(ns);
	free(nt);
	return rc;
}

static const struct sweep_table channel_table = {
	"SELECT id::text, app_secret_enc, page_access_token_enc FROM channels"
	" WHERE ((app_secret_enc IS NOT NULL AND"
	" split_part(app_secret_enc, '.', 2) <> $1) OR"
	" (page_access_token_enc IS NOT NULL AND"
	" split_part(page_access_token_enc, '.', 2) <> $1))"
	" AND id > $2::uuid ORDER BY id LIMIT $3::int FOR UPDATE",
	reseal_channel_row,
};

/* Resume an unfinished rotation, or add a key and start one. */
static int
start(struct svc *s, const char *path, const struct syscfg_rotate_opts *o,
    struct syscfg_rotate_result *r, struct gacp_err *err)
{
	struct keyring *kr = NULL;
	const struct keyring_key *cur;
	PGresult *res;
	char kid[KEYRING_KID_MAX + 1];
	int rc;

	if ((rc = crypto_keyring_load(path, &kr, err)) != GACP_OK)
		return rc;
	cur = keyring_current(kr);
	if ((rc = svc_begin(s, NULL, err)) != GACP_OK ||
	    (rc = db_exec(&s->app->db, s->a, "SELECT kid FROM key_rotations"
	    " WHERE finished_at IS NULL ORDER BY started_at DESC LIMIT 1", 0,
	    NULL, &res, err)) != GACP_OK)
		goto out;
	if (PQntuples(res) == 1 && cur != NULL &&
	    strcmp(PQgetvalue(res, 0, 0), cur->kid) == 0) {
		const char *p[1] = { cur->kid };

		snprintf(r->kid, sizeof(r->kid), "%s", cur->kid);
		if ((rc = db_exec(&s->app->db, s->a, "UPDATE key_rotations SET"
		    " runs = runs + 1 WHERE kid = $1", 1, p, &res, err)) !=
		    GACP_OK || (rc = svc_commit(s, err)) != GACP_OK)
			goto out;
	} else {
		const char *p[2];

		/* An older unfinished rotation is superseded by this one:
		 * the sweep re-seals everything not under the newest key. */
		if ((rc = db_exec(&s->app->db, s->a, "UPDATE key_rotations SET"
		    " finished_at = now() WHERE finished_at IS NULL", 0, NULL,
		    &res, err)) != GACP_OK)
			goto out;
		if ((rc = keyring_file_rotate(path, NULL, CRYPTO_AES_KEY_LEN,
		    kid, err)) != GACP_OK)
			goto out;
		p[0] = kid;
		p[1] = s->who->id;
		if ((rc = db_exec(&s->app->db, s->a, "INSERT INTO key_rotations"
		    " (kid, started_by) VALUES ($1, $2)", 2, p, &res, err)) !=
		    GACP_OK || (rc = svc_commit(s, err)) != GACP_OK)
			goto out;
		snprintf(r->kid, sizeof(r->kid), "%s", kid);
		r->new_key = true;
	}
	keyring_free(kr);
	kr = NULL;
	if ((rc = crypto_keyring_load(path, &kr, err)) != GACP_OK)
		goto out;
	cur = keyring_current(kr);
	if (cur == NULL || strcmp(cur->kid, r->kid) != 0) {
		rc = gacp_err_set(err, GACP_ECONFLICT, "keyring_changed",
		    "the key file changed during the rotation; run it again");
		goto out;
	}
	keyring_free(s->app->master_keys);
	s->app->master_keys = kr;
	kr = NULL;
	/* Let running processes see the new key before the sweep. */
	if (r->new_key && o->grace_ms > 0)
		usleep((useconds_t)(o->grace_ms * 1000));
out:
	if (rc != GACP_OK)
		svc_rollback(s);
	keyring_free(kr);
	return rc;
}

/* One rotation at a time platform-wide: a session advisory lock, gone
 * with the connection if the process dies. */
static int
rotation_lock(struct svc *s, bool take, struct gacp_err *err)
{
	PGresult *res;
	int rc;

	rc = db_exec(&s->app->db, s->a, take ?
	    "SELECT pg_try_advisory_lock(hashtext('gacp:key_rotation'))" :
	    "SELECT pg_advisory_unlock(hashtext('gacp:key_rotation'))", 0,
	    NULL, &res, err);
	if (rc != GACP_OK || !take)
		return rc;
	if (!pgrow_bool(res, 0, 0))
		return gacp_err_set(err, GACP_ECONFLICT, "rotation_running",
		    "another gacpctl rotate-key is running");
	return GACP_OK;
}

static int rotate_locked(struct svc *s,
		    const struct syscfg_rotate_opts *opts,
		    struct syscfg_rotate_result *out, struct gacp_err *err);

int
syscfg_rotate(struct svc *s, const struct syscfg_rotate_opts *opts,
    struct syscfg_rotate_result *out, struct gacp_err *err)
{
	struct gacp_err uerr;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rotation_lock(s, true, err)) != GACP_OK)
		return rc;
	rc = rotate_locked(s, opts, out, err);
	gacp_err_clear(&uerr);
	(void)rotation_lock(s, false, &uerr);
	return rc;
}

static int
rotate_locked(struct svc *s, const struct syscfg_rotate_opts *opts,
    struct syscfg_rotate_result *out, struct gacp_err *err)
{
	struct sweep w;
	PGresult *tenants, *res;
	const char *path, *platform = NULL;
	int rc, i;

	if ((path = key_file(s, err)) == NULL)
		return err->result;
	if (opts->batch_size < 1 || opts->batch_size > 10000)
		return gacp_err_set(err, GACP_EINVAL, "usage",
		    "--batch-size is 1 to 10000");
	if ((rc = start(s, path, opts, out, err)) != GACP_OK)
		return rc;
	memset(&w, 0, sizeof(w));
	w.s = s;
	w.o = opts;
	w.r = out;
	w.kid = out->kid;
	if ((rc = tenant_ids(s, &tenants, err)) != GACP_OK)
		return rc;
	for (i = 0; i < PQntuples(tenants) && !w.stopped; i++) {
		const char *tid = PQgetvalue(tenants, i, 0);

		if (pgrow_bool(tenants, i, 1) && platform == NULL)
			platform = tid;
		if ((rc = sweep_rows(&w, tid, &config_table, err)) != GACP_OK ||
		    (rc = sweep_rows(&w, tid, &channel_table, err)) != GACP_OK)
			return rc;
	}
	if (w.stopped)
		return GACP_OK;   /* resumable: rerun continues */
	out->finished = true;
	for (i = 0; i < PQntuples(tenants) && platform == NULL; i++)
		if (pgrow_bool(tenants, i, 1))
			platform = PQgetvalue(tenants, i, 0);
	{
		const char *p[1] = { out->kid };
		struct json_object *d = svc_details(s);

		if ((rc = svc_begin(s, platform, err)) != GACP_OK ||
		    (rc = db_exec(&s->app->db, s->a, "UPDATE key_rotations SET"
		    " finished_at = now() WHERE kid = $1 AND finished_at IS NULL"
		    " RETURNING batches, rows_resealed, rows_unreadable", 1, p,
		    &res, err)) != GACP_OK)
			goto fail;
		if (PQntuples(res) == 1) {
			json_object_object_add(d, "kid",
			    json_object_new_string(out->kid));
			json_object_object_add(d, "batches", json_object_new_int64(
			    pgrow_int64(res, 0, 0)));
			json_object_object_add(d, "rows_resealed",
			    json_object_new_int64(pgrow_int64(res, 0, 1)));
			json_object_object_add(d, "rows_unreadable",
			    json_object_new_int64(pgrow_int64(res, 0, 2)));
			if (platform != NULL && (rc = audit(s, platform,
			    "security.key_rotation", NULL, "master_key", out->kid,
			    d, err)) != GACP_OK)
				goto fail;
		}
		if ((rc = svc_commit(s, err)) != GACP_OK)
			goto fail;
	}
	return GACP_OK;
fail:
	svc_rollback(s);
	return rc;
}

static int
count_pending(struct svc *s, const char *kid, struct syscfg_key_status *st,
    struct gacp_err *err)
{
	PGresult *tenants, *res;
	const char *p[1] = { kid };
	int rc, i;

	if ((rc = tenant_ids(s, &tenants, err)) != GACP_OK)
		return rc;
	for (i = 0; i < PQntuples(tenants); i++) {
		if ((rc = svc_begin(s, PQgetvalue(tenants, i, 0), err)) !=
		    GACP_OK)
			return rc;
		rc = db_exec(&s->app->db, s->a, "SELECT"
		    " (SELECT count(*) FROM system_config WHERE is_encrypted AND"
		    "  split_part(config_value, '.', 2) <> $1),"
		    " (SELECT count(*) FROM channels WHERE"
		    "  (app_secret_enc IS NOT NULL AND"
		    "   split_part(app_secret_enc, '.', 2) <> $1) OR"
		    "  (page_access_token_enc IS NOT NULL AND"
		    "   split_part(page_access_token_enc, '.', 2) <> $1))",
		    1, p, &res, err);
		if (rc == GACP_OK) {
			st->pending_config += pgrow_int64(res, 0, 0);
			st->pending_channels += pgrow_int64(res, 0, 1);
			rc = svc_commit(s, err);
		}
		if (rc != GACP_OK) {
			svc_rollback(s);
			return rc;
		}
	}
	return GACP_OK;
}

int
syscfg_rotation_status(struct svc *s, struct syscfg_key_status *out,
    struct gacp_err *err)
{
	const struct keyring_key *cur;
	struct keyring *kr = NULL;
	const char *path;
	PGresult *res;
	int rc;

	memset(out, 0, sizeof(*out));
	out->age_days = -1;
	out->policy_days = (int)config_get_int(&s->app->cfg,
	    "security.key_rotation_days", SYSCFG_ROTATION_POLICY_DAYS);
	if ((path = key_file(s, err)) == NULL)
		return err->result;
	if ((rc = crypto_keyring_load(path, &kr, err)) != GACP_OK)
		return rc;
	cur = keyring_current(kr);
	out->nkeys = (int)kr->nkeys;
	if (cur != NULL) {
		snprintf(out->active_kid, sizeof(out->active_kid), "%s", cur->kid);
		out->active_created_s = cur->created_s;
		if (cur->created_s > 0)
			out->age_days = ((int64_t)time(NULL) - cur->created_s) /
			    86400;
	}
	/* Unknown age counts as overdue: nobody can vouch for the key. */
	out->overdue = out->age_days < 0 || out->age_days >= out->policy_days;
	keyring_free(kr);
	if ((rc = count_pending(s, out->active_kid, out, err)) != GACP_OK)
		return rc;
	if ((rc = svc_begin(s, NULL, err)) != GACP_OK ||
	    (rc = db_exec(&s->app->db, s->a, "SELECT kid, gacp_iso(started_at),"
	    " coalesce(gacp_iso(finished_at), ''), batches, rows_resealed,"
	    " rows_unreadable FROM key_rotations ORDER BY started_at DESC"
	    " LIMIT 1", 0, NULL, &res, err)) != GACP_OK) {
		svc_rollback(s);
		return rc;
	}
	if (PQntuples(res) == 1) {
		snprintf(out->rotation_kid, sizeof(out->rotation_kid), "%s",
		    PQgetvalue(res, 0, 0));
		snprintf(out->rotation_started, sizeof(out->rotation_started),
		    "%s", PQgetvalue(res, 0, 1));
		snprintf(out->rotation_finished, sizeof(out->rotation_finished),
		    "%s", PQgetvalue(res, 0, 2));
		out->in_progress = out->rotation_finished[0] == '\0';
		out->rotation_batches = pgrow_int64(res, 0, 3);
		out->rotation_resealed = pgrow_int64(res, 0, 4);
		out->rotation_unreadable = pgrow_int64(res, 0, 5);
	}
	return svc_commit(s, err);
}
