/* channels_svc.h - the tenant's channels as a REST resource: create, list, read, update, delete.
 *
 * Every function acts in s->tenant_id inside the caller's transaction
 * bound to it, and never commits.  Only Messenger channels are created
 * here (the REST channel is made by its first message, one per tenant).
 * Rules:
 *   - page_id is unique across the platform (webhooks are routed by it):
 *     409 "page_id_taken"; so is the verify token: 409
 *     "verify_token_taken"; page_id cannot change once set;
 *   - app_secret and page_access_token are sealed (AES-256-GCM, AAD =
 *     tenant, "channels", channel id, field) and verify_token is kept as
 *     its SHA-256: write-only, never rendered, never audited;
 *   - status: a client sets "active" or "disabled"; "needs_reauth" is set
 *     by gacp-worker when Facebook refuses the page token (Graph code 190)
 *     and is cleared only by a new page_access_token, which re-activates
 *     the channel and clears last_error;
 *   - updates and deletes carry the version read (409 "version_conflict");
 *   - other tenants' and deleted channels are not found (404).
 * After a change of app secret, status or verify token, each FastCGI
 * process may keep using its cached lookup of the page (messenger.
 * channel_cache_ttl_ms, 5 s) until the entry expires.
 */
#ifndef GACP_MESSENGER_CHANNELS_SVC_H
#define GACP_MESSENGER_CHANNELS_SVC_H

#include <stddef.h>

#include <json-c/json.h>

#include "common/err.h"

struct svc;
struct page;
struct channel_row;

/* Prototypes */

/* body: {name, page_id, app_secret, page_access_token, verify_token,
 * type?: "messenger", metadata?}. */
int channels_create(struct svc *s, struct json_object *body,
        struct channel_row **out, struct gacp_err *err);
/* status: NULL or a status to filter on (query text, validated). */
int channels_list(struct svc *s, const char *status, const struct page *pg,
        struct channel_row **rows, size_t *n, char **next_cursor,
        struct gacp_err *err);
int channels_get(struct svc *s, const char *id, struct channel_row **out,
        struct gacp_err *err);
/* body: {version, name?, status?, app_secret?, page_access_token?,
 * verify_token?, metadata?}. */
int channels_update(struct svc *s, const char *id, struct json_object *body,
        struct channel_row **out, struct gacp_err *err);
/* version: the query text, NULL: any. */
int channels_delete(struct svc *s, const char *id, const char *version,
        struct gacp_err *err);
/* The JSON representation (new object, the caller owns it). */
struct json_object *channels_render(const struct channel_row *c);

#endif
