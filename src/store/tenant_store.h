/* tenant_store.h - SQL for the tenants table (row-level security applies).
 *
 * Every function runs inside the caller's transaction (svc_begin): RLS
 * shows the bound tenant only, or every tenant when the transaction has
 * the platform scope (db_set_platform_admin).  Rows live in the arena.
 * Errors: GACP_ENOTFOUND ("not_found"), GACP_ECONFLICT ("slug_taken",
 * "version_conflict"), and the db_exec() errors.
 */
#ifndef GACP_STORE_TENANT_STORE_H
#define GACP_STORE_TENANT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct arena;
struct db;

struct tenant_row {
	char    *id;
	char    *slug;
	char    *name;
	char    *status;        /* "active" | "suspended" */
	char    *settings;      /* JSON object text */
	char    *metadata;      /* JSON object text */
	char    *created_at;    /* RFC 3339 */
	char    *updated_at;
	bool     is_platform;
	int64_t  version;
	int64_t  created_us;    /* cursor key */
};

/* What login needs from a slug, before any tenant is bound. */
struct tenant_ref {
	char id[37];
	char status[16];
	bool is_platform;
};

/* What authentication needs from the bound tenant on every request. */
struct tenant_access {
	char  status[16];
	bool  is_platform;
	bool  is_deleted;
	char *settings;         /* JSON object text (arena) */
};

/* Fields of a PATCH; NULL leaves the column unchanged. */
struct tenant_patch {
	const char *name;
	const char *status;
	const char *settings;   /* JSON text */
	const char *metadata;   /* JSON text */
};

/* Prototypes */
int tenant_store_insert(struct db *db, struct arena *a, const char *slug,
        const char *name, bool is_platform, const char *settings,
        const char *metadata, const char *created_by,
        struct tenant_row **out, struct gacp_err *err);
int tenant_store_get(struct db *db, struct arena *a, const char *id,
        struct tenant_row **out, struct gacp_err *err);
/* Live tenants ordered by (created_at, id) after the cursor (after_us < 0:
 * from the start); *n <= limit. */
int tenant_store_list(struct db *db, struct arena *a, int64_t after_us,
        const char *after_id, int limit, struct tenant_row **rows,
        size_t *n, struct gacp_err *err);
/* version < 0: any version (gacpctl). */
int tenant_store_update(struct db *db, struct arena *a, const char *id,
        int64_t version, const struct tenant_patch *patch,
        const char *updated_by, struct tenant_row **out,
        struct gacp_err *err);
int tenant_store_delete(struct db *db, struct arena *a, const char *id,
        int64_t version, const char *deleted_by, struct gacp_err *err);
/* Through the SECURITY DEFINER lookup: works with no tenant bound. */
int tenant_store_find_slug(struct db *db, struct arena *a, const char *slug,
        struct tenant_ref *out, struct gacp_err *err);
/* The bound tenant's state (deleted tenants included, so the caller can
 * tell them apart from a missing one). */
int tenant_store_access(struct db *db, struct arena *a, const char *id,
        struct tenant_access *out, struct gacp_err *err);
/* Ids of every tenant, deleted ones included (platform scope or owner). */
int tenant_store_all_ids(struct db *db, struct arena *a, char ***ids,
        size_t *n, struct gacp_err *err);

#endif
