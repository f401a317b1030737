/* versions.h - a tenant's trained model versions: listing, activation (roll back or forward), publishing files.
 *
 * Every version's file stays at <model_dir>/<tenant_id>/<version>.gnlu;
 * the serving one is <model_dir>/<tenant_id>/active.gnlu, which every API
 * process and worker stat()s at most once a second and maps anew when its
 * inode changes (app/models.h).  Publishing a version verifies its file
 * (the loader's checksum, and that it is the file nlu_models recorded),
 * hard-links it to a temporary name and renames that over active.gnlu, so
 * readers see the old model or the new one, never a partial file, and a
 * corrupt file is never published.
 *
 * Activation changes a file and a row together.  The file is published
 * inside the transaction that marks the row active (so a failure to
 * publish changes nothing), the transaction commits, and if the commit
 * fails the previous version's file is published back.  Changes of one
 * tenant's models are serialised by a transaction-scoped advisory lock
 * (nlu_store_models_lock), shared with gacp-nlu reload.
 */
#ifndef GACP_TRAINING_VERSIONS_H
#define GACP_TRAINING_VERSIONS_H

#include <stddef.h>

#include "common/err.h"
#include "store/nlu_store.h"

struct arena;
struct page;
struct svc;

/* Prototypes */

/* Newest first. */
int   versions_list(struct svc *s, const struct page *pg,
          struct nlu_model_row **rows, size_t *n, char **next_cursor,
          struct gacp_err *err);
int   versions_get(struct svc *s, const char *id, struct nlu_model_row **out,
          struct gacp_err *err);
/* The active version, *out NULL when there is none. */
int   versions_active(struct svc *s, struct nlu_model_row **out,
          struct gacp_err *err);

/* Make version id the tenant's active model, publish its file, audit
 * (nlu_model.activate) and COMMIT the caller's transaction: the file and
 * the row must not disagree (see above).  *previous is the version that
 * was active (NULL if none).  Errors: GACP_ENOTFOUND; GACP_ECONFLICT
 * "nlu_model_file_invalid" when the version's file is missing, corrupt or
 * not the one recorded; GACP_EIO when publishing fails (the model
 * directory is read-only, full, ...). */
int   versions_activate(struct svc *s, const char *id,
          struct nlu_model_row **out, struct nlu_model_row **previous,
          struct gacp_err *err);

/* Publish <model_dir>/<rel_path> as the tenant's active.gnlu after
 * checking that it loads and that its payload checksum is checksum_hex.
 * Errors as versions_activate. */
int   versions_publish(const char *model_dir, const char *tenant_id,
          const char *rel_path, const char *checksum_hex,
          struct gacp_err *err);
/* <model_dir>/<tenant_id>, made (0750) when missing.  When run as root
 * (gacp-nlu reload from cron) it and files made in it take the owner of
 * model_dir, so the services can read and replace them. */
int   versions_tenant_dir(const char *model_dir, const char *tenant_id,
          char **out, struct gacp_err *err);
/* Give path the owner of model_dir when running as root; no-op else. */
void  versions_chown_like_dir(const char *model_dir, const char *path);

#endif
