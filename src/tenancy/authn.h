/* authn.h - authenticating one API request: credential → principal → tenant, with rate limits.
 *
 * Credentials: "Authorization: Bearer <JWT>" (token.h), "Authorization:
 * ApiKey <key>" or "X-API-Key: <key>" (apikey.h); two at once are refused
 * rather than guessed between.  The tenant is always the credential's:
 * the token's signed tenant_id claim or the key's row, never a header.
 *
 * On success the request's transaction is open and bound to the
 * principal's tenant (one transaction per request, started with the tenant
 * set), and the request was counted against the tenant's and the API key's
 * per-minute limits.  On failure nothing is open.
 *
 * Every failure is reported with the status a client should see and one
 * generic code per credential type ("invalid_token", "invalid_api_key"),
 * while the precise reason (expired, bad signature, unknown kid, revoked)
 * goes to the error log: a forger learns nothing from the answer.  Bad
 * credentials also count against the client address's authentication
 * limit, so keys and tokens cannot be guessed at speed.
 */
#ifndef GACP_TENANCY_AUTHN_H
#define GACP_TENANCY_AUTHN_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "tenancy/tenancy.h"

struct arena;
struct http_request;

/* Prototypes */

/* Authenticate req.  Returns 0 with *out filled, or an error whose result
 * maps to the status: GACP_EAUTH 401 ("unauthenticated", "invalid_token",
 * "invalid_api_key"), GACP_EINVAL 400 ("ambiguous_credentials"),
 * GACP_EFORBIDDEN 403 ("tenant_suspended"), GACP_ELIMIT 429
 * ("rate_limited", *retry_after_s set), GACP_EUNAVAIL 503. */
int authn_request(struct gacp_ctx *app, struct arena *a,
        const struct http_request *req, struct principal *out,
        int64_t *retry_after_s, struct gacp_err *err);

/* Count one request of the client address against the authentication
 * limit (login, refresh and failed credentials).  GACP_ELIMIT when over. */
int authn_limit_address(struct gacp_ctx *app, struct arena *a,
        const char *client_addr, int64_t *retry_after_s,
        struct gacp_err *err);

#endif
