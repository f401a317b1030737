/* tenancy_util.h - helpers of the tenancy integration tests: logins, fresh tenants, crafted JWTs, direct database and Redis access.
 *
 * Everything talks to the stack scripts/test started (GACP_URL,
 * GACP_VAR_DIR, GACP_REDIS_PORT, demo.env's credentials and database
 * URLs).  Strings returned are heap copies the caller frees unless said.
 */
#ifndef GACP_TENANCY_UTIL_H
#define GACP_TENANCY_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "itest.h"

/* A tenant made for one test, with its owner. */
struct tu_tenant {
	char id[37];
	char slug[64];
	char owner[64];
	char owner_id[37];
	char password[64];     /* the owner's */
};

/* Prototypes */

/* A name unique to this run: prefix + 8 random hex characters. */
void  tu_unique(const char *prefix, char *out, size_t outlen);
/* A password that meets the policy. */
const char *tu_password(void);

/* method path with a JSON body (may be NULL) and one credential:
 * bearer (token) or api_key, either may be NULL.  extra: one more header
 * line or NULL. */
int   tu_call(const char *method, const char *path, const char *bearer,
          const char *api_key, const char *body, const char *extra,
          struct itest_response *out);
/* POST /v1/auth/login; the response is left in *out. */
int   tu_login_resp(const char *tenant, const char *user, const char *password,
          struct itest_response *out);
/* Access token of a successful login, or NULL. */
char *tu_login(const char *tenant, const char *user, const char *password);
/* The platform administrator's token (fresh login). */
char *tu_platform_token(void);
/* The demo tenant owner's token (fresh login). */
char *tu_demo_token(void);

/* Create a tenant (slug from prefix) with an owner through the API as the
 * platform admin; settings_json may be NULL.  false on failure. */
bool  tu_make_tenant(const char *prefix, const char *settings_json,
          struct tu_tenant *t);
/* Create a user with one role in the tenant whose owner token is given;
 * the new user's id into id_out (37).  false on failure. */
bool  tu_make_user(const char *owner_token, const char *username,
          const char *role, char id_out[37]);
/* Mint an API key with the given scopes JSON array (a fresh owner token
 * is needed: RESTRICTED); the key into key_out (80), id into id_out. */
bool  tu_make_key(const char *owner_token, const char *scopes_json,
          char key_out[80], char id_out[37]);

/* A string member by dotted path ("error.code", "user.id"), or NULL
 * (borrowed from the response). */
const char *tu_json_str(const struct itest_response *r, const char *path);
int64_t     tu_json_int(const struct itest_response *r, const char *path);
/* The same on any JSON object: the member at the dotted path, or NULL;
 * its string value, or NULL when it is missing or no string. */
struct json_object *tu_jget(struct json_object *o, const char *path);
const char *tu_jstr(struct json_object *o, const char *path);

/* Reset the authentication rate limit of 127.0.0.1 (Redis), so tests do
 * not depend on how many logins ran before them. */
void  tu_reset_ip_limit(void);
/* Run one Redis command (printf-style, hiredis); its integer reply or -1. */
long long tu_redis_int(const char *fmt, ...);

/* libpq connections from demo.env: the application role and the owner. */
PGconn *tu_db_app(void);
PGconn *tu_db_owner(void);
/* Run sql (no parameters) bound to tenant (NULL: none) in its own
 * transaction on conn; the single integer result, or -1 on error.  When
 * sqlstate is not NULL it receives the error's SQLSTATE ("" on success). */
long long tu_db_scalar(PGconn *conn, const char *tenant, const char *sql,
          char sqlstate[6]);

/* HS256 JWT from header and payload JSON texts, signed with key. */
char *tu_jwt(const char *header_json, const char *payload_json,
          const unsigned char *key, size_t key_len);
/* The stack's current JWT signing key (kid, bytes).  false if unreadable. */
bool  tu_jwt_key(char kid[40], unsigned char key[512], size_t *key_len);

/* Run gacpctl with args (shell words) and optional stdin; stdout into
 * *out (heap).  Returns the exit status. */
int   tu_ctl(const char *args, const char *stdin_text, char **out);
/* Run cmd with sh; its stdout into *out (heap; NULL only when cmd could
 * not be started; out may be NULL to discard the output); the exit
 * status, or -1 when it did not run or did not exit normally. */
int   tu_run(const char *cmd, char **out);

#endif
