/* reload.h - one `gacp-nlu reload` pass: retrain tenants whose training data changed, publish what is not worse.
 *
 * For every active (not suspended, not deleted) tenant, or the one named,
 * in its own transactions bound to it:
 *   1. load its examples and entity definitions and hash them
 *      (trainset_load); skip the tenant when its active version, or the
 *      newest version (which may have been rejected), was trained on the
 *      same data, or when it has no usable data (fewer than two intents);
 *   2. train on a stratified split that holds back `holdout` of each
 *      intent, evaluate on the held-back part (accuracy, macro-F1,
 *      in-scope accuracy, out-of-scope recall), and, with `refit`, train
 *      again on all the data with the same options for the file that is
 *      published (the metrics then estimate it);
 *   3. under the tenant's model lock: write <model_dir>/<tenant>/<version>.gnlu,
 *      insert the nlu_models row, and activate it unless its accuracy is
 *      below the active version's by more than max_regression (each
 *      measured on its own held-back split): activation publishes the file
 *      as active.gnlu (versions_publish) and retires the previous version;
 *      otherwise the row is "rejected" with the reason.  Both are audited
 *      (actor "system", gacp-nlu:reload).  Any failure rolls the tenant
 *      back, removes the file it wrote, and leaves the serving model alone;
 *   While a tenant trains (steps 2 and 3) its job is registered in Redis
 *   (training/jobs.h), so the tenant's GET /status counts it in
 *   num_active_training_jobs;
 *   4. in the same transaction, versions past the newest keep_versions
 *      that are not active are deleted (rows soft-deleted, files removed
 *      after the commit), so a tenant retrained every minute does not fill
 *      the disk.
 *
 * Runs on the owner role's connection: it must read every tenant's rows,
 * which row-level security hides from gacp_app.  The tenants' own rows are
 * still read and written with app.tenant_id bound to one tenant at a time
 * (the policies are forced on the owner too); only the list of tenants
 * uses the platform scope.  Overlapping runs are refused with a session
 * advisory lock (RELOAD_BUSY).
 */
#ifndef GACP_TRAINING_RELOAD_H
#define GACP_TRAINING_RELOAD_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/err.h"
#include "nlu/model.h"

struct cache;
struct db;
struct jobs_redis;

/* Result of reload_run when another run holds the lock. */
#define RELOAD_BUSY 1

enum reload_outcome {
	RELOAD_UNCHANGED = 0,   /* data already trained on */
	RELOAD_NO_DATA,         /* nothing (usable) to train on */
	RELOAD_ACTIVATED,       /* new version serving */
	RELOAD_REJECTED,        /* new version worse than the active one */
	RELOAD_FAILED,          /* error: nothing changed for this tenant */
};

struct reload_opts {
	const char            *model_dir;       /* paths.model_dir */
	double                 max_regression;  /* nlu.max_regression, 0.02 */
	double                 holdout;         /* nlu.holdout, 0.2 */
	int                    refit;           /* nlu.refit, 1 */
	int                    force;           /* retrain even if unchanged */
	int                    keep_versions;   /* nlu.keep_versions, 10; 0: all */
	const char            *only_tenant;     /* id or slug; NULL: all */
	/* Where training jobs are registered for GET /status (jobs.h); NULL:
	 * not registered.  redis names the server for the heartbeat's own
	 * connection (NULL: no heartbeat). */
	struct cache          *cache;
	const struct jobs_redis *redis;
	struct nlu_train_opts  train;           /* engine options */
};

struct reload_metrics {
	double accuracy;
	double macro_f1;
	double in_scope_accuracy;
	double oos_recall;
	size_t examples;            /* held-back examples evaluated */
};

struct reload_tenant {
	char                  tenant_id[37];
	char                  slug[64];
	enum reload_outcome   outcome;
	int64_t               version;           /* new version, or 0 */
	int64_t               active_version;    /* serving before, or 0 */
	double                active_accuracy;   /* its accuracy, -1 unknown */
	struct reload_metrics metrics;           /* of the new version */
	size_t                train_examples;
	uint32_t              intents;
	double                train_seconds;
	char                  message[256];      /* reason or error */
};

struct reload_report {
	struct reload_tenant *tenants;           /* heap, reload_report_cleanup */
	size_t                n;
	size_t                failed;
	int64_t               duration_ms;
};

/* Prototypes */

/* Defaults above, engine defaults for training. */
void reload_opts_default(struct reload_opts *o);
/* The settings gacp-nlu reload and gacpctl nlu train share, from cfg:
 * paths.model_dir, nlu.max_regression, nlu.holdout, nlu.refit,
 * nlu.keep_versions and nlu.wordnet ("auto": the installed WordNet
 * database when there is one; "none"; or a directory).  A value that is
 * not a number, or a WordNet directory without a database, is an error
 * (code "config"): a tenant's model must not quietly change kind. */
int  reload_opts_configure(struct reload_opts *o, const struct config *cfg,
         struct gacp_err *err);
/* One pass.  Returns GACP_OK (per-tenant failures are in the report and
 * counted in rep->failed), RELOAD_BUSY, GACP_EUNAVAIL when PostgreSQL is
 * unreachable, GACP_ENOTFOUND when only_tenant names no tenant, or
 * another error that stopped the pass. */
int  reload_run(struct db *owner, const struct reload_opts *o,
         struct reload_report *rep, struct gacp_err *err);
void reload_report_cleanup(struct reload_report *rep);
/* "unchanged", "no_data", "activated", "rejected", "failed". */
const char *reload_outcome_name(enum reload_outcome o);

#endif
