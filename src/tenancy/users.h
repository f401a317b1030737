/* users.h - the users of a tenant: create, list, read, update, delete, passwords, unlock.
 *
 * Every function acts in s->tenant_id inside the caller's transaction
 * bound to it, and never commits.  Rules beyond the route's permission:
 *   - a caller only grants roles it could grant itself, and only manages
 *     (updates, deletes, resets, unlocks) users whose every role it could
 *     grant (rbac_can_assign_role): an admin cannot touch an owner;
 *     API keys manage like a tenant_admin;
 *   - platform_admin exists only in the platform tenant;
 *   - the last active tenant_owner cannot be removed, deactivated or
 *     demoted (409 "last_owner");
 *   - passwords follow the tenant's policy (422 with one field error per
 *     failed rule); a user changing their own password gives the current
 *     one, an administrator's reset forces a change at the next login;
 *   - deleting, deactivating, changing roles or the password ends the
 *     user's sessions: refresh tokens revoked, access tokens refused.
 * Soft-deleted users are not found (404), nor are other tenants' (RLS).
 */
#ifndef GACP_TENANCY_USERS_H
#define GACP_TENANCY_USERS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "common/err.h"

struct svc;
struct page;
struct user_row;

/* Prototypes */

/* body: {username, password, roles[], display_name?, email?, metadata?,
 * must_change_password?}. */
int users_create(struct svc *s, struct json_object *body,
        struct user_row **out, struct gacp_err *err);
int users_list(struct svc *s, const struct page *pg, struct user_row **rows,
        size_t *n, char **next_cursor, struct gacp_err *err);
int users_get(struct svc *s, const char *id, struct user_row **out,
        struct gacp_err *err);
/* body: {version, display_name?, email?, roles?, is_active?, metadata?}. */
int users_update(struct svc *s, const char *id, struct json_object *body,
        struct user_row **out, struct gacp_err *err);
/* version NULL: any. */
int users_delete(struct svc *s, const char *id, const char *version,
        struct gacp_err *err);
/* body: {password, current_password?}: current_password when changing
 * one's own; an administrator's reset sets must_change_password unless
 * body says "must_change_password": false. */
int users_set_password(struct svc *s, const char *id,
        struct json_object *body, struct gacp_err *err);
int users_unlock(struct svc *s, const char *id, bool *was_locked,
        struct gacp_err *err);
/* The user by name (gacpctl), same rules as users_get. */
int users_find(struct svc *s, const char *username, struct user_row **out,
        struct gacp_err *err);

#endif
