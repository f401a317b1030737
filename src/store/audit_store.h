/* audit_store.h - SQL for the append-only audit log.
 *
 * gacp_app may only INSERT and SELECT audit_log (no UPDATE/DELETE grant);
 * rows are written in the caller's transaction, bound to the row's tenant
 * (the RLS WITH CHECK demands it), so an event commits or rolls back with
 * the change it records.  Retention (audit_store_purge) runs on the owner
 * role's connection.
 */
#ifndef GACP_STORE_AUDIT_STORE_H
#define GACP_STORE_AUDIT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct arena;
struct db;

struct audit_entry {
	const char *tenant_id;      /* must be the bound tenant */
	const char *actor_type;     /* user | api_key | system | anonymous */
	const char *actor_id;       /* may be NULL */
	const char *action;         /* "auth.login", "user.create", … */
	const char *outcome;        /* success | failure | denied */
	const char *resource_type;  /* may be NULL */
	const char *resource_id;    /* may be NULL */
	const char *request_id;     /* may be NULL */
	const char *client_addr;    /* may be NULL */
	const char *details;        /* JSON object text, NULL: {} */
};

struct audit_row {
	int64_t  id;
	char    *occurred_at;       /* RFC 3339 */
	char    *actor_type;
	char    *actor_id;
	char    *action;
	char    *outcome;
	char    *resource_type;
	char    *resource_id;
	char    *request_id;
	char    *client_addr;
	char    *details;           /* JSON object text */
};

/* Filters of a listing; NULL / 0 means "any". */
struct audit_filter {
	const char *action;
	const char *actor;          /* actor_id */
	const char *from;           /* RFC 3339, inclusive */
	const char *to;             /* RFC 3339, exclusive */
	int64_t     before_id;      /* cursor: ids below this; 0 = newest */
	int         limit;
};

/* Prototypes */
int audit_store_insert(struct db *db, struct arena *a,
        const struct audit_entry *e, struct gacp_err *err);
/* Newest first. */
int audit_store_list(struct db *db, struct arena *a,
        const struct audit_filter *f, struct audit_row **rows, size_t *n,
        struct gacp_err *err);
/* Delete the bound tenant's events older than days; *deleted counts them. */
int audit_store_purge(struct db *db, struct arena *a, const char *tenant_id,
        int days, int64_t *deleted, struct gacp_err *err);

#endif
