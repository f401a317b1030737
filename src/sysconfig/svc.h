/* svc.h - system configuration: scopes, validation, sealed values, reveal, audit, change signal.
 *
 * Scopes: "tenant" (default) is the caller's tenant; "platform" is the
 * platform tenant's rows, the platform-wide defaults, open to platform
 * administrators (and gacpctl) only.  Keys are unique per scope +
 * environment (development, staging, production).
 *
 * Encrypted values are AES-256-GCM envelopes (security/crypto.h) whose
 * associated data is the tenant id, "system_config", the row id, the
 * environment and the key: a ciphertext copied to another row, key,
 * environment or tenant does not open.  They are masked on every read;
 * reveal needs the RESTRICTED level (a recent login of an owner/admin) and
 * is audited.  A value that does not open is reported as 409
 * "secret_unreadable" and audited (never a 500).
 *
 * Every write is audited in its transaction and, once committed, bumps the
 * Redis key gacp:config:version so every process's cache (cache.h) reloads.
 */
#ifndef GACP_SYSCONFIG_SVC_H
#define GACP_SYSCONFIG_SVC_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "sysconfig/store.h"
#include "tenancy/tenancy.h"

#define SYSCFG_VERSION_KEY   "gacp:config:version"
#define SYSCFG_MASK          "********"
#define SYSCFG_ERR_UNREADABLE "secret_unreadable"

/* Prototypes */

/* Bind s's transaction to the scope ("tenant", "platform", NULL = tenant);
 * tenant_out receives the tenant id acted in.  Errors: 422 for an unknown
 * scope, 403 for "platform" from anyone but a platform admin. */
int  syscfg_scope(struct svc *s, const char *scope,
         char tenant_out[TENANCY_UUID_LEN + 1], struct gacp_err *err);

int  syscfg_list(struct svc *s, const char *scope, const char *environment,
         const char *category, struct syscfg_row **rows, size_t *n,
         struct gacp_err *err);
/* One key.  reveal: decrypt an encrypted value into *plain (arena) after
 * the RESTRICTED check; audited.  *plain is NULL when not revealed. */
int  syscfg_get(struct svc *s, const char *scope, const char *environment,
         const char *key, bool reveal, struct syscfg_row **out,
         char **plain, struct gacp_err *err);
/* Create or replace a key from a JSON body (see doc/openapi.yaml):
 * config_value (required), config_type (required on create), description,
 * category, is_encrypted, is_system_config, validation_rules, version
 * (optional; when given it must be the current one, else 409).  Fields
 * left out keep their current values.  *created tells which happened. */
int  syscfg_put(struct svc *s, const char *scope, const char *environment,
         const char *key, struct json_object *body, struct syscfg_row **out,
         bool *created, struct gacp_err *err);
/* Soft delete; version (text, may be NULL) as in put. */
int  syscfg_delete(struct svc *s, const char *scope, const char *environment,
         const char *key, const char *version, struct gacp_err *err);

/* The row as the API shows it.  plain: the revealed value of an encrypted
 * row, or NULL (masked).  New reference. */
struct json_object *syscfg_render(const struct syscfg_row *r,
         const char *plain);

/* Seal/open a value for a row (the associated data above). */
int  syscfg_seal(const struct keyring *kr, const char *tenant_id,
         const char *id, const char *environment, const char *key,
         const char *plain, char **token_out, struct gacp_err *err);
int  syscfg_open(const struct keyring *kr, struct arena *a,
         const char *tenant_id, const char *id, const char *environment,
         const char *key, const char *token, char **plain_out,
         struct gacp_err *err);

/* Tell every process's cache that configuration changed (INCR of
 * SYSCFG_VERSION_KEY).  Best effort: the caches also expire on their own. */
void syscfg_bump(struct gacp_ctx *app, struct arena *a);

#endif
