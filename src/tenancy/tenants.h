/* tenants.h - tenants, for platform administrators: create (with a first owner), list, read, update, suspend, delete.
 *
 * Every function needs a platform-admin principal (a platform_admin of the
 * platform tenant, or gacpctl) and opens the platform scope of the
 * caller's transaction; none commits.  The platform tenant itself can be
 * neither suspended nor deleted (409 "platform_tenant").  Tenant changes
 * are audited in the tenant's own trail and, for API callers, in the
 * platform tenant's trail too, so both sides can see who did what.
 */
#ifndef GACP_TENANCY_TENANTS_H
#define GACP_TENANCY_TENANTS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "common/err.h"

struct svc;
struct page;
struct tenant_row;
struct user_row;

/* Prototypes */

/* body: {slug, name, settings?, metadata?, is_platform? (gacpctl only),
 * owner?: {username, password, display_name?, email?}}.  The owner, if
 * given, is created in the same transaction with role tenant_owner
 * (*owner_out, else NULL). */
int tenants_create(struct svc *s, struct json_object *body,
        struct tenant_row **out, struct user_row **owner_out,
        struct gacp_err *err);
int tenants_list(struct svc *s, const struct page *pg,
        struct tenant_row **rows, size_t *n, char **next_cursor,
        struct gacp_err *err);
int tenants_get(struct svc *s, const char *id, struct tenant_row **out,
        struct gacp_err *err);
/* body: {version?, name?, status?, settings?, metadata?}; version is
 * required from the API (require_version), optional for gacpctl. */
int tenants_update(struct svc *s, const char *id, struct json_object *body,
        bool require_version, struct tenant_row **out, struct gacp_err *err);
/* version NULL: any. */
int tenants_delete(struct svc *s, const char *id, const char *version,
        struct gacp_err *err);
/* Resolve a slug (gacpctl --tenant): id and whether it is the platform. */
int tenants_resolve(struct svc *s, const char *slug, char id[37],
        bool *is_platform, struct gacp_err *err);

#endif
