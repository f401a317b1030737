/* apikey_store.h - SQL for API keys: creation, listing, revocation and the per-request lookup.
 *
 * Only a key's public prefix and its SHA-256 are stored (security/apikey.h);
 * the key itself never reaches the database.  Runs in the caller's
 * transaction bound to the key's tenant, except apikey_store_access, which
 * goes through the SECURITY DEFINER lookup before the tenant is known.
 * Errors: GACP_ENOTFOUND ("not_found") and the db_exec() errors.
 */
#ifndef GACP_STORE_APIKEY_STORE_H
#define GACP_STORE_APIKEY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct arena;
struct db;

struct apikey_row {
	char    *tenant_id;
	char    *id;
	char    *name;
	char    *prefix;
	char   **scopes;         /* NULL-terminated */
	size_t   nscopes;
	char    *expires_at;     /* RFC 3339 or NULL */
	char    *revoked_at;     /* RFC 3339 or NULL */
	char    *last_used_at;   /* RFC 3339 or NULL */
	char    *created_at;
	char    *created_by;     /* user id or NULL (gacpctl) */
	bool     expired;
	int64_t  version;
	int64_t  created_us;     /* cursor key */
};

/* What authentication learns from a presented key's prefix. */
struct apikey_access {
	char    *tenant_id;
	char    *id;
	char    *key_hash;
	char   **scopes;
	size_t   nscopes;
	bool     expired;
	bool     revoked;
	bool     used_recently;  /* last_used_at within the last minute */
	char    *tenant_status;
	bool     tenant_is_platform;
	char    *tenant_settings;
};

/* Prototypes */
int apikey_store_insert(struct db *db, struct arena *a, const char *tenant_id,
        const char *name, const char *prefix, const char *hash_hex,
        const char *scopes_json, const char *expires_at,
        const char *created_by, struct apikey_row **out,
        struct gacp_err *err);
int apikey_store_get(struct db *db, struct arena *a, const char *id,
        struct apikey_row **out, struct gacp_err *err);
int apikey_store_list(struct db *db, struct arena *a, int64_t after_us,
        const char *after_id, int limit, struct apikey_row **rows,
        size_t *n, struct gacp_err *err);
/* Revoke a live key; GACP_ENOTFOUND when missing or already revoked. */
int apikey_store_revoke(struct db *db, struct arena *a, const char *id,
        const char *revoked_by, struct gacp_err *err);
/* The key with this prefix and its tenant; GACP_ENOTFOUND if none. */
int apikey_store_access(struct db *db, struct arena *a, const char *prefix,
        struct apikey_access *out, struct gacp_err *err);
/* last_used_at = now() (bookkeeping: version unchanged). */
int apikey_store_touch(struct db *db, struct arena *a, const char *id,
        struct gacp_err *err);
/* True when expires_at (RFC 3339) lies in the future. */
int apikey_store_in_future(struct db *db, struct arena *a,
        const char *timestamp, bool *future, struct gacp_err *err);

#endif
