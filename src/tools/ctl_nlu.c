/* ctl_nlu.c - gacpctl nlu import|export|train|eval|status: a tenant's NLU training data and models.
 *
 * import and export go through the training-data services of the REST API
 * (training/trainset.h: POST /v1/nlu/import, GET /v1/nlu/export) on the
 * gacp_app connection bound to the tenant, so validation, the all-or-nothing
 * rule and the audit trail are the API's (the actor is the system
 * principal "gacpctl:<login>").  train is one `gacp-nlu reload` pass for
 * one tenant (training/reload.h), forced: train, evaluate on held-back
 * data, publish unless worse than the active version; like gacp-nlu it runs
 * on the owner role, which must read the tenant's rows outside any request.
 * eval scores the tenant's active model on its current training data or on
 * a Rasa file; status shows each tenant's active version, when it was
 * trained, its metrics, and how many examples and entity definitions
 * changed since.
 */
#include "tools/ctl.h"
#include "tools/ctl_run.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "nlu/data.h"
#include "nlu/eval.h"
#include "nlu/model.h"
#include "nlu/text.h"
#include "store/db.h"
#include "tenancy/tenancy.h"
#include "tenancy/tenants.h"
#include "training/jobs.h"
#include "training/reload.h"
#include "training/trainset.h"
#include "training/versions.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Largest training-data file import and eval read (the import itself caps
 * the examples at TRAINSET_IMPORT_MAX). */
#define NLU_FILE_MAX_BYTES (64 * 1024 * 1024)

/* The last argument when it is not an option's value or a flag. */
static const char *
file_arg(int argc, char **argv)
{
	if (argc == 0 || argv[argc - 1][0] == '-')
		return NULL;
	if (argc >= 2 && strncmp(argv[argc - 2], "--", 2) == 0 &&
	    strcmp(argv[argc - 2], "--json") != 0)
		return NULL;
	return argv[argc - 1];
}

/* Read a whole file of at most NLU_FILE_MAX_BYTES into *out (heap). */
static int
read_file(const char *path, char **out, size_t *len, struct gacp_err *err)
{
	FILE *f = fopen(path, "re");
	char *text;
	size_t n;

	*out = NULL;
	if (f == NULL)
		return gacp_err_set(err, GACP_EIO, "unreadable", "cannot open %s",
		    path);
	text = xmalloc(NLU_FILE_MAX_BYTES + 1);
	n = fread(text, 1, NLU_FILE_MAX_BYTES + 1, f);
	if (ferror(f)) {
		fclose(f);
		free(text);
		return gacp_err_set(err, GACP_EIO, "unreadable",
		    "cannot read %s", path);
	}
	fclose(f);
	if (n > NLU_FILE_MAX_BYTES) {
		free(text);
		return gacp_err_set(err, GACP_ETOOBIG, "too_large",
		    "%s is over %d MiB", path, NLU_FILE_MAX_BYTES >> 20);
	}
	text[n] = '\0';
	*out = text;
	*len = n;
	return GACP_OK;
}

/* ---- import --------------------------------------------------------------- */

static struct json_object *
counts_json(const struct nlu_sync_counts *c, size_t in_file)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "in_file", json_object_new_int64((int64_t)in_file));
	json_object_object_add(o, "inserted", json_object_new_int64(c->inserted));
	json_object_object_add(o, "updated", json_object_new_int64(c->updated));
	json_object_object_add(o, "deleted", json_object_new_int64(c->deleted));
	json_object_object_add(o, "unchanged", json_object_new_int64(c->unchanged));
	return o;
}

int
ctl_nlu_import(struct ctl_ctx *ctl, int argc, char **argv)
{
	const char *path = file_arg(argc, argv);
	const char *mode = ctl_opt(argc, argv, "--mode");
	const char *format = ctl_opt(argc, argv, "--format");
	struct trainset_import_report rep;
	enum trainset_format fmt;
	struct nlu_text lid, *lidp = NULL;
	struct ctl_run r;
	char *text = NULL;
	size_t len = 0;
	int rc = CTL_FAIL;

	ctl_run_init(&r, ctl);
	memset(&lid, 0, sizeof(lid));
	memset(&rep, 0, sizeof(rep));
	if (path == NULL) {
		gacp_err_set(&r.err, GACP_EINVAL, "usage", "usage: gacpctl nlu "
		    "import --tenant SLUG [--mode replace|merge] "
		    "[--format yaml|json] FILE");
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (format != NULL && strcmp(format, "yaml") != 0 &&
	    strcmp(format, "json") != 0) {
		gacp_err_set(&r.err, GACP_EINVAL, "usage",
		    "--format must be yaml or json");
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (read_file(path, &text, &len, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (format != NULL)
		fmt = strcmp(format, "json") == 0 ? TRAINSET_RASA_JSON :
		    TRAINSET_RASA_YAML;
	else
		fmt = nlu_data_detect(path, text, len) == NLU_DATA_RASA_JSON ?
		    TRAINSET_RASA_JSON : TRAINSET_RASA_YAML;
	/* The language identifier the API uses for examples without one;
	 * without libthai's dictionary they are imported as "und". */
	if (nlu_text_init(&lid, &r.err) == GACP_OK)
		lidp = &lid;
	else
		fprintf(stderr, "gacpctl: warning: no language identifier (%s); "
		    "examples without a language get \"und\"\n", r.err.msg);
	gacp_err_clear(&r.err);
	if (ctl_run_enter_tenant(&r, ctl_opt(argc, argv, "--tenant")) != GACP_OK ||
	    trainset_import(&r.s, lidp, fmt, text, len, mode, &rep,
	    &r.err) != GACP_OK ||
	    svc_commit(&r.s, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (ctl->json) {
		struct json_object *o = json_object_new_object(), *ex;

		json_object_object_add(o, "mode", json_object_new_string(
		    rep.replace ? "replace" : "merge"));
		ex = counts_json(&rep.ex, rep.examples);
		json_object_object_add(ex, "duplicates_ignored",
		    json_object_new_int64((int64_t)rep.duplicates_ignored));
		json_object_object_add(o, "examples", ex);
		json_object_object_add(o, "entities", counts_json(&rep.ent,
		    rep.definitions));
		ctl_print_json(o);
		json_object_put(o);
	} else {
		printf("%s: %zu examples (%lld inserted, %lld updated, %lld "
		    "deleted, %lld unchanged, %zu duplicates ignored), %zu entity "
		    "definitions (%lld inserted, %lld updated, %lld deleted)\n",
		    rep.replace ? "replaced" : "merged", rep.examples,
		    (long long)rep.ex.inserted, (long long)rep.ex.updated,
		    (long long)rep.ex.deleted, (long long)rep.ex.unchanged,
		    rep.duplicates_ignored, rep.definitions,
		    (long long)rep.ent.inserted, (long long)rep.ent.updated,
		    (long long)rep.ent.deleted);
	}
	rc = CTL_OK;
out:
	nlu_text_cleanup(lidp);
	free(text);
	ctl_run_cleanup(&r);
	return rc;
}

/* ---- export --------------------------------------------------------------- */

int
ctl_nlu_export(struct ctl_ctx *ctl, int argc, char **argv)
{
	struct ctl_run r;
	struct buf out;
	int rc = CTL_FAIL;

	ctl_run_init(&r, ctl);
	buf_init(&out);
	if (ctl_run_enter_tenant(&r, ctl_opt(argc, argv, "--tenant")) != GACP_OK ||
	    trainset_export(&r.s, &out, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (ctl->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "format",
		    json_object_new_string("rasa_yaml"));
		json_object_object_add(o, "data", json_object_new_string_len(
		    out.len ? out.data : "", (int)out.len));
		ctl_print_json(o);
		json_object_put(o);
	} else if (out.len > 0 && fwrite(out.data, 1, out.len, stdout) !=
	    out.len) {
		gacp_err_set(&r.err, GACP_EIO, "write_failed",
		    "cannot write to standard output");
		rc = ctl_run_fail(&r);
		goto out;
	}
	rc = fflush(stdout) == 0 ? CTL_OK : CTL_FAIL;
out:
	buf_cleanup(&out);
	ctl_run_cleanup(&r);
	return rc;
}

/* ---- train ---------------------------------------------------------------- */

static struct json_object *
metrics_json(const struct reload_metrics *m)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "accuracy", json_object_new_double(m->accuracy));
	json_object_object_add(o, "macro_f1", json_object_new_double(m->macro_f1));
	json_object_object_add(o, "in_scope_accuracy",
	    json_object_new_double(m->in_scope_accuracy));
	json_object_object_add(o, "oos_recall",
	    json_object_new_double(m->oos_recall));
	json_object_object_add(o, "examples",
	    json_object_new_int64((int64_t)m->examples));
	return o;
}

int
ctl_nlu_train(struct ctl_ctx *ctl, int argc, char **argv)
{
	const struct config *cfg = &ctl->app.cfg;
	const char *tenant = ctl_opt(argc, argv, "--tenant");
	struct reload_report rep;
	struct reload_opts o;
	struct reload_tenant *t;
	struct jobs_redis redis;
	struct gacp_err err;
	int rc;

	memset(&rep, 0, sizeof(rep));
	memset(&redis, 0, sizeof(redis));
	gacp_err_clear(&err);
	if (tenant == NULL) {
		gacp_err_set(&err, GACP_EINVAL, "usage",
		    "usage: gacpctl nlu train --tenant SLUG");
		return ctl_fail(&err);
	}
	/* The options gacp-nlu reload takes from the same keys. */
	reload_opts_default(&o);
	if (reload_opts_configure(&o, cfg, &err) != GACP_OK)
		return ctl_fail(&err);
	o.force = 1;              /* "now": even when the data is unchanged */
	o.only_tenant = tenant;
	/* Counted by the tenant's GET /status while it trains (jobs.h); the
	 * heartbeat connects as this process's Redis connection does. */
	if (jobs_redis_load(&redis, cfg, &err) == GACP_OK) {
		o.cache = &ctl->app.cache;
		o.redis = &redis;
	}
	gacp_err_clear(&err);
	rc = reload_run(&ctl->owner, &o, &rep, &err);
	if (rc == RELOAD_BUSY) {
		gacp_err_set(&err, GACP_ECONFLICT, "busy", "a gacp-nlu reload "
		    "run holds the lock; try again when it is done");
		rc = ctl_fail(&err);
		goto out;
	}
	if (rc != GACP_OK) {
		rc = ctl_fail(&err);
		goto out;
	}
	if (rep.n != 1) {
		gacp_err_set(&err, GACP_ENOTFOUND, "not_found",
		    "no active tenant '%s'", tenant);
		rc = ctl_fail(&err);
		goto out;
	}
	t = &rep.tenants[0];
	if (ctl->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "tenant", json_object_new_string(t->slug));
		json_object_object_add(j, "outcome", json_object_new_string(
		    reload_outcome_name(t->outcome)));
		json_object_object_add(j, "version", t->version ?
		    json_object_new_int64(t->version) : NULL);
		json_object_object_add(j, "previous_version", t->active_version ?
		    json_object_new_int64(t->active_version) : NULL);
		json_object_object_add(j, "metrics", t->version ?
		    metrics_json(&t->metrics) : NULL);
		json_object_object_add(j, "train_examples",
		    json_object_new_int64((int64_t)t->train_examples));
		json_object_object_add(j, "intents",
		    json_object_new_int64(t->intents));
		json_object_object_add(j, "train_seconds",
		    json_object_new_double(t->train_seconds));
		json_object_object_add(j, "message", t->message[0] ?
		    json_object_new_string(t->message) : NULL);
		ctl_print_json(j);
		json_object_put(j);
	} else {
		printf("%s: %s", t->slug, reload_outcome_name(t->outcome));
		if (t->version)
			printf(" version %lld (accuracy %.4f, macro-F1 %.4f on %zu "
			    "held-back examples; %zu examples, %u intents, %.1f s)",
			    (long long)t->version, t->metrics.accuracy,
			    t->metrics.macro_f1, t->metrics.examples,
			    t->train_examples, t->intents, t->train_seconds);
		if (t->active_version)
			printf("; previously active: version %lld",
			    (long long)t->active_version);
		if (t->message[0])
			printf(": %s", t->message);
		printf("\n");
	}
	/* Exit codes: published (or already current) 0; a new version worse
	 * than the active one, or nothing to train on, 5 (refused); an error
	 * 1. */
	switch (t->outcome) {
	case RELOAD_ACTIVATED:
	case RELOAD_UNCHANGED:
		rc = CTL_OK;
		break;
	case RELOAD_REJECTED:
	case RELOAD_NO_DATA:
		rc = CTL_REFUSED;
		break;
	default:
		rc = CTL_FAIL;
		break;
	}
out:
	reload_report_cleanup(&rep);
	jobs_redis_cleanup(&redis);
	return rc;
}

/* ---- eval ----------------------------------------------------------------- */

int
ctl_nlu_eval(struct ctl_ctx *ctl, int argc, char **argv)
{
	const char *data = ctl_opt(argc, argv, "--data");
	const char *model_dir = config_get(&ctl->app.cfg, "paths.model_dir",
	    GACP_LOCALSTATEDIR "/lib/gacp/models");
	struct nlu_model_row *active = NULL;
	struct nlu_model *m = NULL;
	struct nlu_dataset ds;
	struct nlu_eval ev;
	struct ctl_run r;
	struct buf out;
	char hash[65], *path = NULL;
	int rc = CTL_FAIL;

	ctl_run_init(&r, ctl);
	nlu_dataset_init(&ds);
	memset(&ev, 0, sizeof(ev));
	buf_init(&out);
	if (ctl_run_enter_tenant(&r, ctl_opt(argc, argv, "--tenant")) != GACP_OK ||
	    versions_active(&r.s, &active, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (active == NULL) {
		gacp_err_set(&r.err, GACP_ENOTFOUND, "no_active_model",
		    "the tenant has no active model (gacpctl nlu train)");
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (data != NULL) {
		if (nlu_dataset_load_file(&ds, data, NLU_DATA_AUTO, &r.err) !=
		    GACP_OK) {
			rc = ctl_run_fail(&r);
			goto out;
		}
	} else if (trainset_load(&ctl->app.db, &r.arena, &ds, hash,
	    &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	db_rollback(&ctl->app.db, &r.arena);     /* only read */
	if (ds.n_ex == 0) {
		gacp_err_set(&r.err, GACP_EINVAL, "no_data",
		    "no examples to evaluate on");
		rc = ctl_run_fail(&r);
		goto out;
	}
	path = xasprintf("%s/%s", model_dir, active->path);
	if (nlu_model_load(path, &m, &r.err) != GACP_OK ||
	    nlu_eval_run(m, &ds, -1.0f, -1.0f, &ev, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (ctl->json) {
		struct json_object *o = json_object_new_object(), *metrics;

		nlu_eval_json(&ev, &out);
		buf_putc(&out, '\0');
		metrics = json_tokener_parse(out.data);
		json_object_object_add(o, "version",
		    json_object_new_int64(active->version));
		json_object_object_add(o, "data", json_object_new_string(
		    data ? data : "training_data"));
		json_object_object_add(o, "metrics", metrics);
		ctl_print_json(o);
		json_object_put(o);
	} else {
		size_t i;

		printf("version %lld on %s: %zu examples\n"
		    "accuracy %.4f  macro-F1 %.4f  in-scope accuracy %.4f  "
		    "out-of-scope recall %.4f\n", (long long)active->version,
		    data ? data : "the current training data (the model was "
		    "trained on most of it: optimistic)", ev.examples,
		    ev.accuracy, ev.macro_f1, ev.in_scope_accuracy,
		    ev.oos_recall);
		for (i = 0; i < ev.n_worst; i++)
			printf("  confused %zu x: %s -> %s\n", ev.worst[i].count,
			    ev.worst[i].gold, ev.worst[i].pred);
	}
	rc = CTL_OK;
out:
	nlu_eval_cleanup(&ev);
	nlu_model_free(m);
	nlu_dataset_cleanup(&ds);
	free(path);
	buf_cleanup(&out);
	ctl_run_cleanup(&r);
	return rc;
}

/* ---- status --------------------------------------------------------------- */

/* One tenant's line: in a transaction of the owner bound to the tenant
 * (the policies are forced on the owner too). */
static int
status_one(struct ctl_ctx *ctl, struct arena *a, const char *id,
    const char *slug, struct json_object *items, struct gacp_err *err)
{
	static const char sql[] =
	    "WITH m AS (SELECT version, created_at, activated_at, metrics "
	    "  FROM nlu_models WHERE tenant_id = $1 AND status = 'active' "
	    "  AND NOT is_deleted ORDER BY version DESC LIMIT 1), "
	    "n AS (SELECT version, status, reason FROM nlu_models "
	    "  WHERE tenant_id = $1 AND NOT is_deleted "
	    "  ORDER BY version DESC LIMIT 1) "
	    "SELECT (SELECT version FROM m), "
	    " (SELECT to_char(created_at AT TIME ZONE 'UTC', "
	    "   'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM m), "
	    " (SELECT to_char(activated_at AT TIME ZONE 'UTC', "
	    "   'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM m), "
	    " (SELECT metrics::text FROM m), "
	    " (SELECT count(*) FROM nlu_examples e WHERE e.tenant_id = $1 "
	    "   AND NOT e.is_deleted), "
	    " (SELECT count(*) FROM nlu_examples e WHERE e.tenant_id = $1 "
	    "   AND (NOT EXISTS (SELECT 1 FROM m) "
	    "   OR (NOT e.is_deleted AND e.updated_at > (SELECT created_at FROM m)) "
	    "   OR (e.is_deleted AND e.deleted_at > (SELECT created_at FROM m)))), "
	    " (SELECT count(*) FROM nlu_entities e WHERE e.tenant_id = $1 "
	    "   AND (NOT EXISTS (SELECT 1 FROM m) "
	    "   OR (NOT e.is_deleted AND e.updated_at > (SELECT created_at FROM m)) "
	    "   OR (e.is_deleted AND e.deleted_at > (SELECT created_at FROM m)))), "
	    " (SELECT version FROM n), (SELECT status FROM n), "
	    " (SELECT reason FROM n)";
	const char *p[1] = { id };
	PGresult *res;
	int rc;

	if ((rc = db_begin(&ctl->owner, a, id, err)) != GACP_OK)
		return rc;
	rc = db_exec(&ctl->owner, a, sql, 1, p, &res, err);
	db_rollback(&ctl->owner, a);
	if (rc != GACP_OK)
		return rc;
	if (ctl->json) {
		struct json_object *o = json_object_new_object();
		const char *metrics = PQgetisnull(res, 0, 3) ? NULL :
		    PQgetvalue(res, 0, 3);

		json_object_object_add(o, "tenant", json_object_new_string(slug));
		json_object_object_add(o, "active_version", PQgetisnull(res, 0, 0) ?
		    NULL : json_object_new_int64(atoll(PQgetvalue(res, 0, 0))));
		json_object_object_add(o, "trained_at", PQgetisnull(res, 0, 1) ?
		    NULL : json_object_new_string(PQgetvalue(res, 0, 1)));
		json_object_object_add(o, "activated_at", PQgetisnull(res, 0, 2) ?
		    NULL : json_object_new_string(PQgetvalue(res, 0, 2)));
		json_object_object_add(o, "metrics", metrics ?
		    json_tokener_parse(metrics) : NULL);
		json_object_object_add(o, "examples",
		    json_object_new_int64(atoll(PQgetvalue(res, 0, 4))));
		json_object_object_add(o, "examples_changed_since",
		    json_object_new_int64(atoll(PQgetvalue(res, 0, 5))));
		json_object_object_add(o, "entities_changed_since",
		    json_object_new_int64(atoll(PQgetvalue(res, 0, 6))));
		json_object_object_add(o, "newest_version", PQgetisnull(res, 0, 7) ?
		    NULL : json_object_new_int64(atoll(PQgetvalue(res, 0, 7))));
		json_object_object_add(o, "newest_status", PQgetisnull(res, 0, 8) ?
		    NULL : json_object_new_string(PQgetvalue(res, 0, 8)));
		json_object_object_add(o, "newest_reason", PQgetisnull(res, 0, 9) ?
		    NULL : json_object_new_string(PQgetvalue(res, 0, 9)));
		json_object_array_add(items, o);
		return GACP_OK;
	}
	if (PQgetisnull(res, 0, 0))
		printf("%-24s no active model; %s examples\n", slug,
		    PQgetvalue(res, 0, 4));
	else
		printf("%-24s version %s trained %s, %s examples, %s changed "
		    "since (%s entity definitions); metrics %s\n", slug,
		    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
		    PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5),
		    PQgetvalue(res, 0, 6), PQgetvalue(res, 0, 3));
	if (!PQgetisnull(res, 0, 7) && strcmp(PQgetvalue(res, 0, 8),
	    "active") != 0)
		printf("%-24s newest version %s is %s%s%s\n", "",
		    PQgetvalue(res, 0, 7), PQgetvalue(res, 0, 8),
		    PQgetisnull(res, 0, 9) ? "" : ": ",
		    PQgetisnull(res, 0, 9) ? "" : PQgetvalue(res, 0, 9));
	return GACP_OK;
}

int
ctl_nlu_status(struct ctl_ctx *ctl, int argc, char **argv)
{
	const char *tenant = ctl_opt(argc, argv, "--tenant");
	struct json_object *items = json_object_new_array();
	struct gacp_err err;
	struct arena a;
	PGresult *res;
	int rc, i;

	gacp_err_clear(&err);
	arena_init(&a, 8192);
	/* The tenants to show: the platform scope lists every one. */
	if ((rc = db_begin(&ctl->owner, &a, NULL, &err)) != GACP_OK ||
	    (rc = db_set_platform_admin(&ctl->owner, &a, &err)) != GACP_OK)
		goto out;
	{
		const char *p[1] = { tenant };
		rc = db_exec(&ctl->owner, &a, "SELECT id::text, slug FROM tenants "
		    "WHERE NOT is_deleted AND ($1::text IS NULL OR slug = $1 OR "
		    "id::text = $1) ORDER BY slug", 1, p, &res, &err);
	}
	db_rollback(&ctl->owner, &a);
	if (rc != GACP_OK)
		goto out;
	if (tenant != NULL && PQntuples(res) == 0) {
		rc = gacp_err_set(&err, GACP_ENOTFOUND, "not_found",
		    "no tenant '%s'", tenant);
		goto out;
	}
	for (i = 0; i < PQntuples(res) && rc == GACP_OK; i++)
		rc = status_one(ctl, &a, PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1), items, &err);
	if (rc == GACP_OK && ctl->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "items", json_object_get(items));
		ctl_print_json(o);
		json_object_put(o);
	}
out:
	json_object_put(items);
	arena_cleanup(&a);
	return rc == GACP_OK ? CTL_OK : ctl_fail(&err);
}
