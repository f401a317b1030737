/* auth.h - sessions: login, refresh-token rotation, logout, and the caller's own view.
 *
 * Login checks {tenant slug, username, password} with bcrypt (cost 12 by
 * default, libxcrypt, see security/password.h) and answers a short-lived
 * access JWT (HS256, 60 minutes, security/token.h) plus an opaque refresh
 * token.  Every answer that is not a success looks the same and costs the
 * same bcrypt work (unknown tenant, unknown user, wrong password, locked
 * name: 401 "invalid_credentials"), so neither the body nor the time tells
 * which names exist.  Five failures lock a name for 30 minutes (Redis,
 * guard.h); an administrator lifts it (users_unlock).
 *
 * Refresh tokens ("gacp_rt_" + 43 base64url characters, 256 random bits)
 * are stored as SHA-256, rotated on every use, and a second use of a
 * rotated one revokes its whole family (RFC 6819 §5.2.2.3; OAuth 2.0
 * Security BCP §4.14).  A session ends after session_timeout_min without a
 * refresh (480 minutes by default) and in any case refresh_token_days
 * after the login (30).
 *
 * Login and refresh own their transaction (no tenant is known when they
 * start) and commit the audit events of failures on purpose.
 */
#ifndef GACP_TENANCY_AUTH_H
#define GACP_TENANCY_AUTH_H

#include <stdint.h>

#include <json-c/json.h>

#include "common/err.h"

struct svc;

#define AUTH_REFRESH_TAG      "gacp_rt_"
#define AUTH_REFRESH_TAG_LEN  8
#define AUTH_REFRESH_LEN      (AUTH_REFRESH_TAG_LEN + 43)

struct auth_tokens {
	char    *access_token;        /* arena */
	int64_t  expires_in_s;
	char    *refresh_token;       /* arena; shown once */
	int64_t  refresh_expires_in_s;
};

/* Prototypes */

/* body: {tenant, username, password[, new_password]}.  new_password
 * completes a login whose password expired (password_expired).  Errors:
 * GACP_EINVAL "validation_failed" (shape; field errors in s);
 * GACP_EAUTH "invalid_credentials"; GACP_EFORBIDDEN "tenant_suspended",
 * "password_expired"; GACP_EUNAVAIL. */
int auth_login(struct svc *s, struct json_object *body,
        struct auth_tokens *out, struct gacp_err *err);

/* body: {refresh_token}.  Errors: GACP_EAUTH "invalid_token" (unknown,
 * expired, revoked, reused — the family is then revoked); GACP_EFORBIDDEN
 * "tenant_suspended"; GACP_EUNAVAIL. */
int auth_refresh(struct svc *s, struct json_object *body,
        struct auth_tokens *out, struct gacp_err *err);

/* Deny the caller's access token until it expires and, when body names
 * the caller's refresh token, revoke its family.  In the caller's
 * transaction (commits it).  body may be NULL.  Errors: GACP_EFORBIDDEN
 * "not_a_session" for API keys; GACP_EUNAVAIL. */
int auth_logout(struct svc *s, struct json_object *body,
        struct gacp_err *err);

/* The caller: {credential, tenant{…}, user{…} | api_key{…}}. */
int auth_me(struct svc *s, struct json_object **out, struct gacp_err *err);

#endif
