/* store.h - SQL of the system_config table (0014); the caller's transaction is bound to the tenant. */
#ifndef GACP_SYSCONFIG_STORE_H
#define GACP_SYSCONFIG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct arena;
struct db;

struct syscfg_row {
	char    *tenant_id;
	char    *id;
	char    *environment;
	char    *config_key;
	char    *config_value;      /* canonical text, or an envelope */
	char    *config_type;
	char    *description;       /* NULL when none */
	char    *category;
	bool     is_encrypted;
	bool     is_system_config;
	char    *validation_rules;  /* JSON object text */
	char    *created_at;        /* RFC 3339 */
	char    *updated_at;
	int64_t  version;
};

/* What a write stores (every field given; the service merged them). */
struct syscfg_write {
	const char *id;             /* insert: the new row's id */
	const char *environment;
	const char *config_key;
	const char *config_value;
	const char *config_type;
	const char *description;
	const char *category;
	bool        is_encrypted;
	bool        is_system_config;
	const char *validation_rules;
};

/* Prototypes */

/* Live rows, ordered by key then environment; filters may be NULL. */
int syscfg_store_list(struct db *db, struct arena *a, const char *environment,
        const char *category, struct syscfg_row **rows, size_t *n,
        struct gacp_err *err);
/* One live row; GACP_ENOTFOUND "not_found". */
int syscfg_store_get(struct db *db, struct arena *a, const char *environment,
        const char *key, struct syscfg_row **out, struct gacp_err *err);
/* Insert; GACP_ECONFLICT "version_conflict" when a concurrent writer
 * created the key first. */
int syscfg_store_insert(struct db *db, struct arena *a, const char *tenant_id,
        const struct syscfg_write *w, const char *actor,
        struct syscfg_row **out, struct gacp_err *err);
/* Update row id when its version is still version; GACP_ECONFLICT
 * "version_conflict" when it changed, GACP_ENOTFOUND when it is gone. */
int syscfg_store_update(struct db *db, struct arena *a, const char *id,
        int64_t version, const struct syscfg_write *w, const char *actor,
        struct syscfg_row **out, struct gacp_err *err);
/* Soft delete, with the same version check (version < 0: any). */
int syscfg_store_delete(struct db *db, struct arena *a, const char *id,
        int64_t version, const char *actor, struct gacp_err *err);

#endif
