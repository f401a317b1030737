/* registry_store.h - SQL for the service registry (sql/0015).
 *
 * Every function runs in the caller's transaction, which decides what row
 * security lets it see: writes need app.platform_admin (db_set_platform_admin),
 * reads need that or a tenant with the registry grant.  Health (healthy,
 * age_seconds) is computed by the database clock at read time, so every
 * process agrees on it whatever its own clock says.
 */
#ifndef GACP_STORE_REGISTRY_STORE_H
#define GACP_STORE_REGISTRY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct arena;
struct db;

struct service_row {
	char    *id;
	char    *service_name;
	char    *service_type;
	char    *host;
	int      port;
	char    *health_check_endpoint;   /* NULL when none */
	char    *version;
	char    *environment;
	int      weight;
	char    *service_config;          /* JSON object text */
	int      ttl_seconds;
	bool     self_registered;
	char    *registered_at;           /* RFC 3339 */
	char    *registered_by;           /* actor id, or NULL */
	char    *last_heartbeat;          /* RFC 3339 */
	double   age_seconds;             /* since last_heartbeat */
	bool     healthy;                 /* age_seconds <= ttl_seconds */
	int64_t  registered_us;           /* registered_at, the paging key */
};

/* A new entry (all texts already validated; endpoint may be NULL). */
struct service_new {
	const char *service_name;
	const char *service_type;
	const char *host;
	int         port;
	const char *health_check_endpoint;
	const char *version;
	const char *environment;
	int         weight;
	const char *service_config;       /* JSON object text */
	int         ttl_seconds;
	bool        self_registered;
	const char *registered_by;
};

/* Prototypes */
int registry_store_insert(struct db *db, struct arena *a,
        const struct service_new *n, struct service_row **out,
        struct gacp_err *err);
/* GACP_ENOTFOUND "not_found" when no visible row has the id. */
int registry_store_get(struct db *db, struct arena *a, const char *id,
        struct service_row **out, struct gacp_err *err);
/* One page of entries in registration order (keyset: after (after_us,
 * after_id); after_us < 0 for the first page); name NULL: all; healthy
 * 1/0 filters, -1 does not.  At most limit rows. */
int registry_store_page(struct db *db, struct arena *a, const char *name,
        int healthy, int64_t after_us, const char *after_id, int limit,
        struct service_row **rows, size_t *n, struct gacp_err *err);
/* last_heartbeat = now(); the updated row.  GACP_ENOTFOUND when gone. */
int registry_store_heartbeat(struct db *db, struct arena *a, const char *id,
        struct service_row **out, struct gacp_err *err);
/* Delete; the deleted row.  GACP_ENOTFOUND when there was none. */
int registry_store_delete(struct db *db, struct arena *a, const char *id,
        struct service_row **out, struct gacp_err *err);
/* Delete entries whose heartbeat is older than their TTL plus grace_s and
 * record one "service.prune" audit event each in audit_tenant (the
 * transaction must be bound to it), as actor; count into *n. */
int registry_store_prune(struct db *db, struct arena *a, int64_t grace_s,
        const char *audit_tenant, const char *actor, long *n,
        struct gacp_err *err);
/* The platform tenant's id (needs app.platform_admin) into out (37). */
int registry_store_platform_tenant(struct db *db, struct arena *a,
        char out[37], struct gacp_err *err);

#endif
