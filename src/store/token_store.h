/* token_store.h - SQL for refresh tokens: lookup by hash, rotation within a family, revocation.
 *
 * Refresh tokens are opaque; only their SHA-256 (hex) is stored.  A login
 * starts a family; every refresh marks the presented row rotated and adds
 * the next one to the same family, so a second use of a rotated token is
 * recognisable (and revokes the family, see auth.c).  Runs in the caller's
 * transaction, bound to the token's tenant, except token_store_find which
 * goes through the SECURITY DEFINER lookup before the tenant is known.
 */
#ifndef GACP_STORE_TOKEN_STORE_H
#define GACP_STORE_TOKEN_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

struct arena;
struct db;

struct refresh_row {
	char    *tenant_id;
	char    *id;
	char    *user_id;
	char    *family_id;
	int64_t  session_started_s;  /* unix seconds of the login */
	bool     expired;            /* expires_at has passed */
	bool     rotated;            /* already exchanged once */
	bool     revoked;
};

/* Prototypes */

/* Tenant and id of the token with this hash; GACP_ENOTFOUND if none. */
int token_store_find(struct db *db, struct arena *a, const char *hash_hex,
        char tenant_id[37], char id[37], struct gacp_err *err);
/* The row, locked FOR UPDATE (two concurrent refreshes serialise). */
int token_store_lock(struct db *db, struct arena *a, const char *id,
        struct refresh_row **out, struct gacp_err *err);
/* New token of family (NULL: a new family, session starting now) expiring
 * at min(now + idle_s, session start + max_s).  *family_out (arena) is
 * the family. */
int token_store_insert(struct db *db, struct arena *a, const char *tenant_id,
        const char *user_id, const char *family_id, int64_t session_started_s,
        const char *hash_hex, int64_t idle_s, int64_t max_s,
        char **family_out, struct gacp_err *err);
int token_store_mark_rotated(struct db *db, struct arena *a, const char *id,
        struct gacp_err *err);
/* Revoke every live token of the family / of the user; *count revoked. */
int token_store_revoke_family(struct db *db, struct arena *a,
        const char *family_id, int64_t *count, struct gacp_err *err);
int token_store_revoke_user(struct db *db, struct arena *a,
        const char *user_id, int64_t *count, struct gacp_err *err);

#endif
