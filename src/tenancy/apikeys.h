/* apikeys.h - a tenant's API keys: create (the key is shown once), list, read, revoke.
 *
 * A key carries scopes, each a permission its creator holds
 * (rbac_scopes_grantable), so a key never does more than the person who
 * made it; gacpctl may grant any tenant permission.  Keys may expire
 * (expires_at, RFC 3339, in the future).  Acts in s->tenant_id in the
 * caller's transaction; never commits.
 */
#ifndef GACP_TENANCY_APIKEYS_H
#define GACP_TENANCY_APIKEYS_H

#include <stddef.h>

#include <json-c/json.h>

#include "common/err.h"

struct svc;
struct page;
struct apikey_row;

/* Prototypes */

/* body: {name, scopes?[], expires_at?}.  *key_out (arena) is the key,
 * to be shown once. */
int apikeys_create(struct svc *s, struct json_object *body,
        struct apikey_row **out, char **key_out, struct gacp_err *err);
int apikeys_list(struct svc *s, const struct page *pg,
        struct apikey_row **rows, size_t *n, char **next_cursor,
        struct gacp_err *err);
int apikeys_get(struct svc *s, const char *id, struct apikey_row **out,
        struct gacp_err *err);
int apikeys_revoke(struct svc *s, const char *id, struct gacp_err *err);

#endif
