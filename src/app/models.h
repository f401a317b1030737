/* models.h - the NLU models a process serves, one per tenant, hot-swapped.
 *
 * A tenant's active model is the file <model_dir>/<tenant_id>/active.gnlu.
 * Publishing a model is an atomic rename over that name (gacp-nlu reload,
 * the activate API), so a reader sees the old file or the new one.  Each
 * process maps a tenant's model lazily on first use and, at most once per
 * check interval (1 s), stat()s the path: a new inode means a new model,
 * which is mapped and verified (checksum) before it replaces the old one.
 * A corrupt or unreadable new file is refused and the old model keeps
 * serving.  Processes are single-threaded, so the old mapping is released
 * between two requests and no parse in flight ever loses its model; all
 * processes map the same file, sharing its pages.
 */
#ifndef GACP_APP_MODELS_H
#define GACP_APP_MODELS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct metrics;
struct nlu_model;

#define MODELS_MAX_TENANTS 256

struct models_entry {
	char              tenant_id[37];
	struct nlu_model *model;
	dev_t             dev;
	ino_t             ino;
	int64_t           checked_us;   /* last stat() */
	int64_t           loaded_us;
};

struct models {
	char               *dir;
	int64_t             check_interval_us;
	struct models_entry entries[MODELS_MAX_TENANTS];
	size_t              n;
	unsigned long       reloads;      /* successful swaps */
	unsigned long       refusals;     /* new files refused */
	struct metrics     *metrics;      /* or NULL; loads and refusals */
};

struct models *models_new(const char *dir, int64_t check_interval_us);
void models_free(struct models *ms);
/* The tenant's current model (NULL with GACP_ENOTFOUND "nlu_model_missing"
 * when the tenant has none).  The pointer is valid until the next call. */
int  models_get(struct models *ms, const char *tenant_id,
    const struct nlu_model **out, struct gacp_err *err);
/* Path of the tenant's active model file (heap string). */
char *models_active_path(const struct models *ms, const char *tenant_id);

/* The model published for each tenant, as found on disk (for /metrics):
 * the version is N of the <model_dir>/<tenant>/<N>.gnlu that active.gnlu
 * is a link or a copy of (same file, else same payload checksum), 0 when
 * none matches.  Tenants in id order; at most max are described, *total
 * counts every tenant with an active model.  Returns a heap array. */
struct models_active {
	char    tenant_id[37];
	long    version;
};
struct models_active *models_scan_active(const struct models *ms, size_t max,
    size_t *n, size_t *total);

#endif
