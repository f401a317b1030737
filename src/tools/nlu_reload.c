/* nlu_reload.c - `gacp-nlu reload`: retrain tenants whose training data changed and publish the models (cron, systemd timer).
 *
 *   gacp-nlu reload [--config FILE] [--tenant ID|SLUG] [--force] [--json]
 *                   [--max-regression F] [--holdout F] [--no-refit]
 *                   [--seed N] [--members N] [--hidden N] [--epochs N]
 *                   [--dim-log2 N] [--threads N] [--keep N]
 *
 * Settings (gacp.conf, environment overrides as for every key):
 * paths.model_dir, database.owner_conninfo, nlu.max_regression (0.02),
 * nlu.holdout (0.2), nlu.refit (true), nlu.keep_versions (10 newest
 * versions besides the active one keep their files; 0 keeps all),
 * nlu.reload_timeout_ms (60000, per query), nlu.wordnet (auto),
 * nlu.embeddings (none).  Options win over settings.  Prints one line per
 * tenant and a summary, or with --json one JSON document.
 *
 * It connects as the owner role: a pass reads every tenant's training
 * data, which row-level security hides from the application role; each
 * tenant is still read and written with app.tenant_id bound to it (see
 * training/reload.h).
 */
#include "tools/nlu_reload.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/log.h"
#include "store/cache.h"
#include "store/db.h"
#include "training/jobs.h"
#include "training/reload.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	EXIT_DONE = 0, EXIT_TENANT_FAILED = 1, EXIT_USAGE = 2,
	EXIT_UNAVAILABLE = 3, EXIT_NOTFOUND = 4,
};

struct reload_args {
	const char *config;
	const char *tenant;
	bool        force, json, no_refit;
	double      max_regression, holdout;   /* < 0: from the settings */
	long long   seed;                      /* < 0: engine default */
	long        members, hidden, epochs, dim_log2, threads;  /* < 0: same */
	long        keep;                      /* < 0: from the settings */
};

static int	usage(FILE *);
static int	parse(int, char **, struct reload_args *);
static void	print_text(const struct reload_report *);
static void	print_json(const struct reload_report *);

static int
usage(FILE *out)
{
	fprintf(out,
	    "usage: gacp-nlu reload [--config FILE] [--tenant ID|SLUG] "
	    "[--force] [--json]\n"
	    "                       [--max-regression F] [--holdout F] "
	    "[--no-refit]\n"
	    "                       [--seed N] [--members N] [--hidden N] "
	    "[--epochs N] [--dim-log2 N] [--threads N]\n"
	    "                       [--keep N]\n");
	return EXIT_USAGE;
}

static int
number(const char *name, const char *v, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = v ? strtod(v, &end) : 0.0;
	if (v == NULL || errno != 0 || end == v || *end != '\0' || *out < lo ||
	    *out > hi) {
		fprintf(stderr, "gacp-nlu reload: %s needs a number from %g to "
		    "%g\n", name, lo, hi);
		return -1;
	}
	return 0;
}

static int
parse(int argc, char **argv, struct reload_args *a)
{
	static const struct {
		const char *name;
		double      lo, hi;
		int         field;
	} nums[] = {
		{ "--max-regression", 0, 1, 0 }, { "--holdout", 0, 0.9, 1 },
		{ "--seed", 0, 9e15, 2 }, { "--members", 1, 16, 3 },
		{ "--hidden", 8, 4096, 4 }, { "--epochs", 1, 1000, 5 },
		{ "--dim-log2", 10, 24, 6 }, { "--threads", 1, 64, 7 },
		{ "--keep", 0, 100000, 8 },
	};
	int i;
	size_t k;

	memset(a, 0, sizeof(*a));
	a->max_regression = a->holdout = -1.0;
	a->seed = -1;
	a->members = a->hidden = a->epochs = a->dim_log2 = a->threads = -1;
	a->keep = -1;
	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		double d;

		if (strcmp(o, "--force") == 0) {
			a->force = true;
			continue;
		}
		if (strcmp(o, "--json") == 0) {
			a->json = true;
			continue;
		}
		if (strcmp(o, "--no-refit") == 0) {
			a->no_refit = true;
			continue;
		}
		if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
			usage(stdout);
			exit(EXIT_DONE);
		}
		if (strcmp(o, "--config") == 0 && v != NULL) {
			a->config = v;
			i++;
			continue;
		}
		if (strcmp(o, "--tenant") == 0 && v != NULL) {
			a->tenant = v;
			i++;
			continue;
		}
		for (k = 0; k < sizeof(nums) / sizeof(nums[0]); k++)
			if (strcmp(o, nums[k].name) == 0)
				break;
		if (k == sizeof(nums) / sizeof(nums[0]))
			return usage(stderr);
		if (number(o, v, nums[k].lo, nums[k].hi, &d) != 0)
			return EXIT_USAGE;
		i++;
		switch (nums[k].field) {
		case 0: a->max_regression = d; break;
		case 1: a->holdout = d; break;
		case 2: a->seed = (long long)d; break;
		case 3: a->members = (long)d; break;
		case 4: a->hidden = (long)d; break;
		case 5: a->epochs = (long)d; break;
		case 6: a->dim_log2 = (long)d; break;
		case 7: a->threads = (long)d; break;
		default: a->keep = (long)d; break;
		}
	}
	return 0;
}

static void
print_text(const struct reload_report *rep)
{
	size_t i, count[RELOAD_FAILED + 1] = { 0 };

	for (i = 0; i < rep->n; i++) {
		const struct reload_tenant *t = &rep->tenants[i];

		count[t->outcome]++;
		printf("%s (%s): %s", t->slug, t->tenant_id,
		    reload_outcome_name(t->outcome));
		if (t->outcome == RELOAD_ACTIVATED ||
		    t->outcome == RELOAD_REJECTED) {
			printf(" version %lld: accuracy %.4f, macro-F1 %.4f on "
			    "%zu held-back examples", (long long)t->version,
			    t->metrics.accuracy, t->metrics.macro_f1,
			    t->metrics.examples);
			if (t->active_version > 0)
				printf(" (version %lld: %.4f)",
				    (long long)t->active_version,
				    t->active_accuracy);
			printf(", %zu examples, %u intents, trained in %.1f s",
			    t->train_examples, t->intents, t->train_seconds);
		}
		printf(" - %s\n", t->message);
	}
	printf("gacp-nlu reload: %zu tenants: %zu activated, %zu rejected, "
	    "%zu unchanged, %zu without data, %zu failed (%lld ms)\n", rep->n,
	    count[RELOAD_ACTIVATED], count[RELOAD_REJECTED],
	    count[RELOAD_UNCHANGED], count[RELOAD_NO_DATA],
	    count[RELOAD_FAILED], (long long)rep->duration_ms);
}

static void
print_json(const struct reload_report *rep)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	buf_puts(&b, "{\"tenants\":[");
	for (i = 0; i < rep->n; i++) {
		const struct reload_tenant *t = &rep->tenants[i];
		bool trained = t->outcome == RELOAD_ACTIVATED ||
		    t->outcome == RELOAD_REJECTED;

		buf_puts(&b, i ? ",{\"tenant_id\":" : "{\"tenant_id\":");
		buf_json_str(&b, t->tenant_id);
		buf_puts(&b, ",\"slug\":");
		buf_json_str(&b, t->slug);
		buf_printf(&b, ",\"outcome\":\"%s\"",
		    reload_outcome_name(t->outcome));
		if (trained)
			buf_printf(&b, ",\"version\":%lld", (long long)t->version);
		else
			buf_puts(&b, ",\"version\":null");
		if (t->active_version > 0)
			buf_printf(&b, ",\"previous_version\":%lld",
			    (long long)t->active_version);
		else
			buf_puts(&b, ",\"previous_version\":null");
		if (trained && t->metrics.examples > 0)
			buf_printf(&b, ",\"metrics\":{\"accuracy\":%.6f,"
			    "\"macro_f1\":%.6f,\"in_scope_accuracy\":%.6f,"
			    "\"oos_recall\":%.6f,\"examples\":%zu}",
			    t->metrics.accuracy, t->metrics.macro_f1,
			    t->metrics.in_scope_accuracy, t->metrics.oos_recall,
			    t->metrics.examples);
		else
			buf_puts(&b, ",\"metrics\":null");
		buf_printf(&b, ",\"train_examples\":%zu,\"intents\":%u,"
		    "\"train_seconds\":%.3f,\"message\":", t->train_examples,
		    t->intents, t->train_seconds);
		buf_json_str(&b, t->message);
		buf_putc(&b, '}');
	}
	buf_printf(&b, "],\"failed\":%zu,\"duration_ms\":%lld}", rep->failed,
	    (long long)rep->duration_ms);
	printf("%s\n", b.data);
	buf_cleanup(&b);
}

int
nlu_reload_main(int argc, char **argv)
{
	struct reload_args args;
	struct reload_opts o;
	struct reload_report rep;
	struct config cfg;
	struct gacp_err err;
	struct db db;
	struct cache cache;
	struct jobs_redis redis;
	bool redis_ok = true;
	int rc;

	if ((rc = parse(argc, argv, &args)) != 0)
		return rc;
	gacp_err_clear(&err);
	memset(&rep, 0, sizeof(rep));
	if (config_load(&cfg, args.config ? args.config :
	    config_default_path(), false, &err) != GACP_OK) {
		fprintf(stderr, "gacp-nlu reload: %s\n", err.msg);
		return EXIT_USAGE;
	}
	log_sys_init("gacp-nlu", NULL, NULL, LOG_WARN);
	reload_opts_default(&o);
	if (reload_opts_configure(&o, &cfg, &err) != GACP_OK) {
		fprintf(stderr, "gacp-nlu reload: %s\n", err.msg);
		config_cleanup(&cfg);
		return EXIT_USAGE;
	}
	if (args.max_regression >= 0)
		o.max_regression = args.max_regression;
	if (args.holdout >= 0)
		o.holdout = args.holdout;
	if (args.no_refit)
		o.refit = 0;
	o.force = args.force;
	if (args.keep >= 0)
		o.keep_versions = (int)args.keep;
	o.only_tenant = args.tenant;
	if (args.seed >= 0)
		o.train.seed = (uint64_t)args.seed;
	if (args.members > 0)
		o.train.members = (uint32_t)args.members;
	if (args.hidden > 0)
		o.train.mlp.hidden = (uint32_t)args.hidden;
	if (args.epochs > 0)
		o.train.mlp.epochs = (uint32_t)args.epochs;
	if (args.dim_log2 > 0)
		o.train.feat.dim_log2 = (uint32_t)args.dim_log2;
	if (args.threads > 0)
		o.train.threads = (uint32_t)args.threads;

	/* Redis, where running training jobs are registered for GET /status
	 * (the redis.* settings of the API); unreachable Redis costs only
	 * that count. */
	memset(&cache, 0, sizeof(cache));
	if (jobs_redis_load(&redis, &cfg, &err) != GACP_OK) {
		fprintf(stderr, "gacp-nlu reload: %s; training jobs will not "
		    "be counted by GET /status\n", err.msg);
		redis_ok = false;
	}
	cache_init(&cache, redis.host, redis.port, redis.unix_path,
	    redis.password, redis.timeout_ms, NULL);
	if (redis_ok && redis.sentinels != NULL &&
	    cache_use_sentinels(&cache, redis.sentinels, redis.master_name,
	    redis.sentinel_password, &err) != GACP_OK) {
		fprintf(stderr, "gacp-nlu reload: %s; training jobs will not "
		    "be counted by GET /status\n", err.msg);
		redis_ok = false;
	}
	if (redis_ok) {
		o.cache = &cache;
		o.redis = &redis;
	}
	gacp_err_clear(&err);

	/* The owner role (see the file comment). */
	db_init(&db, config_get(&cfg, "database.owner_conninfo",
	    config_get(&cfg, "database.conninfo", "dbname=gacp")),
	    (int)config_get_int(&cfg, "nlu.reload_timeout_ms", 60000), NULL);
	if (db_connect(&db, &err) != GACP_OK) {
		fprintf(stderr, "gacp-nlu reload: PostgreSQL is unreachable "
		    "(database.owner_conninfo): %s; nothing was changed\n",
		    err.msg);
		rc = EXIT_UNAVAILABLE;
		goto out;
	}
	rc = reload_run(&db, &o, &rep, &err);
	if (rc == RELOAD_BUSY) {
		printf("gacp-nlu reload: another run holds the lock; nothing "
		    "done\n");
		rc = EXIT_DONE;
	} else if (rc == GACP_OK) {
		if (args.json)
			print_json(&rep);
		else
			print_text(&rep);
		rc = rep.failed ? EXIT_TENANT_FAILED : EXIT_DONE;
	} else {
		fprintf(stderr, "gacp-nlu reload: %s: %s\n", err.code, err.msg);
		rc = rc == GACP_EUNAVAIL ? EXIT_UNAVAILABLE :
		    rc == GACP_ENOTFOUND ? EXIT_NOTFOUND : EXIT_TENANT_FAILED;
	}
out:
	reload_report_cleanup(&rep);
	db_cleanup(&db);
	cache_cleanup(&cache);
	jobs_redis_cleanup(&redis);
	config_cleanup(&cfg);
	return rc;
}
