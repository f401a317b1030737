/* channel_store.h - SQL for the channels table of the bound tenant (row-level security applies).
 *
 * Runs in the caller's transaction; rows live in the arena.  Soft-deleted
 * channels are invisible here.  Secrets arrive already sealed (AES-GCM
 * envelopes, channel.h) or hashed (the verify token) and never leave this
 * module: no row field carries them.  Errors: GACP_ENOTFOUND
 * ("not_found"), GACP_ECONFLICT ("version_conflict", or "conflict" when a
 * unique index refused the row) and the db_exec() errors.
 */
#ifndef GACP_MESSENGER_CHANNEL_STORE_H
#define GACP_MESSENGER_CHANNEL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct arena;
struct db;

struct channel_row {
	char    *tenant_id;
	char    *id;
	char    *type;          /* messenger | rest */
	char    *name;
	char    *page_id;       /* NULL for the REST channel */
	char    *status;        /* active | needs_reauth | disabled */
	char    *last_error;    /* JSON object text (the Graph error), or NULL */
	char    *metadata;      /* JSON object text */
	char    *created_at;    /* RFC 3339 */
	char    *updated_at;
	int64_t  version;
	int64_t  created_us;    /* cursor key */
};

struct channel_new {
	const char *id;                 /* chosen by the caller: the AAD of */
	const char *name;               /* the sealed secrets names it */
	const char *page_id;
	const char *app_secret_enc;
	const char *page_token_enc;
	const char *verify_token_hash;  /* SHA-256 hex */
	const char *metadata;           /* JSON text, NULL: {} */
};

/* PATCH: NULL leaves a column unchanged. */
struct channel_patch {
	const char *name;
	const char *status;
	const char *app_secret_enc;
	const char *page_token_enc;
	const char *verify_token_hash;
	const char *metadata;
	bool        clear_last_error;
};

/* Prototypes */
int channel_store_insert(struct db *db, struct arena *a, const char *tenant_id,
        const struct channel_new *in, const char *created_by,
        struct channel_row **out, struct gacp_err *err);
int channel_store_get(struct db *db, struct arena *a, const char *id,
        struct channel_row **out, struct gacp_err *err);
/* Oldest first after the cursor (after_us < 0: from the start); status
 * NULL: any. */
int channel_store_list(struct db *db, struct arena *a, const char *status,
        int64_t after_us, const char *after_id, int limit,
        struct channel_row **rows, size_t *n, struct gacp_err *err);
/* version < 0: any version. */
int channel_store_update(struct db *db, struct arena *a, const char *id,
        int64_t version, const struct channel_patch *patch,
        const char *updated_by, struct channel_row **out,
        struct gacp_err *err);
int channel_store_delete(struct db *db, struct arena *a, const char *id,
        int64_t version, const char *deleted_by, struct gacp_err *err);
/* Whether a live channel of any tenant serves page_id, or has a verify
 * token with this hash (the platform-wide unique indexes; looked up
 * through the SECURITY DEFINER functions of 0005).  except_id (may be
 * NULL) is the channel being changed, which may keep its own token. */
int channel_store_page_taken(struct db *db, struct arena *a,
        const char *page_id, bool *taken, struct gacp_err *err);
int channel_store_verify_taken(struct db *db, struct arena *a,
        const char *verify_token_hash, const char *except_id, bool *taken,
        struct gacp_err *err);

#endif
