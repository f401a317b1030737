/* reload.c - retrain changed tenants and publish what is not worse (see reload.h). */
#include "training/reload.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "nlu/data.h"
#include "nlu/eval.h"
#include "nlu/wordnet.h"
#include "store/audit_store.h"
#include "store/db.h"
#include "store/nlu_store.h"
#include "training/jobs.h"
#include "training/trainset.h"
#include "training/versions.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Session advisory lock of a whole pass (single-key space; migrations
 * use 7473201). */
#define RELOAD_LOCK_KEY "7473209"
#define RELOAD_ACTOR    "gacp-nlu:reload"
#define RELOAD_LANGUAGE "multi"

/* What one tenant's pass keeps between its steps. */
struct job {
	struct db                 *db;
	struct arena              *a;
	const struct reload_opts  *o;
	struct reload_tenant      *t;
	struct nlu_dataset         ds;
	char                       hash[65];
	struct nlu_model          *model;     /* the one to publish */
	bool                       measured;  /* metrics hold numbers */
};

static void	say(struct reload_tenant *, enum reload_outcome, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
static double	stored_accuracy(const struct nlu_model_row *);
static uint32_t	count_intents(const struct nlu_dataset *);
static int	read_data(struct job *, bool *, struct gacp_err *);
static int	train(struct job *, struct gacp_err *);
static char	*metrics_json(const struct job *);
static int	audit(struct job *, const char *, const char *,
		    struct json_object *, struct gacp_err *);
static int	prune(struct job *, char ***, size_t *, struct gacp_err *);
static int	publish(struct job *, struct gacp_err *);
static void	reload_tenant(struct db *, const struct reload_opts *,
		    struct reload_tenant *);

void
reload_opts_default(struct reload_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->model_dir = "/var/lib/gacp/models";
	o->max_regression = 0.02;
	o->holdout = 0.2;
	o->refit = 1;
	o->keep_versions = 10;
	nlu_train_opts_default(&o->train);
}

/* A number setting; absent keeps *v. */
static int
setting_double(const struct config *cfg, const char *key, double *v,
    struct gacp_err *err)
{
	const char *s = config_get(cfg, key, NULL);
	char *end;
	double d;

	if (s == NULL)
		return GACP_OK;
	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0)
		return gacp_err_set(err, GACP_EINVAL, "config",
		    "%s = %s is not a number", key, s);
	*v = d;
	return GACP_OK;
}

int
reload_opts_configure(struct reload_opts *o, const struct config *cfg,
    struct gacp_err *err)
{
	const char *wn, *emb;
	char probe[4096];
	int rc;

	o->model_dir = config_get(cfg, "paths.model_dir", o->model_dir);
	if ((rc = setting_double(cfg, "nlu.max_regression", &o->max_regression,
	    err)) != GACP_OK ||
	    (rc = setting_double(cfg, "nlu.holdout", &o->holdout, err)) != GACP_OK)
		return rc;
	o->refit = config_get_bool(cfg, "nlu.refit", o->refit != 0);
	o->keep_versions = (int)config_get_int(cfg, "nlu.keep_versions",
	    o->keep_versions);
	/* Tenant models get the same concept features as `gacp-nlu train`
	 * builds by default; they help most where a tenant has few examples
	 * per intent (an unseen synonym still meets a known concept). */
	wn = config_get(cfg, "nlu.wordnet", "auto");
	if (strcmp(wn, "auto") == 0) {
		o->train.wordnet_dir = nlu_wn_default_dir();
	} else if (strcmp(wn, "none") == 0) {
		o->train.wordnet_dir = NULL;
	} else {
		snprintf(probe, sizeof(probe), "%s/index.noun", wn);
		if (access(probe, R_OK) != 0)
			return gacp_err_set(err, GACP_EINVAL, "config",
			    "nlu.wordnet = %s: no WordNet database there "
			    "(auto, none or a directory with index.noun)", wn);
		o->train.wordnet_dir = wn;
	}
	/* Word vectors (embed.h): a file an operator installed, or none;
	 * the file is read at each training, never at parse time. */
	emb = config_get(cfg, "nlu.embeddings", "none");
	if (strcmp(emb, "none") == 0) {
		o->train.embeddings = NULL;
	} else {
		if (access(emb, R_OK) != 0)
			return gacp_err_set(err, GACP_EINVAL, "config",
			    "nlu.embeddings = %s: not a readable file (none or "
			    "a word-vector file)", emb);
		o->train.embeddings = emb;
	}
	return GACP_OK;
}

const char *
reload_outcome_name(enum reload_outcome o)
{
	switch (o) {
	case RELOAD_UNCHANGED: return "unchanged";
	case RELOAD_NO_DATA:   return "no_data";
	case RELOAD_ACTIVATED: return "activated";
	case RELOAD_REJECTED:  return "rejected";
	case RELOAD_FAILED:    return "failed";
	}
	return "failed";
}

void
reload_report_cleanup(struct reload_report *rep)
{
	if (rep == NULL)
		return;
	free(rep->tenants);
	memset(rep, 0, sizeof(*rep));
}

static void
say(struct reload_tenant *t, enum reload_outcome outcome, const char *fmt, ...)
{
	va_list ap;

	t->outcome = outcome;
	va_start(ap, fmt);
	vsnprintf(t->message, sizeof(t->message), fmt, ap);
	va_end(ap);
}

/* metrics.accuracy of a stored version, or -1 when it has none. */
static double
stored_accuracy(const struct nlu_model_row *m)
{
	struct json_object *o, *v;
	double acc = -1.0;

	if (m == NULL || m->metrics == NULL ||
	    (o = json_tokener_parse(m->metrics)) == NULL)
		return -1.0;
	if (json_object_object_get_ex(o, "accuracy", &v) &&
	    (json_object_is_type(v, json_type_double) ||
	    json_object_is_type(v, json_type_int)))
		acc = json_object_get_double(v);
	json_object_put(o);
	return acc;
}

static uint32_t
count_intents(const struct nlu_dataset *ds)
{
	uint32_t n = 0;
	size_t i, j;

	for (i = 0; i < ds->n_ex; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(ds->ex[j].intent, ds->ex[i].intent) == 0)
				break;
		if (j == i)
			n++;
	}
	return n;
}

/* Step 1: the tenant's data and whether it needs a new model (*needed;
 * otherwise the outcome and message say why not). */
static int
read_data(struct job *j, bool *needed, struct gacp_err *err)
{
	struct nlu_model_row *active = NULL, *latest = NULL;
	struct reload_tenant *t = j->t;
	int rc;

	*needed = false;
	if ((rc = db_begin(j->db, j->a, t->tenant_id, err)) != GACP_OK)
		return rc;
	if ((rc = trainset_load(j->db, j->a, &j->ds, j->hash, err)) != GACP_OK ||
	    (rc = nlu_store_model_active(j->db, j->a, RELOAD_LANGUAGE, &active,
	    err)) != GACP_OK ||
	    (rc = nlu_store_model_latest(j->db, j->a, &latest, err)) !=
	    GACP_OK ||
	    (rc = db_commit(j->db, j->a, err)) != GACP_OK) {
		db_rollback(j->db, j->a);
		return rc;
	}
	t->active_version = active ? active->version : 0;
	t->active_accuracy = stored_accuracy(active);
	t->intents = count_intents(&j->ds);
	if (j->ds.n_ex == 0) {
		say(t, RELOAD_NO_DATA, "no training examples");
		return GACP_OK;
	}
	if (t->intents < 2) {
		say(t, RELOAD_NO_DATA, "%zu examples of one intent; a model "
		    "needs at least two", j->ds.n_ex);
		return GACP_OK;
	}
	if (!j->o->force && active != NULL &&
	    strcmp(active->training_data_hash, j->hash) == 0) {
		say(t, RELOAD_UNCHANGED, "version %lld was trained on this data",
		    (long long)active->version);
		return GACP_OK;
	}
	/* A version rejected for this very data is not retried every run. */
	if (!j->o->force && latest != NULL &&
	    strcmp(latest->training_data_hash, j->hash) == 0) {
		say(t, RELOAD_UNCHANGED, "version %lld (%s) was trained on this "
		    "data", (long long)latest->version, latest->status);
		return GACP_OK;
	}
	*needed = true;
	return GACP_OK;
}

/* Step 2: train on a split, evaluate on the held-back part, refit. */
static int
train(struct job *j, struct gacp_err *err)
{
	struct nlu_dataset kept, held;
	struct nlu_train_report rep;
	struct nlu_eval ev;
	struct reload_tenant *t = j->t;
	int64_t started = util_mono_us();
	int rc;

	nlu_dataset_init(&kept);
	nlu_dataset_init(&held);
	memset(&ev, 0, sizeof(ev));
	nlu_dataset_split(&j->ds, j->o->holdout, j->o->train.seed, &kept, &held);
	if ((rc = nlu_model_train(&kept, NULL, &j->o->train, &j->model, &rep,
	    err)) != GACP_OK)
		goto out;
	t->train_examples = kept.n_ex;
	t->metrics.examples = held.n_ex;
	j->measured = held.n_ex > 0;
	if (j->measured) {
		if ((rc = nlu_eval_run(j->model, &held, -1.0f, -1.0f, &ev,
		    err)) != GACP_OK)
			goto out;
		t->metrics.accuracy = ev.accuracy;
		t->metrics.macro_f1 = ev.macro_f1;
		t->metrics.in_scope_accuracy = ev.in_scope_accuracy;
		t->metrics.oos_recall = ev.oos_recall;
	}
	if (j->o->refit && held.n_ex > 0) {
		nlu_model_free(j->model);
		j->model = NULL;
		if ((rc = nlu_model_train(&j->ds, NULL, &j->o->train, &j->model,
		    &rep, err)) != GACP_OK)
			goto out;
		t->train_examples = j->ds.n_ex;
	}
	rc = GACP_OK;
out:
	t->train_seconds = (double)(util_mono_us() - started) / 1e6;
	nlu_eval_cleanup(&ev);
	nlu_dataset_cleanup(&kept);
	nlu_dataset_cleanup(&held);
	return rc;
}

static char *
metrics_json(const struct job *j)
{
	const struct reload_tenant *t = j->t;
	struct buf b;
	char *s;

	buf_init(&b);
	if (j->measured)
		buf_printf(&b, "{\"accuracy\":%.6g,\"macro_f1\":%.6g,"
		    "\"in_scope_accuracy\":%.6g,\"oos_recall\":%.6g,",
		    t->metrics.accuracy, t->metrics.macro_f1,
		    t->metrics.in_scope_accuracy, t->metrics.oos_recall);
	else
		buf_puts(&b, "{\"accuracy\":null,\"macro_f1\":null,"
		    "\"in_scope_accuracy\":null,\"oos_recall\":null,");
	buf_printf(&b, "\"examples\":%zu,\"train_examples\":%zu,"
	    "\"intents\":%u,\"holdout\":%.6g,\"refit\":%s,\"threshold\":%.6g}",
	    t->metrics.examples, t->train_examples, t->intents,
	    j->o->holdout, j->o->refit && t->metrics.examples > 0 ? "true" :
	    "false", (double)j->model->threshold);
	s = arena_strdup(j->a, b.data);
	buf_cleanup(&b);
	return s;
}

static int
audit(struct job *j, const char *action, const char *model_id,
    struct json_object *d, struct gacp_err *err)
{
	struct audit_entry e;

	memset(&e, 0, sizeof(e));
	e.tenant_id = j->t->tenant_id;
	e.actor_type = "system";
	e.actor_id = RELOAD_ACTOR;
	e.action = action;
	e.outcome = "success";
	e.resource_type = "nlu_model";
	e.resource_id = model_id;
	e.details = json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN);
	return audit_store_insert(j->db, j->a, &e, err);
}

/* Step 4: retire old versions' rows (the caller removes their files). */
static int
prune(struct job *j, char ***paths, size_t *n, struct gacp_err *err)
{
	struct json_object *d;
	int rc;

	if ((rc = nlu_store_models_prune(j->db, j->a, j->o->keep_versions,
	    paths, n, err)) != GACP_OK || *n == 0)
		return rc;
	d = json_object_new_object();
	json_object_object_add(d, "deleted_versions",
	    json_object_new_int64((int64_t)*n));
	json_object_object_add(d, "keep_versions",
	    json_object_new_int64(j->o->keep_versions));
	rc = audit(j, "nlu_model.prune", NULL, d, err);
	json_object_put(d);
	return rc;
}

/* Step 3: write the version, record it, activate it or not. */
static int
publish(struct job *j, struct gacp_err *err)
{
	struct nlu_model_row *active = NULL, *latest = NULL, *row = NULL;
	struct nlu_model_new nm;
	struct reload_tenant *t = j->t;
	const struct reload_opts *o = j->o;
	struct json_object *d = NULL;
	char *dir = NULL, *rel, *path = NULL, checksum[65], reason[200];
	char **pruned = NULL;
	bool wrote = false, activate, published = false;
	size_t n_pruned = 0, i;
	struct stat st;
	int rc;

	reason[0] = '\0';
	if ((rc = db_begin(j->db, j->a, t->tenant_id, err)) != GACP_OK)
		return rc;
	if ((rc = nlu_store_models_lock(j->db, j->a, t->tenant_id, err)) !=
	    GACP_OK ||
	    (rc = nlu_store_model_active(j->db, j->a, RELOAD_LANGUAGE, &active,
	    err)) != GACP_OK ||
	    (rc = nlu_store_model_latest(j->db, j->a, &latest, err)) != GACP_OK ||
	    (rc = versions_tenant_dir(o->model_dir, t->tenant_id, &dir, err)) !=
	    GACP_OK)
		goto fail;
	t->version = latest ? latest->version + 1 : 1;
	t->active_version = active ? active->version : 0;
	t->active_accuracy = stored_accuracy(active);
	rel = arena_sprintf(j->a, "%s/%lld.gnlu", t->tenant_id,
	    (long long)t->version);
	path = xasprintf("%s/%s", o->model_dir, rel);
	if ((rc = nlu_model_save(j->model, path, err)) != GACP_OK)
		goto fail;
	wrote = true;
	versions_chown_like_dir(o->model_dir, path);
	util_hex(j->model->sha256, sizeof(j->model->sha256), checksum);

	/* Each version's accuracy was measured on its own held-back split. */
	if (active == NULL)
		activate = true;
	else if (!j->measured) {
		activate = false;
		snprintf(reason, sizeof(reason), "nothing to evaluate on (every "
		    "intent has one example); version %lld keeps serving",
		    (long long)active->version);
	} else if (t->active_accuracy < 0 || t->metrics.accuracy >=
	    t->active_accuracy - o->max_regression) {
		activate = true;
	} else {
		activate = false;
		snprintf(reason, sizeof(reason), "accuracy %.4f is more than "
		    "%.4f below version %lld (%.4f), which keeps serving",
		    t->metrics.accuracy, o->max_regression,
		    (long long)active->version, t->active_accuracy);
	}
	memset(&nm, 0, sizeof(nm));
	nm.version = t->version;
	nm.language = RELOAD_LANGUAGE;
	nm.status = activate ? "candidate" : "rejected";
	nm.checksum = checksum;
	nm.path = rel;
	nm.size_bytes = stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
	nm.metrics = metrics_json(j);
	nm.training_data_hash = j->hash;
	nm.train_seconds = t->train_seconds;
	nm.reason = reason[0] ? reason : NULL;
	if ((rc = nlu_store_model_insert(j->db, j->a, t->tenant_id, &nm, &row,
	    err)) != GACP_OK)
		goto fail;
	d = json_object_new_object();
	json_object_object_add(d, "version", json_object_new_int64(t->version));
	json_object_object_add(d, "status", json_object_new_string(nm.status));
	json_object_object_add(d, "metrics", json_tokener_parse(nm.metrics));
	if (nm.reason != NULL)
		json_object_object_add(d, "reason",
		    json_object_new_string(nm.reason));
	if ((rc = audit(j, "nlu_model.create", row->id, d, err)) != GACP_OK)
		goto fail;
	if (activate) {
		json_object_put(d);
		d = json_object_new_object();
		json_object_object_add(d, "version",
		    json_object_new_int64(t->version));
		json_object_object_add(d, "previous_version", active ?
		    json_object_new_int64(active->version) : NULL);
		json_object_object_add(d, "checksum",
		    json_object_new_string(checksum));
		if ((rc = nlu_store_model_activate(j->db, j->a, row->id, NULL,
		    &row, err)) != GACP_OK ||
		    (rc = versions_publish(o->model_dir, t->tenant_id, rel,
		    checksum, err)) != GACP_OK)
			goto fail;
		published = true;
		if ((rc = audit(j, "nlu_model.activate", row->id, d, err)) !=
		    GACP_OK)
			goto fail;
	}
	if (o->keep_versions > 0 &&
	    (rc = prune(j, &pruned, &n_pruned, err)) != GACP_OK)
		goto fail;
	if ((rc = db_commit(j->db, j->a, err)) != GACP_OK)
		goto fail;
	/* After the commit: a failure leaves a stray file, never a row
	 * without its file. */
	for (i = 0; i < n_pruned; i++) {
		char *old = xasprintf("%s/%s", o->model_dir, pruned[i]);
		if (unlink(old) != 0 && errno != ENOENT)
			log_msg(LOG_WARN, "nlu_prune_failed", "%s: %s", old,
			    strerror(errno));
		free(old);
	}
	if (activate)
		say(t, RELOAD_ACTIVATED, "version %lld serving", (long long)
		    t->version);
	else
		say(t, RELOAD_REJECTED, "%s", reason);
	rc = GACP_OK;
	goto out;
fail:
	db_rollback(j->db, j->a);
	if (published && active != NULL) {
		struct gacp_err perr;

		/* The rows rolled back: so must the file. */
		gacp_err_clear(&perr);
		if (versions_publish(o->model_dir, t->tenant_id, active->path,
		    active->checksum, &perr) != GACP_OK)
			log_msg(LOG_ERROR, "nlu_model_unpublish_failed", "tenant "
			    "%s: %s", t->tenant_id, perr.msg);
	}
	if (wrote && !published)
		(void)unlink(path);
	t->version = 0;
out:
	if (d != NULL)
		json_object_put(d);
	free(dir);
	free(path);
	return rc;
}

static void
reload_tenant(struct db *db, const struct reload_opts *o,
    struct reload_tenant *t)
{
	struct arena a;
	struct job j;
	struct gacp_err err;
	bool needed = false;
	int rc;

	arena_init(&a, 65536);
	memset(&j, 0, sizeof(j));
	j.db = db;
	j.a = &a;
	j.o = o;
	j.t = t;
	nlu_dataset_init(&j.ds);
	gacp_err_clear(&err);
	if ((rc = read_data(&j, &needed, &err)) == GACP_OK && needed) {
		struct training_job tj;
		struct gacp_err jerr;

		/* Counted by GET /status while it runs; Redis being down only
		 * costs the count, never the training. */
		gacp_err_clear(&jerr);
		memset(&tj, 0, sizeof(tj));
		if (o->cache != NULL && jobs_begin(&tj, o->cache, &a, o->redis,
		    t->tenant_id, &jerr) != GACP_OK)
			log_msg(LOG_WARN, "nlu_training_register_failed",
			    "tenant %s: %s", t->tenant_id, jerr.msg);
		if ((rc = train(&j, &err)) == GACP_OK)
			rc = publish(&j, &err);
		if (o->cache != NULL)
			jobs_end(&tj, o->cache, &a);
	}
	if (rc != GACP_OK) {
		say(t, RELOAD_FAILED, "%s (%s)%s", err.msg, err.code,
		    t->active_version ? "; the active version keeps serving" :
		    "");
		log_msg(LOG_ERROR, "nlu_reload_failed", "tenant %s: %s: %s",
		    t->tenant_id, err.code, err.msg);
	}
	nlu_model_free(j.model);
	nlu_dataset_cleanup(&j.ds);
	arena_cleanup(&a);
}

int
reload_run(struct db *owner, const struct reload_opts *o,
    struct reload_report *rep, struct gacp_err *err)
{
	struct arena a;
	PGresult *res, *tenants = NULL;
	const char *p[1] = { o->only_tenant };
	int64_t started = util_mono_us();
	int rc, i, locked = 0;

	memset(rep, 0, sizeof(*rep));
	arena_init(&a, 16384);
	if ((rc = db_exec(owner, &a, "SELECT pg_try_advisory_lock("
	    RELOAD_LOCK_KEY ")", 0, NULL, &res, err)) != GACP_OK)
		goto out;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		rc = RELOAD_BUSY;
		goto out;
	}
	locked = 1;
	/* Only the tenants table honours the platform scope; every other
	 * table is read below with app.tenant_id bound to one tenant. */
	if ((rc = db_begin(owner, &a, NULL, err)) != GACP_OK ||
	    (rc = db_set_platform_admin(owner, &a, err)) != GACP_OK ||
	    (rc = db_exec(owner, &a, "SELECT id::text, slug FROM tenants"
	    " WHERE NOT is_deleted AND status = 'active' AND"
	    " ($1::text IS NULL OR id::text = lower($1) OR slug = $1)"
	    " ORDER BY slug", 1, p, &tenants, err)) != GACP_OK ||
	    (rc = db_commit(owner, &a, err)) != GACP_OK) {
		db_rollback(owner, &a);
		goto out;
	}
	if (o->only_tenant != NULL && PQntuples(tenants) == 0) {
		rc = gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no active tenant %s", o->only_tenant);
		goto out;
	}
	rep->n = (size_t)PQntuples(tenants);
	rep->tenants = xcalloc(rep->n + 1, sizeof(*rep->tenants));
	for (i = 0; i < PQntuples(tenants); i++) {
		struct reload_tenant *t = &rep->tenants[i];

		snprintf(t->tenant_id, sizeof(t->tenant_id), "%s",
		    PQgetvalue(tenants, i, 0));
		snprintf(t->slug, sizeof(t->slug), "%s",
		    PQgetvalue(tenants, i, 1));
		t->active_accuracy = -1.0;
		reload_tenant(owner, o, t);
		if (t->outcome == RELOAD_FAILED)
			rep->failed++;
	}
	rc = GACP_OK;
out:
	if (locked && owner->conn != NULL)
		(void)db_exec(owner, &a, "SELECT pg_advisory_unlock("
		    RELOAD_LOCK_KEY ")", 0, NULL, &res, NULL);
	rep->duration_ms = (util_mono_us() - started) / 1000;
	arena_cleanup(&a);
	return rc;
}
