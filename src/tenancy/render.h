/* render.h - the JSON representation of tenancy resources, shared by the REST API and gacpctl --json.
 *
 * Secrets never appear: no password hash, no key hash, no refresh token.
 * Each function returns a new json_object the caller owns (json_object_put
 * or arena_defer).
 */
#ifndef GACP_TENANCY_RENDER_H
#define GACP_TENANCY_RENDER_H

#include <json-c/json.h>

struct tenant_row;
struct user_row;
struct apikey_row;
struct audit_row;

/* Prototypes */
struct json_object *render_tenant(const struct tenant_row *t);
struct json_object *render_user(const struct user_row *u);
struct json_object *render_apikey(const struct apikey_row *k);
struct json_object *render_audit(const struct audit_row *r);
/* Stored JSON text (jsonb output) as an object; {} when NULL/unparsable. */
struct json_object *render_stored_json(const char *text);
/* A string or JSON null. */
struct json_object *render_str(const char *s);

#endif
